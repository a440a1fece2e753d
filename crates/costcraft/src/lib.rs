//! # costcraft
//!
//! Turns compiled TraceCards into **patches** (prune, repair, preserve) and
//! distils them, across sessions and tasks, into a versioned `rules.yaml` and an
//! Agent Skill (`SKILL.md`).
//!
//! - [`outcomes`] reads `--outcomes FILE` (JSONL) onto traces.
//! - [`patch`] holds the patch taxonomy and the validation that refuses, with a
//!   typed [`RefusalReason`], every patch breaking the seed's rules.
//! - [`signature`] computes step signatures recognisable *before* a step runs.
//! - [`distill`](mod@distill) groups patches into rules (prune-biased; preserve
//!   quarantined) and renders `rules.yaml`, `SKILL.md`, `patches.yaml`, `REPORT.md`.
//! - [`backfire`] evaluates the seed's "when this backfires" guards.
//! - [`check`] finds where rules would fire in new traces; [`evaluate`] compares
//!   baseline and treated runs.
//!
//! ```
//! use costcraft::{Policy, Session, distill};
//! use tracecard_core::{Compiler, Recorder, TokenUsage, OutcomeStatus};
//!
//! let mut rec = Recorder::new("demo");
//! let call = rec.llm_call("claude-sonnet-4-5", TokenUsage::from_exclusive(1200, 0, 0, 0, 80), "read the config");
//! let read = rec.tool_use("read_file", r#"{"path":"cfg.toml"}"#, "port = 6432", Some(call));
//! rec.reads(read, "cfg.toml");
//! let answer = rec.llm_call("claude-sonnet-4-5", TokenUsage::from_exclusive(1300, 0, 0, 0, 20), "The port is 6432.");
//! rec.consumes(answer, read);
//! let trace = rec.finish(OutcomeStatus::Success, Some(answer), vec![]);
//! let card = Compiler::new().compile(&trace).unwrap();
//! let mut policy = Policy::default();
//! policy.allow_backfire = costcraft::backfire::Guard::ALL.into_iter().collect();
//! let d = distill(vec![Session::new(trace, card)], &policy).unwrap();
//! assert_eq!(d.rules.schema_version, costcraft::RULES_SCHEMA_VERSION);
//! ```
#![forbid(unsafe_code)]

pub mod backfire;
pub mod check;
pub mod distill;
mod error;
pub mod evaluate;
pub mod guard;
pub mod outcomes;
pub mod patch;
pub mod policy;
pub mod signature;
pub mod skill;

pub use distill::{
    Action, Distillation, RULES_SCHEMA_VERSION, Rule, RuleSet, RuleStatus, StepRef, distill,
};
pub use error::{Error, ErrorKind, Result};
pub use patch::{Patch, PatchKind, PatchSet, Refusal, RefusalReason, RefusedPatch, validate};
pub use policy::Policy;
pub use signature::{After, ArgPattern, Match, Scope, ToolClasses};

use tracecard_core::{Compiler, Trace, TraceCard};

/// One compiled session: its trace and card (the card's step ids are the trace's).
#[derive(Debug, Clone)]
pub struct Session {
    /// The trace.
    pub trace: Trace,
    /// Its card.
    pub card: TraceCard,
    /// Per step (index = id − 1): its signature (filled by [`prepare`]).
    pub sigs: Vec<Option<Match>>,
    /// Per step: the task it belongs to (filled by [`prepare`]).
    pub tasks: Vec<String>,
    /// The analysis the card rests on (after any replay), when it was compiled
    /// here; distillation runs it again when absent.
    pub analysis: Option<tracecard_core::analysis::Analysis>,
}

impl Session {
    /// A session from a trace and its card.
    pub fn new(trace: Trace, card: TraceCard) -> Self {
        Session {
            trace,
            card,
            sigs: Vec::new(),
            tasks: Vec::new(),
            analysis: None,
        }
    }

    /// Compile `trace` with `compiler` (which may carry a replayer), keeping the
    /// analysis for the patches.
    pub fn compile(trace: Trace, compiler: &Compiler) -> Result<Self> {
        let (card, analysis) = compiler.compile_with_analysis(&trace)?;
        let mut s = Session::new(trace, card);
        s.analysis = analysis;
        Ok(s)
    }
}

/// The task of every step of `trace`: the session's `task_id` / `task` metadata,
/// else the user turn it answers (a hash of that turn's prompt), the sub-agent
/// steps inheriting their spawn's task; steps before any turn belong to the
/// session.
pub fn tasks_of(trace: &Trace) -> Vec<String> {
    if let Some(t) = trace
        .metadata
        .get("task_id")
        .or_else(|| trace.metadata.get("task"))
    {
        return vec![t.clone(); trace.steps.len()];
    }
    let mut out: Vec<String> = Vec::with_capacity(trace.steps.len());
    let mut current = format!("session:{}", trace.session_id);
    for s in &trace.steps {
        let task = match s.parent {
            Some(p) => out
                .get(p.index())
                .cloned()
                .unwrap_or_else(|| current.clone()),
            None => {
                if s.kind == tracecard_core::StepKind::UserInput {
                    if let Some(c) = &s.output {
                        let key = match &c.text {
                            Some(t) => tracecard_core::model::content_hash(t.trim()),
                            None => c.hash.clone(),
                        };
                        current = format!("turn:{}", &key[7..19.min(key.len())]);
                    }
                }
                current.clone()
            }
        };
        out.push(task);
    }
    out
}

/// Fill every session's signatures and tasks; returns the tool classes learnt
/// from the corpus (which tools only read).
pub fn prepare(sessions: &mut [Session]) -> ToolClasses {
    let classes = ToolClasses::learn(sessions.iter().map(|s| &s.trace));
    for s in sessions.iter_mut() {
        s.sigs = signature::signatures(&s.trace, &classes);
        s.tasks = tasks_of(&s.trace);
    }
    classes
}
