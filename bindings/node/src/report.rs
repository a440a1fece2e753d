//! `report(paths, options)` and `card.toHtml()`: the self-contained HTML report of
//! the `tracecard-report` crate (the same page as `tracecard report`).

use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tracecard_core::TraceCard as CoreCard;
use tracecard_core::analysis::Analysis;

use crate::costcraft_api::{Items, format_opt, load_sources, sources};
use crate::errors::CoreResultExt;
use crate::prices::{PricesArg, prices_arg};

/// Options of {@link report}.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ReportOptions<'a> {
    /// Also write the page to this file.
    pub out: Option<String>,
    /// A price file or a {@link PriceTable}.
    #[napi(ts_type = "string | PriceTable")]
    pub prices: Option<PricesArg<'a>>,
    /// The format of the files (auto-detected per file by default).
    pub format: Option<String>,
    /// Quote the content evidence rests on (reappearing tokens, artifact names)
    /// instead of hashes (default `false`: no prompt or tool content in the page).
    pub include_content: Option<bool>,
    /// Page title (default: the session id, or "N sessions").
    pub title: Option<String>,
    /// Run the redundancy analysis (default `true`).
    pub analyze: Option<bool>,
}

/// Options of {@link TraceCard.toHtml}.
#[napi(object)]
#[derive(Default)]
pub struct HtmlOptions {
    /// Quote evidence content instead of hashes (default `false`).
    pub include_content: Option<bool>,
    /// Page title (default: the session id).
    pub title: Option<String>,
}

/// The HTML report of every session in `paths` (files, directories, or
/// {@link Trace}s), returned and, with `options.out`, written to that file. One
/// session gives a session page, several an overview linking to each; the page is
/// self-contained (no network) and carries no prompt or tool content unless
/// `includeContent`.
#[napi(
    catch_unwind,
    ts_args_type = "paths: string | Trace | Array<string | Trace>, options?: ReportOptions"
)]
pub fn report(env: Env, paths: Items<'_>, options: Option<ReportOptions<'_>>) -> Result<String> {
    let o = options.unwrap_or_default();
    let format = format_opt(&env, o.format.as_deref())?;
    let table = prices_arg(&env, o.prices.as_ref())?;
    let analyze = o.analyze.unwrap_or(true);
    let opts = tracecard_report::Options {
        include_content: o.include_content.unwrap_or(false),
        title: o.title,
    };
    let src = sources(paths);
    let run = || -> tracecard_core::Result<String> {
        let traces = load_sources(src, format)?;
        let compiler = tracecard_core::Compiler::new()
            .prices(table.get())
            .analyze(analyze);
        let mut built: Vec<(CoreCard, Option<Analysis>)> = Vec::with_capacity(traces.len());
        for t in &traces {
            let card = compiler.compile(t)?;
            let a = if analyze {
                Some(Analysis::run(t, table.get())?)
            } else {
                None
            };
            built.push((card, a));
        }
        let sessions: Vec<tracecard_report::Session<'_>> = traces
            .iter()
            .zip(&built)
            .map(|(t, (card, a))| tracecard_report::Session {
                trace: Some(Arc::as_ref(t)),
                card,
                analysis: a.as_ref(),
            })
            .collect();
        Ok(tracecard_report::render(&sessions, &opts))
    };
    let html = run().js(&env)?;
    if let Some(path) = o.out {
        std::fs::write(&path, &html)
            .map_err(|e| tracecard_core::Error::io(&path, e))
            .js(&env)?;
    }
    Ok(html)
}

/// The card alone as a self-contained HTML page (steps by order, no evidence
/// edges: {@link report} on the trace draws those and the times).
pub fn card_html(card: &CoreCard, options: Option<HtmlOptions>) -> String {
    let o = options.unwrap_or_default();
    tracecard_report::render(
        &[tracecard_report::Session {
            trace: None,
            card,
            analysis: None,
        }],
        &tracecard_report::Options {
            include_content: o.include_content.unwrap_or(false),
            title: o.title,
        },
    )
}
