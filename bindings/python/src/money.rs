//! Money crosses the boundary as `decimal.Decimal`: the core is exact to the
//! nano-dollar and a Decimal keeps it exact (a float would not).

use std::str::FromStr;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use tracecard_core::Usd;

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `decimal.Decimal` of `usd`, exact.
pub fn usd_to_py(py: Python<'_>, usd: Usd) -> PyResult<Bound<'_, PyAny>> {
    DECIMAL
        .import(py, "decimal", "Decimal")?
        .call1((usd.to_string(),))
}

/// Optional variant of [`usd_to_py`].
pub fn opt_usd_to_py(py: Python<'_>, usd: Option<Usd>) -> PyResult<Option<Bound<'_, PyAny>>> {
    usd.map(|u| usd_to_py(py, u)).transpose()
}

/// A dollar amount from a Decimal, str, int or float (floats go through their
/// shortest decimal form, so `0.1` is exactly ten cents).
pub fn usd_from_py(v: &Bound<'_, PyAny>) -> PyResult<Usd> {
    if let Ok(f) = v.cast::<pyo3::types::PyFloat>() {
        return Usd::from_f64(f.value())
            .ok_or_else(|| PyValueError::new_err("dollar amount must be finite"));
    }
    let s = v.str()?.to_string();
    Usd::from_str(s.trim()).map_err(|e| PyValueError::new_err(e.to_string()))
}
