//! The one error type of `tracecard-core`.
//!
//! Every failure the core can report is a variant of [`Error`]. Variants carry
//! structured fields (file, line, field) instead of pre-formatted strings so the
//! bindings can build rich exceptions, and [`Error::kind`] gives a stable,
//! exhaustive discriminant that the Python and Node layers map to their own error
//! classes: adding a variant breaks their build (an exhaustive `match`), not users.

use std::path::PathBuf;

/// A boxed error from anywhere: the cause an [`Error`] carries, or a host
/// language's exception ([`Error::Host`]).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `tracecard-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file that could not be read or written.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The input is not valid for its format: bad JSON, a wrong type, a missing field.
    #[error("{}{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), field.as_deref().map(|f| format!(" (field `{f}`)")).unwrap_or_default())]
    Parse {
        /// The file being parsed (`<memory>` for in-memory input).
        path: PathBuf,
        /// 1-based line number when the format is line-oriented or the parser knows it.
        line: Option<u64>,
        /// The field (JSON path-like) at fault, when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
        /// The parser's own error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// No importer recognises the input, or the named format does not exist.
    #[error("{}: unknown trace format{}", path.display(), hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    UnknownFormat {
        /// The input that could not be classified.
        path: PathBuf,
        /// What was seen or which formats are known.
        hint: Option<String>,
    },
    /// A single session was asked for ([`load_one`](crate::load_one)) but the input
    /// holds several.
    #[error("{}: the file holds {count} sessions; load them all instead", path.display())]
    MultipleSessions {
        /// The input.
        path: PathBuf,
        /// How many sessions it holds.
        count: usize,
    },
    /// A price table or price override file is invalid.
    #[error("price table {}: {message}", path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "<bundled>".into()))]
    Pricing {
        /// The price file, `None` for the bundled table.
        path: Option<PathBuf>,
        /// What is wrong.
        message: String,
        /// The parser's own error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// A trace or card is structurally invalid (dangling parent, duplicate id, ...).
    #[error("invalid {what}: {message}")]
    Validation {
        /// What was being validated (`trace`, `card`, a field path).
        what: String,
        /// What is wrong.
        message: String,
    },
    /// A counterfactual replayer failed (its command crashed, timed out, or
    /// answered something that is not an outcome). The analysis keeps its dataflow
    /// verdicts and reports a `replay_failed` warning.
    #[error("replayer `{replayer}` failed: {message}")]
    Replay {
        /// Name of the replayer.
        replayer: String,
        /// What it reported.
        message: String,
        /// The underlying error (an I/O error, a core error), when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// An error raised by host-language code the core called back (a Python or
    /// JavaScript replayer), carried through the core unchanged so the binding
    /// can hand the very same exception back to its caller: downcast
    /// [`Error::Host::source`](Error::Host) to the binding's own error type. It
    /// stops the operation (it is not turned into a warning).
    #[error("{context}: {source}")]
    Host {
        /// What the core was doing (`replayer `my_fn``).
        context: String,
        /// The host's error.
        #[source]
        source: BoxError,
    },
    /// Serialising a card or trace failed.
    #[error("could not serialise {what}: {message}")]
    Serialize {
        /// What was being serialised.
        what: String,
        /// The serializer's message.
        message: String,
        /// The serializer's own error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
}

/// Stable, exhaustive discriminant of [`Error`], for the bindings and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// [`Error::Io`].
    Io,
    /// [`Error::Parse`].
    Parse,
    /// [`Error::UnknownFormat`].
    UnknownFormat,
    /// [`Error::MultipleSessions`].
    MultipleSessions,
    /// [`Error::Pricing`].
    Pricing,
    /// [`Error::Validation`].
    Validation,
    /// [`Error::Replay`].
    Replay,
    /// [`Error::Serialize`].
    Serialize,
    /// [`Error::Host`].
    Host,
}

impl ErrorKind {
    /// Stable snake_case name (used as the JS error `code` and in logs).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Parse => "parse",
            ErrorKind::UnknownFormat => "unknown_format",
            ErrorKind::MultipleSessions => "multiple_sessions",
            ErrorKind::Pricing => "pricing",
            ErrorKind::Validation => "validation",
            ErrorKind::Replay => "replay",
            ErrorKind::Serialize => "serialize",
            ErrorKind::Host => "host",
        }
    }
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Io,
            Error::Parse { .. } => ErrorKind::Parse,
            Error::UnknownFormat { .. } => ErrorKind::UnknownFormat,
            Error::MultipleSessions { .. } => ErrorKind::MultipleSessions,
            Error::Pricing { .. } => ErrorKind::Pricing,
            Error::Validation { .. } => ErrorKind::Validation,
            Error::Replay { .. } => ErrorKind::Replay,
            Error::Serialize { .. } => ErrorKind::Serialize,
            Error::Host { .. } => ErrorKind::Host,
        }
    }

    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Io { path, .. }
            | Error::Parse { path, .. }
            | Error::UnknownFormat { path, .. }
            | Error::MultipleSessions { path, .. } => Some(path),
            Error::Pricing { path, .. } => path.as_deref(),
            _ => None,
        }
    }

    /// The 1-based line the error is about, when known.
    pub fn line(&self) -> Option<u64> {
        match self {
            Error::Parse { line, .. } => *line,
            _ => None,
        }
    }

    /// The field (JSON path-like) the error is about, when known.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Parse { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// An [`Error::Replay`] of `replayer` without an underlying error.
    pub fn replay(replayer: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Replay {
            replayer: replayer.into(),
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Host`]: `source` is handed back unchanged to whoever catches it.
    pub fn host(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Host {
            context: context.into(),
            source: source.into(),
        }
    }

    /// Shorthand for an [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Shorthand for an [`Error::Parse`].
    pub fn parse(
        path: impl Into<PathBuf>,
        line: Option<u64>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Error::Parse {
            path: path.into(),
            line,
            field: field.map(str::to_owned),
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Serialize`] keeping the serializer's error as its source.
    pub fn serialize(
        what: impl Into<String>,
        err: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Serialize {
            what: what.into(),
            message: err.to_string(),
            source: Some(Box::new(err)),
        }
    }

    /// An [`Error::Parse`] from a `serde_json` error, keeping its line (or `line` if
    /// given) and the error itself as the source.
    pub fn from_json(path: impl Into<PathBuf>, line: Option<u64>, err: serde_json::Error) -> Self {
        // one line number in the message: the file's (serde_json's own "at line L
        // column C" is dropped, the column kept)
        let (line, message) = match (line, err.line()) {
            (Some(l), _) => (Some(l), err.to_string()),
            (None, 0) => (None, err.to_string()),
            (None, l) => (
                Some(l as u64),
                format!("{} (column {})", json_message(&err), err.column()),
            ),
        };
        Error::Parse {
            path: path.into(),
            line,
            field: None,
            message,
            source: Some(Box::new(err)),
        }
    }

    /// Shorthand for an [`Error::Validation`].
    pub fn validation(what: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            what: what.into(),
            message: message.into(),
        }
    }
}

/// A serde_json error's message without its trailing "at line L column C" (callers
/// say where, once: the file line, or the line inside an archive entry).
pub(crate) fn json_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match msg.strip_suffix(&suffix) {
        Some(m) => m.to_string(),
        None => msg,
    }
}
