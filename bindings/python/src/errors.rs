//! The ONE place where core errors become Python exceptions.
//!
//! Hierarchy (all importable from `tracecard` and `tracecard._tracecard`):
//!
//! ```text
//! TracecardError(Exception)
//! ├── ParseError(TracecardError, ValueError)        .path .line .field
//! ├── UnknownFormatError(TracecardError, ValueError) .path
//! ├── PricingError(TracecardError, ValueError)       .path
//! ├── ValidationError(TracecardError, ValueError)
//! ├── ReplayError(TracecardError)
//! ├── SerializeError(TracecardError)
//! ├── MultipleSessionsError(TracecardError, ValueError) .path .count
//! ├── IoError(TracecardError, OSError)               .path (+ errno, strerror, filename)
//! │   └── NotFoundError(IoError, FileNotFoundError)
//! ├── CostcraftError(TracecardError)                .kind .path .line
//! │   └── BackfireError(CostcraftError)              .guards
//! └── InternalError(TracecardError)                  a Rust panic (a bug)
//! ```
//!
//! A panic never reaches Python as pyo3's `PanicException` (a `BaseException`
//! that `except Exception` misses): `tracecard/_guard.py` wraps every function
//! and method of this module so that it becomes an `InternalError`; constructors
//! (`#[new]`, which CPython does not let Python code wrap) run their body through
//! [`guard_new`], which does the same in Rust.
//!
//! Costcraft errors ([`costcraft_to_pyerr`], exhaustive on `costcraft::ErrorKind`):
//! `core` is the core error's own class (a replayer's exception unchanged), `io`
//! is `IoError`/`NotFoundError`, `backfire` is `BackfireError`, and `parse`,
//! `input`, `serialize` are `CostcraftError` with that `.kind`.
//!
//! The classes need multiple inheritance (`ValueError`, `OSError`), which
//! `create_exception!` cannot express, so they are built once with `type(...)` at
//! import. [`to_pyerr`] maps by an exhaustive `match` on [`ErrorKind`] (no `_ =>`
//! arm): a new core error kind breaks this crate's build.

use pyo3::exceptions::{PyException, PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use tracecard_core::{Error, ErrorKind};

/// The exception classes, created once per interpreter.
pub struct Exceptions {
    pub tracecard: Py<PyType>,
    pub parse: Py<PyType>,
    pub unknown_format: Py<PyType>,
    pub pricing: Py<PyType>,
    pub validation: Py<PyType>,
    pub replay: Py<PyType>,
    pub serialize: Py<PyType>,
    pub io: Py<PyType>,
    pub not_found: Py<PyType>,
    /// `load()` on a file that holds several sessions.
    pub multiple_sessions: Py<PyType>,
    /// Costcraft's own errors (`tracecard.costcraft`).
    pub costcraft: Py<PyType>,
    /// A backfire guard refused the distillation.
    pub backfire: Py<PyType>,
    /// A Rust panic (a tracecard bug), converted by the Python-side guard.
    pub internal: Py<PyType>,
}

static EXCEPTIONS: PyOnceLock<Exceptions> = PyOnceLock::new();

/// Test hook (`_panic_in_constructors_for_tests`): every [`guard_new`] panics first.
pub static PANIC_IN_CONSTRUCTORS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Runs the body of a `#[new]` constructor: a panic becomes `InternalError` (the
/// message the Python-side guard gives, see `tracecard/_guard.py`). CPython
/// refuses a Python-level `__new__` in front of a native one, so constructors are
/// guarded here; `tests/test_hostile.py` checks that every one is.
pub fn guard_new<T>(py: Python<'_>, body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if PANIC_IN_CONSTRUCTORS.load(std::sync::atomic::Ordering::Relaxed) {
            panic!("deliberate: a panic in a constructor (test hook)");
        }
        body()
    }));
    match run {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("a panic without a message");
            Err(PyErr::from_type(
                exceptions(py)?.internal.bind(py).clone(),
                format!("internal error in tracecard (a bug, please report it): {what}"),
            ))
        }
    }
}

fn new_class<'py>(
    py: Python<'py>,
    name: &str,
    bases: Vec<Bound<'py, PyType>>,
    doc: &str,
) -> PyResult<Py<PyType>> {
    let dict = PyDict::new(py);
    dict.set_item("__module__", "tracecard")?;
    dict.set_item("__doc__", doc)?;
    // Class-level defaults; instances set their own values (see `build`).
    dict.set_item("kind", py.None())?;
    dict.set_item("path", py.None())?;
    dict.set_item("line", py.None())?;
    dict.set_item("field", py.None())?;
    let bases = PyTuple::new(py, bases)?;
    let t = py
        .get_type::<PyType>()
        .call1((name, bases, dict))?
        .cast_into::<PyType>()?;
    Ok(t.unbind())
}

/// The exception classes (created on first use).
pub fn exceptions(py: Python<'_>) -> PyResult<&Exceptions> {
    EXCEPTIONS.get_or_try_init(py, || {
        let root = new_class(
            py,
            "TracecardError",
            vec![py.get_type::<PyException>()],
            "Root of every error raised by tracecard. `.kind` is the core's stable error kind.",
        )?;
        let r = root.bind(py).clone();
        let value = py.get_type::<PyValueError>();
        let sub = |name: &str, extra: Option<&Bound<'_, PyType>>, doc: &str| {
            let mut bases = vec![r.clone()];
            if let Some(e) = extra {
                bases.push(e.clone());
            }
            new_class(py, name, bases, doc)
        };
        let io = sub(
            "IoError",
            Some(&py.get_type::<PyOSError>()),
            "Reading or writing a file failed (also an OSError; `.path` is the file).",
        )?;
        let not_found = new_class(
            py,
            "NotFoundError",
            vec![io.bind(py).clone(), py.get_type::<PyFileNotFoundError>()],
            "The file does not exist (also a FileNotFoundError).",
        )?;
        let costcraft = sub(
            "CostcraftError",
            None,
            "A costcraft error (tracecard.costcraft): `.kind` is parse, input, serialize or backfire; `.path` and `.line` say where for parse.",
        )?;
        let backfire = {
            let c = new_class(
                py,
                "BackfireError",
                vec![costcraft.bind(py).clone()],
                "distill() refused: a backfire guard holds for the corpus; `.guards` lists them (allow with allow_backfire=[...]).",
            )?;
            c.bind(py).setattr("guards", pyo3::types::PyList::empty(py))?;
            c
        };
        Ok(Exceptions {
            internal: sub(
                "InternalError",
                None,
                "A bug in tracecard: the Rust code panicked. The call had no effect you can rely on; please report it.",
            )?,
            costcraft,
            backfire,
            parse: sub(
                "ParseError",
                Some(&value),
                "The input is not valid for its format; `.path`, `.line` (1-based) and `.field` say where.",
            )?,
            unknown_format: sub(
                "UnknownFormatError",
                Some(&value),
                "No importer recognises the input, or the named format does not exist.",
            )?,
            pricing: sub(
                "PricingError",
                Some(&value),
                "A price table or price override file is invalid.",
            )?,
            validation: sub(
                "ValidationError",
                Some(&value),
                "A trace or card is structurally invalid.",
            )?,
            replay: sub(
                "ReplayError",
                None,
                "A counterfactual replayer failed or returned something that is not an outcome.",
            )?,
            serialize: sub(
                "SerializeError",
                None,
                "Serialising a card or trace failed.",
            )?,
            multiple_sessions: {
                let c = sub(
                    "MultipleSessionsError",
                    Some(&value),
                    "load() was given a file holding several sessions; use load_all(). `.count` says how many.",
                )?;
                c.bind(py).setattr("count", 0)?;
                c
            },
            io,
            not_found,
            tracecard: root,
        })
    })
}

/// Newtype so `?` can turn a core error into a `PyErr` (orphan rule).
pub struct PyErrWrap(pub Error);

impl From<Error> for PyErrWrap {
    fn from(e: Error) -> Self {
        PyErrWrap(e)
    }
}

/// Newtype so `?` can turn a costcraft error into a `PyErr`.
pub struct CostcraftErr(pub costcraft::Error);

impl From<CostcraftErr> for PyErr {
    fn from(e: CostcraftErr) -> PyErr {
        Python::attach(|py| costcraft_to_pyerr(py, e.0))
    }
}

/// Build the Python exception for a costcraft error.
pub fn costcraft_to_pyerr(py: Python<'_>, e: costcraft::Error) -> PyErr {
    use costcraft::ErrorKind as K;
    let kind = e.kind();
    // Exhaustive on purpose: a new costcraft kind fails to compile here.
    let (class, path, line) = match (kind, &e) {
        (K::Core, _) | (K::Io, _) => {
            let core = match e {
                costcraft::Error::Core(c) => c,
                costcraft::Error::Io { path, source } => Error::Io { path, source },
                other => Error::serialize("costcraft", other),
            };
            return to_pyerr(py, core);
        }
        (K::Parse, costcraft::Error::Parse { path, line, .. }) => {
            (Class::Costcraft, Some(path.display().to_string()), *line)
        }
        (K::Parse, _) | (K::Input, _) | (K::Serialize, _) => (Class::Costcraft, None, None),
        (K::Backfire, _) => (Class::Backfire, None, None),
    };
    let build = || -> PyResult<PyErr> {
        let ex = exceptions(py)?;
        let class = match class {
            Class::Costcraft => &ex.costcraft,
            Class::Backfire => &ex.backfire,
        };
        let value = class.bind(py).call1((e.to_string(),))?;
        value.setattr("kind", kind.as_str())?;
        value.setattr("path", path)?;
        value.setattr("line", line)?;
        if let costcraft::Error::Backfire { guards } = &e {
            value.setattr("guards", guards.clone())?;
        }
        Ok(PyErr::from_value(value))
    };
    match build() {
        Ok(err) => err,
        Err(err) => err,
    }
}

enum Class {
    Costcraft,
    Backfire,
}

impl From<PyErrWrap> for PyErr {
    fn from(e: PyErrWrap) -> PyErr {
        Python::attach(|py| to_pyerr(py, e.0))
    }
}

fn path_str(p: Option<&std::path::Path>) -> Option<String> {
    p.map(|p| p.display().to_string())
}

/// Build the Python exception for a core error. An [`Error::Host`] carrying a
/// Python exception (a replayer's own) is that exception, unchanged.
pub fn to_pyerr(py: Python<'_>, e: Error) -> PyErr {
    let e = match e {
        Error::Host { context, source } => match source.downcast::<PyErr>() {
            Ok(original) => return *original,
            Err(source) => Error::Host { context, source },
        },
        e => e,
    };
    match build(py, &e) {
        Ok(err) => {
            // the core's cause chain, as `__cause__` (`raise ... from ...`)
            if let Some(src) = std::error::Error::source(&e) {
                let cause = match src.downcast_ref::<std::io::Error>() {
                    Some(io) => pyo3::exceptions::PyOSError::new_err(io.to_string()),
                    None => pyo3::exceptions::PyValueError::new_err(src.to_string()),
                };
                err.set_cause(py, Some(cause));
            }
            err
        }
        // Creating the exception itself failed (out of memory...): report that.
        Err(err) => err,
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let ex = exceptions(py)?;
    let msg = e.to_string();
    let path = path_str(e.path());
    let kind = e.kind();
    // Exhaustive on purpose: no `_ =>` arm, so a new core kind fails to compile here.
    let (class, args): (&Py<PyType>, Bound<'_, PyTuple>) = match kind {
        ErrorKind::Io => {
            let (class, errno) = match e {
                Error::Io { source, .. } => (
                    if source.kind() == std::io::ErrorKind::NotFound {
                        &ex.not_found
                    } else {
                        &ex.io
                    },
                    source.raw_os_error(),
                ),
                _ => (&ex.io, None),
            };
            let strerror = match e {
                Error::Io { source, .. } => {
                    let s = source.to_string();
                    match s.find(" (os error") {
                        Some(i) => s[..i].to_owned(),
                        None => s,
                    }
                }
                _ => msg.clone(),
            };
            // OSError(errno, strerror, filename): str() reads "[Errno 2] ...: 'path'".
            let args = match errno {
                Some(n) => PyTuple::new(
                    py,
                    [
                        n.into_pyobject(py)?.into_any(),
                        strerror.into_pyobject(py)?.into_any(),
                        path.clone().into_pyobject(py)?.into_any(),
                    ],
                )?,
                None => PyTuple::new(py, [msg.clone()])?,
            };
            (class, args)
        }
        ErrorKind::Parse => (&ex.parse, PyTuple::new(py, [msg.clone()])?),
        ErrorKind::UnknownFormat => (&ex.unknown_format, PyTuple::new(py, [msg.clone()])?),
        ErrorKind::MultipleSessions => {
            let count = match e {
                Error::MultipleSessions { count, .. } => *count,
                _ => 0,
            };
            let text = format!(
                "{}: the file holds {count} sessions; use tracecard.load_all() to get them all",
                path.as_deref().unwrap_or("<memory>")
            );
            (&ex.multiple_sessions, PyTuple::new(py, [text])?)
        }
        ErrorKind::Pricing => (&ex.pricing, PyTuple::new(py, [msg.clone()])?),
        ErrorKind::Validation => (&ex.validation, PyTuple::new(py, [msg.clone()])?),
        ErrorKind::Replay => (&ex.replay, PyTuple::new(py, [msg.clone()])?),
        ErrorKind::Serialize => (&ex.serialize, PyTuple::new(py, [msg.clone()])?),
        // A host error that is not a Python exception (another binding's): the root.
        ErrorKind::Host => (&ex.tracecard, PyTuple::new(py, [msg.clone()])?),
    };
    let value = class.bind(py).call1(args)?;
    let field = e.field();
    value.setattr("kind", kind.as_str())?;
    value.setattr("path", path)?;
    value.setattr("line", e.line())?;
    value.setattr("field", field)?;
    if let Error::MultipleSessions { count, .. } = e {
        value.setattr("count", *count)?;
    }
    Ok(PyErr::from_value(value))
}
