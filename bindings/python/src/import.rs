//! `load`, `load_all`, `loads`, `loads_all`, `detect`, `formats`, `discover`.
//!
//! A file can hold several sessions (an Inspect log, an OpenHands resolver output,
//! an OTLP export with several traces). `load` returns the one `Trace` and raises
//! `MultipleSessionsError` when there are several; `load_all` returns them all.

use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::PyAny;
use tracecard_core::Format;
use tracecard_core::import::Input;

use crate::errors::PyErrWrap;
use crate::model::{PyTrace, multiple_sessions};

fn format_arg(py: Python<'_>, format: Option<&str>, path: &Path) -> PyResult<Option<Format>> {
    match format {
        None => Ok(None),
        Some(name) => Format::parse(name).map(Some).ok_or_else(|| {
            let e = tracecard_core::Error::UnknownFormat {
                path: path.to_path_buf(),
                hint: Some(format!(
                    "no format named {name:?}; known formats: {}",
                    Format::ALL
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            crate::errors::to_pyerr(py, e)
        }),
    }
}

fn one(py: Python<'_>, path: &Path, mut traces: Vec<tracecard_core::Trace>) -> PyResult<PyTrace> {
    match traces.len() {
        1 => Ok(PyTrace::new(traces.remove(0))),
        0 => {
            let e = tracecard_core::Error::parse(path, None, None, "the file holds no session");
            Err(crate::errors::to_pyerr(py, e))
        }
        n => Err(multiple_sessions(py, &path.display().to_string(), n)),
    }
}

/// Import the single session in `path` (format auto-detected unless `format` names
/// one, e.g. `"native"`, `"claude_code"`, `"otlp"`). Raises `MultipleSessionsError`
/// when the file holds several sessions (use `load_all`).
#[pyfunction]
#[pyo3(signature = (path, format=None))]
pub fn load(py: Python<'_>, path: PathBuf, format: Option<&str>) -> PyResult<PyTrace> {
    let traces = load_vec(py, &path, format)?;
    one(py, &path, traces)
}

/// Import every session in `path`.
#[pyfunction]
#[pyo3(signature = (path, format=None))]
pub fn load_all(py: Python<'_>, path: PathBuf, format: Option<&str>) -> PyResult<Vec<PyTrace>> {
    Ok(load_vec(py, &path, format)?
        .into_iter()
        .map(PyTrace::new)
        .collect())
}

fn load_vec(
    py: Python<'_>,
    path: &Path,
    format: Option<&str>,
) -> PyResult<Vec<tracecard_core::Trace>> {
    let format = format_arg(py, format, path)?;
    py.detach(|| tracecard_core::load(path, format))
        .map_err(|e| PyErrWrap(e).into())
}

fn data_arg(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = data.extract::<String>() {
        return Ok(s.into_bytes());
    }
    data.extract::<Vec<u8>>()
        .map_err(|_| pyo3::exceptions::PyTypeError::new_err("data must be str or bytes"))
}

fn loads_vec(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    format: Option<&str>,
    name: &str,
) -> PyResult<Vec<tracecard_core::Trace>> {
    let bytes = data_arg(data)?;
    let path = PathBuf::from(name);
    let format = format_arg(py, format, &path)?;
    py.detach(|| {
        let input = Input::from_bytes(path, bytes);
        tracecard_core::import::load_input(&input, format)
    })
    .map_err(|e| PyErrWrap(e).into())
}

/// Import the single session in `data` (str or bytes). `name` stands for the file
/// name in messages and in format detection.
#[pyfunction]
#[pyo3(signature = (data, format=None, name="<memory>"))]
pub fn loads(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    format: Option<&str>,
    name: &str,
) -> PyResult<PyTrace> {
    let traces = loads_vec(py, data, format, name)?;
    one(py, Path::new(name), traces)
}

/// Import every session in `data` (str or bytes).
#[pyfunction]
#[pyo3(signature = (data, format=None, name="<memory>"))]
pub fn loads_all(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    format: Option<&str>,
    name: &str,
) -> PyResult<Vec<PyTrace>> {
    Ok(loads_vec(py, data, format, name)?
        .into_iter()
        .map(PyTrace::new)
        .collect())
}

/// The format of `path` (`None` when no importer recognises it).
#[pyfunction]
pub fn detect(py: Python<'_>, path: PathBuf) -> PyResult<Option<String>> {
    py.detach(|| tracecard_core::import::detect(&path))
        .map(|f| f.map(|f| f.as_str().to_owned()))
        .map_err(|e| PyErrWrap(e).into())
}

/// Names of every format tracecard reads, in detection order.
#[pyfunction]
pub fn formats() -> Vec<&'static str> {
    Format::ALL.iter().map(|f| f.as_str()).collect()
}

/// Files under `root` (recursively, sorted) to import; a file path is returned as is.
#[pyfunction]
pub fn discover(py: Python<'_>, root: PathBuf) -> PyResult<Vec<String>> {
    py.detach(|| tracecard_core::import::discover(&root))
        .map(|v| v.into_iter().map(|p| p.display().to_string()).collect())
        .map_err(|e| PyErrWrap(e).into())
}
