//! Python callables as counterfactual replayers (`tracecard_core::Replayer`).
//!
//! `compile(replayer=fn)` wraps `fn` in [`PyReplayerAdapter`]. The core calls it with
//! the GIL released (from `py.detach`), so the adapter re-attaches, calls
//! `fn(trace_without_candidates, removed_ids)` and converts the answer. When `fn`
//! raises, the exception is stashed and the core gets an `Error::Replay`; `compile`
//! then re-raises the stashed, original exception.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyAny, PyDict};
use tracecard_core::model::{Outcome, StepId, Trace};
use tracecard_core::{Error, Replayer, Result};

use crate::convert::py_to_json;
use crate::model::{PyTrace, outcome_from_str};

/// A user replayer: any callable `(Trace, list[int]) -> outcome`.
pub struct PyReplayerAdapter {
    func: Py<PyAny>,
    name: String,
    error: Mutex<Option<PyErr>>,
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
            error: Mutex::new(None),
        })
    }

    /// The first exception the callable raised, if any.
    pub fn take_error(&self) -> Option<PyErr> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }

    fn stash(&self, err: PyErr) {
        if let Ok(mut slot) = self.error.lock()
            && slot.is_none()
        {
            *slot = Some(err);
        }
    }

    fn fail(&self, message: String) -> Error {
        Error::Replay {
            replayer: self.name.clone(),
            message,
        }
    }
}

/// An outcome from what a replayer returned: `"success"`/`"failure"`/`"unknown"`,
/// a bool (`True` = success), a dict like the native `outcome` record, or an object
/// with a `status` attribute (str, or bool).
fn outcome_from_py(v: &Bound<'_, PyAny>) -> PyResult<Outcome> {
    if let Ok(b) = v.extract::<bool>() {
        let status = if b { "success" } else { "failure" };
        return Ok(Outcome {
            status: outcome_from_str(status)?,
            ..Outcome::default()
        });
    }
    if let Ok(s) = v.extract::<String>() {
        return Ok(Outcome {
            status: outcome_from_str(&s)?,
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
            let returned = match self.func.bind(py).call1((PyTrace::new(candidate), ids)) {
                Ok(v) => v,
                Err(e) => {
                    // The user's own exception: keep it for `compile` to re-raise.
                    let msg = e.to_string();
                    self.stash(e);
                    return Err(self.fail(msg));
                }
            };
            // A wrong return value is a ReplayError, raised from `compile` like the
            // user's own exceptions (the core would only keep it as a warning).
            outcome_from_py(&returned).map_err(|e| {
                let err = self.fail(e.to_string());
                self.stash(crate::errors::PyErrWrap(self.fail(e.to_string())).into());
                err
            })
        })
    }
}
