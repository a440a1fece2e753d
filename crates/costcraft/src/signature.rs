//! Step signatures that can be recognised **before** the step runs: the step's
//! kind, tool, normalised argument shape, the agent context it runs in, and the
//! pattern of the steps before it in that same context.
//!
//! A signature only looks at the step's own call (`tool_name` + `tool_input`) and at
//! earlier steps of the same agent context (the main session, or one sub-agent):
//! rules keyed on it are prefix-causal, so a guard can decide on a pending tool
//! call from the transcript so far ([`ContextState`] is the shared state machine).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracecard_core::{StepId, StepKind, StepStatus, Trace};

/// Argument keys whose string value is a command line: the first word is kept.
pub const COMMAND_KEYS: &[&str] = &["command", "cmd", "script"];
/// Argument keys whose string value is a path: the extension is kept.
pub const PATH_KEYS: &[&str] = &[
    "path",
    "file",
    "file_path",
    "filepath",
    "filename",
    "notebook_path",
    "target_file",
];

/// JSON type of an argument value.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JsonType {
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` / `false`.
    Boolean,
    /// An array.
    Array,
    /// An object.
    Object,
    /// `null`.
    Null,
}

impl JsonType {
    fn of(v: &Value) -> JsonType {
        match v {
            Value::String(_) => JsonType::String,
            Value::Number(_) => JsonType::Number,
            Value::Bool(_) => JsonType::Boolean,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
            Value::Null => JsonType::Null,
        }
    }
}

/// The normalised shape of one argument. A value matches when it has `type` and
/// every constraint that is present.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct ArgPattern {
    /// JSON type of the value.
    #[serde(rename = "type")]
    pub ty: JsonType,
    /// Command keys ([`COMMAND_KEYS`]): the first whitespace-separated word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub word: Option<String>,
    /// Path keys ([`PATH_KEYS`]): the extension of the last path component,
    /// lower-cased with its dot (`.md`), or `""` when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<String>,
    /// The exact value (kept only for the key naming a spawned sub-agent's type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
}

/// Which agent context a step runs in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The main session.
    Main,
    /// A sub-agent (its own context: it does not see its parent's reads).
    Subagent,
}

/// The pattern of earlier steps in the same agent context, checked in this order.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum After {
    /// An earlier call of the same tool with the canonically equal input succeeded
    /// in this context, and since then only `intervening_tools` ran here (no write,
    /// no other tool, no sub-agent, no compaction).
    RepeatOfSuccess,
    /// An equal earlier call succeeded here, but something that may change its
    /// result (a write, another tool, a sub-agent, a compaction) ran since.
    RepeatAfterChange,
    /// Equal earlier calls here all failed (a retry).
    RetryOfFailure,
    /// No call to a reading tool ran in this context since its last user turn (or
    /// since the sub-agent started): e.g. a search before any file of the task was
    /// read.
    BeforeAnyRead,
    /// None of the above.
    #[default]
    Any,
}

impl After {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            After::RepeatOfSuccess => "repeat_of_success",
            After::RepeatAfterChange => "repeat_after_change",
            After::RetryOfFailure => "retry_of_failure",
            After::BeforeAnyRead => "before_any_read",
            After::Any => "any",
        }
    }
}

/// A machine-readable step signature, and the `match` of a rule.
///
/// For a pending tool call a guard fills it from `tool_name`, `tool_input` and the
/// transcript of the same agent context; a rule fires when [`Match::accepts`] the
/// call's signature.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct Match {
    /// Step kind: `tool_use` and `subagent_spawn` are decidable before the call
    /// runs; `llm_call` signatures name what the call requested and are advice only.
    pub kind: StepKind,
    /// Tool name (`tool_name` of the pending call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Argument shape: exactly these top-level keys, each matching its pattern.
    /// Absent when the trace carried no arguments (then any input matches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<BTreeMap<String, ArgPattern>>,
    /// Main session or sub-agent.
    pub scope: Scope,
    /// For `scope: subagent`: the sub-agent's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_type: Option<String>,
    /// The pattern of earlier steps in the same agent context.
    #[serde(default)]
    pub after: After,
    /// For `after: repeat_of_success`: the tools that may run between the earlier
    /// call and this one (tools never seen writing in the distillation corpus).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intervening_tools: Vec<String>,
    /// For `llm_call`: the signatures of the tool calls it requested.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requested: Vec<Match>,
}

impl Match {
    /// Whether a step with signature `sig` is matched by this rule match: every
    /// field equal, except that an absent `args` matches any arguments.
    pub fn accepts(&self, sig: &Match) -> bool {
        self.kind == sig.kind
            && self.tool == sig.tool
            && self.scope == sig.scope
            && self.agent_type == sig.agent_type
            && self.after == sig.after
            && (self.args.is_none() || self.args == sig.args)
            && self.requested.len() == sig.requested.len()
            && self
                .requested
                .iter()
                .zip(&sig.requested)
                .all(|(a, b)| a.accepts(b))
    }

    /// Whether a guard can decide it on a pending call (`tool_use` and
    /// `subagent_spawn`).
    pub fn enforceable(&self) -> bool {
        matches!(self.kind, StepKind::ToolUse | StepKind::SubagentSpawn)
    }

    /// A stable key (canonical JSON) for grouping.
    pub fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// One line in words: `fs_read {path:*.env} in main, repeat_of_success`.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            StepKind::LlmCall if self.requested.is_empty() => {
                "model call answering without tool requests".to_string()
            }
            StepKind::LlmCall => format!(
                "model call requesting only [{}]",
                self.requested
                    .iter()
                    .map(|m| m.describe())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            _ => {
                let mut s = self
                    .tool
                    .clone()
                    .unwrap_or_else(|| self.kind.as_str().into());
                if self.kind == StepKind::SubagentSpawn {
                    s = format!("sub-agent spawn via {s}");
                }
                if let Some(args) = &self.args {
                    let parts: Vec<String> = args
                        .iter()
                        .map(|(k, p)| {
                            let v = if let Some(e) = &p.equals {
                                format!("{e:?}")
                            } else if let Some(w) = &p.word {
                                format!("\"{w} …\"")
                            } else if let Some(e) = &p.ext {
                                if e.is_empty() {
                                    "<path>".into()
                                } else {
                                    format!("\"*{e}\"")
                                }
                            } else {
                                format!(
                                    "<{}>",
                                    serde_json::to_value(p.ty)
                                        .ok()
                                        .and_then(|v| v.as_str().map(String::from))
                                        .unwrap_or_default()
                                )
                            };
                            format!("{k}: {v}")
                        })
                        .collect();
                    s = format!("{s} {{{}}}", parts.join(", "));
                }
                let after = match self.after {
                    After::RepeatOfSuccess => {
                        ", same input as an earlier successful call in the same context with no write in between"
                    }
                    After::RepeatAfterChange => {
                        ", same input as an earlier call, after something changed"
                    }
                    After::RetryOfFailure => ", retrying an identical failed call",
                    After::BeforeAnyRead => ", before anything was read in this turn",
                    After::Any => "",
                };
                format!("{s}{after}")
            }
        };
        let scope = match (&self.scope, &self.agent_type) {
            (Scope::Main, _) => "main agent".to_string(),
            (Scope::Subagent, Some(t)) => format!("sub-agent `{t}`"),
            (Scope::Subagent, None) => "a sub-agent".to_string(),
        };
        format!("{what} (in the {scope})")
    }
}

/// Canonical JSON text: object keys sorted at every level, no whitespace.
pub fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).unwrap_or_default());
                    out.push(':');
                    write(&m[k.as_str()], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&serde_json::to_string(other).unwrap_or_default()),
        }
    }
    let mut s = String::new();
    write(v, &mut s);
    s
}

/// The argument shape of a tool input (`None` unless it is a JSON object).
/// `spawned_agent`: for a sub-agent spawn, the spawned agent's type; the key
/// holding it keeps its value (`equals`).
pub fn arg_shape(
    input: &Value,
    spawned_agent: Option<&str>,
) -> Option<BTreeMap<String, ArgPattern>> {
    let obj = input.as_object()?;
    Some(
        obj.iter()
            .map(|(k, v)| {
                let mut p = ArgPattern {
                    ty: JsonType::of(v),
                    word: None,
                    ext: None,
                    equals: None,
                };
                if let Value::String(s) = v {
                    let lk = k.to_ascii_lowercase();
                    if spawned_agent == Some(s.as_str()) {
                        p.equals = Some(s.clone());
                    } else if COMMAND_KEYS.contains(&lk.as_str()) {
                        p.word = Some(s.split_whitespace().next().unwrap_or("").to_string());
                    } else if PATH_KEYS.contains(&lk.as_str()) {
                        let base = s.rsplit(['/', '\\']).next().unwrap_or("");
                        p.ext = Some(match base.rfind('.') {
                            Some(i) if i > 0 => base[i..].to_ascii_lowercase(),
                            _ => String::new(),
                        });
                    }
                }
                (k.clone(), p)
            })
            .collect(),
    )
}

/// The key tool classes are learnt under: the tool name, plus `:<first word>` when
/// the input has a command argument ([`COMMAND_KEYS`]): `shell:ls` may be
/// read-only while `shell:cargo` writes.
pub fn tool_key(tool: &str, input: Option<&Value>) -> String {
    if let Some(obj) = input.and_then(|v| v.as_object()) {
        for (k, v) in obj {
            if COMMAND_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                if let Some(w) = v.as_str().and_then(|s| s.split_whitespace().next()) {
                    return format!("{tool}:{w}");
                }
            }
        }
    }
    tool.to_string()
}

/// Which tools write and which read, learnt from a corpus.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ToolClasses {
    /// Tools (by [`tool_key`]) that declared reads and never a write anywhere in
    /// the corpus: the only tools allowed between a call and its repeat in
    /// `repeat_of_success`.
    pub read_only: BTreeSet<String>,
    /// Tools (by [`tool_key`]) that declared a read at least once.
    pub readers: BTreeSet<String>,
}

impl ToolClasses {
    /// Learn the classes from `traces`: a tool is read-only when at least one call
    /// declared a read and no call ever declared a write.
    pub fn learn<'a>(traces: impl IntoIterator<Item = &'a Trace>) -> ToolClasses {
        let mut writers = BTreeSet::new();
        let mut readers = BTreeSet::new();
        for t in traces {
            for s in &t.steps {
                let Some(tool) = &s.tool else { continue };
                let (_, value) = canonical_input(s);
                let tool = &tool_key(tool, value.as_ref());
                if s.kind != StepKind::ToolUse {
                    writers.insert(tool.clone());
                    continue;
                }
                if !s.links.writes.is_empty() {
                    writers.insert(tool.clone());
                }
                if !s.links.reads.is_empty() {
                    readers.insert(tool.clone());
                }
            }
        }
        ToolClasses {
            read_only: readers.difference(&writers).cloned().collect(),
            readers,
        }
    }
}

/// The prefix state of one agent context: what a guard needs to know about the
/// calls before a pending one. Feed it the context's events in order
/// ([`ContextState::turn`], [`ContextState::compaction`], [`ContextState::call`])
/// and ask [`ContextState::classify`] about the next call.
#[derive(Debug, Clone, Default)]
pub struct ContextState {
    epoch: u64,
    last_ok: HashMap<(String, String), u64>,
    failed: HashSet<(String, String)>,
    read_since_turn: bool,
}

impl ContextState {
    /// A fresh context (a session start, or a sub-agent start).
    pub fn new() -> Self {
        ContextState::default()
    }

    /// A user turn: starts a new task turn.
    pub fn turn(&mut self) {
        self.read_since_turn = false;
    }

    /// A context compaction: earlier results are no longer in the context.
    pub fn compaction(&mut self) {
        self.epoch += 1;
    }

    /// How a call of `tool` with canonical input `input` relates to the calls
    /// before it in this context.
    pub fn classify(&self, tool: &str, input: &str) -> After {
        let key = (tool.to_string(), input.to_string());
        match self.last_ok.get(&key) {
            Some(&e) if e == self.epoch => After::RepeatOfSuccess,
            Some(_) => After::RepeatAfterChange,
            None if self.failed.contains(&key) => After::RetryOfFailure,
            None if !self.read_since_turn => After::BeforeAnyRead,
            None => After::Any,
        }
    }

    /// Record a finished call of `tool` (class key `class`, see [`tool_key`]):
    /// `ok` when it succeeded; `classes` says whether it may have changed anything
    /// (only read-only tools keep the epoch).
    pub fn call(&mut self, tool: &str, class: &str, input: &str, ok: bool, classes: &ToolClasses) {
        let key = (tool.to_string(), input.to_string());
        if ok {
            self.last_ok.insert(key, self.epoch);
        } else {
            self.failed.insert(key);
        }
        if classes.readers.contains(class) {
            self.read_since_turn = true;
        }
        if !classes.read_only.contains(class) {
            self.epoch += 1;
        }
    }
}

/// The canonical input text of a step: canonical JSON when its input text is JSON,
/// the text itself otherwise, or the content hash when only that was kept.
pub fn canonical_input(step: &tracecard_core::Step) -> (String, Option<Value>) {
    match &step.input {
        Some(c) => match &c.text {
            Some(t) => match serde_json::from_str::<Value>(t) {
                Ok(v) => (canonical_json(&v), Some(v)),
                Err(_) => (t.clone(), None),
            },
            None => (c.hash.clone(), None),
        },
        None => (String::new(), None),
    }
}

/// The signature of every step of `trace` (index = id − 1); `None` for steps no
/// rule can be about (user turns, compactions, other).
pub fn signatures(trace: &Trace, classes: &ToolClasses) -> Vec<Option<Match>> {
    let n = trace.steps.len();
    let mut out: Vec<Option<Match>> = vec![None; n];
    let mut ctx: HashMap<Option<StepId>, ContextState> = HashMap::new();
    let read_only: Vec<String> = classes.read_only.iter().cloned().collect();
    let scope_of = |parent: Option<StepId>| -> (Scope, Option<String>) {
        match parent {
            None => (Scope::Main, None),
            Some(p) => (Scope::Subagent, trace.step(p).and_then(|s| s.agent.clone())),
        }
    };
    for (i, s) in trace.steps.iter().enumerate() {
        let state = ctx.entry(s.parent).or_default();
        match s.kind {
            StepKind::UserInput => state.turn(),
            StepKind::Compaction => state.compaction(),
            StepKind::ToolUse | StepKind::SubagentSpawn => {
                let tool = s.tool.clone().unwrap_or_default();
                let (canon, value) = canonical_input(s);
                let after = state.classify(&tool, &canon);
                let spawned = (s.kind == StepKind::SubagentSpawn)
                    .then_some(s.agent.as_deref())
                    .flatten();
                let (scope, agent_type) = scope_of(s.parent);
                out[i] = Some(Match {
                    kind: s.kind,
                    tool: s.tool.clone(),
                    args: value.as_ref().and_then(|v| arg_shape(v, spawned)),
                    scope,
                    agent_type,
                    after,
                    intervening_tools: if after == After::RepeatOfSuccess {
                        read_only.clone()
                    } else {
                        Vec::new()
                    },
                    requested: Vec::new(),
                });
                let class = tool_key(&tool, value.as_ref());
                state.call(&tool, &class, &canon, s.status == StepStatus::Ok, classes);
            }
            _ => {}
        }
    }
    // Model calls: named by the tool calls they requested (the tool steps that
    // consume them).
    let mut requested: Vec<Vec<Match>> = vec![Vec::new(); n];
    for s in &trace.steps {
        if matches!(s.kind, StepKind::ToolUse | StepKind::SubagentSpawn) {
            for c in &s.links.consumes {
                if let (Some(m), Some(cs)) = (&out[s.id.index()], trace.step(*c)) {
                    if cs.kind == StepKind::LlmCall {
                        requested[c.index()].push(m.clone());
                    }
                }
            }
        }
    }
    for (i, s) in trace.steps.iter().enumerate() {
        if s.kind == StepKind::LlmCall {
            let (scope, agent_type) = scope_of(s.parent);
            let mut req = std::mem::take(&mut requested[i]);
            req.sort();
            req.dedup();
            out[i] = Some(Match {
                kind: StepKind::LlmCall,
                tool: None,
                args: None,
                scope,
                agent_type,
                after: After::Any,
                intervening_tools: Vec::new(),
                requested: req,
            });
        }
    }
    out
}
