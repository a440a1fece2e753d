//! Reading a Claude Code transcript line by line (streaming: the file is never held
//! whole; each line is parsed into a pruned [`J`] record and dropped), and typed
//! accessors on [`J`] that name the field of a wrong type.

use std::hash::BuildHasher;
use std::io::BufRead;
use std::path::Path;

use super::compact::{J, parse_record};
use crate::import::{MAX_INPUT_BYTES, check_line_len, cut_short};
use crate::model::Warning;
use crate::{Error, Result};

/// The parsed records of one JSONL file.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    /// `(1-based line number, record)` for every non-blank line that parsed.
    pub lines: Vec<(u64, J)>,
    /// `truncated_line` and `duplicate_record` warnings.
    pub warnings: Vec<Warning>,
    /// Whether the input held anything but whitespace (after a byte-order mark).
    pub non_blank: bool,
}

/// Byte-identical lines are counted once (as every JSONL reader does), here by a
/// 128-bit hash of the line under two per-process random seeds, since the line
/// itself is not kept: two different lines share a hash with odds of about 2⁻¹²⁸.
#[derive(Default)]
struct Dedup {
    seeds: (
        foldhash::quality::RandomState,
        foldhash::quality::RandomState,
    ),
    first: std::collections::HashMap<u128, u64, foldhash::fast::RandomState>,
}

impl Dedup {
    fn check(&mut self, path: &Path, line_no: u64, line: &str) -> Option<Warning> {
        let line = line.trim_end_matches('\r');
        let h = (u128::from(self.seeds.0.hash_one(line)) << 64)
            | u128::from(self.seeds.1.hash_one(line));
        match self.first.entry(h) {
            std::collections::hash_map::Entry::Occupied(e) => Some(Warning::at(
                crate::model::WarningCode::DuplicateRecord,
                format!(
                    "line {line_no} repeats line {} byte for byte; counted once",
                    e.get()
                ),
                path.display().to_string(),
                Some(line_no),
            )),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(line_no);
                None
            }
        }
    }
}

/// Parse the JSON lines read from `r` (at most [`MAX_INPUT_BYTES`]), one at a time.
/// The rules are those of the whole-file readers: a leading byte-order mark is
/// skipped; invalid UTF-8 is an error naming the line (an incomplete character at
/// the very end, a partial write, is dropped); blank lines are skipped; a final line
/// that ends early with no newline after it becomes a `truncated_line` warning; any
/// other bad line is an error naming the line.
pub(crate) fn read(path: &Path, mut r: impl BufRead) -> Result<Lines> {
    let mut out = Lines::default();
    let mut seen = Dedup::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut offset = 0u64;
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = std::io::Read::take(&mut r, MAX_INPUT_BYTES + 1 - offset.min(MAX_INPUT_BYTES))
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        if offset + n as u64 > MAX_INPUT_BYTES {
            return Err(Error::parse(
                path,
                None,
                None,
                format!("the input is above the limit of {MAX_INPUT_BYTES} bytes; refusing"),
            ));
        }
        let start = offset;
        offset += n as u64;
        line_no += 1;
        let mut bytes = &buf[..];
        let terminated = bytes.last() == Some(&b'\n');
        if terminated {
            bytes = &bytes[..bytes.len() - 1];
            if bytes.last() == Some(&b'\r') {
                bytes = &bytes[..bytes.len() - 1];
            }
        }
        let mut skip = 0;
        if line_no == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes = &bytes[3..];
            skip = 3;
        }
        let line = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            // only an incomplete character at the very end of the input: keep what precedes it
            Err(e) if !terminated && e.error_len().is_none() => {
                std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
            }
            Err(e) => {
                return Err(Error::parse(
                    path,
                    Some(line_no),
                    None,
                    format!(
                        "invalid UTF-8 at byte {}",
                        start + skip + e.valid_up_to() as u64
                    ),
                ));
            }
        };
        check_line_len(path, line_no, line)?;
        if line.trim().is_empty() {
            continue;
        }
        out.non_blank = true;
        if let Some(w) = seen.check(path, line_no, line) {
            out.warnings.push(w);
            continue;
        }
        match parse_record(line) {
            Ok(v) => out.lines.push((line_no, v)),
            Err(e) if !terminated && cut_short(&e, line) => out.warnings.push(Warning::at(
                crate::model::WarningCode::TruncatedLine,
                format!(
                    "last line is incomplete ({} bytes; the session may still be running); skipped",
                    line.len()
                ),
                path.display().to_string(),
                Some(line_no),
            )),
            Err(e) => return Err(Error::parse(path, Some(line_no), None, e.to_string())),
        }
    }
    Ok(out)
}

/// Render any value as text for content analysis: strings as they are,
/// everything else as compact JSON.
pub(crate) fn text_of(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Null => String::new(),
        other => other.to_string(),
    }
}

/// Where a value sits (file and line), with typed accessors on [`J`] that turn a
/// wrong type into an [`Error::Parse`] naming the field, and a missing field (or
/// `null`) into `None`: the rules of `import::json::At`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    path: &'a Path,
    line: Option<u64>,
}

impl<'a> At<'a> {
    /// At `path`, `line`.
    pub(crate) fn new(path: &'a Path, line: Option<u64>) -> Self {
        At { path, line }
    }

    /// A parse error at this place for `field`.
    pub(crate) fn err(&self, field: &str, msg: impl Into<String>) -> Error {
        Error::parse(self.path, self.line, Some(field), msg)
    }

    fn wrong(&self, field: &str, want: &str, got: &J) -> Error {
        let kind = match got {
            J::Null => "null",
            J::Bool(_) => "a boolean",
            J::Number(_) => "a number",
            J::String(_) => "a string",
            J::Array(_) => "an array",
            J::Object(_) => "an object",
        };
        self.err(field, format!("expected {want}, found {kind}"))
    }

    /// Optional string field.
    pub(crate) fn str<'v>(&self, v: &'v J, field: &str) -> Result<Option<&'v str>> {
        match v.get(field) {
            None | Some(J::Null) => Ok(None),
            Some(J::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(field, "a string", other)),
        }
    }

    /// Optional token count: a non-negative integer (integer-valued floats and
    /// decimal strings accepted) up to [`MAX_TOKENS`](crate::model::MAX_TOKENS).
    pub(crate) fn tokens(&self, v: &J, field: &str) -> Result<Option<u64>> {
        let n = match v.get(field) {
            None | Some(J::Null) => None,
            Some(J::Number(n)) => Some(
                n.as_u64()
                    .or_else(|| {
                        n.as_f64()
                            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19)
                            .map(|f| f as u64)
                    })
                    .ok_or_else(|| {
                        self.err(field, format!("expected a non-negative integer, found {n}"))
                    })?,
            ),
            Some(J::String(s)) => Some(s.parse::<u64>().map_err(|_| {
                self.err(
                    field,
                    format!("expected a non-negative integer, found {s:?}"),
                )
            })?),
            Some(other) => return Err(self.wrong(field, "an integer", other)),
        };
        match n {
            Some(n) if n > crate::model::MAX_TOKENS => Err(self.err(
                field,
                format!(
                    "{n} tokens is above the limit of {} (a corrupt count)",
                    crate::model::MAX_TOKENS
                ),
            )),
            other => Ok(other),
        }
    }

    /// Optional boolean field.
    pub(crate) fn bool(&self, v: &J, field: &str) -> Result<Option<bool>> {
        match v.get(field) {
            None | Some(J::Null) => Ok(None),
            Some(J::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(field, "a boolean", other)),
        }
    }

    /// Optional object field.
    pub(crate) fn obj<'v>(&self, v: &'v J, field: &str) -> Result<Option<&'v J>> {
        match v.get(field) {
            None | Some(J::Null) => Ok(None),
            Some(o @ J::Object(_)) => Ok(Some(o)),
            Some(other) => Err(self.wrong(field, "an object", other)),
        }
    }

    /// Optional RFC 3339 timestamp field; an unparsable timestamp is an error.
    pub(crate) fn time(&self, v: &J, field: &str) -> Result<Option<jiff::Timestamp>> {
        match self.str(v, field)? {
            None => Ok(None),
            Some(s) => crate::import::json::parse_time(s)
                .map(Some)
                .ok_or_else(|| self.err(field, format!("not a timestamp: {s:?}"))),
        }
    }
}
