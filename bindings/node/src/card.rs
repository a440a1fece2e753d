//! `TraceCard` and its steps: read-only views of a compiled card.

use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tracecard_core::Verdict;
use tracecard_core::card::{CardStep as CoreCardStep, TraceCard as CoreCard};
use tracecard_core::model::StepId;

use crate::convert::{Tokens, opt_usd, serde_name, usd};
use crate::errors::CoreResultExt;

/// One step on a card (a plain object; read-only copy). Money is an exact decimal
/// string; use {@link usdToNumber} for a `number`.
#[napi(object)]
pub struct CardStep {
    /// Step id (same as in the trace).
    pub id: u32,
    /// `llm_call`, `tool_use`, `subagent_spawn`, `user_input`, `compaction` or `other`.
    pub kind: String,
    /// The sub-agent step this step runs under.
    pub parent: Option<u32>,
    /// Tool name.
    pub tool: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// Sub-agent name.
    pub agent: Option<String>,
    /// This step's own cost (exact decimal string), `null` when unknown.
    pub cost_usd: Option<String>,
    /// `computed`, `reported`, `free` or `unknown`.
    pub cost_source: String,
    /// The cost the source reported for this step.
    pub reported_cost_usd: Option<String>,
    /// The price-table entry the model was priced as.
    pub priced_as: Option<String>,
    /// Token counts.
    pub tokens: Tokens,
    /// Duration in milliseconds.
    pub duration_ms: Option<i64>,
    /// `ok` or `error`.
    pub status: String,
    /// Own cost plus every descendant's (sub-agent spawns).
    pub subtree_cost_usd: Option<String>,
    /// What carrying this step's output in later model calls' context cost.
    pub carried_context_cost_usd: Option<String>,
    /// Own + carried-context cost of a redundant step (what pruning it saves).
    pub wasted_cost_usd: Option<String>,
    /// `needed`, `redundant` (proven waste) or `unproven` (a replay decides).
    pub verdict: String,
    /// `verdict === "redundant"`.
    pub redundant: bool,
    /// Why it is redundant or unproven, in plain words.
    pub reason: Option<String>,
    /// `structure`, `content`, `artifacts`, `ids` or `replay`.
    pub evidence: Option<String>,
    /// What confirmed the verdict: `dataflow`, or `replay:<name>`.
    pub confirmed_by: Option<String>,
    /// Where the step came from in the source.
    pub source_ref: Option<String>,
}

impl From<&CoreCardStep> for CardStep {
    fn from(s: &CoreCardStep) -> Self {
        CardStep {
            id: s.id.0,
            kind: s.kind.as_str().to_owned(),
            parent: s.parent.map(|p| p.0),
            tool: s.tool.clone(),
            model: s.model.clone(),
            agent: s.agent.clone(),
            cost_usd: opt_usd(s.cost_usd),
            cost_source: serde_name(&s.cost_source),
            reported_cost_usd: opt_usd(s.reported_cost_usd),
            priced_as: s.priced_as.clone(),
            tokens: Tokens::from(&s.tokens),
            duration_ms: s.duration_ms,
            status: serde_name(&s.status),
            subtree_cost_usd: opt_usd(s.subtree_cost_usd),
            carried_context_cost_usd: opt_usd(s.carried_context_cost_usd),
            wasted_cost_usd: opt_usd(s.wasted_cost_usd),
            verdict: s.verdict.as_str().to_owned(),
            redundant: s.redundant,
            reason: s.reason.clone(),
            evidence: s.evidence.as_ref().map(serde_name),
            confirmed_by: s.confirmed_by.clone(),
            source_ref: s.source_ref.clone(),
        }
    }
}

/// A compiled TraceCard (immutable). Money is an exact decimal string everywhere
/// (`"0.012345"`); {@link usdToNumber} or `totalCostUsdNumber` give a `number`.
#[napi]
pub struct TraceCard {
    inner: Arc<CoreCard>,
}

impl TraceCard {
    /// Wrap a core card.
    pub fn new(card: CoreCard) -> Self {
        TraceCard {
            inner: Arc::new(card),
        }
    }
}

#[napi]
impl TraceCard {
    /// The card schema version.
    #[napi(catch_unwind, getter)]
    pub fn schema_version(&self) -> String {
        self.inner.schema_version.clone()
    }

    /// The session id.
    #[napi(catch_unwind, getter)]
    pub fn session_id(&self) -> String {
        self.inner.session_id.clone()
    }

    /// The importer that produced the trace.
    #[napi(catch_unwind, getter)]
    pub fn format(&self) -> String {
        self.inner.source.format.clone()
    }

    /// `success`, `failure` or `unknown`.
    #[napi(catch_unwind, getter)]
    pub fn outcome(&self) -> String {
        serde_name(&self.inner.outcome)
    }

    /// Why the outcome is what it is.
    #[napi(catch_unwind, getter)]
    pub fn outcome_reason(&self) -> Option<String> {
        self.inner.outcome_reason.clone()
    }

    /// Sum of every known step cost, as an exact decimal string.
    #[napi(catch_unwind, getter)]
    pub fn total_cost_usd(&self) -> String {
        usd(self.inner.total_cost_usd)
    }

    /// `totalCostUsd` as a `number` (rounded to the nearest double).
    #[napi(catch_unwind, getter)]
    pub fn total_cost_usd_number(&self) -> f64 {
        self.inner.total_cost_usd.to_f64()
    }

    /// Sum of the own cost of the steps flagged redundant.
    #[napi(catch_unwind, getter)]
    pub fn redundant_cost_usd(&self) -> String {
        usd(self.inner.redundant_cost_usd)
    }

    /// Own + carried-context cost of every redundant step.
    #[napi(catch_unwind, getter)]
    pub fn wasted_cost_usd(&self) -> String {
        usd(self.inner.wasted_cost_usd)
    }

    /// Own + carried-context cost of every unproven step: the open question.
    #[napi(catch_unwind, getter)]
    pub fn unproven_cost_usd(&self) -> String {
        usd(self.inner.unproven_cost_usd)
    }

    /// The cost the source reported for the session.
    #[napi(catch_unwind, getter)]
    pub fn reported_cost_usd(&self) -> Option<String> {
        opt_usd(self.inner.reported_cost_usd)
    }

    /// Computed minus reported cost, when the source reported one.
    #[napi(catch_unwind, getter)]
    pub fn cost_delta_usd(&self) -> Option<String> {
        opt_usd(self.inner.cost_delta_usd)
    }

    /// Replays the replayer ran (`null` without a replayer).
    #[napi(catch_unwind, getter)]
    pub fn replays_used(&self) -> Option<f64> {
        self.inner.replays_used.map(|n| n as f64)
    }

    /// Steps whose cost is unknown (model not in the price table).
    #[napi(catch_unwind, getter)]
    pub fn unpriced_steps(&self) -> f64 {
        self.inner.unpriced_steps as f64
    }

    /// The price table used (`bundled 2026-11-24`, a file name).
    #[napi(catch_unwind, getter)]
    pub fn prices(&self) -> String {
        self.inner.prices.clone()
    }

    /// Sum of every step's tokens.
    #[napi(catch_unwind, getter)]
    pub fn tokens(&self) -> Tokens {
        Tokens::from(&self.inner.tokens)
    }

    /// Number of steps.
    #[napi(catch_unwind, getter)]
    pub fn length(&self) -> u32 {
        u32::try_from(self.inner.steps.len()).unwrap_or(u32::MAX)
    }

    /// Every step, in order (a fresh copy on each access).
    #[napi(catch_unwind, getter)]
    pub fn steps(&self) -> Vec<CardStep> {
        self.inner.steps.iter().map(CardStep::from).collect()
    }

    /// The steps flagged redundant.
    #[napi(catch_unwind, getter)]
    pub fn redundant_steps(&self) -> Vec<CardStep> {
        self.inner
            .steps
            .iter()
            .filter(|s| s.redundant)
            .map(CardStep::from)
            .collect()
    }

    /// The steps left open (`verdict === "unproven"`).
    #[napi(catch_unwind, getter)]
    pub fn unproven_steps(&self) -> Vec<CardStep> {
        self.inner
            .steps
            .iter()
            .filter(|s| s.verdict == Verdict::Unproven)
            .map(CardStep::from)
            .collect()
    }

    /// One step by id, `null` when there is none.
    #[napi(catch_unwind)]
    pub fn step(&self, id: u32) -> Option<CardStep> {
        self.inner.step(StepId(id)).map(CardStep::from)
    }

    /// Warnings (data, never thrown): `{code, message, step?, ...}` objects.
    #[napi(
        catch_unwind,
        getter,
        ts_return_type = "Array<Record<string, unknown>>"
    )]
    pub fn warnings(&self) -> serde_json::Value {
        serde_json::to_value(&self.inner.warnings).unwrap_or_default()
    }

    /// Cost and counts rolled up by tool, by model and by agent.
    #[napi(catch_unwind, getter, ts_return_type = "Record<string, unknown>")]
    pub fn rollups(&self) -> serde_json::Value {
        serde_json::to_value(&self.inner.rollups).unwrap_or_default()
    }

    /// The card as YAML (deterministic).
    #[napi(catch_unwind)]
    pub fn to_yaml(&self, env: Env) -> Result<String> {
        self.inner.to_yaml().js(&env)
    }

    /// The card as pretty JSON (deterministic). Money stays exact: parse it with a
    /// decimal-aware parser, or read the string fields of this object instead.
    #[napi(catch_unwind)]
    pub fn to_json(&self, env: Env) -> Result<String> {
        self.inner.to_json().js(&env)
    }

    /// The card as a self-contained HTML page (the `tracecard report` page of one
    /// session, steps by order; no prompt or tool content unless `includeContent`).
    #[napi(catch_unwind)]
    pub fn to_html(&self, options: Option<crate::report::HtmlOptions>) -> String {
        crate::report::card_html(&self.inner, options)
    }

    /// Parse a card from JSON text.
    #[napi(catch_unwind, factory, configurable)]
    pub fn from_json(env: Env, text: String) -> Result<TraceCard> {
        CoreCard::from_json(&text).map(TraceCard::new).js(&env)
    }

    /// Parse a card from YAML text.
    #[napi(catch_unwind, factory, configurable)]
    pub fn from_yaml(env: Env, text: String) -> Result<TraceCard> {
        CoreCard::from_yaml(&text).map(TraceCard::new).js(&env)
    }

    /// The JSON Schema of the card format (JSON text).
    #[napi(catch_unwind, configurable)]
    pub fn json_schema() -> String {
        CoreCard::json_schema()
    }

    /// Whether `other` is the same card (field by field).
    #[napi(catch_unwind)]
    pub fn equals(&self, other: &TraceCard) -> bool {
        *self.inner == *other.inner
    }
}
