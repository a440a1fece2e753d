//! The native trace format, written by the recorders of all three languages.
//!
//! Two shapes, both UTF-8 JSON (see `docs/native-format.md`):
//!
//! - **JSONL** (streaming, what recorders write): one record per line, each with a
//!   `record` field: `session` (first), `step` (any number, any order when they carry
//!   `id`), `outcome` (at most one), `warning`.
//! - **JSON**: one object, a serialised [`Trace`] with `"tracecard_trace": 1`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{ContentCapture, Outcome, Step, StepId, Trace, Warning};
use crate::money::Usd;
use crate::{Error, Result};

/// Version of the native format (`tracecard_trace` / `version` field).
pub const NATIVE_VERSION: u32 = 1;

/// First record of a JSONL native trace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Always `session`.
    pub record: String,
    /// Format version ([`NATIVE_VERSION`]).
    pub version: u32,
    /// Session id.
    pub session_id: String,
    /// Start time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<jiff::Timestamp>,
    /// Whether steps carry content.
    #[serde(default)]
    pub content: ContentCapture,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// The `outcome` record of a JSONL native trace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutcomeRecord {
    /// Always `outcome`.
    pub record: String,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Session-level cost reported by the harness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_cost_usd: Option<Usd>,
}

#[derive(Serialize, Deserialize)]
struct Whole {
    tracecard_trace: u32,
    #[serde(flatten)]
    trace: Trace,
}

/// True when `head` (the first bytes of a file) looks like a native trace.
pub fn sniff(head: &str) -> bool {
    let t = head.trim_start();
    (t.starts_with('{')
        && t[..crate::import::floor_char_boundary(t, 4096)].contains("\"tracecard_trace\""))
        || (t.starts_with("{\"record\":\"session\"") || t.starts_with("{\"record\": \"session\""))
}

/// Serialise `trace` as one JSON document.
pub fn to_json(trace: &Trace) -> Result<String> {
    let w = Whole {
        tracecard_trace: NATIVE_VERSION,
        trace: trace.clone(),
    };
    serde_json::to_string_pretty(&w).map_err(|e| Error::serialize("trace", e))
}

/// Write `trace` as native JSONL to `path` (what the recorders' `save` does).
pub fn save(trace: &Trace, path: &Path) -> Result<()> {
    let text = to_jsonl(trace)?;
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// Serialise `trace` as JSONL records.
pub fn to_jsonl(trace: &Trace) -> Result<String> {
    let mut out = String::new();
    let head = SessionRecord {
        record: "session".into(),
        version: NATIVE_VERSION,
        session_id: trace.session_id.clone(),
        started_at: trace.started_at,
        content: trace.source.content,
        metadata: trace.metadata.clone(),
    };
    out.push_str(&line(&head)?);
    for s in &trace.steps {
        out.push_str(&line(&StepLine {
            record: "step",
            step: s,
        })?);
    }
    for w in &trace.warnings {
        out.push_str(&line(&WarningLine {
            record: "warning",
            warning: w,
        })?);
    }
    let o = OutcomeRecord {
        record: "outcome".into(),
        outcome: trace.outcome.clone(),
        reported_cost_usd: trace.reported_cost_usd,
    };
    out.push_str(&line(&o)?);
    Ok(out)
}

/// `trace` as far as native JSONL carries it, for comparing a trace with its
/// JSONL round trip (`to_jsonl` → parse; both sides go through this, as the fuzz
/// target `roundtrip` does). JSONL has no place for the whole-trace
/// `reported_tokens` and `source.token_semantics` (both cleared here), and a
/// record written twice byte for byte (two equal warnings) is read once, with the
/// reader's own `duplicate_record` warning: repeated warnings count once and
/// those reader warnings are left out. Everything else must come back equal.
pub fn jsonl_normalised(trace: &Trace) -> Trace {
    let mut t = trace.clone();
    t.reported_tokens = None;
    t.source.token_semantics = None;
    let mut seen = std::collections::HashSet::new();
    t.warnings.retain(|w| {
        let reader_repeat = w.code == crate::model::WarningCode::DuplicateRecord
            && w.message.ends_with("byte for byte; counted once");
        !reader_repeat && seen.insert(serde_json::to_string(w).unwrap_or_default())
    });
    t
}

#[derive(Serialize)]
struct StepLine<'a> {
    record: &'static str,
    #[serde(flatten)]
    step: &'a Step,
}

#[derive(Serialize)]
struct WarningLine<'a> {
    record: &'static str,
    #[serde(flatten)]
    warning: &'a Warning,
}

fn line<T: Serialize>(v: &T) -> Result<String> {
    let mut s = serde_json::to_string(v).map_err(|e| Error::serialize("trace record", e))?;
    s.push('\n');
    Ok(s)
}

/// Parse a native trace (either shape) from `text`; `path` is for messages.
pub fn parse(path: &Path, text: &str) -> Result<Trace> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{')
        && !trimmed.starts_with("{\"record\"")
        && !trimmed.starts_with("{\"record\":")
    {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
            if v.get("tracecard_trace").is_some() {
                let w: Whole = serde_json::from_value(v)
                    .map_err(|e| Error::parse(path, None, None, e.to_string()))?;
                w.trace.validate()?;
                let mut t = w.trace;
                t.source.format = "native".into();
                t.source.files = vec![path.display().to_string()];
                return Ok(t);
            }
        }
    }
    parse_jsonl(path, text)
}

fn parse_jsonl(path: &Path, text: &str) -> Result<Trace> {
    let mut trace: Option<Trace> = None;
    let mut steps: Vec<(u64, Option<StepId>, Step)> = Vec::new();
    let mut warnings = Vec::new();
    let mut outcome = None;
    let file = path.display().to_string();
    // One typed parse per line (no intermediate `Value`): a peek at `record`, then the
    // record itself, with the failing field's path on error.
    #[derive(Deserialize)]
    struct Tag<'a> {
        #[serde(borrow, default)]
        record: Option<std::borrow::Cow<'a, str>>,
    }
    fn typed<'de, T: Deserialize<'de>>(path: &Path, line: u64, text: &'de str) -> Result<T> {
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text)).map_err(
            |e| {
                let field = e.path().to_string();
                // serde_json counts lines within the record: keep only the column
                let inner = e.inner();
                let msg = inner.to_string();
                let suffix = format!(" at line {} column {}", inner.line(), inner.column());
                let msg = match msg.strip_suffix(&suffix) {
                    Some(m) => format!("{m} (column {})", inner.column()),
                    None => msg,
                };
                Error::parse(
                    path,
                    Some(line),
                    (field != ".").then_some(field.as_str()),
                    msg,
                )
            },
        )
    }

    let total = text.lines().count();
    let ends_with_newline = text.ends_with('\n');
    let mut seen = crate::import::Dedup::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        crate::import::check_line_len(path, line, raw)?;
        if raw.trim().is_empty() {
            continue;
        }
        if let Some(w) = seen.check(path, line, raw) {
            warnings.push(w);
            continue;
        }
        let tag: Tag<'_> = match serde_json::from_str(raw) {
            Ok(t) => t,
            Err(e) if i + 1 == total && !ends_with_newline && crate::import::cut_short(&e, raw) => {
                warnings.push(Warning::at(
                    crate::model::WarningCode::TruncatedLine,
                    format!("last line is incomplete ({} bytes; the session may still be running); skipped", raw.len()),
                    &file,
                    Some(line),
                ));
                continue;
            }
            Err(e) => {
                return Err(Error::parse(
                    path,
                    Some(line),
                    None,
                    crate::import::line_error(&e),
                ));
            }
        };
        let kind = tag.record.as_deref().unwrap_or("");
        match kind {
            "session" => {
                let h: SessionRecord = typed(path, line, raw)?;
                if h.version > NATIVE_VERSION {
                    warnings.push(Warning::at(
                        crate::model::WarningCode::NewerFormat,
                        format!(
                            "native format version {} is newer than {NATIVE_VERSION}",
                            h.version
                        ),
                        &file,
                        Some(line),
                    ));
                }
                let mut t = Trace::new(h.session_id, "native");
                t.started_at = h.started_at;
                t.source.content = h.content;
                t.metadata = h.metadata;
                trace = Some(t);
            }
            "step" => {
                let step: Step = typed(path, line, raw)?;
                let id = (step.id.0 != 0).then_some(step.id);
                steps.push((line, id, step));
            }
            "outcome" => {
                let o: OutcomeRecord = typed(path, line, raw)?;
                outcome = Some(o);
            }
            "warning" => {
                let w: Warning = typed(path, line, raw)?;
                warnings.push(w);
            }
            other => warnings.push(Warning::at(
                crate::model::WarningCode::UnknownRecord,
                format!("unknown record type {other:?} skipped"),
                &file,
                Some(line),
            )),
        }
    }
    let mut trace = trace.ok_or_else(|| {
        Error::parse(
            path,
            Some(1),
            Some("record"),
            "native JSONL must start with a `session` record",
        )
    })?;
    // Order by explicit id when given (recorders write spawns after their children).
    let n = steps.len();
    let mut slots: Vec<Option<Step>> = vec![None; n];
    let mut next_free = 0usize;
    let any_ids = steps.iter().any(|(_, id, _)| id.is_some());
    for (line, id, step) in steps {
        let idx = match (any_ids, id) {
            (true, Some(id)) => id.index(),
            (true, None) => {
                return Err(Error::parse(
                    path,
                    Some(line),
                    Some("id"),
                    "either every step record has an `id` or none does",
                ));
            }
            (false, _) => {
                next_free += 1;
                next_free - 1
            }
        };
        if idx >= n || slots[idx].is_some() {
            return Err(Error::parse(
                path,
                Some(line),
                Some("id"),
                format!(
                    "step id {} is out of range or repeated (ids must be 1..={n})",
                    idx + 1
                ),
            ));
        }
        slots[idx] = Some(step);
    }
    for s in slots.into_iter().flatten() {
        trace.push(s);
    }
    if let Some(o) = outcome {
        trace.outcome = o.outcome;
        trace.reported_cost_usd = o.reported_cost_usd;
    }
    trace.warnings = warnings;
    trace.source.files = vec![file];
    trace.validate()?;
    Ok(trace)
}
