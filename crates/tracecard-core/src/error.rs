//! The one error type of `tracecard-core`.
//!
//! Every failure the core can report is a variant of [`Error`]. Variants carry
//! structured fields (file, line, field) instead of pre-formatted strings so the
//! bindings can build rich exceptions, and [`Error::kind`] gives a stable,
//! exhaustive discriminant that the Python and Node layers map to their own error
//! classes: adding a variant breaks their build (an exhaustive `match`), not users.

use std::path::PathBuf;

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
    },
    /// No importer recognises the input, or the named format does not exist.
    #[error("{}: unknown trace format{}", path.display(), hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    UnknownFormat {
        /// The input that could not be classified.
        path: PathBuf,
        /// What was seen or which formats are known.
        hint: Option<String>,
    },
    /// A price table or price override file is invalid.
    #[error("price table {}: {message}", path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "<bundled>".into()))]
    Pricing {
        /// The price file, `None` for the bundled table.
        path: Option<PathBuf>,
        /// What is wrong.
        message: String,
    },
    /// A trace or card is structurally invalid (dangling parent, duplicate id, ...).
    #[error("invalid {what}: {message}")]
    Validation {
        /// What was being validated (`trace`, `card`, a field path).
        what: String,
        /// What is wrong.
        message: String,
    },
    /// A counterfactual replayer failed (a user replayer raised, or returned garbage).
    #[error("replayer `{replayer}` failed: {message}")]
    Replay {
        /// Name of the replayer.
        replayer: String,
        /// What it reported.
        message: String,
    },
    /// Serialising a card or trace failed.
    #[error("could not serialise {what}: {message}")]
    Serialize {
        /// What was being serialised.
        what: String,
        /// The serializer's message.
        message: String,
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
    /// [`Error::Pricing`].
    Pricing,
    /// [`Error::Validation`].
    Validation,
    /// [`Error::Replay`].
    Replay,
    /// [`Error::Serialize`].
    Serialize,
}

impl ErrorKind {
    /// Stable snake_case name (used as the JS error `code` and in logs).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Parse => "parse",
            ErrorKind::UnknownFormat => "unknown_format",
            ErrorKind::Pricing => "pricing",
            ErrorKind::Validation => "validation",
            ErrorKind::Replay => "replay",
            ErrorKind::Serialize => "serialize",
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
            Error::Pricing { .. } => ErrorKind::Pricing,
            Error::Validation { .. } => ErrorKind::Validation,
            Error::Replay { .. } => ErrorKind::Replay,
            Error::Serialize { .. } => ErrorKind::Serialize,
        }
    }

    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Io { path, .. }
            | Error::Parse { path, .. }
            | Error::UnknownFormat { path, .. } => Some(path),
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
        }
    }

    /// An [`Error::Parse`] from a `serde_json` error, keeping its line (or `line` if given).
    pub fn from_json(path: impl Into<PathBuf>, line: Option<u64>, err: &serde_json::Error) -> Self {
        let line = line.or(if err.line() > 0 {
            Some(err.line() as u64)
        } else {
            None
        });
        Error::Parse {
            path: path.into(),
            line,
            field: None,
            message: err.to_string(),
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
