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
//!   [`Error::Parse`] naming file, line and field — never a panic.

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

use crate::input_root::InputRoot;
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
    /// Claude Code's own OpenTelemetry export alone (OTLP/JSON or OTLP/protobuf logs,
    /// metrics and traces; a file is read with the other telemetry files of its
    /// folder): one trace per `session.id`.
    ClaudeCodeOtel,
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
        Format::ClaudeCodeOtel,
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
            Format::ClaudeCodeOtel => "claude_code_otel",
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

    /// Parse a format name (a `--from` value, a binding's `format=`): case and
    /// `-`/`_` do not matter. `None` when no format has that name; see
    /// [`Format::from_name`] for the error every caller reports.
    pub fn parse(name: &str) -> Option<Format> {
        let n = name.trim().to_lowercase().replace('-', "_");
        Format::ALL.iter().copied().find(|f| f.as_str() == n)
    }

    /// Parse a format name; an unknown name is an [`Error::UnknownFormat`] about
    /// `path` (the input it was meant for) whose hint names the known formats.
    ///
    /// ```
    /// use tracecard_core::Format;
    /// assert_eq!(Format::from_name("claude-code", "x.jsonl").unwrap(), Format::ClaudeCode);
    /// let e = Format::from_name("nope", "x.jsonl").unwrap_err();
    /// assert!(e.to_string().contains("known formats: native, claude_code"));
    /// ```
    pub fn from_name(name: &str, path: impl Into<PathBuf>) -> Result<Format> {
        Format::parse(name).ok_or_else(|| Error::UnknownFormat {
            path: path.into(),
            hint: Some(format!(
                "no format named {name:?}; known formats: {}",
                Format::known_names()
            )),
        })
    }

    /// The names of every format, comma-separated, in detection order.
    pub fn known_names() -> String {
        Format::ALL
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn sniff(self, path: &Path, head: &str) -> bool {
        match self {
            Format::Native => crate::native::sniff(head),
            Format::ClaudeCode => claude_code::sniff(path, head),
            Format::ClaudeCodeOtel => claude_code_otel::sniff(path, head),
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
            Format::ClaudeCodeOtel => claude_code_otel::import(input),
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

/// Largest input file tracecard reads (1 GiB); a larger file is an
/// [`Error::Parse`] naming it, read no further.
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// Largest line of a JSONL file (64 MiB); a longer line is an [`Error::Parse`]
/// naming file and line, checked before the line is parsed.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// JSON values one document (a file, or one entry of an `.eval` archive) may hold:
/// `JSON_VALUES_BASE + bytes / 4`, counting `[`, `{`, `,` and `:` outside strings.
/// Real traces are string-heavy (fewer than one value per 20 bytes); a document
/// like `[0,0,0,…]` would need 16 bytes of memory per input byte and is refused
/// with an [`Error::Parse`] instead of an allocation failure.
pub const JSON_VALUES_BASE: u64 = 4_000_000;

/// What kind of non-regular file `meta` describes (for messages).
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Read at most `limit` bytes (and at most `prefix` when given: a head for format
/// detection) of the regular file at `path`. The file type is checked before the
/// file is opened; a non-regular file is an [`Error::Io`] (`InvalidInput`) naming
/// it, a file above `limit` an [`Error::Parse`].
pub(crate) fn read_regular(path: &Path, limit: u64, prefix: Option<u64>) -> Result<Vec<u8>> {
    use std::io::Read;
    let meta = regular_meta(path)?;
    let too_big = |n: u64| {
        Error::parse(
            path,
            None,
            None,
            format!("the file is {n} bytes, above the limit of {limit} bytes; refusing"),
        )
    };
    if prefix.is_none() && meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    let want = prefix.unwrap_or(limit).min(limit);
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::with_capacity(meta.len().min(want) as usize);
    f.take(want + u64::from(prefix.is_none()))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if prefix.is_none() && bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The metadata of `path`, an [`Error::Io`] (`InvalidInput`) naming it when it is
/// not a regular file (checked before the file is opened).
fn regular_meta(path: &Path) -> Result<std::fs::Metadata> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        let kind = file_kind(&meta);
        return Err(Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{kind}; tracecard reads only regular files"),
            ),
        ));
    }
    Ok(meta)
}

/// Open the regular file at `path` for a streaming reader, with the checks of
/// [`read_regular`]: not a regular file is an [`Error::Io`], above `limit` bytes an
/// [`Error::Parse`] (the reader enforces the limit again while reading).
pub(crate) fn open_regular(path: &Path, limit: u64) -> Result<std::fs::File> {
    let meta = regular_meta(path)?;
    if meta.len() > limit {
        return Err(Error::parse(
            path,
            None,
            None,
            format!(
                "the file is {} bytes, above the limit of {limit} bytes; refusing",
                meta.len()
            ),
        ));
    }
    std::fs::File::open(path).map_err(|e| Error::io(path, e))
}

/// Refuse a JSON document that would take far more memory than its size (see
/// [`JSON_VALUES_BASE`]). `line`/`field` say where it is, for the message.
pub(crate) fn check_json_budget(
    path: &Path,
    line: Option<u64>,
    field: Option<&str>,
    bytes: &[u8],
) -> Result<()> {
    let limit = JSON_VALUES_BASE + bytes.len() as u64 / 4;
    // Fast paths: a document can hold no more values than bytes (so anything up to
    // ~5.3 MB passes unread), and every structural byte, inside strings or not,
    // bounds the count from above: a branch-free count per 255-byte chunk that the
    // compiler vectorises. Only a document past the limit on that bound pays for the
    // exact string-aware scan below (it was 17 % of a cost-only import).
    if bytes.len() as u64 <= limit {
        return Ok(());
    }
    let upper: u64 = bytes
        .chunks(255)
        .map(|c| {
            let n: u8 = c.iter().fold(0u8, |n, &b| {
                n + u8::from((b == b'[') | (b == b'{') | (b == b',') | (b == b':'))
            });
            u64::from(n)
        })
        .sum();
    if upper <= limit {
        return Ok(());
    }
    let (mut in_str, mut esc, mut n) = (false, false, 0u64);
    for &b in bytes {
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else {
            match b {
                b'"' => in_str = true,
                b'[' | b'{' | b',' | b':' => n += 1,
                _ => {}
            }
        }
    }
    if n > limit {
        return Err(Error::parse(
            path,
            line,
            field,
            format!(
                "{n} JSON values in {} bytes, above the limit of {limit} (a document that dense would need far more memory than its size); refusing",
                bytes.len()
            ),
        ));
    }
    Ok(())
}

/// How much step content (tool arguments and results, model outputs) an import
/// keeps. The default keeps it all; the cards never show content, only the
/// analysis reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContentOptions {
    /// Keep no content at all, not even hashes: the cost-only path (`compile
    /// --no-analysis`, `tracecard cost`). Steps come without `input`/`output`;
    /// `source.content` still says what the source carried.
    pub skip: bool,
    /// Keep at most this many bytes of each piece's text (cut at a character
    /// boundary; hash and length stay those of the whole text). A trace with cut
    /// text gets a `content_truncated` warning; the analysis sees only the kept part.
    pub max_bytes: Option<usize>,
}

/// A file being imported: its path and bytes.
#[derive(Debug)]
pub struct Input {
    /// The path as given.
    pub path: PathBuf,
    /// The raw bytes.
    pub bytes: Vec<u8>,
    /// How much content to keep.
    pub content: ContentOptions,
    /// The files read with this one when they do not come from the filesystem:
    /// `None` (the default) looks beside the file on disk (Claude Code's
    /// `<session>/subagents/` and `<session>/otel/`); `Some` uses only these
    /// in-memory files (an engine job's group, see [`group_inputs`]).
    pub companions: Option<Vec<Input>>,
}

impl Input {
    /// Read `path`: a regular file (or a symlink to one) of at most
    /// [`MAX_INPUT_BYTES`]. FIFOs, devices, sockets and directories are refused
    /// before they are opened (no blocking on a FIFO, no endless `/dev/zero`).
    pub fn read(path: &Path) -> Result<Input> {
        let bytes = read_regular(path, MAX_INPUT_BYTES, None)?;
        Ok(Input {
            path: path.to_path_buf(),
            bytes,
            content: ContentOptions::default(),
            companions: None,
        })
    }

    /// In-memory input (for tests and bindings).
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) -> Input {
        Input {
            path: path.into(),
            bytes: bytes.into(),
            content: ContentOptions::default(),
            companions: None,
        }
    }

    /// The bytes as UTF-8 without a leading byte-order mark, or a parse error naming
    /// the line of the first bad byte. A file cut inside its last multi-byte
    /// character (a partial write) reads as the text before the cut: the JSONL
    /// readers then skip the incomplete last line with a `truncated_line` warning.
    pub fn text(&self) -> Result<&str> {
        let bytes = self
            .bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(&self.bytes);
        std::str::from_utf8(bytes).or_else(|e| {
            if e.error_len().is_none() {
                // only an incomplete sequence at the very end: keep what precedes it
                return Ok(std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default());
            }
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64
                + 1;
            let at = e.valid_up_to() + (self.bytes.len() - bytes.len());
            Err(Error::parse(
                &self.path,
                Some(line),
                None,
                format!("invalid UTF-8 at byte {at}"),
            ))
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
    let input = Input {
        path: path.to_path_buf(),
        bytes: read_regular(path, MAX_INPUT_BYTES, Some(HEAD_BYTES as u64))?,
        content: ContentOptions::default(),
        companions: None,
    };
    Ok(detect_input(&input))
}

/// How much of a file format detection looks at.
const HEAD_BYTES: usize = 64 * 1024;

/// The largest `i' <= i` that is a char boundary of `s` (`s.len()` when `i` is past
/// the end): every "look at the first N bytes" window goes through this, so a
/// multi-byte character straddling byte N never panics.
pub(crate) fn floor_char_boundary(s: &str, i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    let mut i = i;
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn head(input: &Input) -> String {
    let n = input.bytes.len().min(HEAD_BYTES);
    let b = &input.bytes[..n];
    lossy(b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b))
}

/// `String::from_utf8_lossy`, with a fast path for valid UTF-8 (the usual case:
/// the lossy decoder walks its input several times slower, and detection reads
/// 64 KiB of every file).
pub(crate) fn lossy(b: &[u8]) -> String {
    match simdutf8::basic::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

fn detect_input(input: &Input) -> Option<Format> {
    let head = head(input);
    // A sniffer that panics (a bug) just does not match.
    Format::ALL.iter().copied().find(|f| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.sniff(&input.path, &head)))
            .unwrap_or(false)
    })
}

/// Import every session in `path` with `format` (auto-detected when `None`).
pub fn load(path: &Path, format: Option<Format>) -> Result<Vec<Trace>> {
    load_with(path, format, ContentOptions::default())
}

/// [`load`], keeping only as much content as `content` says.
pub fn load_with(
    path: &Path,
    format: Option<Format>,
    content: ContentOptions,
) -> Result<Vec<Trace>> {
    // Claude Code transcripts (the largest inputs by far) are read streaming: the
    // file is never held whole.
    let format = match format {
        Some(f) => Some(f),
        None => detect(path)?,
    };
    if format == Some(Format::ClaudeCode) {
        let traces = guarded(path, Format::ClaudeCode, || {
            claude_code::import_path(path, content)
        })?;
        return finish_traces(path, Format::ClaudeCode, traces, content);
    }
    let mut input = Input::read(path)?;
    input.content = content;
    load_input(&input, format)
}

/// [`load_with`] for a file found under the input argument `root` (a directory
/// walked with [`discover`], or the file itself): the cards of its traces name their
/// files relative to that argument's parent (see [`InputRoot`]).
pub fn load_under(
    root: &InputRoot,
    path: &Path,
    format: Option<Format>,
    content: ContentOptions,
) -> Result<Vec<Trace>> {
    let mut traces = load_with(path, format, content)?;
    set_root(&mut traces, root);
    Ok(traces)
}

/// Import the input argument `arg`: a file, or every file under a directory that
/// some importer recognises (others are skipped, as `tracecard compile DIR` does).
/// Cards name the files relative to the argument's parent (see [`InputRoot`]).
pub fn load_tree(arg: &Path, format: Option<Format>) -> Result<Vec<Trace>> {
    let root = InputRoot::of(arg);
    if !arg.is_dir() {
        return load_under(&root, arg, format, ContentOptions::default());
    }
    let mut out = Vec::new();
    for f in discover_noting(arg)?.0 {
        let fmt = match format {
            Some(x) => Some(x),
            None => detect(&f)?,
        };
        if fmt.is_some() {
            out.extend(load_under(&root, &f, fmt, ContentOptions::default())?);
        }
    }
    Ok(out)
}

/// Record on `traces` the input argument their files were found under (the
/// loaders otherwise take the file read as the argument).
pub fn set_root(traces: &mut [Trace], root: &InputRoot) {
    for t in traces {
        t.source.root = Some(root.clone());
    }
}

/// Import the single session in `path`: an [`Error::MultipleSessions`] when the
/// file holds several (use [`load`]), an [`Error::Parse`] when it holds none.
pub fn load_one(path: &Path, format: Option<Format>) -> Result<Trace> {
    one(path, load(path, format)?)
}

/// Import the single session in an in-memory `input` (see [`load_one`]).
pub fn load_input_one(input: &Input, format: Option<Format>) -> Result<Trace> {
    one(&input.path, load_input(input, format)?)
}

fn one(path: &Path, mut traces: Vec<Trace>) -> Result<Trace> {
    match traces.len() {
        1 => Ok(traces.remove(0)),
        0 => Err(Error::parse(path, None, None, "the file holds no session")),
        count => Err(Error::MultipleSessions {
            path: path.to_path_buf(),
            count,
        }),
    }
}

/// Apply `opts` to traces from an importer that kept everything (the Claude Code
/// importer applies `skip` itself, before hashing).
fn apply_content_options(t: &mut Trace, opts: ContentOptions) {
    if opts.skip {
        for s in &mut t.steps {
            s.input = None;
            s.output = None;
        }
        t.outcome.answer = None;
        return;
    }
    let Some(max) = opts.max_bytes else { return };
    let mut cut = 0u64;
    let pieces = t
        .steps
        .iter_mut()
        .flat_map(|s| s.input.iter_mut().chain(s.output.iter_mut()))
        .chain(t.outcome.answer.iter_mut());
    for c in pieces {
        if let Some(text) = &mut c.text
            && text.len() > max
        {
            text.truncate(floor_char_boundary(text, max));
            cut += 1;
        }
    }
    if cut > 0 {
        t.warn(Warning::new(
            crate::model::WarningCode::ContentTruncated,
            format!(
                "{cut} content piece(s) longer than {max} bytes keep only their first {max} bytes (--max-content); hashes and lengths are of the whole text, the analysis sees the kept part"
            ),
        ));
    }
}

/// Import every session in an in-memory `input`.
pub fn load_input(input: &Input, format: Option<Format>) -> Result<Vec<Trace>> {
    // before detection: a UTF-16 file is named as such, not "unknown format"
    if let Some(enc) = utf16_bom(&input.bytes) {
        return Err(Error::parse(
            &input.path,
            Some(1),
            None,
            format!(
                "the file is {enc} (it starts with a {enc} byte-order mark); tracecard reads UTF-8: convert it, e.g. `iconv -f UTF-16 -t UTF-8`"
            ),
        ));
    }
    // before detection: an empty file is "empty", not "unknown format"
    let body = input
        .bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&input.bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::parse(&input.path, None, None, "the file is empty"));
    }
    let format = match format {
        Some(f) => f,
        None => detect_input(input).ok_or_else(|| Error::UnknownFormat {
            path: input.path.clone(),
            hint: Some(format!("known formats: {}", Format::known_names())),
        })?,
    };
    if input.bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Error::parse(
            &input.path,
            None,
            None,
            format!(
                "the input is {} bytes, above the limit of {MAX_INPUT_BYTES} bytes; refusing",
                input.bytes.len()
            ),
        ));
    }
    if !input.bytes.starts_with(b"PK") {
        check_json_budget(&input.path, None, None, &input.bytes)?;
    }
    let traces = import_guarded(format, input)?;
    finish_traces(&input.path, format, traces, input.content)
}

/// Checks and defaults every importer's traces get: token counts within
/// [`MAX_TOKENS`](crate::model::MAX_TOKENS), the format and source file named, the
/// content options applied.
fn finish_traces(
    path: &Path,
    format: Format,
    mut traces: Vec<Trace>,
    content: ContentOptions,
) -> Result<Vec<Trace>> {
    for t in &traces {
        for s in &t.steps {
            if let Some((field, v)) = s.tokens.over_limit() {
                let at = s
                    .source_ref
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                return Err(Error::parse(
                    path,
                    None,
                    Some(&format!("tokens.{field}")),
                    format!(
                        "step {}{at}: {v} tokens is above the limit of {} (a corrupt count)",
                        s.id,
                        crate::model::MAX_TOKENS
                    ),
                ));
            }
        }
    }
    for t in &mut traces {
        // a session with a header and nothing else: say so on the card
        if t.steps.is_empty()
            && !t
                .warnings
                .iter()
                .any(|w| w.code == crate::model::WarningCode::NoSamples)
        {
            t.warn(Warning::at(
                crate::model::WarningCode::EmptySession,
                "the session holds no steps (a header or metadata only): its card is empty",
                path.display().to_string(),
                None,
            ));
        }
        if t.source.format.is_empty() {
            t.source.format = format.as_str().into();
        }
        if t.source.files.is_empty() {
            t.source.files.push(path.display().to_string());
        }
        if t.source.root.is_none() {
            t.source.root = Some(InputRoot::file(path));
        }
        apply_content_options(t, content);
    }
    Ok(traces)
}

/// `Some("UTF-16LE" | "UTF-16BE")` when `bytes` start with a UTF-16 byte-order mark.
fn utf16_bom(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xFE, ..] => Some("UTF-16LE"),
        [0xFE, 0xFF, ..] => Some("UTF-16BE"),
        _ => None,
    }
}

/// A serde_json error on one JSONL line, without serde_json's own "at line 1
/// column N" (its line counts within the record, not the file, so the message
/// would name two lines): the column stays, the file line is the caller's.
pub(crate) fn line_error(e: &serde_json::Error) -> String {
    format!("{} (column {})", crate::error::json_message(e), e.column())
}

/// Run the importer; a panic (a bug: importers return typed errors) becomes an
/// [`Error::Parse`] naming the file, so it never crosses into the CLI's exit code
/// or the Python binding. The panic's own message is cut short: it may quote the
/// file's content.
fn import_guarded(format: Format, input: &Input) -> Result<Vec<Trace>> {
    guarded(&input.path, format, || format.import(input))
}

/// Run an importer; a panic becomes an [`Error::Parse`] naming `path` (see
/// [`import_guarded`]).
fn guarded(
    path: &Path,
    format: Format,
    f: impl FnOnce() -> Result<Vec<Trace>>,
) -> Result<Vec<Trace>> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let short: String = msg.chars().take(80).collect();
            Err(Error::parse(
                path,
                None,
                None,
                format!(
                    "internal error in the {format} importer (a tracecard bug, please report it): {short}"
                ),
            ))
        }
    }
}

/// Files under `root` (recursively, sorted) that some importer recognises, minus
/// those another file pulls in (Claude Code `subagents/` transcripts are read with
/// their parent session). A file path is returned as is.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>> {
    Ok(discover_noting(root)?.0)
}

/// [`discover`], plus one note per entry it passes over without reading: symlinks
/// (not followed inside a walked directory, so no loops) and FIFOs, devices and
/// sockets (never opened).
pub fn discover_noting(root: &Path) -> Result<(Vec<PathBuf>, Vec<String>)> {
    if !root.is_dir() {
        return Ok((vec![root.to_path_buf()], Vec::new()));
    }
    let mut notes = Vec::new();
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
            } else if ft.is_file() {
                if !is_pulled_in(&p) {
                    out.push(p);
                }
            } else if ft.is_symlink() {
                notes.push(format!(
                    "skipped symlink {} (symlinks inside a directory are not followed; name the target explicitly)",
                    p.display()
                ));
            } else {
                notes.push(format!("skipped {} (not a regular file)", p.display()));
            }
        }
    }
    out.sort();
    notes.sort();
    drop_telemetry_siblings(&mut out);
    Ok((out, notes))
}

/// A Claude Code telemetry file is read with the other telemetry files of its
/// folder (logs, metrics and traces are exported apart), so only the first of them
/// per folder is listed. Only folders with several candidate files are looked at.
fn drop_telemetry_siblings(out: &mut Vec<PathBuf>) {
    let candidate = |p: &Path| {
        p.extension().is_some_and(|x| {
            x == "json" || x == "jsonl" || x == "pb" || x == "binpb" || x == "protobuf"
        })
    };
    let mut per_dir: std::collections::HashMap<&Path, usize> = std::collections::HashMap::new();
    for p in out.iter().filter(|p| candidate(p)) {
        *per_dir
            .entry(p.parent().unwrap_or(Path::new("")))
            .or_default() += 1;
    }
    let mut led: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    let mut drop = std::collections::HashSet::new();
    for p in out.iter() {
        let dir = p.parent().unwrap_or(Path::new(""));
        if !candidate(p) || per_dir.get(dir).copied().unwrap_or(0) < 2 {
            continue;
        }
        if claude_code_otel::is_telemetry_file(p) && !led.insert(dir.to_path_buf()) {
            drop.insert(p.clone());
        }
    }
    if !drop.is_empty() {
        out.retain(|p| !drop.contains(p));
    }
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

/// The file that `path` is read with: Claude Code keeps sub-agents in
/// `<session>/subagents/agent-*.jsonl` and telemetry in `<session>/otel/`, both read
/// with `<session>.jsonl`, so their key is that file; any other file is its own key.
/// An engine job (Spark, Ray) partitions its files by this key so that a session's
/// files reach the same worker; see [`group_inputs`].
pub fn session_key(path: &Path) -> PathBuf {
    if let Some(dir) = path.parent() {
        if dir
            .file_name()
            .is_some_and(|n| n == "subagents" || n == "otel")
        {
            if let Some(session_dir) = dir.parent().filter(|d| d.file_name().is_some()) {
                return session_dir.with_extension("jsonl");
            }
        }
    }
    path.to_path_buf()
}

/// Group in-memory files into sessions, as [`discover`] does on disk: the files
/// whose [`session_key`] is another file of the batch become that file's
/// [`Input::companions`]; every other file stands alone. Each returned input has
/// `companions` set (maybe empty), so importing it never looks at the filesystem.
/// Sorted by path.
pub fn group_inputs(inputs: Vec<Input>) -> Vec<Input> {
    let mut mains: Vec<Input> = Vec::new();
    let mut rest: Vec<(PathBuf, Input)> = Vec::new();
    let paths: std::collections::HashSet<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
    for mut i in inputs {
        let key = session_key(&i.path);
        if key != i.path && paths.contains(&key) {
            rest.push((key, i));
        } else {
            i.companions.get_or_insert_with(Vec::new);
            mains.push(i);
        }
    }
    mains.sort_by(|a, b| a.path.cmp(&b.path));
    rest.sort_by(|a, b| a.1.path.cmp(&b.1.path));
    for (key, i) in rest {
        if let Ok(at) = mains.binary_search_by(|m| m.path.cmp(&key)) {
            mains[at].companions.get_or_insert_with(Vec::new).push(i);
        }
    }
    mains
}

/// The parsed lines of a JSONL file.
#[derive(Debug, Default)]
pub(crate) struct JsonLines {
    /// `(1-based line number, value)` for every non-blank line that parsed.
    pub lines: Vec<(u64, serde_json::Value)>,
    /// `truncated_line` when the last line was incomplete.
    pub warnings: Vec<Warning>,
}

/// Parse the JSON lines of `text`. Blank lines are skipped. A final line that does
/// not parse because it ends early, with no trailing newline (a file still being
/// written), becomes a `truncated_line` warning; any other bad line is an error
/// naming the line.
pub(crate) fn jsonl(path: &Path, text: &str) -> Result<JsonLines> {
    jsonl_with(path, text, |l| serde_json::from_str::<serde_json::Value>(l))
}

/// [`jsonl`] with the line parser given: an importer that needs only part of each
/// record parses it into a pruned `Value` (see `claude_code`).
pub(crate) fn jsonl_with(
    path: &Path,
    text: &str,
    parse: impl Fn(&str) -> serde_json::Result<serde_json::Value>,
) -> Result<JsonLines> {
    let ends_with_newline = text.ends_with('\n');
    let mut out = JsonLines::default();
    let mut seen = Dedup::default();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let last = lines.peek().is_none();
        let line_no = i as u64 + 1;
        check_line_len(path, line_no, line)?;
        if line.trim().is_empty() {
            continue;
        }
        if let Some(w) = seen.check(path, line_no, line) {
            out.warnings.push(w);
            continue;
        }
        match parse(line) {
            Ok(v) => out.lines.push((line_no, v)),
            Err(e) if last && !ends_with_newline && cut_short(&e, line) => out.warnings.push(Warning::at(
                crate::model::WarningCode::TruncatedLine,
                format!("last line is incomplete ({} bytes; the session may still be running); skipped", line.len()),
                path.display().to_string(),
                Some(line_no),
            )),
            Err(e) => return Err(Error::parse(path, Some(line_no), None, line_error(&e))),
        }
    }
    Ok(out)
}

/// Does `e` (from parsing `line`, the last line, with no newline after it) say the
/// line ends early? EOF inside a value, or a number cut after `-`, `1.` or `1e`
/// (serde_json reports those as invalid numbers at the last column).
pub(crate) fn cut_short(e: &serde_json::Error, line: &str) -> bool {
    e.is_eof() || (e.line() == 1 && e.column() >= line.trim_end().chars().count())
}

/// Byte-identical records (a line written twice: a retried append, a merged
/// copy) are counted once: the repeat is skipped with a `duplicate_record`
/// warning naming both lines. Every JSONL reader goes through this.
/// Lines are hashed with foldhash (per-process random seed: fast on long lines, and
/// no fixed collisions for a hostile file to aim at); SipHash of every byte of every
/// line was 12 % of a large import.
#[derive(Default)]
pub(crate) struct Dedup<'a> {
    first: std::collections::HashMap<&'a str, u64, foldhash::fast::RandomState>,
}

impl<'a> Dedup<'a> {
    /// `Some(warning)` when `line` repeats an earlier line exactly.
    pub(crate) fn check(&mut self, path: &Path, line_no: u64, line: &'a str) -> Option<Warning> {
        let line = line.trim_end_matches('\r');
        match self.first.entry(line) {
            std::collections::hash_map::Entry::Occupied(e) => {
                Some(repeated_line_warning(path, line_no, *e.get()))
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(line_no);
                None
            }
        }
    }
}

/// Records of one JSONL file that repeat an earlier record's id (`id_field`:
/// OpenClaw `id`, Claude Code `uuid`) without repeating its bytes (those are
/// caught by [`Dedup`]): a re-serialised copy (other key order, spacing, an
/// added field) of the same record. An id names one record, so the repeat is
/// dropped either way with a `duplicate_record` warning naming its line and the
/// id: when `same` says the two mean the same, "counted once"; when they
/// conflict (say, different usage), "the first was kept", since it is what later
/// records refer to. `same` is only called on a collision.
/// The `duplicate_record` warning for line `line_no` repeating line `first`
/// byte for byte.
pub(crate) fn repeated_line_warning(path: &Path, line_no: u64, first: u64) -> Warning {
    Warning::at(
        crate::model::WarningCode::DuplicateRecord,
        format!("line {line_no} repeats line {first} byte for byte; counted once"),
        path.display().to_string(),
        Some(line_no),
    )
}

/// The `duplicate_record` warning for line `line` repeating the record with id
/// `key` first seen on line `first_line` (`same`: both mean the same record).
pub(crate) fn repeated_id_warning(
    path: &Path,
    id_field: &str,
    key: &str,
    line: u64,
    first_line: u64,
    same: bool,
) -> Warning {
    let message = if same {
        format!(
            "line {line} repeats the record of line {first_line} ({id_field} {key:?}), written differently; counted once"
        )
    } else {
        format!(
            "line {line} repeats the {id_field} {key:?} of line {first_line} with different content; the first (line {first_line}) was kept"
        )
    };
    Warning::at(
        crate::model::WarningCode::DuplicateRecord,
        message,
        path.display().to_string(),
        Some(line),
    )
}

pub(crate) fn dedup_by_id<T>(
    path: &Path,
    lines: &mut Vec<(u64, T)>,
    id_field: &str,
    id: impl Fn(&T) -> Option<&str>,
    same: impl Fn(&T, &T) -> bool,
) -> Vec<Warning> {
    let mut first: std::collections::HashMap<&str, usize> = Default::default();
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    for (i, (_, v)) in lines.iter().enumerate() {
        if let Some(k) = id(v) {
            match first.entry(k) {
                std::collections::hash_map::Entry::Occupied(e) => repeats.push((i, *e.get())),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(i);
                }
            }
        }
    }
    if repeats.is_empty() {
        return Vec::new();
    }
    let mut warnings = Vec::with_capacity(repeats.len());
    for &(i, j) in &repeats {
        let (line, v) = (&lines[i].0, &lines[i].1);
        let (first_line, w) = (&lines[j].0, &lines[j].1);
        let key = id(v).unwrap_or_default();
        warnings.push(repeated_id_warning(
            path,
            id_field,
            key,
            *line,
            *first_line,
            same(w, v),
        ));
    }
    let mut dropped = repeats.iter().map(|&(i, _)| i).peekable();
    let mut i = 0usize;
    lines.retain(|_| {
        let gone = dropped.peek() == Some(&i);
        if gone {
            dropped.next();
        }
        i += 1;
        !gone
    });
    warnings
}

/// The elements of a JSON list (`field`, for messages) minus repeats, with their
/// original index: nothing in a list is counted twice without a word.
///
/// - An element whose `id` (when the format has ids) was seen before is dropped:
///   ids name one record, so a second copy is a double write, counted once.
/// - An element without an id that equals an earlier one exactly is dropped when
///   `twin(v)` is `Some(true)` (it carries its own time: two records at the same
///   instant with the same content are one record), kept but named in a warning
///   when `Some(false)` (two identical chat messages can both be real), and not
///   compared at all when `None`.
///
/// At most two `duplicate_record` warnings per list, each counting its cases and
/// naming the first.
pub(crate) fn dedup_list<'v>(
    file: &str,
    field: &str,
    list: &'v [serde_json::Value],
    id: impl Fn(&serde_json::Value) -> Option<String>,
    twin: impl Fn(&serde_json::Value) -> Option<bool>,
) -> (Vec<(usize, &'v serde_json::Value)>, Vec<Warning>) {
    use std::collections::hash_map::Entry;
    let mut by_id: std::collections::HashMap<String, usize> = Default::default();
    let mut by_text: std::collections::HashMap<String, usize> = Default::default();
    let (mut dropped, mut kept_twins) = (Vec::new(), Vec::new());
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        if let Some(k) = id(v) {
            match by_id.entry(k) {
                Entry::Occupied(e) => {
                    let same = list[*e.get()] == *v;
                    dropped.push((i, *e.get(), same));
                    continue;
                }
                Entry::Vacant(e) => {
                    e.insert(i);
                }
            }
        } else if let Some(drop) = twin(v) {
            match by_text.entry(v.to_string()) {
                Entry::Occupied(e) if drop => {
                    dropped.push((i, *e.get(), true));
                    continue;
                }
                Entry::Occupied(e) => kept_twins.push((i, *e.get())),
                Entry::Vacant(e) => {
                    e.insert(i);
                }
            }
        }
        out.push((i, v));
    }
    let mut warnings = Vec::new();
    if let Some(&(i, j, same)) = dropped.first() {
        warnings.push(Warning::at(
            crate::model::WarningCode::DuplicateRecord,
            format!(
                "{} {field} entr{} an earlier one (first: {field}[{i}] repeats {field}[{j}]{}); counted once",
                dropped.len(),
                if dropped.len() == 1 { "y repeats" } else { "ies repeat" },
                if same { "" } else { " by id, with different content; the first was kept" },
            ),
            file,
            None,
        ));
    }
    if let Some(&(i, j)) = kept_twins.first() {
        warnings.push(Warning::at(
            crate::model::WarningCode::DuplicateRecord,
            format!(
                "{} {field} entr{} an earlier one exactly, with no id or time to tell a repeat from a double write (first: {field}[{i}] equals {field}[{j}]); kept, check the source",
                kept_twins.len(),
                if kept_twins.len() == 1 { "y equals" } else { "ies equal" },
            ),
            file,
            None,
        ));
    }
    (out, warnings)
}

/// The id of a JSON record as text (`field` a string or an integer), for
/// [`dedup_list`].
pub(crate) fn id_of(v: &serde_json::Value, field: &str) -> Option<String> {
    match v.get(field)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The id of a chat message: its `id`, else for a tool result its `tool_call_id`
/// (one call has one result), for [`dedup_list`].
pub(crate) fn message_id(m: &serde_json::Value) -> Option<String> {
    id_of(m, "id").or_else(|| {
        (m.get("role").and_then(serde_json::Value::as_str) == Some("tool"))
            .then(|| id_of(m, "tool_call_id").map(|c| format!("tool result {c}")))
            .flatten()
    })
}

/// A JSONL line longer than [`MAX_LINE_BYTES`] is an error naming file and line.
pub(crate) fn check_line_len(path: &Path, line_no: u64, line: &str) -> Result<()> {
    if line.len() > MAX_LINE_BYTES {
        return Err(Error::parse(
            path,
            Some(line_no),
            None,
            format!(
                "the line is {} bytes, above the limit of {MAX_LINE_BYTES} bytes per JSONL line; refusing",
                line.len()
            ),
        ));
    }
    Ok(())
}

/// Typed accessors on `serde_json::Value` that turn a wrong type into an
/// [`Error::Parse`] naming the field, and a missing field into `None`.
pub(crate) mod json {
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

        /// Optional token count: [`Self::u64`] capped at
        /// [`MAX_TOKENS`](crate::model::MAX_TOKENS), so sums of counts never overflow.
        pub fn tokens(&self, v: &Value, field: &str) -> Result<Option<u64>> {
            match self.u64(v, field)? {
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

        /// A reported dollar amount `c` read from `field` as [`Usd`]; an amount no
        /// [`Usd`] holds (beyond about ±$9.2 billion) is an error naming the field,
        /// never a silent `None` or $0.
        pub fn usd(&self, field: &str, c: f64) -> Result<crate::Usd> {
            crate::Usd::from_f64(c).ok_or_else(|| {
                self.err(
                    field,
                    format!("{c} is not a dollar amount tracecard can hold"),
                )
            })
        }

        /// Optional number field (float).
        pub fn f64(&self, v: &Value, field: &str) -> Result<Option<f64>> {
            match v.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => Ok(n.as_f64()),
                Some(Value::String(s)) => match s.parse::<f64>() {
                    Ok(f) if f.is_finite() => Ok(Some(f)),
                    _ => Err(self.err(field, format!("expected a finite number, found {s:?}"))),
                },
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
