//! The TraceCard: a compact, deterministic summary of one session.
//!
//! A card is derived from a [`Trace`] by [`Compiler::compile`]. It carries no prompt
//! or tool content: only ids, kinds, names, tokens, costs, the redundancy verdicts
//! and their reasons. Same trace + same prices ⇒ byte-identical card.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::analysis::{self, Analysis, EvidenceLevel, Replayer, Verdict};
use crate::cost::PriceTable;
use crate::model::{
    OracleEvidence, OutcomeStatus, StepId, StepKind, StepStatus, TokenUsage, Trace, Warning,
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
    /// Files read.
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
            .map_err(|e| Error::Serialize {
                what: "card".into(),
                message: e.to_string(),
            })
    }

    /// Parse a card from YAML.
    pub fn from_yaml(text: &str) -> Result<TraceCard> {
        serde_saphyr::from_str(text).map_err(|e| Error::parse("<card>", None, None, e.to_string()))
    }

    /// Parse a card from JSON.
    pub fn from_json(text: &str) -> Result<TraceCard> {
        serde_json::from_str(text).map_err(|e| Error::from_json("<card>", None, &e))
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
    serde_saphyr::to_string_with_options(v, opts).map_err(|e| Error::Serialize {
        what: what.into(),
        message: e.to_string(),
    })
}

/// Compiles traces into cards: prices every step, runs the redundancy analysis and,
/// when a replayer is given, confirms its flags by counterfactual replay.
pub struct Compiler<'a> {
    prices: &'a PriceTable,
    analyze: bool,
    replayer: Option<&'a dyn Replayer>,
    replay_budget: usize,
}

impl Default for Compiler<'static> {
    fn default() -> Self {
        Compiler::new()
    }
}

impl Compiler<'static> {
    /// A compiler with the bundled prices, analysis on, and the built-in dataflow
    /// replayer.
    pub fn new() -> Self {
        Compiler {
            prices: PriceTable::bundled(),
            analyze: true,
            replayer: None,
            replay_budget: analysis::DEFAULT_REPLAY_BUDGET,
        }
    }
}

impl<'a> Compiler<'a> {
    /// Use `prices` instead of the bundled table.
    pub fn prices<'b>(self, prices: &'b PriceTable) -> Compiler<'b>
    where
        'a: 'b,
    {
        Compiler {
            prices,
            analyze: self.analyze,
            replayer: self.replayer,
            replay_budget: self.replay_budget,
        }
    }

    /// Turn the redundancy analysis off (every step `verdict: needed`).
    pub fn analyze(mut self, on: bool) -> Self {
        self.analyze = on;
        self
    }

    /// Confirm flags with `replayer` (in addition to the built-in dataflow replay).
    pub fn replayer<'b>(self, replayer: &'b dyn Replayer) -> Compiler<'b>
    where
        'a: 'b,
    {
        Compiler {
            prices: self.prices,
            analyze: self.analyze,
            replayer: Some(replayer),
            replay_budget: self.replay_budget,
        }
    }

    /// Replays per session the replayer may run (the baseline included; default
    /// [`analysis::DEFAULT_REPLAY_BUDGET`]).
    pub fn replay_budget(mut self, budget: usize) -> Self {
        self.replay_budget = budget;
        self
    }

    /// Compile `trace` into a card.
    pub fn compile(&self, trace: &Trace) -> Result<TraceCard> {
        trace.validate()?;
        let mut warnings = trace.warnings.clone();
        let mut steps = Vec::with_capacity(trace.steps.len());
        let mut unknown_models: BTreeMap<String, u64> = BTreeMap::new();
        let mut approx_models: BTreeMap<String, String> = BTreeMap::new();
        let mut no_usage = 0u64;
        for s in &trace.steps {
            let at = s.started_at.or(s.ended_at).or(trace.started_at);
            let priced = match (&s.model, s.tokens.is_empty()) {
                (Some(m), false) => self.prices.price(m, &s.tokens, at),
                _ => None,
            };
            if let (Some(p), Some(m)) = (&priced, &s.model) {
                if p.approximate {
                    approx_models.insert(m.clone(), p.model_id.clone());
                }
            }
            let billable = matches!(s.kind, StepKind::LlmCall) || !s.tokens.is_empty();
            let (cost, source) = match (&priced, s.reported_cost_usd) {
                (Some(p), _) => (Some(p.usd), CostSource::Computed),
                (None, Some(r)) => (Some(r), CostSource::Reported),
                (None, None) if !billable => (Some(Usd::ZERO), CostSource::Free),
                (None, None) => {
                    match &s.model {
                        Some(m) if !s.tokens.is_empty() => {
                            *unknown_models.entry(m.clone()).or_default() += 1
                        }
                        _ => no_usage += 1,
                    }
                    (None, CostSource::Unknown)
                }
            };
            steps.push(CardStep {
                id: s.id,
                kind: s.kind,
                parent: s.parent,
                tool: s.tool.clone(),
                model: s.model.clone(),
                agent: s.agent.clone(),
                cost_usd: cost,
                cost_source: source,
                reported_cost_usd: s.reported_cost_usd,
                priced_as: priced.as_ref().map(|p| match p.tier {
                    Some(t) => format!("{}@{t}", p.model_id),
                    None => p.model_id.clone(),
                }),
                tokens: s.tokens,
                duration_ms: s.duration_ms(),
                status: s.status,
                subtree_cost_usd: None,
                carried_context_cost_usd: None,
                wasted_cost_usd: None,
                verdict: Verdict::Needed,
                redundant: false,
                reason: None,
                evidence: None,
                confirmed_by: None,
                source_ref: s.source_ref.clone(),
            });
        }
        for (m, n) in &unknown_models {
            warnings.push(Warning::new(
                crate::model::WarningCode::UnknownModel,
                format!("model `{m}` is not in the price table ({}); {n} step(s) have an unknown cost (pass --prices FILE)", self.prices.name()),
            ));
        }
        for (m, id) in &approx_models {
            warnings.push(Warning::new(
                crate::model::WarningCode::ApproximatePrice,
                format!("model `{m}` priced as `{id}` (prefix match)"),
            ));
        }
        if no_usage > 0 {
            warnings.push(Warning::new(
                crate::model::WarningCode::NoUsage,
                format!("{no_usage} model call(s) carry no token usage and no reported cost; their cost is unknown"),
            ));
        }

        // Sub-agent subtree costs: children come after their spawn, so one reverse pass
        // accumulates each subtree into its parent.
        let mut subtree: Vec<Usd> = steps
            .iter()
            .map(|s| s.cost_usd.unwrap_or(Usd::ZERO))
            .collect();
        for i in (0..steps.len()).rev() {
            if let Some(p) = steps[i].parent {
                let add = subtree[i];
                subtree[p.index()] += add;
            }
        }
        for (i, s) in steps.iter_mut().enumerate() {
            if s.kind == StepKind::SubagentSpawn {
                s.subtree_cost_usd = Some(subtree[i]);
            }
        }

        let total: Usd = steps.iter().filter_map(|s| s.cost_usd).sum();
        let unpriced = steps.iter().filter(|s| s.cost_usd.is_none()).count() as u64;
        let step_reported: Vec<Usd> = trace
            .steps
            .iter()
            .filter_map(|s| s.reported_cost_usd)
            .collect();
        let reported = trace
            .reported_cost_usd
            .or_else(|| (!step_reported.is_empty()).then(|| step_reported.iter().sum()));
        let mut card = TraceCard {
            schema_version: CARD_SCHEMA_VERSION.into(),
            session_id: trace.session_id.clone(),
            source: CardSource {
                format: trace.source.format.clone(),
                files: trace.source.files.clone(),
                content: trace.source.content,
            },
            outcome: trace.outcome.status,
            outcome_reason: trace.outcome.reason.clone(),
            oracle: trace.outcome.evidence.clone(),
            total_cost_usd: total,
            unpriced_steps: unpriced,
            reported_cost_usd: reported,
            cost_delta_usd: reported.map(|r| total - r),
            prices: self.prices.name().to_owned(),
            tokens: trace.total_tokens(),
            redundant_cost_usd: Usd::ZERO,
            wasted_cost_usd: Usd::ZERO,
            unproven_cost_usd: Usd::ZERO,
            replays_used: None,
            rollups: Rollups::default(),
            steps,
            warnings,
        };
        if self.analyze {
            let analysis = Analysis::run(trace, self.prices)?;
            analysis::apply(
                &analysis,
                trace,
                &mut card,
                self.replayer,
                self.replay_budget,
            )?;
        }
        card.redundant_cost_usd = card
            .steps
            .iter()
            .filter(|s| s.redundant)
            .filter_map(|s| s.cost_usd)
            .sum();
        for st in card.steps.iter_mut() {
            st.wasted_cost_usd = st.redundant.then(|| {
                st.cost_usd.unwrap_or_default() + st.carried_context_cost_usd.unwrap_or_default()
            });
        }
        card.wasted_cost_usd = card.steps.iter().filter_map(|s| s.wasted_cost_usd).sum();
        card.unproven_cost_usd = card
            .steps
            .iter()
            .filter(|s| s.verdict == Verdict::Unproven)
            .map(|s| {
                s.cost_usd.unwrap_or_default() + s.carried_context_cost_usd.unwrap_or_default()
            })
            .sum();
        card.rollups = rollups(&card);
        Ok(card)
    }
}

fn rollups(card: &TraceCard) -> Rollups {
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
