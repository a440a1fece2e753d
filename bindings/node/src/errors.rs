//! The ONE place where core errors become JS errors.
//!
//! Every error thrown by the package is a plain `Error` with a stable `code`
//! (`TRACECARD_PARSE`, ...; one per [`ErrorKind`], mapped by an exhaustive `match`
//! with no `_ =>` arm so a new core kind breaks this crate's build) and, when the
//! core knows them, `path`, `line` (1-based) and `field`. Binding-level codes:
//! `TRACECARD_MULTIPLE_SESSIONS` (`load` on a file with several sessions, with
//! `count`), `TRACECARD_RECORDER_FINISHED`, `TRACECARD_INVALID_ARG` and
//! `TRACECARD_INTERNAL` (a panic, see `panic.rs`).
//!
//! The object is built here and handed to napi as a reference
//! (`napi::Error::from(Unknown)`), so what JS catches is exactly this object.

use napi::bindgen_prelude::*;
use napi::{Env, JsValue};
use tracecard_core::{Error as CoreError, ErrorKind};

/// The JS `code` of a core error kind.
pub fn code(kind: ErrorKind) -> &'static str {
    // Exhaustive on purpose: no `_ =>` arm.
    match kind {
        ErrorKind::Io => "TRACECARD_IO",
        ErrorKind::Parse => "TRACECARD_PARSE",
        ErrorKind::UnknownFormat => "TRACECARD_UNKNOWN_FORMAT",
        ErrorKind::Pricing => "TRACECARD_PRICING",
        ErrorKind::Validation => "TRACECARD_VALIDATION",
        ErrorKind::Replay => "TRACECARD_REPLAY",
        ErrorKind::Serialize => "TRACECARD_SERIALIZE",
        ErrorKind::MultipleSessions => "TRACECARD_MULTIPLE_SESSIONS",
        ErrorKind::Host => "TRACECARD_HOST",
    }
}

/// `load()` on a file holding several sessions (also the core's
/// `ErrorKind::MultipleSessions`).
pub const MULTIPLE_SESSIONS: &str = "TRACECARD_MULTIPLE_SESSIONS";
/// Binding-level code: a step was recorded after `Recorder.finish()`.
pub const RECORDER_FINISHED: &str = "TRACECARD_RECORDER_FINISHED";
/// Binding-level code: an argument has the wrong shape or value.
pub const INVALID_ARG: &str = "TRACECARD_INVALID_ARG";
/// Binding-level code: a Rust panic (a tracecard bug), see `panic.rs`; Python's
/// `InternalError`.
pub const INTERNAL: &str = "TRACECARD_INTERNAL";

/// The JS `code` of a costcraft error kind; `None` for `Io` and `Core`, which are
/// thrown with the core's codes (see [`costcraft_to_js`]).
pub fn costcraft_code(kind: costcraft::ErrorKind) -> Option<&'static str> {
    use costcraft::ErrorKind as K;
    // Exhaustive on purpose: no `_ =>` arm.
    match kind {
        K::Io | K::Core => None,
        K::Parse => Some("TRACECARD_COSTCRAFT_PARSE"),
        K::Backfire => Some("TRACECARD_BACKFIRE"),
        K::Input => Some("TRACECARD_COSTCRAFT_INPUT"),
        K::Serialize => Some("TRACECARD_COSTCRAFT_SERIALIZE"),
    }
}

/// Binding-level code: the guard could not read the transcript it was given as
/// history (the `tracecard guard` hook fails open on the same error).
pub const GUARD_TRANSCRIPT: &str = "TRACECARD_GUARD_TRANSCRIPT";

/// The JS error of a costcraft error: `Core` and `Io` errors are thrown exactly as
/// the core's (same codes), the others with their costcraft code, `kind`, and
/// `path`/`line` (parse) or `guards` (backfire).
pub fn costcraft_to_js(env: &Env, e: costcraft::Error) -> napi::Error {
    let kind = e.kind();
    match e {
        costcraft::Error::Core(c) => to_js(env, c),
        costcraft::Error::Io { path, source } => to_js(env, CoreError::Io { path, source }),
        other => {
            let message = other.to_string();
            let (path, line, guards) = match &other {
                costcraft::Error::Parse { path, line, .. } => (
                    Some(path.display().to_string()),
                    line.map(|l| u32::try_from(l).unwrap_or(u32::MAX)),
                    None,
                ),
                costcraft::Error::Backfire { guards } => (None, None, Some(guards.clone())),
                _ => (None, None, None),
            };
            js_error(
                env,
                costcraft_code(kind).unwrap_or("TRACECARD_COSTCRAFT_INPUT"),
                message,
                Props {
                    kind: Some(kind.as_str()),
                    path,
                    line,
                    guards,
                    ..Props::default()
                },
            )
        }
    }
}

/// Extra properties set on a thrown error.
#[derive(Default)]
pub struct Props {
    pub kind: Option<&'static str>,
    pub path: Option<String>,
    pub line: Option<u32>,
    pub field: Option<String>,
    pub count: Option<u32>,
    pub io_code: Option<String>,
    pub guards: Option<Vec<String>>,
}

/// Build the JS error object; if building it fails, a plain napi error with the
/// same message and code.
pub fn js_error(env: &Env, code: &str, message: String, props: Props) -> napi::Error {
    match build(env, code, &message, props) {
        Ok(e) => e,
        Err(_) => napi::Error::new(Status::GenericFailure, format!("{code}: {message}")),
    }
}

fn build(env: &Env, code: &str, message: &str, props: Props) -> Result<napi::Error> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, message))?;
    obj.set_named_property("code", code)?;
    if let Some(k) = props.kind {
        obj.set_named_property("kind", k)?;
    }
    if let Some(p) = props.path {
        obj.set_named_property("path", p)?;
    }
    if let Some(l) = props.line {
        obj.set_named_property("line", l)?;
    }
    if let Some(f) = props.field {
        obj.set_named_property("field", f)?;
    }
    if let Some(c) = props.count {
        obj.set_named_property("count", c)?;
    }
    if let Some(e) = props.io_code {
        obj.set_named_property("ioCode", e)?;
    }
    if let Some(g) = props.guards {
        obj.set_named_property("guards", g)?;
    }
    Ok(napi::Error::from(obj.to_unknown()))
}

/// The JS error of a core error.
pub fn to_js(env: &Env, e: CoreError) -> napi::Error {
    let kind = e.kind();
    let field = match &e {
        CoreError::Parse { field, .. } => field.clone(),
        _ => None,
    };
    // `ioCode`: the errno name Node itself would use (`ENOENT`, `EACCES`, ...).
    let io_code = match &e {
        CoreError::Io { source, .. } => Some(io_code(source.kind()).to_owned()),
        _ => None,
    };
    let props = Props {
        kind: Some(kind.as_str()),
        path: e.path().map(|p| p.display().to_string()),
        line: e.line().map(|l| u32::try_from(l).unwrap_or(u32::MAX)),
        field,
        count: None,
        io_code,
        guards: None,
    };
    js_error(env, code(kind), e.to_string(), props)
}

/// A binding-level argument error.
pub fn invalid_arg(env: &Env, message: impl Into<String>) -> napi::Error {
    js_error(env, INVALID_ARG, message.into(), Props::default())
}

fn io_code(kind: std::io::ErrorKind) -> &'static str {
    use std::io::ErrorKind as K;
    match kind {
        K::NotFound => "ENOENT",
        K::PermissionDenied => "EACCES",
        K::AlreadyExists => "EEXIST",
        K::IsADirectory => "EISDIR",
        K::NotADirectory => "ENOTDIR",
        K::InvalidData | K::InvalidInput => "EINVAL",
        _ => "EIO",
    }
}

/// `?` helper: map a core result with the env at hand.
pub trait CoreResultExt<T> {
    /// Map the core error to its JS error.
    fn js(self, env: &Env) -> Result<T>;
}

impl<T> CoreResultExt<T> for std::result::Result<T, CoreError> {
    fn js(self, env: &Env) -> Result<T> {
        self.map_err(|e| to_js(env, e))
    }
}

impl<T> CoreResultExt<T> for std::result::Result<T, costcraft::Error> {
    fn js(self, env: &Env) -> Result<T> {
        self.map_err(|e| costcraft_to_js(env, e))
    }
}
