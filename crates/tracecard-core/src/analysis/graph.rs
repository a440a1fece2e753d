//! The dataflow graph, its liveness, the verdicts and the attributed costs.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use rustc_hash::{FxHashMap, FxHashSet};

use petgraph::Directed;
use petgraph::csr::Csr;
use petgraph::visit::Bfs;

use rayon::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::EvidenceLevel;

use super::tokens::{TextToks, Toks, is_number, is_weak, token_hash};
use crate::Result;
use crate::cost::PriceTable;
use crate::model::{ContentCapture, StepId, StepKind, StepStatus, TokenUsage, Trace};
use crate::money::Usd;

/// Index of the agent context a step runs in: `ROOT` or the index of its spawn.
const ROOT: u32 = u32::MAX;

/// What an edge into the sink stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// The session's final answer.
    FinalAnswer,
    /// The answer to a user turn followed by another user message.
    TurnAnswer,
    /// The final version of an artifact the session leaves behind (named in the
    /// edge's `detail`).
    FinalArtifact,
    /// Content the oracle's verdict names.
    Oracle,
    /// A tool that may change the environment without declaring what it wrote.
    SideEffect,
    /// A user input or a compaction: not agent work, never flagged.
    Kept,
}

/// One edge of the dataflow graph: the producer's output reached the consumer (or
/// the outcome sink). Kept small (40 bytes): a 1M-step trace has millions of edges.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    from: u32,
    to: u32,
    /// Kind of evidence.
    pub level: EvidenceLevel,
    /// For sink edges, what the sink stands for.
    pub sink: Option<Sink>,
    /// What was seen: the token (content edges), the artifact, or the id kind.
    pub detail: Cow<'static, str>,
}

const SINK_NODE: u32 = u32::MAX;

/// A tool call whose output no later step used (see [`Analysis::unread_tools`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadTool {
    /// The step.
    pub step: StepId,
    /// `Redundant` when the waste is proven; `Unproven` when the output was
    /// delivered to a model call and nothing shows whether it mattered.
    pub verdict: Verdict,
    /// Why it counts as unread.
    pub reason: String,
}

/// The verdict on one step.
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
pub enum Verdict {
    /// Its output reaches the outcome (a sink) through evidence of use.
    #[default]
    Needed,
    /// Positive evidence of waste that a reviewer would accept: a duplicate of an
    /// earlier step, an output never delivered, a dead store, a failed attempt
    /// superseded by a success, an unused sub-agent, or only such steps used it.
    Redundant,
    /// Delivered to a live decision with nothing showing it was used or ignored: not
    /// flagged; a replay decides.
    Unproven,
}

impl Verdict {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Needed => "needed",
            Verdict::Redundant => "redundant",
            Verdict::Unproven => "unproven",
        }
    }
}

/// The verdict on one step, with the reason and the evidence it rests on (both
/// `None` for needed steps: their evidence is the path to the outcome, see
/// [`Analysis::explain`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Needed, redundant or unproven.
    pub verdict: Verdict,
    /// Plain-words reason (redundant and unproven steps).
    pub reason: Option<String>,
    /// Evidence level the verdict rests on (redundant and unproven steps).
    pub evidence: Option<EvidenceLevel>,
    /// What confirmed it: `dataflow` for the analysis's own flags, `replay:<name>`
    /// once a replayer tested the step.
    pub confirmed_by: Option<String>,
}

impl Finding {
    fn needed() -> Finding {
        Finding {
            verdict: Verdict::Needed,
            reason: None,
            evidence: None,
            confirmed_by: None,
        }
    }
}

/// One evidence edge in an [`Explanation`].
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The producer.
    pub from: StepId,
    /// The consumer, `None` for the outcome.
    pub to: Option<StepId>,
    /// Kind of evidence.
    pub level: EvidenceLevel,
    /// The evidence in words (`` `pool_size` reappears ``, `final answer`, …).
    pub detail: String,
    /// The consumer's verdict.
    pub to_verdict: Option<Verdict>,
}

/// Why a step got its verdict, as data (see [`Analysis::explanation`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The step.
    pub step: StepId,
    /// Its kind.
    pub kind: StepKind,
    /// Its tool or model.
    pub name: String,
    /// The earlier step it repeats.
    pub duplicate_of: Option<StepId>,
    /// Edges out of it (what used its output).
    pub outgoing: Vec<Link>,
    /// Edges into it (what it used).
    pub incoming: Vec<Link>,
    /// For a needed step, the shortest evidence chain to the outcome (its last link
    /// is the sink); `None` when no chain exists.
    pub path_to_outcome: Option<Vec<Link>>,
    /// Its verdict, reason and evidence.
    pub finding: Finding,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "step {} ({} {})",
            self.step,
            self.kind.as_str(),
            self.name
        )?;
        if let Some(d) = self.duplicate_of {
            writeln!(f, "  duplicate of step {d} (same tool, input and output)")?;
        }
        for l in &self.outgoing {
            match l.to {
                Some(t) => writeln!(
                    f,
                    "  -> step {t} [{}] {}{}",
                    l.level.as_str(),
                    l.detail,
                    match l.to_verdict {
                        Some(Verdict::Redundant) => " (that step is redundant)",
                        Some(Verdict::Unproven) => " (that step is unproven)",
                        _ => "",
                    }
                )?,
                None => writeln!(f, "  -> OUTCOME [{}] {}", l.level.as_str(), l.detail)?,
            }
        }
        if self.outgoing.is_empty() {
            writeln!(f, "  no later step used its output")?;
        }
        for l in &self.incoming {
            writeln!(
                f,
                "  <- step {} [{}] {}",
                l.from,
                l.level.as_str(),
                l.detail
            )?;
        }
        match (&self.finding.verdict, &self.path_to_outcome) {
            (Verdict::Needed, Some(path)) => {
                let mut parts = vec![format!("step {}", self.step)];
                for l in path {
                    match l.to {
                        Some(t) => {
                            parts.push(format!("step {t} [{}: {}]", l.level.as_str(), l.detail))
                        }
                        None => parts.push(format!("OUTCOME ({})", l.detail)),
                    }
                }
                writeln!(f, "  live: {}", parts.join(" -> "))
            }
            (Verdict::Needed, None) => {
                writeln!(f, "  live: never flagged (user input or compaction)")
            }
            (v, _) => writeln!(
                f,
                "  {} [{}]: {}",
                v.as_str(),
                self.finding
                    .evidence
                    .map(EvidenceLevel::as_str)
                    .unwrap_or("-"),
                self.finding.reason.as_deref().unwrap_or("")
            ),
        }
    }
}

/// Result of the analysis of one trace: the evidence edges and, per step (by
/// [`StepId`]), whether it is live, its [`Finding`], its carried-context cost and
/// the earlier step it duplicates.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Every evidence edge (a duplicate's edges are credited to the step it repeats).
    pub edges: Vec<Edge>,
    /// Per step (index = id − 1): reaches a sink.
    pub(crate) live: Vec<bool>,
    /// Per step: the verdict, its reason and evidence.
    pub(crate) findings: Vec<Finding>,
    /// Per step: cost of carrying its output in later model calls of its context.
    pub(crate) carried: Vec<Usd>,
    /// Whether content evidence was available (the source carried content).
    pub content_checked: bool,
    /// Per step: the earlier step it duplicates.
    pub(crate) duplicate_of: Vec<Option<usize>>,
}

/// Alternative producers remembered per ambiguous token.
const MAX_ALTERNATIVES: usize = 8;
/// How far back (in steps) a derived number looks for the output it came from.
const NUMBER_LOOKBACK: usize = 64;

struct TokenEntry {
    first: u32,
    first_class: u64,
    /// First steps of other output classes that introduced the same token.
    others: Vec<(u32, u64)>,
}

struct Builder {
    /// reused per tool output: the hashes of its arguments' tokens
    scratch: FxHashSet<u64>,
    /// the last (producer, consumer) pair pushed, to skip immediate repeats
    last: Option<(u32, u32)>,
    edges: Vec<Edge>,
}

impl Builder {
    fn edge(
        &mut self,
        from: usize,
        to: Option<usize>,
        level: EvidenceLevel,
        detail: impl Into<Cow<'static, str>>,
        sink: Option<Sink>,
    ) {
        if Some(from) == to {
            return;
        }
        let pair = (from as u32, to.map(|t| t as u32).unwrap_or(SINK_NODE));
        if self.last == Some(pair) {
            return;
        }
        self.last = Some(pair);
        self.edges.push(Edge {
            from: pair.0,
            to: pair.1,
            level,
            sink,
            detail: detail.into(),
        });
    }
}

/// Tools whose call *is* the session's outcome: the agent hands in its result.
fn is_terminal_tool(tool: &str) -> bool {
    const TERMINAL: &[&str] = &[
        "finish",
        "submit",
        "final_answer",
        "attempt_completion",
        "task_complete",
        "complete_task",
        "done",
        "return_answer",
    ];
    TERMINAL.contains(&tool.to_ascii_lowercase().as_str())
}

/// Program names that harnesses such as SWE-agent use as the tool name itself
/// (`python reproduce.py`): their calls are shell commands.
const PROGRAMS: &[&str] = &[
    "python", "python3", "node", "make", "pip", "pip3", "npm", "npx", "cargo", "go", "git", "rm",
    "mv", "cp", "touch", "mkdir", "sed", "patch", "chmod", "curl", "wget", "apt", "apt-get",
    "docker", "pytest", "java", "javac", "gcc",
];

fn is_shell(tool: &str) -> bool {
    if PROGRAMS.contains(&tool) {
        return true;
    }
    const SHELLS: &[&str] = &[
        "bash",
        "shell",
        "exec_command",
        "run_command",
        "execute",
        "terminal",
        "run_ipython",
        "cmd",
        "sh",
        "powershell",
        "run",
    ];
    let t = tool.to_ascii_lowercase();
    SHELLS.iter().any(|k| {
        t == *k
            || t.strip_suffix(k).is_some_and(|r| r.ends_with('_'))
            || t.strip_prefix(k).is_some_and(|r| r.starts_with('_'))
    })
}

const READ_ONLY_COMMANDS: &[&str] = &[
    "cat",
    "ls",
    "ll",
    "grep",
    "rg",
    "egrep",
    "find",
    "head",
    "tail",
    "less",
    "more",
    "wc",
    "pwd",
    "echo",
    "printf",
    "which",
    "whoami",
    "stat",
    "file",
    "tree",
    "du",
    "df",
    "diff",
    "cmp",
    "sort",
    "uniq",
    "cut",
    "awk",
    "jq",
    "nl",
    "od",
    "xxd",
    "env",
    "date",
    "true",
    "cd",
    "sleep",
    "type",
    "git-status",
    "git-log",
    "git-diff",
    "git-show",
    "git-blame",
    "git-grep",
    "git-branch",
    "open",
    "search_file",
    "search_dir",
    "find_file",
    "goto",
    "scroll_up",
    "scroll_down",
    "view",
    "pytest",
    "py.test",
    "go-test",
    "cargo-test",
    "npm-test",
];

/// A shell command is read-only when every pipeline/sequence segment starts with a
/// read-only program (and `sed` without `-i`), with no output redirection.
fn command_is_read_only(cmd: &str) -> bool {
    if cmd.contains(" > ") || cmd.contains(">>") || cmd.contains(" >") && !cmd.contains("2>&1") {
        return false;
    }
    cmd.split(['|', ';', '\n'])
        .flat_map(|s| s.split("&&"))
        .flat_map(|s| s.split("||"))
        .all(|seg| {
            let mut words = seg.split_whitespace();
            let Some(first) = words.next() else {
                return true;
            };
            let first = first.rsplit('/').next().unwrap_or(first);
            match first {
                "git" => words
                    .next()
                    .is_some_and(|sub| READ_ONLY_COMMANDS.contains(&format!("git-{sub}").as_str())),
                "sed" => !seg.contains(" -i"),
                "python" | "python3" => seg.contains("--version") || seg.contains("-m pytest"),
                "cargo" | "go" | "npm" | "yarn" | "pnpm" => words.next().is_some_and(|sub| {
                    READ_ONLY_COMMANDS.contains(&format!("{first}-{sub}").as_str())
                }),
                _ => READ_ONLY_COMMANDS.contains(&first),
            }
        })
}

/// The command text of a shell tool call: the `command`/`cmd` JSON field when the
/// input is JSON, else the whole input.
fn command_of(input: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(input) {
        for k in ["command", "cmd", "code", "script"] {
            match v.get(k) {
                Some(serde_json::Value::String(s)) => return s.clone(),
                Some(serde_json::Value::Array(a)) => {
                    return a
                        .iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                }
                _ => {}
            }
        }
    }
    input.to_owned()
}

const MUTATING_NAME_PARTS: &[&str] = &[
    "write", "edit", "create", "delete", "remove", "update", "insert", "apply", "patch", "move",
    "rename", "commit", "push", "send", "post", "deploy", "install", "exec", "upload", "set_",
    "put", "modify", "append", "replace", "mkdir", "save", "submit",
];

/// Whether a tool step may change the environment in ways the trace does not name.
fn may_have_side_effects(step: &crate::model::Step, content: bool) -> bool {
    if step.kind != StepKind::ToolUse
        || step.status == StepStatus::Error
        || !step.links.writes.is_empty()
    {
        return false;
    }
    let Some(tool) = step.tool.as_deref() else {
        return false;
    };
    if is_shell(tool) {
        return match step.input.as_ref().and_then(|c| c.text.as_deref()) {
            Some(text) if content => !command_is_read_only(&command_of(text)),
            _ => true,
        };
    }
    name_mutates(tool)
}

/// Whether a (non-shell) tool name says it changes something (`write_file`, `deploy`).
fn name_mutates(tool: &str) -> bool {
    let t = tool.to_ascii_lowercase();
    MUTATING_NAME_PARTS.iter().any(|p| t.contains(p))
}

fn text_of(c: &Option<crate::model::Content>) -> Option<&str> {
    c.as_ref().and_then(|c| c.text.as_deref())
}

fn class_of(c: &Option<crate::model::Content>) -> u64 {
    c.as_ref()
        .map(|c| token_hash(c.hash.as_bytes()))
        .unwrap_or(0)
}

/// Approximate token count of a text (bytes / 4, rounded up).
fn approx_tokens(len: u64) -> u64 {
    len.div_ceil(4)
}

impl Edge {
    /// The producer step.
    pub fn producer(&self) -> StepId {
        StepId::from_index(self.from as usize)
    }

    /// The consumer step, or `None` for the outcome sink.
    pub fn consumer(&self) -> Option<StepId> {
        (self.to != SINK_NODE).then(|| StepId::from_index(self.to as usize))
    }

    /// The producer's index in [`Trace::steps`] (internal).
    pub(crate) fn producer_idx(&self) -> usize {
        self.from as usize
    }

    /// The consumer's index in [`Trace::steps`], `None` for the sink (internal).
    pub(crate) fn consumer_idx(&self) -> Option<usize> {
        (self.to != SINK_NODE).then_some(self.to as usize)
    }

    /// Whether the edge is *circumstantial* evidence of use: a number derived from
    /// the numbers delivered to the consumer (which of them went into it is a guess),
    /// or a read before rewriting the same artifact (a harness may demand the read
    /// even when the rewrite does not build on it). Liveness that rests only on such
    /// edges is worth a replay ([`Analysis::weakly_needed`]).
    pub fn is_circumstantial(&self) -> bool {
        (self.level == EvidenceLevel::Content && self.detail.starts_with("new numbers"))
            || (self.level == EvidenceLevel::Artifacts
                && self.detail.starts_with("read before rewriting"))
    }

    /// Whether the edge is evidence of use (everything but delivery into a step
    /// whose content could not be checked, which proves nothing either way).
    pub fn is_use(&self) -> bool {
        !(self.level == EvidenceLevel::Structure && self.sink.is_none())
    }

    /// The evidence in words (`` `pool_size` reappears ``, `links.consumes`, …).
    pub fn describe(&self) -> String {
        match self.level {
            EvidenceLevel::Content if !self.detail.starts_with("new numbers") => {
                format!("`{}` reappears", self.detail)
            }
            _ => self.detail.to_string(),
        }
    }
}

impl Analysis {
    /// Number of steps analysed.
    pub fn len(&self) -> usize {
        self.findings.len()
    }

    /// Whether the trace had no steps.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// The verdict on step `id`, its reason and evidence (`None` past the end).
    pub fn finding(&self, id: StepId) -> Option<&Finding> {
        self.findings.get(id.index())
    }

    /// Every step's finding, in step order.
    pub fn findings(&self) -> impl Iterator<Item = (StepId, &Finding)> {
        self.findings
            .iter()
            .enumerate()
            .map(|(i, f)| (StepId::from_index(i), f))
    }

    /// Whether step `id` reaches a sink through evidence of use.
    pub fn is_live(&self, id: StepId) -> bool {
        self.live.get(id.index()).copied().unwrap_or(false)
    }

    /// Cost of carrying step `id`'s output in the later model calls of its context.
    pub fn carried(&self, id: StepId) -> Usd {
        self.carried.get(id.index()).copied().unwrap_or(Usd::ZERO)
    }

    /// The earlier step that step `id` repeats (same tool, input and output).
    pub fn duplicate_of(&self, id: StepId) -> Option<StepId> {
        self.duplicate_of
            .get(id.index())
            .copied()
            .flatten()
            .map(StepId::from_index)
    }

    /// Per step: `needed` only through circumstantial evidence
    /// ([`Edge::is_circumstantial`]) — it would not reach a sink without those edges.
    /// Such a step is a replay candidate, never a dataflow flag.
    pub fn weakly_needed(&self) -> Vec<bool> {
        let n = self.live.len();
        let mut into: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut stack: Vec<usize> = Vec::new();
        for e in self
            .edges
            .iter()
            .filter(|e| e.is_use() && !e.is_circumstantial())
        {
            match e.consumer_idx() {
                Some(c) => into[c].push(e.producer_idx()),
                None => stack.push(e.producer_idx()),
            }
        }
        let mut strong = vec![false; n];
        while let Some(x) = stack.pop() {
            if !strong[x] {
                strong[x] = true;
                stack.extend(into[x].iter().copied());
            }
        }
        (0..n).map(|i| self.live[i] && !strong[i]).collect()
    }

    /// Analyse `trace`; `prices` are used for the carried-context cost.
    pub fn run(trace: &Trace, prices: &PriceTable) -> Result<Analysis> {
        trace.validate()?;
        let steps = &trace.steps;
        let n = steps.len();
        let content = trace.source.content == ContentCapture::Full;
        let mut b = Builder {
            edges: Vec::with_capacity(n * 4),
            scratch: FxHashSet::default(),
            last: None,
        };

        // Agent context of each step.
        let ctx: Vec<u32> = steps
            .iter()
            .map(|s| s.parent.map(|p| p.index() as u32).unwrap_or(ROOT))
            .collect();

        // 1. ids
        for (c, s) in steps.iter().enumerate() {
            for p in &s.links.consumes {
                b.edge(
                    p.index(),
                    Some(c),
                    EvidenceLevel::Ids,
                    "links.consumes",
                    None,
                );
            }
            // a sub-agent's steps need their spawn: it cannot go while they stay
            if let Some(p) = s.parent {
                b.edge(
                    p.index(),
                    Some(c),
                    EvidenceLevel::Ids,
                    "runs inside this sub-agent",
                    None,
                );
            }
        }

        // 2. artifacts: reaching definitions and dead stores
        let mut last_write: HashMap<&str, usize> = HashMap::new();
        let mut read_since: HashMap<&str, bool> = HashMap::new();
        let mut overwritten: Vec<Option<usize>> = vec![None; n];
        let mut writes_total: Vec<usize> = vec![0; n];
        let mut writes_dead: Vec<usize> = vec![0; n];
        let mut write_counter = 0u64;
        let mut write_counter_at: Vec<u64> = vec![0; n];
        // the latest step that read the current version of an artifact: rewriting an
        // artifact after reading it (view, then edit) builds on what was read
        let mut last_reader: FxHashMap<&str, usize> = FxHashMap::default();
        for (i, s) in steps.iter().enumerate() {
            for a in &s.links.reads {
                if let Some(&w) = last_write.get(a.as_str()) {
                    b.edge(w, Some(i), EvidenceLevel::Artifacts, a.clone(), None);
                }
                read_since.insert(a, true);
            }
            for a in &s.links.writes {
                if let Some(r) = last_reader.remove(a.as_str()) {
                    b.edge(
                        r,
                        Some(i),
                        EvidenceLevel::Artifacts,
                        format!("read before rewriting {a}"),
                        None,
                    );
                }
            }
            for a in &s.links.reads {
                if !s.links.writes.contains(a) {
                    last_reader.insert(a, i);
                }
            }
            for a in &s.links.writes {
                writes_total[i] += 1;
                if let Some(&w) = last_write.get(a.as_str()) {
                    if !read_since.get(a.as_str()).copied().unwrap_or(false) && w != i {
                        writes_dead[w] += 1;
                        overwritten[w].get_or_insert(i);
                    }
                }
                last_write.insert(a, i);
                read_since.insert(a, false);
                write_counter += 1;
            }
            write_counter_at[i] = write_counter;
        }
        let mut finals: Vec<(&str, usize)> = last_write.into_iter().collect();
        finals.sort();
        for (a, w) in finals {
            b.edge(
                w,
                None,
                EvidenceLevel::Artifacts,
                format!("final version of {a}"),
                Some(Sink::FinalArtifact),
            );
        }

        // tools that may change the environment without declaring what they wrote
        // (tool names repeat: classify each once; shell commands are read per call)
        let mut by_name: FxHashMap<&str, bool> = FxHashMap::default();
        let side_effects: Vec<bool> = steps
            .iter()
            .map(|s| match s.tool.as_deref() {
                Some(t) if s.kind == StepKind::ToolUse && !is_shell(t) => {
                    s.status == StepStatus::Ok
                        && s.links.writes.is_empty()
                        && *by_name.entry(t).or_insert_with(|| name_mutates(t))
                }
                _ => may_have_side_effects(s, content),
            })
            .collect();

        // 3. duplicates: same tool, same input, same output, same context, no write,
        //    no side effect and no compaction in between
        let mut duplicate_of: Vec<Option<usize>> = vec![None; n];
        let mut epoch: HashMap<u32, u64> = HashMap::new();
        // (context, tool, input hash) → (first step, output class, compaction epoch, writes so far)
        type CallKey<'t> = (u32, &'t str, &'t str);
        let mut seen_calls: HashMap<CallKey<'_>, (usize, u64, u64, u64)> = HashMap::new();
        // When no model call carries any text (instrumentations that write messages
        // only to log events), what each call was given is invisible: the context
        // may have been compacted or truncated between two identical reads, so a
        // model call in between ends the proof as a compaction does.
        let opaque_models = steps.iter().any(|s| s.kind == StepKind::LlmCall)
            && !steps.iter().any(|s| {
                s.kind == StepKind::LlmCall
                    && (text_of(&s.input).is_some() || text_of(&s.output).is_some())
            });
        for (i, s) in steps.iter().enumerate() {
            if s.kind == StepKind::Compaction || (opaque_models && s.kind == StepKind::LlmCall) {
                *epoch.entry(ctx[i]).or_default() += 1;
                continue;
            }
            if !matches!(s.kind, StepKind::ToolUse | StepKind::Other)
                || s.status == StepStatus::Error
                || side_effects[i]
            {
                continue;
            }
            let (Some(tool), Some(input)) = (s.tool.as_deref(), s.input.as_ref()) else {
                continue;
            };
            let ep = epoch.get(&ctx[i]).copied().unwrap_or(0);
            let out = class_of(&s.output);
            let key = (ctx[i], tool, input.hash.as_str());
            let wc_before = write_counter_at[i] - s.links.writes.len() as u64;
            match seen_calls.get(&key) {
                Some(&(o, o_out, o_ep, o_wc))
                    if o_out == out
                        && o_ep == ep
                        && o_wc == wc_before
                        && s.links.writes.is_empty() =>
                {
                    duplicate_of[i] = Some(o);
                }
                _ => {
                    seen_calls.insert(key, (i, out, ep, write_counter_at[i]));
                }
            }
        }

        // 4. content evidence, one pass, per agent context
        if content {
            let mut tables: FxHashMap<u32, FxHashMap<u64, TokenEntry>> = FxHashMap::default();
            // Tool and model names recur in every call that uses them; they are
            // vocabulary, not data.
            let stop: FxHashSet<u64> = steps
                .iter()
                .flat_map(|s| [s.tool.as_deref(), s.model.as_deref(), s.agent.as_deref()])
                .flatten()
                .map(|t| token_hash(t.as_bytes()))
                .collect();
            // Every text is tokenised once, in parallel, into its distinct tokens
            // (one scratch set per worker); the attribution pass below is
            // sequential (first introducer wins) and works on the hashes.
            let toks: Vec<(TextToks<'_>, TextToks<'_>)> = steps
                .par_iter()
                .map_init(FxHashSet::default, |seen, s| {
                    // an input is read only as a tool's arguments or a sub-agent's task
                    let input = match s.kind {
                        StepKind::ToolUse | StepKind::Other | StepKind::SubagentSpawn => {
                            text_of(&s.input)
                        }
                        StepKind::LlmCall | StepKind::Compaction | StepKind::UserInput => None,
                    };
                    (
                        TextToks::of(input, &stop, seen),
                        TextToks::of(text_of(&s.output), &stop, seen),
                    )
                })
                .collect();
            let has_numbers: Vec<bool> = toks.iter().map(|(_, out)| out.has_number).collect();
            for (i, s) in steps.iter().enumerate() {
                let c = ctx[i];
                let (in_toks, out_toks) = (&toks[i].0.toks, &toks[i].1.toks);
                let consumer_toks = match s.kind {
                    StepKind::LlmCall | StepKind::Compaction => {
                        text_of(&s.output).map(|_| out_toks)
                    }
                    StepKind::ToolUse | StepKind::Other | StepKind::SubagentSpawn => {
                        text_of(&s.input).map(|_| in_toks)
                    }
                    StepKind::UserInput => None,
                };
                if let Some(ct) = consumer_toks {
                    // Derived values: a number no producer in this context introduced
                    // (a sum, a count) was computed from the numbers just delivered.
                    let novel = consume(&mut b, tables.entry(c).or_default(), ct, Some(i));
                    if novel {
                        // sources: the outputs delivered to this step, and the latest
                        // earlier output of this context, that carry numbers (write
                        // receipts such as "wrote 19 bytes" are not data)
                        let is_source =
                            |p: usize| has_numbers[p] && steps[p].links.writes.is_empty();
                        let mut delivered: Vec<usize> = s
                            .links
                            .context
                            .iter()
                            .map(|p| p.index())
                            .filter(|&p| is_source(p))
                            .collect();
                        delivered.extend(
                            (i.saturating_sub(NUMBER_LOOKBACK)..i)
                                .rev()
                                .find(|&p| ctx[p] == c && is_source(p)),
                        );
                        for p in delivered {
                            b.edge(
                                p,
                                Some(i),
                                EvidenceLevel::Content,
                                "new numbers derived from its numbers",
                                None,
                            );
                        }
                    }
                }
                if s.kind == StepKind::Compaction {
                    tables.entry(c).or_default().clear();
                }
                if s.kind == StepKind::SubagentSpawn && text_of(&s.input).is_some() {
                    // the task prompt is introduced into the sub-agent's own context
                    produce(
                        tables.entry(i as u32).or_default(),
                        in_toks,
                        i,
                        class_of(&s.input),
                    );
                }
                if text_of(&s.output).is_some() {
                    // a tool's output that echoes its own arguments (`wrote 29
                    // bytes to src/x.rs`) introduces nothing: the caller chose them
                    let echo = matches!(s.kind, StepKind::ToolUse | StepKind::Other)
                        && !in_toks.is_empty();
                    let fresh: Toks<'_>;
                    let out_toks = if echo {
                        let args = &mut b.scratch;
                        args.clear();
                        args.extend(in_toks.iter().map(|&(h, _)| h));
                        fresh = out_toks
                            .iter()
                            .copied()
                            .filter(|(h, _)| !args.contains(h))
                            .collect();
                        &fresh
                    } else {
                        out_toks
                    };
                    produce(
                        tables.entry(c).or_default(),
                        out_toks,
                        i,
                        class_of(&s.output),
                    );
                }
            }
            // the oracle's message is read against the root context
            let root = tables.entry(ROOT).or_default();
            for e in &trace.outcome.evidence {
                if let Some(m) = &e.message {
                    let mut seen = FxHashSet::default();
                    let toks = TextToks::of(Some(m), &stop, &mut seen);
                    let _ = consume(&mut b, root, &toks.toks, None);
                }
            }
        }

        // 5. delivery edges where content cannot be checked
        for (c, s) in steps.iter().enumerate() {
            for p in &s.links.context {
                let pi = p.index();
                let producer_has = content && text_of(&steps[pi].output).is_some();
                let consumer_has = content
                    && match s.kind {
                        StepKind::LlmCall | StepKind::Compaction => text_of(&s.output).is_some(),
                        _ => text_of(&s.input).is_some(),
                    };
                if !(producer_has && consumer_has) {
                    b.edge(
                        pi,
                        Some(c),
                        EvidenceLevel::Structure,
                        "delivered (no content to check)",
                        None,
                    );
                }
            }
        }

        // 6. sinks
        let root_llm: Vec<usize> = (0..n)
            .filter(|&i| ctx[i] == ROOT && steps[i].kind == StepKind::LlmCall)
            .collect();
        let final_step = trace
            .outcome
            .final_step
            .map(StepId::index)
            .or_else(|| root_llm.last().copied())
            .or_else(|| n.checked_sub(1));
        if let Some(f) = final_step {
            b.edge(
                f,
                None,
                EvidenceLevel::Ids,
                "final answer",
                Some(Sink::FinalAnswer),
            );
        }
        let mut last_root_llm: Option<usize> = None;
        for (i, s) in steps.iter().enumerate() {
            if ctx[i] != ROOT {
                continue;
            }
            match s.kind {
                StepKind::LlmCall => last_root_llm = Some(i),
                StepKind::UserInput => {
                    if let Some(a) = last_root_llm.take() {
                        b.edge(
                            a,
                            None,
                            EvidenceLevel::Ids,
                            "answer to a user turn",
                            Some(Sink::TurnAnswer),
                        );
                    }
                }
                _ => {}
            }
        }
        // the step whose output *is* the recorded answer handed it in (a submission
        // command printing the patch, a final tool call)
        if let Some(answer) = &trace.outcome.answer {
            if let Some(i) = (0..n).rev().find(|&i| {
                steps[i]
                    .output
                    .as_ref()
                    .is_some_and(|o| o.hash == answer.hash)
            }) {
                b.edge(
                    i,
                    None,
                    EvidenceLevel::Ids,
                    "its output is the final answer",
                    Some(Sink::FinalAnswer),
                );
            }
        }
        // the last model call answers the last turn, whatever the source named final
        if let Some(a) = last_root_llm {
            b.edge(
                a,
                None,
                EvidenceLevel::Ids,
                "answer to the last user turn",
                Some(Sink::TurnAnswer),
            );
        }
        // user turns and compactions are never agent waste: what they consume stays
        for (i, s) in steps.iter().enumerate() {
            if matches!(s.kind, StepKind::UserInput | StepKind::Compaction) {
                b.edge(
                    i,
                    None,
                    EvidenceLevel::Structure,
                    "user input / compaction",
                    Some(Sink::Kept),
                );
            }
        }
        // handing in the result is the outcome
        for (i, s) in steps.iter().enumerate() {
            if s.kind == StepKind::ToolUse && s.tool.as_deref().is_some_and(is_terminal_tool) {
                b.edge(
                    i,
                    None,
                    EvidenceLevel::Ids,
                    "hands in the result",
                    Some(Sink::FinalAnswer),
                );
            }
        }
        for (i, &side_effect) in side_effects.iter().enumerate() {
            if side_effect {
                b.edge(
                    i,
                    None,
                    EvidenceLevel::Structure,
                    "may change the environment",
                    Some(Sink::SideEffect),
                );
            }
        }

        // a duplicate adds nothing its original did not already put in the same
        // context: whatever used its output is credited to the original
        for e in &mut b.edges {
            if let Some(o) = duplicate_of[e.from as usize] {
                e.from = o as u32;
            }
        }
        b.edges
            .retain(|e| e.consumer_idx() != Some(e.producer_idx()));

        // 7. liveness: reverse reachability from the sink, on a compressed (CSR)
        //    graph of consumer → producer edges, sorted by counting sort in O(E)
        //    Only evidence of use counts: delivery where no content could be checked
        //    leaves the step open (unproven), it does not make it needed.
        let node_of = |e: &Edge| e.consumer_idx().unwrap_or(n);
        let mut count = vec![0usize; n + 2];
        for e in b.edges.iter().filter(|e| e.is_use()) {
            count[node_of(e) + 1] += 1;
        }
        for k in 1..count.len() {
            count[k] += count[k - 1];
        }
        let mut sorted: Vec<(u32, u32)> = vec![(0, 0); count[n + 1]];
        let mut fill = count.clone();
        for e in b.edges.iter().filter(|e| e.is_use()) {
            let c = node_of(e);
            sorted[fill[c]] = (c as u32, e.producer_idx() as u32);
            fill[c] += 1;
        }
        // within one consumer, producers ascending (Csr wants (u, v) order; the
        // builder already keeps one edge per pair)
        // (the same pair can come from several kinds of evidence: keep one)
        let mut unique: Vec<(u32, u32)> = Vec::with_capacity(sorted.len());
        for k in 0..=n {
            let bucket = &mut sorted[count[k]..count[k + 1]];
            bucket.sort_unstable();
            for &e in bucket.iter() {
                if unique.last() != Some(&e) {
                    unique.push(e);
                }
            }
        }
        let sorted = unique;
        let mut live = vec![false; n];
        let rev: Csr<(), (), Directed, u32> = Csr::from_sorted_edges(&sorted).map_err(|_| {
            crate::Error::validation("analysis", "dataflow edges out of order (internal error)")
        })?;
        if rev.node_count() > n {
            let mut bfs = Bfs::new(&rev, n as u32);
            while let Some(node) = bfs.next(&rev) {
                if (node as usize) < n {
                    live[node as usize] = true;
                }
            }
        }

        // 8. verdicts
        let facts = Facts::gather(trace, &ctx, &b.edges, content);
        let waste = Waste {
            duplicate_of: &duplicate_of,
            overwritten: &overwritten,
            writes_total: &writes_total,
            writes_dead: &writes_dead,
        };
        let findings = facts.judge(trace, &live, &waste);

        let carried = carried_costs(trace, &ctx, prices);
        Ok(Analysis {
            edges: b.edges,
            live,
            findings,
            carried,
            content_checked: content || n == 0,
            duplicate_of,
        })
    }

    /// Tool calls whose output no later step used (no outgoing evidence edge to a
    /// step or to the outcome): the trace-query-layer check, cheaper than a card.
    /// Each carries its verdict: `Redundant` (proven waste) or `Unproven` (delivered
    /// to a model call; nothing shows whether it mattered), so callers can list the
    /// two apart.
    pub fn unread_tools(&self, trace: &Trace) -> Vec<UnreadTool> {
        let mut has_reader = vec![false; trace.steps.len()];
        for e in self.edges.iter().filter(|e| e.is_use()) {
            has_reader[e.producer_idx()] = true;
        }
        trace
            .steps
            .iter()
            .enumerate()
            .filter(|(i, s)| s.kind == StepKind::ToolUse && !has_reader[*i])
            .filter_map(|(i, s)| {
                let f = &self.findings[i];
                (f.verdict != Verdict::Needed).then(|| UnreadTool {
                    step: s.id,
                    verdict: f.verdict,
                    reason: f.reason.clone().unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Group `flagged` steps into removal units: steps joined by an id edge (a call
    /// and the tools it requested, a sub-agent and its steps) are removed together
    /// when replaying them one unit at a time. Content edges do not join units:
    /// the replay itself tests whether a use mattered.
    pub fn removal_units(&self, flagged: &[StepId]) -> Vec<Vec<StepId>> {
        let idx: HashMap<usize, usize> = flagged
            .iter()
            .enumerate()
            .map(|(k, id)| (id.index(), k))
            .collect();
        let mut parent: Vec<usize> = (0..flagged.len()).collect();
        fn find(p: &mut [usize], x: usize) -> usize {
            let mut r = x;
            while p[r] != r {
                r = p[r];
            }
            let mut y = x;
            while p[y] != r {
                let next = p[y];
                p[y] = r;
                y = next;
            }
            r
        }
        for e in self.edges.iter().filter(|e| e.level == EvidenceLevel::Ids) {
            if let (Some(&a), Some(b)) = (
                idx.get(&e.producer_idx()),
                e.consumer_idx().and_then(|t| idx.get(&t)),
            ) {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, *b));
                if ra != rb {
                    parent[ra] = rb;
                }
            }
        }
        let mut groups: std::collections::BTreeMap<usize, Vec<StepId>> =
            std::collections::BTreeMap::new();
        for (k, id) in flagged.iter().enumerate() {
            let r = find(&mut parent, k);
            groups.entry(r).or_default().push(*id);
        }
        let mut units: Vec<Vec<StepId>> = groups.into_values().collect();
        for u in &mut units {
            u.sort();
        }
        units.sort();
        units
    }

    /// The evidence chain of step `id` as data: what consumed its output, what it
    /// consumed, the shortest path to the outcome when live, and its finding.
    /// [`Explanation`]'s `Display` renders it in words (what `--explain` prints).
    pub fn explanation(&self, trace: &Trace, id: StepId) -> Option<Explanation> {
        let i = id.index();
        let s = trace.step(id)?;
        let link = |e: &Edge| Link {
            from: e.producer(),
            to: e.consumer(),
            level: e.level,
            detail: e.describe(),
            to_verdict: e.consumer_idx().map(|t| self.findings[t].verdict),
        };
        let outgoing: Vec<Link> = self
            .edges
            .iter()
            .filter(|e| e.producer_idx() == i)
            .map(link)
            .collect();
        let incoming: Vec<Link> = self
            .edges
            .iter()
            .filter(|e| e.consumer_idx() == Some(i))
            .map(link)
            .collect();
        let path_to_outcome = if self.live[i] {
            self.path_to_sink(i)
                .map(|p| p.into_iter().map(link).collect())
        } else {
            None
        };
        Some(Explanation {
            step: id,
            kind: s.kind,
            name: s
                .tool
                .as_deref()
                .or(s.model.as_deref())
                .unwrap_or("")
                .to_owned(),
            duplicate_of: self.duplicate_of(id),
            outgoing,
            incoming,
            path_to_outcome,
            finding: self.findings[i].clone(),
        })
    }

    /// The evidence chain of step `id`, in words (see [`Analysis::explanation`]).
    pub fn explain(&self, trace: &Trace, id: StepId) -> Option<String> {
        self.explanation(trace, id).map(|e| e.to_string())
    }

    /// The shortest chain of evidence edges from step `i` to the sink.
    fn path_to_sink(&self, i: usize) -> Option<Vec<&Edge>> {
        let mut pred: HashMap<usize, (usize, &Edge)> = HashMap::new();
        let mut frontier = std::collections::VecDeque::from([i]);
        let mut seen = HashSet::from([i]);
        while let Some(x) = frontier.pop_front() {
            for e in self
                .edges
                .iter()
                .filter(|e| e.producer_idx() == x && e.is_use())
            {
                match e.consumer_idx() {
                    None => {
                        let mut chain = vec![e];
                        let mut y = x;
                        while y != i {
                            let (p, pe) = pred[&y];
                            chain.push(pe);
                            y = p;
                        }
                        chain.reverse();
                        return Some(chain);
                    }
                    Some(t) if seen.insert(t) => {
                        pred.insert(t, (x, e));
                        frontier.push_back(t);
                    }
                    _ => {}
                }
            }
        }
        None
    }
}

/// Record the tokens a step's text introduces into its context's table (`toks`:
/// distinct, no stop words; see [`TextToks`]).
fn produce(table: &mut FxHashMap<u64, TokenEntry>, toks: &[(u64, &str)], step: usize, class: u64) {
    for &(h, _) in toks {
        match table.entry(h) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(TokenEntry {
                    first: step as u32,
                    first_class: class,
                    others: Vec::new(),
                });
            }
            std::collections::hash_map::Entry::Occupied(mut o) => {
                let e = o.get_mut();
                // a handful of alternative producers is enough to call the token
                // ambiguous and to explain it; keeping them all would be quadratic
                if e.others.len() < MAX_ALTERNATIVES
                    && e.first_class != class
                    && e.first as usize != step
                    && !e.others.iter().any(|(_, c)| *c == class)
                {
                    e.others.push((step as u32, class));
                }
            }
        }
    }
}

/// Match the distinctive tokens of a consumer's text (distinct, no stop words; see
/// [`TextToks`]) against its context's table.
fn consume(
    b: &mut Builder,
    table: &mut FxHashMap<u64, TokenEntry>,
    toks: &[(u64, &str)],
    consumer: Option<usize>,
) -> bool {
    // producers credited so far, with one token each (a handful per consumer)
    let mut credited: Vec<(u32, &str)> = Vec::new();
    let mut ambiguous: Vec<(u64, &str)> = Vec::new();
    // a number token no producer of this context introduced (checked in the same probe)
    let mut novel_number = false;
    for &(h, tok) in toks {
        let Some(e) = table.get(&h) else {
            novel_number |= is_number(tok);
            continue;
        };
        if Some(e.first as usize) == consumer {
            continue;
        }
        if e.others.is_empty() {
            if !credited.iter().any(|(p, _)| *p == e.first) {
                credited.push((e.first, tok));
            }
        } else if !is_weak(tok) {
            ambiguous.push((h, tok));
        }
    }
    for (h, tok) in ambiguous {
        let Some(e) = table.get(&h) else { continue };
        let is_credited = |s: u32| credited.iter().any(|(p, _)| *p == s);
        let explained = is_credited(e.first) || e.others.iter().any(|(s, _)| is_credited(*s));
        if !explained {
            credited.push((e.first, tok));
        }
    }
    credited.sort_unstable();
    let sink = consumer.is_none().then_some(Sink::Oracle);
    for (p, tok) in credited {
        b.edge(
            p as usize,
            consumer,
            EvidenceLevel::Content,
            tok.to_owned(),
            sink,
        );
    }
    novel_number
}

/// What the artifact and duplicate passes found, for the verdicts.
struct Waste<'a> {
    duplicate_of: &'a [Option<usize>],
    overwritten: &'a [Option<usize>],
    writes_total: &'a [usize],
    writes_dead: &'a [usize],
}

/// Per-step facts the verdicts are judged on.
struct Facts {
    ctx: Vec<u32>,
    /// Steps with an evidence edge from this step (not the sink).
    users: Vec<Vec<usize>>,
    /// Steps this step's output was handed to: `links.context` and `links.consumes`
    /// of later steps, and for a model call that requested nothing, the next model
    /// call of its context (the conversation carries its text).
    delivered: Vec<Vec<usize>>,
    /// Contexts in which the source records deliveries (`links.context`).
    delivery_known: FxHashSet<u32>,
    content: bool,
    /// Per sub-agent spawn: the steps outside the sub-agent that the spawn or any
    /// step inside it used or handed its output to.
    outside: Vec<Vec<usize>>,
}

/// How many rounds the verdicts are re-judged before the demotion-only pass.
const JUDGE_ROUNDS: usize = 8;

impl Facts {
    fn gather(trace: &Trace, ctx: &[u32], edges: &[Edge], content: bool) -> Facts {
        let steps = &trace.steps;
        let n = steps.len();
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
        for e in edges.iter().filter(|e| e.is_use()) {
            if let Some(t) = e.consumer_idx() {
                users[e.producer_idx()].push(t);
            }
        }
        let mut delivered: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut delivery_known = FxHashSet::default();
        for (i, s) in steps.iter().enumerate() {
            if !s.links.context.is_empty() {
                delivery_known.insert(ctx[i]);
            }
            for p in s.links.context.iter().chain(&s.links.consumes) {
                if p.index() < n && p.index() != i {
                    delivered[p.index()].push(i);
                }
            }
        }
        let mut next_call: FxHashMap<u32, usize> = FxHashMap::default();
        for i in (0..n).rev() {
            let s = &steps[i];
            if s.kind != StepKind::LlmCall {
                continue;
            }
            if s.links.requests.is_empty() {
                if let Some(&next) = next_call.get(&ctx[i]) {
                    delivered[i].push(next);
                }
            }
            next_call.insert(ctx[i], i);
        }
        for v in users.iter_mut().chain(delivered.iter_mut()) {
            v.sort_unstable();
            v.dedup();
        }
        let mut facts = Facts {
            ctx: ctx.to_vec(),
            users,
            delivered,
            delivery_known,
            content,
            outside: vec![Vec::new(); n],
        };
        // what a sub-agent (the spawn or any step inside it) hands to steps outside it
        let mut outside: Vec<Vec<usize>> = vec![Vec::new(); n];
        for i in 0..n {
            let recipients: Vec<usize> = facts.users[i]
                .iter()
                .chain(&facts.delivered[i])
                .copied()
                .collect();
            let mut sp = if steps[i].kind == StepKind::SubagentSpawn {
                i as u32
            } else {
                ctx[i]
            };
            while sp != ROOT {
                let spawn = sp as usize;
                outside[spawn].extend(
                    recipients
                        .iter()
                        .copied()
                        .filter(|&r| r != spawn && !facts.within(r, spawn)),
                );
                sp = ctx[spawn];
            }
        }
        for v in &mut outside {
            v.sort_unstable();
            v.dedup();
        }
        facts.outside = outside;
        facts
    }

    /// Whether step `u` runs inside the sub-agent spawned by step `spawn`.
    fn within(&self, u: usize, spawn: usize) -> bool {
        let mut c = self.ctx[u];
        while c != ROOT {
            if c as usize == spawn {
                return true;
            }
            c = self.ctx[c as usize];
        }
        false
    }

    /// The verdict of every step: needed when live; redundant when a proof of waste
    /// holds under the verdicts of the others; unproven otherwise. The redundant set
    /// is a greatest fixpoint (optimistic start, re-judged), then a demotion-only
    /// pass guarantees that every redundant step keeps its proof: nothing kept uses
    /// it, so the redundant steps can be removed together.
    fn judge(&self, trace: &Trace, live: &[bool], w: &Waste<'_>) -> Vec<Finding> {
        let n = live.len();
        let mut red: Vec<bool> = live.iter().map(|l| !l).collect();
        for _ in 0..JUDGE_ROUNDS {
            let mut changed = false;
            for i in (0..n).filter(|&i| !live[i]) {
                let proven = self.proof(i, trace, &red, w).is_some();
                changed |= proven != red[i];
                red[i] = proven;
            }
            if !changed {
                break;
            }
        }
        // demotion only: a demoted step can only invalidate the proofs of the steps
        // whose output reached it and of the steps inside it (a sub-agent)
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for i in 0..n {
            for &u in self.users[i].iter().chain(&self.delivered[i]) {
                dependents[u].push(i);
            }
            if self.ctx[i] != ROOT {
                dependents[self.ctx[i] as usize].push(i);
            }
            for &r in &self.outside[i] {
                dependents[r].push(i);
            }
        }
        let mut work: Vec<usize> = (0..n).filter(|&i| red[i]).collect();
        while let Some(i) = work.pop() {
            if red[i] && self.proof(i, trace, &red, w).is_none() {
                red[i] = false;
                work.extend(dependents[i].iter().copied().filter(|&d| red[d]));
            }
        }
        (0..n)
            .map(|i| {
                if live[i] {
                    return Finding::needed();
                }
                match self.proof(i, trace, &red, w) {
                    Some((reason, evidence)) if red[i] => Finding {
                        verdict: Verdict::Redundant,
                        reason: Some(reason),
                        evidence: Some(evidence),
                        confirmed_by: Some("dataflow".into()),
                    },
                    _ => Finding {
                        verdict: Verdict::Unproven,
                        reason: Some(self.open_question(i, &red)),
                        evidence: Some(self.level(trace, i)),
                        confirmed_by: None,
                    },
                }
            })
            .collect()
    }

    fn level(&self, trace: &Trace, i: usize) -> EvidenceLevel {
        if self.content && text_of(&trace.steps[i].output).is_some() {
            EvidenceLevel::Content
        } else {
            EvidenceLevel::Structure
        }
    }

    /// A proof that step `i` is waste, given which other steps are redundant (`red`).
    fn proof(
        &self,
        i: usize,
        trace: &Trace,
        red: &[bool],
        w: &Waste<'_>,
    ) -> Option<(String, EvidenceLevel)> {
        let s = &trace.steps[i];
        let level = self.level(trace, i);
        // nothing that stays may use it
        if self.users[i].iter().any(|&u| !red[u]) {
            return None;
        }
        let mut c = self.ctx[i];
        while c != ROOT {
            if red[c as usize] {
                return Some((
                    format!("inside sub-agent step {} whose result was not used", c + 1),
                    EvidenceLevel::Ids,
                ));
            }
            c = self.ctx[c as usize];
        }
        if s.kind == StepKind::SubagentSpawn {
            let outside = &self.outside[i];
            return if outside.is_empty() {
                self.delivery_known.contains(&self.ctx[i]).then(|| {
                    (
                        "sub-agent result never delivered to a model call".to_owned(),
                        EvidenceLevel::Structure,
                    )
                })
            } else if outside.iter().all(|&u| red[u]) {
                Some((
                    format!(
                        "sub-agent result used only by redundant steps ({})",
                        list(outside)
                    ),
                    level,
                ))
            } else {
                None
            };
        }
        if let Some(o) = w.duplicate_of[i] {
            if !red[o] {
                return Some((
                    format!(
                        "duplicate of step {} with the same inputs and output",
                        o + 1
                    ),
                    if level == EvidenceLevel::Content {
                        EvidenceLevel::Content
                    } else {
                        EvidenceLevel::Ids
                    },
                ));
            }
        }
        if w.writes_total[i] > 0 && w.writes_dead[i] == w.writes_total[i] {
            if let Some(o) = w.overwritten[i] {
                return Some((
                    format!("overwritten by step {} before any read", o + 1),
                    EvidenceLevel::Artifacts,
                ));
            }
        }
        // a failed call whose error text was checked and reused nowhere, retried
        // successfully in the same context
        if s.status == StepStatus::Error && level == EvidenceLevel::Content {
            if let Some(later) = trace.steps[i + 1..].iter().position(|t| {
                t.tool == s.tool
                    && t.kind == s.kind
                    && t.status == StepStatus::Ok
                    && self.ctx[t.id.index()] == self.ctx[i]
            }) {
                return Some((
                    format!("failed attempt superseded by step {}", i + 2 + later),
                    level,
                ));
            }
        }
        let mut to: Vec<usize> = self.users[i]
            .iter()
            .chain(&self.delivered[i])
            .copied()
            .collect();
        to.sort_unstable();
        to.dedup();
        if to.is_empty() {
            return self.delivery_known.contains(&self.ctx[i]).then(|| {
                let what = if s.kind == StepKind::LlmCall {
                    "output never delivered to a later step"
                } else {
                    "output never delivered to a model call"
                };
                (what.to_owned(), EvidenceLevel::Structure)
            });
        }
        if s.kind == StepKind::LlmCall && !s.links.requests.is_empty() {
            // a call that only asked for waste (its own words are part of the request)
            return to.iter().all(|&u| red[u]).then(|| {
                (
                    format!("requested only redundant steps ({})", list(&to)),
                    EvidenceLevel::Ids,
                )
            });
        }
        // an output handed to a model call stays in that conversation: every later
        // call of the context sees it, so a redundant first reader proves nothing
        if self.delivered[i].iter().any(|&u| {
            matches!(
                trace.steps[u].kind,
                StepKind::LlmCall | StepKind::Compaction
            )
        }) {
            return None;
        }
        to.iter().all(|&u| red[u]).then(|| {
            (
                format!("output used only by redundant steps ({})", list(&to)),
                level,
            )
        })
    }

    /// Why a step that is neither proven needed nor proven waste is left open.
    fn open_question(&self, i: usize, red: &[bool]) -> String {
        let kept = |v: &[usize]| v.iter().copied().filter(|&u| !red[u]).collect::<Vec<_>>();
        let users = kept(&self.users[i]);
        if !users.is_empty() {
            return format!("used by unproven step(s) {}", list(&users));
        }
        let to = kept(&self.delivered[i]);
        if !to.is_empty() {
            return format!(
                "delivered to step(s) {}; nothing shows whether it was used",
                list(&to)
            );
        }
        if !self.delivery_known.contains(&self.ctx[i]) {
            return "the source records no delivery; nothing shows whether it was used".into();
        }
        "nothing shows whether it was used".into()
    }
}

fn list(v: &[usize]) -> String {
    let mut s: Vec<String> = v.iter().take(8).map(|x| (x + 1).to_string()).collect();
    if v.len() > 8 {
        s.push(format!("… {} more", v.len() - 8));
    }
    s.join(", ")
}

/// Per step: est. tokens of its output × Σ (average input price per token) of every
/// later model call in the same context until a compaction.
fn carried_costs(trace: &Trace, ctx: &[u32], prices: &PriceTable) -> Vec<Usd> {
    let steps = &trace.steps;
    let n = steps.len();
    // average input-side price (femto-dollars per token) of each model call; the
    // price entry is looked up once per (model, day)
    let mut cache: FxHashMap<(&str, Option<i64>), Option<&crate::cost::ModelPrice>> =
        FxHashMap::default();
    let avg: Vec<u128> = steps
        .iter()
        .map(|s| {
            if s.kind != StepKind::LlmCall || s.tokens.prompt_total() == 0 {
                return 0;
            }
            let Some(model) = s.model.as_deref() else {
                return 0;
            };
            let at = s.started_at.or(trace.started_at);
            let day = at.map(|t| t.as_second().div_euclid(86_400));
            let entry =
                *cache
                    .entry((model, day))
                    .or_insert_with(|| match prices.lookup(model, at) {
                        crate::cost::PriceLookup::Exact(m)
                        | crate::cost::PriceLookup::Prefix(m) => Some(m),
                        crate::cost::PriceLookup::Unknown => None,
                    });
            let Some(m) = entry else { return 0 };
            let input_side = TokenUsage {
                output: 0,
                reasoning: 0,
                ..s.tokens
            };
            let rates = match m.long_context {
                Some((above, r)) if s.tokens.prompt_total() > above => r,
                _ => m.rates,
            };
            let usd = crate::cost::cost_of(&rates, &input_side);
            u128::try_from(usd.nanos().max(0)).unwrap_or(0) * 1_000_000
                / u128::from(s.tokens.prompt_total())
        })
        .collect();
    let mut suffix: HashMap<u32, u128> = HashMap::new();
    let mut carried = vec![Usd::ZERO; n];
    for i in (0..n).rev() {
        let c = ctx[i];
        let s = &steps[i];
        if s.kind == StepKind::Compaction {
            suffix.insert(c, 0);
            continue;
        }
        let after = suffix.get(&c).copied().unwrap_or(0);
        let est = match s.kind {
            StepKind::LlmCall => s.tokens.output,
            _ => s.output.as_ref().map(|o| approx_tokens(o.len)).unwrap_or(0),
        };
        carried[i] = Usd::from_femtos(after.saturating_mul(u128::from(est)));
        *suffix.entry(c).or_insert(0) += avg[i];
    }
    carried
}
