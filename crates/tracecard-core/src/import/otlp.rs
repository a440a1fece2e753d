//! OTLP/JSON traces (`ExportTraceServiceRequest`, one object or JSONL of them as the
//! collector `file` exporter writes), plus the OpenTelemetry JS SDK `ReadableSpan`
//! JSON array shape. One [`Trace`] per `traceId`. Attribute mapping: [`super::genai`].
//! See `docs/formats/otlp.md`.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::Input;
use super::genai::{self, Attrs, BuildInfo, MAX_DEPTH, SpanRec};
use super::json::At;
use crate::model::Trace;
use crate::{Error, Result};

const SEMANTICS: &str = "OTel GenAI / OpenInference / AI SDK: input tokens include cache reads and writes (gen_ai.usage.input_tokens, llm.token_count.prompt, ai.usage.inputTokens), output includes reasoning; counted on leaf LLM-call spans only";

/// Does this look like OTLP/JSON (or a ReadableSpan array)?
pub(crate) fn sniff(path: &Path, head: &str) -> bool {
    let name = path
        .file_name()
        .map(|f| f.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.ends_with(".waste.json") {
        return false;
    }
    let t = head.trim_start();
    if t.starts_with('{') && head.contains("\"resourceSpans\"") {
        return true;
    }
    t.starts_with('[') && head.contains("\"spanContext\"") && head.contains("\"attributes\"")
}

/// Import every trace in the file.
pub(crate) fn import(input: &Input) -> Result<Vec<Trace>> {
    let text = input.text()?;
    let path = input.path.as_path();
    let mut spans: Vec<(String, SpanRec)> = Vec::new();
    let mut warnings = Vec::new();
    let mut resource: Vec<(String, String)> = Vec::new();
    match serde_json::from_str::<Value>(text) {
        Ok(v) => match &v {
            Value::Object(_) => {
                request(&At::new(path, None), &v, &mut spans, &mut resource)?;
            }
            Value::Array(items) => {
                for (i, s) in items.iter().enumerate() {
                    spans.push(readable_span(&At::new(path, None), i, s)?);
                }
            }
            _ => {
                return Err(Error::parse(
                    path,
                    None,
                    None,
                    "expected an OTLP ExportTraceServiceRequest object or a span array",
                ));
            }
        },
        Err(whole) => {
            // JSONL of requests (collector file exporter)
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if text.lines().filter(|l| !l.trim().is_empty()).count() < 2
                || serde_json::from_str::<Value>(first).is_err()
            {
                return Err(Error::from_json(path, None, whole));
            }
            let lines = super::jsonl(path, text)?;
            warnings.extend(lines.warnings);
            for (line, v) in &lines.lines {
                let at = At::new(path, Some(*line));
                if !v.is_object() {
                    return Err(at.err("", "expected an ExportTraceServiceRequest object"));
                }
                let before = spans.len();
                request(&at, v, &mut spans, &mut resource)?;
                for (_, s) in spans.iter_mut().skip(before) {
                    s.line = Some(*line);
                }
            }
        }
    }
    if spans.is_empty() {
        return Err(Error::parse(
            path,
            None,
            Some("resourceSpans"),
            "no spans in the file",
        ));
    }
    // group by trace id, in first-seen order
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<SpanRec>> = HashMap::new();
    for (tid, s) in spans {
        if !groups.contains_key(&tid) {
            order.push(tid.clone());
        }
        groups.entry(tid).or_default().push(s);
    }
    let file = path.display().to_string();
    let mut out = Vec::new();
    for tid in order {
        let group = groups.remove(&tid).unwrap_or_default();
        let session = genai::session_of(&group, &tid);
        let mut t = genai::build_trace(
            BuildInfo {
                format: "otlp",
                file: file.clone(),
                session_id: session,
                token_semantics: SEMANTICS,
            },
            group,
        );
        t.metadata.insert("trace_id".into(), tid.clone());
        for (k, v) in &resource {
            t.metadata.entry(k.clone()).or_insert_with(|| v.clone());
        }
        t.warnings.extend(warnings.iter().cloned());
        out.push(t);
    }
    Ok(out)
}

/// One `ExportTraceServiceRequest`.
fn request(
    at: &At<'_>,
    v: &Value,
    spans: &mut Vec<(String, SpanRec)>,
    resource: &mut Vec<(String, String)>,
) -> Result<()> {
    if v.get("resourceSpans").is_none() {
        return Err(at.err(
            "resourceSpans",
            "missing: not an OTLP ExportTraceServiceRequest",
        ));
    }
    for rs in at.arr(v, "resourceSpans")? {
        if let Some(r) = at.obj(rs, "resource")? {
            let attrs = attributes(at, &Value::Object(r.clone()))?;
            for key in ["service.name", "service.version"] {
                if let Some(s) = genai::attr_str(&attrs, &[key])
                    && !resource.iter().any(|(k, _)| k == key)
                {
                    resource.push((key.to_string(), s));
                }
            }
        }
        let scopes = match rs.get("scopeSpans") {
            Some(_) => at.arr(rs, "scopeSpans")?,
            None => at.arr(rs, "instrumentationLibrarySpans")?,
        };
        for ss in scopes {
            for s in at.arr(ss, "spans")? {
                spans.push(span(at, s)?);
            }
        }
    }
    Ok(())
}

fn nanos(at: &At<'_>, v: &Value, field: &str) -> Result<Option<i128>> {
    Ok(at.u64(v, field)?.map(i128::from))
}

/// One OTLP span.
fn span(at: &At<'_>, s: &Value) -> Result<(String, SpanRec)> {
    if !s.is_object() {
        return Err(at.err("spans", "expected a span object"));
    }
    let trace_id = at.req_str(s, "traceId")?.to_string();
    let id = at.req_str(s, "spanId")?.to_string();
    let name = at.str(s, "name")?.unwrap_or("").to_string();
    let attrs = attributes(at, s)?;
    let class = genai::classify(&name, &attrs);
    let mut rec = SpanRec::new(id, name, attrs, class);
    rec.parent = at
        .str(s, "parentSpanId")?
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    rec.start_ns = nanos(at, s, "startTimeUnixNano")?;
    rec.end_ns = nanos(at, s, "endTimeUnixNano")?;
    rec.error = status_error(at, s)?;
    Ok((trace_id, rec))
}

/// `Some(message)` for status code 2 / `STATUS_CODE_ERROR` (message from the
/// status, else an `exception` event).
fn status_error(at: &At<'_>, s: &Value) -> Result<Option<String>> {
    let Some(st) = at.obj(s, "status")? else {
        return Ok(None);
    };
    let code = match st.get("code") {
        Some(Value::Number(n)) => n.as_u64() == Some(2),
        Some(Value::String(c)) => c == "STATUS_CODE_ERROR" || c == "2",
        _ => false,
    };
    if !code {
        return Ok(None);
    }
    let mut msg = st
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    if msg.is_none() {
        for e in at.arr(s, "events")? {
            if e.get("name").and_then(Value::as_str) == Some("exception") {
                let ea = attributes(at, e)?;
                msg = genai::attr_str(&ea, &["exception.message", "exception.type"]);
                break;
            }
        }
    }
    Ok(Some(msg.unwrap_or_else(|| "span status ERROR".into())))
}

/// The `attributes` list of `v` as a flat map.
fn attributes(at: &At<'_>, v: &Value) -> Result<Attrs> {
    let mut out = Attrs::new();
    for kv in at.arr(v, "attributes")? {
        let Some(key) = kv.get("key").and_then(Value::as_str) else {
            return Err(at.err("attributes", "attribute without a string `key`"));
        };
        let val = kv
            .get("value")
            .map(|x| any_value(x, 0))
            .unwrap_or(Value::Null);
        out.insert(key.to_string(), val);
    }
    Ok(out)
}

/// An OTLP `AnyValue` as plain JSON (`intValue` strings stay strings; the lookup
/// helpers read both).
fn any_value(v: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    let Some(o) = v.as_object() else {
        return v.clone();
    };
    if let Some(x) = o.get("stringValue") {
        return x.clone();
    }
    if let Some(x) = o.get("intValue") {
        return x.clone();
    }
    if let Some(x) = o.get("doubleValue") {
        return x.clone();
    }
    if let Some(x) = o.get("boolValue") {
        return x.clone();
    }
    if let Some(x) = o.get("bytesValue") {
        return x.clone();
    }
    if let Some(a) = o.get("arrayValue") {
        let vals = a.get("values").and_then(Value::as_array);
        return Value::Array(
            vals.map(|vs| vs.iter().map(|x| any_value(x, depth + 1)).collect())
                .unwrap_or_default(),
        );
    }
    if let Some(kv) = o.get("kvlistValue") {
        let mut m = serde_json::Map::new();
        for e in kv
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(k) = e.get("key").and_then(Value::as_str) {
                let val = e
                    .get("value")
                    .map(|x| any_value(x, depth + 1))
                    .unwrap_or(Value::Null);
                m.insert(k.to_string(), val);
            }
        }
        return Value::Object(m);
    }
    Value::Null
}

/// One OpenTelemetry JS `ReadableSpan` as JSON (`spanContext`, flat `attributes`,
/// `[seconds, nanos]` times, `parentSpanId` or `parentSpanContext`).
fn readable_span(at: &At<'_>, i: usize, s: &Value) -> Result<(String, SpanRec)> {
    if !s.is_object() {
        return Err(at.err(&format!("[{i}]"), "expected a span object"));
    }
    let ctx = at
        .obj(s, "spanContext")?
        .ok_or_else(|| at.err("spanContext", "missing: not a ReadableSpan"))?;
    let ctx = Value::Object(ctx.clone());
    let trace_id = at.req_str(&ctx, "traceId")?.to_string();
    let id = at.req_str(&ctx, "spanId")?.to_string();
    let name = at.str(s, "name")?.unwrap_or("").to_string();
    let mut attrs = Attrs::new();
    if let Some(m) = at.obj(s, "attributes")? {
        for (k, v) in m {
            attrs.insert(k.clone(), v.clone());
        }
    }
    let class = genai::classify(&name, &attrs);
    let mut rec = SpanRec::new(id, name, attrs, class);
    rec.parent = match at.str(s, "parentSpanId")? {
        Some(p) => Some(p.to_string()),
        None => at
            .obj(s, "parentSpanContext")?
            .and_then(|c| c.get("spanId"))
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    rec.start_ns = hr_time(s.get("startTime"));
    rec.end_ns = hr_time(s.get("endTime"));
    rec.error = status_error(at, s)?;
    Ok((trace_id, rec))
}

/// OpenTelemetry JS `HrTime` (`[seconds, nanos]`).
fn hr_time(v: Option<&Value>) -> Option<i128> {
    let a = v?.as_array()?;
    let s = a.first()?.as_i64()?;
    let n = a.get(1)?.as_i64()?;
    Some(i128::from(s) * 1_000_000_000 + i128::from(n))
}
