//! `Trace`, `Step` and `TokenUsage`: read-only views of the core model.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyAny, PyList};
use tracecard_core::model::{Step, StepId, TokenUsage, Trace};

use crate::analysis::PyReplayerAdapter;
use crate::card::PyTraceCard;
use crate::convert::{serde_name, value_to_py};
use crate::cost::prices_arg;
use crate::errors::PyErrWrap;
use crate::money::opt_usd_to_py;

/// Token counts of one step (normalised: the input buckets are disjoint and
/// `output` includes `reasoning`).
#[pyclass(name = "TokenUsage", module = "tracecard._tracecard", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PyTokenUsage {
    pub inner: TokenUsage,
}

#[pymethods]
impl PyTokenUsage {
    /// Anthropic-style (exclusive) counts: `input` excludes cache reads and writes.
    #[new]
    #[pyo3(signature = (input=0, output=0, cache_read=0, cache_write_5m=0, cache_write_1h=0, reasoning=0))]
    fn new(
        py: Python<'_>,
        input: u64,
        output: u64,
        cache_read: u64,
        cache_write_5m: u64,
        cache_write_1h: u64,
        reasoning: u64,
    ) -> PyResult<Self> {
        crate::errors::guard_new(py, || {
            let mut t = TokenUsage::from_exclusive(
                input,
                cache_read,
                cache_write_5m,
                cache_write_1h,
                output,
            );
            t.reasoning = reasoning;
            Ok(PyTokenUsage { inner: t })
        })
    }

    /// OpenAI/OTel-style (inclusive) counts: `input_total` includes cached tokens.
    #[staticmethod]
    #[pyo3(signature = (input_total=0, output=0, cache_read=0, cache_write=0, reasoning=0))]
    fn from_inclusive(
        input_total: u64,
        output: u64,
        cache_read: u64,
        cache_write: u64,
        reasoning: u64,
    ) -> Self {
        PyTokenUsage {
            inner: TokenUsage::from_inclusive(
                input_total,
                cache_read,
                cache_write,
                output,
                reasoning,
            ),
        }
    }

    #[getter]
    fn input(&self) -> u64 {
        self.inner.input
    }
    #[getter]
    fn output(&self) -> u64 {
        self.inner.output
    }
    #[getter]
    fn cache_read(&self) -> u64 {
        self.inner.cache_read
    }
    #[getter]
    fn cache_write_5m(&self) -> u64 {
        self.inner.cache_write_5m
    }
    #[getter]
    fn cache_write_1h(&self) -> u64 {
        self.inner.cache_write_1h
    }
    #[getter]
    fn reasoning(&self) -> u64 {
        self.inner.reasoning
    }
    /// All input-side tokens.
    #[getter]
    fn prompt_total(&self) -> u64 {
        self.inner.prompt_total()
    }
    /// Input side plus output.
    #[getter]
    fn total(&self) -> u64 {
        self.inner.total()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner, "tokens")
    }

    fn __repr__(&self) -> String {
        let t = &self.inner;
        format!(
            "TokenUsage(input={}, output={}, cache_read={}, cache_write_5m={}, cache_write_1h={}, reasoning={})",
            t.input, t.output, t.cache_read, t.cache_write_5m, t.cache_write_1h, t.reasoning
        )
    }
}

/// One step of a trace (read-only).
#[pyclass(name = "Step", module = "tracecard._tracecard", frozen)]
pub struct PyStep {
    inner: Step,
}

fn ids(v: &[StepId]) -> Vec<u32> {
    v.iter().map(|i| i.0).collect()
}

#[pymethods]
impl PyStep {
    #[getter]
    fn id(&self) -> u32 {
        self.inner.id.0
    }
    /// `llm_call`, `tool_use`, `subagent_spawn`, `user_input`, `compaction` or `other`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.as_str()
    }
    #[getter]
    fn parent(&self) -> Option<u32> {
        self.inner.parent.map(|p| p.0)
    }
    #[getter]
    fn tool(&self) -> Option<&str> {
        self.inner.tool.as_deref()
    }
    #[getter]
    fn model(&self) -> Option<&str> {
        self.inner.model.as_deref()
    }
    #[getter]
    fn provider(&self) -> Option<&str> {
        self.inner.provider.as_deref()
    }
    #[getter]
    fn agent(&self) -> Option<&str> {
        self.inner.agent.as_deref()
    }
    #[getter]
    fn tokens(&self) -> PyTokenUsage {
        PyTokenUsage {
            inner: self.inner.tokens,
        }
    }
    /// `ok` or `error`.
    #[getter]
    fn status(&self) -> String {
        serde_name(&self.inner.status)
    }
    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.error.as_deref()
    }
    /// The step's input text (tool arguments, new model input), if kept.
    #[getter]
    fn input(&self) -> Option<&str> {
        self.inner.input.as_ref().and_then(|c| c.text.as_deref())
    }
    /// The step's output text (tool result, model response), if kept.
    #[getter]
    fn output(&self) -> Option<&str> {
        self.inner.output.as_ref().and_then(|c| c.text.as_deref())
    }
    #[getter]
    fn reads(&self) -> Vec<String> {
        self.inner.links.reads.clone()
    }
    #[getter]
    fn writes(&self) -> Vec<String> {
        self.inner.links.writes.clone()
    }
    /// Steps whose output this step demonstrably used.
    #[getter]
    fn consumes(&self) -> Vec<u32> {
        ids(&self.inner.links.consumes)
    }
    /// Steps whose output was delivered into this step's input.
    #[getter]
    fn context(&self) -> Vec<u32> {
        ids(&self.inner.links.context)
    }
    #[getter]
    fn tool_call_id(&self) -> Option<&str> {
        self.inner.links.tool_call_id.as_deref()
    }
    #[getter]
    fn duration_ms(&self) -> Option<i64> {
        self.inner.duration_ms()
    }
    #[getter]
    fn started_at(&self) -> Option<String> {
        self.inner.started_at.map(|t| t.to_string())
    }
    #[getter]
    fn ended_at(&self) -> Option<String> {
        self.inner.ended_at.map(|t| t.to_string())
    }
    #[getter]
    fn reported_cost_usd<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_usd_to_py(py, self.inner.reported_cost_usd)
    }
    #[getter]
    fn source_ref(&self) -> Option<&str> {
        self.inner.source_ref.as_deref()
    }
    #[getter]
    fn attributes(&self) -> std::collections::BTreeMap<String, String> {
        self.inner.attributes.clone()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner, "step")
    }
    fn __repr__(&self) -> String {
        let s = &self.inner;
        let name = s.tool.as_deref().or(s.model.as_deref()).unwrap_or("");
        format!("<Step {} {} {}>", s.id, s.kind.as_str(), name)
    }
}

/// One agent session (immutable). Load it with `tracecard.load`, or record it with
/// `tracecard.Recorder`.
#[pyclass(name = "Trace", module = "tracecard._tracecard", frozen)]
pub struct PyTrace {
    pub inner: Arc<Trace>,
}

impl PyTrace {
    pub fn new(trace: Trace) -> Self {
        PyTrace {
            inner: Arc::new(trace),
        }
    }
}

/// Every warning code a card or trace can carry, with what it means (in the
/// core's order: alphabetical).
#[pyfunction]
pub fn warning_codes(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    for c in tracecard_core::WarningCode::ALL {
        d.set_item(c.as_str(), c.description())?;
    }
    Ok(d)
}

/// A step reference from Python: an int id or any object with an int `id`.
pub fn step_ref(v: &Bound<'_, PyAny>) -> PyResult<StepId> {
    if let Ok(i) = v.extract::<u32>() {
        return Ok(StepId(i));
    }
    match v.getattr("id").and_then(|i| i.extract::<u32>()) {
        Ok(i) => Ok(StepId(i)),
        Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "expected a step id (int) or a step handle with an `id`, got {}",
            v.get_type().name()?
        ))),
    }
}

#[pymethods]
impl PyTrace {
    #[getter]
    fn session_id(&self) -> &str {
        &self.inner.session_id
    }
    /// The importer that produced the trace (`native`, `claude_code`, `otlp`, ...).
    #[getter]
    fn format(&self) -> &str {
        &self.inner.source.format
    }
    #[getter]
    fn files(&self) -> Vec<String> {
        self.inner.source.files.clone()
    }
    /// `full`, `hashed` or `none`.
    #[getter]
    fn content(&self) -> String {
        serde_name(&self.inner.source.content)
    }
    #[getter]
    fn started_at(&self) -> Option<String> {
        self.inner.started_at.map(|t| t.to_string())
    }
    /// `success`, `failure` or `unknown`.
    #[getter]
    fn outcome(&self) -> String {
        serde_name(&self.inner.outcome.status)
    }
    #[getter]
    fn outcome_reason(&self) -> Option<&str> {
        self.inner.outcome.reason.as_deref()
    }
    #[getter]
    fn final_step(&self) -> Option<u32> {
        self.inner.outcome.final_step.map(|s| s.0)
    }
    /// The final answer text, when kept.
    #[getter]
    fn answer(&self) -> Option<&str> {
        self.inner
            .outcome
            .answer
            .as_ref()
            .and_then(|c| c.text.as_deref())
    }
    #[getter]
    fn evidence<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner.outcome.evidence, "evidence")
    }
    #[getter]
    fn steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.inner.steps.iter().map(|s| PyStep { inner: s.clone() }),
        )
    }
    #[getter]
    fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner.warnings, "warnings")
    }
    #[getter]
    fn metadata(&self) -> std::collections::BTreeMap<String, String> {
        self.inner.metadata.clone()
    }
    #[getter]
    fn reported_cost_usd<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_usd_to_py(py, self.inner.reported_cost_usd)
    }
    /// Sum of every step's tokens.
    #[getter]
    fn total_tokens(&self) -> PyTokenUsage {
        PyTokenUsage {
            inner: self.inner.total_tokens(),
        }
    }

    fn step(&self, id: u32) -> Option<PyStep> {
        self.inner
            .step(StepId(id))
            .map(|s| PyStep { inner: s.clone() })
    }

    fn __len__(&self) -> usize {
        self.inner.steps.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<Trace {} ({}, {} steps, {})>",
            self.inner.session_id,
            self.inner.source.format,
            self.inner.steps.len(),
            serde_name(&self.inner.outcome.status)
        )
    }

    /// Compile into a TraceCard: price every step, give each a verdict (`needed`,
    /// `redundant`, `unproven`), and test the flagged and unproven steps with
    /// `replayer` when given, under `replay_budget` replays.
    ///
    /// `prices`: a path to a price file (LiteLLM's `model_prices_and_context_window.json`
    /// or tracecard's own format), layered over the bundled table; or a `PriceTable`.
    /// `replayer`: `callable(trace_without_candidates, removed_ids) -> outcome`, first
    /// called with `removed_ids == []` for the baseline; steps whose removal keeps the
    /// baseline outcome become `redundant` (`confirmed_by="replay:<name>"`), steps
    /// whose removal changes it become `needed`. An exception raised by the replayer,
    /// or a return value that is not an outcome, is raised from `compile`.
    #[pyo3(signature = (prices=None, replayer=None, analyze=true, replay_budget=32))]
    fn compile(
        &self,
        py: Python<'_>,
        prices: Option<&Bound<'_, PyAny>>,
        replayer: Option<&Bound<'_, PyAny>>,
        analyze: bool,
        replay_budget: usize,
    ) -> PyResult<PyTraceCard> {
        let table = prices_arg(py, prices)?;
        let adapter = replayer.map(PyReplayerAdapter::new).transpose()?;
        let trace = Arc::clone(&self.inner);
        let result = py.detach(|| {
            let c = tracecard_core::Compiler::new()
                .prices(table.get())
                .analyze(analyze)
                .replay_budget(replay_budget);
            match &adapter {
                Some(a) => c.replayer(a).compile(&trace),
                None => c.compile(&trace),
            }
        });
        result
            .map(PyTraceCard::new)
            .map_err(|e| PyErrWrap(e).into())
    }

    /// This trace without the steps in `removed` (ids renumbered, links dropped).
    fn without(&self, removed: Vec<u32>) -> PyTrace {
        let removed: Vec<StepId> = removed.into_iter().map(StepId).collect();
        PyTrace::new(self.inner.without(&removed))
    }

    /// Check the structural invariants; raises `ValidationError`.
    fn validate(&self) -> PyResult<()> {
        self.inner.validate().map_err(|e| PyErrWrap(e).into())
    }

    /// A copy with all content text dropped (hashes and lengths kept).
    fn redacted(&self) -> PyTrace {
        let mut t = (*self.inner).clone();
        t.redact();
        PyTrace::new(t)
    }

    /// The native format, one JSON document.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        let t = Arc::clone(&self.inner);
        py.detach(|| tracecard_core::native::to_json(&t))
            .map_err(|e| PyErrWrap(e).into())
    }

    /// The native format, JSONL records (what `save` writes).
    fn to_jsonl(&self, py: Python<'_>) -> PyResult<String> {
        let t = Arc::clone(&self.inner);
        py.detach(|| tracecard_core::native::to_jsonl(&t))
            .map_err(|e| PyErrWrap(e).into())
    }

    /// The trace as plain Python data (non-integer numbers as `Decimal`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &*self.inner, "trace")
    }

    /// Write the trace as native JSONL to `path`.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let t = Arc::clone(&self.inner);
        py.detach(|| crate::native::save(&t, &path))
            .map_err(|e| PyErrWrap(e).into())
    }
}
