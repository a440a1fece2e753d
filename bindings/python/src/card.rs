//! `TraceCard` and `CardStep`: read-only views of a compiled card.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyAny, PyList};
use tracecard_core::card::{CardStep, TraceCard};
use tracecard_core::model::StepId;

use crate::convert::{json_to_py, serde_name, value_to_py};
use crate::errors::PyErrWrap;
use crate::model::PyTokenUsage;
use crate::money::{opt_usd_to_py, usd_to_py};

/// One step on a card.
#[pyclass(name = "CardStep", module = "tracecard._tracecard", frozen)]
pub struct PyCardStep {
    inner: CardStep,
}

#[pymethods]
impl PyCardStep {
    #[getter]
    fn id(&self) -> u32 {
        self.inner.id.0
    }
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
    fn agent(&self) -> Option<&str> {
        self.inner.agent.as_deref()
    }
    /// This step's own cost (exact `Decimal`), `None` when unknown.
    #[getter]
    fn cost_usd<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_usd_to_py(py, self.inner.cost_usd)
    }
    /// `computed`, `reported`, `free` or `unknown`.
    #[getter]
    fn cost_source(&self) -> String {
        serde_name(&self.inner.cost_source)
    }
    #[getter]
    fn reported_cost_usd<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_usd_to_py(py, self.inner.reported_cost_usd)
    }
    #[getter]
    fn priced_as(&self) -> Option<&str> {
        self.inner.priced_as.as_deref()
    }
    #[getter]
    fn tokens(&self) -> PyTokenUsage {
        PyTokenUsage {
            inner: self.inner.tokens,
        }
    }
    #[getter]
    fn duration_ms(&self) -> Option<i64> {
        self.inner.duration_ms
    }
    /// `ok` or `error`.
    #[getter]
    fn status(&self) -> String {
        serde_name(&self.inner.status)
    }
    #[getter]
    fn subtree_cost_usd<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_usd_to_py(py, self.inner.subtree_cost_usd)
    }
    #[getter]
    fn carried_context_cost_usd<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_usd_to_py(py, self.inner.carried_context_cost_usd)
    }
    /// Own + carried-context cost of a redundant step (what pruning it saves).
    #[getter]
    fn wasted_cost_usd<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_usd_to_py(py, self.inner.wasted_cost_usd)
    }
    /// `needed`, `redundant` (proven waste) or `unproven` (a replay decides).
    #[getter]
    fn verdict(&self) -> &'static str {
        self.inner.verdict.as_str()
    }
    /// `verdict == "redundant"`.
    #[getter]
    fn redundant(&self) -> bool {
        self.inner.redundant
    }
    /// Why it is redundant or unproven, in plain words.
    #[getter]
    fn reason(&self) -> Option<&str> {
        self.inner.reason.as_deref()
    }
    /// `structure`, `content`, `artifacts`, `ids` or `replay`.
    #[getter]
    fn evidence(&self) -> Option<String> {
        self.inner.evidence.as_ref().map(serde_name)
    }
    /// What confirmed the verdict: `dataflow`, or `replay:<name>`.
    #[getter]
    fn confirmed_by(&self) -> Option<&str> {
        self.inner.confirmed_by.as_deref()
    }
    #[getter]
    fn source_ref(&self) -> Option<&str> {
        self.inner.source_ref.as_deref()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner, "card step")
    }
    fn __repr__(&self) -> String {
        let s = &self.inner;
        let name = s.tool.as_deref().or(s.model.as_deref()).unwrap_or("");
        let cost = s
            .cost_usd
            .map(|c| c.to_string())
            .unwrap_or_else(|| "?".into());
        format!(
            "<CardStep {} {} {} ${}{}>",
            s.id,
            s.kind.as_str(),
            name,
            cost,
            if s.redundant { " redundant" } else { "" }
        )
    }
}

/// A compiled TraceCard (immutable).
#[pyclass(name = "TraceCard", module = "tracecard._tracecard", frozen)]
pub struct PyTraceCard {
    inner: Arc<TraceCard>,
}

impl PyTraceCard {
    pub fn new(card: TraceCard) -> Self {
        PyTraceCard {
            inner: Arc::new(card),
        }
    }
}

#[pymethods]
impl PyTraceCard {
    #[getter]
    fn schema_version(&self) -> &str {
        &self.inner.schema_version
    }
    #[getter]
    fn session_id(&self) -> &str {
        &self.inner.session_id
    }
    /// `success`, `failure` or `unknown`.
    #[getter]
    fn outcome(&self) -> String {
        serde_name(&self.inner.outcome)
    }
    #[getter]
    fn outcome_reason(&self) -> Option<&str> {
        self.inner.outcome_reason.as_deref()
    }
    /// Sum of every known step cost, exact.
    #[getter]
    fn total_cost_usd<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        usd_to_py(py, self.inner.total_cost_usd)
    }
    /// Sum of the own cost of the steps flagged redundant.
    #[getter]
    fn redundant_cost_usd<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        usd_to_py(py, self.inner.redundant_cost_usd)
    }
    /// Own + carried-context cost of every redundant step.
    #[getter]
    fn wasted_cost_usd<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        usd_to_py(py, self.inner.wasted_cost_usd)
    }
    /// Own + carried-context cost of every unproven step: the open question.
    #[getter]
    fn unproven_cost_usd<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        usd_to_py(py, self.inner.unproven_cost_usd)
    }
    /// Replays the replayer ran (`None` without a replayer).
    #[getter]
    fn replays_used(&self) -> Option<u64> {
        self.inner.replays_used
    }
    #[getter]
    fn reported_cost_usd<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_usd_to_py(py, self.inner.reported_cost_usd)
    }
    #[getter]
    fn cost_delta_usd<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_usd_to_py(py, self.inner.cost_delta_usd)
    }
    #[getter]
    fn unpriced_steps(&self) -> u64 {
        self.inner.unpriced_steps
    }
    /// The price table used.
    #[getter]
    fn prices(&self) -> &str {
        &self.inner.prices
    }
    #[getter]
    fn format(&self) -> &str {
        &self.inner.source.format
    }
    #[getter]
    fn tokens(&self) -> PyTokenUsage {
        PyTokenUsage {
            inner: self.inner.tokens,
        }
    }
    #[getter]
    fn steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.inner
                .steps
                .iter()
                .map(|s| PyCardStep { inner: s.clone() }),
        )
    }
    /// The steps flagged redundant.
    #[getter]
    fn redundant_steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.inner
                .steps
                .iter()
                .filter(|s| s.redundant)
                .map(|s| PyCardStep { inner: s.clone() }),
        )
    }
    /// The steps left open (`verdict == "unproven"`).
    #[getter]
    fn unproven_steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.inner
                .steps
                .iter()
                .filter(|s| s.verdict == tracecard_core::Verdict::Unproven)
                .map(|s| PyCardStep { inner: s.clone() }),
        )
    }
    #[getter]
    fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner.warnings, "warnings")
    }
    #[getter]
    fn rollups<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner.rollups, "rollups")
    }

    fn step(&self, id: u32) -> Option<PyCardStep> {
        self.inner
            .step(StepId(id))
            .map(|s| PyCardStep { inner: s.clone() })
    }

    fn __len__(&self) -> usize {
        self.inner.steps.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<TraceCard {} {} steps ${} ({} redundant, ${})>",
            self.inner.session_id,
            self.inner.steps.len(),
            self.inner.total_cost_usd,
            self.inner.steps.iter().filter(|s| s.redundant).count(),
            self.inner.redundant_cost_usd
        )
    }

    /// The card as YAML (deterministic).
    fn to_yaml(&self, py: Python<'_>) -> PyResult<String> {
        let c = Arc::clone(&self.inner);
        py.detach(|| c.to_yaml()).map_err(|e| PyErrWrap(e).into())
    }

    /// The card as a self-contained HTML page (inline CSS/JS, no network, no
    /// content): steps by order, coloured by verdict, with costs, rollups and
    /// warnings. `tracecard.report(trace_or_path)` adds step times and evidence edges.
    #[pyo3(signature = (include_content=false, title=None))]
    fn to_html(&self, py: Python<'_>, include_content: bool, title: Option<String>) -> String {
        let c = Arc::clone(&self.inner);
        py.detach(|| crate::report::card_html(&c, include_content, title))
    }

    /// This card as Arrow: `Tables` with a `steps` table (one row per step) and a
    /// `sessions` table (one row), each readable through `__arrow_c_stream__`.
    fn to_arrow(&self, py: Python<'_>) -> PyResult<crate::arrow::PyTables> {
        crate::arrow::card_tables(py, &self.inner)
    }

    /// The card as pretty JSON (deterministic).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        let c = Arc::clone(&self.inner);
        py.detach(|| c.to_json()).map_err(|e| PyErrWrap(e).into())
    }

    /// The card as plain Python data; money (every non-integer number) as `Decimal`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = Arc::clone(&self.inner);
        let text = py
            .detach(|| serde_json::to_string(&*c))
            .map_err(|e| PyErrWrap(tracecard_core::Error::serialize("card", e)))?;
        json_to_py(py, &text)
    }

    /// Parse a card from JSON text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<PyTraceCard> {
        TraceCard::from_json(text)
            .map(PyTraceCard::new)
            .map_err(|e| PyErrWrap(e).into())
    }

    /// Parse a card from YAML text.
    #[staticmethod]
    fn from_yaml(text: &str) -> PyResult<PyTraceCard> {
        TraceCard::from_yaml(text)
            .map(PyTraceCard::new)
            .map_err(|e| PyErrWrap(e).into())
    }

    /// The JSON Schema of the card format.
    #[staticmethod]
    fn json_schema() -> String {
        TraceCard::json_schema()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyTraceCard>() {
            Ok(o) => *self.inner == *o.get().inner,
            Err(_) => false,
        }
    }
}
