//! Claude Code session transcripts (`~/.claude/projects/<project>/<session>.jsonl`).
//!
//! Both layouts are read (see `docs/formats/claude_code.md`):
//! - **1.0.x**: Task sub-agents are inlined in the session file as `isSidechain: true`
//!   records, each sub-agent a fresh `parentUuid: null` chain. A chain is tied to the
//!   `Task` tool call whose `input.prompt` equals the chain's first user message
//!   (else the Task call whose time window contains the chain start).
//! - **2.x**: sub-agents live in `<session>/subagents/agent-<agentId>.jsonl`, read as
//!   part of the parent and tied to the spawning call through
//!   `toolUseResult.agentId` / `progress.data.agentId` + `parentToolUseID`. Their
//!   messages are also mirrored into the parent as `agent_progress` records; those
//!   mirrors are used only when the sub-agent file is absent. `agent-acompact-*` is
//!   the internal compaction agent: its call becomes a child of the `compaction` step
//!   of the matching `compact_boundary`.
//!
//! Records of all agents are merged in timestamp order (a sub-agent's records only
//! after its spawn step). One `llm_call` per `message.id` (records are split per
//! content block, each with a copy of `usage`): input and cache counts once, output
//! the maximum seen.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::Result;
use crate::import::{ContentOptions, Input};
use jiff::Timestamp;

mod compact;
mod lines;

use crate::model::{Content, Step, StepId, StepKind, StepStatus, TokenUsage, Trace, Warning};
use crate::money::Usd;
use compact::J as Value;
use lines::{At, Lines, Source, text_of};

const FORMAT: &str = "claude_code";

/// Maps keyed by ids from the file: foldhash with a per-process seed (SipHash was
/// a visible share of a large import; iteration order is never used).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// Record types that carry no step (2.1.x writes many bookkeeping records next to the
/// conversation: request shapes and blobs, attachments, queue operations, ...).
/// They are skipped and counted in the `skipped_records` warning.
const KNOWN_SKIPPED: &[&str] = &[
    "file-history-snapshot",
    "queue-operation",
    "attachment",
    "atis-latch",
    "api-request",
    "api-request-shape",
    "api-request-blob",
    "tools-used",
    "last-prompt",
    "custom-title",
    "ai-title",
    "tag",
    "agent-name",
    "pr-link",
    "mode",
    "worktree-state",
];

const TOKEN_SEMANTICS: &str = "Anthropic Messages usage (exclusive): input_tokens excludes \
cache_read_input_tokens and cache_creation_input_tokens (writes split 5m/1h by \
usage.cache_creation, else all 5m); output_tokens includes thinking. Records split per \
content block share one usage: counted once per message.id, output = max seen (streamed \
snapshots are often under-reported; a Task result's usage corrects the sub-agent's last call).";

/// True when `head` looks like a Claude Code transcript.
pub(crate) fn sniff(_path: &Path, head: &str) -> bool {
    let t = head.trim_start();
    if !t.starts_with('{') {
        return false;
    }
    (t.contains("\"parentUuid\"") && t.contains("\"sessionId\""))
        || (t.contains("\"type\":\"summary\"") && t.contains("\"leafUuid\""))
        // 2.x opens with a file-history snapshot, which can be far longer than the
        // head (backups of many files): its own start is enough
        || (t.contains("\"type\":\"file-history-snapshot\"")
            && t.contains("\"messageId\"")
            && t.contains("\"snapshot\""))
}

/// Import one session (plus its `subagents/` files when present) from an in-memory
/// input.
pub(crate) fn import(input: &Input) -> Result<Vec<Trace>> {
    let mut main = read_memory(&input.path, &input.bytes)?;
    main.src = Source::Memory(&input.bytes);
    import_lines(
        &input.path,
        main,
        input.content,
        input.companions.as_deref(),
    )
}

/// Import the session at `path` streaming: the file is never held whole, and each
/// record only while its step is built (see `lines`).
pub(crate) fn import_path(path: &Path, content: ContentOptions) -> Result<Vec<Trace>> {
    let main = read_file(path)?;
    if !main.non_blank {
        return Err(crate::Error::parse(path, None, None, "the file is empty"));
    }
    import_lines(path, main, content, None)
}

/// The lines of an input held in memory: in one pass when it is small enough.
fn read_memory<'s>(path: &Path, bytes: &[u8]) -> Result<Lines<'s>> {
    if bytes.len() as u64 <= lines::ONE_PASS_BYTES {
        lines::read_whole(path, bytes)
    } else {
        lines::read(path, bytes)
    }
}

/// The lines of the regular file at `path`: a small file read whole in one pass;
/// a larger one through a buffer, the file staying open for the second pass.
fn read_file(path: &Path) -> Result<Lines<'static>> {
    use std::io::Read;
    let f = crate::import::open_regular(path, crate::import::MAX_INPUT_BYTES)?;
    let size = f.metadata().map_err(|e| crate::Error::io(path, e))?.len();
    if size <= one_pass_limit() {
        // +1: a file that grew past the limit since `open_regular` is still refused
        let mut bytes = lines::Buffer::with_capacity(usize::try_from(size).unwrap_or(0) + 1);
        (&f).take(crate::import::MAX_INPUT_BYTES + 1)
            .read_to_end(bytes.vec())
            .map_err(|e| crate::Error::io(path, e))?;
        let mut lines = lines::read_whole(path, &bytes)?;
        lines.src = Source::Owned(bytes);
        return Ok(lines);
    }
    let mut lines = lines::read(path, std::io::BufReader::with_capacity(1 << 20, &f))?;
    lines.src = Source::File {
        file: f,
        buf: Vec::new(),
        start: 0,
    };
    Ok(lines)
}

/// Files up to this size are read in one pass ([`lines::ONE_PASS_BYTES`]; tests
/// lower it to run the two-pass reader on small real files).
fn one_pass_limit() -> u64 {
    #[cfg(test)]
    if let Some(l) = tests::ONE_PASS_LIMIT.with(std::cell::Cell::get) {
        return l;
    }
    lines::ONE_PASS_BYTES
}

/// Build the session from its main file's records, its sub-agent files and its
/// telemetry: from the filesystem, or from the companions an engine job handed over.
fn import_lines<'s>(
    path: &Path,
    main: Lines<'s>,
    content: ContentOptions,
    companions: Option<&'s [Input]>,
) -> Result<Vec<Trace>> {
    let mut files: Vec<(PathBuf, Lines<'s>)> = vec![(path.to_path_buf(), main)];
    let mut warnings = Vec::new();
    let subs: Vec<(PathBuf, Result<Lines<'s>>)> = match companions {
        Some(c) => companions_in(path, c, "subagents")
            .into_iter()
            .filter(|i| is_subagent_file(&i.path))
            .map(|i| {
                let r = read_memory(&i.path, &i.bytes).map(|mut l| {
                    l.src = Source::Memory(&i.bytes);
                    l
                });
                (i.path.clone(), r)
            })
            .collect(),
        None => subagent_files(path)
            .into_iter()
            .map(|p| {
                let r = read_file(&p);
                (p, r)
            })
            .collect(),
    };
    for (p, r) in subs {
        match r {
            Ok(j) => files.push((p, j)),
            Err(e) => warnings.push(Warning::at(
                crate::model::WarningCode::SubagentFileUnreadable,
                format!("sub-agent transcript skipped: {e}"),
                p.display().to_string(),
                None,
            )),
        }
    }
    // A record re-written with other bytes but the same `uuid` is one record (the
    // byte-identical repeats are already gone). Not `message.id`: the content
    // blocks of one streamed reply share it under different uuids (merged later).
    for (p, j) in &mut files {
        dedup_uuids(p, j)?;
    }
    let stem = path
        .file_stem()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut b = Builder::new(stem, content, files)?;
    b.trace.warnings.extend(warnings);
    b.run()?;
    let mut trace = b.finish();
    // Claude Code's own telemetry kept next to the session: `<session>/otel/*.json[l]`.
    let tel = match companions {
        Some(c) => {
            let otel: Vec<&Input> = companions_in(path, c, "otel")
                .into_iter()
                .filter(|i| {
                    i.path
                        .extension()
                        .is_some_and(|x| x == "json" || x == "jsonl" || x == "pb")
                })
                .collect();
            (!otel.is_empty())
                .then(|| crate::import::claude_code_otel::read_inputs(&otel))
                .transpose()?
        }
        None => {
            let otel =
                crate::import::claude_code_otel::files_in(&path.with_extension("").join("otel"));
            (!otel.is_empty())
                .then(|| crate::import::claude_code_otel::read(&otel))
                .transpose()?
        }
    };
    if let Some(tel) = tel {
        crate::import::claude_code_otel::join(&mut trace, &tel);
    }
    Ok(vec![trace])
}

/// The companions of `main` directly in `<stem>/<sub>/`, sorted by path.
fn companions_in<'a>(main: &Path, companions: &'a [Input], sub: &str) -> Vec<&'a Input> {
    let dir = main.with_extension("").join(sub);
    let mut out: Vec<&Input> = companions
        .iter()
        .filter(|i| i.path.parent() == Some(dir.as_path()))
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn is_subagent_file(p: &Path) -> bool {
    p.extension().is_some_and(|x| x == "jsonl")
        && p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("agent-"))
}

/// `<dir>/<stem>/subagents/agent-*.jsonl`, sorted; empty when absent.
fn subagent_files(path: &Path) -> Vec<PathBuf> {
    if path
        .parent()
        .and_then(|d| d.file_name())
        .is_some_and(|n| n == "subagents")
    {
        return Vec::new();
    }
    let dir = path.with_extension("").join("subagents");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_subagent_file(p))
        .collect();
    out.sort();
    out
}

/// One record being processed.
#[derive(Clone, Copy)]
struct Rec<'a> {
    file: usize,
    line: u64,
    v: &'a Value,
    ts: Option<Timestamp>,
}

/// One record waiting in a stream: where to read it again ([`Lines::load`]).
#[derive(Clone, Copy)]
struct Slot {
    file: usize,
    line: u64,
    off: u64,
    len: usize,
    ts: Option<Timestamp>,
    /// The record is the `data.message` of this line (an `agent_progress` mirror).
    mirror: bool,
}

impl Slot {
    fn of(file: usize, l: &lines::Line, ts: Option<Timestamp>, mirror: bool) -> Slot {
        Slot {
            file,
            line: l.no,
            off: l.off,
            len: l.len,
            ts,
            mirror,
        }
    }
}

#[derive(Clone, PartialEq)]
enum Activation {
    /// The root conversation.
    Root,
    /// Starts when the tool call with this id is pushed.
    Spawn(String),
    /// Starts at the n-th (0-based) `compact_boundary` of the root.
    Compaction(usize),
    /// Nothing links it; processed at the end.
    Orphan,
}

#[derive(Clone, Copy, PartialEq)]
enum StreamKind {
    Root,
    SubAgent,
    Compaction,
}

struct Stream {
    recs: Vec<Slot>,
    pos: usize,
    activation: Activation,
    kind: StreamKind,
    /// `agent-<id>` / `sidechain` label.
    label: String,
    active: bool,
}

/// Per-agent state while processing.
#[derive(Default)]
struct Agent {
    name: Option<String>,
    parent: Option<StepId>,
    /// Steps delivered since this agent's previous model call.
    pending: Vec<StepId>,
    last_llm: Option<StepId>,
    last_text_llm: Option<StepId>,
    last_model: Option<String>,
    /// Raw (input, cache_read, cache_creation) of the last call.
    last_raw: Option<(u64, u64, u64)>,
    started: bool,
}

struct Builder<'s> {
    files: Vec<(PathBuf, Lines<'s>)>,
    /// The files' paths, shared by the places of the record being processed.
    paths: Vec<std::rc::Rc<Path>>,
    content: ContentOptions,
    trace: Trace,
    streams: Vec<Stream>,
    agents: Vec<Agent>,
    /// Order of activation (index into streams).
    activated: Vec<usize>,
    by_msg: HashMap<String, MsgState>,
    seen_assistant_uuids: HashSet<String>,
    tool_steps: HashMap<String, (StepId, usize)>,
    spawn_streams: HashMap<String, Vec<usize>>,
    compaction_steps: Vec<StepId>,
    last_compaction: Option<StepId>,
    noise: BTreeMap<String, u64>,
    unknown: BTreeMap<String, (u64, u64, usize)>,
    orphan_results: Vec<(usize, u64, String)>,
    synthesized: u64,
    corrected: u64,
    denied: u64,
    /// Background (async) spawns by tool-use id, waiting for their notification.
    background: HashMap<String, StepId>,
    /// Background commands by task id (`toolUseResult.backgroundTaskId`).
    background_tasks: HashMap<String, StepId>,
    /// Notifications naming no known background spawn.
    unmatched_notifications: Vec<(usize, u64)>,
}

struct MsgState {
    step: StepId,
    chars: usize,
    text: String,
}

fn at(path: &Path, line: u64) -> At<'_> {
    At::new(path, Some(line))
}

impl<'s> Builder<'s> {
    fn new(
        stem: String,
        content: ContentOptions,
        files: Vec<(PathBuf, Lines<'s>)>,
    ) -> Result<Self> {
        let mut trace = Trace::new(stem, FORMAT);
        trace.source.token_semantics = Some(TOKEN_SEMANTICS.into());
        trace.source.files = files.iter().map(|(p, _)| p.display().to_string()).collect();
        for (_, j) in &files {
            trace.warnings.extend(j.warnings.iter().cloned());
        }
        let paths = files.iter().map(|(p, _)| p.as_path().into()).collect();
        let mut b = Builder {
            files,
            paths,
            content,
            trace,
            streams: Vec::new(),
            agents: Vec::new(),
            activated: Vec::new(),
            by_msg: HashMap::default(),
            seen_assistant_uuids: HashSet::default(),
            tool_steps: HashMap::default(),
            spawn_streams: HashMap::default(),
            compaction_steps: Vec::new(),
            last_compaction: None,
            noise: BTreeMap::new(),
            unknown: BTreeMap::new(),
            orphan_results: Vec::new(),
            synthesized: 0,
            corrected: 0,
            denied: 0,
            background: HashMap::default(),
            background_tasks: HashMap::default(),
            unmatched_notifications: Vec::new(),
        };
        b.build_streams()?;
        Ok(b)
    }

    fn path(&self, file: usize) -> &Path {
        self.files
            .get(file)
            .map(|(p, _)| p.as_path())
            .unwrap_or(Path::new(""))
    }

    /// The whole record of `slot`, read again from its file.
    fn load(&mut self, slot: &Slot) -> Result<Value> {
        let Some((path, lines)) = self.files.get_mut(slot.file) else {
            return Ok(Value::Null);
        };
        if slot.mirror {
            // the line is also read as itself: leave its record for that
            if let Some(m) = lines
                .peek(slot.line)
                .and_then(|v| v.get("data")?.get("message"))
            {
                return Ok(m.clone());
            }
        }
        let v = lines.load(path, slot.line, slot.off, slot.len)?;
        if !slot.mirror {
            return Ok(v);
        }
        Ok(take(take(v, "data"), "message"))
    }

    /// Hand the record of `slot` back after a look at it (see [`Lines::put_back`]).
    fn put_back(&mut self, slot: &Slot, v: Value) {
        if slot.mirror {
            // `v` is only the mirrored record, not the line's
            return;
        }
        if let Some((_, lines)) = self.files.get_mut(slot.file) {
            lines.put_back(slot.line, v);
        }
    }

    fn add_stream(
        &mut self,
        recs: Vec<Slot>,
        activation: Activation,
        kind: StreamKind,
        label: String,
    ) {
        let idx = self.streams.len();
        if let Activation::Spawn(id) = &activation {
            self.spawn_streams.entry(id.clone()).or_default().push(idx);
        }
        self.streams.push(Stream {
            recs,
            pos: 0,
            activation,
            kind,
            label,
            active: false,
        });
        self.agents.push(Agent::default());
    }

    /// Split every record into root / sidechain chains / sub-agent files / mirrors.
    fn build_streams(&mut self) -> Result<()> {
        // The head records, taken out of the files: dropped once the streams are built.
        let heads: Vec<Vec<lines::Line>> = self
            .files
            .iter_mut()
            .map(|(_, l)| std::mem::take(&mut l.lines))
            .collect();
        let paths: Vec<PathBuf> = self.files.iter().map(|(p, _)| p.clone()).collect();
        // agentId -> spawning tool_use id, from results and progress records of every file.
        let mut agent_link: HashMap<String, String> = HashMap::default();
        let mut mirrors: BTreeMap<String, (String, Vec<Slot>)> = BTreeMap::new();
        let mut mirror_uuids: HashSet<String> = HashSet::default();
        let file_agent_ids: HashSet<String> = paths
            .iter()
            .skip(1)
            .filter_map(|p| agent_id_of_file(p))
            .collect();
        for (fi, (path, j)) in paths.iter().zip(&heads).enumerate() {
            for l in j {
                let (line, v) = (&l.no, &l.head);
                let a = at(path, *line);
                let ty = a.str(v, "type")?;
                if ty == Some("user") {
                    // the head has no `message`: read the whole record (one per sub-agent)
                    let slot = Slot::of(fi, l, None, false);
                    let full = match v.get("toolUseResult").filter(|t| t.is_object()) {
                        Some(tur) if a.str(tur, "agentId")?.is_some() => Some(self.load(&slot)?),
                        _ => None,
                    };
                    if let Some(v) = &full
                        && let Some(tur) = v.get("toolUseResult").filter(|t| t.is_object())
                        && let Some(agent) = a.str(tur, "agentId")?
                        && let Some(msg) = a.obj(v, "message")?
                        && let Some(Value::Array(blocks)) = msg.get("content")
                    {
                        for bl in blocks {
                            if bl.get("type").and_then(Value::as_str) == Some("tool_result")
                                && let Some(id) = a.str(bl, "tool_use_id")?
                            {
                                agent_link
                                    .entry(agent.to_string())
                                    .or_insert_with(|| id.to_string());
                            }
                        }
                    }
                    if let Some(v) = full {
                        self.put_back(&slot, v);
                    }
                } else if ty == Some("progress") {
                    let Some(data) = v.get("data").filter(|d| d.is_object()) else {
                        continue;
                    };
                    if a.str(data, "type")? != Some("agent_progress") {
                        continue;
                    }
                    let (Some(agent), Some(parent_tool)) =
                        (a.str(data, "agentId")?, a.str(v, "parentToolUseID")?)
                    else {
                        continue;
                    };
                    agent_link
                        .entry(agent.to_string())
                        .or_insert_with(|| parent_tool.to_string());
                    if file_agent_ids.contains(agent) {
                        self.noise("agent_progress mirrors of sub-agent files");
                        continue;
                    }
                    let Some(inner) = data.get("message").filter(|m| m.is_object()) else {
                        continue;
                    };
                    if let Some(u) = a.str(inner, "uuid")?
                        && !mirror_uuids.insert(u.to_string())
                    {
                        self.noise("duplicate agent_progress mirrors");
                        continue;
                    }
                    let ts = match a.time(inner, "timestamp")? {
                        Some(t) => Some(t),
                        None => a.time(v, "timestamp")?,
                    };
                    mirrors
                        .entry(agent.to_string())
                        .or_insert_with(|| (parent_tool.to_string(), Vec::new()))
                        .1
                        .push(Slot::of(fi, l, ts, true));
                }
            }
        }

        // Main file: root records and 1.0.x sidechain chains.
        let (main_path, main) = match (paths.first(), heads.first()) {
            (Some(p), Some(j)) => (p.as_path(), j),
            _ => return Ok(()),
        };
        let all_side = main
            .iter()
            .all(|l| l.head.get("isSidechain").and_then(Value::as_bool) == Some(true));
        let mut root = Vec::new();
        let mut chains: Vec<Vec<Slot>> = Vec::new();
        let mut chain_of: HashMap<&str, usize> = HashMap::default();
        for l in main {
            let (line, v) = (&l.no, &l.head);
            let a = at(main_path, *line);
            let ts = a.time(v, "timestamp")?;
            let rec = Slot::of(0, l, ts, false);
            let side = a.bool(v, "isSidechain")? == Some(true);
            if !side || all_side {
                root.push(rec);
                continue;
            }
            let parent = a.str(v, "parentUuid")?;
            let ci = match parent.and_then(|p| chain_of.get(p)) {
                Some(ci) => *ci,
                None => {
                    chains.push(Vec::new());
                    chains.len() - 1
                }
            };
            if let Some(u) = a.str(v, "uuid")? {
                chain_of.insert(u, ci);
            }
            if let Some(c) = chains.get_mut(ci) {
                c.push(rec);
            }
        }
        self.add_stream(root, Activation::Root, StreamKind::Root, "main".into());
        if !chains.is_empty() {
            self.correlate_chains(main_path, main, chains, &chain_of)?;
        }

        // 2.x sub-agent files.
        for (fi, (path, j)) in paths.iter().zip(&heads).enumerate().skip(1) {
            let mut recs = Vec::with_capacity(j.len());
            for l in j {
                let ts = at(path, l.no).time(&l.head, "timestamp")?;
                recs.push(Slot::of(fi, l, ts, false));
            }
            let id = agent_id_of_file(path).unwrap_or_default();
            if id.starts_with("acompact") {
                let n = self
                    .streams
                    .iter()
                    .filter(|s| s.kind == StreamKind::Compaction)
                    .count();
                self.add_stream(
                    recs,
                    Activation::Compaction(n),
                    StreamKind::Compaction,
                    format!("agent-{id}"),
                );
            } else {
                // 2.1.x writes `agent-<id>.meta.json` next to the file, naming the
                // spawning call (`toolUseId`): it links even when no result says so.
                let meta_tool = meta_tool_use_id(path);
                let act = match meta_tool.as_ref().or_else(|| agent_link.get(&id)) {
                    Some(t) => Activation::Spawn(t.clone()),
                    None => Activation::Orphan,
                };
                self.add_stream(recs, act, StreamKind::SubAgent, format!("agent-{id}"));
            }
        }
        // Compaction agents pair with compact_boundary records in time order (their
        // file names are random), by the time of their last record.
        let mut comp: Vec<(Option<Timestamp>, usize)> = self
            .streams
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == StreamKind::Compaction)
            .map(|(i, s)| (s.recs.iter().rev().find_map(|r| r.ts), i))
            .collect();
        comp.sort();
        for (n, (_, i)) in comp.into_iter().enumerate() {
            if let Some(s) = self.streams.get_mut(i) {
                s.activation = Activation::Compaction(n);
            }
        }
        // Mirrors of sub-agents whose file is absent.
        for (id, (tool, recs)) in mirrors {
            self.add_stream(
                recs,
                Activation::Spawn(tool),
                StreamKind::SubAgent,
                format!("agent-{id}"),
            );
        }
        Ok(())
    }

    /// Tie each 1.0.x sidechain chain to the Task call that spawned it.
    fn correlate_chains(
        &mut self,
        path: &Path,
        main: &[lines::Line],
        chains: Vec<Vec<Slot>>,
        chain_of: &HashMap<&str, usize>,
    ) -> Result<()> {
        struct Cand {
            id: String,
            prompt: String,
            ts: Option<Timestamp>,
            chain: Option<usize>,
            result_ts: Option<Timestamp>,
            used: bool,
        }
        let mut cands: Vec<Cand> = Vec::new();
        let mut result_ts: HashMap<String, Option<Timestamp>> = HashMap::default();
        for l in main {
            // whole records (1.0.x sessions with inlined sub-agents only), handed
            // back for the streams to read
            let slot = Slot::of(0, l, None, false);
            let full = self.load(&slot)?;
            'rec: {
                let (line, v) = (&l.no, &full);
                let a = at(path, *line);
                let ty = a.str(v, "type")?;
                let Some(msg) = v.get("message").filter(|m| m.is_object()) else {
                    break 'rec;
                };
                let Some(Value::Array(blocks)) = msg.get("content") else {
                    break 'rec;
                };
                for bl in blocks {
                    let bt = bl.get("type").and_then(Value::as_str);
                    if ty == Some("assistant") && bt == Some("tool_use") {
                        let name = a.str(bl, "name")?.unwrap_or_default();
                        if is_spawn_tool(name) {
                            let prompt = bl
                                .get("input")
                                .and_then(|i| i.get("prompt"))
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .trim()
                                .to_string();
                            let chain = a.str(v, "uuid")?.and_then(|u| chain_of.get(u).copied());
                            cands.push(Cand {
                                id: a.str(bl, "id")?.unwrap_or_default().to_string(),
                                prompt,
                                ts: a.time(v, "timestamp")?,
                                chain,
                                result_ts: None,
                                used: false,
                            });
                        }
                    } else if ty == Some("user")
                        && bt == Some("tool_result")
                        && let Some(id) = a.str(bl, "tool_use_id")?
                    {
                        result_ts.insert(id.to_string(), a.time(v, "timestamp")?);
                    }
                }
            }
            self.put_back(&slot, full);
        }
        for c in &mut cands {
            c.result_ts = result_ts.get(&c.id).copied().flatten();
        }
        for (ci, chain) in chains.into_iter().enumerate() {
            let Some(first) = chain.first().copied() else {
                continue;
            };
            let first_v = self.load(&first)?;
            let root_text = first_v
                .get("message")
                .and_then(|m| m.get("content"))
                .map(plain_text)
                .unwrap_or_default();
            self.put_back(&first, first_v);
            let root_text = root_text.trim();
            let start = first.ts;
            let before = |c: &Cand| match (c.ts, start) {
                (Some(a), Some(b)) => a <= b,
                _ => true,
            };
            let pick = cands
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.used && c.chain != Some(ci))
                .filter(|(_, c)| !root_text.is_empty() && c.prompt == root_text && before(c))
                .max_by_key(|(_, c)| c.ts)
                .map(|(i, _)| i)
                .or_else(|| {
                    cands
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| !c.used && c.chain != Some(ci) && before(c))
                        .filter(|(_, c)| match (c.result_ts, start) {
                            (Some(r), Some(s)) => s <= r,
                            _ => true,
                        })
                        .max_by_key(|(_, c)| c.ts)
                        .map(|(i, _)| i)
                });
            match pick.and_then(|i| cands.get_mut(i)) {
                Some(c) => {
                    c.used = true;
                    let id = c.id.clone();
                    self.add_stream(
                        chain,
                        Activation::Spawn(id),
                        StreamKind::SubAgent,
                        "sidechain".into(),
                    );
                }
                None => {
                    self.trace.warn(Warning::at(
                        crate::model::WarningCode::SidechainUnmatched,
                        "sidechain chain matches no Task call by prompt or time window; its steps are kept at top level",
                        path.display().to_string(),
                        Some(first.line),
                    ));
                    self.add_stream(
                        chain,
                        Activation::Orphan,
                        StreamKind::SubAgent,
                        "sidechain".into(),
                    );
                }
            }
        }
        Ok(())
    }

    fn activate(&mut self, si: usize, parent: Option<StepId>, name: Option<String>) {
        if let Some(s) = self.streams.get_mut(si) {
            if s.active {
                return;
            }
            s.active = true;
        }
        self.activated.push(si);
        if let Some(a) = self.agents.get_mut(si) {
            a.parent = parent;
            a.name = name;
        }
    }

    /// Merge the active streams by timestamp (later-activated first on ties).
    fn run(&mut self) -> Result<()> {
        self.activate(0, None, None);
        loop {
            let mut best: Option<(usize, Option<Timestamp>, usize)> = None;
            for (rank, &si) in self.activated.iter().enumerate() {
                let Some(s) = self.streams.get(si) else {
                    continue;
                };
                let Some(r) = s.recs.get(s.pos) else { continue };
                let better = match best {
                    None => true,
                    Some((_, bts, _)) => r.ts <= bts,
                };
                if better {
                    best = Some((si, r.ts, rank));
                }
            }
            let Some((si, _, _)) = best else {
                // Activate a stream nothing linked, if any is left.
                let next = self
                    .streams
                    .iter()
                    .position(|s| !s.active && !s.recs.is_empty());
                let Some(si) = next else { break };
                self.activate_orphan(si);
                continue;
            };
            let rec = match self.streams.get_mut(si) {
                Some(s) => {
                    let r = s.recs.get(s.pos).copied();
                    s.pos += 1;
                    // carry timestamps forward inside a stream
                    if let (Some(r), Some(next)) = (r, s.recs.get_mut(s.pos))
                        && next.ts.is_none()
                    {
                        next.ts = r.ts;
                    }
                    r
                }
                None => None,
            };
            if let Some(rec) = rec {
                self.record(si, rec)?;
            }
        }
        Ok(())
    }

    fn activate_orphan(&mut self, si: usize) {
        let (kind, label, line, file) = match self.streams.get(si) {
            Some(s) => (
                s.kind,
                s.label.clone(),
                s.recs.first().map(|r| r.line),
                s.recs.first().map(|r| r.file).unwrap_or(0),
            ),
            None => return,
        };
        let path = self.path(file).display().to_string();
        if kind == StreamKind::Compaction {
            let mut st = Step::new(StepKind::Compaction);
            st.agent = Some("compaction".into());
            st.source_ref = Some(label.clone());
            st.attributes
                .insert("synthesized".into(), "no compact_boundary record".into());
            let id = self.trace.push(st);
            self.trace.warn(Warning::at(
                crate::model::WarningCode::CompactionUnmatched,
                format!("{label}: no compact_boundary record matches this compaction agent; a compaction step was added for it"),
                path,
                line,
            ));
            self.activate(si, Some(id), Some("compaction".into()));
        } else {
            self.trace.warn(Warning::at(
                crate::model::WarningCode::SubagentUnlinked,
                format!("{label}: no Task/Agent call links to this sub-agent; its steps are kept at top level"),
                path,
                line,
            ));
            self.activate(si, None, Some(label));
        }
    }

    fn agent_parent(&self, si: usize) -> Option<StepId> {
        self.agents.get(si).and_then(|a| a.parent)
    }

    fn agent_name(&self, si: usize) -> Option<String> {
        self.agents.get(si).and_then(|a| a.name.clone())
    }

    fn deliver(&mut self, si: usize, id: StepId) {
        if let Some(a) = self.agents.get_mut(si)
            && !a.pending.contains(&id)
        {
            a.pending.push(id);
        }
    }

    fn noise(&mut self, what: &str) {
        *self.noise.entry(what.to_string()).or_default() += 1;
    }

    /// Read the record of `slot` again, whole, and build its steps.
    fn record(&mut self, si: usize, slot: Slot) -> Result<()> {
        let v = self.load(&slot)?;
        let path = self
            .paths
            .get(slot.file)
            .cloned()
            .unwrap_or_else(|| Path::new("").into());
        let rec = Rec {
            file: slot.file,
            line: slot.line,
            v: &v,
            ts: slot.ts,
        };
        self.record_v(si, rec, at(&path, slot.line))
    }

    fn record_v(&mut self, si: usize, rec: Rec<'_>, a: At<'_>) -> Result<()> {
        let v = rec.v;
        if !v.is_object() {
            return Err(a.err("type", "expected a JSON object record"));
        }
        if si == 0 && self.trace.started_at.is_none() {
            self.trace.started_at = rec.ts;
        }
        if si == 0 {
            for (k, m) in [
                ("cwd", "cwd"),
                ("version", "claude_code_version"),
                ("gitBranch", "git_branch"),
            ] {
                if let Some(s) = a.str(v, k)?
                    && !self.trace.metadata.contains_key(m)
                {
                    self.trace.metadata.insert(m.into(), s.to_string());
                }
            }
            if let Some(s) = a.str(v, "sessionId")? {
                match self.trace.metadata.get_mut("session_id") {
                    Some(old) if old == s => {}
                    Some(old) => *old = s.to_string(),
                    None => {
                        self.trace
                            .metadata
                            .insert("session_id".into(), s.to_string());
                        self.trace.session_id = s.to_string();
                    }
                }
            }
        }
        let ty = a.str(v, "type")?;
        match ty {
            Some("assistant") => self.assistant(si, rec, a),
            Some("user") => self.user(si, rec, a),
            Some("system") => {
                match a.str(v, "subtype")? {
                    Some("compact_boundary")
                        if self
                            .streams
                            .get(si)
                            .is_some_and(|s| s.kind != StreamKind::Compaction) =>
                    {
                        self.compaction(si, rec, a)?
                    }
                    Some(_) | None => {
                        self.noise("system records (turn_duration, hooks, local commands)")
                    }
                }
                Ok(())
            }
            Some("summary") => {
                if let Some(s) = a.str(v, "summary")? {
                    let e = self.trace.metadata.entry("summary".into()).or_default();
                    if !e.is_empty() {
                        e.push_str(" | ");
                    }
                    e.push_str(s);
                }
                Ok(())
            }
            Some("progress") => {
                let dt = v
                    .get("data")
                    .and_then(|d| d.get("type"))
                    .and_then(Value::as_str);
                match dt {
                    Some("hook_progress") => self.noise("hook_progress"),
                    Some("bash_progress") => self.noise("bash_progress"),
                    Some("agent_progress") => {} // handled in build_streams
                    _ => self.noise("other progress records"),
                }
                Ok(())
            }
            Some("cost-state") => {
                // Claude Code's own running total for the session (all agents): the
                // session-level reported cost; the last record wins.
                if si == 0
                    && let Some(c) = v.get("totalCostUSD").and_then(Value::as_f64)
                {
                    self.trace.reported_cost_usd = Usd::from_f64(c);
                }
                self.noise("cost-state");
                Ok(())
            }
            Some(t) if KNOWN_SKIPPED.contains(&t) => {
                self.noise(t);
                Ok(())
            }
            other => {
                let key = other.unwrap_or("<missing type>").to_string();
                let e = self.unknown.entry(key).or_insert((rec.line, 0, rec.file));
                e.1 += 1;
                Ok(())
            }
        }
    }

    fn assistant(&mut self, si: usize, rec: Rec<'_>, a: At<'_>) -> Result<()> {
        let keep = !self.content.skip;
        let v = rec.v;
        let Some(msg) = v.get("message") else {
            return Err(a.err("message", "missing required field"));
        };
        if !msg.is_object() {
            a.obj(v, "message")?;
        }
        let model = a.str(msg, "model")?;
        if model == Some("<synthetic>") {
            self.noise("<synthetic> model records");
            return Ok(());
        }
        if let Some(u) = a.str(v, "uuid")?
            && !self.seen_assistant_uuids.insert(u.to_string())
        {
            self.noise("duplicate assistant records");
            return Ok(());
        }
        let blocks: Vec<&Value> = match msg.get("content") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(b)) => b.iter().collect(),
            Some(s @ Value::String(_)) => vec![s],
            Some(_) => return Err(a.err("content", "expected a string or an array")),
        };
        let usage = msg.get("usage").filter(|u| !u.is_null());
        let (raw, out_tokens, tokens) = match usage {
            Some(u) => {
                if !u.is_object() {
                    a.obj(msg, "usage")?;
                }
                let input = a.tokens(u, "input_tokens")?.unwrap_or(0);
                let cr = a.tokens(u, "cache_read_input_tokens")?.unwrap_or(0);
                let cc = a.tokens(u, "cache_creation_input_tokens")?.unwrap_or(0);
                let out = a.tokens(u, "output_tokens")?.unwrap_or(0);
                let (w5, w1) = match a.obj(u, "cache_creation")? {
                    Some(_) => {
                        let c = u.get("cache_creation").unwrap_or(&Value::Null);
                        (
                            a.tokens(c, "ephemeral_5m_input_tokens")?.unwrap_or(0),
                            a.tokens(c, "ephemeral_1h_input_tokens")?.unwrap_or(0),
                        )
                    }
                    None => (cc, 0),
                };
                (
                    (input, cr, cc),
                    out,
                    TokenUsage::from_exclusive(input, cr, w5, w1, out),
                )
            }
            None => ((0, 0, 0), 0, TokenUsage::default()),
        };
        let msg_id = match a.str(msg, "id")? {
            Some(id) => id.to_string(),
            None => match a.str(v, "requestId")? {
                Some(r) => r.to_string(),
                None => format!("line:{}", rec.line),
            },
        };
        let parent = self.agent_parent(si);
        let agent_name = self.agent_name(si);
        let step_id = match self.by_msg.get(&msg_id).map(|m| m.step) {
            Some(id) => {
                if let Some(st) = self.trace.step_mut(id) {
                    if out_tokens > st.tokens.output {
                        st.tokens.output = out_tokens;
                    }
                    if rec.ts.is_some() {
                        st.ended_at = rec.ts;
                    }
                }
                id
            }
            None => {
                let mut st = Step::new(StepKind::LlmCall);
                st.parent = parent;
                st.agent = agent_name.clone();
                st.model = model.map(str::to_string);
                st.provider = Some("anthropic".into());
                st.started_at = rec.ts;
                st.ended_at = rec.ts;
                st.tokens = tokens;
                st.source_ref = Some(msg_id.clone());
                if let Some(r) = a.str(v, "requestId")? {
                    st.attributes
                        .insert(crate::model::attr::REQUEST_ID.into(), r.to_string());
                }
                if let Some(ag) = self.agents.get_mut(si) {
                    st.links.context = std::mem::take(&mut ag.pending);
                    ag.started = true;
                }
                let id = self.trace.push(st);
                self.by_msg.insert(
                    msg_id.clone(),
                    MsgState {
                        step: id,
                        chars: 0,
                        text: String::new(),
                    },
                );
                if let Some(ag) = self.agents.get_mut(si) {
                    ag.last_llm = Some(id);
                    ag.last_raw = Some(raw);
                    if let Some(m) = model {
                        ag.last_model = Some(m.to_string());
                    }
                }
                id
            }
        };
        if let Some(sr) = a.str(msg, "stop_reason")?
            && let Some(st) = self.trace.step_mut(step_id)
        {
            st.attributes
                .insert(crate::model::attr::STOP_REASON.into(), sr.to_string());
        }
        if let Some(true) = a.bool(v, "isApiErrorMessage")?
            && let Some(st) = self.trace.step_mut(step_id)
        {
            st.status = StepStatus::Error;
            st.error = Some("API error message".into());
        }
        for bl in blocks {
            // the piece this block adds to the call's output (built only when kept)
            let (piece, chars, text_part): (std::borrow::Cow<'_, str>, usize, Option<&str>) =
                match bl {
                    Value::String(s) => (s.as_str().into(), s.chars().count(), Some(s.as_str())),
                    _ => match a.str(bl, "type")? {
                        Some("text") => {
                            let t = a.str(bl, "text")?.unwrap_or_default();
                            (t.into(), t.chars().count(), Some(t))
                        }
                        Some("thinking") => {
                            let t = a.str(bl, "thinking")?.unwrap_or_default();
                            (t.into(), t.chars().count(), None)
                        }
                        Some("redacted_thinking") => ("".into(), 0, None),
                        Some("tool_use") | Some("server_tool_use") => {
                            let name = a.str(bl, "name")?.unwrap_or("unknown").to_string();
                            let id = a.str(bl, "id")?.map(str::to_string);
                            // the cost-only path needs only the arguments' size
                            let args = match bl.get("input") {
                                Some(i) if keep => i.to_string(),
                                Some(_) => String::new(),
                                None => "{}".into(),
                            };
                            let chars = match bl.get("input") {
                                Some(i) if !keep => i.rendered_chars(),
                                _ => args.chars().count(),
                            };
                            let piece = if keep {
                                format!("{name}({args})").into()
                            } else {
                                "".into()
                            };
                            self.tool_use(si, rec, step_id, &name, id, bl.get("input"), &args)?;
                            (piece, chars, None)
                        }
                        _ => ("".into(), 0, None),
                    },
                };
            let mut final_text = None;
            if let Some(m) = self.by_msg.get_mut(&msg_id) {
                m.chars += chars;
                if let Some(t) = text_part.filter(|t| !t.trim().is_empty()) {
                    if keep {
                        if !m.text.is_empty() {
                            m.text.push('\n');
                        }
                        m.text.push_str(t);
                    }
                    final_text = Some(());
                }
            }
            if final_text.is_some()
                && let Some(ag) = self.agents.get_mut(si)
            {
                ag.last_text_llm = Some(step_id);
            }
            // (the cost-only path keeps no output: nothing to build)
            if keep
                && !piece.is_empty()
                && let Some(st) = self.trace.step_mut(step_id)
            {
                let mut s = st.output.take().and_then(|c| c.text).unwrap_or_default();
                if !s.is_empty() {
                    s.push('\n');
                }
                s.push_str(&piece);
                st.output = Some(kept(keep, s));
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn tool_use(
        &mut self,
        si: usize,
        rec: Rec<'_>,
        llm: StepId,
        name: &str,
        id: Option<String>,
        input: Option<&Value>,
        args: &str,
    ) -> Result<()> {
        let keep = !self.content.skip;
        let spawn = is_spawn_tool(name);
        let mut st = Step::new(if spawn {
            StepKind::SubagentSpawn
        } else {
            StepKind::ToolUse
        });
        st.parent = self.agent_parent(si);
        st.agent = self.agent_name(si);
        st.tool = Some(name.to_string());
        st.started_at = rec.ts;
        st.input = Some(kept(keep, args));
        st.links.tool_call_id = id.clone();
        st.links.consumes = vec![llm];
        st.source_ref = id.clone();
        if let Some(i) = input {
            let (r, w) = file_links(name, i);
            st.links.reads = r;
            st.links.writes = w;
        }
        let sub_name = input
            .and_then(|i| i.get("subagent_type"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if spawn && let Some(n) = &sub_name {
            st.attributes
                .insert(crate::model::attr::SUBAGENT_TYPE.into(), n.clone());
        }
        let sid = self.trace.push(st);
        if let Some(l) = self.trace.step_mut(llm) {
            if let Some(id) = &id {
                l.links.requests.push(id.clone());
            }
            l.links.tool_call_id = if l.links.requests.len() == 1 {
                l.links.requests.first().cloned()
            } else {
                None
            };
        }
        if let Some(id) = id {
            self.tool_steps.insert(id.clone(), (sid, si));
            if spawn {
                let streams = self.spawn_streams.get(&id).cloned().unwrap_or_default();
                for s in streams {
                    let nm = sub_name
                        .clone()
                        .or_else(|| self.streams.get(s).map(|x| x.label.clone()));
                    self.activate(s, Some(sid), nm);
                }
            }
        }
        Ok(())
    }

    fn user(&mut self, si: usize, rec: Rec<'_>, a: At<'_>) -> Result<()> {
        let keep = !self.content.skip;
        let v = rec.v;
        let Some(msg) = v.get("message") else {
            return Err(a.err("message", "missing required field"));
        };
        if !msg.is_object() {
            a.obj(v, "message")?;
        }
        let content = msg.get("content").unwrap_or(&Value::Null);
        let blocks: Vec<&Value> = match content {
            Value::Array(b) => b.iter().collect(),
            Value::String(_) | Value::Null => Vec::new(),
            _ => return Err(a.err("content", "expected a string or an array")),
        };
        let mut had_result = false;
        for bl in &blocks {
            if a.str(bl, "type")? != Some("tool_result") {
                continue;
            }
            had_result = true;
            let tid = a.str(bl, "tool_use_id")?.unwrap_or_default().to_string();
            let text = bl.get("content").map(plain_text).unwrap_or_default();
            let is_err = a.bool(bl, "is_error")? == Some(true);
            let Some((step, owner)) = self.tool_steps.get(&tid).copied() else {
                self.orphan_results.push((rec.file, rec.line, tid));
                continue;
            };
            let denial = denial_of(v, is_err, &text);
            if let Some(st) = self.trace.step_mut(step) {
                st.output = Some(kept(keep, text.as_str()));
                st.ended_at = rec.ts;
                if let Some(d) = &denial {
                    st.status = StepStatus::Denied;
                    st.error = Some(text.chars().take(500).collect());
                    for (k, val) in d {
                        st.attributes.insert((*k).into(), val.clone());
                    }
                } else if is_err {
                    st.status = StepStatus::Error;
                    st.error = Some(text.chars().take(500).collect());
                }
            }
            if denial.is_some() {
                self.denied += 1;
            }
            let is_spawn = self
                .trace
                .step(step)
                .is_some_and(|s| s.kind == StepKind::SubagentSpawn);
            let tur = v.get("toolUseResult").filter(|t| t.is_object());
            let is_async = tur.is_some_and(|t| {
                t.get("isAsync").and_then(Value::as_bool) == Some(true)
                    || t.get("status").and_then(Value::as_str) == Some("async_launched")
            }) || text.starts_with("Async agent launched");
            if let Some(task) = tur
                .and_then(|t| t.get("backgroundTaskId"))
                .and_then(Value::as_str)
            {
                // a background command (Bash run_in_background): its output arrives
                // later as a <task-notification> naming this task id
                if let Some(st) = self.trace.step_mut(step) {
                    st.attributes.insert("background".into(), "true".into());
                    st.attributes
                        .insert("background_task_id".into(), task.to_string());
                }
                self.background_tasks.insert(task.to_string(), step);
            }
            if is_spawn && is_async {
                // A background sub-agent: its report arrives later as a
                // <task-notification>; this result is only the launch receipt.
                if let Some(st) = self.trace.step_mut(step) {
                    st.attributes.insert("background".into(), "true".into());
                }
                self.background.insert(tid.clone(), step);
            } else if is_spawn {
                self.spawn_result(step, &tid, v.get("toolUseResult"), &text, rec, a)?;
            }
            self.deliver(owner, step);
        }
        if had_result {
            return Ok(());
        }
        let text = plain_text(content);
        let origin = v
            .get("origin")
            .and_then(|o| o.get("kind"))
            .and_then(Value::as_str);
        if origin == Some("task-notification")
            || text.trim_start().starts_with("<task-notification>")
        {
            return self.task_notification(si, rec, a, &text);
        }
        if a.bool(v, "isMeta")? == Some(true) {
            self.noise("isMeta user records");
            return Ok(());
        }
        if a.bool(v, "isCompactSummary")? == Some(true)
            && let Some(c) = self.last_compaction.and_then(|c| self.trace.step_mut(c))
        {
            c.output = Some(kept(keep, text));
            return Ok(());
        }
        let kind = self
            .streams
            .get(si)
            .map(|s| s.kind)
            .unwrap_or(StreamKind::Root);
        let started = self.agents.get(si).is_some_and(|ag| ag.started);
        if kind != StreamKind::Root && !started {
            // The sub-agent's prompt: already the input of its spawn / compaction step.
            if let Some(p) = self.agent_parent(si).and_then(|p| self.trace.step_mut(p))
                && (p.kind == StepKind::Compaction || p.input.is_none())
            {
                p.input = Some(kept(keep, text));
            }
            return Ok(());
        }
        if text.trim().is_empty() {
            self.noise("empty user records");
            return Ok(());
        }
        let mut st = Step::new(StepKind::UserInput);
        st.parent = self.agent_parent(si);
        st.agent = self.agent_name(si);
        st.started_at = rec.ts;
        st.ended_at = rec.ts;
        st.output = Some(kept(keep, text));
        st.source_ref = a.str(v, "uuid")?.map(str::to_string);
        let id = self.trace.push(st);
        self.deliver(si, id);
        Ok(())
    }

    /// A `<task-notification>` user message: the report of a background sub-agent
    /// (or the output of a background command) delivered to the conversation it runs
    /// for. It becomes an `other` step that
    /// consumes the sub-agent's last output and is delivered like a tool result; the
    /// model call that follows reads it (or ignores it).
    fn task_notification(&mut self, si: usize, rec: Rec<'_>, a: At<'_>, text: &str) -> Result<()> {
        let keep = !self.content.skip;
        let tool_id = xml_tag(text, "tool-use-id");
        let task_id = xml_tag(text, "task-id");
        let spawn = tool_id
            .and_then(|t| self.background.get(t).copied())
            .or_else(|| {
                tool_id
                    .and_then(|t| self.tool_steps.get(t))
                    .map(|(s, _)| *s)
                    .filter(|s| {
                        self.trace
                            .step(*s)
                            .is_some_and(|x| x.kind == StepKind::SubagentSpawn)
                    })
            });
        let sub = tool_id.and_then(|t| {
            self.spawn_streams.get(t).and_then(|v| {
                v.iter()
                    .copied()
                    .find(|s| self.streams.get(*s).is_some_and(|x| x.active))
            })
        });
        let command = if spawn.is_none() {
            task_id.and_then(|t| self.background_tasks.get(t).copied())
        } else {
            None
        };
        let last = sub
            .and_then(|s| self.agents.get(s))
            .and_then(|ag| ag.last_text_llm.or(ag.last_llm))
            .or(command);
        let mut st = Step::new(StepKind::Other);
        st.parent = self.agent_parent(si);
        st.agent = self.agent_name(si);
        st.started_at = rec.ts;
        st.ended_at = rec.ts;
        st.output = Some(kept(keep, text));
        st.source_ref = a.str(rec.v, "uuid")?.map(str::to_string);
        st.attributes
            .insert("event".into(), "task_notification".into());
        if let Some(t) = tool_id {
            st.links.tool_call_id = Some(t.to_string());
        }
        if let Some(t) = task_id {
            st.attributes.insert("agent_id".into(), t.to_string());
        }
        if let Some(x) = xml_tag(text, "status") {
            st.attributes.insert("task_status".into(), x.to_string());
        }
        if let Some(l) = last {
            st.links.consumes.push(l);
        }
        let id = self.trace.push(st);
        match spawn.or(command) {
            Some(sp) => {
                if let Some(s) = self.trace.step_mut(sp) {
                    s.attributes
                        .insert("delivered_by".into(), id.index().to_string());
                }
            }
            None => self.unmatched_notifications.push((rec.file, rec.line)),
        }
        self.deliver(si, id);
        Ok(())
    }

    /// The result of a Task/Agent call: link the sub-agent's last call; correct its
    /// output tokens from `toolUseResult.usage` or synthesize the missing call.
    fn spawn_result(
        &mut self,
        spawn: StepId,
        tool_id: &str,
        tur: Option<&Value>,
        text: &str,
        rec: Rec<'_>,
        a: At<'_>,
    ) -> Result<()> {
        let keep = !self.content.skip;
        let sub = self.spawn_streams.get(tool_id).and_then(|v| {
            v.iter()
                .copied()
                .find(|s| self.streams.get(*s).is_some_and(|x| x.active))
        });
        let usage = tur
            .filter(|t| t.is_object())
            .and_then(|t| t.get("usage"))
            .filter(|u| u.is_object());
        let mut last = sub
            .and_then(|s| self.agents.get(s))
            .and_then(|ag| ag.last_text_llm.or(ag.last_llm));
        if let Some(u) = usage {
            let input = a.tokens(u, "input_tokens")?.unwrap_or(0);
            let cr = a.tokens(u, "cache_read_input_tokens")?.unwrap_or(0);
            let cc = a.tokens(u, "cache_creation_input_tokens")?.unwrap_or(0);
            let out = a.tokens(u, "output_tokens")?.unwrap_or(0);
            let last_raw = sub
                .and_then(|s| self.agents.get(s))
                .and_then(|ag| ag.last_raw.map(|r| (r, ag.last_llm)));
            match last_raw {
                Some(((i, r, c), Some(l))) if (i, r, c) == (input, cr, cc) => {
                    if let Some(st) = self.trace.step_mut(l)
                        && out > st.tokens.output
                    {
                        st.tokens.output = out;
                        st.attributes
                            .insert("output_tokens_source".into(), "task_result_usage".into());
                        self.corrected += 1;
                    }
                    last = Some(l);
                }
                _ if input + cr + cc + out > 0 => {
                    let (w5, w1) = match u.get("cache_creation").filter(|c| c.is_object()) {
                        Some(c) => (
                            a.tokens(c, "ephemeral_5m_input_tokens")?.unwrap_or(0),
                            a.tokens(c, "ephemeral_1h_input_tokens")?.unwrap_or(0),
                        ),
                        None => (cc, 0),
                    };
                    let spawn_step = self.trace.step(spawn);
                    let mut st = Step::new(StepKind::LlmCall);
                    st.parent = Some(spawn);
                    st.agent = spawn_step
                        .and_then(|s| s.attributes.get(crate::model::attr::SUBAGENT_TYPE).cloned())
                        .or_else(|| sub.and_then(|s| self.agent_name(s)));
                    st.model = sub
                        .and_then(|s| self.agents.get(s))
                        .and_then(|ag| ag.last_model.clone());
                    st.provider = Some("anthropic".into());
                    st.started_at = rec.ts;
                    st.ended_at = rec.ts;
                    st.tokens = TokenUsage::from_exclusive(input, cr, w5, w1, out);
                    st.output = Some(kept(keep, text));
                    st.source_ref = Some(format!("toolUseResult.usage of {tool_id}"));
                    st.attributes
                        .insert("synthesized".into(), "task_result_usage".into());
                    if let Some(ag) = sub.and_then(|s| self.agents.get_mut(s)) {
                        st.links.context = std::mem::take(&mut ag.pending);
                    }
                    let id = self.trace.push(st);
                    self.synthesized += 1;
                    last = Some(id);
                }
                _ => {}
            }
        }
        if let Some(l) = last
            && let Some(st) = self.trace.step_mut(spawn)
        {
            st.links.consumes.push(l);
        }
        Ok(())
    }

    fn compaction(&mut self, si: usize, rec: Rec<'_>, a: At<'_>) -> Result<()> {
        let v = rec.v;
        let mut st = Step::new(StepKind::Compaction);
        st.parent = self.agent_parent(si);
        st.agent = self.agent_name(si);
        st.started_at = rec.ts;
        st.ended_at = rec.ts;
        st.source_ref = a.str(v, "uuid")?.map(str::to_string);
        if let Some(m) = v.get("compactMetadata").filter(|m| m.is_object()) {
            if let Some(t) = a.str(m, "trigger")? {
                st.attributes
                    .insert(crate::model::attr::TRIGGER.into(), t.to_string());
            }
            if let Some(n) = a.tokens(m, "preTokens")? {
                st.attributes
                    .insert(crate::model::attr::PRE_TOKENS.into(), n.to_string());
            }
        }
        let carried = self
            .agents
            .get_mut(si)
            .map(|ag| std::mem::take(&mut ag.pending))
            .unwrap_or_default();
        let id = self.trace.push(st);
        self.compaction_steps.push(id);
        self.last_compaction = Some(id);
        self.deliver(si, id);
        let n = self.compaction_steps.len() - 1;
        let target = self.streams.iter().position(|s| {
            s.kind == StreamKind::Compaction && s.activation == Activation::Compaction(n)
        });
        if let Some(t) = target {
            self.activate(t, Some(id), Some("compaction".into()));
            if let Some(ag) = self.agents.get_mut(t) {
                ag.pending = carried;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Trace {
        let keep = !self.content.skip;
        // outcome: root agent's last call with text
        let root_final = self.agents.first().and_then(|a| a.last_text_llm);
        if let Some(f) = root_final {
            let text = self
                .by_msg
                .values()
                .find(|m| m.step == f)
                .map(|m| m.text.clone())
                .unwrap_or_default();
            self.trace.outcome.final_step = Some(f);
            self.trace.outcome.answer = Some(kept(keep, text));
        }
        self.trace.outcome.reason =
            Some("Claude Code transcripts carry no success flag; outcome unknown".into());
        // under-reported output tokens
        let mut flagged = 0u64;
        let mut calls = 0u64;
        let mut states: Vec<(StepId, usize)> =
            self.by_msg.values().map(|m| (m.step, m.chars)).collect();
        states.sort();
        for (id, chars) in states {
            calls += 1;
            if let Some(st) = self.trace.step_mut(id) {
                let est = (chars / 4) as u64;
                if est > 2 * st.tokens.output + 50 {
                    st.attributes
                        .insert("output_tokens_underreported".into(), "true".into());
                    st.attributes
                        .insert("output_chars".into(), chars.to_string());
                    flagged += 1;
                }
            }
        }
        let file0 = self.path(0).display().to_string();
        if flagged > 0 {
            self.trace.warn(Warning::at(
                crate::model::WarningCode::OutputTokensUnderreported,
                format!(
                    "{flagged} of {calls} model calls have output_tokens far below their content \
                     (chars/4 > 2×output_tokens + 50): Claude Code logs a streaming snapshot; \
                     their output cost is under-stated (attribute output_tokens_underreported)"
                ),
                file0.clone(),
                None,
            ));
        }
        if self.corrected > 0 {
            self.trace.warn(Warning::at(
                crate::model::WarningCode::OutputTokensCorrected,
                format!(
                    "{} sub-agent final calls took output_tokens from the Task result's usage (the transcript's count is a streaming snapshot)",
                    self.corrected
                ),
                file0.clone(),
                None,
            ));
        }
        if self.synthesized > 0 {
            self.trace.warn(Warning::at(
                crate::model::WarningCode::SynthesizedSubagentCall,
                format!(
                    "{} sub-agent final calls are missing from the transcript (only agent_progress mirrors were present); added from the Task result's usage",
                    self.synthesized
                ),
                file0.clone(),
                None,
            ));
        }
        if self.denied > 0 {
            self.trace.warn(Warning::at(
                crate::model::WarningCode::DeniedToolCalls,
                format!(
                    "info: {} tool calls were refused (permission rule, hook or user); their steps have status denied",
                    self.denied
                ),
                file0.clone(),
                None,
            ));
        }
        let unmatched = std::mem::take(&mut self.unmatched_notifications);
        if let Some((file, line)) = unmatched.first() {
            let p = self.path(*file).display().to_string();
            self.trace.warn(Warning::at(
                crate::model::WarningCode::TaskNotificationUnmatched,
                format!(
                    "{} <task-notification> messages name no background Agent/Task call of this session",
                    unmatched.len()
                ),
                p,
                Some(*line),
            ));
        }
        let orphans = std::mem::take(&mut self.orphan_results);
        if let Some((file, line, _)) = orphans.first() {
            let p = self.path(*file).display().to_string();
            self.trace.warn(Warning::at(
                crate::model::WarningCode::OrphanToolOutput,
                format!(
                    "{} tool results name no known tool call (first: {:?}); ignored",
                    orphans.len(),
                    orphans.first().map(|o| o.2.clone()).unwrap_or_default()
                ),
                p,
                Some(*line),
            ));
        }
        let unknown = std::mem::take(&mut self.unknown);
        for (ty, (line, n, file)) in unknown {
            let p = self.path(file).display().to_string();
            self.trace.warn(Warning::at(
                crate::model::WarningCode::UnknownRecord,
                format!("{n} records of unknown type {ty:?} skipped"),
                p,
                Some(line),
            ));
        }
        if !self.noise.is_empty() {
            let total: u64 = self.noise.values().sum();
            let parts: Vec<String> = self
                .noise
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect();
            self.trace.warn(Warning::at(
                crate::model::WarningCode::SkippedRecords,
                format!(
                    "info: {total} records carry no step and were skipped ({})",
                    parts.join(", ")
                ),
                file0,
                None,
            ));
        }
        let mut trace = self.trace;
        finish_content(&mut trace, self.content);
        trace
    }
}

/// Content whose hash is filled in by [`finish_content`]: a model call's output
/// grows block by block, and hashing it at every block was quadratic.
fn unhashed(text: impl Into<String>) -> Content {
    let text = text.into();
    Content {
        hash: String::new(),
        len: text.len() as u64,
        text: Some(text),
    }
}

/// [`unhashed`] when content is kept (`keep`), else an empty piece: the cost-only
/// path drops all content at the end, so nothing is held until then.
fn kept(keep: bool, text: impl Into<String>) -> Content {
    if keep {
        return unhashed(text);
    }
    Content {
        hash: String::new(),
        len: 0,
        text: None,
    }
}

/// Hash every piece of content once, in parallel, or drop it all when the caller
/// asked for no content (the cost-only path: nothing is hashed).
fn finish_content(trace: &mut Trace, opts: ContentOptions) {
    use rayon::prelude::*;
    if opts.skip {
        for s in &mut trace.steps {
            s.input = None;
            s.output = None;
        }
        trace.outcome.answer = None;
        return;
    }
    let fill = |c: &mut Content| {
        if c.hash.is_empty() {
            c.hash = crate::model::content_hash(c.text.as_deref().unwrap_or_default());
        }
    };
    trace.steps.par_iter_mut().for_each(|s| {
        s.input.iter_mut().chain(s.output.iter_mut()).for_each(fill);
    });
    if let Some(a) = &mut trace.outcome.answer {
        fill(a);
    }
}

fn is_spawn_tool(name: &str) -> bool {
    name == "Task" || name == "Agent"
}

/// The field `key` of `v`, taken out (the last duplicate; `null` when absent).
fn take(v: Value, key: &str) -> Value {
    match v {
        Value::Object(m) => m
            .into_iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .unwrap_or_default(),
        _ => Value::Null,
    }
}

/// `agent-<id>.jsonl` → `<id>`.
fn agent_id_of_file(p: &Path) -> Option<String> {
    let stem = p.file_stem()?.to_string_lossy().into_owned();
    stem.strip_prefix("agent-").map(str::to_string)
}

/// Text of a message content / tool result: strings as is, text blocks joined,
/// other blocks as a placeholder.
fn plain_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let mut out = String::new();
            for it in items {
                let piece = match it.get("type").and_then(Value::as_str) {
                    Some("text") => it.get("text").map(text_of).unwrap_or_default(),
                    Some("image") => "[image]".to_string(),
                    Some("tool_result") => it.get("content").map(text_of).unwrap_or_default(),
                    _ => match it {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                };
                if !out.is_empty() && !piece.is_empty() {
                    out.push('\n');
                }
                out.push_str(&piece);
            }
            out
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Files a tool reads and writes, from its arguments.
fn file_links(name: &str, input: &Value) -> (Vec<String>, Vec<String>) {
    let s = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_string);
    let one = |x: Option<String>| x.into_iter().collect::<Vec<_>>();
    match name {
        "Read" | "NotebookRead" => (one(s("file_path").or_else(|| s("notebook_path"))), vec![]),
        "Write" => (vec![], one(s("file_path"))),
        "Edit" | "MultiEdit" => {
            let f = one(s("file_path"));
            (f.clone(), f)
        }
        "NotebookEdit" => {
            let f = one(s("notebook_path"));
            (f.clone(), f)
        }
        "Grep" => {
            // a single file searched: `path` whose last component has an extension
            let p = s("path").filter(|p| !has_glob(p) && Path::new(p).extension().is_some());
            (one(p), vec![])
        }
        "Glob" => {
            // a pattern without wildcards names one file
            let p = s("pattern")
                .filter(|p| !has_glob(p))
                .map(|p| match s("path") {
                    Some(dir) if !p.starts_with('/') => {
                        format!("{}/{}", dir.trim_end_matches('/'), p)
                    }
                    _ => p,
                });
            (one(p), vec![])
        }
        _ => (vec![], vec![]),
    }
}

fn has_glob(p: &str) -> bool {
    p.contains(['*', '?', '[', '{'])
}

/// The text of the first `<tag>…</tag>` in `s`, trimmed.
fn xml_tag<'s>(s: &'s str, tag: &str) -> Option<&'s str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = s.find(&open)? + open.len();
    let len = s.get(start..)?.find(&close)?;
    s.get(start..start + len).map(str::trim)
}

/// Why a tool call was refused, when it was: 2.1.x writes `toolDenialKind` and a
/// `permissionDecision` (`decision: reject`, `source` hook/config/user, `reasonCode`)
/// on the result record; earlier versions only the rejection text.
fn denial_of(v: &Value, is_err: bool, text: &str) -> Option<Vec<(&'static str, String)>> {
    let kind = v.get("toolDenialKind").and_then(Value::as_str);
    let pd = v.get("permissionDecision").filter(|p| p.is_object());
    let rejected = pd
        .and_then(|p| p.get("decision"))
        .and_then(Value::as_str)
        .is_some_and(|d| d == "reject" || d == "deny");
    let legacy = is_err
        && (text.starts_with("The user doesn't want to proceed with this tool use")
            || text.contains("Permission to use ") && text.contains(" has been denied"));
    if kind.is_none() && !rejected && !legacy {
        return None;
    }
    let mut out = Vec::new();
    if let Some(k) = kind {
        out.push(("denial_kind", k.to_string()));
    }
    for (k, key) in [
        ("source", "permission_source"),
        ("reasonType", "permission_reason_type"),
        ("reasonCode", "permission_reason_code"),
    ] {
        if let Some(x) = pd.and_then(|p| p.get(k)).and_then(Value::as_str) {
            out.push((key, x.to_string()));
        }
    }
    if legacy && out.is_empty() {
        out.push(("denial_kind", "user_rejected".to_string()));
    }
    Some(out)
}

/// `toolUseId` of the `agent-<id>.meta.json` next to a sub-agent file (2.1.x).
fn meta_tool_use_id(p: &Path) -> Option<String> {
    let meta = p.with_extension("meta.json");
    let text = std::fs::read_to_string(meta).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("toolUseId")
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Drops a line repeating an earlier line's `uuid` in other bytes (one record
/// written twice), with a `duplicate_record` warning: "counted once" when the two
/// records mean the same, "the first was kept" when they conflict. The heads hold
/// the uuids; the two whole records are read again only on a collision.
fn dedup_uuids(path: &Path, j: &mut Lines) -> Result<()> {
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    {
        let mut first: HashMap<&str, usize> = HashMap::default();
        for (i, l) in j.lines.iter().enumerate() {
            if let Some(k) = l.head.get("uuid").and_then(Value::as_str) {
                match first.entry(k) {
                    std::collections::hash_map::Entry::Occupied(e) => repeats.push((i, *e.get())),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(i);
                    }
                }
            }
        }
    }
    if repeats.is_empty() {
        return Ok(());
    }
    for &(i, f) in &repeats {
        let (a, b) = (&j.lines[f], &j.lines[i]);
        let key = b
            .head
            .get("uuid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (fa, fb) = ((a.no, a.off, a.len), (b.no, b.off, b.len));
        let (ra, rb) = (
            j.load(path, fa.0, fa.1, fa.2)?,
            j.load(path, fb.0, fb.1, fb.2)?,
        );
        let same = ra.to_value() == rb.to_value();
        // the kept line's record is read again by its stream
        j.put_back(fa.0, ra);
        j.warnings.push(crate::import::repeated_id_warning(
            path, "uuid", &key, fb.0, fa.0, same,
        ));
    }
    let mut dropped: Vec<usize> = repeats.iter().map(|&(i, _)| i).collect();
    dropped.sort_unstable();
    let mut i = 0usize;
    j.lines.retain(|_| {
        let gone = dropped.binary_search(&i).is_ok();
        i += 1;
        !gone
    });
    Ok(())
}

/// The real Claude Code fixtures (`$TRACECARD_FIXTURES/claude-code`, else beside
/// the workspace), for unit tests: `None` when absent, a failure under `CI=true`.
#[cfg(test)]
fn fixtures_dir() -> Option<PathBuf> {
    let root = std::env::var_os("TRACECARD_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
        })
        .join("claude-code");
    if root.is_dir() {
        return Some(root);
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "fixtures not found at {} (CI=true: they must be present)",
        root.display()
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// Overrides [`lines::ONE_PASS_BYTES`] on this test thread.
        pub(super) static ONE_PASS_LIMIT: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
    }

    /// The real Claude Code sessions (main files; their sub-agent folders are read
    /// with them). Empty outside CI when the fixtures are absent.
    fn fixture_sessions() -> Vec<PathBuf> {
        let Some(root) = super::fixtures_dir() else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
            .unwrap()
            .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn one_pass_and_two_passes_import_the_same_sessions() {
        let sessions = fixture_sessions();
        for path in &sessions {
            for content in [
                ContentOptions::default(),
                ContentOptions {
                    skip: true,
                    max_bytes: None,
                },
            ] {
                let run = |limit: u64| {
                    ONE_PASS_LIMIT.with(|l| l.set(Some(limit)));
                    let got =
                        import_path(path, content).map(|t| serde_json::to_string(&t).unwrap());
                    ONE_PASS_LIMIT.with(|l| l.set(None));
                    got.map_err(|e| e.to_string())
                };
                let (one, two) = (run(u64::MAX), run(0));
                assert!(one.is_ok(), "{}: {one:?}", path.display());
                assert_eq!(one, two, "{}", path.display());
            }
        }
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            assert!(sessions.len() >= 10, "{} sessions", sessions.len());
        }
    }
}
