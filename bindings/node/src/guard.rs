//! `Guard`: enforce distilled prune rules on a pending tool call (issue 17).
//!
//! The decision is costcraft's ([`costcraft::guard::Guard::decide`]) over the state
//! of what ran before, built by costcraft too: from a {@link Trace} or a
//! {@link Recorder}'s steps so far ([`costcraft::guard::SessionState::from_trace`])
//! or from a Claude Code transcript ([`costcraft::guard::claude_code::session_state`]).
//! This file only converts arguments and results.

use std::path::Path;

use costcraft::guard::{Decision, GuardOptions as CoreOptions, MAIN, Pending, SessionState};
use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::convert::serde_name;
use crate::errors::{CoreResultExt, GUARD_TRANSCRIPT, Props, js_error};
use crate::model::Trace;
use crate::recorder::Recorder;

/// Options of {@link Guard.load}.
#[napi(object)]
#[derive(Default)]
pub struct GuardOptions {
    /// A rule denies only with support in at least this many sessions (default 1).
    pub min_support: Option<u32>,
    /// Also enforce `held_back` prune rules (an ablation; default `false`).
    pub include_held_back: Option<bool>,
    /// Also enforce `after: repeat_after_change` rules (default `false`: such a
    /// rule calls a repeat waste although something that may change its result ran
    /// since).
    pub repeat_after_change: Option<bool>,
}

/// Where the pending call runs (default: the main session).
#[napi(object)]
#[derive(Default)]
pub struct CheckOptions {
    /// The context key: `"main"`, `"step-<spawn step id>"` for a sub-agent of a
    /// trace, or a Claude Code `agent_id` with a transcript.
    pub context: Option<String>,
    /// The sub-agent's type, when the call runs in one.
    pub agent_type: Option<String>,
    /// With a transcript: the pending call's `tool_use_id` (never counted as run).
    pub tool_use_id: Option<String>,
}

/// A guard decision.
#[napi(object)]
pub struct GuardDecision {
    /// Whether the call may run.
    pub allowed: bool,
    /// The rule that denied it.
    pub rule_id: Option<String>,
    /// For a deny, `<rule id>: <reason> (proven waste in N step(s) of M
    /// session(s)...)`: what to tell the model; otherwise why the guard abstained
    /// (`no rule matches`, `state unavailable: ...`).
    pub reason: String,
    /// How the call relates to the earlier calls of its context
    /// (`repeat_of_success`, `repeat_after_change`, `retry_of_failure`,
    /// `before_any_read` or `any`), when computed.
    pub after: Option<String>,
}

impl From<Decision> for GuardDecision {
    fn from(d: Decision) -> Self {
        GuardDecision {
            allowed: d.allowed,
            rule_id: d.rule_id,
            reason: d.reason,
            after: d.after.as_ref().map(serde_name),
        }
    }
}

/// The enforceable prune rules of a `rules.yaml` (from {@link distill} or
/// `tracecard distill`), asked before each tool call. Never denies when unsure: a
/// tool no rule names, a context it has no record of.
#[napi]
pub struct Guard {
    inner: costcraft::guard::Guard,
    rules_total: usize,
}

#[napi]
impl Guard {
    /// A guard on the rules of the `rules.yaml` at `path`. Throws `TRACECARD_IO`
    /// or `TRACECARD_COSTCRAFT_PARSE` (with `path`, `line`).
    #[napi(catch_unwind, factory, configurable)]
    pub fn load(env: Env, path: String, options: Option<GuardOptions>) -> Result<Guard> {
        let set = costcraft::RuleSet::read(Path::new(&path)).js(&env)?;
        let o = options.unwrap_or_default();
        let d = CoreOptions::default();
        let opts = CoreOptions {
            min_support: o.min_support.map(|n| n as usize).unwrap_or(d.min_support),
            include_held_back: o.include_held_back.unwrap_or(d.include_held_back),
            repeat_after_change: o.repeat_after_change.unwrap_or(d.repeat_after_change),
        };
        Ok(Guard {
            inner: costcraft::guard::Guard::new(&set, &opts),
            rules_total: set.rules.len(),
        })
    }

    /// The ids of the rules that may deny.
    #[napi(catch_unwind, getter)]
    pub fn rule_ids(&self) -> Vec<String> {
        self.inner.rules().iter().map(|r| r.id.clone()).collect()
    }

    /// Number of rules in the file (enforceable or not).
    #[napi(catch_unwind, getter)]
    pub fn rules_in_file(&self) -> u32 {
        u32::try_from(self.rules_total).unwrap_or(u32::MAX)
    }

    /// Decide whether the call of `toolName` with `toolInput` (the tool's
    /// arguments object) may run, given `history`: what ran before in this
    /// session, as a {@link Trace}, a {@link Recorder} (its steps so far) or the
    /// path of a Claude Code transcript. No history means an empty session.
    #[napi(
        catch_unwind,
        ts_args_type = "toolName: string, toolInput: unknown, history?: Trace | Recorder | string | null, options?: CheckOptions"
    )]
    pub fn check(
        &self,
        env: Env,
        tool_name: String,
        tool_input: serde_json::Value,
        history: Option<Either3<&Trace, &Recorder, String>>,
        options: Option<CheckOptions>,
    ) -> Result<GuardDecision> {
        let o = options.unwrap_or_default();
        let classes = self.inner.classes();
        let state = match history {
            None => {
                let mut s = SessionState::new();
                s.start(MAIN);
                s
            }
            Some(Either3::A(t)) => SessionState::from_trace(&t.inner, classes),
            Some(Either3::B(r)) => SessionState::from_trace(&*r.snapshot(&env)?, classes),
            Some(Either3::C(path)) => costcraft::guard::claude_code::session_state(
                Path::new(&path),
                o.tool_use_id.as_deref(),
                classes,
            )
            .map_err(|e| {
                js_error(
                    &env,
                    GUARD_TRANSCRIPT,
                    e.to_string(),
                    Props {
                        kind: Some("guard_transcript"),
                        path: Some(path.clone()),
                        ..Props::default()
                    },
                )
            })?,
        };
        let d = self.inner.decide(
            &state,
            &Pending {
                tool: &tool_name,
                input: &tool_input,
                context: o.context.as_deref().unwrap_or(MAIN),
                agent_type: o.agent_type.as_deref(),
            },
        );
        Ok(GuardDecision::from(d))
    }
}
