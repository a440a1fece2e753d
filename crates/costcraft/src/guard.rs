//! The guard: enforce distilled prune rules on pending tool calls while an agent
//! runs (issue 17).
//!
//! A [`Guard`] holds the enforceable rules of a `rules.yaml`; a [`SessionState`]
//! holds, per agent context (the main session, or one sub-agent: a sub-agent does
//! not see its parent's reads), what ran before: successes, failures, writes,
//! compactions, user turns. [`Guard::decide`] computes the pending call's
//! signature exactly as distillation did ([`crate::signature`]) and denies it when
//! a rule that may deny accepts it.
//!
//! Only rules with `action: prune`, `status: active`, `enforce: pre_tool_use` and
//! enough support may deny. The guard never denies when unsure: a context it has
//! no record of (state lost), a tool no rule names, or input that is not a JSON
//! object where the rule expects arguments.
//!
//! Front ends feed the state: [`SessionState::apply_step`] from a
//! [`tracecard_core::Trace`] (the scripted agents, the Python/Node `history`), and
//! [`claude_code::session_state`] from a Claude Code transcript so far (the
//! `tracecard guard` hook).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracecard_core::{StepId, StepKind, StepStatus, Trace};

use crate::distill::{Action, Enforce, Rule, RuleSet, RuleStatus};
use crate::signature::{
    After, ContextState, Match, Scope, ToolClasses, arg_shape, canonical_json, tool_key,
};

/// The key of the main session's context.
pub const MAIN: &str = "main";

/// Tool names that spawn a sub-agent in Claude Code (`Agent` now, `Task` before).
pub const SPAWN_TOOLS: &[&str] = &["Agent", "Task"];

/// Which rules a guard enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardOptions {
    /// A rule denies only with support in at least this many distinct sessions.
    pub min_support: usize,
    /// Also enforce `held_back` prune rules (an ablation for the transfer study;
    /// never what `tracecard guard` does). Quarantined rules never deny.
    pub include_held_back: bool,
    /// Also enforce `after: repeat_after_change` rules. Off by default: such a
    /// rule says an identical call is waste although something that may change
    /// its result ran since; whether the change touched it is a property of the
    /// task, not of the call, and the transfer study (BENCHMARKS.md) measured them
    /// breaking sessions of task kinds they were not learnt from.
    pub repeat_after_change: bool,
}

impl Default for GuardOptions {
    fn default() -> Self {
        GuardOptions {
            min_support: 1,
            include_held_back: false,
            repeat_after_change: false,
        }
    }
}

/// The decision on one pending call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the call may run.
    pub allowed: bool,
    /// The rule that denied it (or, in dry-run, would have).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// `<rule id>: <reason with the evidence count>` for a deny; why the guard
    /// abstained otherwise (`no rule matches`, `state unavailable: …`).
    pub reason: String,
    /// How the call relates to the earlier calls of its context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<After>,
}

impl Decision {
    fn allow(reason: impl Into<String>, after: Option<After>) -> Self {
        Decision {
            allowed: true,
            rule_id: None,
            reason: reason.into(),
            after,
        }
    }
}

/// One agent context's state.
#[derive(Debug, Clone, Default)]
struct Ctx {
    state: ContextState,
}

/// Per-session state: one [`ContextState`] per agent context, keyed by a context
/// key ([`MAIN`], a Claude Code `agent_id`, or `step-<spawn id>` for a trace).
///
/// A call that may write (any tool not `read_only` in the rule set's classes) also
/// invalidates the other contexts' earlier results (their epoch moves on): files
/// are shared even when contexts are not.
#[derive(Debug, Clone, Default)]
pub struct SessionState {
    contexts: HashMap<String, Ctx>,
}

impl SessionState {
    /// An empty session.
    pub fn new() -> Self {
        SessionState::default()
    }

    /// Whether anything of context `ctx` was seen (else the guard abstains).
    pub fn knows(&self, ctx: &str) -> bool {
        self.contexts.contains_key(ctx)
    }

    /// Context `ctx` exists (a session or sub-agent start).
    pub fn start(&mut self, ctx: &str) {
        self.contexts.entry(ctx.to_string()).or_default();
    }

    /// A user turn in `ctx`.
    pub fn turn(&mut self, ctx: &str) {
        self.ctx(ctx).state.turn();
    }

    /// A compaction of `ctx`.
    pub fn compaction(&mut self, ctx: &str) {
        self.ctx(ctx).state.compaction();
    }

    fn ctx(&mut self, ctx: &str) -> &mut Ctx {
        self.contexts.entry(ctx.to_string()).or_default()
    }

    /// A finished call of `tool` with `input` in `ctx`; `ok` when it succeeded. A
    /// call that never ran (denied) must not be recorded.
    pub fn call(&mut self, ctx: &str, tool: &str, input: &Value, ok: bool, classes: &ToolClasses) {
        let canon = canonical_json(input);
        self.call_canonical(ctx, tool, &tool_key(tool, Some(input)), &canon, ok, classes);
    }

    fn call_canonical(
        &mut self,
        ctx: &str,
        tool: &str,
        class: &str,
        canon: &str,
        ok: bool,
        classes: &ToolClasses,
    ) {
        self.ctx(ctx).state.call(tool, class, canon, ok, classes);
        if !classes.read_only.contains(class) {
            for (k, c) in self.contexts.iter_mut() {
                if k != ctx {
                    c.state.compaction();
                }
            }
        }
    }

    /// Feed one step of a trace (in trace order): user turns, compactions, tool and
    /// spawn results. Placeholder steps of a replay (attribute `replay`) and denied
    /// steps did not run and are skipped.
    pub fn apply_step(&mut self, step: &tracecard_core::Step, classes: &ToolClasses) {
        if step.attributes.contains_key("replay") || step.status == StepStatus::Denied {
            return;
        }
        let ctx = trace_context(step.parent);
        match step.kind {
            StepKind::UserInput => self.turn(&ctx),
            StepKind::Compaction => self.compaction(&ctx),
            StepKind::ToolUse | StepKind::SubagentSpawn => {
                let tool = step.tool.clone().unwrap_or_default();
                let (canon, value) = crate::signature::canonical_input(step);
                let class = tool_key(&tool, value.as_ref());
                self.call_canonical(
                    &ctx,
                    &tool,
                    &class,
                    &canon,
                    step.status == StepStatus::Ok,
                    classes,
                );
                if step.kind == StepKind::SubagentSpawn {
                    self.start(&trace_context(Some(step.id)));
                }
            }
            _ => self.start(&ctx),
        }
    }

    /// The state after every step of `trace`.
    pub fn from_trace(trace: &Trace, classes: &ToolClasses) -> Self {
        let mut s = SessionState::new();
        s.start(MAIN);
        for step in &trace.steps {
            s.apply_step(step, classes);
        }
        s
    }
}

/// The context key of a trace step whose parent (spawn) is `parent`.
pub fn trace_context(parent: Option<tracecard_core::StepId>) -> String {
    match parent {
        None => MAIN.to_string(),
        Some(p) => format!("step-{}", p.0),
    }
}

/// A pending call: what the hook (or wrapper) knows before it runs.
#[derive(Debug, Clone)]
pub struct Pending<'a> {
    /// Tool name.
    pub tool: &'a str,
    /// Tool input.
    pub input: &'a Value,
    /// Context key ([`MAIN`], an agent id, `step-<spawn id>`).
    pub context: &'a str,
    /// The sub-agent's type when the call runs in a sub-agent.
    pub agent_type: Option<&'a str>,
}

/// The enforceable rules of a rule set, with the tool classes they were learnt with.
#[derive(Debug, Clone)]
pub struct Guard {
    rules: Vec<Rule>,
    classes: ToolClasses,
    spawn_tools: BTreeSet<String>,
    /// Per spawn tool: the argument keys that name the spawned agent's type.
    type_keys: BTreeMap<String, BTreeSet<String>>,
}

impl Guard {
    /// A guard enforcing the rules of `set` that may deny under `opts`.
    pub fn new(set: &RuleSet, opts: &GuardOptions) -> Self {
        let rules: Vec<Rule> = set
            .rules
            .iter()
            .filter(|r| may_deny(r, opts))
            .cloned()
            .collect();
        let mut spawn_tools: BTreeSet<String> = SPAWN_TOOLS.iter().map(|s| s.to_string()).collect();
        let mut type_keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for t in SPAWN_TOOLS {
            type_keys
                .entry(t.to_string())
                .or_default()
                .insert("subagent_type".into());
        }
        for r in &set.rules {
            if r.matcher.kind == StepKind::SubagentSpawn {
                if let Some(t) = &r.matcher.tool {
                    spawn_tools.insert(t.clone());
                    let keys = type_keys.entry(t.clone()).or_default();
                    for (k, p) in r.matcher.args.iter().flatten() {
                        if p.equals.is_some() {
                            keys.insert(k.clone());
                        }
                    }
                }
            }
        }
        Guard {
            rules,
            classes: set.tools.clone(),
            spawn_tools,
            type_keys,
        }
    }

    /// A guard enforcing the rules of the `rules.yaml` at `path` under `opts`. A
    /// malformed file is an [`Error::Parse`](crate::Error::Parse) naming the file,
    /// the line and the field (`rules[3].match.tool`).
    pub fn load(path: &Path, opts: &GuardOptions) -> crate::Result<Guard> {
        Ok(Guard::new(&RuleSet::read(path)?, opts))
    }

    /// The rules that may deny.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The ids of the rules that may deny, in `rules.yaml` order: what a run under
    /// this guard records as [`ACTIVE_RULES_KEY`](crate::evaluate::ACTIVE_RULES_KEY)
    /// (comma-separated) so `evaluate` can ablate per lane.
    pub fn active_rules(&self) -> Vec<String> {
        self.rules.iter().map(|r| r.id.clone()).collect()
    }

    /// Decide `tool` with `input` given the trace recorded so far (the pending
    /// call not in it). `subagent`: the spawn step whose sub-agent makes the call
    /// (`None`: the main context); its agent type is the spawn's `agent`. A
    /// `subagent` that is not a spawn step of `trace` is an input error.
    pub fn decide_on_trace(
        &self,
        trace: &Trace,
        tool: &str,
        input: &Value,
        subagent: Option<StepId>,
    ) -> crate::Result<Decision> {
        let agent_type = match subagent {
            None => None,
            Some(id) => match trace.step(id) {
                Some(s) if s.kind == StepKind::SubagentSpawn => s.agent.as_deref(),
                _ => {
                    return Err(crate::Error::Input(format!(
                        "subagent: step {} of session {:?} is not a sub-agent spawn",
                        id.0, trace.session_id
                    )));
                }
            },
        };
        let state = SessionState::from_trace(trace, &self.classes);
        let ctx = trace_context(subagent);
        Ok(self.decide(
            &state,
            &Pending {
                tool,
                input,
                context: &ctx,
                agent_type,
            },
        ))
    }

    /// Decide `tool` with `input` given a Claude Code transcript so far (the main
    /// session's JSONL; sub-agent files beside it), as the hook does. `agent_id` /
    /// `agent_type`: the sub-agent making the call (`None`: the main session). An
    /// unreadable or malformed transcript is an input error naming the file (and
    /// line).
    pub fn decide_on_transcript(
        &self,
        transcript: &Path,
        tool: &str,
        input: &Value,
        agent_id: Option<&str>,
        agent_type: Option<&str>,
    ) -> crate::Result<Decision> {
        if !self.names(tool) {
            return Ok(Decision::allow("no rule names this tool", None));
        }
        let state = claude_code::session_state(transcript, None, &self.classes)
            .map_err(|e| crate::Error::Input(e.to_string()))?;
        Ok(self.decide(
            &state,
            &Pending {
                tool,
                input,
                context: agent_id.unwrap_or(MAIN),
                agent_type,
            },
        ))
    }

    /// Whether a rule that may deny names `tool`.
    fn names(&self, tool: &str) -> bool {
        self.rules
            .iter()
            .any(|r| r.matcher.tool.as_deref() == Some(tool))
    }

    /// The tool classes (from `rules.yaml`) the state must be fed with.
    pub fn classes(&self) -> &ToolClasses {
        &self.classes
    }

    /// The signature of `call` given the state before it (`None` when the
    /// context is unknown).
    pub fn signature(&self, state: &SessionState, call: &Pending<'_>) -> Option<Match> {
        let ctx = state.contexts.get(call.context)?;
        let kind = if self.spawn_tools.contains(call.tool) {
            StepKind::SubagentSpawn
        } else {
            StepKind::ToolUse
        };
        let spawned = if kind == StepKind::SubagentSpawn {
            self.type_keys.get(call.tool).and_then(|keys| {
                keys.iter()
                    .find_map(|k| call.input.get(k).and_then(Value::as_str))
            })
        } else {
            None
        };
        let canon = canonical_json(call.input);
        let after = ctx.state.classify(call.tool, &canon);
        let (scope, agent_type) = if call.context == MAIN {
            (Scope::Main, None)
        } else {
            (Scope::Subagent, call.agent_type.map(str::to_string))
        };
        Some(Match {
            kind,
            tool: Some(call.tool.to_string()),
            args: arg_shape(call.input, spawned),
            scope,
            agent_type,
            after,
            intervening_tools: Vec::new(),
            requested: Vec::new(),
        })
    }

    /// Allow or deny `call` given the state before it. Deterministic: the first
    /// accepting rule in `rules.yaml` order decides.
    pub fn decide(&self, state: &SessionState, call: &Pending<'_>) -> Decision {
        if !self.names(call.tool) {
            return Decision::allow("no rule names this tool", None);
        }
        let Some(sig) = self.signature(state, call) else {
            return Decision::allow(
                format!("state unavailable: no record of context {:?}", call.context),
                None,
            );
        };
        for r in &self.rules {
            if r.matcher.accepts(&sig) {
                return Decision {
                    allowed: false,
                    rule_id: Some(r.id.clone()),
                    reason: deny_reason(r),
                    after: Some(sig.after),
                };
            }
        }
        Decision::allow("no rule matches", Some(sig.after))
    }
}

/// Whether `r` may deny under `opts`.
pub fn may_deny(r: &Rule, opts: &GuardOptions) -> bool {
    r.action == Action::Prune
        && r.enforce == Enforce::PreToolUse
        && r.matcher.enforceable()
        && (r.status == RuleStatus::Active
            || (opts.include_held_back && r.status == RuleStatus::HeldBack))
        && r.support.sessions >= opts.min_support
        && (opts.repeat_after_change || r.matcher.after != After::RepeatAfterChange)
}

/// `<rule id>: <reason> (redundant in N steps of M sessions across T tasks; K
/// counter-examples)`.
pub fn deny_reason(r: &Rule) -> String {
    format!(
        "{}: {} (proven waste in {} step(s) of {} session(s) across {} task(s); {} counter-example(s))",
        r.id,
        r.reason.trim_end_matches('.'),
        r.support.steps,
        r.support.sessions,
        r.support.tasks,
        r.counter_examples.steps
    )
}

pub mod claude_code;

/// The Claude Code `PreToolUse` hook input (unknown fields are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct HookInput {
    /// Session id.
    pub session_id: String,
    /// The main session's JSONL.
    pub transcript_path: std::path::PathBuf,
    /// `PreToolUse`.
    #[serde(default)]
    pub hook_event_name: Option<String>,
    /// The pending call's tool.
    pub tool_name: String,
    /// The pending call's input.
    #[serde(default)]
    pub tool_input: Value,
    /// The pending call's id.
    #[serde(default)]
    pub tool_use_id: Option<String>,
    /// Set when the call is made inside a sub-agent.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// The sub-agent's type (with `agent_id`).
    #[serde(default)]
    pub agent_type: Option<String>,
}

/// What the hook does with one call.
#[derive(Debug, Clone)]
pub struct HookOutcome {
    /// The decision (in dry-run, what would have been decided).
    pub decision: Decision,
    /// What to print on stdout (the deny JSON), `None` to allow silently.
    pub stdout: Option<String>,
    /// One JSONL log line: `session_id`, `tool_use_id`, `tool_name`, `agent_id`,
    /// `decision`, `rule_id`, `after`, `reason`, and `active_rules` (the ids of
    /// the rules this guard may deny with, whatever the decision) and `dry_run`,
    /// which `evaluate --guard-log` reads ([`crate::evaluate::read_guard_log`]).
    pub log: String,
}

/// The deny output of the `PreToolUse` hook contract.
pub fn deny_json(reason: &str) -> String {
    serde_json::json!({
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }
    })
    .to_string()
}

/// Decide one `PreToolUse` hook call: `stdin` is the hook's JSON input. `Err` is a
/// fail-open case (bad stdin, unreadable transcript): exit 1, one line on stderr.
pub fn hook(guard: &Guard, stdin: &str, dry_run: bool) -> Result<HookOutcome, String> {
    let input: HookInput =
        serde_json::from_str(stdin).map_err(|e| format!("hook input is not valid: {e}"))?;
    let decision = if input
        .hook_event_name
        .as_deref()
        .is_some_and(|e| e != "PreToolUse")
    {
        Decision::allow("not a PreToolUse event", None)
    } else if !guard.names(&input.tool_name) {
        // no rule can fire: no need to read the transcript
        Decision::allow("no rule names this tool", None)
    } else {
        let state = claude_code::session_state(
            &input.transcript_path,
            input.tool_use_id.as_deref(),
            &guard.classes,
        )
        .map_err(|e| e.to_string())?;
        let ctx = input.agent_id.as_deref().unwrap_or(MAIN);
        guard.decide(
            &state,
            &Pending {
                tool: &input.tool_name,
                input: &input.tool_input,
                context: ctx,
                agent_type: input.agent_type.as_deref(),
            },
        )
    };
    let action = match (decision.allowed, dry_run) {
        (true, _) => "allow",
        (false, false) => "deny",
        (false, true) => "would_deny",
    };
    let log = serde_json::json!({
        "session_id": input.session_id,
        "tool_use_id": input.tool_use_id,
        "tool_name": input.tool_name,
        "agent_id": input.agent_id,
        "decision": action,
        "rule_id": decision.rule_id,
        "after": decision.after,
        "reason": decision.reason,
        "active_rules": guard.active_rules(),
        "dry_run": dry_run,
    })
    .to_string();
    let stdout = (!decision.allowed && !dry_run).then(|| deny_json(&decision.reason));
    Ok(HookOutcome {
        decision,
        stdout,
        log,
    })
}
