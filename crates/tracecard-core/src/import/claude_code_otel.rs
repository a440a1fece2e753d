//! Claude Code's own OpenTelemetry export, joined with its transcript.
//!
//! Claude Code (`CLAUDE_CODE_ENABLE_TELEMETRY=1`) exports OTLP **logs** (events
//! `claude_code.api_request`, `claude_code.tool_decision`, `claude_code.tool_result`,
//! ...) and **metrics** (`claude_code.cost.usage`, `claude_code.token.usage`). This
//! module reads OTLP/JSON export bodies (one body per file, or one per line) and
//! joins them into a Claude Code transcript's [`Trace`] (see
//! `docs/formats/claude_code_otel.md`):
//! - each model call (`request_id` attribute, from the transcript's `requestId`) gets
//!   Claude Code's own `cost_usd` as `reported_cost_usd`, plus `duration_ms`,
//!   `ttft_ms`, `query_source` and `agent_id` as attributes; a larger final
//!   `output_tokens` replaces the transcript's streaming snapshot;
//! - each tool call (`tool_use_id`) gets its permission decision and source, and
//!   `denied` status when the decision was `reject`;
//! - the session's `claude_code.cost.usage` sum (else the sum of its `api_request`
//!   costs) is the trace's reported cost.
//!
//! The transcript importer calls [`join`] with the files under
//! `<session>/otel/` (next to `<session>/subagents/`); [`read`] + [`join`] serve
//! telemetry kept elsewhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::model::{StepKind, StepStatus, Trace, Warning, WarningCode};
use crate::money::Usd;
use crate::{Error, Result};

/// One `claude_code.api_request` event.
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
    /// Claude Code's own cost of the request.
    pub cost_usd: Option<f64>,
    /// `duration_ms`.
    pub duration_ms: Option<u64>,
    /// `ttft_ms`.
    pub ttft_ms: Option<u64>,
    /// `query_source` (`sdk`/`main`, `agent:builtin:<type>`, `subagent`, ...).
    pub query_source: Option<String>,
    /// `agent_id` (sub-agent requests only).
    pub agent_id: Option<String>,
}

/// What telemetry says about one tool call (`tool_decision` + `tool_result`).
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
}

/// Claude Code telemetry read from OTLP/JSON export bodies.
#[derive(Debug, Clone, Default)]
pub struct Telemetry {
    /// Every `claude_code.api_request`, in file order.
    pub api_requests: Vec<ApiRequest>,
    /// Tool events by `tool_use_id`.
    pub tools: BTreeMap<String, ToolEvent>,
    /// Sum of the `claude_code.cost.usage` metric (delta or cumulative, see
    /// [`Telemetry::session_cost_usd`]) per `session.id`.
    pub metric_cost: BTreeMap<String, Usd>,
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
            .filter_map(|r| r.cost_usd.and_then(Usd::from_f64))
            .collect();
        (!costs.is_empty()).then(|| costs.iter().copied().sum())
    }

    /// True when nothing was read.
    pub fn is_empty(&self) -> bool {
        self.api_requests.is_empty() && self.tools.is_empty() && self.metric_cost.is_empty()
    }
}

/// Read OTLP/JSON export bodies (logs and metrics; trace bodies are accepted and
/// skipped) from files: one JSON body per file, or one per line.
pub fn read(paths: &[PathBuf]) -> Result<Telemetry> {
    read_texts(paths.iter().map(|p| {
        std::fs::read_to_string(p)
            .map(|text| (p.clone(), text))
            .map_err(|e| Error::io(p, e))
    }))
}

/// [`read`] from in-memory files (`<session>/otel/` companions handed to the
/// importer by an engine job, see [`crate::import::group_inputs`]).
pub(crate) fn read_inputs(inputs: &[&crate::import::Input]) -> Result<Telemetry> {
    read_texts(
        inputs
            .iter()
            .map(|i| i.text().map(|t| (i.path.clone(), t.to_owned()))),
    )
}

fn read_texts(files: impl Iterator<Item = Result<(PathBuf, String)>>) -> Result<Telemetry> {
    let mut t = Telemetry::default();
    // cumulative metric points: keep the last value per (session, attributes, start)
    let mut cumulative: BTreeMap<(String, String), Usd> = BTreeMap::new();
    for f in files {
        let (p, text) = f?;
        let p = &p;
        let bodies: Vec<Value> = match serde_json::from_str::<Value>(&text) {
            Ok(v) => vec![v],
            Err(_) => {
                let mut out = Vec::new();
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let v = serde_json::from_str(line).map_err(|e| {
                        Error::parse(p, Some(i as u64 + 1), None, format!("not OTLP/JSON: {e}"))
                    })?;
                    out.push(v);
                }
                out
            }
        };
        for b in &bodies {
            read_logs(b, &mut t);
            read_metrics(b, &mut t, &mut cumulative);
        }
        t.files.push(p.clone());
    }
    for ((session, _), v) in cumulative {
        let e = t.metric_cost.entry(session).or_insert(Usd::ZERO);
        *e += v;
    }
    Ok(t)
}

/// OTLP/JSON files in `dir` (`*.json`, `*.jsonl`), sorted; empty when absent.
pub(crate) fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json" || x == "jsonl"))
        .collect();
    out.sort();
    out
}

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
    let mut used: std::collections::BTreeSet<&str> = Default::default();
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
                if let Some(c) = r.cost_usd {
                    s.reported_cost_usd = Usd::from_f64(c);
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
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn f_of(a: &BTreeMap<String, Value>, k: &str) -> Option<f64> {
    match a.get(k)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
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

fn read_logs(body: &Value, t: &mut Telemetry) {
    for rl in arr(body, "resourceLogs") {
        let res = attrs(rl.get("resource").and_then(|r| r.get("attributes")));
        for sl in arr(rl, "scopeLogs") {
            for rec in arr(sl, "logRecords") {
                let mut a = attrs(rec.get("attributes"));
                for (k, v) in &res {
                    a.entry(k.clone()).or_insert_with(|| v.clone());
                }
                let session = s_of(&a, "session.id").unwrap_or_default();
                match event_name(rec, &a).as_deref() {
                    Some("api_request") => {
                        let Some(request_id) = s_of(&a, "request_id") else {
                            continue;
                        };
                        let cost = f_of(&a, "cost_usd_micros")
                            .map(|m| m / 1e6)
                            .or_else(|| f_of(&a, "cost_usd"));
                        t.api_requests.push(ApiRequest {
                            session_id: session,
                            request_id,
                            model: s_of(&a, "model"),
                            input_tokens: u_of(&a, "input_tokens").unwrap_or(0),
                            output_tokens: u_of(&a, "output_tokens").unwrap_or(0),
                            cache_read_tokens: u_of(&a, "cache_read_tokens").unwrap_or(0),
                            cache_creation_tokens: u_of(&a, "cache_creation_tokens").unwrap_or(0),
                            cost_usd: cost,
                            duration_ms: u_of(&a, "duration_ms"),
                            ttft_ms: u_of(&a, "ttft_ms"),
                            query_source: s_of(&a, "query_source"),
                            agent_id: s_of(&a, "agent_id"),
                        });
                    }
                    Some(ev @ ("tool_decision" | "tool_result")) => {
                        let Some(id) = s_of(&a, "tool_use_id") else {
                            continue;
                        };
                        let e = t.tools.entry(id).or_default();
                        e.session_id = session;
                        e.tool_name = s_of(&a, "tool_name").or(e.tool_name.take());
                        if ev == "tool_decision" {
                            e.decision = s_of(&a, "decision");
                            e.decision_source = s_of(&a, "source");
                        } else {
                            e.success = s_of(&a, "success").map(|s| s == "true");
                            e.duration_ms = u_of(&a, "duration_ms");
                            e.error_type = s_of(&a, "error_type");
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

fn read_metrics(body: &Value, t: &mut Telemetry, cumulative: &mut BTreeMap<(String, String), Usd>) {
    for rm in arr(body, "resourceMetrics") {
        let res = attrs(rm.get("resource").and_then(|r| r.get("attributes")));
        for sm in arr(rm, "scopeMetrics") {
            for m in arr(sm, "metrics") {
                if m.get("name").and_then(Value::as_str) != Some("claude_code.cost.usage") {
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
                    let mut a = attrs(dp.get("attributes"));
                    for (k, v) in &res {
                        a.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    let session = s_of(&a, "session.id").unwrap_or_default();
                    let v = dp
                        .get("asDouble")
                        .and_then(Value::as_f64)
                        .or_else(|| any(dp.get("asInt").unwrap_or(&Value::Null)).as_f64())
                        .and_then(Usd::from_f64)
                        .unwrap_or(Usd::ZERO);
                    if delta {
                        let e = t.metric_cost.entry(session).or_insert(Usd::ZERO);
                        *e += v;
                    } else {
                        let key = format!(
                            "{}|{}",
                            serde_json::to_string(&a).unwrap_or_default(),
                            dp.get("startTimeUnixNano")
                                .map(Value::to_string)
                                .unwrap_or_default()
                        );
                        cumulative.insert((session, key), v);
                    }
                }
            }
        }
    }
}
