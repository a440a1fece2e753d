//! `Recorder`: the core recorder behind a lock, plus context-manager step handles.
//!
//! ```python
//! rec = tracecard.Recorder("demo")
//! with rec.llm_call("gpt-4.1-mini") as call:
//!     call.set_tokens(input=606, output=22)
//!     call.set_output("read_file(config/prod.toml)")
//! with rec.tool_use("read_file", '{"path": "config/prod.toml"}', requested_by=call) as t:
//!     t.reads("config/prod.toml")
//!     t.set_output(text)
//! trace = rec.finish("success")
//! ```
//!
//! A step starts when its handle is created and ends when the `with` block exits
//! (or `.end()` is called). An exception inside the block marks the step `error`
//! with the exception's type and message, and propagates.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyAny, PyType};
use tracecard_core::Recorder;
use tracecard_core::model::{OracleEvidence, OutcomeStatus, StepId, StepKind, TokenUsage, Trace};

use crate::convert::py_to_json;
use crate::errors::{PyErrWrap, exceptions};
use crate::model::{PyTokenUsage, PyTrace, step_ref};
use crate::money::usd_from_py;

enum State {
    Recording(Box<Recorder>),
    Finished(Arc<Trace>),
}

/// Records one agent session step by step (mirrors the core `Recorder`).
#[pyclass(name = "Recorder", module = "tracecard._tracecard", frozen)]
pub struct PyRecorder {
    session_id: String,
    state: Mutex<State>,
}

fn finished_error(py: Python<'_>) -> PyErr {
    match exceptions(py) {
        Ok(ex) => PyErr::from_type(
            ex.tracecard.bind(py).clone(),
            "the recorder is finished: start a new Recorder to record more steps",
        ),
        Err(e) => e,
    }
}

impl PyRecorder {
    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&mut Recorder) -> R) -> PyResult<R> {
        let mut g = self
            .state
            .lock()
            .map_err(|_| pyo3::exceptions::PyRuntimeError::new_err("recorder lock poisoned"))?;
        match &mut *g {
            State::Recording(r) => Ok(f(r)),
            State::Finished(_) => Err(finished_error(py)),
        }
    }

    /// The trace so far (a copy), or the finished trace.
    pub(crate) fn snapshot(&self) -> PyResult<Arc<Trace>> {
        let g = self
            .state
            .lock()
            .map_err(|_| pyo3::exceptions::PyRuntimeError::new_err("recorder lock poisoned"))?;
        Ok(match &*g {
            State::Recording(r) => Arc::new(r.trace().clone()),
            State::Finished(t) => Arc::clone(t),
        })
    }
}

fn handle(
    rec: &Bound<'_, PyRecorder>,
    id: StepId,
    kind: StepKind,
) -> PyClassInitializer<StepHandle> {
    PyClassInitializer::from(StepHandle {
        rec: rec.clone().unbind(),
        id,
        kind,
        result: Mutex::new((None, None)),
    })
}

#[pymethods]
impl PyRecorder {
    /// `keep_content=False` keeps only hashes and lengths of inputs and outputs.
    #[new]
    #[pyo3(signature = (session_id, keep_content=true))]
    fn new(py: Python<'_>, session_id: String, keep_content: bool) -> PyResult<Self> {
        crate::errors::guard_new(py, || {
            let mut r = Recorder::new(session_id.clone());
            if !keep_content {
                r = r.hash_content_only();
            }
            Ok(PyRecorder {
                session_id,
                state: Mutex::new(State::Recording(Box::new(r))),
            })
        })
    }

    #[getter]
    fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The trace recorded so far (a snapshot), or the finished trace.
    #[getter]
    fn trace(&self) -> PyResult<PyTrace> {
        Ok(PyTrace {
            inner: self.snapshot()?,
        })
    }

    #[getter]
    fn finished(&self) -> bool {
        matches!(self.state.lock().as_deref(), Ok(State::Finished(_)))
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(self.snapshot()?.steps.len())
    }

    /// Record a user message; returns its step id.
    fn user_input(&self, py: Python<'_>, text: &str) -> PyResult<u32> {
        self.with(py, |r| r.user_input(text).0)
    }

    /// Start a model call (a context manager). Set its tokens and response on the
    /// handle; the step ends when the block exits.
    #[pyo3(signature = (model, input=None, provider=None))]
    fn llm_call(
        slf: &Bound<'_, Self>,
        model: &str,
        input: Option<&str>,
        provider: Option<&str>,
    ) -> PyResult<Py<LlmCall>> {
        let py = slf.py();
        let id = slf.get().with(py, |r| {
            let id = r.begin_llm_call(model);
            if let Some(i) = input {
                r.set_input(id, i);
            }
            r.set_provider(id, provider);
            id
        })?;
        Py::new(py, handle(slf, id, StepKind::LlmCall).add_subclass(LlmCall))
    }

    /// Start a tool call (a context manager). `requested_by` is the model call that
    /// asked for it (an id or a handle); this step then consumes it.
    #[pyo3(signature = (tool, arguments=None, requested_by=None, tool_call_id=None))]
    fn tool_use(
        slf: &Bound<'_, Self>,
        tool: &str,
        arguments: Option<&Bound<'_, PyAny>>,
        requested_by: Option<&Bound<'_, PyAny>>,
        tool_call_id: Option<&str>,
    ) -> PyResult<Py<ToolUse>> {
        let py = slf.py();
        let by = requested_by.map(step_ref).transpose()?;
        let args = match arguments {
            None => None,
            Some(a) if a.is_instance_of::<pyo3::types::PyString>() => Some(a.extract::<String>()?),
            Some(a) => Some(py_to_json(a)?),
        };
        let id = slf.get().with(py, |r| {
            let id = r.begin_tool_use(tool, by);
            if let Some(a) = &args {
                r.set_input(id, a);
            }
            r.set_tool_call_id(id, tool_call_id);
            id
        })?;
        Py::new(py, handle(slf, id, StepKind::ToolUse).add_subclass(ToolUse))
    }

    /// Open a sub-agent spawned by tool `tool` (a context manager): steps started
    /// inside the block are its children. Set its result with `set_result`.
    #[pyo3(signature = (tool, agent, requested_by=None))]
    fn subagent(
        slf: &Bound<'_, Self>,
        tool: &str,
        agent: &str,
        requested_by: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<Subagent>> {
        let py = slf.py();
        let by = requested_by.map(step_ref).transpose()?;
        let id = slf.get().with(py, |r| r.begin_subagent(tool, agent, by))?;
        Py::new(
            py,
            handle(slf, id, StepKind::SubagentSpawn).add_subclass(Subagent),
        )
    }

    /// Step `consumer` used the output of step `producer`.
    fn consumes(
        &self,
        py: Python<'_>,
        consumer: &Bound<'_, PyAny>,
        producer: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (c, p) = (step_ref(consumer)?, step_ref(producer)?);
        self.with(py, |r| r.consumes(c, p))
    }

    /// The output of `producer` was delivered into the input of `consumer` (a tool
    /// result sent to the next model call), with no proof that it was used.
    fn in_context(
        &self,
        py: Python<'_>,
        consumer: &Bound<'_, PyAny>,
        producer: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (c, p) = (step_ref(consumer)?, step_ref(producer)?);
        self.with(py, |r| r.in_context(c, p))
    }

    /// Step `step` read artifact `name` (a file, a table, a URL).
    fn reads(&self, py: Python<'_>, step: &Bound<'_, PyAny>, name: &str) -> PyResult<()> {
        let id = step_ref(step)?;
        self.with(py, |r| r.reads(id, name))
    }

    /// Step `step` wrote artifact `name`.
    fn writes(&self, py: Python<'_>, step: &Bound<'_, PyAny>, name: &str) -> PyResult<()> {
        let id = step_ref(step)?;
        self.with(py, |r| r.writes(id, name))
    }

    /// Mark step `step` failed.
    fn error(&self, py: Python<'_>, step: &Bound<'_, PyAny>, message: &str) -> PyResult<()> {
        let id = step_ref(step)?;
        self.with(py, |r| r.error(id, message))
    }

    /// Mark step `step` denied (it never ran); `reason` is what the agent was told.
    fn deny(&self, py: Python<'_>, step: &Bound<'_, PyAny>, reason: &str) -> PyResult<()> {
        let id = step_ref(step)?;
        self.with(py, |r| r.deny(id, reason))
    }

    /// Set session metadata `key` (e.g. `costcraft.active_rules`).
    fn set_metadata(&self, py: Python<'_>, key: &str, value: &str) -> PyResult<()> {
        self.with(py, |r| r.set_metadata(key, value))
    }

    /// The cost the harness itself computed for `step` (Decimal, str or float).
    fn reported_cost(
        &self,
        py: Python<'_>,
        step: &Bound<'_, PyAny>,
        usd: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let id = step_ref(step)?;
        let usd = usd_from_py(usd)?;
        self.with(py, |r| r.reported_cost(id, usd))
    }

    /// Finish the session and return its Trace. `final_step` (id or handle) holds the
    /// final answer; by default the last successful top-level model call.
    /// `evidence`: verifier verdicts, dicts like
    /// `{"verifier": "pytest", "passed": True, "message": "...", "artifacts": [...]}`.
    #[pyo3(signature = (outcome="success", evidence=None, final_step=None))]
    fn finish(
        &self,
        py: Python<'_>,
        outcome: &str,
        evidence: Option<Vec<Bound<'_, PyAny>>>,
        final_step: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTrace> {
        let status = outcome.parse::<OutcomeStatus>().map_err(PyErrWrap)?;
        let final_step = final_step.map(step_ref).transpose()?;
        let evidence = evidence
            .unwrap_or_default()
            .iter()
            .map(|e| {
                let text = py_to_json(e)?;
                serde_json::from_str::<OracleEvidence>(&text).map_err(|err| {
                    pyo3::exceptions::PyValueError::new_err(format!(
                        "evidence must look like {{\"verifier\": str, \"passed\": bool, ...}}: {err}"
                    ))
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        let mut g = self
            .state
            .lock()
            .map_err(|_| pyo3::exceptions::PyRuntimeError::new_err("recorder lock poisoned"))?;
        let rec = match std::mem::replace(&mut *g, State::Finished(Arc::new(Trace::new("", "")))) {
            State::Recording(r) => r,
            State::Finished(t) => {
                *g = State::Finished(t);
                return Err(finished_error(py));
            }
        };
        let trace = Arc::new(rec.finish(status, final_step, evidence));
        *g = State::Finished(Arc::clone(&trace));
        Ok(PyTrace { inner: trace })
    }

    /// Write the trace (finished, or so far) as native JSONL to `path`.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let t = self.snapshot()?;
        py.detach(|| crate::native::save(&t, &path))
            .map_err(|e| PyErrWrap(e).into())
    }

    fn __repr__(&self) -> String {
        let n = self.snapshot().map(|t| t.steps.len()).unwrap_or(0);
        format!("<Recorder {} ({n} steps)>", self.session_id)
    }
}

/// A step being recorded (base of `LlmCall`, `ToolUse`, `Subagent`); a context
/// manager.
#[pyclass(name = "StepHandle", module = "tracecard._tracecard", frozen, subclass)]
pub struct StepHandle {
    rec: Py<PyRecorder>,
    id: StepId,
    kind: StepKind,
    /// Sub-agents: (result text, step that produced it).
    result: Mutex<(Option<String>, Option<StepId>)>,
}

impl StepHandle {
    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&mut Recorder, StepId) -> R) -> PyResult<R> {
        let id = self.id;
        self.rec.get().with(py, |r| f(r, id))
    }
}

#[pymethods]
impl StepHandle {
    /// The step id.
    #[getter]
    fn id(&self) -> u32 {
        self.id.0
    }

    #[getter]
    fn kind(&self) -> &'static str {
        self.kind.as_str()
    }

    fn __int__(&self) -> u32 {
        self.id.0
    }

    /// What the step was given (tool arguments, the new model input).
    fn set_input(&self, py: Python<'_>, text: &str) -> PyResult<()> {
        self.with(py, |r, id| r.set_input(id, text))
    }

    /// What the step produced (the tool result, the model's response).
    fn set_output(&self, py: Python<'_>, text: &str) -> PyResult<()> {
        self.with(py, |r, id| r.set_output(id, text))
    }

    /// This step read artifact `name`.
    fn reads(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        self.with(py, |r, id| r.reads(id, name))
    }

    /// This step wrote artifact `name`.
    fn writes(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        self.with(py, |r, id| r.writes(id, name))
    }

    /// This step used the output of `producer` (an id or a handle).
    fn consumes(&self, py: Python<'_>, producer: &Bound<'_, PyAny>) -> PyResult<()> {
        let p = step_ref(producer)?;
        self.with(py, |r, id| r.consumes(id, p))
    }

    /// The output of `producer` was delivered into this step's input (e.g. a tool
    /// result in the next model call's context), with no proof that it was used.
    fn in_context(&self, py: Python<'_>, producer: &Bound<'_, PyAny>) -> PyResult<()> {
        let p = step_ref(producer)?;
        self.with(py, |r, id| r.in_context(id, p))
    }

    /// Mark the step failed.
    fn error(&self, py: Python<'_>, message: &str) -> PyResult<()> {
        self.with(py, |r, id| r.error(id, message))
    }

    /// Mark the step denied: a guard, hook or permission rule refused the call and
    /// it never ran; `reason` is what the agent was told.
    fn deny(&self, py: Python<'_>, reason: &str) -> PyResult<()> {
        self.with(py, |r, id| r.deny(id, reason))
    }

    /// The cost the harness computed for this step (Decimal, str or float).
    fn reported_cost(&self, py: Python<'_>, usd: &Bound<'_, PyAny>) -> PyResult<()> {
        let usd = usd_from_py(usd)?;
        self.with(py, |r, id| r.reported_cost(id, usd))
    }

    /// Set a free-form attribute on the step.
    fn set_attribute(&self, py: Python<'_>, key: &str, value: &str) -> PyResult<()> {
        self.with(py, |r, id| r.set_attribute(id, key, value))
    }

    /// End the step now (what leaving the `with` block does).
    fn end(&self, py: Python<'_>) -> PyResult<()> {
        let (result, from) = match self.result.lock() {
            Ok(g) => g.clone(),
            Err(_) => (None, None),
        };
        let kind = self.kind;
        self.with(py, |r, id| match kind {
            StepKind::SubagentSpawn => r.end_subagent(id, result.as_deref().unwrap_or(""), from),
            _ => r.end(id),
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (exc_type=None, exc=None, traceback=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        exc: Option<&Bound<'_, PyAny>>,
        traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let _ = traceback;
        if let (Some(t), Some(e)) = (exc_type, exc) {
            let msg = format!("{}: {}", t.name()?, e.str()?);
            self.with(py, |r, id| r.error(id, &msg))?;
        }
        self.end(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("<{} step {}>", self.kind.as_str(), self.id)
    }
}

/// A model call being recorded.
#[pyclass(name = "LlmCall", module = "tracecard._tracecard", frozen, extends = StepHandle)]
pub struct LlmCall;

#[pymethods]
impl LlmCall {
    /// Token counts. Pass a `TokenUsage`, or keywords with Anthropic-style
    /// (exclusive) semantics: `input` excludes cache reads and writes. For
    /// OpenAI-style counts use `TokenUsage.from_inclusive(...)`.
    #[pyo3(signature = (tokens=None, *, input=0, output=0, cache_read=0, cache_write_5m=0, cache_write_1h=0, reasoning=0))]
    #[allow(clippy::too_many_arguments)]
    fn set_tokens(
        slf: &Bound<'_, Self>,
        tokens: Option<PyRef<'_, PyTokenUsage>>,
        input: u64,
        output: u64,
        cache_read: u64,
        cache_write_5m: u64,
        cache_write_1h: u64,
        reasoning: u64,
    ) -> PyResult<()> {
        let t = match tokens {
            Some(t) => t.inner,
            None => {
                let mut t = TokenUsage::from_exclusive(
                    input,
                    cache_read,
                    cache_write_5m,
                    cache_write_1h,
                    output,
                );
                t.reasoning = reasoning;
                t
            }
        };
        slf.as_super()
            .get()
            .with(slf.py(), |r, id| r.set_tokens(id, t))
    }

    /// The model name as the provider reported it (e.g. a dated snapshot).
    fn set_model(slf: &Bound<'_, Self>, model: &str) -> PyResult<()> {
        slf.as_super()
            .get()
            .with(slf.py(), |r, id| r.set_model(id, model))
    }

    /// The tool-call ids this response requested.
    fn requests(slf: &Bound<'_, Self>, tool_call_ids: Vec<String>) -> PyResult<()> {
        slf.as_super()
            .get()
            .with(slf.py(), |r, id| r.requests(id, tool_call_ids))
    }
}

/// A tool call being recorded.
#[pyclass(name = "ToolUse", module = "tracecard._tracecard", frozen, extends = StepHandle)]
pub struct ToolUse;

#[pymethods]
impl ToolUse {
    /// The tool's result (same as `set_output`).
    fn set_result(slf: &Bound<'_, Self>, text: &str) -> PyResult<()> {
        slf.as_super()
            .get()
            .with(slf.py(), |r, id| r.set_output(id, text))
    }
}

/// A sub-agent being recorded; steps started inside its block are its children.
#[pyclass(name = "Subagent", module = "tracecard._tracecard", frozen, extends = StepHandle)]
pub struct Subagent;

#[pymethods]
impl Subagent {
    /// The result the sub-agent returns to its parent, and the sub-agent step that
    /// produced it (usually its last model call). Recorded when the block exits.
    #[pyo3(signature = (text, result_from=None))]
    fn set_result(
        slf: &Bound<'_, Self>,
        text: String,
        result_from: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let from = result_from.map(step_ref).transpose()?;
        let base = slf.as_super().get();
        let mut g = base
            .result
            .lock()
            .map_err(|_| pyo3::exceptions::PyRuntimeError::new_err("step lock poisoned"))?;
        *g = (Some(text), from);
        Ok(())
    }
}
