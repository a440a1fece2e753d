//! # ops-agent
//!
//! An independent, deterministic, scripted ops/coding agent (a stand-in model, tools
//! and sub-agents over a virtual workspace) whose sessions measure a redundancy
//! analysis against **true counterfactual replay**: [`run`] re-executes a whole
//! session with any set of baseline step ids skipped, and a verifier judges the
//! result.
//!
//! ```
//! use std::collections::BTreeSet;
//! let base = ops_agent::run(7, &BTreeSet::new());
//! assert!(base.trace.steps.len() >= 10);
//! assert!(ops_agent::keeps_outcome(7, &BTreeSet::new()));
//! ```
//!
//! Id alignment: the number and order of step slots is a function of the seed only.
//! A replay records every slot, executed or not (skipped ones become placeholder
//! steps with the attribute `replay` = `removed`, `not_requested` or `not_run`), so
//! step `n` of a replay is slot `n` of the baseline and the control flow never
//! shifts ids.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tracecard_core::{OracleEvidence, OutcomeStatus, StepId, Trace};

mod engine;
pub mod otlp;
pub mod protocol;
pub mod rng;
mod tasks;

use engine::{Agent, Engine, Env};
use rng::SplitMix64;
use tasks::{KINDS, Task};

/// How much content the recorded trace carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentLevel {
    /// Everything: model outputs, user messages, tool arguments and results.
    #[default]
    Full,
    /// As some OTel instrumentations: messages (model outputs, user prompts) carry
    /// only a hash and length, tool calls keep their arguments and results. The
    /// trace declares `content: hashed` and `metadata.content_level = partial`.
    Partial,
}

impl ContentLevel {
    /// `full` or `partial`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentLevel::Full => "full",
            ContentLevel::Partial => "partial",
        }
    }

    /// Parse `full` / `partial`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(ContentLevel::Full),
            "partial" => Some(ContentLevel::Partial),
            _ => None,
        }
    }
}

/// Whether the verifier passed the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every check passed.
    Success,
    /// At least one check failed.
    Failure,
}

/// One verifier check (one per task of the session).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    /// Which check (`ops-check/<task kind>`).
    pub verifier: String,
    /// Whether it passed.
    pub passed: bool,
    /// Deterministic explanation; it depends only on the judged result.
    pub message: String,
}

/// The verifier's verdict on a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Success when every check passed.
    pub status: Status,
    /// One entry per task, in task order.
    pub evidence: Vec<Evidence>,
}

impl Outcome {
    /// Same status and the same multiset of (verifier, passed, message).
    pub fn same_as(&self, other: &Outcome) -> bool {
        let mut a = self.evidence.clone();
        let mut b = other.evidence.clone();
        a.sort();
        b.sort();
        self.status == other.status && a == b
    }
}

/// What a step was *designed* to be (ground truth is replay: see [`strict_truth`];
/// a role only says why the script contains the step). Never written to the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A user message starting a task.
    Prompt,
    /// Ordinary needed work (a read whose content is used, a write that is checked).
    Work,
    /// A model call that requested at least one needed step.
    Requester,
    /// A reply (to the user, or a sub-agent's result that is used).
    Answer,
    /// A read whose content decides a path/format/yes-no without being quoted.
    Decision,
    /// A check whose empty result is itself the evidence (`grep` finds nothing).
    EmptyCheck,
    /// A count used as a check that picks a branch.
    NumericCheck,
    /// One of several similarly named reads that are all used.
    SimilarNeeded,
    /// An identical re-read after a context compaction, needed again.
    RereadAfterCompaction,
    /// An identical re-read after the file was changed by a command.
    RereadAfterWrite,
    /// The same read as another agent's, in a sub-agent's own context.
    RereadOtherAgent,
    /// A sub-agent spawn whose result or effects are used.
    SubagentUsed,
    /// A context compaction whose summary carries needed facts.
    Compaction,
    /// Designed as a decision input, but here the default guess equals the truth,
    /// so removing it alone changes nothing.
    CoincidentDefault,
    /// A write overwritten before anyone reads it.
    DeadStore,
    /// An exploratory read or search whose content never matters.
    UnusedExplore,
    /// An identical re-read with nothing changed in between, not used.
    RedundantRecheck,
    /// A failed call that was retried successfully.
    FailedAttempt,
    /// A sub-agent (and its steps) whose result the parent ignores.
    IgnoredSubagent,
    /// A sub-agent's final message the parent does not use (its effects may be).
    UnusedSubResult,
    /// A model call that only requested removable steps.
    WastedCall,
    /// A step of the task the agent gets wrong in a failing session. Whether removing
    /// it alone keeps the (failing) outcome depends on which problem the verifier
    /// reports first, so the design gives no verdict ([`Role::removable`] is false).
    InFailedTask,
}

impl Role {
    /// Whether the script intends the step to be removable on its own without
    /// changing the outcome.
    pub fn removable(self) -> bool {
        matches!(
            self,
            Role::CoincidentDefault
                | Role::DeadStore
                | Role::UnusedExplore
                | Role::RedundantRecheck
                | Role::FailedAttempt
                | Role::IgnoredSubagent
                | Role::UnusedSubResult
                | Role::WastedCall
        )
    }

    /// Whether the role is one of the "needed but unquoted" categories that a naive
    /// dataflow analysis tends to call waste.
    pub fn hard_needed(self) -> bool {
        matches!(
            self,
            Role::Decision
                | Role::EmptyCheck
                | Role::NumericCheck
                | Role::SimilarNeeded
                | Role::RereadAfterCompaction
                | Role::RereadAfterWrite
                | Role::RereadOtherAgent
        )
    }
}

/// One executed session (baseline or replay).
#[derive(Debug, Clone)]
pub struct Session {
    /// The seed it was generated from.
    pub seed: u64,
    /// The recorded trace (for a replay, skipped slots are placeholder steps).
    pub trace: Trace,
    /// The verifier's verdict.
    pub outcome: Outcome,
    /// Design role of every step, by step index (`roles[id - 1]`).
    pub roles: Vec<Role>,
}

impl Session {
    /// The trace as native JSONL (what `ops-agent gen` writes).
    pub fn to_jsonl(&self) -> String {
        tracecard_core::native::to_jsonl(&self.trace).expect("a trace always serialises")
    }
}

/// `ops-<seed>`.
pub fn session_id(seed: u64) -> String {
    format!("ops-{seed}")
}

/// The seed of a session id `ops-<seed>`.
pub fn seed_from_session_id(id: &str) -> Option<u64> {
    id.strip_prefix("ops-")?.parse().ok()
}

/// Baseline-or-replay with full content: re-run session `seed` with the baseline
/// steps whose 1-based ids are in `removed` skipped.
pub fn run(seed: u64, removed: &BTreeSet<u32>) -> Session {
    run_with(seed, removed, ContentLevel::Full)
}

/// [`run`] recording content at `content` level (the outcome does not depend on it).
pub fn run_with(seed: u64, removed: &BTreeSet<u32>, content: ContentLevel) -> Session {
    let mut rng = SplitMix64::new(seed ^ 0x6f70_732d_6167_656e);
    let anthropic = rng.chance(65);
    let (main_model, sub_model) = if anthropic {
        ("claude-sonnet-4-5", "claude-haiku-4-5")
    } else {
        ("gpt-4.1", "gpt-4.1-mini")
    };
    let mut kinds: Vec<u64> = (0..KINDS).collect();
    rng.shuffle(&mut kinds);
    let n = rng.range(3, 5) as usize;
    let mistake = rng.chance(17).then(|| rng.below(n as u64) as usize);
    let mut env = Env::default();
    let mut tasks: Vec<Task> = kinds[..n]
        .iter()
        .enumerate()
        .map(|(i, &k)| Task::generate(k, &mut rng, mistake == Some(i), &mut env))
        .collect();
    // every session carries some waste outside the task the agent gets wrong
    let clean = |i: usize| mistake != Some(i);
    if !tasks
        .iter()
        .enumerate()
        .any(|(i, t)| clean(i) && t.has_waste())
    {
        if let Some(t) = tasks.iter_mut().enumerate().find(|(i, _)| clean(*i)) {
            t.1.force_waste();
        }
    }

    let sid = session_id(seed);
    let mut e = Engine::new(&sid, env, removed, content, seed);
    let mut main = Agent::new("main", main_model, true);
    let mut answers = Vec::new();
    let mut last_answer = None;
    for (i, t) in tasks.iter().enumerate() {
        e.in_failed_task = mistake == Some(i);
        let heard = e.user(&mut main, &t.prompt());
        // without the message the agent does nothing for this task
        main.alive = heard;
        let reply = t.run(&mut e, &mut main, sub_model);
        main.alive = true;
        e.in_failed_task = false;
        if reply.step.is_some() {
            last_answer = reply.step;
        }
        answers.push(reply.text);
    }
    let evidence: Vec<Evidence> = tasks
        .iter()
        .zip(&answers)
        .map(|(t, a)| t.verify(&e.env, a.as_deref()))
        .collect();
    let status = if evidence.iter().all(|e| e.passed) {
        Status::Success
    } else {
        Status::Failure
    };
    let oracle = evidence
        .iter()
        .map(|ev| OracleEvidence {
            verifier: ev.verifier.clone(),
            passed: Some(ev.passed),
            message: Some(ev.message.clone()),
            score: None,
            artifacts: Vec::new(),
        })
        .collect();
    let core_status = match status {
        Status::Success => OutcomeStatus::Success,
        Status::Failure => OutcomeStatus::Failure,
    };
    let final_step: Option<StepId> = last_answer;
    let (trace, roles, _env) = e.finish(core_status, final_step, oracle);
    Session {
        seed,
        trace,
        outcome: Outcome { status, evidence },
        roles,
    }
}

/// Whether skipping `removed` keeps the baseline outcome (same status, same multiset
/// of verifier results).
pub fn keeps_outcome(seed: u64, removed: &BTreeSet<u32>) -> bool {
    let base = run(seed, &BTreeSet::new());
    run(seed, removed).outcome.same_as(&base.outcome)
}

/// Per step (index `id - 1`): whether removing that step alone keeps the outcome.
/// One replay per step.
pub fn strict_truth(seed: u64) -> Vec<bool> {
    let base = run(seed, &BTreeSet::new());
    (1..=base.trace.steps.len() as u32)
        .map(|id| {
            run(seed, &BTreeSet::from([id]))
                .outcome
                .same_as(&base.outcome)
        })
        .collect()
}
