//! The TraceCard: a compact, deterministic summary of one session.
//!
//! A card is derived from a [`crate::Trace`] by [`crate::Compiler::compile`]. It carries no prompt
//! or tool content: only ids, kinds, names, tokens, costs, the redundancy verdicts
//! and their reasons. Same trace + same prices ⇒ byte-identical card.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::analysis::{EvidenceLevel, Verdict};
use crate::model::{
    OracleEvidence, OutcomeStatus, StepId, StepKind, StepStatus, TokenUsage, Warning,
};
use crate::money::Usd;
use crate::{Error, Result};

/// Version tag written in every card (`schema_version`). Bumped on any breaking
/// change of the card's shape.
pub const CARD_SCHEMA_VERSION: &str = "tracecard/1";

/// Where a step's `cost_usd` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CostSource {
    /// Priced from the step's tokens with the price table.
    Computed,
    /// Taken from the cost the source reported (the model is not in the table).
    Reported,
    /// The step consumes no model tokens (a tool call, a user turn): zero by nature.
    Free,
    /// Unknown: tokens without a known price, or a model call without usage. The
    /// cost is `null`, and a warning says why.
    Unknown,
}

/// One step on a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CardStep {
    /// Position in the trace (1-based, execution order).
    pub id: StepId,
    /// Step kind.
    pub kind: StepKind,
    /// The sub-agent spawn this step runs under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<StepId>,
    /// Tool name (tool steps, spawns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Model (LLM calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Agent that ran the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// This step's own cost; `null` when unknown (see `cost_source`).
    pub cost_usd: Option<Usd>,
    /// Where `cost_usd` comes from.
    pub cost_source: CostSource,
    /// The cost the source reported, shown beside the computed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_cost_usd: Option<Usd>,
    /// Price-table entry used (`claude-sonnet-4-5`, `claude-sonnet-4-5@long_context`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priced_as: Option<String>,
    /// This step's own tokens.
    #[serde(default, skip_serializing_if = "TokenUsage::is_empty")]
    pub tokens: TokenUsage,
    /// Wall-clock duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// `error` when the step failed.
    #[serde(default, skip_serializing_if = "is_ok")]
    pub status: StepStatus,
    /// Sub-agent spawns: this step plus every step under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtree_cost_usd: Option<Usd>,
    /// Cost of carrying this step's output in the context of every later model call
    /// (re-sent or cache-read) until a compaction drops it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_context_cost_usd: Option<Usd>,
    /// For redundant steps: what removing it saves, its own cost plus the cost of
    /// carrying its output in later calls. The cost-weighted figure costcraft
    /// ranks prune candidates by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasted_cost_usd: Option<Usd>,
    /// `needed` (its output reaches the outcome), `redundant` (proven waste) or
    /// `unproven` (delivered to a live decision; nothing shows whether it mattered).
    #[serde(default)]
    pub verdict: Verdict,
    /// `verdict == redundant`: the step is proven waste (the seed's flag).
    pub redundant: bool,
    /// Why it is redundant or unproven (or why a replay kept it), in plain words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Strongest evidence the verdict rests on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceLevel>,
    /// What confirmed the verdict: `dataflow` for the analysis's own flags,
    /// `replay:<name>` when a replayer tested the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_by: Option<String>,
    /// The step's id in the original file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
}

impl CardStep {
    /// Redundant only because a replay kept the outcome without it, while the
    /// dataflow saw its output reach a live decision: the waste held in that
    /// session, but the decision may have coincided with its default.
    pub fn shown_only_by_replay(&self) -> bool {
        self.redundant && self.reason.as_deref() == Some(crate::analysis::KEPT_UNDER_REPLAY)
    }
}

fn is_ok(s: &StepStatus) -> bool {
    *s == StepStatus::Ok
}

/// Totals for one model, tool or agent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rollup {
    /// Number of steps.
    pub steps: u64,
    /// Sum of known step costs.
    pub cost_usd: Usd,
    /// Sum of the carried-context cost of these steps' outputs.
    #[serde(default, skip_serializing_if = "is_zero_usd")]
    pub carried_context_cost_usd: Usd,
    /// Sum of tokens.
    #[serde(default, skip_serializing_if = "TokenUsage::is_empty")]
    pub tokens: TokenUsage,
    /// Steps flagged redundant.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub redundant_steps: u64,
}

fn is_zero_usd(u: &Usd) -> bool {
    *u == Usd::ZERO
}

fn is_zero_u64(u: &u64) -> bool {
    *u == 0
}

/// Per-model, per-tool and per-agent totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rollups {
    /// By model name (LLM calls).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_model: BTreeMap<String, Rollup>,
    /// By tool name (tool steps and spawns).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_tool: BTreeMap<String, Rollup>,
    /// By agent (steps that name one).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_agent: BTreeMap<String, Rollup>,
}

/// Where the card's trace came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CardSource {
    /// Importer (`claude_code`, `otlp`, `native`, …).
    pub format: String,
    /// Files read, each relative to the parent of the input argument it was found
    /// under, `/`-separated (`logs/proj/x.jsonl` for `compile /a/b/logs`, `x.jsonl`
    /// for a file argument): no path of the machine that made the card.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Whether the source carried content (`full`, `hashed`, `none`).
    pub content: crate::model::ContentCapture,
}

/// The TraceCard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TraceCard {
    /// Always [`CARD_SCHEMA_VERSION`].
    pub schema_version: String,
    /// Session id.
    pub session_id: String,
    /// Provenance.
    pub source: CardSource,
    /// Success, failure or unknown.
    pub outcome: OutcomeStatus,
    /// Why (exit status, verifier summary), when the source says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_reason: Option<String>,
    /// Verifier verdicts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oracle: Vec<OracleEvidence>,
    /// Sum of every known step cost (exactly the sum of `steps[].cost_usd`).
    pub total_cost_usd: Usd,
    /// Steps whose cost is unknown (not included in the total).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub unpriced_steps: u64,
    /// Cost the source reported for the session (or the sum of its step reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_cost_usd: Option<Usd>,
    /// `total_cost_usd - reported_cost_usd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_delta_usd: Option<Usd>,
    /// Price table used.
    pub prices: String,
    /// Sum of every step's tokens.
    #[serde(default, skip_serializing_if = "TokenUsage::is_empty")]
    pub tokens: TokenUsage,
    /// Sum of the own cost of the steps flagged redundant.
    pub redundant_cost_usd: Usd,
    /// Sum of `wasted_cost_usd` (own + carried-context cost of redundant steps).
    #[serde(default, skip_serializing_if = "is_zero_usd")]
    pub wasted_cost_usd: Usd,
    /// Own + carried-context cost of the `unproven` steps: the size of the open
    /// question a replay would settle.
    #[serde(default, skip_serializing_if = "is_zero_usd")]
    pub unproven_cost_usd: Usd,
    /// Counterfactual replays a user replayer ran for this card (the baseline
    /// included); absent when no replayer was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replays_used: Option<u64>,
    /// Per-model, per-tool and per-agent totals.
    #[serde(default)]
    pub rollups: Rollups,
    /// Steps in execution order.
    pub steps: Vec<CardStep>,
    /// What was skipped, guessed or unpriced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

impl TraceCard {
    /// Serialise as YAML (block style, no folding, deterministic).
    pub fn to_yaml(&self) -> Result<String> {
        to_yaml(self, "card")
    }

    /// Serialise as pretty JSON (deterministic).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| Error::serialize("card", e))
    }

    /// Parse a card from YAML.
    pub fn from_yaml(text: &str) -> Result<TraceCard> {
        serde_saphyr::from_str(text).map_err(|e| Error::parse("<card>", None, None, e.to_string()))
    }

    /// Parse a card from JSON.
    pub fn from_json(text: &str) -> Result<TraceCard> {
        serde_json::from_str(text).map_err(|e| Error::from_json("<card>", None, e))
    }

    /// The JSON Schema of the card format (draft 2020-12), pretty-printed.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(TraceCard);
        let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The step with `id`.
    pub fn step(&self, id: StepId) -> Option<&CardStep> {
        self.steps.get(id.index()).filter(|s| s.id == id)
    }
}

/// YAML with the project's options: no folded long lines (diff-stable output).
pub(crate) fn to_yaml<T: Serialize>(v: &T, what: &str) -> Result<String> {
    let mut opts = serde_saphyr::SerializerOptions::default();
    opts.prefer_block_scalars = false;
    serde_saphyr::to_string_with_options(v, opts).map_err(|e| Error::serialize(what, e))
}

/// Per-model, per-tool and per-agent totals of a card's steps.
pub(crate) fn rollups(card: &TraceCard) -> Rollups {
    let mut r = Rollups::default();
    for s in &card.steps {
        let add = |m: &mut BTreeMap<String, Rollup>, key: &str| {
            let e = m.entry(key.to_owned()).or_default();
            e.steps += 1;
            e.cost_usd += s.cost_usd.unwrap_or(Usd::ZERO);
            e.carried_context_cost_usd += s.carried_context_cost_usd.unwrap_or(Usd::ZERO);
            e.tokens = e.tokens.add(&s.tokens);
            e.redundant_steps += u64::from(s.redundant);
        };
        if let Some(m) = &s.model {
            add(&mut r.by_model, m);
        }
        if let Some(t) = &s.tool {
            add(&mut r.by_tool, t);
        }
        if let Some(a) = &s.agent {
            add(&mut r.by_agent, a);
        }
    }
    r
}
