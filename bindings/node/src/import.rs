//! `load`, `loadAll`, `loads`, `loadsAll`, `detect`, `formats`, `discover`.
//!
//! A file can hold several sessions (an Inspect log, an OTLP export with several
//! traces). `load` returns the one `Trace` and throws `TRACECARD_MULTIPLE_SESSIONS`
//! when there are several; `loadAll` returns them all.

use std::path::{Path, PathBuf};

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tracecard_core::import::Input;
use tracecard_core::{Format, Trace as CoreTrace};

use crate::errors::{CoreResultExt, MULTIPLE_SESSIONS, Props, js_error, to_js};
use crate::model::Trace;

/// Options of {@link load} and {@link loadAll}.
#[napi(object)]
#[derive(Default)]
pub struct LoadOptions {
    /// The format name (`native`, `claude_code`, `otlp`, ...; see {@link formats}).
    /// Auto-detected when absent.
    pub format: Option<String>,
}

/// Options of {@link loads} and {@link loadsAll}.
#[napi(object)]
#[derive(Default)]
pub struct LoadsOptions {
    /// The format name; auto-detected when absent.
    pub format: Option<String>,
    /// Stands for the file name in messages and format detection (default `<memory>`).
    pub name: Option<String>,
}

fn format_arg(env: &Env, format: Option<&str>, path: &Path) -> Result<Option<Format>> {
    match format {
        None => Ok(None),
        Some(name) => Format::parse(name).map(Some).ok_or_else(|| {
            let known: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
            to_js(
                env,
                tracecard_core::Error::UnknownFormat {
                    path: path.to_path_buf(),
                    hint: Some(format!(
                        "no format named {name:?}; known formats: {}",
                        known.join(", ")
                    )),
                },
            )
        }),
    }
}

fn one(env: &Env, path: &Path, mut traces: Vec<CoreTrace>) -> Result<Trace> {
    match traces.len() {
        1 => Ok(Trace::new(traces.remove(0))),
        0 => Err(to_js(
            env,
            tracecard_core::Error::parse(path, None, None, "the file holds no session"),
        )),
        n => {
            let p = path.display().to_string();
            Err(js_error(
                env,
                MULTIPLE_SESSIONS,
                format!("{p}: the file holds {n} sessions; use loadAll() to get them all"),
                Props {
                    kind: Some("multiple_sessions"),
                    path: Some(p),
                    count: Some(u32::try_from(n).unwrap_or(u32::MAX)),
                    ..Props::default()
                },
            ))
        }
    }
}

fn load_vec(env: &Env, path: &str, options: Option<LoadOptions>) -> Result<Vec<CoreTrace>> {
    let path = PathBuf::from(path);
    let format = format_arg(env, options.and_then(|o| o.format).as_deref(), &path)?;
    tracecard_core::load(&path, format).js(env)
}

/// Import the single session in the file at `path` (format auto-detected unless
/// `options.format` names one). Throws `TRACECARD_MULTIPLE_SESSIONS` when the file
/// holds several sessions (use {@link loadAll}).
#[napi(catch_unwind)]
pub fn load(env: Env, path: String, options: Option<LoadOptions>) -> Result<Trace> {
    let traces = load_vec(&env, &path, options)?;
    one(&env, Path::new(&path), traces)
}

/// Import every session in the file at `path`.
#[napi(catch_unwind)]
pub fn load_all(env: Env, path: String, options: Option<LoadOptions>) -> Result<Vec<Trace>> {
    Ok(load_vec(&env, &path, options)?
        .into_iter()
        .map(Trace::new)
        .collect())
}

fn loads_vec(
    env: &Env,
    data: Either<String, Buffer>,
    options: Option<LoadsOptions>,
) -> Result<(PathBuf, Vec<CoreTrace>)> {
    let options = options.unwrap_or_default();
    let path = PathBuf::from(options.name.as_deref().unwrap_or("<memory>"));
    let format = format_arg(env, options.format.as_deref(), &path)?;
    let bytes = match data {
        Either::A(s) => s.into_bytes(),
        Either::B(b) => b.to_vec(),
    };
    let input = Input::from_bytes(path.clone(), bytes);
    let traces = tracecard_core::import::load_input(&input, format).js(env)?;
    Ok((path, traces))
}

/// Import the single session in `data` (a string or a Buffer holding a file's
/// bytes).
#[napi(catch_unwind)]
pub fn loads(
    env: Env,
    data: Either<String, Buffer>,
    options: Option<LoadsOptions>,
) -> Result<Trace> {
    let (path, traces) = loads_vec(&env, data, options)?;
    one(&env, &path, traces)
}

/// Import every session in `data` (a string or a Buffer).
#[napi(catch_unwind)]
pub fn loads_all(
    env: Env,
    data: Either<String, Buffer>,
    options: Option<LoadsOptions>,
) -> Result<Vec<Trace>> {
    let (_, traces) = loads_vec(&env, data, options)?;
    Ok(traces.into_iter().map(Trace::new).collect())
}

/// The format of the file at `path`, `null` when no importer recognises it.
#[napi(catch_unwind)]
pub fn detect(env: Env, path: String) -> Result<Option<String>> {
    tracecard_core::import::detect(Path::new(&path))
        .map(|f| f.map(|f| f.as_str().to_owned()))
        .js(&env)
}

/// Names of every format tracecard reads, in detection order.
#[napi(catch_unwind)]
pub fn formats() -> Vec<String> {
    Format::ALL.iter().map(|f| f.as_str().to_owned()).collect()
}

/// Files under `root` (recursively, sorted) to import; a file path is returned as is.
#[napi(catch_unwind)]
pub fn discover(env: Env, root: String) -> Result<Vec<String>> {
    tracecard_core::import::discover(Path::new(&root))
        .map(|v| v.into_iter().map(|p| p.display().to_string()).collect())
        .js(&env)
}
