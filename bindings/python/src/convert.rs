//! Small conversions shared by the binding files (serde names, JSON → Python).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyAny;
use serde::Serialize;

use crate::errors::PyErrWrap;

static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static JSON_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static DECIMAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The serde (snake_case) name of a unit enum value.
pub fn serde_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => e.to_string(),
    }
}

/// Serialise `v` to JSON text (errors become `SerializeError`).
pub fn to_json<T: Serialize>(v: &T, what: &str) -> Result<String, PyErrWrap> {
    serde_json::to_string(v).map_err(|e| PyErrWrap(tracecard_core::Error::serialize(what, e)))
}

/// Parse JSON text into plain Python objects; every non-integer number becomes a
/// `decimal.Decimal` (money stays exact).
pub fn json_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let loads = JSON_LOADS.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("json")?.getattr("loads")?.unbind())
    })?;
    let decimal = DECIMAL.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("decimal")?.getattr("Decimal")?.unbind())
    })?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("parse_float", decimal.bind(py))?;
    loads.bind(py).call((text,), Some(&kwargs))
}

/// `json.dumps(obj, default=str)`: turn user-given dicts into JSON text for serde.
pub fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = obj.py();
    let dumps = JSON_DUMPS.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("json")?.getattr("dumps")?.unbind())
    })?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("default", py.get_type::<pyo3::types::PyString>())?;
    dumps.bind(py).call((obj,), Some(&kwargs))?.extract()
}

/// A serde value to Python via JSON (see [`json_to_py`]).
pub fn value_to_py<'py, T: Serialize>(
    py: Python<'py>,
    v: &T,
    what: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let text = to_json(v, what)?;
    json_to_py(py, &text)
}
