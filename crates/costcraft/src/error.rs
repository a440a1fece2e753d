//! The one error type of costcraft.

use std::path::PathBuf;

/// Everything that can go wrong in costcraft. [`Error::kind`] is stable.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An input file (outcomes JSONL, rules.yaml, patches.yaml) is malformed.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The 1-based line, when known.
        line: Option<u64>,
        /// What is wrong (and which field).
        message: String,
    },
    /// An error of the core library (import, pricing, replay, validation).
    #[error(transparent)]
    Core(#[from] tracecard_core::Error),
    /// A backfire guard holds for the corpus and was not overridden.
    #[error("refusing to distil: {}", .guards.join("; "))]
    Backfire {
        /// One line per guard that holds.
        guards: Vec<String>,
    },
    /// The input cannot be used as asked (no sessions, unpaired runs…).
    #[error("{0}")]
    Input(String),
    /// Serialising an output failed.
    #[error("cannot serialise {what}: {message}")]
    Serialize {
        /// What was being written.
        what: String,
        /// Why.
        message: String,
    },
}

/// Stable classification of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// [`Error::Io`].
    Io,
    /// [`Error::Parse`].
    Parse,
    /// [`Error::Core`].
    Core,
    /// [`Error::Backfire`].
    Backfire,
    /// [`Error::Input`].
    Input,
    /// [`Error::Serialize`].
    Serialize,
}

impl ErrorKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Parse => "parse",
            ErrorKind::Core => "core",
            ErrorKind::Backfire => "backfire",
            ErrorKind::Input => "input",
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
            Error::Core(_) => ErrorKind::Core,
            Error::Backfire { .. } => ErrorKind::Backfire,
            Error::Input(_) => ErrorKind::Input,
            Error::Serialize { .. } => ErrorKind::Serialize,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn parse(
        path: impl Into<PathBuf>,
        line: Option<u64>,
        message: impl Into<String>,
    ) -> Self {
        Error::Parse {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}

/// `Result` with costcraft's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// YAML with the project's options (no folded long lines: diff-stable output).
pub(crate) fn to_yaml<T: serde::Serialize>(v: &T, what: &str) -> Result<String> {
    let mut opts = serde_saphyr::SerializerOptions::default();
    opts.prefer_block_scalars = false;
    serde_saphyr::to_string_with_options(v, opts).map_err(|e| Error::Serialize {
        what: what.into(),
        message: e.to_string(),
    })
}
