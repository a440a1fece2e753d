//! Redundancy analysis: which steps' outputs never reached the outcome.
//!
//! The analysis builds a **dataflow graph** (on petgraph) whose nodes are the steps
//! plus one outcome sink, with an edge producer → consumer whenever there is
//! evidence that the consumer used the producer's output:
//!
//! - **ids**: `links.consumes` (a tool step uses the call that wrote its arguments; a
//!   sub-agent spawn uses the sub-agent's last step; recorder references);
//! - **artifacts**: reaching definitions over `links.reads`/`links.writes` (a write
//!   reaches the next read of the same artifact; a write overwritten before any read
//!   is a dead store; the final version of every artifact reaches the sink);
//! - **content**: a distinctive token (identifier, path, number…) of a step's output
//!   that reappears in a later step's output or tool arguments, attributed in one
//!   linear pass to the step that *first* introduced it in that agent's context
//!   ([`tokens`]). Tokens that several different outputs introduced are ambiguous:
//!   they are explained by a producer the consumer demonstrably used, or else
//!   credited to the first introducer.
//!
//! Presence in a later call's context (`links.context`) is **not** evidence of use;
//! it becomes an edge only when there is no content to check (the source carried
//! none), which keeps the verdict conservative.
//!
//! Sinks: the final answer, the answer of every user turn, the final version of every
//! artifact, whatever the oracle's message names, and tools that may change the
//! environment without declaring what they wrote. A step is **live** if it reaches a
//! sink; otherwise it is redundant, with a reason and the evidence level. Because
//! every producer of a live step is live, the flagged set is removable as a whole
//! (joint validity). A [`Replayer`] then confirms the flags by counterfactual replay.

mod graph;
pub(crate) mod tokens;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use graph::{Analysis, Edge, Sink, UnreadTool, Verdict};

use crate::card::TraceCard;
use crate::model::{Outcome, OutcomeStatus, StepId, Trace, Warning};
use crate::{Error, Result};

/// What a redundancy verdict rests on, weakest to strongest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceLevel {
    /// Only the structure of the trace (order, kinds, delivery); no content.
    Structure,
    /// Distinctive content of the output reappears (or does not) later.
    Content,
    /// Reaching definitions over files and other named artifacts.
    Artifacts,
    /// Explicit ids: tool-call ids, sub-agent links, recorder references.
    Ids,
    /// A counterfactual replay of the trace without the step.
    Replay,
}

impl EvidenceLevel {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceLevel::Structure => "structure",
            EvidenceLevel::Content => "content",
            EvidenceLevel::Artifacts => "artifacts",
            EvidenceLevel::Ids => "ids",
            EvidenceLevel::Replay => "replay",
        }
    }
}

/// A counterfactual replayer: given a trace and a set of steps to remove, say what
/// the outcome would be.
///
/// The built-in [`DataflowReplayer`] answers from the dataflow graph; the Python
/// and Node packages wrap user callables that really re-run an agent or a verifier.
pub trait Replayer: Send + Sync {
    /// Name recorded on the card (`confirmed_by`).
    fn name(&self) -> &str;

    /// The outcome of `trace` without the steps in `removed` (an empty `removed`
    /// asks for the baseline outcome under this replayer).
    fn replay(&self, trace: &Trace, removed: &[StepId]) -> Result<Outcome>;
}

/// The built-in replayer: the outcome survives exactly when no removed step is live
/// (every sink keeps all its producers).
#[derive(Debug, Clone, Copy, Default)]
pub struct DataflowReplayer;

impl Replayer for DataflowReplayer {
    fn name(&self) -> &str {
        "dataflow"
    }

    fn replay(&self, trace: &Trace, removed: &[StepId]) -> Result<Outcome> {
        let a = Analysis::run(trace, crate::PriceTable::bundled())?;
        match removed
            .iter()
            .find(|id| a.live.get(id.index()).copied().unwrap_or(false))
        {
            None => Ok(trace.outcome.clone()),
            Some(id) => Ok(Outcome {
                status: OutcomeStatus::Unknown,
                reason: Some(format!("step {id} reaches the outcome and was removed")),
                ..Outcome::default()
            }),
        }
    }
}

/// Whether two outcomes count as "the same" for a counterfactual: same status and
/// the same verdict from every verifier present in both.
pub fn same_outcome(a: &Outcome, b: &Outcome) -> bool {
    a.status == b.status
        && a.evidence.iter().all(|ea| {
            b.evidence
                .iter()
                .filter(|eb| eb.verifier == ea.verifier)
                .all(|eb| eb.passed == ea.passed)
        })
}

/// Copy the verdicts and attributed costs of `analysis` onto `card`, and confirm the
/// flags with the dataflow replay and, when given, `replayer`.
pub fn apply(
    analysis: &Analysis,
    trace: &Trace,
    card: &mut TraceCard,
    replayer: Option<&dyn Replayer>,
) -> Result<()> {
    for (i, s) in card.steps.iter_mut().enumerate() {
        let carried = analysis.carried[i];
        s.carried_context_cost_usd = (carried != crate::Usd::ZERO).then_some(carried);
        if let Some(v) = &analysis.verdicts[i] {
            s.redundant = true;
            s.reason = Some(v.reason.clone());
            s.evidence = Some(v.evidence);
            s.confirmed_by = Some("dataflow".into());
        }
    }
    if !analysis.content_checked {
        card.warnings.push(Warning::new(
            "no_content",
            "the source carries no tool or model content: redundancy is judged from ids, artifacts and structure only, and delivered outputs are assumed used",
        ));
    }
    if let Some(r) = replayer {
        confirm_with(r, trace, card, analysis)?;
    }
    Ok(())
}

fn flagged(card: &TraceCard) -> Vec<StepId> {
    card.steps
        .iter()
        .filter(|s| s.redundant)
        .map(|s| s.id)
        .collect()
}

fn unflag(card: &mut TraceCard, ids: &[StepId], why: String) {
    for id in ids {
        if let Some(s) = card.steps.get_mut(id.index()) {
            s.redundant = false;
            s.reason = None;
            s.evidence = None;
            s.confirmed_by = None;
        }
    }
    card.warnings.push(Warning::new("replay_rejected", why));
}

/// Confirm the card's flags with `r`: one joint replay; when that changes the
/// outcome, one replay per removal unit (flagged steps linked by evidence edges),
/// keeping only the units whose removal preserves the outcome, then a final joint
/// replay of what is left.
fn confirm_with(
    r: &dyn Replayer,
    trace: &Trace,
    card: &mut TraceCard,
    analysis: &Analysis,
) -> Result<()> {
    let all = flagged(card);
    if all.is_empty() {
        return Ok(());
    }
    let wrap = |e: Error| match e {
        e @ Error::Replay { .. } => e,
        other => Error::Replay {
            replayer: r.name().to_owned(),
            message: other.to_string(),
        },
    };
    let baseline = r.replay(trace, &[]).map_err(wrap)?;
    let mut confirmed = if same_outcome(&baseline, &r.replay(trace, &all).map_err(wrap)?) {
        all.clone()
    } else {
        let mut kept = Vec::new();
        for unit in analysis.removal_units(&all) {
            let out = r.replay(trace, &unit).map_err(wrap)?;
            if same_outcome(&baseline, &out) {
                kept.extend(unit);
            } else {
                unflag(
                    card,
                    &unit,
                    format!(
                        "replayer `{}`: removing steps {} changed the outcome; they are kept",
                        r.name(),
                        join(&unit)
                    ),
                );
            }
        }
        kept.sort();
        kept
    };
    if confirmed.len() != all.len() && !confirmed.is_empty() {
        let out = r.replay(trace, &confirmed).map_err(wrap)?;
        if !same_outcome(&baseline, &out) {
            unflag(
                card,
                &confirmed,
                format!(
                    "replayer `{}`: removing steps {} together changed the outcome; they are kept",
                    r.name(),
                    join(&confirmed)
                ),
            );
            confirmed.clear();
        }
    }
    for id in confirmed {
        if let Some(s) = card.steps.get_mut(id.index()) {
            s.confirmed_by = Some(r.name().to_owned());
            s.evidence = Some(EvidenceLevel::Replay);
        }
    }
    Ok(())
}

fn join(ids: &[StepId]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
