//! Reading a Claude Code transcript line by line. A file above [`ONE_PASS_BYTES`]
//! is read in two passes, so neither the file nor every record is ever held whole:
//! 1. [`read`] checks every line (UTF-8, size, duplicates, JSON syntax) in place
//!    in large read blocks and keeps per line only its place in the file and a
//!    *head* record: the few fields that split the records into agent streams
//!    (`type`, `uuid`, `parentUuid`, `isSidechain`, `timestamp`, agent links).
//! 2. [`Lines::load`] re-reads one line (from a window over the file, or from the
//!    in-memory input) and parses it whole when the stream merge reaches it; the
//!    record is dropped once its step is built.
//!
//! A smaller input (most sessions) is read whole in one read and each line parsed
//! once ([`read_whole`]): the records are kept from the first pass and [`Lines::load`]
//! hands them over, which saves the second read and the second walk of the JSON.
//!
//! Typed accessors on [`J`] name the field of a wrong type.

use std::hash::BuildHasher;
use std::io::{BufRead, Read, Seek};
use std::path::Path;

use super::compact::{J, head_of, parse_head, parse_record};
use crate::import::{MAX_INPUT_BYTES, check_line_len, cut_short};
use crate::model::Warning;
use crate::{Error, Result};

/// Bytes re-read from a file at a time in the second pass (one window per file).
const WINDOW: usize = 256 << 10;

/// Inputs up to this size are read whole and parsed once, their records kept
/// ([`read_whole`]); larger ones in two passes. Holding a 32 MiB file and its
/// pruned records stays well within the 2× memory budget of issue 13, and most
/// sessions are far smaller.
pub(crate) const ONE_PASS_BYTES: u64 = 32 << 20;

/// Where the bytes of the second pass come from.
#[derive(Debug, Default)]
pub(crate) enum Source<'s> {
    /// Nothing to re-read (no lines).
    #[default]
    None,
    /// The whole input, in memory.
    Memory(&'s [u8]),
    /// The whole file, read into memory (see [`read_whole`]).
    Owned(Buffer),
    /// The file, re-read through a window of [`WINDOW`] bytes starting at `start`.
    File {
        /// The open file.
        file: std::fs::File,
        /// The window.
        buf: Vec<u8>,
        /// File offset of `buf[0]`.
        start: u64,
    },
}

/// A byte buffer for a whole-file read, handed back to its thread's pool when
/// dropped: the next file read on that thread reuses memory already mapped, where
/// a fresh allocation costs a page fault and a page cleared per 4 KiB (or 2 MiB),
/// which was a quarter of a cost-only import of many small sessions.
#[derive(Debug, Default)]
pub(crate) struct Buffer(Vec<u8>);

/// Buffers kept per thread for reuse (a main file and a sub-agent file are held
/// at once).
const POOLED: usize = 4;

thread_local! {
    static POOL: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Buffer {
    /// An empty buffer with room for `len` bytes, from this thread's pool when it
    /// holds one.
    pub(crate) fn with_capacity(len: usize) -> Buffer {
        let mut v = POOL.with(|p| p.borrow_mut().pop()).unwrap_or_default();
        v.clear();
        v.reserve(len);
        Buffer(v)
    }

    /// The bytes, to read into.
    pub(crate) fn vec(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl std::ops::Deref for Buffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        if v.capacity() == 0 || v.capacity() as u64 > ONE_PASS_BYTES + 1 {
            return;
        }
        // `try_with`: a buffer dropped while the thread exits is simply freed
        let _ = POOL.try_with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < POOLED {
                p.push(v);
            }
        });
    }
}

/// One kept line: its number, where its text sits, and its head record.
#[derive(Debug)]
pub(crate) struct Line {
    /// 1-based line number.
    pub no: u64,
    /// Byte offset of the text (after a byte-order mark; without the line end).
    pub off: u64,
    /// Byte length of the text.
    pub len: usize,
    /// The head record (see [`parse_head`]); taken by the stream split.
    pub head: J,
}

/// The lines of one JSONL file.
#[derive(Debug, Default)]
pub(crate) struct Lines<'s> {
    /// Every non-blank, non-repeated line that parsed.
    pub lines: Vec<Line>,
    /// `truncated_line` and `duplicate_record` warnings.
    pub warnings: Vec<Warning>,
    /// Whether the input held anything but whitespace (after a byte-order mark).
    pub non_blank: bool,
    /// Where [`Lines::load`] re-reads the lines.
    pub src: Source<'s>,
    /// The records parsed whole in the first pass ([`read_whole`]), by line
    /// number (ascending); [`Lines::load`] takes each one out.
    pub records: Vec<(u64, Option<J>)>,
}

impl Lines<'_> {
    /// The record of line `no` kept by the first pass, when it is still there.
    pub(crate) fn peek(&self, no: u64) -> Option<&J> {
        let i = self.records.binary_search_by_key(&no, |r| r.0).ok()?;
        self.records[i].1.as_ref()
    }

    /// Hand a record taken with [`Lines::load`] back, for a later `load` of the
    /// same line (without it, that load parses the line again).
    pub(crate) fn put_back(&mut self, no: u64, rec: J) {
        if let Ok(i) = self.records.binary_search_by_key(&no, |r| r.0) {
            self.records[i].1.get_or_insert(rec);
        }
    }

    /// The whole (pruned) record of the line `no` at `off`/`len`, read again.
    /// The line parsed in the first pass, so an error here means the file changed
    /// in between: it names the line.
    pub(crate) fn load(&mut self, path: &Path, no: u64, off: u64, len: usize) -> Result<J> {
        if let Ok(i) = self.records.binary_search_by_key(&no, |r| r.0)
            && let Some(rec) = self.records[i].1.take()
        {
            return Ok(rec);
        }
        let changed = |what: &str| {
            Error::parse(
                path,
                Some(no),
                None,
                format!("the file changed while it was read ({what})"),
            )
        };
        let bytes: &[u8] = match &mut self.src {
            Source::None => return Err(changed("no source")),
            Source::Memory(b) => usize::try_from(off)
                .ok()
                .and_then(|o| b.get(o..o.checked_add(len)?))
                .ok_or_else(|| changed("line out of range"))?,
            Source::Owned(b) => usize::try_from(off)
                .ok()
                .and_then(|o| b.get(o..o.checked_add(len)?))
                .ok_or_else(|| changed("line out of range"))?,
            Source::File { file, buf, start } => {
                let inside = off >= *start
                    && usize::try_from(off - *start)
                        .ok()
                        .and_then(|o| o.checked_add(len))
                        .is_some_and(|end| end <= buf.len());
                if !inside {
                    buf.clear();
                    buf.resize(WINDOW.max(len), 0);
                    *start = off;
                    file.seek(std::io::SeekFrom::Start(off))
                        .map_err(|e| Error::io(path, e))?;
                    let mut got = 0;
                    while got < buf.len() {
                        match file.read(&mut buf[got..]) {
                            Ok(0) => break,
                            Ok(n) => got += n,
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(e) => return Err(Error::io(path, e)),
                        }
                    }
                    buf.truncate(got);
                }
                let o = usize::try_from(off - *start).unwrap_or(usize::MAX);
                buf.get(o..o.saturating_add(len))
                    .ok_or_else(|| changed("the file is shorter"))?
            }
        };
        let line = std::str::from_utf8(bytes).map_err(|_| changed("invalid UTF-8"))?;
        parse_record(line).map_err(|e| changed(&e.to_string()))
    }
}

/// Byte-identical lines are counted once (as every JSONL reader does). When the
/// whole input is in memory ([`read_whole`]) a 64-bit hash finds the candidate and
/// the bytes decide; otherwise the line itself is not kept, and a 128-bit hash
/// under two per-process random seeds decides: two different lines share it with
/// odds of about 2⁻¹²⁸.
#[derive(Default)]
struct Dedup {
    seeds: (
        foldhash::quality::RandomState,
        foldhash::quality::RandomState,
    ),
    first: std::collections::HashMap<u128, u64, foldhash::fast::RandomState>,
    /// In-memory inputs: hash -> (line number, offset, length) of its first line.
    at: std::collections::HashMap<u64, (u64, usize, usize), foldhash::fast::RandomState>,
}

impl Dedup {
    /// `off`: where `line` starts in `whole`, the whole input when it is in memory.
    fn check(
        &mut self,
        path: &Path,
        line_no: u64,
        line: &str,
        off: u64,
        whole: Option<&[u8]>,
    ) -> Option<Warning> {
        let line = line.trim_end_matches('\r');
        if let (Some(whole), Ok(off)) = (whole, usize::try_from(off)) {
            return match self.at.entry(self.seeds.0.hash_one(line)) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    let (first, o, n) = *e.get();
                    // a different line with the same hash (2⁻⁶⁴) is kept
                    (whole.get(o..o.saturating_add(n)) == Some(line.as_bytes()))
                        .then(|| crate::import::repeated_line_warning(path, line_no, first))
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert((line_no, off, line.len()));
                    None
                }
            };
        }
        let h = (u128::from(self.seeds.0.hash_one(line)) << 64)
            | u128::from(self.seeds.1.hash_one(line));
        match self.first.entry(h) {
            std::collections::hash_map::Entry::Occupied(e) => Some(
                crate::import::repeated_line_warning(path, line_no, *e.get()),
            ),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(line_no);
                None
            }
        }
    }
}

/// State of the first pass over one input.
struct Reader<'p> {
    /// The whole input, when it is in memory ([`read_whole`]).
    whole: Option<&'p [u8]>,
    path: &'p Path,
    out: Lines<'static>,
    seen: Dedup,
    line_no: u64,
}

impl Reader<'_> {
    /// Check one raw line (`start`: its file offset; `terminated`: a newline
    /// followed it) and keep its head record.
    fn line(&mut self, start: u64, raw: &[u8], terminated: bool) -> Result<()> {
        let path = self.path;
        self.line_no += 1;
        let line_no = self.line_no;
        let mut bytes = raw;
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
        // SIMD validation (the `compat` flavour reports where it failed, as std)
        let line = match simdutf8::compat::from_utf8(bytes) {
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
            return Ok(());
        }
        self.out.non_blank = true;
        if let Some(w) = self
            .seen
            .check(path, line_no, line, start + skip, self.whole)
        {
            self.out.warnings.push(w);
            return Ok(());
        }
        // one-pass mode (the input is in memory): parse each record whole, keep it
        let parsed = if self.whole.is_some() {
            parse_record(line).map(|rec| {
                let head = head_of(&rec);
                self.out.records.push((line_no, Some(rec)));
                head
            })
        } else {
            parse_head(line)
        };
        match parsed {
            Ok(head) => self.out.lines.push(Line {
                no: line_no,
                off: start + skip,
                len: line.len(),
                head,
            }),
            Err(e) if !terminated && cut_short(&e, line) => self.out.warnings.push(Warning::at(
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
        Ok(())
    }
}

/// First pass over the JSON lines read from `r` (at most [`MAX_INPUT_BYTES`]):
/// lines are checked in place in the reader's buffer (only a line that straddles
/// two reads is copied). The rules are those of the whole-file readers: a leading
/// byte-order mark is skipped; invalid UTF-8 is an error naming the line (an
/// incomplete character at the very end, a partial write, is dropped); blank
/// lines are skipped; a final line that ends early with no newline after it
/// becomes a `truncated_line` warning; any other bad line is an error naming the
/// line. The caller sets [`Lines::src`] for the second pass.
pub(crate) fn read<'s>(path: &Path, r: impl BufRead) -> Result<Lines<'s>> {
    read_lines(path, r, None)
}

/// One pass over an input held whole: the rules of [`read`], each record parsed
/// whole once and kept in [`Lines::records`] (a record that failed to parse
/// fails here, as in [`read`]). The caller sets [`Lines::src`] to the same bytes,
/// which [`Lines::load`] falls back to when a record is asked for twice.
pub(crate) fn read_whole<'s>(path: &Path, bytes: &[u8]) -> Result<Lines<'s>> {
    read_lines(path, bytes, Some(bytes))
}

/// The first pass; `whole`: the input, when it is in memory (one-pass mode:
/// records parsed whole and kept).
fn read_lines<'s>(path: &Path, mut r: impl BufRead, whole: Option<&[u8]>) -> Result<Lines<'s>> {
    let mut rd = Reader {
        path,
        out: Lines::default(),
        seen: Dedup::default(),
        line_no: 0,
        whole,
    };
    let too_big = || {
        Error::parse(
            path,
            None,
            None,
            format!("the input is above the limit of {MAX_INPUT_BYTES} bytes; refusing"),
        )
    };
    // a line that straddles reads: its start offset and bytes so far
    let mut carry: Vec<u8> = Vec::new();
    let mut carry_start = 0u64;
    let mut offset = 0u64;
    loop {
        let block = r.fill_buf().map_err(|e| Error::io(path, e))?;
        if block.is_empty() {
            break;
        }
        let n = block.len();
        if offset + n as u64 > MAX_INPUT_BYTES {
            // lines before the limit are still checked first, as a line reader would
            let room = usize::try_from(MAX_INPUT_BYTES - offset).unwrap_or(usize::MAX);
            rd.complete_lines(offset, &block[..room.min(n)], &mut carry, carry_start)?;
            return Err(too_big());
        }
        let pos = rd.complete_lines(offset, block, &mut carry, carry_start)?;
        if pos < n {
            if carry.is_empty() {
                carry_start = offset + pos as u64;
            }
            carry.extend_from_slice(&block[pos..]);
        }
        offset += n as u64;
        r.consume(n);
    }
    if !carry.is_empty() {
        rd.line(carry_start, &carry, false)?;
    }
    Ok(rd.out)
}

impl Reader<'_> {
    /// Check every complete line of `block` (read at `offset`), the first one
    /// finishing the line in `carry` that started at `carry_start`; returns where
    /// the unfinished rest of `block` starts.
    fn complete_lines(
        &mut self,
        offset: u64,
        block: &[u8],
        carry: &mut Vec<u8>,
        carry_start: u64,
    ) -> Result<usize> {
        let mut pos = 0;
        while let Some(i) = memchr::memchr(b'\n', &block[pos..]) {
            let end = pos + i + 1;
            if carry.is_empty() {
                self.line(offset + pos as u64, &block[pos..end], true)?;
            } else {
                carry.extend_from_slice(&block[pos..end]);
                self.line(carry_start, carry, true)?;
                carry.clear();
            }
            pos = end;
        }
        Ok(pos)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(l: &Lines<'_>) -> Vec<(u64, u64, usize, String)> {
        l.lines
            .iter()
            .map(|x| (x.no, x.off, x.len, x.head.to_string()))
            .collect()
    }

    #[test]
    fn lines_straddling_read_blocks_read_as_in_place_lines() {
        let long = format!(
            r#"{{"type":"user","uuid":"u2","message":{{"content":"{}"}}}}"#,
            "x".repeat(300)
        );
        let text = format!(
            "\u{feff}{{\"type\":\"user\",\"uuid\":\"u1\",\"message\":{{\"content\":\"hi\"}}}}\r\n\n   \n{long}\n{long}\n{{\"type\":\"assistant\",\"uuid\":\"u3\",\"message\":{{\"content\":[1,"
        );
        let bytes = text.as_bytes();
        let path = Path::new("t.jsonl");
        let whole = read(path, bytes).unwrap();
        // a 7-byte buffer: every line straddles reads
        let small = read(path, std::io::BufReader::with_capacity(7, bytes)).unwrap();
        assert_eq!(summary(&whole), summary(&small));
        // one pass (records kept) splits and warns alike, and hands the same records over
        let mut one = read_whole(path, bytes).unwrap();
        assert_eq!(summary(&one), summary(&whole));
        assert_eq!(one.records.len(), one.lines.len());
        let warned = |l: &Lines<'_>| {
            l.warnings
                .iter()
                .map(|w| (w.code, w.line, w.message.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(warned(&one), warned(&whole), "same repeats, same words");
        for (no, off, len, _) in summary(&whole) {
            let mut w = read(path, bytes).unwrap();
            w.src = Source::Memory(bytes);
            let want = w.load(path, no, off, len).unwrap();
            assert_eq!(one.load(path, no, off, len).unwrap(), want);
            // asked for twice: read again from the bytes
            one.src = Source::Memory(bytes);
            assert_eq!(one.load(path, no, off, len).unwrap(), want);
        }
        let codes = |l: &Lines<'_>| {
            l.warnings
                .iter()
                .map(|w| (w.code, w.line))
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(&whole), codes(&small));
        assert_eq!(
            codes(&whole),
            vec![
                (crate::model::WarningCode::DuplicateRecord, Some(5)),
                (crate::model::WarningCode::TruncatedLine, Some(6)),
            ]
        );
        // the head keeps the split fields only; the second pass reads the line whole
        let mut l = small;
        l.src = Source::Memory(bytes);
        let got: Vec<(u64, String)> = summary(&l)
            .into_iter()
            .map(|(no, off, len, head)| {
                assert!(!head.contains("message"));
                (no, l.load(path, no, off, len).unwrap().to_string())
            })
            .collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 1);
        assert!(got[0].1.contains(r#""content":"hi""#));
        assert_eq!(got[1].0, 4);
        assert_eq!(
            got[1].1,
            parse_record(&long).unwrap().to_string(),
            "the second pass reads the same text"
        );
    }

    #[test]
    fn a_file_changed_between_the_passes_is_an_error_naming_the_line() {
        let dir = std::env::temp_dir().join(format!("tc-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.jsonl");
        let line = r#"{"type":"user","message":{"content":"hello"}}"#;
        std::fs::write(&path, format!("{line}\n{line} \n")).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        let mut l = read(&path, std::io::BufReader::new(&f)).unwrap();
        l.src = Source::File {
            file: f,
            buf: Vec::new(),
            start: 0,
        };
        let (no, off, len) = (l.lines[1].no, l.lines[1].off, l.lines[1].len);
        let rec = l.load(&path, no, off, len).unwrap();
        let msg = rec.get("message").and_then(|m| m.get("content"));
        assert_eq!(msg.and_then(J::as_str), Some("hello"));
        // rewritten shorter while the session was being imported
        std::fs::write(&path, "{}\n").unwrap();
        l.src = Source::File {
            file: std::fs::File::open(&path).unwrap(),
            buf: Vec::new(),
            start: 0,
        };
        let e = l.load(&path, no, off, len).unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.to_string().contains("changed while it was read"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
