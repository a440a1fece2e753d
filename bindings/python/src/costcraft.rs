//! `tracecard._tracecard`'s costcraft functions, re-exported by
//! `tracecard.costcraft`: `costcraft_distill` → [`PyDistillation`],
//! `costcraft_check_rules`, `costcraft_evaluate`. Each converts its arguments,
//! calls the costcraft crate once with the GIL released, and maps errors in
//! `errors.rs` ([`crate::errors::costcraft_to_pyerr`]).

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyAny, PyList, PyTuple};
use tracecard_core::{Compiler, Format, Trace};

use crate::analysis::PyReplayerAdapter;
use crate::card::PyTraceCard;
use crate::convert::{py_to_json, value_to_py};
use crate::cost::prices_arg;
use crate::errors::CostcraftErr;
use crate::model::{PyTrace, step_ref};
use crate::recorder::PyRecorder;
use crate::report::{Item, items, load};

fn format_arg(format: Option<&str>) -> PyResult<Option<Format>> {
    match format {
        None => Ok(None),
        Some(name) => Format::parse(name).map(Some).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!("no format named {name:?}"))
        }),
    }
}

/// Load every item (paths are imported, `Trace` objects copied).
fn load_items(items: Vec<Item>, format: Option<Format>) -> costcraft::Result<Vec<Trace>> {
    let mut out = Vec::new();
    for it in items {
        match it {
            Item::Trace(t) => out.push((*t).clone()),
            Item::Path(p) => out.extend(load(&p, format)?),
        }
    }
    Ok(out)
}

/// Outcomes: a JSONL file, or a list of dicts of the same shape.
enum OutcomesArg {
    File(PathBuf),
    Records(String),
}

fn outcomes_arg(outcomes: Option<&Bound<'_, PyAny>>) -> PyResult<Option<OutcomesArg>> {
    let Some(o) = outcomes.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if o.is_instance_of::<PyList>() || o.is_instance_of::<PyTuple>() {
        let mut text = String::new();
        for rec in o.try_iter()? {
            text.push_str(&py_to_json(&rec?)?);
            text.push('\n');
        }
        return Ok(Some(OutcomesArg::Records(text)));
    }
    o.extract::<PathBuf>().map(|p| Some(OutcomesArg::File(p))).map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(
            "outcomes must be a path to a JSONL file or a list of dicts {session_id, status, evidence}",
        )
    })
}

/// Apply outcomes; returns the notes for lines naming no loaded session.
fn apply(traces: &mut [Trace], outcomes: Option<&OutcomesArg>) -> costcraft::Result<Vec<String>> {
    let (records, name) = match outcomes {
        None => return Ok(Vec::new()),
        Some(OutcomesArg::File(p)) => (
            costcraft::outcomes::read_outcomes(p)?,
            p.display().to_string(),
        ),
        Some(OutcomesArg::Records(text)) => (
            costcraft::outcomes::parse_outcomes(text, std::path::Path::new("<outcomes>"))?,
            "<outcomes>".to_owned(),
        ),
    };
    let rep = costcraft::outcomes::apply_outcomes(traces, &records);
    Ok(rep
        .unmatched
        .iter()
        .map(|(line, sid)| {
            format!(
                "{name}:{line}: outcome for session {sid:?}, which is not among the loaded sessions"
            )
        })
        .collect())
}

/// The result of `distill`: rules, patches, the skill and the report.
#[pyclass(name = "Distillation", module = "tracecard.costcraft", frozen)]
pub struct PyDistillation {
    inner: Arc<costcraft::Distillation>,
}

#[pymethods]
impl PyDistillation {
    /// `rules.yaml` as a dict (`schema_version`, `corpus`, `policy`, `tools`,
    /// `backfire`, `rules`); money is `Decimal`.
    #[getter]
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner.rules, "rules")
    }

    /// Every patch: `{"kept": [...], "refused": [{"refusal": ..., "patch": ...}]}`.
    #[getter]
    fn patches<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner.patches, "patches")
    }

    /// `SKILL.md` text.
    #[getter]
    fn skill_md(&self) -> String {
        self.inner.skill_md()
    }

    /// The skill's name (its directory under the output directory).
    #[getter]
    fn skill_name(&self) -> String {
        self.inner.rules.policy.skill_name.clone()
    }

    /// `REPORT.md` text.
    #[getter]
    fn report_md(&self) -> String {
        self.inner.report_md()
    }

    /// `rules.yaml` text.
    fn rules_yaml(&self) -> PyResult<String> {
        self.inner
            .rules
            .to_yaml()
            .map_err(|e| CostcraftErr(e).into())
    }

    /// `patches.yaml` text.
    fn patches_yaml(&self) -> PyResult<String> {
        self.inner
            .patches_yaml()
            .map_err(|e| CostcraftErr(e).into())
    }

    /// Notes (outcome lines naming no loaded session…), also in `REPORT.md`.
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.inner.notes.clone()
    }

    /// The sessions' cards, with the `backfire_<guard>` warnings.
    #[getter]
    fn cards(&self) -> Vec<PyTraceCard> {
        self.inner
            .sessions
            .iter()
            .map(|s| PyTraceCard::new(s.card.clone()))
            .collect()
    }

    /// Write `rules.yaml`, `<skill_name>/SKILL.md`, `patches.yaml` and `REPORT.md`
    /// into `dir` (created when missing).
    fn write(&self, py: Python<'_>, dir: PathBuf) -> PyResult<()> {
        let d = Arc::clone(&self.inner);
        py.detach(|| d.write(&dir))
            .map_err(|e| CostcraftErr(e).into())
    }

    fn __repr__(&self) -> String {
        let r = &self.inner.rules;
        format!(
            "<Distillation {} session(s), {} rule(s), {} patch(es) kept, {} refused>",
            r.corpus.sessions,
            r.rules.len(),
            self.inner.patches.kept.len(),
            self.inner.patches.refused.len()
        )
    }
}

/// Distil `paths` (paths or `Trace` objects) into patches and rules. `policy`
/// overlays `costcraft::Policy`'s fields (rules.yaml's `policy`).
#[pyfunction]
#[pyo3(signature = (paths, *, outcomes=None, replayer=None, replay_budget=32, policy=None, prices=None, format=None))]
#[allow(clippy::too_many_arguments)]
pub fn costcraft_distill(
    py: Python<'_>,
    paths: &Bound<'_, PyAny>,
    outcomes: Option<&Bound<'_, PyAny>>,
    replayer: Option<&Bound<'_, PyAny>>,
    replay_budget: usize,
    policy: Option<&Bound<'_, PyAny>>,
    prices: Option<&Bound<'_, PyAny>>,
    format: Option<&str>,
) -> PyResult<PyDistillation> {
    let items = items(paths)?;
    let format = format_arg(format)?;
    let table = prices_arg(py, prices)?;
    let outcomes = outcomes_arg(outcomes)?;
    let adapter = replayer
        .filter(|r| !r.is_none())
        .map(PyReplayerAdapter::new)
        .transpose()?;
    let policy = policy_arg(policy)?;
    let d = py.detach(|| -> costcraft::Result<costcraft::Distillation> {
        let mut traces = load_items(items, format)?;
        let notes = apply(&mut traces, outcomes.as_ref())?;
        let c = Compiler::new()
            .prices(table.get())
            .replay_budget(replay_budget);
        let c = match &adapter {
            Some(a) => c.replayer(a),
            None => c,
        };
        let sessions = traces
            .into_iter()
            .map(|t| costcraft::Session::compile(t, &c))
            .collect::<costcraft::Result<Vec<_>>>()?;
        let mut d = costcraft::distill(sessions, &policy)?;
        d.notes = notes;
        Ok(d)
    });
    let d = d.map_err(CostcraftErr)?;
    Ok(PyDistillation { inner: Arc::new(d) })
}

/// `Policy::default()` with the keys of `policy` (a dict) replaced.
fn policy_arg(policy: Option<&Bound<'_, PyAny>>) -> PyResult<costcraft::Policy> {
    let Some(p) = policy.filter(|p| !p.is_none()) else {
        return Ok(costcraft::Policy::default());
    };
    let over: serde_json::Value = serde_json::from_str(&py_to_json(p)?)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("policy: {e}")))?;
    let serde_json::Value::Object(over) = over else {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "policy must be a dict of Policy fields",
        ));
    };
    let mut base = serde_json::to_value(costcraft::Policy::default())
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    for (k, v) in over {
        match base.get_mut(&k) {
            Some(slot) => *slot = v,
            None => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "policy: unknown field {k:?}"
                )));
            }
        }
    }
    let p: costcraft::Policy = serde_json::from_value(base)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("policy: {e}")))?;
    costcraft::skill::validate_name(&p.skill_name)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("skill_name: {e}")))?;
    Ok(p)
}

/// Where each rule of `rules_path` would fire in `paths`: a dict like
/// `tracecard check-rules --json`.
#[pyfunction]
#[pyo3(signature = (rules_path, paths, *, prices=None, format=None))]
pub fn costcraft_check_rules<'py>(
    py: Python<'py>,
    rules_path: PathBuf,
    paths: &Bound<'py, PyAny>,
    prices: Option<&Bound<'py, PyAny>>,
    format: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let items = items(paths)?;
    let format = format_arg(format)?;
    let table = prices_arg(py, prices)?;
    let report = py.detach(|| -> costcraft::Result<costcraft::check::CheckReport> {
        let rules = costcraft::RuleSet::read(&rules_path)?;
        let c = Compiler::new().prices(table.get());
        let sessions = load_items(items, format)?
            .into_iter()
            .map(|t| costcraft::Session::compile(t, &c))
            .collect::<costcraft::Result<Vec<_>>>()?;
        Ok(costcraft::check::check(&rules, &sessions))
    });
    let report = report.map_err(CostcraftErr)?;
    value_to_py(py, &report, "check report")
}

/// Pair `baseline` and `treated` runs of the same tasks: a dict like
/// `tracecard evaluate --json`.
#[pyfunction]
#[pyo3(signature = (baseline, treated, *, outcomes=None, prices=None, format=None))]
pub fn costcraft_evaluate<'py>(
    py: Python<'py>,
    baseline: &Bound<'py, PyAny>,
    treated: &Bound<'py, PyAny>,
    outcomes: Option<&Bound<'py, PyAny>>,
    prices: Option<&Bound<'py, PyAny>>,
    format: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let (b, t) = (items(baseline)?, items(treated)?);
    let format = format_arg(format)?;
    let table = prices_arg(py, prices)?;
    let outcomes = outcomes_arg(outcomes)?;
    let e = py.detach(|| -> costcraft::Result<costcraft::evaluate::Evaluation> {
        let c = Compiler::new().prices(table.get()).analyze(false);
        let side = |items: Vec<Item>| -> costcraft::Result<Vec<costcraft::evaluate::Run>> {
            let mut traces = load_items(items, format)?;
            apply(&mut traces, outcomes.as_ref())?;
            traces
                .into_iter()
                .map(|t| costcraft::evaluate::Run::compile(t, &c))
                .collect()
        };
        Ok(costcraft::evaluate::evaluate_runs(&side(b)?, &side(t)?))
    });
    let e = e.map_err(CostcraftErr)?;
    value_to_py(py, &e, "evaluation")
}

/// A guard decision on one pending tool call.
#[pyclass(name = "Decision", module = "tracecard.costcraft", frozen)]
pub struct PyDecision {
    inner: costcraft::guard::Decision,
}

#[pymethods]
impl PyDecision {
    /// Whether the call may run.
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.allowed
    }

    /// The rule that denied the call (`None` when allowed).
    #[getter]
    fn rule_id(&self) -> Option<String> {
        self.inner.rule_id.clone()
    }

    /// For a deny, `<rule id>: <reason with the evidence count>` (what the agent
    /// is told); otherwise why the guard allowed it.
    #[getter]
    fn reason(&self) -> String {
        self.inner.reason.clone()
    }

    /// How the call relates to the earlier calls of its context
    /// (`repeat_of_success`, `retry_of_failure`, …), when the guard looked.
    #[getter]
    fn after(&self) -> Option<String> {
        self.inner.after.map(|a| a.as_str().to_owned())
    }

    fn __bool__(&self) -> bool {
        self.inner.allowed
    }

    fn __repr__(&self) -> String {
        match &self.inner.rule_id {
            Some(r) if !self.inner.allowed => format!("<Decision deny {r}>"),
            _ => format!("<Decision allow ({})>", self.inner.reason),
        }
    }
}

/// The prune rules of a `rules.yaml`, enforced on pending tool calls.
#[pyclass(name = "Guard", module = "tracecard.costcraft", frozen)]
pub struct PyGuard {
    inner: Arc<costcraft::guard::Guard>,
}

/// What `history` is: the steps so far, or a Claude Code transcript.
enum History {
    Trace(Arc<Trace>),
    Transcript(PathBuf),
}

fn history_arg(history: Option<&Bound<'_, PyAny>>) -> PyResult<History> {
    let Some(h) = history.filter(|h| !h.is_none()) else {
        return Ok(History::Trace(Arc::new(Trace::new("guard", "native"))));
    };
    if let Ok(t) = h.cast::<PyTrace>() {
        return Ok(History::Trace(Arc::clone(&t.get().inner)));
    }
    if let Ok(r) = h.cast::<PyRecorder>() {
        return Ok(History::Trace(r.get().snapshot()?));
    }
    h.extract::<PathBuf>()
        .map(History::Transcript)
        .map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(
                "history must be a Trace, a Recorder, or the path of a Claude Code transcript",
            )
        })
}

#[pymethods]
impl PyGuard {
    /// Load the rules of `path` (`rules.yaml`). Only active prune rules with
    /// support in at least `min_support` sessions deny; `repeat_after_change`
    /// rules only with `allow_repeat_after_change` (as `tracecard guard`).
    #[staticmethod]
    #[pyo3(signature = (path, *, min_support=1, allow_repeat_after_change=false))]
    fn load(
        py: Python<'_>,
        path: PathBuf,
        min_support: usize,
        allow_repeat_after_change: bool,
    ) -> PyResult<Self> {
        let opts = costcraft::guard::GuardOptions {
            min_support,
            include_held_back: false,
            repeat_after_change: allow_repeat_after_change,
        };
        let g = py
            .detach(|| costcraft::guard::Guard::load(&path, &opts))
            .map_err(CostcraftErr)?;
        Ok(PyGuard { inner: Arc::new(g) })
    }

    /// Decide the pending call `tool_name(tool_input)` given `history`: a
    /// `Trace` or `Recorder` holding the steps so far (the pending call not among
    /// them), or the path of a Claude Code transcript. `subagent` (a spawn step id
    /// or handle of the trace) or `agent_id`/`agent_type` (transcript) say the call
    /// runs in a sub-agent's context.
    #[pyo3(signature = (tool_name, tool_input=None, history=None, *, subagent=None, agent_id=None, agent_type=None))]
    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        py: Python<'_>,
        tool_name: &str,
        tool_input: Option<&Bound<'_, PyAny>>,
        history: Option<&Bound<'_, PyAny>>,
        subagent: Option<&Bound<'_, PyAny>>,
        agent_id: Option<&str>,
        agent_type: Option<&str>,
    ) -> PyResult<PyDecision> {
        let input: serde_json::Value = match tool_input.filter(|v| !v.is_none()) {
            None => serde_json::Value::Object(Default::default()),
            Some(v) => serde_json::from_str(&py_to_json(v)?)
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("tool_input: {e}")))?,
        };
        let history = history_arg(history)?;
        let subagent = subagent
            .filter(|s| !s.is_none())
            .map(step_ref)
            .transpose()?;
        let g = Arc::clone(&self.inner);
        let d = py.detach(|| match &history {
            History::Trace(t) => g.decide_on_trace(t, tool_name, &input, subagent),
            History::Transcript(p) => {
                g.decide_on_transcript(p, tool_name, &input, agent_id, agent_type)
            }
        });
        Ok(PyDecision {
            inner: d.map_err(CostcraftErr)?,
        })
    }

    /// The ids of the rules that may deny (record them as
    /// `costcraft.active_rules` so `evaluate` can ablate per lane).
    #[getter]
    fn active_rules(&self) -> Vec<String> {
        self.inner.active_rules()
    }

    /// The rules that may deny, as dicts (rules.yaml's shape).
    #[getter]
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner.rules(), "rules")
    }

    fn __repr__(&self) -> String {
        format!("<Guard {} active rule(s)>", self.inner.rules().len())
    }
}
