//! The harness: a virtual workspace, the tools, the agents' contexts, and the step
//! recorder that keeps replay ids aligned with the baseline.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use tracecard_core::model::Content;
use tracecard_core::{Recorder, StepId, StepKind, TokenUsage};

use crate::{ContentLevel, Role};

/// The virtual world the agent works in: files, a key-value store, HTTP endpoints.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    pub files: BTreeMap<String, String>,
    pub kv: BTreeMap<String, String>,
    pub http: BTreeMap<String, String>,
    /// Modification counter per file (0 = as generated).
    pub mtime: BTreeMap<String, u64>,
    tick: u64,
    /// `cargo test` fails while serde_json is at least `.0` and serde is below `.1`
    /// (patch numbers of 1.0.x).
    pub serde_rule: Option<(u64, u64)>,
}

impl Env {
    pub fn put(&mut self, path: &str, text: impl Into<String>) {
        self.files.insert(path.to_owned(), text.into());
    }

    fn write(&mut self, path: &str, text: String) {
        self.tick += 1;
        self.files.insert(path.to_owned(), text);
        self.mtime.insert(path.to_owned(), self.tick);
    }

    fn mtime(&self, path: &str) -> u64 {
        self.mtime.get(path).copied().unwrap_or(0)
    }

    fn under(&self, dir: &str) -> Vec<String> {
        let d = dir.trim_end_matches('/');
        self.files
            .keys()
            .filter(|p| d == "." || d.is_empty() || p.starts_with(&format!("{d}/")))
            .filter(|p| !p.starts_with(".git/"))
            .cloned()
            .collect()
    }

    fn ls(&self, dir: &str) -> Option<String> {
        let d = dir.trim_end_matches('/');
        let prefix = format!("{d}/");
        let mut names = BTreeSet::new();
        for p in self.files.keys() {
            if let Some(rest) = p.strip_prefix(&prefix) {
                match rest.split_once('/') {
                    Some((sub, _)) => names.insert(format!("{sub}/")),
                    None => names.insert(rest.to_owned()),
                };
            }
        }
        // a directory that exists but is empty is kept as `dir/.keep`
        names.remove(".keep");
        if names.is_empty() && !self.files.contains_key(&format!("{prefix}.keep")) {
            return None;
        }
        Some(names.into_iter().collect::<Vec<_>>().join("\n"))
    }

    pub(crate) fn test_report(&self) -> Result<String, String> {
        if let Some((json_min, serde_min)) = self.serde_rule {
            let toml = self.files.get("Cargo.toml").cloned().unwrap_or_default();
            let json_v = dep_patch(&toml, "serde_json").unwrap_or(0);
            let serde_v = dep_patch(&toml, "serde").unwrap_or(0);
            if json_v >= json_min && serde_v < serde_min {
                return Err(format!(
                    "error: failed to select a version for `serde`.\n  serde_json v1.0.{json_v} requires serde = \"^1.0.{serde_min}\"\n  but Cargo.toml pins serde = \"1.0.{serde_v}\"\ntest result: FAILED (build error)"
                ));
            }
        }
        Ok("running 48 tests\n................................................\ntest result: ok. 48 passed; 0 failed; 0 ignored; finished in 3.41s".into())
    }
}

/// The patch number of `name = "1.0.N"` in a Cargo.toml text.
pub(crate) fn dep_patch(toml: &str, name: &str) -> Option<u64> {
    toml.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?.trim_start().strip_prefix('=')?;
        rest.trim()
            .trim_matches('"')
            .strip_prefix("1.0.")?
            .parse()
            .ok()
    })
}

/// One tool request.
#[derive(Debug, Clone)]
pub(crate) enum Call {
    Shell(String),
    FsRead(String),
    FsWrite(String, String),
    Patch(String, String, String),
    Http(String),
    /// An HTTP request that hits a transient fault (the service answers 503).
    HttpFault(String),
    KvGet(String),
    /// A key-value read that hits a transient connection reset.
    KvGetFault(String),
    KvSet(String, String),
    Search(String),
    Tests,
}

impl Call {
    fn name(&self) -> &'static str {
        match self {
            Call::Shell(_) => "shell",
            Call::FsRead(_) => "fs_read",
            Call::FsWrite(..) => "fs_write",
            Call::Patch(..) => "apply_patch",
            Call::Http(_) | Call::HttpFault(_) => "http_get",
            Call::KvGet(_) | Call::KvGetFault(_) => "kv_get",
            Call::KvSet(..) => "kv_set",
            Call::Search(_) => "search_code",
            Call::Tests => "run_tests",
        }
    }

    fn arguments(&self) -> String {
        let v = match self {
            Call::Shell(c) => json!({ "command": c }),
            Call::FsRead(p) => json!({ "path": p }),
            Call::FsWrite(p, c) => json!({ "path": p, "content": c }),
            Call::Patch(p, old, new) => json!({ "path": p, "old": old, "new": new }),
            Call::Http(u) | Call::HttpFault(u) => json!({ "url": u }),
            Call::KvGet(k) | Call::KvGetFault(k) => json!({ "key": k }),
            Call::KvSet(k, v) => json!({ "key": k, "value": v }),
            Call::Search(q) => json!({ "query": q, "scope": "src" }),
            Call::Tests => json!({ "command": "cargo test" }),
        };
        v.to_string()
    }
}

/// Outcome of executing a call: result text and the artifacts it read and wrote.
struct Exec {
    result: Result<String, String>,
    reads: Vec<String>,
    writes: Vec<String>,
    ms: u64,
}

/// One agent's context: what has been delivered to it since its last model call,
/// how big its prompt is, and which file versions it has read.
#[derive(Debug, Clone)]
pub(crate) struct Agent {
    pub name: String,
    model: &'static str,
    openai: bool,
    /// False for a sub-agent whose spawn was skipped: all its steps are placeholders.
    pub alive: bool,
    pending: Vec<(StepId, u64)>,
    ctx_tokens: u64,
    first_call: bool,
    system: u64,
    read_at: BTreeMap<String, u64>,
}

impl Agent {
    pub fn new(name: &str, model: &'static str, alive: bool) -> Self {
        Agent {
            name: name.to_owned(),
            model,
            openai: model.starts_with("gpt"),
            alive,
            pending: Vec::new(),
            ctx_tokens: 0,
            first_call: true,
            system: 11_800,
            read_at: BTreeMap::new(),
        }
    }
}

/// Records the session and executes steps, skipping the removed ones.
///
/// Id alignment: every planned step slot records exactly one step, executed or not.
/// A slot that is removed, whose requesting model call did not run, or whose agent
/// was never spawned is recorded as a placeholder (attribute `replay`), so step `n`
/// of a replay is always slot `n` of the baseline. The number and order of slots
/// depend only on the seed; what the agent obtained changes only arguments, results
/// and whether a slot is requested.
pub(crate) struct Engine<'r> {
    pub env: Env,
    rec: Recorder,
    removed: &'r BTreeSet<u32>,
    content: ContentLevel,
    seed: u64,
    clock_ms: u64,
    base_hour: u64,
    day: u64,
    pub roles: Vec<Role>,
    /// Steps recorded now belong to the task the agent gets wrong.
    pub in_failed_task: bool,
    /// requester (model call) of each tool/spawn step, by step id.
    requested_by: BTreeMap<u32, u32>,
    spawn_started: BTreeMap<u32, u64>,
}

impl<'r> Engine<'r> {
    pub fn new(
        session_id: &str,
        env: Env,
        removed: &'r BTreeSet<u32>,
        content: ContentLevel,
        seed: u64,
    ) -> Self {
        Engine {
            env,
            rec: Recorder::new(session_id),
            removed,
            content,
            seed,
            clock_ms: 0,
            base_hour: 8 + seed % 9,
            day: 1 + seed % 28,
            roles: Vec::new(),
            in_failed_task: false,
            requested_by: BTreeMap::new(),
            spawn_started: BTreeMap::new(),
        }
    }

    fn next_id(&self) -> u32 {
        self.rec.trace().steps.len() as u32 + 1
    }

    fn timestamp(&self, ms: u64) -> String {
        let total_s = ms / 1000;
        let h = self.base_hour + total_s / 3600;
        let (m, s) = ((total_s / 60) % 60, total_s % 60);
        format!(
            "2025-06-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.day,
            h.min(23),
            m,
            s,
            ms % 1000
        )
    }

    /// Set the start and end time of `id`: starts now, lasts `ms`.
    fn stamp(&mut self, id: StepId, ms: u64) {
        let start = self.timestamp(self.clock_ms);
        self.clock_ms += ms;
        let end = self.timestamp(self.clock_ms);
        if let Some(s) = self.rec.step_mut(id) {
            s.started_at = parse_ts(&start);
            s.ended_at = parse_ts(&end);
        }
    }

    fn set_role(&mut self, id: StepId, role: Role) {
        let i = id.index();
        if self.roles.len() <= i {
            self.roles.resize(i + 1, Role::Work);
        }
        self.roles[i] = if self.in_failed_task {
            Role::InFailedTask
        } else {
            role
        };
    }

    fn placeholder(&mut self, kind: StepKind, ag: &Agent, tool: Option<&str>, why: &str) -> StepId {
        let id = self.rec.begin(kind);
        if let Some(s) = self.rec.step_mut(id) {
            s.tool = tool.map(str::to_owned);
            s.agent = Some(ag.name.clone());
            s.attributes.insert("replay".into(), why.into());
        }
        self.stamp(id, 0);
        id
    }

    fn hide_text(&mut self, id: StepId) {
        if self.content == ContentLevel::Partial {
            if let Some(s) = self.rec.step_mut(id) {
                s.output = s.output.as_ref().map(Content::without_text);
                s.input = s.input.as_ref().map(Content::without_text);
            }
        }
    }

    /// A user message to the main agent; false when removed (the agent never got it).
    pub fn user(&mut self, main: &mut Agent, text: &str) -> bool {
        let id = StepId(self.next_id());
        self.set_role(id, Role::Prompt);
        self.clock_ms += 15_000 + (self.seed.wrapping_add(id.0 as u64 * 7919) % 60) * 1000;
        if self.removed.contains(&id.0) {
            self.placeholder(StepKind::UserInput, main, None, "removed");
            return false;
        }
        let id = self.rec.user_input(text);
        self.stamp(id, 0);
        self.hide_text(id);
        main.pending.push((id, tokens_of(text)));
        true
    }

    /// One model call of `ag` answering with `text` (possibly empty: only tool
    /// requests). Returns its id when it ran; `None` when removed or the agent is not
    /// running. `role` is `Role::Answer` for a reply to the user, otherwise
    /// `Role::Work` (resolved at the end from what it requested).
    pub fn llm(&mut self, ag: &mut Agent, text: &str, role: Role) -> Option<StepId> {
        let id = StepId(self.next_id());
        self.set_role(id, role);
        if !ag.alive {
            self.placeholder(StepKind::LlmCall, ag, None, "not_run");
            return None;
        }
        if self.removed.contains(&id.0) {
            self.placeholder(StepKind::LlmCall, ag, None, "removed");
            return None;
        }
        let system = if ag.first_call { ag.system } else { 0 };
        ag.first_call = false;
        let new: u64 = system + ag.pending.iter().map(|(_, t)| *t).sum::<u64>() + 6;
        let output = 14 + tokens_of(text);
        let tokens = self.usage(ag, new, output);
        let id = self.rec.llm_call(ag.model, tokens, text);
        let ctx: Vec<StepId> = ag.pending.drain(..).map(|(s, _)| s).collect();
        for c in ctx {
            self.rec.in_context(id, c);
        }
        if let Some(s) = self.rec.step_mut(id) {
            s.agent = Some(ag.name.clone());
            s.provider = Some(if ag.openai { "openai" } else { "anthropic" }.into());
            s.source_ref = Some(format!("msg_{:08x}_{:03}", self.seed as u32, id.0));
        }
        ag.ctx_tokens += new + output;
        self.stamp(id, 900 + output * 22);
        self.hide_text(id);
        Some(id)
    }

    fn usage(&self, ag: &Agent, new: u64, output: u64) -> TokenUsage {
        if ag.openai {
            let total = ag.ctx_tokens + new;
            let cached = (ag.ctx_tokens / 128) * 128;
            TokenUsage::from_inclusive(total, cached, 0, output, 0)
        } else {
            TokenUsage::from_exclusive(3, ag.ctx_tokens, new.saturating_sub(3), 0, output)
        }
    }

    /// A tool slot requested by model call `by`. `want` is false when the model (which
    /// ran) chose not to request this call; then, as when `by` did not run or the
    /// slot is removed, a placeholder is recorded and nothing happens.
    pub fn tool(
        &mut self,
        ag: &mut Agent,
        by: Option<StepId>,
        call: Call,
        want: bool,
        role: Role,
    ) -> Option<Result<String, String>> {
        let id = StepId(self.next_id());
        self.set_role(id, role);
        let name = call.name();
        let why = if !ag.alive {
            Some("not_run")
        } else if by.is_none() || !want {
            Some("not_requested")
        } else if self.removed.contains(&id.0) {
            Some("removed")
        } else {
            None
        };
        if let Some(why) = why {
            let p = self.placeholder(StepKind::ToolUse, ag, Some(name), why);
            if let Some(b) = by {
                self.requested_by.insert(p.0, b.0);
            }
            return None;
        }
        let by = by.expect("checked above");
        let args = call.arguments();
        let ex = self.execute(ag, &call);
        let text = match &ex.result {
            Ok(t) => t.clone(),
            Err(e) => e.clone(),
        };
        let id = self.rec.tool_use(name, &args, &text, Some(by));
        self.requested_by.insert(id.0, by.0);
        let call_id = format!("call_{:06x}{:03}", self.seed & 0xff_ffff, id.0);
        if let Some(s) = self.rec.step_mut(id) {
            s.agent = Some(ag.name.clone());
            s.links.tool_call_id = Some(call_id.clone());
        }
        if let Some(s) = self.rec.step_mut(by) {
            s.links.requests.push(call_id);
            // the model wrote these arguments: they are part of its output
            s.tokens.output += tokens_of(&args);
        }
        for r in &ex.reads {
            self.rec.reads(id, r);
        }
        for w in &ex.writes {
            self.rec.writes(id, w);
        }
        if let Err(e) = &ex.result {
            self.rec.error(id, e.lines().next().unwrap_or(e));
        }
        self.stamp(id, ex.ms);
        ag.pending.push((id, 8 + tokens_of(&text)));
        Some(ex.result)
    }

    fn execute(&mut self, ag: &mut Agent, call: &Call) -> Exec {
        let mut ex = Exec {
            result: Ok(String::new()),
            reads: vec![],
            writes: vec![],
            ms: 120,
        };
        match call {
            Call::Shell(cmd) => self.shell(ag, cmd, &mut ex),
            Call::FsRead(p) => {
                ex.reads.push(p.clone());
                ex.result = self.read(ag, p);
            }
            Call::FsWrite(p, c) => {
                if self.env.files.contains_key(p) && ag.read_at.get(p) != Some(&self.env.mtime(p)) {
                    ex.result = Err(stale(p));
                } else {
                    self.env.write(p, c.clone());
                    ag.read_at.insert(p.clone(), self.env.mtime(p));
                    ex.writes.push(p.clone());
                    ex.result = Ok(format!("wrote {} bytes to {p}", c.len()));
                }
            }
            Call::Patch(p, old, new) => {
                let cur = self.env.files.get(p).cloned();
                ex.result = match cur {
                    None => Err(format!("apply_patch: {p}: no such file")),
                    Some(_) if ag.read_at.get(p) != Some(&self.env.mtime(p)) => Err(stale(p)),
                    Some(text) if old.is_empty() || !text.contains(old.as_str()) => Err(format!(
                        "apply_patch: {p}: the `old` text was not found; nothing changed"
                    )),
                    Some(text) => {
                        let updated = text.replacen(old.as_str(), new, 1);
                        self.env.write(p, updated);
                        ag.read_at.insert(p.clone(), self.env.mtime(p));
                        ex.writes.push(p.clone());
                        Ok(format!("patched {p}: 1 hunk applied"))
                    }
                };
                ex.reads.push(p.clone());
            }
            Call::Http(u) => {
                ex.reads.push(u.clone());
                ex.ms = 640;
                ex.result = self
                    .env
                    .http
                    .get(u)
                    .cloned()
                    .ok_or_else(|| format!("HTTP 404 Not Found: {u}"));
            }
            Call::HttpFault(u) => {
                ex.ms = 30_000;
                ex.result = Err(format!(
                    "HTTP 503 Service Unavailable: {u} (upstream timed out)"
                ));
            }
            Call::KvGet(k) => {
                ex.reads.push(format!("kv:{k}"));
                ex.ms = 40;
                ex.result = self
                    .env
                    .kv
                    .get(k)
                    .cloned()
                    .ok_or_else(|| format!("kv: key not found: {k}"));
            }
            Call::KvGetFault(k) => {
                ex.ms = 5_000;
                ex.result = Err(format!("kv: connection reset by peer while reading {k}"));
            }
            Call::KvSet(k, v) => {
                self.env.kv.insert(k.clone(), v.clone());
                ex.writes.push(format!("kv:{k}"));
                ex.result = Ok("OK".into());
            }
            Call::Search(q) => {
                let files = self.env.under("src");
                let mut hits = Vec::new();
                for f in &files {
                    for (n, l) in self.env.files[f].lines().enumerate() {
                        if l.contains(q.as_str()) {
                            hits.push(format!("{f}:{}: {}", n + 1, l.trim()));
                        }
                    }
                }
                ex.reads = files;
                ex.ms = 300;
                ex.result = Ok(if hits.is_empty() {
                    "no matches".into()
                } else {
                    hits.join("\n")
                });
            }
            Call::Tests => {
                ex.reads.push("Cargo.toml".into());
                ex.ms = 41_000;
                ex.result = self.env.test_report();
            }
        }
        ex
    }

    fn read(&self, ag: &mut Agent, p: &str) -> Result<String, String> {
        match self.env.files.get(p) {
            Some(t) => {
                ag.read_at.insert(p.to_owned(), self.env.mtime(p));
                Ok(t.clone())
            }
            None => Err(format!("{p}: No such file or directory")),
        }
    }

    fn shell(&mut self, ag: &mut Agent, cmd: &str, ex: &mut Exec) {
        let words = shell_words(cmd);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        ex.ms = 80;
        match words.as_slice() {
            ["cat", p] => {
                ex.reads.push((*p).to_owned());
                ex.result = self.read(ag, p).map_err(|e| format!("cat: {e}"));
            }
            ["ls", d] => {
                ex.reads.push(d.trim_end_matches('/').to_owned());
                ex.result = self
                    .env
                    .ls(d)
                    .ok_or_else(|| format!("ls: cannot access '{d}': No such file or directory"));
            }
            ["grep", "-rn", pat, d] => {
                let files = self.env.under(d);
                let mut hits = Vec::new();
                for f in &files {
                    for (n, l) in self.env.files[f].lines().enumerate() {
                        if l.contains(pat) {
                            hits.push(format!("./{f}:{}:{l}", n + 1));
                        }
                    }
                }
                ex.reads = files;
                ex.ms = 260;
                ex.result = Ok(hits.join("\n"));
            }
            ["grep", "-c", pat, f] => {
                ex.reads.push((*f).to_owned());
                ex.result = match self.env.files.get(*f) {
                    Some(t) => Ok(t.lines().filter(|l| l.contains(pat)).count().to_string()),
                    None => Err(format!("grep: {f}: No such file or directory")),
                };
            }
            ["wc", "-l", f] => {
                ex.reads.push((*f).to_owned());
                ex.result = match self.env.files.get(*f) {
                    Some(t) => Ok(format!("{} {f}", t.lines().count())),
                    None => Err(format!("wc: {f}: No such file or directory")),
                };
            }
            ["git", "log", "--oneline", _range] => {
                ex.reads.push(".git/log".into());
                ex.result = Ok(self.env.files.get(".git/log").cloned().unwrap_or_default());
            }
            ["cargo", "add", spec] => {
                ex.ms = 2_300;
                let (name, ver) = spec.split_once('@').unwrap_or((spec, "1"));
                let toml = self
                    .env
                    .files
                    .get("Cargo.toml")
                    .cloned()
                    .unwrap_or_default();
                let mut done = false;
                let out: Vec<String> = toml
                    .lines()
                    .map(|l| {
                        if l.starts_with(&format!("{name} ")) || l.starts_with(&format!("{name}="))
                        {
                            done = true;
                            format!("{name} = \"{ver}\"")
                        } else {
                            l.to_owned()
                        }
                    })
                    .collect();
                if done {
                    self.env.write("Cargo.toml", out.join("\n") + "\n");
                    ex.reads.push("Cargo.toml".into());
                    ex.writes.push("Cargo.toml".into());
                    ex.result = Ok(format!(
                        "    Updating crates.io index\n      Adding {name} v{ver} to dependencies"
                    ));
                } else {
                    ex.result = Err(format!(
                        "error: dependency `{name}` not found in Cargo.toml"
                    ));
                }
            }
            _ => ex.result = Err(format!("sh: unsupported command: {cmd}")),
        }
    }

    /// Open a sub-agent `agent_name` spawned through the `delegate` tool by model call
    /// `by`. Returns the spawn step (recorded in any case, a placeholder when it does
    /// not run) and the sub-agent's context (not alive when it does not run).
    #[allow(clippy::too_many_arguments)]
    pub fn spawn(
        &mut self,
        parent: &Agent,
        by: Option<StepId>,
        agent_name: &str,
        model: &'static str,
        task: &str,
        want: bool,
        role: Role,
    ) -> (StepId, Agent) {
        let id = StepId(self.next_id());
        self.set_role(id, role);
        let why = if !parent.alive {
            Some("not_run")
        } else if by.is_none() || !want {
            Some("not_requested")
        } else if self.removed.contains(&id.0) {
            Some("removed")
        } else {
            None
        };
        let runs = why.is_none();
        let sid = self
            .rec
            .begin_subagent("delegate", agent_name, if runs { by } else { None });
        if let Some(b) = by {
            self.requested_by.insert(sid.0, b.0);
        }
        let args = json!({ "agent": agent_name, "task": task }).to_string();
        if let Some(why) = why {
            if let Some(s) = self.rec.step_mut(sid) {
                s.attributes.insert("replay".into(), why.into());
            }
        } else {
            self.rec.set_input(sid, &args);
            let call_id = format!("call_{:06x}{:03}", self.seed & 0xff_ffff, sid.0);
            if let Some(s) = self.rec.step_mut(sid) {
                s.links.tool_call_id = Some(call_id.clone());
            }
            if let Some(s) = by.and_then(|b| self.rec.step_mut(b)) {
                s.links.requests.push(call_id);
                s.tokens.output += tokens_of(&args);
            }
        }
        self.spawn_started.insert(sid.0, self.clock_ms);
        let mut child = Agent::new(agent_name, model, runs);
        child.system = 3_100 + tokens_of(task);
        (sid, child)
    }

    /// Close sub-agent `spawn`; `result` is what it returned (from its model call
    /// `from`). The result is delivered to the parent's next model call. Returns
    /// the result when the sub-agent ran.
    pub fn join(
        &mut self,
        parent: &mut Agent,
        spawn: StepId,
        child: Agent,
        result: Option<String>,
        from: Option<StepId>,
    ) -> Option<String> {
        if !child.alive {
            self.rec.end_subagent(spawn, "", None);
            if let Some(s) = self.rec.step_mut(spawn) {
                s.output = None;
            }
            return None;
        }
        let r = result.unwrap_or_default();
        self.rec.end_subagent(spawn, &r, from);
        let start = self.spawn_started.get(&spawn.0).copied().unwrap_or(0);
        let (a, b) = (self.timestamp(start), self.timestamp(self.clock_ms));
        if let Some(s) = self.rec.step_mut(spawn) {
            s.started_at = parse_ts(&a);
            s.ended_at = parse_ts(&b);
        }
        self.hide_text(spawn);
        // keep the arguments visible in partial mode (they are tool arguments)
        if self.content == ContentLevel::Partial {
            if let Some(s) = self.rec.step_mut(spawn) {
                if let Some(c) = &s.input {
                    if c.text.is_none() {
                        s.input = None;
                    }
                }
            }
        }
        parent.pending.push((spawn, 8 + tokens_of(&r)));
        Some(r)
    }

    /// A context compaction of `ag`: a summarising model call, after which the
    /// harness drops the old context. Returns whether the summary was produced (the
    /// context is dropped in any case).
    pub fn compact(&mut self, ag: &mut Agent, summary: &str) -> bool {
        let id = StepId(self.next_id());
        self.set_role(id, Role::Compaction);
        let ran = ag.alive && !self.removed.contains(&id.0);
        if !ran {
            let why = if ag.alive { "removed" } else { "not_run" };
            self.placeholder(StepKind::Compaction, ag, None, why);
        } else {
            let id = self.rec.begin(StepKind::Compaction);
            let new: u64 = ag.pending.iter().map(|(_, t)| *t).sum::<u64>() + 40;
            let output = 30 + tokens_of(summary);
            let tokens = self.usage(ag, new, output);
            let ctx: Vec<StepId> = ag.pending.drain(..).map(|(s, _)| s).collect();
            for c in ctx {
                self.rec.in_context(id, c);
            }
            self.rec.set_output(id, summary);
            if let Some(s) = self.rec.step_mut(id) {
                s.model = Some(ag.model.to_owned());
                s.tokens = tokens;
                s.agent = Some(ag.name.clone());
            }
            self.stamp(id, 4_000 + output * 20);
            self.hide_text(id);
        }
        ag.pending.clear();
        ag.ctx_tokens = 11_800 + if ran { 30 + tokens_of(summary) } else { 0 };
        ran
    }

    /// Resolve the roles of model calls from what they requested, then finish.
    pub fn finish(
        mut self,
        status: tracecard_core::OutcomeStatus,
        final_step: Option<StepId>,
        evidence: Vec<tracecard_core::OracleEvidence>,
    ) -> (tracecard_core::Trace, Vec<Role>, Env) {
        let n = self.rec.trace().steps.len();
        self.roles.resize(n, Role::Work);
        let mut needed_child: BTreeSet<u32> = BTreeSet::new();
        let mut any_child: BTreeSet<u32> = BTreeSet::new();
        for (child, req) in &self.requested_by {
            any_child.insert(*req);
            if !self.roles[(*child as usize) - 1].removable() {
                needed_child.insert(*req);
            }
        }
        for (i, s) in self.rec.trace().steps.iter().enumerate() {
            if s.kind == StepKind::LlmCall && self.roles[i] == Role::Work {
                let id = i as u32 + 1;
                self.roles[i] = if needed_child.contains(&id) {
                    Role::Requester
                } else {
                    Role::WastedCall
                };
            }
        }
        let mut trace = self.rec.finish(status, final_step, evidence);
        trace.started_at = parse_ts(&format!(
            "2025-06-{:02}T{:02}:00:00.000Z",
            self.day, self.base_hour
        ));
        if self.content == ContentLevel::Partial {
            trace.source.content = tracecard_core::ContentCapture::Hashed;
        }
        trace.metadata.insert(
            "agent".into(),
            format!("ops-agent/{}", env!("CARGO_PKG_VERSION")),
        );
        trace
            .metadata
            .insert("content_level".into(), self.content.as_str().into());
        (trace, self.roles, self.env)
    }
}

/// Split a command line into words; single quotes group.
fn shell_words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for ch in cmd.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn stale(p: &str) -> String {
    format!(
        "{p} has been modified since it was last read (or was never read); read it again before writing"
    )
}

/// Rough token count of `text` (4 bytes a token).
fn tokens_of(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4)
}

/// Parse an RFC 3339 timestamp into whatever timestamp type the model uses.
fn parse_ts<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}
