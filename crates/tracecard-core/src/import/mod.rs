//! Importers: every supported trace format lands in the one [`Trace`] model.
//!
//! [`load`] reads a file, picks the importer ([`detect`], or the caller's
//! [`Format`]), and returns every session in it (one file can hold several: an
//! Inspect log with many samples, a resolver output with many runs).
//!
//! ## Contract of an importer module
//! Each format is one module with two functions:
//! - `sniff(path, head) -> bool`: does this file look like the format? `head` is
//!   the first 64 KiB of the file as (lossy) UTF-8. Cheap and side-effect free.
//! - `import(input: &Input) -> Result<Vec<Trace>>`: parse it. Converts the source's
//!   token semantics to the normalised [`TokenUsage`](crate::TokenUsage) and writes
//!   them in `Source::token_semantics`; keeps the source's cost as
//!   `reported_cost_usd`; fills `links` (tool-call ids, `consumes`, reads/writes);
//!   sets `source_ref` to the id in the original file; records anything skipped as
//!   a [`Warning`] with file and line. Malformed input is an
//!   [`Error::Parse`](crate::Error::Parse) naming file, line and field — never a panic.

use std::path::{Path, PathBuf};

mod chat_log;
mod codex;
mod genai;
mod inspect;
mod langfuse;
mod openclaw;
mod openhands;
mod otlp;
mod swe_agent;

use crate::model::{Trace, Warning};
use crate::{Error, Result};

mod claude_code;
pub mod claude_code_otel;

/// The formats tracecard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Format {
    /// tracecard's own JSON/JSONL (what the recorders write).
    Native,
    /// Claude Code session transcript JSONL (`~/.claude/projects/<project>/<session>.jsonl`,
    /// 1.0.x inlined sidechains and 2.x `subagents/` files).
    ClaudeCode,
    /// OTLP/JSON traces (`resourceSpans`; also JSONL and JS `ReadableSpan` arrays)
    /// with OTel GenAI, OpenInference or Vercel AI SDK attributes.
    Otlp,
    /// Langfuse trace export (`{trace, observations[]}`).
    Langfuse,
    /// OpenAI Codex CLI / Codex Desktop rollout JSONL.
    Codex,
    /// OpenAI-style chat message logs, incl. mini-swe-agent trajectories.
    ChatLog,
    /// SWE-agent `.traj` trajectories (v0.x and v1).
    SweAgent,
    /// OpenHands event lists and legacy resolver output JSONL.
    OpenHands,
    /// Inspect AI eval logs (`.json` and `.eval` ZIP).
    Inspect,
    /// OpenClaw (pi agent) session JSONL.
    OpenClaw,
}

impl Format {
    /// Every format, in detection order.
    pub const ALL: &'static [Format] = &[
        Format::Native,
        Format::ClaudeCode,
        Format::Langfuse,
        Format::Otlp,
        Format::Codex,
        Format::SweAgent,
        Format::OpenHands,
        Format::Inspect,
        Format::OpenClaw,
        Format::ChatLog,
    ];

    /// Stable snake_case name (`--from` value).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::ClaudeCode => "claude_code",
            Format::Otlp => "otlp",
            Format::Langfuse => "langfuse",
            Format::Codex => "codex",
            Format::ChatLog => "chat_log",
            Format::SweAgent => "swe_agent",
            Format::OpenHands => "openhands",
            Format::Inspect => "inspect",
            Format::OpenClaw => "openclaw",
        }
    }

    /// Parse a `--from` value.
    pub fn parse(name: &str) -> Option<Format> {
        let n = name.trim().to_lowercase().replace('-', "_");
        Format::ALL.iter().copied().find(|f| f.as_str() == n)
    }

    fn sniff(self, path: &Path, head: &str) -> bool {
        match self {
            Format::Native => crate::native::sniff(head),
            Format::ClaudeCode => claude_code::sniff(path, head),
            Format::Otlp => otlp::sniff(path, head),
            Format::Langfuse => langfuse::sniff(path, head),
            Format::Codex => codex::sniff(path, head),
            Format::ChatLog => chat_log::sniff(path, head),
            Format::SweAgent => swe_agent::sniff(path, head),
            Format::OpenHands => openhands::sniff(path, head),
            Format::Inspect => inspect::sniff(path, head),
            Format::OpenClaw => openclaw::sniff(path, head),
        }
    }

    fn import(self, input: &Input) -> Result<Vec<Trace>> {
        match self {
            Format::Native => Ok(vec![crate::native::parse(&input.path, input.text()?)?]),
            Format::ClaudeCode => claude_code::import(input),
            Format::Otlp => otlp::import(input),
            Format::Langfuse => langfuse::import(input),
            Format::Codex => codex::import(input),
            Format::ChatLog => chat_log::import(input),
            Format::SweAgent => swe_agent::import(input),
            Format::OpenHands => openhands::import(input),
            Format::Inspect => inspect::import(input),
            Format::OpenClaw => openclaw::import(input),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file being imported: its path and bytes.
#[derive(Debug)]
pub struct Input {
    /// The path as given.
    pub path: PathBuf,
    /// The raw bytes.
    pub bytes: Vec<u8>,
}

impl Input {
    /// Read `path`.
    pub fn read(path: &Path) -> Result<Input> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Ok(Input {
            path: path.to_path_buf(),
            bytes,
        })
    }

    /// In-memory input (for tests and bindings).
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) -> Input {
        Input {
            path: path.into(),
            bytes: bytes.into(),
        }
    }

    /// The bytes as UTF-8, or a parse error naming the line of the first bad byte.
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.bytes).map_err(|e| {
            let at = e.valid_up_to();
            let line = self.bytes[..at].iter().filter(|b| **b == b'\n').count() as u64 + 1;
            Error::parse(
                &self.path,
                Some(line),
                None,
                format!("invalid UTF-8 at byte {at}"),
            )
        })
    }

    /// The file name without directories, lossy.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The file stem (name without the last extension).
    pub fn stem(&self) -> String {
        self.path
            .file_stem()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Which importer fits `path`, from its first 64 KiB; `None` when none does.
pub fn detect(path: &Path) -> Result<Option<Format>> {
    let input = Input::read(path)?;
    Ok(detect_input(&input))
}

fn head(input: &Input) -> String {
    let n = input.bytes.len().min(64 * 1024);
    String::from_utf8_lossy(&input.bytes[..n]).into_owned()
}

fn detect_input(input: &Input) -> Option<Format> {
    let head = head(input);
    Format::ALL
        .iter()
        .copied()
        .find(|f| f.sniff(&input.path, &head))
}

/// Import every session in `path` with `format` (auto-detected when `None`).
pub fn load(path: &Path, format: Option<Format>) -> Result<Vec<Trace>> {
    let input = Input::read(path)?;
    load_input(&input, format)
}

/// Import every session in an in-memory `input`.
pub fn load_input(input: &Input, format: Option<Format>) -> Result<Vec<Trace>> {
    let format = match format {
        Some(f) => f,
        None => detect_input(input).ok_or_else(|| Error::UnknownFormat {
            path: input.path.clone(),
            hint: Some(format!(
                "known formats: {}",
                Format::ALL
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        })?,
    };
    if input.bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::parse(&input.path, None, None, "the file is empty"));
    }
    let mut traces = format.import(input)?;
    for t in &mut traces {
        if t.source.format.is_empty() {
            t.source.format = format.as_str().into();
        }
        if t.source.files.is_empty() {
            t.source.files.push(input.path.display().to_string());
        }
    }
    Ok(traces)
}

/// Files under `root` (recursively, sorted) that some importer recognises, minus
/// those another file pulls in (Claude Code `subagents/` transcripts are read with
/// their parent session). A file path is returned as is.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>> {
    if !root.is_dir() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let rd = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let p = entry.path();
            let ft = entry.file_type().map_err(|e| Error::io(&p, e))?;
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() && !is_pulled_in(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Claude Code 2.x keeps sub-agents in `<session>/subagents/agent-*.jsonl` next to
/// `<session>.jsonl`; those are read as part of the parent.
fn is_pulled_in(p: &Path) -> bool {
    let Some(dir) = p.parent() else { return false };
    // ... and `<session>/otel/` holds its telemetry (OTLP/JSON), joined into it
    if dir
        .file_name()
        .is_some_and(|n| n == "subagents" || n == "otel")
    {
        if let Some(session_dir) = dir.parent() {
            return session_dir.with_extension("jsonl").is_file();
        }
    }
    false
}

/// The parsed lines of a JSONL file.
#[derive(Debug, Default)]
pub struct JsonLines {
    /// `(1-based line number, value)` for every non-blank line that parsed.
    pub lines: Vec<(u64, serde_json::Value)>,
    /// `truncated_line` when the last line was incomplete.
    pub warnings: Vec<Warning>,
}

/// Parse the JSON lines of `text`. Blank lines are skipped. A final line that does
/// not parse because it ends early, with no trailing newline (a file still being
/// written), becomes a `truncated_line` warning; any other bad line is an error
/// naming the line.
pub fn jsonl(path: &Path, text: &str) -> Result<JsonLines> {
    let ends_with_newline = text.ends_with('\n');
    let total = text.lines().count();
    let mut out = JsonLines::default();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) => out.lines.push((line_no, v)),
            Err(e) if i + 1 == total && !ends_with_newline && e.is_eof() => out.warnings.push(Warning::at(
                "truncated_line",
                format!("last line is incomplete ({} bytes; the session may still be running); skipped", line.len()),
                path.display().to_string(),
                Some(line_no),
            )),
            Err(e) => return Err(Error::parse(path, Some(line_no), None, e.to_string())),
        }
    }
    Ok(out)
}

/// Typed accessors on `serde_json::Value` that turn a wrong type into an
/// [`Error::Parse`] naming the field, and a missing field into `None`.
pub mod json {
    use std::path::Path;

    use serde_json::Value;

    use crate::{Error, Result};

    /// Where a value sits: file and line, for error messages.
    #[derive(Debug, Clone, Copy)]
    pub struct At<'a> {
        /// The file.
        pub path: &'a Path,
        /// The line (JSONL) or `None` for whole-file JSON.
        pub line: Option<u64>,
    }

    impl<'a> At<'a> {
        /// At `path`, `line`.
        pub fn new(path: &'a Path, line: Option<u64>) -> Self {
            At { path, line }
        }

        /// A parse error at this place for `field`.
        pub fn err(&self, field: &str, msg: impl Into<String>) -> Error {
            Error::parse(self.path, self.line, Some(field), msg)
        }

        fn wrong(&self, field: &str, want: &str, got: &Value) -> Error {
            let kind = match got {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                Value::Array(_) => "an array",
                Value::Object(_) => "an object",
            };
            self.err(field, format!("expected {want}, found {kind}"))
        }

        /// Optional string field (`null` counts as missing).
        pub fn str<'v>(&self, v: &'v Value, field: &str) -> Result<Option<&'v str>> {
            match v.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(self.wrong(field, "a string", other)),
            }
        }

        /// Required string field.
        pub fn req_str<'v>(&self, v: &'v Value, field: &str) -> Result<&'v str> {
            self.str(v, field)?
                .ok_or_else(|| self.err(field, "missing required field"))
        }

        /// Optional non-negative integer field; accepts integer-valued floats and
        /// decimal strings (OTLP `intValue`).
        pub fn u64(&self, v: &Value, field: &str) -> Result<Option<u64>> {
            match v.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_u64()
                    .or_else(|| {
                        n.as_f64()
                            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19)
                            .map(|f| f as u64)
                    })
                    .map(Some)
                    .ok_or_else(|| {
                        self.err(field, format!("expected a non-negative integer, found {n}"))
                    }),
                Some(Value::String(s)) => s.parse::<u64>().map(Some).map_err(|_| {
                    self.err(
                        field,
                        format!("expected a non-negative integer, found {s:?}"),
                    )
                }),
                Some(other) => Err(self.wrong(field, "an integer", other)),
            }
        }

        /// Optional number field (float).
        pub fn f64(&self, v: &Value, field: &str) -> Result<Option<f64>> {
            match v.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => Ok(n.as_f64()),
                Some(Value::String(s)) => s
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| self.err(field, format!("expected a number, found {s:?}"))),
                Some(other) => Err(self.wrong(field, "a number", other)),
            }
        }

        /// Optional boolean field.
        pub fn bool(&self, v: &Value, field: &str) -> Result<Option<bool>> {
            match v.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Bool(b)) => Ok(Some(*b)),
                Some(other) => Err(self.wrong(field, "a boolean", other)),
            }
        }

        /// Optional array field (empty slice when missing).
        pub fn arr<'v>(&self, v: &'v Value, field: &str) -> Result<&'v [Value]> {
            match v.get(field) {
                None | Some(Value::Null) => Ok(&[]),
                Some(Value::Array(a)) => Ok(a),
                Some(other) => Err(self.wrong(field, "an array", other)),
            }
        }

        /// Optional object field.
        pub fn obj<'v>(
            &self,
            v: &'v Value,
            field: &str,
        ) -> Result<Option<&'v serde_json::Map<String, Value>>> {
            match v.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(o)) => Ok(Some(o)),
                Some(other) => Err(self.wrong(field, "an object", other)),
            }
        }

        /// Optional RFC 3339 timestamp field; unparsable timestamps are an error.
        pub fn time(&self, v: &Value, field: &str) -> Result<Option<jiff::Timestamp>> {
            match self.str(v, field)? {
                None => Ok(None),
                Some(s) => parse_time(s)
                    .map(Some)
                    .ok_or_else(|| self.err(field, format!("not a timestamp: {s:?}"))),
            }
        }
    }

    /// Parse an RFC 3339 / ISO 8601 timestamp (with `Z` or an offset; a naive
    /// date-time is taken as UTC).
    pub fn parse_time(s: &str) -> Option<jiff::Timestamp> {
        s.parse::<jiff::Timestamp>().ok().or_else(|| {
            s.parse::<jiff::civil::DateTime>()
                .ok()
                .and_then(|dt| dt.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp())
        })
    }

    /// A timestamp from Unix nanoseconds.
    pub fn from_unix_nanos(n: i128) -> Option<jiff::Timestamp> {
        jiff::Timestamp::from_nanosecond(n).ok()
    }

    /// A timestamp from Unix seconds (float, as Python's `time.time()`).
    pub fn from_unix_secs_f64(s: f64) -> Option<jiff::Timestamp> {
        if !s.is_finite() {
            return None;
        }
        jiff::Timestamp::from_nanosecond((s * 1e9) as i128).ok()
    }

    /// Render any JSON value as text for content analysis: strings as they are,
    /// everything else as compact JSON.
    pub fn text_of(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
}
