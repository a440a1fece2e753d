//! The patch taxonomy (prune, repair, preserve), how patches are derived from one
//! compiled session, and the validation that refuses every patch breaking the
//! seed's rules.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tracecard_core::analysis::{Analysis, Sink};
use tracecard_core::{OutcomeStatus, StepId, StepKind, TraceCard, Usd, Verdict};

use crate::Session;
use crate::policy::Policy;

/// The three patch types.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PatchKind {
    /// Remove a redundant, high-cost step; defended by a counterfactual.
    Prune,
    /// Fix what a verifier of a failed session named.
    Repair,
    /// Keep the load-bearing chain of a successful session (quarantined).
    Preserve,
}

impl PatchKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchKind::Prune => "prune",
            PatchKind::Repair => "repair",
            PatchKind::Preserve => "preserve",
        }
    }
}

/// One patch, in the seed's shape (`patch_kind`, `target_step`, `counterfactual`,
/// `expected_savings_usd`) plus its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Patch {
    /// Prune, repair or preserve.
    pub patch_kind: PatchKind,
    /// The session it comes from.
    pub session_id: String,
    /// The step it is about (1-based card id).
    pub target_step: StepId,
    /// The target step's id in the original trace file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// Every step the patch covers: a prune's removal unit (a model call and the
    /// tools it requested, a sub-agent and its steps), a repair's localised steps,
    /// a preserve's load-bearing chain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepId>,
    /// Prune: the counterfactual, from the replay result (or the dataflow reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterfactual: Option<String>,
    /// Repair: the fix, grounded in the verifier's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Repair: the verifier whose failure it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier: Option<String>,
    /// Preserve: the positive claim about why the session succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// What applying the patch saves: own + carried-context cost of the removed
    /// steps (zero for repair and preserve).
    pub expected_savings_usd: Usd,
    /// The session's total cost.
    pub session_cost_usd: Usd,
    /// The evidence, one line per step or verifier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// `dataflow` or `replay:<name>` (prune); the verifier (repair); `outcome`
    /// (preserve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_by: Option<String>,
    /// Preserve patches are quarantined until an evaluation passes them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quarantined: bool,
}

/// Why a patch was refused. Stable snake_case codes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// A prune whose target step is not `verdict: redundant`.
    PruneNotRedundant,
    /// A prune saving less than `min_savings_usd`.
    PruneBelowCostThreshold,
    /// A prune saving less than `min_session_share` of its session's cost.
    PruneBelowShareThreshold,
    /// A prune confirmed only by dataflow under `require_replay`.
    PruneNotReplayed,
    /// A repair without a failing verifier verdict to ground it.
    RepairWithoutOracleEvidence,
    /// A preserve from a session that did not succeed.
    PreserveFromFailedSession,
    /// The patch names a step or session the card does not have.
    UnknownTarget,
}

impl RefusalReason {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::PruneNotRedundant => "prune_not_redundant",
            RefusalReason::PruneBelowCostThreshold => "prune_below_cost_threshold",
            RefusalReason::PruneBelowShareThreshold => "prune_below_share_threshold",
            RefusalReason::PruneNotReplayed => "prune_not_replayed",
            RefusalReason::RepairWithoutOracleEvidence => "repair_without_oracle_evidence",
            RefusalReason::PreserveFromFailedSession => "preserve_from_failed_session",
            RefusalReason::UnknownTarget => "unknown_target",
        }
    }
}

/// A refusal: the reason code and the specifics in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Refusal {
    /// The rule the patch breaks.
    pub reason: RefusalReason,
    /// The specifics (the verdict, the amounts, the threshold).
    pub message: String,
}

/// A refused patch and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RefusedPatch {
    /// Why.
    pub refusal: Refusal,
    /// The patch.
    pub patch: Patch,
}

/// Patches kept and refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PatchSet {
    /// Patches that pass validation.
    pub kept: Vec<Patch>,
    /// Patches refused, each with its reason.
    pub refused: Vec<RefusedPatch>,
}

fn refuse(reason: RefusalReason, message: String) -> Result<(), Refusal> {
    Err(Refusal { reason, message })
}

/// Check `patch` against the card of its session under `policy`.
pub fn validate(patch: &Patch, card: &TraceCard, policy: &Policy) -> Result<(), Refusal> {
    if card.session_id != patch.session_id {
        return refuse(
            RefusalReason::UnknownTarget,
            format!(
                "patch names session {} but the card is {}",
                patch.session_id, card.session_id
            ),
        );
    }
    let Some(step) = card.step(patch.target_step) else {
        return refuse(
            RefusalReason::UnknownTarget,
            format!(
                "session {} has no step {}",
                card.session_id, patch.target_step
            ),
        );
    };
    match patch.patch_kind {
        PatchKind::Prune => {
            let ids: Vec<StepId> = if patch.steps.is_empty() {
                vec![patch.target_step]
            } else {
                patch.steps.clone()
            };
            for id in &ids {
                match card.step(*id) {
                    None => {
                        return refuse(
                            RefusalReason::UnknownTarget,
                            format!("session {} has no step {id}", card.session_id),
                        );
                    }
                    Some(s) if s.verdict != Verdict::Redundant => {
                        return refuse(
                            RefusalReason::PruneNotRedundant,
                            format!(
                                "step {id} is `{}`, not `redundant`: only proven waste may be pruned",
                                s.verdict.as_str()
                            ),
                        );
                    }
                    _ => {}
                }
            }
            let savings = patch.expected_savings_usd;
            if savings < policy.min_savings_usd {
                return refuse(
                    RefusalReason::PruneBelowCostThreshold,
                    format!(
                        "saves ${savings}, below the ${} threshold",
                        policy.min_savings_usd
                    ),
                );
            }
            let share = savings.ratio(card.total_cost_usd).unwrap_or(1.0);
            if share < policy.min_session_share {
                return refuse(
                    RefusalReason::PruneBelowShareThreshold,
                    format!(
                        "saves {:.2}% of the session's ${}, below the {:.2}% threshold",
                        share * 100.0,
                        card.total_cost_usd,
                        policy.min_session_share * 100.0
                    ),
                );
            }
            if policy.require_replay {
                let replayed = ids.iter().all(|id| {
                    card.step(*id)
                        .and_then(|s| s.confirmed_by.as_deref())
                        .is_some_and(|c| c.starts_with("replay:"))
                });
                if !replayed {
                    return refuse(
                        RefusalReason::PruneNotReplayed,
                        "confirmed by dataflow only; --require-replay asks for a counterfactual replay".into(),
                    );
                }
            }
            let _ = step;
            Ok(())
        }
        PatchKind::Repair => {
            let failing = card.oracle.iter().any(|e| e.passed == Some(false));
            if card.outcome != OutcomeStatus::Failure || !failing {
                return refuse(
                    RefusalReason::RepairWithoutOracleEvidence,
                    format!(
                        "session {} is `{}` with {} failing verifier verdict(s): a repair must be grounded in a verifier's failure",
                        card.session_id,
                        outcome_str(card.outcome),
                        card.oracle
                            .iter()
                            .filter(|e| e.passed == Some(false))
                            .count()
                    ),
                );
            }
            if let Some(v) = &patch.verifier {
                if !card
                    .oracle
                    .iter()
                    .any(|e| &e.verifier == v && e.passed == Some(false))
                {
                    return refuse(
                        RefusalReason::RepairWithoutOracleEvidence,
                        format!("verifier `{v}` did not fail in session {}", card.session_id),
                    );
                }
            }
            Ok(())
        }
        PatchKind::Preserve => {
            if card.outcome != OutcomeStatus::Success {
                return refuse(
                    RefusalReason::PreserveFromFailedSession,
                    format!(
                        "session {} is `{}`: only a successful session can say what to keep",
                        card.session_id,
                        outcome_str(card.outcome)
                    ),
                );
            }
            Ok(())
        }
    }
}

pub(crate) fn outcome_str(s: OutcomeStatus) -> &'static str {
    match s {
        OutcomeStatus::Success => "success",
        OutcomeStatus::Failure => "failure",
        OutcomeStatus::Unknown => "unknown",
    }
}

fn step_words(card: &TraceCard, id: StepId) -> String {
    match card.step(id) {
        Some(s) => {
            let name = s.tool.as_deref().or(s.model.as_deref()).unwrap_or("");
            format!("step {id} ({} {name})", s.kind.as_str())
        }
        None => format!("step {id}"),
    }
}

/// Every candidate patch of one compiled session (not yet validated): a prune per
/// removal unit of redundant steps, a repair per failing verifier of a failed
/// session, a preserve (quarantined) for a successful one.
pub fn candidates(session: &Session, analysis: &Analysis) -> Vec<Patch> {
    let card = &session.card;
    let trace = &session.trace;
    let mut out = Vec::new();
    let base = |kind: PatchKind, target: StepId| Patch {
        patch_kind: kind,
        session_id: card.session_id.clone(),
        target_step: target,
        source_ref: card.step(target).and_then(|s| s.source_ref.clone()),
        steps: Vec::new(),
        counterfactual: None,
        fix: None,
        verifier: None,
        claim: None,
        expected_savings_usd: Usd::ZERO,
        session_cost_usd: card.total_cost_usd,
        evidence: Vec::new(),
        confirmed_by: None,
        quarantined: false,
    };

    // Prune: one patch per removal unit.
    let flagged: Vec<StepId> = card
        .steps
        .iter()
        .filter(|s| s.verdict == Verdict::Redundant)
        .map(|s| s.id)
        .collect();
    for unit in analysis.removal_units(&flagged) {
        let step = |id: &StepId| card.step(*id);
        let target = unit
            .iter()
            .find(|id| step(id).is_some_and(|s| s.kind == StepKind::SubagentSpawn))
            .or_else(|| {
                unit.iter()
                    .find(|id| step(id).is_some_and(|s| s.kind == StepKind::ToolUse))
            })
            .or(unit.first())
            .copied();
        let Some(target) = target else { continue };
        let mut p = base(PatchKind::Prune, target);
        p.expected_savings_usd = unit
            .iter()
            .filter_map(|id| step(id).and_then(|s| s.wasted_cost_usd))
            .sum();
        let replayers: Vec<&str> = unit
            .iter()
            .filter_map(|id| step(id).and_then(|s| s.confirmed_by.as_deref()))
            .collect();
        let replay = replayers
            .iter()
            .all(|c| c.starts_with("replay:"))
            .then(|| replayers.first().copied())
            .flatten();
        p.confirmed_by = Some(replay.unwrap_or("dataflow").to_string());
        for id in &unit {
            if let Some(s) = step(id) {
                p.evidence.push(format!(
                    "{}: {} [{}; {}]",
                    step_words(card, *id),
                    s.reason.as_deref().unwrap_or("redundant"),
                    s.evidence.map(|e| e.as_str()).unwrap_or("-"),
                    s.confirmed_by.as_deref().unwrap_or("dataflow")
                ));
            }
        }
        let ids = unit
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let own: Usd = unit
            .iter()
            .filter_map(|id| step(id).and_then(|s| s.cost_usd))
            .sum();
        let carried = p.expected_savings_usd - own;
        let why = step(&target)
            .and_then(|s| s.reason.clone())
            .unwrap_or_else(|| "redundant".into());
        p.counterfactual = Some(match replay {
            Some(r) => format!(
                "Replay of session {} minus step(s) {ids} ({r}) produced the same outcome ({}, {} verifier verdict(s) unchanged). {}: {why}. Removing it saves ${own} of its own cost and ${carried} of carried context.",
                card.session_id,
                outcome_str(card.outcome),
                card.oracle.len(),
                step_words(card, target)
            ),
            None => format!(
                "Dataflow only (no replay): in session {}, no evidence path leads from step(s) {ids} to the outcome. {}: {why}. Removing it would save ${own} of its own cost and ${carried} of carried context. Not confirmed by a replay: weaker, refused under --require-replay.",
                card.session_id,
                step_words(card, target)
            ),
        });
        p.steps = unit;
        out.push(p);
    }

    // Repair: failed sessions, one per failing verifier.
    if card.outcome == OutcomeStatus::Failure {
        let failing: Vec<_> = card
            .oracle
            .iter()
            .filter(|e| e.passed == Some(false))
            .collect();
        let oracle_producers: Vec<StepId> = {
            let mut v: Vec<StepId> = analysis
                .edges
                .iter()
                .filter(|e| e.consumer().is_none() && e.sink == Some(Sink::Oracle))
                .map(|e| e.producer())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let final_step = trace.outcome.final_step;
        if failing.is_empty() {
            let target =
                final_step.unwrap_or(StepId::from_index(card.steps.len().saturating_sub(1)));
            let mut p = base(PatchKind::Repair, target);
            p.fix = Some("no verifier message to ground a fix in".into());
            out.push(p);
        }
        for ev in failing {
            let msg = ev.message.clone().unwrap_or_default();
            // Localise: the steps the verifier's artifacts or message name, else
            // the steps whose output reaches the oracle, else the final answer.
            let mut steps: Vec<StepId> = trace
                .steps
                .iter()
                .filter(|s| {
                    s.links.writes.iter().any(|w| {
                        ev.artifacts.iter().any(|a| a == w)
                            || (!msg.is_empty() && msg.contains(w.as_str()))
                    })
                })
                .map(|s| s.id)
                .collect();
            if steps.is_empty() {
                steps = oracle_producers.clone();
            }
            if steps.is_empty() {
                steps.extend(final_step);
            }
            let Some(&target) = steps.last() else {
                continue;
            };
            let mut p = base(PatchKind::Repair, target);
            p.verifier = Some(ev.verifier.clone());
            p.confirmed_by = Some(format!("oracle:{}", ev.verifier));
            p.fix = Some(format!(
                "`{}` failed: \"{}\". Before finishing, redo {} so that this check passes, and verify it the way `{}` does.",
                ev.verifier,
                msg.trim(),
                step_words(card, target),
                ev.verifier
            ));
            p.evidence
                .push(format!("{} passed=false: {}", ev.verifier, msg.trim()));
            for id in &steps {
                p.evidence
                    .push(format!("localised to {}", step_words(card, *id)));
            }
            p.steps = steps;
            out.push(p);
        }
    }

    // Preserve: the load-bearing chain of a successful session.
    if card.outcome == OutcomeStatus::Success {
        let chain: Vec<StepId> = card
            .steps
            .iter()
            .filter(|s| {
                s.verdict == Verdict::Needed
                    && matches!(s.kind, StepKind::ToolUse | StepKind::SubagentSpawn)
                    && analysis.is_live(s.id)
            })
            .map(|s| s.id)
            .collect();
        if let Some(&target) = trace.outcome.final_step.as_ref().or(chain.last()) {
            let mut p = base(PatchKind::Preserve, target);
            p.claim = Some(format!(
                "Session {} succeeded through {} load-bearing tool step(s): {}.",
                card.session_id,
                chain.len(),
                chain
                    .iter()
                    .map(|id| step_words(card, *id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            p.confirmed_by = Some("outcome".into());
            p.evidence = card
                .oracle
                .iter()
                .map(|e| {
                    format!(
                        "{} passed={}",
                        e.verifier,
                        e.passed.map(|b| b.to_string()).unwrap_or("-".into())
                    )
                })
                .collect();
            p.quarantined = true;
            p.steps = chain;
            out.push(p);
        }
    }
    out
}

/// Derive and validate the patches of `session` under `policy`.
pub fn patches(session: &Session, analysis: &Analysis, policy: &Policy) -> PatchSet {
    let mut set = PatchSet::default();
    for p in candidates(session, analysis) {
        match validate(&p, &session.card, policy) {
            Ok(()) => set.kept.push(p),
            Err(refusal) => set.refused.push(RefusedPatch { refusal, patch: p }),
        }
    }
    set
}
