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
use crate::model::PyTrace;

fn format_arg(format: Option<&str>, path: &Path) -> PyResult<Option<Format>> {
    format
        .map(|name| Format::from_name(name, path))
        .transpose()
        .map_err(|e| PyErrWrap(e).into())
}

/// Import the single session in `path` (format auto-detected unless `format` names
/// one, e.g. `"native"`, `"claude_code"`, `"otlp"`). Raises `MultipleSessionsError`
/// when the file holds several sessions (use `load_all`).
#[pyfunction]
#[pyo3(signature = (path, format=None))]
pub fn load(py: Python<'_>, path: PathBuf, format: Option<&str>) -> PyResult<PyTrace> {
    let format = format_arg(format, &path)?;
    py.detach(|| tracecard_core::load_one(&path, format))
        .map(PyTrace::new)
        .map_err(|e| PyErrWrap(e).into())
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
    let format = format_arg(format, path)?;
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
    let format = format_arg(format, &path)?;
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
    let bytes = data_arg(data)?;
    let path = PathBuf::from(name);
    let format = format_arg(format, &path)?;
    py.detach(|| tracecard_core::import::load_input_one(&Input::from_bytes(path, bytes), format))
        .map(PyTrace::new)
        .map_err(|e| PyErrWrap(e).into())
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
