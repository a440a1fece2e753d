//! Scores tracecard's verdicts against **true counterfactual replay** of a scripted
//! agent that can really re-run itself minus any steps.
//!
//! Both scripted agents (`examples/agent` and the independently written
//! `examples/ops-agent`) implement [`ScriptedAgent`]; [`measure`] compiles each
//! session (with or without the agent as replayer) and reports:
//!
//! - **strict** precision/recall per step: a flag is right when removing that step
//!   alone keeps the outcome;
//! - **joint** recall: an unflagged step counts as missed only when it can be
//!   removed together with every flagged step (of two duplicate reads, one is kept);
//! - the share of sessions whose outcome survives removing **all** flags together;
//! - replays used per session.

use std::collections::BTreeSet;

use tracecard_core::{Compiler, Outcome, Replayer, Result, StepId, StepKind, Trace, Verdict};

/// A scripted agent whose sessions can be re-run minus any steps.
pub trait ScriptedAgent: Sync {
    /// Name used as the replayer's name.
    fn name(&self) -> &str;
    /// The recorded baseline session of `seed`.
    fn baseline(&self, seed: u64) -> Trace;
    /// The outcome of session `seed` re-run without the steps `removed` (1-based ids).
    fn replay(&self, seed: u64, removed: &BTreeSet<u32>) -> Outcome;
}

/// A [`Replayer`] over one session of a [`ScriptedAgent`].
pub struct AgentReplayer<'a, A: ScriptedAgent> {
    /// The agent.
    pub agent: &'a A,
    /// The session.
    pub seed: u64,
}

impl<A: ScriptedAgent> Replayer for AgentReplayer<'_, A> {
    fn name(&self) -> &str {
        self.agent.name()
    }

    fn replay(&self, _trace: &Trace, removed: &[StepId]) -> Result<Outcome> {
        let skip: BTreeSet<u32> = removed.iter().map(|s| s.0).collect();
        Ok(self.agent.replay(self.seed, &skip))
    }
}

/// Confusion counts of flags against a truth.
#[derive(Debug, Default, Clone, Copy)]
pub struct Score {
    /// Flagged and truly removable.
    pub tp: u32,
    /// Flagged but needed.
    pub fp: u32,
    /// Removable but not flagged.
    pub fn_: u32,
    /// Needed and not flagged.
    pub tn: u32,
}

impl Score {
    fn add(&mut self, flagged: bool, truly: bool) {
        match (flagged, truly) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    /// tp / (tp + fp) (1 when nothing is flagged).
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            return 1.0;
        }
        f64::from(self.tp) / f64::from(self.tp + self.fp)
    }
    /// tp / (tp + fn).
    pub fn recall(&self) -> f64 {
        f64::from(self.tp) / f64::from((self.tp + self.fn_).max(1))
    }
}

/// The result of [`measure`].
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Sessions measured.
    pub sessions: usize,
    /// Steps scored (user inputs excluded).
    pub steps: usize,
    /// Per-step truth: removing the step alone keeps the outcome.
    pub strict: Score,
    /// Truth for unflagged steps: removable together with every flag.
    pub joint: Score,
    /// Sessions whose outcome survives removing all their flags together.
    pub jointly_valid: usize,
    /// Replays used per session (with a replayer).
    pub replays: Vec<u64>,
    /// Wrong flags and misses, for debugging.
    pub misses: Vec<String>,
}

impl Report {
    /// Share of sessions that survive removing all flags together.
    pub fn jointly_valid_share(&self) -> f64 {
        self.jointly_valid as f64 / self.sessions.max(1) as f64
    }
    /// Median replays per session.
    pub fn median_replays(&self) -> u64 {
        let mut r = self.replays.clone();
        r.sort_unstable();
        r.get(r.len() / 2).copied().unwrap_or(0)
    }
    /// One line per figure.
    pub fn summary(&self, label: &str) -> String {
        format!(
            "{label}: {} sessions, {} steps | strict precision {:.3} recall {:.3} (tp {} fp {} fn {}) | joint recall {:.3} | all flags removable together in {:.1}% of sessions | median replays {}",
            self.sessions,
            self.steps,
            self.strict.precision(),
            self.strict.recall(),
            self.strict.tp,
            self.strict.fp,
            self.strict.fn_,
            self.joint.recall(),
            100.0 * self.jointly_valid_share(),
            self.median_replays()
        )
    }
}

/// Compile every session of `seeds` (with the agent as replayer when
/// `with_replayer`, under `budget` replays) and score the `redundant` verdicts
/// against true replay.
pub fn measure<A: ScriptedAgent>(
    agent: &A,
    seeds: impl IntoIterator<Item = u64>,
    with_replayer: bool,
    budget: usize,
) -> Report {
    let mut rep = Report::default();
    for seed in seeds {
        let trace = agent.baseline(seed);
        let replayer = AgentReplayer { agent, seed };
        let compiler = Compiler::new().replay_budget(budget);
        let card = if with_replayer {
            compiler.replayer(&replayer).compile(&trace)
        } else {
            compiler.compile(&trace)
        }
        .expect("compile");
        let base = agent.replay(seed, &BTreeSet::new());
        let keeps = |removed: &BTreeSet<u32>| {
            tracecard_core::analysis::same_outcome(&base, &agent.replay(seed, removed))
        };
        let flagged: BTreeSet<u32> = card
            .steps
            .iter()
            .filter(|s| s.verdict == Verdict::Redundant)
            .map(|s| s.id.0)
            .collect();
        rep.sessions += 1;
        rep.replays.extend(card.replays_used);
        if keeps(&flagged) {
            rep.jointly_valid += 1;
        }
        for s in card.steps.iter().filter(|s| s.kind != StepKind::UserInput) {
            rep.steps += 1;
            let alone = keeps(&BTreeSet::from([s.id.0]));
            let is_flagged = flagged.contains(&s.id.0);
            rep.strict.add(is_flagged, alone);
            let with_flags = if is_flagged || !alone {
                alone
            } else {
                let mut all = flagged.clone();
                all.insert(s.id.0);
                keeps(&all)
            };
            rep.joint.add(is_flagged, with_flags);
            if is_flagged != with_flags {
                rep.misses.push(format!(
                    "{} seed {seed} step {} {:?} {} {:?}: {}",
                    if is_flagged { "FP" } else { "FN" },
                    s.id,
                    s.kind,
                    s.tool.as_deref().or(s.model.as_deref()).unwrap_or("-"),
                    s.verdict,
                    s.reason.as_deref().unwrap_or("")
                ));
            }
        }
    }
    rep
}
