//! `tracecard.report(paths, out)` and `TraceCard.to_html()`: the self-contained HTML
//! report of the `tracecard-report` crate (the same page as `tracecard report`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyAny, PyList, PyTuple};
use tracecard_core::analysis::Analysis;
use tracecard_core::{Format, Trace, TraceCard, import};

use crate::cost::prices_arg;
use crate::errors::PyErrWrap;
use crate::model::PyTrace;

/// One item of `paths`: a file or directory to import, or an already loaded trace.
pub(crate) enum Item {
    Path(PathBuf),
    Trace(Arc<Trace>),
}

pub(crate) fn items(paths: &Bound<'_, PyAny>) -> PyResult<Vec<Item>> {
    let one = |v: &Bound<'_, PyAny>| -> PyResult<Item> {
        if let Ok(t) = v.cast::<PyTrace>() {
            return Ok(Item::Trace(Arc::clone(&t.get().inner)));
        }
        v.extract::<PathBuf>().map(Item::Path).map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(
                "paths must be a path (str or os.PathLike), a Trace, or a list of them",
            )
        })
    };
    if paths.is_instance_of::<PyList>() || paths.is_instance_of::<PyTuple>() {
        paths.try_iter()?.map(|v| one(&v?)).collect()
    } else {
        Ok(vec![one(paths)?])
    }
}

pub(crate) fn load(path: &Path, format: Option<Format>) -> tracecard_core::Result<Vec<Trace>> {
    import::load_tree(path, format)
}

/// Write the HTML report of every session in `paths` (files, directories, or
/// `Trace` objects) and return it. One session gives a session page, several an
/// overview linking to each; the file is self-contained (no network) and carries no
/// prompt or tool content unless `include_content` (then evidence quotes the
/// tokens and artifact names it rests on). `out=None` only returns the HTML.
#[pyfunction]
#[pyo3(signature = (paths, out=None, *, prices=None, format=None, include_content=false, title=None, analyze=true))]
#[allow(clippy::too_many_arguments)]
pub fn report(
    py: Python<'_>,
    paths: &Bound<'_, PyAny>,
    out: Option<PathBuf>,
    prices: Option<&Bound<'_, PyAny>>,
    format: Option<&str>,
    include_content: bool,
    title: Option<String>,
    analyze: bool,
) -> PyResult<String> {
    let items = items(paths)?;
    let table = prices_arg(py, prices)?;
    let format = match format {
        None => None,
        Some(name) => Some(Format::parse(name).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!("no format named {name:?}"))
        })?),
    };
    let html = py.detach(|| -> tracecard_core::Result<String> {
        let mut traces: Vec<Arc<Trace>> = Vec::new();
        for it in items {
            match it {
                Item::Trace(t) => traces.push(t),
                Item::Path(p) => traces.extend(load(&p, format)?.into_iter().map(Arc::new)),
            }
        }
        let compiler = tracecard_core::Compiler::new()
            .prices(table.get())
            .analyze(analyze);
        let mut built: Vec<(TraceCard, Option<Analysis>)> = Vec::new();
        for t in &traces {
            let card = compiler.compile(t)?;
            let a = if analyze {
                Some(Analysis::run(t, table.get())?)
            } else {
                None
            };
            built.push((card, a));
        }
        let sessions: Vec<tracecard_report::Session> = traces
            .iter()
            .zip(&built)
            .map(|(t, (card, a))| tracecard_report::Session {
                trace: Some(t),
                card,
                analysis: a.as_ref(),
            })
            .collect();
        Ok(tracecard_report::render(
            &sessions,
            &tracecard_report::Options {
                include_content,
                title,
            },
        ))
    });
    let html = html.map_err(PyErrWrap)?;
    if let Some(path) = out {
        std::fs::write(&path, &html).map_err(|e| {
            PyErrWrap(tracecard_core::Error::Io {
                path: path.clone(),
                source: e,
            })
        })?;
    }
    Ok(html)
}

/// The card alone as a self-contained HTML page (steps by order, no evidence edges:
/// `tracecard.report(trace)` draws those and the times).
pub fn card_html(card: &TraceCard, include_content: bool, title: Option<String>) -> String {
    tracecard_report::render(
        &[tracecard_report::Session {
            trace: None,
            card,
            analysis: None,
        }],
        &tracecard_report::Options {
            include_content,
            title,
        },
    )
}
