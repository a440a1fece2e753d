//! Claude Code's own OpenTelemetry export: a format of its own, and joined with
//! its transcript.
//!
//! Claude Code (`CLAUDE_CODE_ENABLE_TELEMETRY=1`) exports OTLP **logs** (events
//! `claude_code.api_request`, `claude_code.tool_decision`, `claude_code.tool_result`,
//! `claude_code.user_prompt`, `claude_code.assistant_response`,
//! `claude_code.subagent_completed`, ...), **metrics** (`claude_code.cost.usage`,
//! `claude_code.token.usage`) and, with `CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1`,
//! **traces** (`claude_code.interaction`, `claude_code.llm_request`,
//! `claude_code.tool`, `claude_code.tool.execution`, `claude_code.tool.blocked_on_user`).
//! This module reads OTLP/JSON (one body per file or per line) and OTLP/protobuf
//! (one body per file) export bodies (see `docs/formats/claude_code_otel.md`):
//!
//! - **alone** (format `claude_code_otel`): a file, and the other Claude Code
//!   telemetry files in its folder (an exporter writes logs, metrics and traces
//!   apart), become one [`Trace`] per `session.id` ([`to_traces`]): a model call per
//!   `api_request` with Claude Code's own `cost_usd` as the reported cost, a tool
//!   step per `tool_use_id`, sub-agent steps under their spawn, the session's
//!   `claude_code.cost.usage` sum as its reported cost;
//! - **joined** into a Claude Code transcript's trace ([`join`], [`join_trace`]):
//!   each model call (`request_id`) gets the reported cost and timings, each tool
//!   call (`tool_use_id`) its permission decision.
//!
//! The transcript importer joins the files under `<session>/otel/` (next to
//! `<session>/subagents/`); [`join_loaded`] joins telemetry loaded as its own traces
//! into the transcripts of the same sessions (the CLI's two-path form).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::import::{ContentOptions, Input};
use crate::model::{
    Content, ContentCapture, Step, StepId, StepKind, StepStatus, TokenUsage, Trace, Warning,
    WarningCode,
};
use crate::money::Usd;
use crate::{Error, Result};

/// The `source.format` of traces built from telemetry alone.
pub const FORMAT: &str = "claude_code_otel";

const TOKEN_SEMANTICS: &str = "Claude Code telemetry (claude_code.api_request): input_tokens \
excludes cache_read_tokens and cache_creation_tokens (writes split by \
cache_creation_5m_tokens / cache_creation_1h_tokens, else all 5m); output_tokens is the final \
count. Reported cost = the event's cost_usd_micros (else cost_usd).";

/// What Claude Code writes in place of content it does not export.
const REDACTED: &str = "<REDACTED>";

/// One `claude_code.api_request` event (or, without one, a `claude_code.llm_request`
/// span).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiRequest {
    /// `session.id`.
    pub session_id: String,
    /// `request_id` (the transcript's `requestId`).
    pub request_id: String,
    /// `model`.
    pub model: Option<String>,
    /// `input_tokens` (fresh input, exclusive of cache).
    pub input_tokens: u64,
    /// `output_tokens` (final count).
    pub output_tokens: u64,
    /// `cache_read_tokens`.
    pub cache_read_tokens: u64,
    /// `cache_creation_tokens` (5m + 1h).
    pub cache_creation_tokens: u64,
    /// `cache_creation_1h_tokens` (the rest of `cache_creation_tokens` is 5m).
    pub cache_creation_1h_tokens: u64,
    /// Claude Code's own cost of the request (`cost_usd_micros`, else `cost_usd`).
    pub cost: Option<Usd>,
    /// `duration_ms`.
    pub duration_ms: Option<u64>,
    /// `ttft_ms`.
    pub ttft_ms: Option<u64>,
    /// `query_source` (`sdk`/`main`, `agent:builtin:<type>`, `subagent`, ...).
    pub query_source: Option<String>,
    /// `agent_id` (sub-agent requests only).
    pub agent_id: Option<String>,
    /// `agent.name` (sub-agent requests only).
    pub agent_name: Option<String>,
    /// When the event was recorded (the end of the request), Unix nanoseconds.
    pub time_ns: Option<i128>,
    /// `event.sequence`.
    pub seq: Option<u64>,
    /// The `assistant_response` text, when Claude Code exported it (not redacted).
    pub response: Option<String>,
    /// True when built from a `claude_code.llm_request` span (no log event).
    pub from_span: bool,
}

/// What telemetry says about one tool call (`tool_decision`, `tool_result`, the
/// `claude_code.tool` spans).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolEvent {
    /// `session.id`.
    pub session_id: String,
    /// `tool_name`.
    pub tool_name: Option<String>,
    /// `accept` / `reject`.
    pub decision: Option<String>,
    /// Who decided: `config`, `hook`, `user_permanent`, `user_temporary`, ...
    pub decision_source: Option<String>,
    /// `success` of the tool result.
    pub success: Option<bool>,
    /// `duration_ms` of the tool result.
    pub duration_ms: Option<u64>,
    /// `error_type` of a failed result.
    pub error_type: Option<String>,
    /// `request_id` of the model call that asked for the tool.
    pub request_id: Option<String>,
    /// `agent_id` when a sub-agent ran the tool.
    pub agent_id: Option<String>,
    /// When the call started (span start, else the decision), Unix nanoseconds.
    pub start_ns: Option<i128>,
    /// When it ended (span end, else the result), Unix nanoseconds.
    pub end_ns: Option<i128>,
    /// `event.sequence` of its first event.
    pub seq: Option<u64>,
    /// `tool_input_size_bytes`.
    pub input_size: Option<u64>,
    /// `tool_result_size_bytes`.
    pub result_size: Option<u64>,
    /// The tool's output from a `tool.output` span event, when exported.
    pub output: Option<String>,
}

/// One `claude_code.user_prompt` event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPrompt {
    /// `session.id`.
    pub session_id: String,
    /// `prompt.id`.
    pub prompt_id: Option<String>,
    /// `prompt_length`.
    pub length: Option<u64>,
    /// The prompt, when exported (`OTEL_LOG_USER_PROMPTS=1`).
    pub text: Option<String>,
    /// Unix nanoseconds.
    pub time_ns: Option<i128>,
    /// `event.sequence`.
    pub seq: Option<u64>,
}

/// One `claude_code.subagent_completed` event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubagentCompleted {
    /// `session.id`.
    pub session_id: String,
    /// `agent_id`.
    pub agent_id: String,
    /// `agent_type` (`general-purpose`, ...).
    pub agent_type: Option<String>,
    /// `is_async`: a background sub-agent.
    pub is_async: Option<bool>,
    /// `total_tokens`.
    pub total_tokens: Option<u64>,
    /// `total_tool_uses`.
    pub total_tool_uses: Option<u64>,
    /// `duration_ms`.
    pub duration_ms: Option<u64>,
    /// When it completed, Unix nanoseconds.
    pub time_ns: Option<i128>,
}

/// One span of the enhanced-telemetry trace export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    /// `spanId`.
    pub span_id: String,
    /// `parentSpanId`.
    pub parent: Option<String>,
    /// `name` (`claude_code.llm_request`, ...).
    pub name: String,
    /// `startTimeUnixNano`.
    pub start_ns: Option<i128>,
    /// `endTimeUnixNano`.
    pub end_ns: Option<i128>,
    /// Attributes (resource attributes included).
    pub attrs: BTreeMap<String, Value>,
    /// Events: name and attributes.
    pub events: Vec<(String, BTreeMap<String, Value>)>,
}

/// Session totals of one model from the `claude_code.cost.usage` and
/// `claude_code.token.usage` metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ModelTotals {
    /// `claude_code.cost.usage` sum.
    pub cost: Usd,
    /// `type=input`.
    pub input: u64,
    /// `type=output`.
    pub output: u64,
    /// `type=cacheRead`.
    pub cache_read: u64,
    /// `type=cacheCreation`.
    pub cache_creation: u64,
}

/// Claude Code telemetry read from OTLP export bodies.
#[derive(Debug, Clone, Default)]
pub struct Telemetry {
    /// Every `claude_code.api_request` (plus `llm_request` spans without one), in
    /// file order.
    pub api_requests: Vec<ApiRequest>,
    /// Tool events by `tool_use_id`.
    pub tools: BTreeMap<String, ToolEvent>,
    /// `claude_code.user_prompt` events.
    pub prompts: Vec<UserPrompt>,
    /// `claude_code.subagent_completed` events.
    pub subagents: Vec<SubagentCompleted>,
    /// Spans, in file order.
    pub spans: Vec<Span>,
    /// Sub-agent `agent_id` → the `tool_use_id` of the call that spawned it (from the
    /// span tree).
    pub agent_spawns: BTreeMap<String, String>,
    /// Sum of the `claude_code.cost.usage` metric (delta points added, cumulative
    /// points: the last per series) per `session.id`.
    pub metric_cost: BTreeMap<String, Usd>,
    /// Sum of the `claude_code.token.usage` metric per (`session.id`, `type`).
    pub metric_tokens: BTreeMap<(String, String), u64>,
    /// The two metrics per (`session.id`, `model`): what a session exported as
    /// metrics only becomes (one aggregate model call per model).
    pub metric_by_model: BTreeMap<(String, String), ModelTotals>,
    /// `session.id`s in first-seen order.
    pub sessions: Vec<String>,
    /// `service.version` of the exporting CLI.
    pub version: Option<String>,
    /// Files read.
    pub files: Vec<PathBuf>,
}

impl Telemetry {
    /// Claude Code's session cost: the `claude_code.cost.usage` sum when the metric
    /// was exported, else the sum of the session's `api_request` costs.
    pub fn session_cost_usd(&self, session: &str) -> Option<Usd> {
        if let Some(c) = self.metric_cost.get(session) {
            return Some(*c);
        }
        let costs: Vec<Usd> = self
            .api_requests
            .iter()
            .filter(|r| r.session_id == session)
            .filter_map(|r| r.cost)
            .collect();
        (!costs.is_empty()).then(|| costs.iter().copied().sum())
    }

    /// True when nothing was read.
    pub fn is_empty(&self) -> bool {
        self.api_requests.is_empty()
            && self.tools.is_empty()
            && self.metric_cost.is_empty()
            && self.spans.is_empty()
            && self.prompts.is_empty()
    }

    fn see(&mut self, session: &str) {
        if !session.is_empty() && !self.sessions.iter().any(|s| s == session) {
            self.sessions.push(session.to_string());
        }
    }

    /// What a telemetry-alone trace (format `claude_code_otel`, see [`to_traces`])
    /// says, read back: its model calls, tool decisions and session cost. This is
    /// how [`join_trace`] joins telemetry loaded as a trace of its own.
    pub fn from_trace(t: &Trace) -> Telemetry {
        let mut tel = Telemetry::default();
        let session = t.session_id.clone();
        tel.see(&session);
        let attr_u = |s: &Step, k: &str| s.attributes.get(k).and_then(|v| v.parse().ok());
        for s in &t.steps {
            match s.kind {
                StepKind::LlmCall => {
                    let Some(rid) = s.attributes.get("request_id") else {
                        continue;
                    };
                    tel.api_requests.push(ApiRequest {
                        session_id: session.clone(),
                        request_id: rid.clone(),
                        model: s.model.clone(),
                        input_tokens: s.tokens.input,
                        output_tokens: s.tokens.output,
                        cache_read_tokens: s.tokens.cache_read,
                        cache_creation_tokens: s.tokens.cache_write_5m + s.tokens.cache_write_1h,
                        cache_creation_1h_tokens: s.tokens.cache_write_1h,
                        cost: s.reported_cost_usd,
                        duration_ms: attr_u(s, "duration_ms"),
                        ttft_ms: attr_u(s, "ttft_ms"),
                        query_source: s.attributes.get("query_source").cloned(),
                        agent_id: s.attributes.get("agent_id").cloned(),
                        ..ApiRequest::default()
                    });
                }
                StepKind::ToolUse | StepKind::SubagentSpawn => {
                    let Some(id) = &s.links.tool_call_id else {
                        continue;
                    };
                    tel.tools.insert(
                        id.clone(),
                        ToolEvent {
                            session_id: session.clone(),
                            tool_name: s.tool.clone(),
                            decision: s.attributes.get("permission_decision").cloned(),
                            decision_source: s.attributes.get("permission_source").cloned(),
                            duration_ms: attr_u(s, "duration_ms"),
                            error_type: s.attributes.get("error_type").cloned(),
                            ..ToolEvent::default()
                        },
                    );
                }
                _ => {}
            }
        }
        if let Some(c) = t.reported_cost_usd {
            tel.metric_cost.insert(session, c);
        }
        tel.files = t.source.files.iter().map(PathBuf::from).collect();
        tel
    }
}

// ---------------------------------------------------------------------------
// detection and reading

/// Does `head` (the start of a file, lossy UTF-8) look like a Claude Code OTLP
/// export body, JSON or protobuf?
pub(crate) fn sniff(_path: &Path, head: &str) -> bool {
    let ours = head.contains("\"claude-code\"") || head.contains("com.anthropic.claude_code");
    let t = head.trim_start();
    if t.starts_with('{') {
        return ours
            && (head.contains("\"resourceLogs\"")
                || head.contains("\"resourceMetrics\"")
                || head.contains("\"resourceSpans\""));
    }
    // protobuf: field 1 (resource_logs / resource_metrics / resource_spans), length-delimited
    head.as_bytes().first() == Some(&0x0A)
        && (head.contains("claude-code") || head.contains("com.anthropic.claude_code"))
}

/// Is the file at `path` a Claude Code telemetry body (from its first 4 KiB)?
pub(crate) fn is_telemetry_file(path: &Path) -> bool {
    let Ok(bytes) = crate::import::read_regular(path, crate::import::MAX_INPUT_BYTES, Some(4096))
    else {
        return false;
    };
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    sniff(path, &crate::import::lossy(b))
}

/// Import a telemetry file together with the other Claude Code telemetry files of
/// its folder: one trace per `session.id`.
pub(crate) fn import(input: &Input) -> Result<Vec<Trace>> {
    let mut inputs: Vec<Input> = Vec::new();
    // siblings only for a file on disk (an in-memory input names no folder)
    if input.path.is_file()
        && let Some(dir) = input.path.parent()
    {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(rd) = std::fs::read_dir(dir) {
            let mut sib: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .filter(|p| p.file_name() != input.path.file_name())
                .filter(|p| is_telemetry_file(p))
                .collect();
            sib.sort();
            for p in sib {
                // keep the path as the caller spelled its folder
                let p = match input.path.parent() {
                    Some(d) => d.join(p.file_name().unwrap_or_default()),
                    None => p,
                };
                inputs.push(Input::read(&p)?);
            }
        }
    }
    let mut all: Vec<&Input> = vec![input];
    all.extend(inputs.iter());
    all.sort_by(|a, b| a.path.cmp(&b.path));
    let tel = read_inputs(&all)?;
    let traces = to_traces(&tel, input.content);
    if traces.is_empty() {
        return Err(Error::parse(
            &input.path,
            None,
            Some("session.id"),
            "Claude Code telemetry without any session (no event, span or metric carries a session.id)",
        ));
    }
    Ok(traces)
}

/// Read OTLP export bodies from files: JSON (one body per file, or one per line)
/// or protobuf (one `Export{Logs,Metrics,Trace}ServiceRequest` per file).
pub fn read(paths: &[PathBuf]) -> Result<Telemetry> {
    let inputs = paths
        .iter()
        .map(|p| Input::read(p))
        .collect::<Result<Vec<_>>>()?;
    read_inputs(&inputs.iter().collect::<Vec<_>>())
}

/// [`read`] from in-memory files (`<session>/otel/` companions handed to the
/// importer by an engine job, see [`crate::import::group_inputs`]).
pub(crate) fn read_inputs(inputs: &[&Input]) -> Result<Telemetry> {
    let mut t = Telemetry::default();
    // cumulative metric points: keep the last value per series
    let mut cumulative: BTreeMap<(String, String, String, String, String), f64> = BTreeMap::new();
    for input in inputs {
        for b in bodies(input)? {
            read_logs(&b, &mut t);
            read_metrics(&b, &mut t, &mut cumulative);
            read_spans(&b, &mut t);
        }
        t.files.push(input.path.clone());
    }
    for ((metric, session, model, ty, _), v) in cumulative {
        add_metric(&mut t, &metric, &session, &model, &ty, v);
    }
    finish_spans(&mut t);
    Ok(t)
}

/// The export bodies of one file, as OTLP/JSON values.
fn bodies(input: &Input) -> Result<Vec<Value>> {
    let path = input.path.as_path();
    let b = input
        .bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&input.bytes);
    let first = b.iter().find(|c| !c.is_ascii_whitespace()).copied();
    if first != Some(b'{') {
        return Ok(vec![protobuf_body(path, b)?]);
    }
    crate::import::check_json_budget(path, None, None, b)?;
    let text = input.text()?;
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(vec![v]);
    }
    let lines = crate::import::jsonl(path, text)?;
    Ok(lines.lines.into_iter().map(|(_, v)| v).collect())
}

/// Decode one OTLP/protobuf body; the kind comes from the file name (`logs`,
/// `metrics`, `traces`/`spans`), else the first kind that decodes to something.
fn protobuf_body(path: &Path, b: &[u8]) -> Result<Value> {
    use opentelemetry_proto::tonic::collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
        trace::v1::ExportTraceServiceRequest,
    };
    use prost::Message;
    #[derive(Clone, Copy)]
    enum Kind {
        Logs,
        Metrics,
        Traces,
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let kinds: &[Kind] = if name.contains("log") {
        &[Kind::Logs]
    } else if name.contains("metric") {
        &[Kind::Metrics]
    } else if name.contains("trace") || name.contains("span") {
        &[Kind::Traces]
    } else {
        &[Kind::Logs, Kind::Traces, Kind::Metrics]
    };
    let mut last = String::new();
    for k in kinds {
        let r = match k {
            Kind::Logs => ExportLogsServiceRequest::decode(b)
                .map(|m| (!m.resource_logs.is_empty()).then(|| serde_json::to_value(&m))),
            Kind::Metrics => ExportMetricsServiceRequest::decode(b)
                .map(|m| (!m.resource_metrics.is_empty()).then(|| serde_json::to_value(&m))),
            Kind::Traces => ExportTraceServiceRequest::decode(b)
                .map(|m| (!m.resource_spans.is_empty()).then(|| serde_json::to_value(&m))),
        };
        match r {
            Ok(Some(Ok(v))) => return Ok(v),
            Ok(Some(Err(e))) => last = e.to_string(),
            Ok(None) => last = "an empty export request".into(),
            Err(e) => last = e.to_string(),
        }
    }
    Err(Error::parse(
        path,
        None,
        Some("protobuf"),
        format!(
            "not an OTLP/protobuf ExportLogsServiceRequest / ExportMetricsServiceRequest / \
             ExportTraceServiceRequest: {last}"
        ),
    ))
}

/// OTLP files in `dir` (`*.json`, `*.jsonl`, `*.pb`, `*.binpb`, `*.protobuf`),
/// sorted; empty when absent.
pub(crate) fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|x| {
                    x == "json" || x == "jsonl" || x == "pb" || x == "binpb" || x == "protobuf"
                })
        })
        .collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------
// joining into a transcript

/// Join telemetry into a Claude Code trace (by `session.id`, `request_id` and
/// `tool_use_id`). Returns how many model calls were matched.
pub fn join(trace: &mut Trace, tel: &Telemetry) -> usize {
    let session = trace.session_id.clone();
    let file = tel
        .files
        .first()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let by_req: BTreeMap<&str, &ApiRequest> = tel
        .api_requests
        .iter()
        .filter(|r| r.session_id == session || session.is_empty())
        .map(|r| (r.request_id.as_str(), r))
        .collect();
    let mut matched = 0usize;
    let mut calls = 0usize;
    let mut corrected = 0usize;
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for s in &mut trace.steps {
        match s.kind {
            StepKind::LlmCall => {
                calls += 1;
                let Some(r) = s
                    .attributes
                    .get("request_id")
                    .and_then(|id| by_req.get(id.as_str()))
                else {
                    continue;
                };
                matched += 1;
                used.insert(r.request_id.as_str());
                if let Some(c) = r.cost {
                    s.reported_cost_usd = Some(c);
                }
                if r.output_tokens > s.tokens.output {
                    s.tokens.output = r.output_tokens;
                    s.attributes
                        .insert("output_tokens_source".into(), "otel_api_request".into());
                    corrected += 1;
                }
                for (k, v) in [
                    ("duration_ms", r.duration_ms.map(|x| x.to_string())),
                    ("ttft_ms", r.ttft_ms.map(|x| x.to_string())),
                    ("query_source", r.query_source.clone()),
                    ("agent_id", r.agent_id.clone()),
                ] {
                    if let Some(v) = v {
                        s.attributes.insert(k.into(), v);
                    }
                }
            }
            StepKind::ToolUse | StepKind::SubagentSpawn => {
                let Some(ev) = s
                    .links
                    .tool_call_id
                    .as_ref()
                    .and_then(|id| tel.tools.get(id))
                else {
                    continue;
                };
                if let Some(d) = &ev.decision {
                    s.attributes.insert("permission_decision".into(), d.clone());
                    if (d == "reject" || d == "deny") && s.status != StepStatus::Denied {
                        s.status = StepStatus::Denied;
                    }
                }
                if let Some(src) = &ev.decision_source {
                    s.attributes
                        .entry("permission_source".into())
                        .or_insert_with(|| src.clone());
                }
                if let Some(d) = ev.duration_ms {
                    s.attributes.insert("duration_ms".into(), d.to_string());
                }
                if let Some(e) = &ev.error_type {
                    s.attributes.insert("error_type".into(), e.clone());
                }
            }
            _ => {}
        }
    }
    if let Some(c) = tel.session_cost_usd(&session) {
        trace.reported_cost_usd = Some(c);
    }
    for p in &tel.files {
        let s = p.display().to_string();
        if !trace.source.files.contains(&s) {
            trace.source.files.push(s);
        }
    }
    let unmatched = by_req.len() - used.len();
    trace.warn(Warning::at(
        WarningCode::TelemetryJoined,
        format!(
            "info: Claude Code telemetry joined: {matched} of {calls} model calls matched an \
             api_request by request_id (reported cost = Claude Code's cost_usd); \
             {unmatched} api_request events of this session matched no call{}",
            if corrected > 0 {
                format!("; {corrected} output_tokens corrected from the event's final count")
            } else {
                String::new()
            }
        ),
        file,
        None,
    ));
    matched
}

/// Join a telemetry-alone trace (format `claude_code_otel`) of the same session
/// into a transcript's trace. Returns how many model calls were matched.
pub fn join_trace(transcript: &mut Trace, telemetry: &Trace) -> usize {
    // the telemetry's files keep the name its own input argument gives them
    if let (Some(r), Some(t)) = (&mut transcript.source.root, &telemetry.source.root) {
        r.merge(t);
    }
    join(transcript, &Telemetry::from_trace(telemetry))
}

/// Join every telemetry-alone trace in `traces` whose session has a Claude Code
/// transcript among them into that transcript, and drop it: one trace per
/// session. Telemetry of a session without a transcript stays a trace of its own.
/// Returns how many telemetry traces were joined.
pub fn join_loaded(traces: &mut Vec<Trace>) -> usize {
    let pairs = pairs(traces.iter());
    let mut drop = BTreeSet::new();
    for (tel_i, tr_i) in pairs {
        let tel = traces[tel_i].clone();
        join_trace(&mut traces[tr_i], &tel);
        drop.insert(tel_i);
    }
    let n = drop.len();
    let mut i = 0usize;
    traces.retain(|_| {
        let keep = !drop.contains(&i);
        i += 1;
        keep
    });
    n
}

/// `(telemetry index, transcript index)` for every telemetry-alone trace whose
/// session has a Claude Code transcript among `traces` (positions in iteration
/// order).
pub fn pairs<'a>(traces: impl Iterator<Item = &'a Trace>) -> Vec<(usize, usize)> {
    let mut transcripts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut tels: Vec<(usize, &str)> = Vec::new();
    for (i, t) in traces.enumerate() {
        match t.source.format.as_str() {
            "claude_code" => {
                transcripts.entry(t.session_id.as_str()).or_insert(i);
            }
            FORMAT => tels.push((i, t.session_id.as_str())),
            _ => {}
        }
    }
    tels.into_iter()
        .filter_map(|(i, s)| transcripts.get(s).map(|j| (i, *j)))
        .collect()
}

// ---------------------------------------------------------------------------
// telemetry alone: traces

/// What a step is built from.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Prompt(usize),
    Req(String),
    Tool(String),
}

struct Draft {
    key: Key,
    start: i128,
    seq: u64,
    end: Option<i128>,
    step: Step,
    /// the request that issued a tool call
    issued_by: Option<String>,
    agent_id: Option<String>,
}

fn ts(ns: Option<i128>) -> Option<jiff::Timestamp> {
    ns.and_then(crate::import::json::from_unix_nanos)
}

fn text_content(s: &Option<String>) -> Option<Content> {
    s.as_deref()
        .filter(|t| *t != REDACTED)
        .map(|t| Content::full(t.to_string()))
}

/// The sub-agent type named by a `query_source` (`agent:builtin:general-purpose`).
fn agent_of_source(q: &str) -> Option<String> {
    let rest = q.strip_prefix("agent:")?;
    Some(rest.rsplit(':').next().unwrap_or(rest).to_string())
}

/// One trace per session of `tel`, in first-seen order (see the module docs).
pub fn to_traces(tel: &Telemetry, content: ContentOptions) -> Vec<Trace> {
    tel.sessions
        .iter()
        .map(|s| session_trace(tel, s, content))
        .collect()
}

fn session_trace(tel: &Telemetry, session: &str, content: ContentOptions) -> Trace {
    let mut t = Trace::new(session, FORMAT);
    t.source.files = tel.files.iter().map(|p| p.display().to_string()).collect();
    t.source.token_semantics = Some(TOKEN_SEMANTICS.into());
    let file = t.source.files.first().cloned().unwrap_or_default();
    let mut drafts: Vec<Draft> = Vec::new();
    let mut any_content = false;
    for (i, p) in tel
        .prompts
        .iter()
        .enumerate()
        .filter(|(_, p)| p.session_id == session)
    {
        let mut s = Step::new(StepKind::UserInput);
        s.started_at = ts(p.time_ns);
        s.output = text_content(&p.text);
        any_content |= s.output.is_some();
        if let Some(id) = &p.prompt_id {
            s.attributes.insert("prompt_id".into(), id.clone());
        }
        if let Some(n) = p.length {
            s.attributes.insert("prompt_length".into(), n.to_string());
        }
        drafts.push(Draft {
            key: Key::Prompt(i),
            start: p.time_ns.unwrap_or(0),
            seq: p.seq.unwrap_or(u64::MAX),
            end: p.time_ns,
            step: s,
            issued_by: None,
            agent_id: None,
        });
    }
    for r in tel.api_requests.iter().filter(|r| r.session_id == session) {
        let mut s = Step::new(StepKind::LlmCall);
        s.model = r.model.clone();
        s.provider = Some("anthropic".into());
        let w1h = r.cache_creation_1h_tokens.min(r.cache_creation_tokens);
        s.tokens = TokenUsage::from_exclusive(
            r.input_tokens,
            r.cache_read_tokens,
            r.cache_creation_tokens - w1h,
            w1h,
            r.output_tokens,
        );
        s.reported_cost_usd = r.cost;
        let dur = r.duration_ms.map(|d| i128::from(d) * 1_000_000);
        let start = match (r.time_ns, dur) {
            (Some(e), Some(d)) if !r.from_span => Some(e - d),
            (Some(e), _) => Some(e),
            _ => None,
        };
        let end = if r.from_span {
            start.zip(dur).map(|(s, d)| s + d)
        } else {
            r.time_ns
        };
        s.started_at = ts(start);
        s.ended_at = ts(end);
        s.output = text_content(&r.response);
        any_content |= s.output.is_some();
        s.agent = r
            .agent_name
            .clone()
            .or_else(|| r.query_source.as_deref().and_then(agent_of_source));
        s.source_ref = Some(r.request_id.clone());
        s.attributes
            .insert("request_id".into(), r.request_id.clone());
        for (k, v) in [
            ("duration_ms", r.duration_ms.map(|x| x.to_string())),
            ("ttft_ms", r.ttft_ms.map(|x| x.to_string())),
            ("query_source", r.query_source.clone()),
            ("agent_id", r.agent_id.clone()),
        ] {
            if let Some(v) = v {
                s.attributes.insert(k.into(), v);
            }
        }
        if r.from_span {
            s.attributes
                .insert("usage_source".into(), "claude_code.llm_request span".into());
        }
        drafts.push(Draft {
            key: Key::Req(r.request_id.clone()),
            start: start.unwrap_or(0),
            seq: r.seq.unwrap_or(u64::MAX),
            end,
            step: s,
            issued_by: None,
            agent_id: r.agent_id.clone(),
        });
    }
    let mut denied = 0usize;
    for (id, ev) in tel.tools.iter().filter(|(_, e)| e.session_id == session) {
        let name = ev.tool_name.clone();
        let spawn = matches!(name.as_deref(), Some("Agent" | "Task"));
        let mut s = Step::new(if spawn {
            StepKind::SubagentSpawn
        } else {
            StepKind::ToolUse
        });
        s.tool = name;
        s.links.tool_call_id = Some(id.clone());
        s.source_ref = Some(id.clone());
        s.started_at = ts(ev.start_ns);
        s.ended_at = ts(ev.end_ns);
        if let Some(d) = &ev.decision {
            s.attributes.insert("permission_decision".into(), d.clone());
            if d == "reject" || d == "deny" {
                s.status = StepStatus::Denied;
                s.error = Some(format!(
                    "denied ({})",
                    ev.decision_source.as_deref().unwrap_or("permission")
                ));
                denied += 1;
            }
        }
        if s.status != StepStatus::Denied && ev.success == Some(false) {
            s.status = StepStatus::Error;
            s.error = Some(ev.error_type.clone().unwrap_or_else(|| "tool error".into()));
        }
        for (k, v) in [
            ("permission_source", ev.decision_source.clone()),
            ("duration_ms", ev.duration_ms.map(|x| x.to_string())),
            ("error_type", ev.error_type.clone()),
            ("agent_id", ev.agent_id.clone()),
            (
                "tool_input_size_bytes",
                ev.input_size.map(|x| x.to_string()),
            ),
            (
                "tool_result_size_bytes",
                ev.result_size.map(|x| x.to_string()),
            ),
        ] {
            if let Some(v) = v {
                s.attributes.insert(k.into(), v);
            }
        }
        s.output = text_content(&ev.output);
        any_content |= s.output.is_some();
        drafts.push(Draft {
            key: Key::Tool(id.clone()),
            start: ev.start_ns.unwrap_or(0),
            seq: ev.seq.unwrap_or(u64::MAX),
            end: ev.end_ns,
            step: s,
            issued_by: ev.request_id.clone(),
            agent_id: ev.agent_id.clone(),
        });
    }
    // metrics only (no api_request event, no llm_request span): one aggregate
    // call per model from the session totals
    let mut aggregated = 0usize;
    if !drafts.iter().any(|d| matches!(d.key, Key::Req(_))) {
        for ((_, model), m) in tel
            .metric_by_model
            .iter()
            .filter(|((s, _), _)| s == session)
        {
            if m.input + m.output + m.cache_read + m.cache_creation == 0 && m.cost == Usd::ZERO {
                continue;
            }
            let mut st = Step::new(StepKind::LlmCall);
            st.model = (!model.is_empty()).then(|| model.clone());
            st.provider = Some("anthropic".into());
            st.tokens =
                TokenUsage::from_exclusive(m.input, m.cache_read, m.cache_creation, 0, m.output);
            st.reported_cost_usd = Some(m.cost);
            st.attributes.insert(
                "usage_source".into(),
                "claude_code metrics (session totals)".into(),
            );
            aggregated += 1;
            drafts.push(Draft {
                key: Key::Req(format!("metrics:{model}")),
                start: i128::MAX,
                seq: u64::MAX,
                end: None,
                step: st,
                issued_by: None,
                agent_id: None,
            });
        }
    }
    drafts.sort_by(|a, b| (a.start, a.seq, &a.key).cmp(&(b.start, b.seq, &b.key)));
    let ids: BTreeMap<Key, StepId> = drafts
        .iter()
        .enumerate()
        .map(|(i, d)| (d.key.clone(), StepId::from_index(i)))
        .collect();
    // the model call that issued each tool call; tool results go into the next
    // call of the same agent
    let n = drafts.len();
    let mut requests: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut context: Vec<Vec<StepId>> = vec![Vec::new(); n];
    for (i, d) in drafts.iter_mut().enumerate() {
        if let (Key::Tool(tid), Some(rid)) = (&d.key, &d.issued_by)
            && let Some(&by) = ids.get(&Key::Req(rid.clone()))
            && by.index() != i
        {
            d.step.links.consumes.push(by);
            requests[by.index()].push(tid.clone());
        }
    }
    for i in 0..n {
        let feeds = matches!(drafts[i].key, Key::Tool(_) | Key::Prompt(_));
        if !feeds {
            continue;
        }
        let after = drafts[i].end.unwrap_or(drafts[i].start);
        let agent = drafts[i].agent_id.clone();
        if let Some(j) = (i + 1..n).find(|&j| {
            matches!(drafts[j].key, Key::Req(_))
                && drafts[j].agent_id == agent
                && drafts[j].start >= after
        }) {
            context[j].push(StepId::from_index(i));
        }
    }
    // sub-agents: their steps go under the spawn that started them
    let mut spawn_of: BTreeMap<String, StepId> = BTreeMap::new();
    let mut unlinked: BTreeSet<String> = BTreeSet::new();
    let mut taken: BTreeSet<StepId> = BTreeSet::new();
    for (agent_id, tid) in &tel.agent_spawns {
        if let Some(&sid) = ids.get(&Key::Tool(tid.clone())) {
            spawn_of.insert(agent_id.clone(), sid);
            taken.insert(sid);
        }
    }
    for d in &drafts {
        let Some(a) = &d.agent_id else { continue };
        if spawn_of.contains_key(a) || unlinked.contains(a) {
            continue;
        }
        // no span tree: the latest spawn before the sub-agent's first step
        let found = drafts
            .iter()
            .enumerate()
            .filter(|(_, x)| x.step.kind == StepKind::SubagentSpawn && x.agent_id.is_none())
            .map(|(k, x)| (StepId::from_index(k), x))
            .filter(|(k, x)| !taken.contains(k) && x.start <= d.start)
            .map(|(k, _)| k)
            .next_back();
        match found {
            Some(k) => {
                spawn_of.insert(a.clone(), k);
                taken.insert(k);
            }
            None => {
                unlinked.insert(a.clone());
            }
        }
    }
    for (i, mut d) in drafts.into_iter().enumerate() {
        d.step.links.requests = std::mem::take(&mut requests[i]);
        d.step.links.context = std::mem::take(&mut context[i]);
        if let Some(a) = &d.agent_id
            && let Some(&p) = spawn_of.get(a)
            && p.index() != i
        {
            d.step.parent = Some(p);
        }
        t.push(d.step);
    }
    // the spawn: what the sub-agent did, and its name
    for c in tel.subagents.iter().filter(|c| c.session_id == session) {
        let Some(&sid) = spawn_of.get(&c.agent_id) else {
            continue;
        };
        let last = t
            .steps
            .iter()
            .rfind(|s| s.parent == Some(sid) && s.kind == StepKind::LlmCall)
            .map(|s| s.id);
        let Some(spawn) = t.step_mut(sid) else {
            continue;
        };
        spawn
            .attributes
            .insert("agent_id".into(), c.agent_id.clone());
        for (k, v) in [
            ("subagent_type", c.agent_type.clone()),
            ("background", c.is_async.map(|b| b.to_string())),
            (
                "subagent_total_tokens",
                c.total_tokens.map(|x| x.to_string()),
            ),
            (
                "subagent_tool_uses",
                c.total_tool_uses.map(|x| x.to_string()),
            ),
            ("subagent_duration_ms", c.duration_ms.map(|x| x.to_string())),
        ] {
            if let Some(v) = v {
                spawn.attributes.insert(k.into(), v);
            }
        }
        // a foreground sub-agent's report is the spawn's result
        if c.is_async == Some(false)
            && let Some(l) = last
        {
            spawn.links.consumes.push(l);
        }
    }
    // a sub-agent's tool steps carry only its agent_id: name them like its calls
    let mut names: BTreeMap<String, String> = tel
        .subagents
        .iter()
        .filter(|c| c.session_id == session)
        .filter_map(|c| Some((c.agent_id.clone(), c.agent_type.clone()?)))
        .collect();
    for s in &t.steps {
        if let (Some(a), Some(n)) = (s.attributes.get("agent_id"), &s.agent) {
            names.entry(a.clone()).or_insert_with(|| n.clone());
        }
    }
    for s in t.steps.iter_mut() {
        if s.agent.is_none()
            && s.kind != StepKind::SubagentSpawn
            && let Some(a) = s.attributes.get("agent_id")
        {
            s.agent = Some(names.get(a).cloned().unwrap_or_else(|| "subagent".into()));
        }
    }
    // a background sub-agent's report reaches the main conversation as the next
    // user prompt (Claude Code's <task-notification>) after it completed
    for c in tel
        .subagents
        .iter()
        .filter(|c| c.session_id == session && c.is_async == Some(true))
    {
        let Some(&sid) = spawn_of.get(&c.agent_id) else {
            continue;
        };
        let Some(last) = t
            .steps
            .iter()
            .rfind(|s| s.parent == Some(sid) && s.kind == StepKind::LlmCall)
            .map(|s| (s.id, s.ended_at.or(s.started_at)))
        else {
            continue;
        };
        let done = c.time_ns.and_then(|n| ts(Some(n))).or(last.1);
        if let Some(p) = t.steps.iter_mut().find(|s| {
            s.kind == StepKind::UserInput
                && s.id > last.0
                && s.links.consumes.is_empty()
                && s.started_at.zip(done).is_none_or(|(a, d)| a >= d)
        }) {
            p.attributes
                .insert("event".into(), "task_notification".into());
            p.links.consumes.push(last.0);
        }
    }
    t.started_at = t.steps.iter().filter_map(|s| s.started_at).min();
    t.outcome.final_step = t
        .steps
        .iter()
        .rfind(|s| s.kind == StepKind::LlmCall && s.parent.is_none())
        .map(|s| s.id);
    if let Some(f) = t.outcome.final_step {
        t.outcome.answer = t.step(f).and_then(|s| s.output.clone());
    }
    t.reported_cost_usd = tel.session_cost_usd(session);
    if let Some(v) = &tel.version {
        t.metadata.insert("agent_version".into(), v.clone());
    }
    t.metadata.insert("agent".into(), "claude-code".into());
    for ((s, ty), n) in &tel.metric_tokens {
        if s == session {
            t.metadata
                .insert(format!("claude_code.token.usage.{ty}"), n.to_string());
        }
    }
    t.source.content = if any_content && !content.skip {
        ContentCapture::Full
    } else {
        ContentCapture::None
    };
    if aggregated > 0 {
        t.warn(Warning::at(
            WarningCode::ApportionedTokens,
            format!(
                "the session has Claude Code metrics only (no api_request events or llm_request \
                 spans): {aggregated} model call(s) are session totals per model from \
                 claude_code.token.usage and claude_code.cost.usage (cache writes counted as 5m)"
            ),
            file.clone(),
            None,
        ));
    }
    if denied > 0 {
        t.warn(Warning::at(
            WarningCode::DeniedToolCalls,
            format!("{denied} tool call(s) were denied (tool_decision: reject) and did not run"),
            file.clone(),
            None,
        ));
    }
    if !unlinked.is_empty() {
        t.warn(Warning::at(
            WarningCode::SubagentUnlinked,
            format!(
                "no Agent/Task call links to sub-agent(s) {}; their steps are kept at top level",
                unlinked.into_iter().collect::<Vec<_>>().join(", ")
            ),
            file,
            None,
        ));
    }
    t
}

// ---------------------------------------------------------------------------
// OTLP/JSON readers

/// An OTLP `AnyValue` as JSON: strings, numbers (intValue may be a string), bools.
fn any(v: &Value) -> Value {
    if let Some(s) = v.get("stringValue") {
        return s.clone();
    }
    if let Some(i) = v.get("intValue") {
        return match i {
            Value::String(s) => s
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| i.clone()),
            other => other.clone(),
        };
    }
    if let Some(d) = v.get("doubleValue") {
        return d.clone();
    }
    if let Some(b) = v.get("boolValue") {
        return b.clone();
    }
    Value::Null
}

fn attrs(v: Option<&Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Some(Value::Array(items)) = v {
        for kv in items {
            if let (Some(k), Some(val)) = (kv.get("key").and_then(Value::as_str), kv.get("value")) {
                out.insert(k.to_string(), any(val));
            }
        }
    }
    out
}

fn s_of(a: &BTreeMap<String, Value>, k: &str) -> Option<String> {
    match a.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn u_of(a: &BTreeMap<String, Value>, k: &str) -> Option<u64> {
    match a.get(k)? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .map(|n| n.min(crate::model::MAX_TOKENS))
}

fn f_of(a: &BTreeMap<String, Value>, k: &str) -> Option<f64> {
    match a.get(k)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

fn b_of(a: &BTreeMap<String, Value>, k: &str) -> Option<bool> {
    match a.get(k)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s == "true"),
        _ => None,
    }
}

fn nanos_of(v: &Value, k: &str) -> Option<i128> {
    match v.get(k)? {
        Value::String(s) => s.parse::<i128>().ok(),
        Value::Number(n) => n.as_u64().map(i128::from),
        _ => None,
    }
    .filter(|n| *n > 0)
}

fn arr<'v>(v: &'v Value, k: &str) -> &'v [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn event_name(rec: &Value, a: &BTreeMap<String, Value>) -> Option<String> {
    let n = s_of(a, "event.name").or_else(|| {
        rec.get("body")
            .and_then(|b| b.get("stringValue"))
            .and_then(Value::as_str)
            .map(str::to_string)
    })?;
    Some(n.strip_prefix("claude_code.").unwrap_or(&n).to_string())
}

fn resource(t: &mut Telemetry, r: &Value) -> BTreeMap<String, Value> {
    let res = attrs(r.get("resource").and_then(|r| r.get("attributes")));
    if t.version.is_none() && s_of(&res, "service.name").as_deref() == Some("claude-code") {
        t.version = s_of(&res, "service.version");
    }
    res
}

fn with_resource(
    mut a: BTreeMap<String, Value>,
    res: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    for (k, v) in res {
        a.entry(k.clone()).or_insert_with(|| v.clone());
    }
    a
}

/// Usd from `cost_usd_micros` (exact), else `cost_usd`.
fn cost_of(a: &BTreeMap<String, Value>) -> Option<Usd> {
    if let Some(m) = a.get("cost_usd_micros").and_then(|v| match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }) && let Some(n) = m.checked_mul(1000)
    {
        return Some(Usd::from_nanos(n));
    }
    f_of(a, "cost_usd").and_then(Usd::from_f64)
}

fn read_logs(body: &Value, t: &mut Telemetry) {
    for rl in arr(body, "resourceLogs") {
        let res = resource(t, rl);
        for sl in arr(rl, "scopeLogs") {
            for rec in arr(sl, "logRecords") {
                let a = with_resource(attrs(rec.get("attributes")), &res);
                let session = s_of(&a, "session.id").unwrap_or_default();
                let time = nanos_of(rec, "timeUnixNano")
                    .or_else(|| nanos_of(rec, "observedTimeUnixNano"))
                    .or_else(|| {
                        s_of(&a, "event.timestamp")
                            .and_then(|s| crate::import::json::parse_time(&s))
                            .map(|x| x.as_nanosecond())
                    });
                let seq = u_of(&a, "event.sequence");
                let name = event_name(rec, &a);
                if matches!(
                    name.as_deref(),
                    Some(
                        "api_request"
                            | "tool_decision"
                            | "tool_result"
                            | "user_prompt"
                            | "assistant_response"
                            | "subagent_completed"
                    )
                ) {
                    t.see(&session);
                }
                match name.as_deref() {
                    Some("api_request") => {
                        let Some(request_id) = s_of(&a, "request_id") else {
                            continue;
                        };
                        let w = u_of(&a, "cache_creation_tokens").unwrap_or(0);
                        t.api_requests.push(ApiRequest {
                            session_id: session,
                            request_id,
                            model: s_of(&a, "model"),
                            input_tokens: u_of(&a, "input_tokens").unwrap_or(0),
                            output_tokens: u_of(&a, "output_tokens").unwrap_or(0),
                            cache_read_tokens: u_of(&a, "cache_read_tokens").unwrap_or(0),
                            cache_creation_tokens: w,
                            cache_creation_1h_tokens: u_of(&a, "cache_creation_1h_tokens")
                                .unwrap_or(0),
                            cost: cost_of(&a),
                            duration_ms: u_of(&a, "duration_ms"),
                            ttft_ms: u_of(&a, "ttft_ms"),
                            query_source: s_of(&a, "query_source"),
                            agent_id: s_of(&a, "agent_id"),
                            agent_name: s_of(&a, "agent.name"),
                            time_ns: time,
                            seq,
                            response: None,
                            from_span: false,
                        });
                    }
                    Some("assistant_response") => {
                        let text = s_of(&a, "response").filter(|r| r != REDACTED);
                        if let (Some(rid), Some(text)) = (s_of(&a, "request_id"), text)
                            && let Some(r) = t
                                .api_requests
                                .iter_mut()
                                .rfind(|r| r.request_id == rid && r.session_id == session)
                        {
                            r.response = Some(text);
                        }
                    }
                    Some("user_prompt") => t.prompts.push(UserPrompt {
                        session_id: session,
                        prompt_id: s_of(&a, "prompt.id"),
                        length: u_of(&a, "prompt_length"),
                        text: s_of(&a, "prompt").filter(|p| p != REDACTED),
                        time_ns: time,
                        seq,
                    }),
                    Some("subagent_completed") => {
                        if let Some(agent_id) = s_of(&a, "agent_id") {
                            t.subagents.push(SubagentCompleted {
                                session_id: session,
                                agent_id,
                                agent_type: s_of(&a, "agent_type"),
                                is_async: b_of(&a, "is_async"),
                                total_tokens: u_of(&a, "total_tokens"),
                                total_tool_uses: u_of(&a, "total_tool_uses"),
                                duration_ms: u_of(&a, "duration_ms"),
                                time_ns: time,
                            });
                        }
                    }
                    Some(ev @ ("tool_decision" | "tool_result")) => {
                        let Some(id) = s_of(&a, "tool_use_id") else {
                            continue;
                        };
                        let e = t.tools.entry(id).or_default();
                        e.session_id = session;
                        e.tool_name = s_of(&a, "tool_name").or(e.tool_name.take());
                        e.request_id = s_of(&a, "request_id").or(e.request_id.take());
                        e.agent_id = s_of(&a, "agent_id").or(e.agent_id.take());
                        e.seq = e.seq.or(seq);
                        if ev == "tool_decision" {
                            e.decision = s_of(&a, "decision");
                            e.decision_source = s_of(&a, "source");
                            e.start_ns = e.start_ns.or(time);
                        } else {
                            e.success = b_of(&a, "success");
                            e.duration_ms = u_of(&a, "duration_ms");
                            e.error_type = s_of(&a, "error_type").or(s_of(&a, "error"));
                            e.input_size = u_of(&a, "tool_input_size_bytes");
                            e.result_size = u_of(&a, "tool_result_size_bytes");
                            e.end_ns = e.end_ns.or(time);
                            if e.start_ns.is_none() {
                                e.start_ns = time
                                    .zip(e.duration_ms)
                                    .map(|(x, d)| x - i128::from(d) * 1_000_000);
                            }
                            if e.decision_source.is_none() {
                                e.decision_source = s_of(&a, "decision_source");
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

fn add_metric(t: &mut Telemetry, metric: &str, session: &str, model: &str, ty: &str, v: f64) {
    let by_model = t
        .metric_by_model
        .entry((session.to_string(), model.to_string()))
        .or_default();
    if metric == "claude_code.cost.usage" {
        let v = Usd::from_f64(v).unwrap_or(Usd::ZERO);
        by_model.cost += v;
        *t.metric_cost
            .entry(session.to_string())
            .or_insert(Usd::ZERO) += v;
    } else if v.is_finite() && v >= 0.0 {
        let n = (v as u64).min(crate::model::MAX_TOKENS);
        let slot = match ty {
            "input" => Some(&mut by_model.input),
            "output" => Some(&mut by_model.output),
            "cacheRead" => Some(&mut by_model.cache_read),
            "cacheCreation" => Some(&mut by_model.cache_creation),
            _ => None,
        };
        if let Some(x) = slot {
            *x = (*x + n).min(crate::model::MAX_TOKENS);
        }
        let e = t
            .metric_tokens
            .entry((session.to_string(), ty.to_string()))
            .or_insert(0);
        *e = (*e + n).min(crate::model::MAX_TOKENS);
    }
}

fn read_metrics(
    body: &Value,
    t: &mut Telemetry,
    cumulative: &mut BTreeMap<(String, String, String, String, String), f64>,
) {
    for rm in arr(body, "resourceMetrics") {
        let res = resource(t, rm);
        for sm in arr(rm, "scopeMetrics") {
            for m in arr(sm, "metrics") {
                let name = m.get("name").and_then(Value::as_str).unwrap_or("");
                if name != "claude_code.cost.usage" && name != "claude_code.token.usage" {
                    continue;
                }
                let Some(sum) = m.get("sum") else { continue };
                // AGGREGATION_TEMPORALITY_DELTA = 1, CUMULATIVE = 2
                let delta = match sum.get("aggregationTemporality") {
                    Some(Value::Number(n)) => n.as_u64() != Some(2),
                    Some(Value::String(s)) => !s.contains("CUMULATIVE"),
                    _ => true,
                };
                for dp in arr(sum, "dataPoints") {
                    let a = with_resource(attrs(dp.get("attributes")), &res);
                    let session = s_of(&a, "session.id").unwrap_or_default();
                    t.see(&session);
                    let v = dp
                        .get("asDouble")
                        .and_then(Value::as_f64)
                        .or_else(|| any(&serde_json::json!({"intValue": dp.get("asInt")})).as_f64())
                        .unwrap_or(0.0);
                    let ty = s_of(&a, "type").unwrap_or_default();
                    let model = s_of(&a, "model").unwrap_or_default();
                    if delta {
                        add_metric(t, name, &session, &model, &ty, v);
                    } else {
                        // one series per attribute set and start time
                        let key = format!(
                            "{}|{}",
                            serde_json::to_string(&a).unwrap_or_default(),
                            dp.get("startTimeUnixNano")
                                .map(Value::to_string)
                                .unwrap_or_default()
                        );
                        cumulative.insert((name.to_string(), session, model, ty, key), v);
                    }
                }
            }
        }
    }
}

fn read_spans(body: &Value, t: &mut Telemetry) {
    for rs in arr(body, "resourceSpans") {
        let res = resource(t, rs);
        for ss in arr(rs, "scopeSpans") {
            for s in arr(ss, "spans") {
                let name = s.get("name").and_then(Value::as_str).unwrap_or("");
                if !name.starts_with("claude_code.") {
                    continue;
                }
                let a = with_resource(attrs(s.get("attributes")), &res);
                if let Some(session) = s_of(&a, "session.id") {
                    t.see(&session);
                }
                let events = arr(s, "events")
                    .iter()
                    .map(|e| {
                        (
                            e.get("name")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                            attrs(e.get("attributes")),
                        )
                    })
                    .collect();
                t.spans.push(Span {
                    span_id: s.get("spanId").and_then(Value::as_str).unwrap_or("").into(),
                    parent: s
                        .get("parentSpanId")
                        .and_then(Value::as_str)
                        .filter(|p| !p.is_empty())
                        .map(str::to_string),
                    name: name.to_string(),
                    start_ns: nanos_of(s, "startTimeUnixNano"),
                    end_ns: nanos_of(s, "endTimeUnixNano"),
                    attrs: a,
                    events,
                });
            }
        }
    }
}

/// Spans add what the logs lack: model calls without an `api_request` event, tool
/// calls and their timing and output, and which spawn started each sub-agent (a
/// sub-agent's `llm_request` spans sit under its spawn's `tool.execution` span).
fn finish_spans(t: &mut Telemetry) {
    let by_id: BTreeMap<&str, &Span> = t.spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let known: BTreeSet<(String, String)> = t
        .api_requests
        .iter()
        .map(|r| (r.session_id.clone(), r.request_id.clone()))
        .collect();
    let mut new_reqs = Vec::new();
    let mut spawns = BTreeMap::new();
    let mut tools: Vec<(String, ToolEvent)> = Vec::new();
    for s in &t.spans {
        let a = &s.attrs;
        let session = s_of(a, "session.id").unwrap_or_default();
        let tool_use_id = s_of(a, "tool_use_id").or_else(|| s_of(a, "gen_ai.tool.call.id"));
        match s.name.as_str() {
            "claude_code.llm_request" => {
                let agent_id = s_of(a, "agent_id");
                // the spawning call: the nearest ancestor with a tool_use_id
                if let Some(aid) = &agent_id {
                    let mut p = s.parent.as_deref();
                    for _ in 0..64 {
                        let Some(ps) = p.and_then(|p| by_id.get(p)) else {
                            break;
                        };
                        if let Some(tid) = s_of(&ps.attrs, "tool_use_id")
                            && s_of(&ps.attrs, "agent_id").as_ref() != Some(aid)
                        {
                            spawns.entry(aid.clone()).or_insert(tid);
                            break;
                        }
                        p = ps.parent.as_deref();
                    }
                }
                let Some(rid) = s_of(a, "request_id") else {
                    continue;
                };
                if known.contains(&(session.clone(), rid.clone())) {
                    continue;
                }
                let q = s_of(a, "query_source")
                    .or_else(|| s_of(a, "query_source_safe").map(|q| q.replace('.', ":")));
                new_reqs.push(ApiRequest {
                    session_id: session,
                    request_id: rid,
                    model: s_of(a, "model").or_else(|| s_of(a, "gen_ai.request.model")),
                    input_tokens: u_of(a, "input_tokens").unwrap_or(0),
                    output_tokens: u_of(a, "output_tokens").unwrap_or(0),
                    cache_read_tokens: u_of(a, "cache_read_tokens").unwrap_or(0),
                    cache_creation_tokens: u_of(a, "cache_creation_tokens").unwrap_or(0),
                    cache_creation_1h_tokens: u_of(a, "cache_creation_1h_tokens").unwrap_or(0),
                    cost: cost_of(a),
                    duration_ms: u_of(a, "duration_ms"),
                    ttft_ms: u_of(a, "ttft_ms"),
                    query_source: q,
                    agent_id,
                    agent_name: s_of(a, "agent.name"),
                    time_ns: s.start_ns,
                    seq: None,
                    response: None,
                    from_span: true,
                });
            }
            "claude_code.tool" => {
                let Some(id) = tool_use_id else { continue };
                let output = s
                    .events
                    .iter()
                    .filter(|(n, _)| n == "tool.output")
                    .flat_map(|(_, ea)| ea.values())
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect::<Vec<_>>();
                // the decision sits on a child span (tool.blocked_on_user)
                let child = |kind: &str| {
                    t.spans
                        .iter()
                        .find(|c| c.parent.as_deref() == Some(s.span_id.as_str()) && c.name == kind)
                };
                let blocked = child("claude_code.tool.blocked_on_user");
                let exec = child("claude_code.tool.execution");
                tools.push((
                    id,
                    ToolEvent {
                        session_id: session,
                        tool_name: s_of(a, "tool_name").or_else(|| s_of(a, "gen_ai.tool.name")),
                        decision: blocked.and_then(|b| s_of(&b.attrs, "decision")),
                        decision_source: blocked.and_then(|b| s_of(&b.attrs, "source")),
                        success: exec.and_then(|e| b_of(&e.attrs, "success")),
                        duration_ms: exec.and_then(|e| u_of(&e.attrs, "duration_ms")),
                        agent_id: s_of(a, "agent_id"),
                        start_ns: s.start_ns,
                        end_ns: s.end_ns,
                        output: (!output.is_empty()).then(|| output.join("\n")),
                        ..ToolEvent::default()
                    },
                ));
            }
            _ => {}
        }
    }
    t.api_requests.extend(new_reqs);
    for (aid, tid) in spawns {
        t.agent_spawns.entry(aid).or_insert(tid);
    }
    for (id, ev) in tools {
        let e = t.tools.entry(id).or_default();
        if e.session_id.is_empty() {
            e.session_id = ev.session_id;
        }
        e.tool_name = e.tool_name.take().or(ev.tool_name);
        e.decision = e.decision.take().or(ev.decision);
        e.decision_source = e.decision_source.take().or(ev.decision_source);
        e.success = e.success.or(ev.success);
        e.duration_ms = e.duration_ms.or(ev.duration_ms);
        e.agent_id = e.agent_id.take().or(ev.agent_id);
        // span times are the call's own; event times are when they were logged
        e.start_ns = ev.start_ns.or(e.start_ns);
        e.end_ns = ev.end_ns.or(e.end_ns);
        e.output = e.output.take().or(ev.output);
    }
}
