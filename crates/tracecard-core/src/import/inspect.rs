//! Inspect AI eval logs: `.json` and the `.eval` ZIP container. One trace per sample
//! × epoch. See `docs/formats/inspect.md`.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use super::Input;
use super::json::{At, parse_time, text_of};
use crate::model::{
    Content, OracleEvidence, OutcomeStatus, Step, StepId, StepKind, StepStatus, TokenUsage, Trace,
    Warning,
};
use crate::money::Usd;
use crate::{Error, Result};

/// Largest decompressed ZIP entry we read (a sample JSON).
const MAX_ENTRY: u64 = 256 * 1024 * 1024;
/// Largest total decompressed size of one `.eval`.
const MAX_TOTAL: u64 = 2 * 1024 * 1024 * 1024;
/// Deepest nesting of tool events (sub-agents) we follow.
const MAX_DEPTH: usize = 16;

/// A `.eval` ZIP, or a JSON log with `eval` and `version` near the top.
pub(crate) fn sniff(path: &Path, head: &str) -> bool {
    if head.starts_with("PK\u{3}\u{4}") {
        return path.extension().is_some_and(|e| e == "eval") || head.contains("header.json");
    }
    let t = head.trim_start();
    let w = &t[..floor(t, 4096)];
    t.starts_with('{')
        && w.contains("\"eval\"")
        && w.contains("\"version\"")
        && (w.contains("\"status\"") || w.contains("\"plan\""))
}

use super::floor_char_boundary as floor;

/// Import a log.
pub(crate) fn import(input: &Input) -> Result<Vec<Trace>> {
    let path = input.path.as_path();
    if input.bytes.starts_with(b"PK\x03\x04") {
        return import_eval_zip(input);
    }
    let log = super::chat_log::parse_json(input)?;
    let at = At::new(path, None);
    if !log.is_object() {
        return Err(at.err("", "expected an Inspect log object"));
    }
    let samples = at.arr(&log, "samples")?;
    // a sample is one (id, epoch): a second copy is counted once
    let (samples, dups) = super::dedup_list(
        &path.display().to_string(),
        "samples",
        samples,
        |s| {
            let id = super::id_of(s, "id")?;
            Some(format!(
                "{id}/{}",
                s.get("epoch").map(text_of).unwrap_or_default()
            ))
        },
        |_| None,
    );
    let mut out = Vec::new();
    for (i, s) in samples {
        out.push(sample_trace(input, &at, &log, s, &format!("samples[{i}]"))?);
    }
    let mut out = or_empty(input, out, "the log holds no samples (header-only log)");
    if let Some(t) = out.first_mut() {
        t.warnings.extend(dups);
    }
    Ok(out)
}

/// What a ZIP error means, in words: the zip crate's own texts name its internal
/// records (`EOCD`, `CDFH`, extra-field types), which tell a user nothing.
fn zip_text(e: &zip::result::ZipError) -> String {
    use zip::result::ZipError as Z;
    match e {
        Z::UnsupportedArchive(m) if *m == Z::PASSWORD_REQUIRED => {
            "the entry is encrypted (password-protected); tracecard cannot read encrypted archives: write the log without encryption".into()
        }
        Z::InvalidPassword => "the entry is encrypted (password-protected); tracecard cannot read encrypted archives".into(),
        Z::FileNotFound => "missing from the .eval archive".into(),
        Z::CompressionMethodNotSupported(m) => {
            format!("compressed with a method tracecard does not support (ZIP method {m}; Inspect writes deflate)")
        }
        Z::UnsupportedArchive(_) => "uses a ZIP feature tracecard does not support (multi-disk or similar)".into(),
        Z::Io(io) => match io.get_ref().and_then(|i| i.downcast_ref::<zip::result::ZipError>()) {
            Some(inner) => zip_text(inner),
            None if io.kind() == std::io::ErrorKind::UnexpectedEof => "the archive is cut short".into(),
            None => "the archive is damaged (a compressed entry does not decompress)".into(),
        },
        _ => "not a valid ZIP archive (damaged or cut short)".into(),
    }
}

/// [`zip_text`] for an I/O error met while decompressing an entry.
fn unzip_io_text(e: &std::io::Error) -> String {
    match e
        .get_ref()
        .and_then(|i| i.downcast_ref::<zip::result::ZipError>())
    {
        Some(z) => zip_text(z),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => "the entry is cut short".into(),
        None => "the entry is damaged (its compressed data or checksum is wrong)".into(),
    }
}

fn read_entry<R: Read>(path: &Path, name: &str, r: R, total: &mut u64) -> Result<Value> {
    let mut buf = Vec::new();
    let n = r.take(MAX_ENTRY + 1).read_to_end(&mut buf).map_err(|e| {
        Error::parse(
            path,
            None,
            Some(name),
            format!("cannot decompress: {}", unzip_io_text(&e)),
        )
    })? as u64;
    if n > MAX_ENTRY {
        return Err(Error::parse(
            path,
            None,
            Some(name),
            format!("entry larger than {MAX_ENTRY} bytes decompressed; refusing"),
        ));
    }
    *total += n;
    if *total > MAX_TOTAL {
        return Err(Error::parse(
            path,
            None,
            Some(name),
            format!("archive larger than {MAX_TOTAL} bytes decompressed; refusing"),
        ));
    }
    super::check_json_budget(path, None, Some(name), &buf)?;
    let text = std::str::from_utf8(&buf)
        .map_err(|e| Error::parse(path, None, Some(name), format!("invalid UTF-8: {e}")))?;
    serde_json::from_str(text).map_err(|e| {
        // the line is the entry's, not the archive file's: said in the message
        Error::parse(
            path,
            None,
            Some(name),
            format!(
                "{} (line {} column {} of the entry)",
                crate::error::json_message(&e),
                e.line(),
                e.column()
            ),
        )
    })
}

fn import_eval_zip(input: &Input) -> Result<Vec<Trace>> {
    let path = input.path.as_path();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&input.bytes[..])).map_err(|e| {
        Error::parse(
            path,
            None,
            None,
            format!("not a valid .eval archive: {}", zip_text(&e)),
        )
    })?;
    let mut total = 0u64;
    let header = match zip.by_name("header.json") {
        Ok(f) => read_entry(path, "header.json", f, &mut total)?,
        Err(e) => {
            return Err(Error::parse(path, None, Some("header.json"), zip_text(&e)));
        }
    };
    let (mut names, odd): (Vec<String>, Vec<String>) = zip
        .file_names()
        .filter_map(|r| r.ok().map(|c| c.into_owned()))
        .filter(|n| n.starts_with("samples/") && n.ends_with(".json"))
        .partition(|n| {
            // samples/<name>.json only: no `..`, no deeper folders, no backslashes
            let rest = &n["samples/".len()..];
            !rest.contains(['/', '\\']) && !n.contains("..")
        });
    names.sort_by_key(|n| {
        // samples/<id>_epoch_<n>.json in natural order
        let stem = n
            .trim_start_matches("samples/")
            .trim_end_matches(".json")
            .to_string();
        let (id, ep) = stem.rsplit_once("_epoch_").unwrap_or((&stem, "0"));
        (
            id.parse::<u64>().unwrap_or(u64::MAX),
            id.to_string(),
            ep.parse::<u64>().unwrap_or(0),
        )
    });
    let mut out = Vec::new();
    for name in &names {
        let name: &str = name;
        let f = zip
            .by_name(name)
            .map_err(|e| Error::parse(path, None, Some(name), zip_text(&e)))?;
        let s = read_entry(path, name, f, &mut total)?;
        let at = At::new(path, None);
        out.push(sample_trace(input, &at, &header, &s, name)?);
    }
    let mut out = or_empty(input, out, "the archive holds no samples");
    if !odd.is_empty() {
        for t in &mut out {
            t.warn(Warning::at(
                crate::model::WarningCode::SuspiciousEntry,
                format!(
                    "{} archive entr{} with `..` or nested folders skipped: {}",
                    odd.len(),
                    if odd.len() == 1 { "y" } else { "ies" },
                    odd.join(", ")
                ),
                path.display().to_string(),
                None,
            ));
        }
    }
    Ok(out)
}

/// `traces`, or one empty trace saying why when there are none (nothing is dropped
/// silently: the card then shows the warning).
fn or_empty(input: &Input, mut traces: Vec<Trace>, why: &str) -> Vec<Trace> {
    if traces.is_empty() {
        let mut t = Trace::new(input.stem(), "inspect");
        t.warn(Warning::at(
            crate::model::WarningCode::NoSamples,
            why,
            input.path.display().to_string(),
            None,
        ));
        traces.push(t);
    }
    traces
}

/// How a usage record counts input tokens.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sem {
    Inclusive,
    Exclusive,
}

struct Ctx<'a> {
    at: &'a At<'a>,
    file: String,
    field: String,
    trace: Trace,
    /// tool call id → tool step
    by_call: HashMap<String, StepId>,
    delivered: HashSet<StepId>,
    /// span id → span type (`solver`, `scorer`, `agent`, …)
    span_type: HashMap<String, String>,
    sems: HashSet<&'static str>,
    guessed: bool,
    pending_user: Vec<StepId>,
    last_root_llm_text: Option<StepId>,
}

fn usage(ctx: &mut Ctx, u: &Value, model: &str, f: &str) -> Result<(TokenUsage, Option<Usd>)> {
    let at = ctx.at;
    let g = |k: &str| -> Result<u64> {
        at.tokens(u, k)
            .map_err(|_| at.err(&format!("{f}.{k}"), "expected a non-negative integer"))
            .map(|v| v.unwrap_or(0))
    };
    let (inp, out, total) = (g("input_tokens")?, g("output_tokens")?, g("total_tokens")?);
    let (cr, cw, rs) = (
        g("input_tokens_cache_read")?,
        g("input_tokens_cache_write")?,
        g("reasoning_tokens")?,
    );
    let sem = if cr + cw == 0 {
        None
    } else if total == inp + out + cr + cw {
        Some(Sem::Exclusive)
    } else if total == inp + out && cr + cw <= inp {
        Some(Sem::Inclusive)
    } else {
        ctx.guessed = true;
        Some(if model.starts_with("anthropic/") {
            Sem::Exclusive
        } else {
            Sem::Inclusive
        })
    };
    let mut t = match sem {
        Some(Sem::Inclusive) => {
            ctx.sems.insert(
                "inclusive (input_tokens includes cache read/write; total = input + output)",
            );
            TokenUsage::from_inclusive(inp, cr, cw, out, 0)
        }
        Some(Sem::Exclusive) => {
            ctx.sems.insert("exclusive (input_tokens excludes cache read/write; total = input + cache + output)");
            TokenUsage::from_exclusive(inp, cr, cw, 0, out)
        }
        None => TokenUsage::from_exclusive(inp, 0, 0, 0, out),
    };
    t.reasoning = rs;
    let cost = at
        .f64(u, "total_cost")
        .map_err(|_| at.err(&format!("{f}.total_cost"), "expected a number"))?
        .map(|c| at.usd(&format!("{f}.total_cost"), c))
        .transpose()?;
    Ok((t, cost))
}

/// Text of message content (a string or a list of content parts).
fn content_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| {
                p.get("text")
                    .or_else(|| p.get("reasoning"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| p.as_str().map(str::to_string))
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Some(other) => other.to_string(),
    }
}

fn split_model(m: &str) -> (Option<String>, String) {
    match m.split_once('/') {
        Some((p, rest)) if !rest.is_empty() => (Some(p.to_string()), m.to_string()),
        _ => (None, m.to_string()),
    }
}

fn process_events(
    ctx: &mut Ctx,
    events: &[Value],
    parent: Option<StepId>,
    depth: usize,
    path: &str,
) -> Result<Option<StepId>> {
    let at = ctx.at;
    let mut last_llm = None;
    // an event uuid names one event, and an event repeated with its timestamp is a
    // double write: counted once
    let (events, dups) = super::dedup_list(
        &ctx.file,
        &format!("{}.{path}", ctx.field),
        events,
        |e| super::id_of(e, "uuid"),
        |e| Some(e.get("timestamp").is_some()),
    );
    ctx.trace.warnings.extend(dups);
    for (i, e) in events {
        let f = format!("{}.{path}[{i}]", ctx.field);
        if !e.is_object() {
            return Err(at.err(&f, "expected an event object"));
        }
        let kind = at
            .str(e, "event")
            .map_err(|_| at.err(&format!("{f}.event"), "expected a string"))?
            .unwrap_or("");
        let ts = e
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(parse_time);
        let done = e
            .get("completed")
            .and_then(Value::as_str)
            .and_then(parse_time);
        match kind {
            "span_begin" => {
                if let (Some(id), Some(ty)) = (
                    e.get("id").and_then(Value::as_str),
                    e.get("type").and_then(Value::as_str),
                ) {
                    ctx.span_type.insert(id.to_string(), ty.to_string());
                }
            }
            "model" => {
                let model = at
                    .str(e, "model")
                    .map_err(|_| at.err(&format!("{f}.model"), "expected a string"))?
                    .unwrap_or("");
                let mut s = Step::new(StepKind::LlmCall);
                let (prov, m) = split_model(model);
                s.model = (!m.is_empty()).then_some(m);
                s.provider = prov;
                s.parent = parent;
                s.started_at = ts;
                s.ended_at = done;
                let span = e.get("span_id").and_then(Value::as_str).unwrap_or("");
                let scorer = ctx.span_type.get(span).is_some_and(|t| t == "scorer");
                if scorer {
                    s.agent = Some("scorer".into());
                }
                s.source_ref = Some(format!("{path}[{i}] model span {span}"));
                let empty = Value::Null;
                let output = e.get("output").filter(|o| o.is_object()).unwrap_or(&empty);
                if let Some(u) = output.get("usage").filter(|u| u.is_object()) {
                    let (t, c) = usage(ctx, u, model, &format!("{f}.output.usage"))?;
                    s.tokens = t;
                    s.reported_cost_usd = c;
                }
                let msg = output
                    .get("choices")
                    .and_then(|c| c.get(0))
                    .and_then(|c| c.get("message"));
                let mut out = Vec::new();
                let text = content_text(msg.and_then(|m| m.get("content")));
                if !text.is_empty() {
                    out.push(text.clone());
                }
                for tc in msg
                    .and_then(|m| m.get("tool_calls"))
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    let name = tc.get("function").map(text_of).unwrap_or_default();
                    let args = tc.get("arguments").map(text_of).unwrap_or_default();
                    out.push(format!("{name}({args})"));
                    if let Some(id) = tc.get("id").and_then(Value::as_str) {
                        s.links.requests.push(id.to_string());
                    }
                }
                if s.links.requests.len() == 1 {
                    s.links.tool_call_id = s.links.requests.first().cloned();
                }
                s.output = Some(Content::full(out.join("\n")));
                if let Some(err) = e.get("error").filter(|x| !x.is_null()) {
                    s.status = StepStatus::Error;
                    s.error = Some(text_of(err));
                }
                // Delivered: tool results in this call's input, matched by tool_call_id.
                for m in e
                    .get("input")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    if let Some(id) = m.get("tool_call_id").and_then(Value::as_str)
                        && let Some(t) = ctx.by_call.get(id).copied()
                        && ctx.delivered.insert(t)
                    {
                        s.links.context.push(t);
                    }
                }
                if parent.is_none() && !scorer {
                    s.links
                        .context
                        .splice(0..0, std::mem::take(&mut ctx.pending_user));
                }
                let id = ctx.trace.push(s);
                if !scorer {
                    last_llm = Some(id);
                    if parent.is_none() && !text.is_empty() {
                        ctx.last_root_llm_text = Some(id);
                    }
                }
            }
            "tool" => {
                let nested = at
                    .arr(e, "events")
                    .map_err(|_| at.err(&format!("{f}.events"), "expected an array"))?;
                let has_model = nested
                    .iter()
                    .any(|n| n.get("event").and_then(Value::as_str) == Some("model"));
                let mut s = Step::new(if has_model {
                    StepKind::SubagentSpawn
                } else {
                    StepKind::ToolUse
                });
                let id = at
                    .str(e, "id")
                    .map_err(|_| at.err(&format!("{f}.id"), "expected a string"))?;
                s.tool = Some(
                    e.get("function")
                        .map(text_of)
                        .unwrap_or_else(|| "tool".into()),
                );
                s.agent = e.get("agent").and_then(Value::as_str).map(str::to_string);
                s.parent = parent;
                s.started_at = ts;
                s.ended_at = done;
                let args = e.get("arguments").cloned().unwrap_or(Value::Null);
                s.input = Some(Content::full(text_of(&args)));
                let (r, w) = super::chat_log::tool_links(s.tool.as_deref().unwrap_or(""), &args);
                s.links.reads = r;
                s.links.writes = w;
                s.output = Some(Content::full(content_text(e.get("result"))));
                if let Some(err) = e.get("error").filter(|x| !x.is_null()) {
                    s.status = StepStatus::Error;
                    s.error = Some(
                        err.get("message")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .unwrap_or_else(|| text_of(err)),
                    );
                }
                if let Some(id) = id {
                    s.links.tool_call_id = Some(id.to_string());
                    s.source_ref = Some(id.to_string());
                    // the issuing call: the latest llm_call that requested it
                    if let Some(c) = ctx
                        .trace
                        .steps
                        .iter()
                        .rev()
                        .find(|x| x.links.requests.iter().any(|r| r == id))
                    {
                        s.links.consumes.push(c.id);
                    }
                } else {
                    s.source_ref = Some(format!("{path}[{i}]"));
                }
                let sid = ctx.trace.push(s);
                if let Some(id) = id {
                    ctx.by_call.insert(id.to_string(), sid);
                }
                if has_model {
                    if depth >= MAX_DEPTH {
                        let file = ctx.file.clone();
                        ctx.trace.warn(Warning::at(crate::model::WarningCode::TooDeep, format!("{f}: sub-agent nesting deeper than {MAX_DEPTH}; inner events skipped"), file, None));
                    } else {
                        let inner = process_events(
                            ctx,
                            nested,
                            Some(sid),
                            depth + 1,
                            &format!("{path}[{i}].events"),
                        )?;
                        if let (Some(l), Some(sp)) = (inner, ctx.trace.step_mut(sid)) {
                            sp.links.consumes.push(l);
                        }
                    }
                }
            }
            "span_end" | "sample_init" | "state" | "store" | "sandbox" | "score" | "subtask"
            | "info" | "logger" | "input" | "approval" | "error" | "step" | "sample_limit"
            | "score_edit" => {}
            other => {
                let file = ctx.file.clone();
                ctx.trace.warn(Warning::at(
                    crate::model::WarningCode::UnknownRecord,
                    format!("{f}: unknown event `{other}`; skipped"),
                    file,
                    None,
                ));
            }
        }
    }
    Ok(last_llm)
}

/// Steps from `messages` when a sample has no events (stripped logs).
fn from_messages(ctx: &mut Ctx, messages: &[Value], model: Option<&str>) -> Result<()> {
    let at = ctx.at;
    let (messages, dups) = super::dedup_list(
        &ctx.file,
        &format!("{}.messages", ctx.field),
        messages,
        super::message_id,
        |m| (m.get("role").and_then(Value::as_str) == Some("assistant")).then_some(false),
    );
    ctx.trace.warnings.extend(dups);
    let mut unknown_roles: Vec<String> = Vec::new();
    for (i, m) in messages {
        let f = format!("{}.messages[{i}]", ctx.field);
        if !m.is_object() {
            return Err(at.err(&f, "expected a message object"));
        }
        let role = at
            .str(m, "role")
            .map_err(|_| at.err(&format!("{f}.role"), "expected a string"))?
            .unwrap_or("");
        let text = content_text(m.get("content"));
        match role {
            "user" => {
                let mut s = Step::new(StepKind::UserInput);
                s.output = Some(Content::full(text));
                s.source_ref = Some(format!("messages[{i}]"));
                ctx.trace.push(s);
            }
            "assistant" => {
                let mut s = Step::new(StepKind::LlmCall);
                s.model = model.map(str::to_string);
                let mut out = vec![text];
                for tc in at.arr(m, "tool_calls")? {
                    out.push(format!(
                        "{}({})",
                        tc.get("function").map(text_of).unwrap_or_default(),
                        tc.get("arguments").map(text_of).unwrap_or_default()
                    ));
                    if let Some(id) = tc.get("id").and_then(Value::as_str) {
                        s.links.requests.push(id.to_string());
                    }
                }
                s.output = Some(Content::full(out.join("\n")));
                s.source_ref = Some(format!("messages[{i}]"));
                ctx.trace.push(s);
            }
            "tool" => {
                let mut s = Step::new(StepKind::ToolUse);
                s.tool = m.get("function").map(text_of);
                s.output = Some(Content::full(text));
                let id = m.get("tool_call_id").and_then(Value::as_str);
                s.links.tool_call_id = id.map(str::to_string);
                s.source_ref = Some(
                    id.map(str::to_string)
                        .unwrap_or_else(|| format!("messages[{i}]")),
                );
                if let Some(id) = id
                    && let Some(c) = ctx
                        .trace
                        .steps
                        .iter()
                        .rev()
                        .find(|x| x.links.requests.iter().any(|r| r == id))
                {
                    s.links.consumes.push(c.id);
                }
                if let Some(err) = m.get("error").filter(|x| !x.is_null()) {
                    s.status = StepStatus::Error;
                    let ty = err.get("type").and_then(Value::as_str).unwrap_or("error");
                    let msg = err.get("message").and_then(Value::as_str).unwrap_or("");
                    s.error = Some(format!("{ty}: {msg}"));
                }
                ctx.trace.push(s);
            }
            "system" => {}
            other => unknown_roles.push(format!(
                "{f} ({})",
                if other.is_empty() { "no role" } else { other }
            )),
        }
    }
    if let Some(first) = unknown_roles.first() {
        let file = ctx.file.clone();
        ctx.trace.warn(Warning::at(
            crate::model::WarningCode::SkippedRecords,
            format!(
                "{} message(s) with a missing or unknown role skipped (first: {first}); {} step(s) kept",
                unknown_roles.len(),
                ctx.trace.steps.len()
            ),
            file,
            None,
        ));
    }
    Ok(())
}

fn score_value(v: &Value) -> (Option<bool>, Option<f64>) {
    match v {
        Value::String(s) => match s.as_str() {
            "C" => (Some(true), Some(1.0)),
            "I" => (Some(false), Some(0.0)),
            "P" => (None, Some(0.5)),
            "N" => (Some(false), Some(0.0)),
            other => match other.parse::<f64>() {
                Ok(x) => (None, Some(x)),
                Err(_) => (None, None),
            },
        },
        Value::Bool(b) => (Some(*b), Some(if *b { 1.0 } else { 0.0 })),
        Value::Number(n) => {
            let x = n.as_f64();
            let passed = match x {
                Some(0.0) => Some(false),
                Some(1.0) => Some(true),
                _ => None,
            };
            (passed, x)
        }
        _ => (None, None),
    }
}

fn sample_trace(input: &Input, at: &At, log: &Value, s: &Value, field: &str) -> Result<Trace> {
    if !s.is_object() {
        return Err(at.err(field, "expected a sample object"));
    }
    let eval = log.get("eval").filter(|e| e.is_object());
    let task = eval
        .and_then(|e| e.get("task"))
        .and_then(Value::as_str)
        .unwrap_or("task");
    let sid = s.get("id").map(text_of).unwrap_or_default();
    let epoch = at
        .u64(s, "epoch")
        .map_err(|_| at.err(&format!("{field}.epoch"), "expected an integer"))?
        .unwrap_or(1);
    let mut trace = Trace::new(format!("{task}/{sid}/epoch-{epoch}"), "inspect");
    trace.metadata.insert("sample_id".into(), sid.clone());
    trace.metadata.insert("epoch".into(), epoch.to_string());
    if let Some(e) = eval {
        for k in ["task", "model", "eval_id", "run_id", "created"] {
            if let Some(v) = e.get(k).and_then(Value::as_str) {
                trace.metadata.insert(k.into(), v.into());
            }
        }
        trace.started_at = e
            .get("created")
            .and_then(Value::as_str)
            .and_then(parse_time);
    }
    if let Some(v) = log.get("version") {
        trace.metadata.insert("log_version".into(), text_of(v));
    }
    let mut ctx = Ctx {
        at,
        file: input.path.display().to_string(),
        field: field.to_string(),
        trace,
        by_call: HashMap::new(),
        delivered: HashSet::new(),
        span_type: HashMap::new(),
        sems: HashSet::new(),
        guessed: false,
        pending_user: Vec::new(),
        last_root_llm_text: None,
    };
    let events = at
        .arr(s, "events")
        .map_err(|_| at.err(&format!("{field}.events"), "expected an array"))?;
    if events.is_empty() {
        let msgs = at
            .arr(s, "messages")
            .map_err(|_| at.err(&format!("{field}.messages"), "expected an array"))?;
        let model = eval.and_then(|e| e.get("model")).and_then(Value::as_str);
        from_messages(&mut ctx, msgs, model)?;
        let file = ctx.file.clone();
        ctx.trace.warn(Warning::at(
            crate::model::WarningCode::NoEvents,
            "sample has no events: steps rebuilt from messages, without usage or timing",
            file,
            None,
        ));
    } else {
        let prompt = content_text(s.get("input"));
        let mut u = Step::new(StepKind::UserInput);
        u.output = Some(Content::full(prompt));
        u.source_ref = Some(format!("{field}.input"));
        let uid = ctx.trace.push(u);
        ctx.pending_user.push(uid);
        process_events(&mut ctx, events, None, 0, "events")?;
    }
    let mut sems: Vec<&str> = ctx.sems.iter().copied().collect();
    sems.sort();
    let guessed = ctx.guessed;
    let last_text = ctx.last_root_llm_text;
    let mut trace = ctx.trace;
    trace.source.token_semantics = Some(format!(
        "Inspect ModelUsage, detected per call: {}; reasoning_tokens is part of output_tokens",
        if sems.is_empty() {
            "no cache tokens (semantics irrelevant)".to_string()
        } else {
            sems.join(" / ")
        }
    ));
    if guessed {
        trace.warn(Warning::at(
            crate::model::WarningCode::UsageSemanticsGuessed,
            "total_tokens did not settle whether input_tokens includes cache tokens; assumed exclusive for anthropic/*, inclusive otherwise",
            input.path.display().to_string(),
            None,
        ));
    }
    if let Some(c) = at
        .f64(s, "total_cost")
        .map_err(|_| at.err(&format!("{field}.total_cost"), "expected a number"))?
    {
        trace.reported_cost_usd = Some(at.usd(&format!("{field}.total_cost"), c)?);
    }
    // Outcome
    trace.outcome.final_step = last_text.or_else(|| {
        trace
            .steps
            .iter()
            .rev()
            .find(|x| {
                x.kind == StepKind::LlmCall
                    && x.parent.is_none()
                    && x.agent.as_deref() != Some("scorer")
            })
            .map(|x| x.id)
    });
    let completion = s
        .get("output")
        .and_then(|o| o.get("completion"))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    trace.outcome.answer = completion.map(Content::full).or_else(|| {
        trace
            .outcome
            .final_step
            .and_then(|f| trace.step(f))
            .and_then(|x| x.output.clone())
    });
    if let Some(scores) = s.get("scores").and_then(Value::as_object) {
        let mut passed_all = true;
        let mut any_verdict = false;
        for (name, sc) in scores {
            let (passed, score) = score_value(sc.get("value").unwrap_or(&Value::Null));
            if let Some(p) = passed {
                any_verdict = true;
                passed_all &= p;
            }
            trace.outcome.evidence.push(OracleEvidence {
                verifier: format!("inspect:{name}"),
                passed,
                message: sc
                    .get("explanation")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                score,
                artifacts: Vec::new(),
            });
        }
        if any_verdict {
            trace.outcome.status = if passed_all {
                OutcomeStatus::Success
            } else {
                OutcomeStatus::Failure
            };
        }
        let names: Vec<String> = scores
            .iter()
            .map(|(k, v)| format!("{k}={}", v.get("value").map(text_of).unwrap_or_default()))
            .collect();
        trace.outcome.reason = Some(format!("scores: {}", names.join(", ")));
    }
    if let Some(err) = s.get("error").filter(|e| !e.is_null()) {
        trace.outcome.status = OutcomeStatus::Failure;
        trace.outcome.reason = Some(format!(
            "error: {}",
            err.get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| text_of(err))
        ));
    }
    Ok(trace)
}
