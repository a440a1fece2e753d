//! # tracecard-report
//!
//! Renders TraceCards as **one self-contained HTML file**: inline CSS and JS, the
//! data embedded as JSON in a `<script type="application/json">` block, no network
//! access, works from `file://`.
//!
//! - one session → a session page: a waterfall with one lane per agent and
//!   sub-agent, bars coloured by verdict, a cost track with the cumulative cost
//!   curve, step details with the evidence chain, totals, rollups and warnings;
//! - several sessions → an overview page (one sortable row per session, cost
//!   distribution and wasted-share charts) linking to each session's page, all in
//!   the same file;
//! - with costcraft's patches and rules ([`render_with`] and [`Costcraft`]), each
//!   step lists the patches and rules citing it (matched by `session_id` and
//!   `source_ref`, by id where the source has no refs), the session page lists its
//!   patches and rules and the overview every rule.
//!
//! The report carries what the cards carry (ids, kinds, names, tokens, costs,
//! verdicts and reasons) plus step start times and the analysis's evidence edges.
//! Edge details that quote trace content (a token that reappears, an artifact
//! name) are replaced by a short hash unless [`Options::include_content`] is set;
//! file paths are cut to their last component. Same input ⇒ byte-identical HTML.
//!
//! ```
//! use tracecard_core::{Recorder, Compiler, TokenUsage, OutcomeStatus, PriceTable};
//! use tracecard_core::analysis::Analysis;
//!
//! let mut rec = Recorder::new("demo");
//! let call = rec.llm_call("claude-sonnet-4-5", TokenUsage::from_exclusive(1200, 0, 0, 0, 80), "read it");
//! let trace = rec.finish(OutcomeStatus::Success, Some(call), vec![]);
//! let card = Compiler::new().compile(&trace).unwrap();
//! let analysis = Analysis::run(&trace, PriceTable::bundled()).unwrap();
//! let html = tracecard_report::render(
//!     &[tracecard_report::Session { trace: Some(&trace), card: &card, analysis: Some(&analysis) }],
//!     &tracecard_report::Options::default(),
//! );
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! ```
#![forbid(unsafe_code)]

mod costcraft;

pub use crate::costcraft::{Costcraft, parse_patches, read_patches, read_rules};

use std::collections::HashMap;

use serde_json::{Value, json};
use tracecard_core::analysis::{Analysis, Sink};
use tracecard_core::{
    CostSource, EvidenceLevel, StepKind, StepStatus, TokenUsage, Trace, TraceCard, Usd, Verdict,
};

const TEMPLATE: &str = include_str!("../assets/report.html");
const CSS: &str = include_str!("../assets/report.css");
const JS: &str = include_str!("../assets/report.js");

/// Evidence edges kept per session; beyond it the rest is dropped (and counted).
pub const MAX_EDGES_PER_SESSION: usize = 200_000;

/// One session to render.
#[derive(Clone, Copy)]
pub struct Session<'a> {
    /// The trace the card was compiled from, for step start times (no content is
    /// read from it); `None` lays the steps out by order.
    pub trace: Option<&'a Trace>,
    /// Its card.
    pub card: &'a TraceCard,
    /// The analysis of the trace (evidence edges); `None` draws no edges.
    pub analysis: Option<&'a Analysis>,
}

/// Rendering options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Show the content quoted by evidence edges (reappearing tokens, artifact
    /// names) instead of hashes.
    pub include_content: bool,
    /// Page title (default: the session id, or "N sessions").
    pub title: Option<String>,
}

/// Render `sessions` as one self-contained HTML document.
pub fn render(sessions: &[Session<'_>], opts: &Options) -> String {
    render_with(sessions, opts, &Costcraft::default())
}

/// [`render`], with costcraft's patches and rules shown on the steps they cite
/// (matched by `session_id` and `source_ref`, by step id where the source has no
/// refs), the session's patches and rules on its page and every rule on the
/// overview.
pub fn render_with(sessions: &[Session<'_>], opts: &Options, cc: &Costcraft<'_>) -> String {
    let data = data_json_with(sessions, opts, cc);
    let title = opts.title.clone().unwrap_or_else(|| match sessions {
        [s] => format!("tracecard report: {}", s.card.session_id),
        _ => format!("tracecard report: {} sessions", sessions.len()),
    });
    fill(
        TEMPLATE,
        &[
            ("{{TITLE}}", &escape_html(&title)),
            ("{{CSS}}", CSS),
            ("{{DATA}}", &escape_json_for_script(&data)),
            ("{{JS}}", JS),
        ],
    )
}

/// Substitute each marker once, in template order, never rescanning inserted
/// text (a session id spelling `{{JS}}` stays text).
fn fill(template: &str, parts: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + parts.iter().map(|p| p.1.len()).sum::<usize>());
    let mut rest = template;
    for (marker, value) in parts {
        match rest.find(marker) {
            Some(at) => {
                out.push_str(&rest[..at]);
                out.push_str(value);
                rest = &rest[at + marker.len()..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// The embedded data as JSON (what [`render`] puts in the page).
pub fn data_json(sessions_in: &[Session<'_>], opts: &Options) -> String {
    data_json_with(sessions_in, opts, &Costcraft::default())
}

/// The embedded data as JSON (what [`render_with`] puts in the page).
pub fn data_json_with(sessions_in: &[Session<'_>], opts: &Options, cc: &Costcraft<'_>) -> String {
    let mut strings = Strings::default();
    let sessions: Vec<Value> = sessions_in
        .iter()
        .map(|s| session_json(s, opts, cc, &mut strings))
        .collect();
    let sum: Usd = sessions_in.iter().map(|s| s.card.total_cost_usd).sum();
    let steps: usize = sessions_in.iter().map(|s| s.card.steps.len()).sum();
    let v = json!({
        "v": 1,
        "total": sum.to_string(),
        "steps": steps,
        "generator": concat!("tracecard ", env!("CARGO_PKG_VERSION")),
        "content": opts.include_content,
        "strings": strings.list,
        "sessions": sessions,
        "costcraft": crate::costcraft::global_json(cc, opts.include_content),
    });
    // serde_json's map is ordered by key: deterministic output
    serde_json::to_string(&v).unwrap_or_else(|_| "{}".into())
}

/// Interned strings: step rows refer to them by index (-1 = none).
#[derive(Default)]
struct Strings {
    list: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn id(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len() as i64;
        self.list.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }

    fn opt(&mut self, s: Option<&str>) -> i64 {
        s.map_or(-1, |s| self.id(s))
    }
}

fn usd(u: Option<Usd>) -> Value {
    match u {
        Some(u) => json!(u.to_f64()),
        None => Value::Null,
    }
}

fn usd_str(u: Option<Usd>) -> Value {
    match u {
        Some(u) => json!(u.to_string()),
        None => Value::Null,
    }
}

fn tokens(t: &TokenUsage) -> Value {
    json!([
        t.input,
        t.output,
        t.cache_read,
        t.cache_write_5m,
        t.cache_write_1h,
        t.reasoning
    ])
}

fn verdict_code(v: Verdict) -> u8 {
    match v {
        Verdict::Needed => 0,
        Verdict::Redundant => 1,
        Verdict::Unproven => 2,
    }
}

fn cost_source(c: CostSource) -> &'static str {
    match c {
        CostSource::Computed => "computed",
        CostSource::Reported => "reported",
        CostSource::Free => "free",
        CostSource::Unknown => "unknown",
    }
}

/// Sub-agent lanes beyond which sub-agents of the same name and depth that do not
/// overlap in time share a lane (a session with 300 sequential `Explore` runs stays
/// readable).
pub const MAX_LANES: usize = 32;

/// One lane per agent context: the root, and one per sub-agent spawn.
struct Lanes {
    /// per step: its lane
    of_step: Vec<usize>,
    /// (label, spawn step id or 0, depth)
    lanes: Vec<(String, u32, u32)>,
}

struct Lane {
    name: String,
    spawns: Vec<u32>,
    depth: u32,
}

/// `extent[i]`: (start, end) of step `i` on the waterfall's axis.
fn lanes(card: &TraceCard, extent: &[(i64, i64)]) -> Lanes {
    let n = card.steps.len();
    let mut lane_of_spawn: HashMap<u32, usize> = HashMap::new();
    // the main agent's name: a root step's own agent (a spawn names the sub-agent)
    let root_agent = card
        .steps
        .iter()
        .find(|s| s.parent.is_none() && s.kind != StepKind::SubagentSpawn && s.agent.is_some())
        .and_then(|s| s.agent.clone());
    let mut lanes = vec![Lane {
        name: root_agent.unwrap_or_else(|| "main".into()),
        spawns: Vec::new(),
        depth: 0,
    }];
    let mut of_step = Vec::with_capacity(n);
    for s in &card.steps {
        let lane = match s.parent {
            None => 0,
            Some(p) => match lane_of_spawn.get(&p.0) {
                Some(&l) => l,
                None => {
                    let spawn = card.step(p);
                    let parent_lane = spawn
                        .and_then(|sp| sp.parent)
                        .and_then(|pp| lane_of_spawn.get(&pp.0).copied())
                        .unwrap_or(0);
                    let depth = lanes[parent_lane].depth + 1;
                    let name = s
                        .agent
                        .clone()
                        .or_else(|| spawn.and_then(|sp| sp.agent.clone()))
                        .or_else(|| spawn.and_then(|sp| sp.tool.clone()))
                        .unwrap_or_else(|| "sub-agent".into());
                    lanes.push(Lane {
                        name,
                        spawns: vec![p.0],
                        depth,
                    });
                    let l = lanes.len() - 1;
                    lane_of_spawn.insert(p.0, l);
                    l
                }
            },
        };
        of_step.push(lane);
    }
    if lanes.len() > MAX_LANES {
        (lanes, of_step) = pack(lanes, of_step, extent);
    }
    let lanes = lanes
        .into_iter()
        .map(|l| {
            let label = match l.spawns.as_slice() {
                [] => l.name,
                [one] => format!("{} (step {one})", l.name),
                [first, .., last] => {
                    format!("{} ×{} (steps {first}…{last})", l.name, l.spawns.len())
                }
            };
            (label, l.spawns.first().copied().unwrap_or(0), l.depth)
        })
        .collect();
    Lanes { of_step, lanes }
}

/// Put sub-agents of the same name and depth whose runs do not overlap on one lane
/// (greedy interval packing, in order of start).
fn pack(lanes: Vec<Lane>, of_step: Vec<usize>, extent: &[(i64, i64)]) -> (Vec<Lane>, Vec<usize>) {
    let mut span: Vec<(i64, i64)> = vec![(i64::MAX, i64::MIN); lanes.len()];
    for (i, &l) in of_step.iter().enumerate() {
        let (a, b) = extent.get(i).copied().unwrap_or((i as i64, i as i64 + 1));
        span[l].0 = span[l].0.min(a);
        span[l].1 = span[l].1.max(b);
    }
    let mut order: Vec<usize> = (1..lanes.len()).collect();
    order.sort_by_key(|&l| (span[l].0, l));
    let mut packed: Vec<Lane> = Vec::new();
    let mut packed_end: Vec<i64> = Vec::new();
    let mut remap = vec![0usize; lanes.len()];
    let mut lanes: Vec<Option<Lane>> = lanes.into_iter().map(Some).collect();
    if let Some(root) = lanes[0].take() {
        packed.push(root);
        packed_end.push(i64::MAX);
    }
    for l in order {
        let Some(lane) = lanes[l].take() else {
            continue;
        };
        let fit = (1..packed.len()).find(|&k| {
            packed[k].name == lane.name
                && packed[k].depth == lane.depth
                && packed_end[k] <= span[l].0
        });
        match fit {
            Some(k) => {
                packed[k].spawns.extend(lane.spawns);
                packed_end[k] = packed_end[k].max(span[l].1);
                remap[l] = k;
            }
            None => {
                packed.push(lane);
                packed_end.push(span[l].1);
                remap[l] = packed.len() - 1;
            }
        }
    }
    (packed, of_step.into_iter().map(|l| remap[l]).collect())
}

/// Start offsets (ms from the first timed step) when most steps carry a start
/// time; `None` when the waterfall goes by order.
fn starts(trace: &Trace, n: usize) -> Option<Vec<i64>> {
    let timed = trace
        .steps
        .iter()
        .filter(|s| s.started_at.is_some() || s.ended_at.is_some())
        .count();
    if n == 0 || trace.steps.len() != n || timed * 2 < n {
        return None;
    }
    let t0 = trace
        .steps
        .iter()
        .filter_map(|s| s.started_at.or(s.ended_at))
        .map(|t| t.as_millisecond())
        .min()?;
    let mut out = Vec::with_capacity(n);
    let mut last = 0i64;
    for s in &trace.steps {
        let t = match (s.started_at, s.ended_at) {
            (Some(a), _) => a.as_millisecond() - t0,
            (None, Some(e)) => e.as_millisecond() - t0,
            (None, None) => last,
        };
        last = match s.ended_at {
            Some(e) => e.as_millisecond() - t0,
            None => t,
        };
        out.push(t);
    }
    Some(out)
}

fn level_name(l: EvidenceLevel) -> &'static str {
    l.as_str()
}

/// What an edge says, without trace content unless asked.
fn edge_detail(level: EvidenceLevel, sink: Option<Sink>, detail: &str, content: bool) -> String {
    if content {
        return detail.to_owned();
    }
    match (level, sink) {
        (_, Some(Sink::Oracle)) => "named by the verifier".into(),
        (EvidenceLevel::Content, _) if detail.starts_with("new numbers") => {
            "new numbers derived from its output".into()
        }
        (EvidenceLevel::Content, _) => {
            format!("a token of its output reappears (#{})", hash8(detail))
        }
        (EvidenceLevel::Artifacts, Some(Sink::FinalArtifact)) => {
            format!(
                "final version of an artifact (#{})",
                hash8(detail.trim_start_matches("final version of "))
            )
        }
        (EvidenceLevel::Artifacts, _) if detail.starts_with("read before rewriting ") => format!(
            "read before rewriting an artifact (#{})",
            hash8(detail.trim_start_matches("read before rewriting "))
        ),
        (EvidenceLevel::Artifacts, _) => format!("artifact #{}", hash8(detail)),
        _ => strip_paths(detail),
    }
}

/// FNV-1a, 32 bits, as 8 hex digits: enough to tell repeated details apart.
fn hash8(s: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

/// Replace absolute paths (`/home/x/y.jsonl`, `C:\x\y`, `~/x`) by `…/last`.
pub fn strip_paths(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, word) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = word.trim_start_matches(['(', '`', '"', '\'']);
        let lead = &word[..word.len() - core.len()];
        let is_abs = (core.starts_with('/') && core[1..].contains('/'))
            || core.starts_with("~/")
            || (core.len() > 3
                && core.as_bytes()[1] == b':'
                && (core.as_bytes()[2] == b'\\' || core.as_bytes()[2] == b'/'));
        if is_abs {
            let last = core.rsplit(['/', '\\']).next().unwrap_or("");
            out.push_str(lead);
            out.push_str("…/");
            out.push_str(last);
        } else {
            out.push_str(word);
        }
    }
    out
}

fn base_name(p: &str) -> String {
    p.rsplit(['/', '\\']).next().unwrap_or(p).to_owned()
}

fn session_json(s: &Session<'_>, opts: &Options, cc: &Costcraft<'_>, st: &mut Strings) -> Value {
    let card = s.card;
    let n = card.steps.len();
    let starts = s.trace.and_then(|t| starts(t, n));
    let extent: Vec<(i64, i64)> = match &starts {
        Some(st) => card
            .steps
            .iter()
            .zip(st)
            .map(|(c, &a)| (a, a + c.duration_ms.unwrap_or(0).max(0)))
            .collect(),
        None => (0..n as i64).map(|i| (i, i + 1)).collect(),
    };
    let lanes = lanes(card, &extent);
    let mut counts = [0u64; 3];
    let mut steps = Vec::with_capacity(n);
    for (i, c) in card.steps.iter().enumerate() {
        counts[usize::from(verdict_code(c.verdict))] += 1;
        let kind = st.id(c.kind.as_str());
        let tool = st.opt(c.tool.as_deref());
        let model = st.opt(c.model.as_deref());
        let agent = st.opt(c.agent.as_deref());
        let reason = st.opt(c.reason.as_deref().map(strip_paths).as_deref());
        let evidence = st.opt(c.evidence.map(level_name));
        let confirmed = st.opt(c.confirmed_by.as_deref());
        let source = st.id(cost_source(c.cost_source));
        let priced = st.opt(c.priced_as.as_deref());
        steps.push(json!([
            c.id.0,
            lanes.of_step[i],
            kind,
            tool,
            model,
            agent,
            usd(c.cost_usd),
            usd(c.carried_context_cost_usd),
            usd(c.wasted_cost_usd),
            verdict_code(c.verdict),
            reason,
            evidence,
            confirmed,
            tokens(&c.tokens),
            starts.as_ref().map(|v| json!(v[i])).unwrap_or(Value::Null),
            c.duration_ms,
            u8::from(c.status == StepStatus::Error),
            source,
            usd(c.reported_cost_usd),
            c.parent.map_or(0, |p| p.0),
            usd(c.subtree_cost_usd),
            priced,
            s.analysis
                .and_then(|a| a.duplicate_of(tracecard_core::StepId::from_index(i)))
                .map_or(0, |d| d.0),
        ]));
    }
    let mut edges: Vec<i64> = Vec::new();
    let mut dropped = 0usize;
    if let Some(a) = s.analysis {
        for e in &a.edges {
            if e.producer().index() >= n || e.consumer().is_some_and(|c| c.index() >= n) {
                continue;
            }
            if edges.len() / 4 >= MAX_EDGES_PER_SESSION {
                dropped += 1;
                continue;
            }
            let detail = edge_detail(e.level, e.sink, &e.detail, opts.include_content);
            edges.push(e.producer().index() as i64);
            edges.push(e.consumer().map_or(-1, |c| c.index() as i64));
            edges.push(st.id(level_name(e.level)));
            edges.push(st.id(&detail));
        }
    }
    let rollup = |m: &std::collections::BTreeMap<String, tracecard_core::card::Rollup>| -> Value {
        Value::Array(
            m.iter()
                .map(|(k, r)| {
                    json!([
                        k,
                        r.steps,
                        r.cost_usd.to_f64(),
                        r.carried_context_cost_usd.to_f64(),
                        r.redundant_steps,
                        tokens(&r.tokens)
                    ])
                })
                .collect(),
        )
    };
    let warnings: Vec<Value> = card
        .warnings
        .iter()
        .map(|w| {
            json!([
                w.code,
                strip_paths(&w.message),
                w.file.as_deref().map(base_name),
                w.line
            ])
        })
        .collect();
    let oracle: Vec<Value> = card
        .oracle
        .iter()
        .map(|o| json!([o.verifier, o.passed]))
        .collect();
    let lanes_json: Vec<Value> = lanes
        .lanes
        .iter()
        .map(|(label, spawn, depth)| json!([label, spawn, depth]))
        .collect();
    let (patches, rule_links, cc_unmatched) = if cc.is_empty() {
        (Vec::new(), Vec::new(), 0)
    } else {
        let index = crate::costcraft::StepIndex::new(card);
        let (p, pu) = crate::costcraft::session_patches(cc, card, &index, opts.include_content);
        let (r, ru) = crate::costcraft::session_rule_links(cc, card, &index);
        (p, r, pu + ru)
    };
    json!({
        "id": card.session_id,
        "patches": patches,
        "rule_links": rule_links,
        "cc_unmatched": cc_unmatched,
        "format": card.source.format,
        "files": card.source.files.iter().map(|f| base_name(f)).collect::<Vec<_>>(),
        "outcome": format!("{:?}", card.outcome).to_lowercase(),
        "outcome_reason": card.outcome_reason.as_deref().map(strip_paths),
        "oracle": oracle,
        "prices": base_name(&card.prices),
        "total": card.total_cost_usd.to_string(),
        "total_f": card.total_cost_usd.to_f64(),
        "reported": usd_str(card.reported_cost_usd),
        "delta": usd_str(card.cost_delta_usd),
        "redundant_cost": card.redundant_cost_usd.to_string(),
        "wasted": card.wasted_cost_usd.to_string(),
        "wasted_f": card.wasted_cost_usd.to_f64(),
        "unproven": card.unproven_cost_usd.to_string(),
        "unproven_f": card.unproven_cost_usd.to_f64(),
        "unpriced_steps": card.unpriced_steps,
        "replays_used": card.replays_used,
        "tokens": tokens(&card.tokens),
        "timed": starts.is_some(),
        "counts": counts,
        "lanes": lanes_json,
        "steps": steps,
        "edges": edges,
        "edges_dropped": dropped,
        "rollups": {
            "model": rollup(&card.rollups.by_model),
            "tool": rollup(&card.rollups.by_tool),
            "agent": rollup(&card.rollups.by_agent),
        },
        "warnings": warnings,
        "spawns": card.steps.iter().filter(|s| s.kind == StepKind::SubagentSpawn).count(),
    })
}

/// Escape text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON safe inside `<script type="application/json">`: `<`, `>` and `&` only occur
/// inside JSON strings, where `\u003c` & co. mean the same, so no `</script` or
/// `<!--` can close or confuse the block; U+2028/2029 are escaped for old parsers.
pub fn escape_json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cut() {
        assert_eq!(
            strip_paths("cannot read /home/me/proj/x.jsonl (line 3)"),
            "cannot read …/x.jsonl (line 3)"
        );
        assert_eq!(strip_paths("`C:\\Users\\me\\a.txt`"), "`…/a.txt`");
        assert_eq!(strip_paths("a/b stays"), "a/b stays");
    }

    #[test]
    fn script_json_cannot_close_the_block() {
        let j = serde_json::to_string(&json!(["</script><!--&"])).unwrap();
        let e = escape_json_for_script(&j);
        assert!(!e.contains('<') && !e.contains('>'));
        let back: Value = serde_json::from_str(&e).unwrap();
        assert_eq!(back[0], "</script><!--&");
    }
}
