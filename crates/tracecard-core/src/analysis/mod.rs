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
//!   (`tokens`). Tokens that several different outputs introduced are ambiguous:
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

pub use graph::{Analysis, Edge, Explanation, Finding, Link, Sink, UnreadTool, Verdict};

use crate::model::{Outcome, OutcomeStatus, StepId, Trace, Warning};
use crate::{Error, Result};

/// The reason of a step that only a replay showed to be waste: the dataflow
/// found its output delivered to a live decision, and the outcome survived its
/// removal this time (`CardStep::shown_only_by_replay`).
pub const KEPT_UNDER_REPLAY: &str = "removing it kept the outcome under replay";

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

/// Replays per session a user replayer may run by default (the baseline included).
pub const DEFAULT_REPLAY_BUDGET: usize = 32;

/// The built-in replayer: the outcome survives exactly when every removed step is
/// proven redundant (a removed needed step breaks a path to a sink; a removed
/// unproven step may have mattered, so the answer is `unknown`).
#[derive(Debug, Clone, Copy, Default)]
pub struct DataflowReplayer;

impl Replayer for DataflowReplayer {
    fn name(&self) -> &str {
        "dataflow"
    }

    fn replay(&self, trace: &Trace, removed: &[StepId]) -> Result<Outcome> {
        let a = Analysis::run(trace, crate::PriceTable::bundled())?;
        let kept = |id: &&StepId| {
            a.findings
                .get(id.index())
                .is_some_and(|f| f.verdict != Verdict::Redundant)
        };
        match removed.iter().find(kept) {
            None => Ok(trace.outcome.clone()),
            Some(id) => Ok(Outcome {
                status: OutcomeStatus::Unknown,
                reason: Some(format!("step {id} is not proven redundant and was removed")),
                ..Outcome::default()
            }),
        }
    }
}

/// Whether two outcomes count as "the same" for a counterfactual: the same status
/// and the same multiset of (verifier, passed, message).
pub fn same_outcome(a: &Outcome, b: &Outcome) -> bool {
    fn key(o: &Outcome) -> Vec<(&str, Option<bool>, Option<&str>)> {
        let mut k: Vec<_> = o
            .evidence
            .iter()
            .map(|e| (e.verifier.as_str(), e.passed, e.message.as_deref()))
            .collect();
        k.sort_unstable();
        k
    }
    a.status == b.status && key(a) == key(b)
}

/// What [`Analysis::confirm`] did: replays run and the warnings to report.
#[derive(Debug, Clone, Default)]
pub struct ReplayReport {
    /// Replays run (the baseline included).
    pub replays_used: usize,
    /// `replay_rejected` / `replay_failed` warnings.
    pub warnings: Vec<Warning>,
}

impl Analysis {
    /// Test the redundant and unproven steps by counterfactual replay with
    /// `replayer`, under `budget` replays (see [`ReplayPlan`]), and update
    /// [`Analysis::findings`]: confirmed steps become `redundant`
    /// (`confirmed_by: replay:<name>`), rejected ones `needed`. `costs` (per step,
    /// own + carried) order the candidates. A replayer failure ([`Error::Replay`])
    /// leaves the dataflow verdicts in place and is reported as a `replay_failed`
    /// warning; any other error is returned.
    pub fn confirm(
        &mut self,
        trace: &Trace,
        replayer: &dyn Replayer,
        budget: usize,
        costs: &[crate::Usd],
    ) -> Result<ReplayReport> {
        let before = self.findings.clone();
        let mut plan = ReplayPlan {
            replayer,
            trace,
            baseline: Outcome::default(),
            used: 0,
            budget,
            warnings: Vec::new(),
        };
        let result = plan.run(self, costs);
        let mut report = ReplayReport {
            replays_used: plan.used,
            warnings: plan.warnings,
        };
        match result {
            Ok(()) => Ok(report),
            Err(e @ Error::Replay { .. }) => {
                self.findings = before;
                report.warnings = vec![Warning::new(
                    crate::model::WarningCode::ReplayFailed,
                    format!("{e}; the dataflow verdicts are kept"),
                )];
                Ok(report)
            }
            Err(e) => Err(e),
        }
    }
}

/// The replay strategy: test candidates (redundant and unproven steps, grouped in
/// removal units, most expensive first) with as few replays as possible.
///
/// It keeps a set of steps known to be removable *together* (`accepted`) and
/// tries to grow it: all the dataflow-redundant units at once, then the other
/// candidates in groups that all pass with probability about 0.6 under the
/// priors ([`Analysis::replay_priors`]). A group whose removal changes the outcome
/// is bisected (when its first half passes, the second half is known to fail and
/// is split without a replay); a single step that fails is `needed`
/// (`replay_rejected`). Units of several steps that fail are split in a second
/// pass, testing only their leaves (the tool calls a kept model call would still
/// make). Every accepted set was itself replayed, so the result is jointly
/// removable; what the budget did not reach keeps its dataflow verdict, except
/// dataflow flags no accepted replay covered: one last replay checks them with the
/// accepted set when budget is left, else they become `unproven`.
pub struct ReplayPlan<'a> {
    replayer: &'a dyn Replayer,
    trace: &'a Trace,
    baseline: Outcome,
    /// Replays run so far (the baseline included).
    pub used: usize,
    budget: usize,
    warnings: Vec<Warning>,
}

/// What is known, before [`ReplayPlan::settle`] tests a group, about removing it
/// together with the accepted set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Nothing: replay it.
    Untested,
    /// A replay showed (directly, or by deduction from two replays) that the outcome changes.
    Failed,
    /// Assumed to change the outcome (all the leaves of a unit that failed); never
    /// makes a step `needed`.
    AssumedFail,
}

/// What the replays decided.
#[derive(Default)]
struct Decided {
    accepted: Vec<StepId>,
    rejected: Vec<StepId>,
    /// Units of several steps whose removal changed the outcome, split later if
    /// the budget allows.
    failed_units: Vec<Vec<StepId>>,
    /// Whether failing units are split now (second pass) or deferred (first pass).
    split_units: bool,
}

impl ReplayPlan<'_> {
    fn wrap(&self, e: Error) -> Error {
        match e {
            e @ (Error::Replay { .. } | Error::Host { .. }) => e,
            other => Error::Replay {
                replayer: self.replayer.name().to_owned(),
                message: other.to_string(),
                source: Some(Box::new(other)),
            },
        }
    }

    /// Replays left. None is kept back for a final joint check: every accepted set
    /// was replayed, and dataflow flags no replay reached are demoted when the
    /// budget is spent (see [`ReplayPlan::finish`]).
    fn left(&self) -> usize {
        self.budget.saturating_sub(self.used)
    }

    fn keeps(&mut self, removed: &[StepId]) -> Result<bool> {
        self.used += 1;
        let out = self
            .replayer
            .replay(self.trace, removed)
            .map_err(|e| self.wrap(e))?;
        Ok(same_outcome(&self.baseline, &out))
    }

    fn run(&mut self, analysis: &mut Analysis, costs: &[crate::Usd]) -> Result<()> {
        let base = analysis.replay_priors(self.trace);
        let mut prior = base.clone();
        let candidates: Vec<StepId> = (0..prior.len())
            .filter(|&i| prior[i] > 0.0)
            .map(StepId::from_index)
            .collect();
        if candidates.is_empty() || self.budget < 2 {
            return Ok(());
        }
        self.used += 1;
        self.baseline = self
            .replayer
            .replay(self.trace, &[])
            .map_err(|e| self.wrap(e))?;
        let cost = |u: &[StepId]| -> crate::Usd {
            u.iter()
                .filter_map(|id| costs.get(id.index()).copied())
                .sum()
        };
        let findings = &analysis.findings;
        let is_proven = |u: &[StepId]| {
            u.iter().all(|id| {
                findings
                    .get(id.index())
                    .is_some_and(|f| f.verdict == Verdict::Redundant)
            })
        };
        let mut units = analysis.removal_units(&candidates);
        // most expensive first; ties by position
        units.sort_by_key(|u| (std::cmp::Reverse(cost(u)), u.first().copied()));
        let (proven, mut open): (Vec<_>, Vec<_>) = units.into_iter().partition(|u| is_proven(u));
        let mut d = Decided::default();
        if !proven.is_empty() {
            self.settle(proven, Known::Untested, &mut d)?;
        }
        // use edges between steps, to propagate what replays decide
        let n = prior.len();
        let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut to_sink = vec![false; n];
        for e in analysis.edges.iter().filter(|e| e.is_use()) {
            match e.consumer_idx() {
                Some(c) => consumers[e.producer_idx()].push(c),
                None => to_sink[e.producer_idx()] = true,
            }
        }
        let trace = self.trace;
        let unit_prior = |u: &[StepId], prior: &[f64]| unit_prior(trace, u, prior);
        while !open.is_empty() && self.left() > 0 {
            // most likely removable first (stable: cost order breaks ties)
            open.sort_by(|a, b| unit_prior(b, &prior).total_cmp(&unit_prior(a, &prior)));
            // a group of units that all pass with probability about GROUP_PASS
            let mut take = 1;
            let mut pass = unit_prior(&open[0], &prior);
            while take < open.len().min(MAX_GROUP) {
                let p = unit_prior(&open[take], &prior);
                if pass * p < GROUP_PASS {
                    break;
                }
                pass *= p;
                take += 1;
            }
            let group: Vec<Vec<StepId>> = open.drain(..take).collect();
            let (acc, rej) = (d.accepted.len(), d.rejected.len() + d.failed_units.len());
            self.settle(group, Known::Untested, &mut d)?;
            if d.accepted.len() > acc || d.rejected.len() + d.failed_units.len() > rej {
                propagate(&base, &mut prior, &consumers, &to_sink, &d);
            }
        }
        // second pass: which steps of the failed units can go, as far as the budget
        // goes. A unit's model calls and spawns cannot go without the steps they
        // requested or ran (removing them is removing the unit, which failed), so
        // only its leaves — the steps no other step of the unit depends on by id —
        // are tested, most likely removable first; units whose best leaf is most
        // likely removable go first. Removing all the leaves of a unit is assumed
        // to fail as the unit did (it removes everything the unit's calls asked
        // for), which saves one replay per unit; a leaf left failing only by that
        // assumption is not marked needed.
        d.split_units = true;
        let failed = std::mem::take(&mut d.failed_units);
        let mut producer = vec![false; prior.len()];
        let mut work: Vec<(f64, Vec<Vec<StepId>>)> = Vec::new();
        for unit in &failed {
            for e in analysis
                .edges
                .iter()
                .filter(|e| e.level == EvidenceLevel::Ids)
            {
                if let Some(c) = e.consumer_idx() {
                    let (p, c) = (StepId::from_index(e.producer_idx()), StepId::from_index(c));
                    if p != c && unit.contains(&p) && unit.contains(&c) {
                        producer[p.index()] = true;
                    }
                }
            }
            let leaves: Vec<StepId> = unit
                .iter()
                .copied()
                .filter(|id| !producer[id.index()])
                .collect();
            let mut subs = analysis.removal_units(&leaves);
            subs.sort_by(|a, b| unit_prior(b, &prior).total_cmp(&unit_prior(a, &prior)));
            let best = subs.first().map_or(0.0, |u| unit_prior(u, &prior));
            work.push((best, subs));
        }
        // stable: ties keep the order in which the units failed
        work.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, subs) in work {
            if self.left() == 0 {
                break;
            }
            let known = if subs.len() > 1 {
                Known::AssumedFail
            } else {
                Known::Untested
            };
            self.settle(subs, known, &mut d)?;
        }
        self.finish(analysis, d)
    }

    /// Try to add `group` (removal units) to the accepted set; bisect on failure.
    /// `known`: what is known about removing it together with the accepted set.
    fn settle(&mut self, mut group: Vec<Vec<StepId>>, known: Known, d: &mut Decided) -> Result<()> {
        let flat: Vec<StepId> = group.concat();
        if known == Known::Untested {
            if self.left() == 0 {
                return Ok(());
            }
            let mut test = d.accepted.clone();
            test.extend(&flat);
            test.sort_unstable();
            if self.keeps(&test)? {
                d.accepted = test;
                return Ok(());
            }
        }
        if flat.len() == 1 {
            // only a replay (direct or deduced from replays) makes a step needed
            if known != Known::AssumedFail {
                d.rejected.push(flat[0]);
            }
            return Ok(());
        }
        if group.len() == 1 {
            if !d.split_units {
                d.failed_units.push(flat);
                return Ok(());
            }
            // one unit failed: try its halves (in step order) on their own
            let mut unit = flat.clone();
            let back = unit.split_off(unit.len() / 2);
            group = vec![unit, back];
        }
        let second = group.split_off(group.len() / 2);
        let first_len: usize = group.iter().map(Vec::len).sum();
        let before = d.accepted.len();
        self.settle(group, Known::Untested, d)?;
        // if the first half went in whole, removing the second as well is the test
        // that already failed (or was assumed to)
        let first_all_in = d.accepted.len() - before == first_len;
        let second_known = match (first_all_in, known) {
            (false, _) => Known::Untested,
            (true, Known::AssumedFail) => Known::AssumedFail,
            (true, _) => Known::Failed,
        };
        self.settle(second, second_known, d)
    }

    fn finish(&mut self, analysis: &mut Analysis, d: Decided) -> Result<()> {
        let name = format!("replay:{}", self.replayer.name());
        let untested: Vec<StepId> = (0..analysis.findings.len())
            .map(StepId::from_index)
            .filter(|id| {
                analysis.findings[id.index()].verdict == Verdict::Redundant
                    && !d.accepted.contains(id)
                    && !d.rejected.contains(id)
            })
            .collect();
        // dataflow flags no accepted replay covered: one last replay checks them with
        // the accepted set; with the budget spent they are demoted (unchecked), so
        // the flagged set is always one that was replayed
        let mut demote_untested = false;
        let spent = self.used >= self.budget;
        if !untested.is_empty() && spent {
            demote_untested = true;
        } else if !untested.is_empty() {
            let mut all = d.accepted.clone();
            all.extend(&untested);
            all.sort_unstable();
            demote_untested = !self.keeps(&all)?;
        }
        for (i, f) in analysis.findings.iter_mut().enumerate() {
            let id = StepId::from_index(i);
            if d.accepted.contains(&id) {
                if f.verdict != Verdict::Redundant {
                    f.reason = Some(KEPT_UNDER_REPLAY.into());
                }
                f.verdict = Verdict::Redundant;
                f.evidence = Some(EvidenceLevel::Replay);
                f.confirmed_by = Some(name.clone());
            } else if d.rejected.contains(&id) {
                f.verdict = Verdict::Needed;
                f.reason = Some("replay_rejected: removing it changed the outcome".into());
                f.evidence = Some(EvidenceLevel::Replay);
                f.confirmed_by = Some(name.clone());
            } else if demote_untested && untested.contains(&id) {
                f.verdict = Verdict::Unproven;
                f.reason = Some(if spent {
                    "flagged by dataflow, but the replay budget ran out before removing it together with the confirmed steps was checked".into()
                } else {
                    "flagged by dataflow, but removing the flagged steps together changed the outcome under replay".into()
                });
                f.confirmed_by = None;
            }
        }
        if !d.rejected.is_empty() {
            self.warnings.push(Warning::new(
                crate::model::WarningCode::ReplayRejected,
                format!(
                    "replayer `{}`: removing step(s) {} changed the outcome; they are needed",
                    self.replayer.name(),
                    join(&d.rejected)
                ),
            ));
        }
        if demote_untested && spent {
            self.warnings.push(Warning::new(
                crate::model::WarningCode::ReplayRejected,
                format!(
                    "replayer `{}`: the replay budget ran out before the flags {} were checked together with the confirmed ones; they are unproven",
                    self.replayer.name(),
                    join(&untested)
                ),
            ));
        } else if demote_untested {
            self.warnings.push(Warning::new(
                crate::model::WarningCode::ReplayRejected,
                format!(
                    "replayer `{}`: removing the untested flags {} together with the confirmed ones changed the outcome; they are unproven",
                    self.replayer.name(),
                    join(&untested)
                ),
            ));
        }
        Ok(())
    }
}

/// A group of units is tested together while they all pass with at least this
/// probability (under the priors); bisection finds the ones that do not.
const GROUP_PASS: f64 = 0.6;
/// Largest group of units tested in one replay.
const MAX_GROUP: usize = 16;

/// Per step, the prior probability that removing it keeps the outcome, for ordering
/// and grouping replays; 0 for steps that are not replay candidates (strongly
/// needed, user inputs, compactions). Measured on the ops agent's tuning seeds
/// (DESIGN.md, "Counterfactual replay").
impl Analysis {
    /// Per step, the prior probability that removing it keeps the outcome, which
    /// orders and groups the replays of [`Analysis::confirm`]; 0 for steps that are
    /// not replay candidates (strongly needed steps, user inputs, compactions).
    pub fn replay_priors(&self, trace: &Trace) -> Vec<f64> {
        replay_priors(self, trace)
    }
}

fn replay_priors(analysis: &Analysis, trace: &Trace) -> Vec<f64> {
    use crate::model::{StepKind, StepStatus};
    let weak = analysis.weakly_needed();
    trace
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let Some(f) = analysis.findings.get(i) else {
                return 0.0;
            };
            if matches!(s.kind, StepKind::UserInput | StepKind::Compaction) {
                return 0.0;
            }
            let len = s.output.as_ref().map_or(0, |o| o.len);
            let tool = matches!(s.kind, StepKind::ToolUse | StepKind::Other);
            let used = f
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("used by"));
            let undelivered = f
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("the source records no delivery"));
            match f.verdict {
                Verdict::Redundant => 0.95,
                Verdict::Needed if !weak[i] => 0.0,
                _ if s.status == StepStatus::Error => 0.9,
                _ if s.kind == StepKind::SubagentSpawn => 0.55,
                _ if !tool => 0.5,
                // an empty result: a verification whose emptiness the answer reports
                _ if len == 0 => 0.1,
                // a long output quoted nowhere is still what the caller worked from
                _ if len > 200 => 0.1,
                Verdict::Needed => 0.5,
                _ if undelivered => 0.2,
                _ if len <= 40 && !used => 0.9,
                _ => 0.45,
            }
        })
        .collect()
}

/// The prior that removing `unit` keeps the outcome: the product over its tool
/// calls and sub-agent spawns (the steps inside a spawn of the unit and the model
/// calls that requested them go with them), the smallest step prior for a unit of
/// model calls only. A tool call alone in its unit (its model call is kept for
/// other requests) is likely an extra request.
fn unit_prior(trace: &Trace, unit: &[StepId], prior: &[f64]) -> f64 {
    use crate::model::StepKind;
    let leaves: Vec<f64> = unit
        .iter()
        .filter_map(|&id| trace.step(id))
        .filter(|s| {
            matches!(
                s.kind,
                StepKind::ToolUse | StepKind::Other | StepKind::SubagentSpawn
            ) && s.parent.is_none_or(|p| !unit.contains(&p))
        })
        .map(|s| prior[s.id.index()])
        .collect();
    match leaves.as_slice() {
        [] => unit
            .iter()
            .map(|id| prior[id.index()])
            .fold(1.0f64, f64::min),
        [one] if unit.len() == 1 && *one > 0.2 => one.max(0.85),
        _ => leaves.iter().product(),
    }
}

/// Update the priors after a replay decided something: a step whose every use
/// went into accepted (removed) steps is likely removable too; a producer of a
/// step found needed is likely needed.
fn propagate(
    base: &[f64],
    prior: &mut [f64],
    consumers: &[Vec<usize>],
    to_sink: &[bool],
    d: &Decided,
) {
    let accepted: std::collections::HashSet<usize> = d.accepted.iter().map(|s| s.index()).collect();
    let rejected: std::collections::HashSet<usize> = d
        .rejected
        .iter()
        .chain(d.failed_units.iter().flatten())
        .map(|s| s.index())
        .collect();
    for (i, p) in prior.iter_mut().enumerate() {
        let b = base[i];
        if b <= 0.0 || accepted.contains(&i) || rejected.contains(&i) {
            continue;
        }
        let uses = &consumers[i];
        *p = if !to_sink[i] && !uses.is_empty() && uses.iter().all(|c| accepted.contains(c)) {
            b.max(0.9)
        } else if uses.iter().any(|c| rejected.contains(c)) {
            (b * 0.5).min(0.3)
        } else {
            b
        };
    }
}

fn join(ids: &[StepId]) -> String {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
