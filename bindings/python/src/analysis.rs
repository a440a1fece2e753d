//! Python callables as counterfactual replayers (`tracecard_core::Replayer`).
//!
//! `compile(replayer=fn)` wraps `fn` in [`PyReplayerAdapter`]. The core calls it with
//! the GIL released (from `py.detach`), so the adapter re-attaches, calls
//! `fn(trace_without_candidates, removed_ids)` and converts the answer. When `fn`
//! raises, the exception travels through the core as an `Error::Host` (which stops
//! the compilation) and `errors.rs` hands the very same exception object back to
//! the caller of `compile`.

use pyo3::prelude::*;
use pyo3::types::{PyAny, PyDict};
use tracecard_core::model::{Outcome, OutcomeStatus, StepId, Trace};
use tracecard_core::{Error, Replayer, Result};

use crate::convert::py_to_json;
use crate::model::PyTrace;

/// A user replayer: any callable `(Trace, list[int]) -> outcome`.
pub struct PyReplayerAdapter {
    func: Py<PyAny>,
    name: String,
}

impl PyReplayerAdapter {
    pub fn new(func: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !func.is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "replayer must be callable: replayer(trace, removed_ids) -> outcome",
            ));
        }
        let name = ["name", "__name__"]
            .iter()
            .find_map(|a| {
                func.getattr(*a)
                    .ok()
                    .and_then(|v| v.extract::<String>().ok())
            })
            .or_else(|| func.get_type().name().ok().map(|n| n.to_string()))
            .unwrap_or_else(|| "python".into());
        Ok(PyReplayerAdapter {
            func: func.clone().unbind(),
            name,
        })
    }

    /// A Python exception, carried through the core unchanged.
    fn host(&self, err: PyErr) -> Error {
        Error::host(format!("replayer `{}`", self.name), err)
    }
}

/// An outcome from what a replayer returned: `"success"`/`"failure"`/`"unknown"`,
/// a bool (`True` = success), a dict like the native `outcome` record, or an object
/// with a `status` attribute (str, or bool).
fn outcome_from_py(v: &Bound<'_, PyAny>) -> PyResult<Outcome> {
    if let Ok(b) = v.extract::<bool>() {
        let status = if b {
            OutcomeStatus::Success
        } else {
            OutcomeStatus::Failure
        };
        return Ok(Outcome {
            status,
            ..Outcome::default()
        });
    }
    if let Ok(s) = v.extract::<String>() {
        return Ok(Outcome {
            status: s.parse().map_err(crate::errors::PyErrWrap)?,
            ..Outcome::default()
        });
    }
    if v.cast::<PyDict>().is_ok() {
        let text = py_to_json(v)?;
        return serde_json::from_str::<Outcome>(&text)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("not an outcome: {e}")));
    }
    if let Ok(status) = v.getattr("status") {
        return outcome_from_py(&status);
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "a replayer must return 'success', 'failure', 'unknown', a bool, a dict or an object with `.status`; got {}",
        v.get_type().name()?
    )))
}

impl Replayer for PyReplayerAdapter {
    fn name(&self) -> &str {
        &self.name
    }

    fn replay(&self, trace: &Trace, removed: &[StepId]) -> Result<Outcome> {
        let candidate = trace.without(removed);
        let ids: Vec<u32> = removed.iter().map(|s| s.0).collect();
        Python::attach(|py| {
            // The user's own exception goes back to them unchanged.
            let returned = self
                .func
                .bind(py)
                .call1((PyTrace::new(candidate), ids))
                .map_err(|e| self.host(e))?;
            // A wrong return value is a ReplayError, raised from `compile` like the
            // user's own exceptions (the core would only keep an `Error::Replay`
            // as a warning).
            outcome_from_py(&returned).map_err(|e| {
                let replay = Error::replay(self.name.clone(), e.to_string());
                self.host(crate::errors::to_pyerr(py, replay))
            })
        })
    }
}
