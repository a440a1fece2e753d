//! The dataflow graph, its liveness, the verdicts and the attributed costs.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use rustc_hash::{FxHashMap, FxHashSet};

use petgraph::Directed;
use petgraph::csr::Csr;
use petgraph::visit::Bfs;

use super::EvidenceLevel;
use rayon::prelude::*;

use super::tokens::{Toks, fnv1a, is_number, is_weak, tokens_of};
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

/// A tool call whose output nothing read (see [`Analysis::unread_tools`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadTool {
    /// 0-based step index.
    pub step: usize,
    /// Why it counts as unread.
    pub reason: String,
}

/// Why a step is redundant.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Plain-words reason.
    pub reason: String,
    /// Evidence level the verdict rests on.
    pub evidence: EvidenceLevel,
}

/// Result of the analysis of one trace.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Every evidence edge.
    pub edges: Vec<Edge>,
    /// Per step (index = id − 1): reaches a sink.
    pub live: Vec<bool>,
    /// Per step: the verdict when redundant.
    pub verdicts: Vec<Option<Verdict>>,
    /// Per step: cost of carrying its output in later model calls of its context.
    pub carried: Vec<Usd>,
    /// Whether content evidence was available (the source carried content).
    pub content_checked: bool,
    /// Per step: the earlier step it duplicates.
    pub duplicate_of: Vec<Option<usize>>,
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
    /// reused per consumer: the tokens already seen in its text
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
    c.as_ref().map(|c| fnv1a(c.hash.as_bytes())).unwrap_or(0)
}

/// Approximate token count of a text (bytes / 4, rounded up).
fn approx_tokens(len: u64) -> u64 {
    len.div_ceil(4)
}

impl Edge {
    /// The producer step (0-based index).
    pub fn producer(&self) -> usize {
        self.from as usize
    }

    /// The consumer step (0-based index), or `None` for the outcome sink.
    pub fn consumer(&self) -> Option<usize> {
        (self.to != SINK_NODE).then_some(self.to as usize)
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

        // 3. duplicates: same tool, same input, same output, same context, no write
        //    and no compaction in between
        let mut duplicate_of: Vec<Option<usize>> = vec![None; n];
        let mut epoch: HashMap<u32, u64> = HashMap::new();
        // (context, tool, input hash) → (first step, output class, compaction epoch, writes so far)
        type CallKey<'t> = (u32, &'t str, &'t str);
        let mut seen_calls: HashMap<CallKey<'_>, (usize, u64, u64, u64)> = HashMap::new();
        for (i, s) in steps.iter().enumerate() {
            if s.kind == StepKind::Compaction {
                *epoch.entry(ctx[i]).or_default() += 1;
                continue;
            }
            if !matches!(s.kind, StepKind::ToolUse | StepKind::Other)
                || s.status == StepStatus::Error
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
                .map(|t| fnv1a(t.as_bytes()))
                .collect();
            // Every text is tokenised once, in parallel; the attribution pass below is
            // sequential (first introducer wins) and works on the hashes.
            let toks: Vec<(Toks<'_>, Toks<'_>)> = steps
                .par_iter()
                .map(|s| (tokens_of(text_of(&s.input)), tokens_of(text_of(&s.output))))
                .collect();
            let has_numbers: Vec<bool> = toks
                .iter()
                .map(|(_, out)| out.iter().any(|(_, t)| is_number(t)))
                .collect();
            for (i, s) in steps.iter().enumerate() {
                let c = ctx[i];
                let (in_toks, out_toks) = &toks[i];
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
                    let novel = consume(&mut b, tables.entry(c).or_default(), &stop, ct, Some(i));
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
                        &stop,
                        in_toks,
                        i,
                        class_of(&s.input),
                    );
                }
                if text_of(&s.output).is_some() {
                    produce(
                        tables.entry(c).or_default(),
                        &stop,
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
                    let _ = consume(&mut b, root, &stop, &tokens_of(Some(m)), None);
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
        // (tool names repeat: classify each once; shell commands are read per call)
        let mut by_name: FxHashMap<&str, bool> = FxHashMap::default();
        for (i, s) in steps.iter().enumerate() {
            let side_effect = match s.tool.as_deref() {
                Some(t) if s.kind == StepKind::ToolUse && !is_shell(t) => {
                    s.status == StepStatus::Ok
                        && s.links.writes.is_empty()
                        && *by_name.entry(t).or_insert_with(|| name_mutates(t))
                }
                _ => may_have_side_effects(s, content),
            };
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

        // 7. liveness: reverse reachability from the sink, on a compressed (CSR)
        //    graph of consumer → producer edges, sorted by counting sort in O(E)
        let node_of = |e: &Edge| e.consumer().unwrap_or(n);
        let mut count = vec![0usize; n + 2];
        for e in &b.edges {
            count[node_of(e) + 1] += 1;
        }
        for k in 1..count.len() {
            count[k] += count[k - 1];
        }
        let mut sorted: Vec<(u32, u32)> = vec![(0, 0); b.edges.len()];
        let mut fill = count.clone();
        for e in &b.edges {
            let c = node_of(e);
            sorted[fill[c]] = (c as u32, e.producer() as u32);
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
        let mut out_edges: Vec<Vec<usize>> = vec![Vec::new(); n];
        for e in &b.edges {
            if let Some(t) = e.consumer() {
                out_edges[e.producer()].push(t);
            }
        }
        let mut verdicts: Vec<Option<Verdict>> = vec![None; n];
        for i in 0..n {
            if live[i] {
                continue;
            }
            verdicts[i] = Some(verdict(
                i,
                trace,
                &ctx,
                &live,
                &out_edges,
                &duplicate_of,
                &overwritten,
                &writes_total,
                &writes_dead,
                content,
            ));
        }

        let carried = carried_costs(trace, &ctx, prices);
        Ok(Analysis {
            edges: b.edges,
            live,
            verdicts,
            carried,
            content_checked: content || n == 0,
            duplicate_of,
        })
    }

    /// Tool calls whose output no later step read (no outgoing evidence edge to a
    /// step or to the outcome): the trace-query-layer check, cheaper than a card.
    pub fn unread_tools(&self, trace: &Trace) -> Vec<UnreadTool> {
        let mut has_reader = vec![false; trace.steps.len()];
        for e in &self.edges {
            has_reader[e.producer()] = true;
        }
        trace
            .steps
            .iter()
            .enumerate()
            .filter(|(i, s)| s.kind == StepKind::ToolUse && !has_reader[*i])
            .map(|(i, s)| UnreadTool {
                step: i,
                reason: match self.duplicate_of[i] {
                    Some(d) => format!("duplicate of step {} with the same inputs", d + 1),
                    None if s.status == StepStatus::Error => {
                        "failed call; its error was not read".into()
                    }
                    None if self.content_checked => "no later step reused its output".into(),
                    None => "no later step received its output".into(),
                },
            })
            .collect()
    }

    /// Group `flagged` steps into removal units: flagged steps joined by an evidence
    /// edge (a call and the tool it requested, a sub-agent and its steps) are
    /// removed together when replaying them one unit at a time.
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
        for e in &self.edges {
            if let (Some(&a), Some(b)) = (
                idx.get(&e.producer()),
                e.consumer().and_then(|t| idx.get(&t)),
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

    /// The evidence chain of step `id`, in words: what consumed its output, the
    /// path to the outcome when live, the verdict when not.
    pub fn explain(&self, trace: &Trace, id: StepId) -> Option<String> {
        let i = id.index();
        let s = trace.step(id)?;
        let mut out = String::new();
        let name = s.tool.as_deref().or(s.model.as_deref()).unwrap_or("");
        out.push_str(&format!("step {id} ({} {name})\n", s.kind.as_str()));
        if let Some(d) = self.duplicate_of.get(i).copied().flatten() {
            out.push_str(&format!(
                "  duplicate of step {} (same tool, input and output)\n",
                d + 1
            ));
        }
        let mut any = false;
        for e in self.edges.iter().filter(|e| e.producer() == i) {
            any = true;
            match e.consumer() {
                Some(t) => out.push_str(&format!(
                    "  -> step {} [{}] {}{}\n",
                    t + 1,
                    e.level.as_str(),
                    e.describe(),
                    if self.live[t] {
                        ""
                    } else {
                        " (that step is redundant)"
                    }
                )),
                None => out.push_str(&format!(
                    "  -> OUTCOME [{}] {}\n",
                    e.level.as_str(),
                    e.describe()
                )),
            }
        }
        if !any {
            out.push_str("  no later step used its output\n");
        }
        for e in self.edges.iter().filter(|e| e.consumer() == Some(i)) {
            out.push_str(&format!(
                "  <- step {} [{}] {}\n",
                e.producer() + 1,
                e.level.as_str(),
                e.describe()
            ));
        }
        if self.live[i] {
            // shortest path to the sink
            let mut pred: HashMap<usize, (usize, &Edge)> = HashMap::new();
            let mut frontier = std::collections::VecDeque::from([i]);
            let mut seen = HashSet::from([i]);
            let mut end: Option<(usize, &Edge)> = None;
            'bfs: while let Some(x) = frontier.pop_front() {
                for e in self.edges.iter().filter(|e| e.producer() == x) {
                    match e.consumer() {
                        None => {
                            end = Some((x, e));
                            break 'bfs;
                        }
                        Some(t) if seen.insert(t) => {
                            pred.insert(t, (x, e));
                            frontier.push_back(t);
                        }
                        _ => {}
                    }
                }
            }
            if let Some((mut x, sink_edge)) = end {
                let mut chain = vec![format!("OUTCOME ({})", sink_edge.describe())];
                while x != i {
                    let Some(&(p, e)) = pred.get(&x) else { break };
                    chain.push(format!(
                        "step {} [{}: {}]",
                        x + 1,
                        e.level.as_str(),
                        e.describe()
                    ));
                    x = p;
                }
                chain.push(format!("step {}", i + 1));
                chain.reverse();
                out.push_str(&format!("  live: {}\n", chain.join(" -> ")));
            } else {
                out.push_str("  live: never flagged (user input or compaction)\n");
            }
        } else if let Some(v) = &self.verdicts[i] {
            out.push_str(&format!(
                "  redundant [{}]: {}\n",
                v.evidence.as_str(),
                v.reason
            ));
        }
        Some(out)
    }
}

fn produce(
    table: &mut FxHashMap<u64, TokenEntry>,
    stop: &FxHashSet<u64>,
    toks: &[(u64, &str)],
    step: usize,
    class: u64,
) {
    for &(h, _) in toks {
        if stop.contains(&h) {
            continue;
        }
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

/// Match the distinctive tokens of a consumer's text against its context's table.
fn consume(
    b: &mut Builder,
    table: &mut FxHashMap<u64, TokenEntry>,
    stop: &FxHashSet<u64>,
    toks: &[(u64, &str)],
    consumer: Option<usize>,
) -> bool {
    let seen_here = &mut b.scratch;
    seen_here.clear();
    // producers credited so far, with one token each (a handful per consumer)
    let mut credited: Vec<(u32, &str)> = Vec::new();
    let mut ambiguous: Vec<(u64, &str)> = Vec::new();
    // a number token no producer of this context introduced (checked in the same probe)
    let mut novel_number = false;
    for &(h, tok) in toks {
        if stop.contains(&h) || !seen_here.insert(h) {
            continue;
        }
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

#[allow(clippy::too_many_arguments)]
fn verdict(
    i: usize,
    trace: &Trace,
    ctx: &[u32],
    live: &[bool],
    out_edges: &[Vec<usize>],
    duplicate_of: &[Option<usize>],
    overwritten: &[Option<usize>],
    writes_total: &[usize],
    writes_dead: &[usize],
    content: bool,
) -> Verdict {
    let s = &trace.steps[i];
    let has_text = content && text_of(&s.output).is_some();
    let level = if has_text {
        EvidenceLevel::Content
    } else {
        EvidenceLevel::Structure
    };
    // inside a sub-agent whose result was not used
    let mut c = ctx[i];
    while c != ROOT {
        let spawn = c as usize;
        if !live[spawn] {
            return Verdict {
                reason: format!(
                    "inside sub-agent step {} whose result was not used",
                    spawn + 1
                ),
                evidence: EvidenceLevel::Ids,
            };
        }
        c = ctx[spawn];
    }
    if s.kind == StepKind::SubagentSpawn {
        return Verdict {
            reason: "sub-agent result unused".into(),
            evidence: level,
        };
    }
    if let Some(d) = duplicate_of[i] {
        return Verdict {
            reason: format!("duplicate of step {} with the same inputs", d + 1),
            evidence: if has_text {
                EvidenceLevel::Content
            } else {
                EvidenceLevel::Ids
            },
        };
    }
    if writes_total[i] > 0 && writes_dead[i] == writes_total[i] {
        if let Some(o) = overwritten[i] {
            return Verdict {
                reason: format!("overwritten by step {} before any read", o + 1),
                evidence: EvidenceLevel::Artifacts,
            };
        }
    }
    if s.status == StepStatus::Error {
        if let Some(later) = trace.steps[i + 1..].iter().position(|t| {
            t.tool == s.tool
                && t.kind == s.kind
                && t.status == StepStatus::Ok
                && ctx[t.id.index()] == ctx[i]
        }) {
            return Verdict {
                reason: format!("failed attempt superseded by step {}", i + 2 + later),
                evidence: level,
            };
        }
    }
    let consumers: Vec<usize> = {
        let mut v = out_edges[i].clone();
        v.sort_unstable();
        v.dedup();
        v
    };
    if s.kind == StepKind::LlmCall && !s.links.requests.is_empty() && !consumers.is_empty() {
        return Verdict {
            reason: format!("requested only redundant steps ({})", list(&consumers)),
            evidence: EvidenceLevel::Ids,
        };
    }
    if !consumers.is_empty() {
        return Verdict {
            reason: format!("output used only by redundant steps ({})", list(&consumers)),
            evidence: level,
        };
    }
    Verdict {
        reason: "output never read downstream".into(),
        evidence: level,
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
