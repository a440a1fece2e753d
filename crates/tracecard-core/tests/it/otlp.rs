//! OTLP/JSON importer: real exports from pydantic-ai and the Vercel AI SDK
//! (`fixtures/otlp-real`, checked against their `.waste.json` sidecars), AI SDK
//! ReadableSpan arrays, attribute examples, and malformed input.

use tracecard_core::{Compiler, StepKind, Trace};

use crate::fixtures::{load, path};

pub(crate) fn dump(t: &Trace) {
    eprintln!("session {} content {:?} cost {:?} warnings {:?}", t.session_id, t.source.content, t.reported_cost_usd, t.warnings.iter().map(|w| &w.code).collect::<Vec<_>>());
    for s in &t.steps {
        eprintln!(
            "  {} {:?} p={:?} tool={:?} model={:?} tok={:?} req={:?} tcid={:?} cons={:?} ctx={:?} ref={:?} in={:?} out={:?} err={:?} rc={:?}",
            s.id, s.kind, s.parent.map(|p| p.0), s.tool, s.model, (s.tokens.input, s.tokens.cache_read, s.tokens.output),
            s.links.requests, s.links.tool_call_id, s.links.consumes, s.links.context, s.source_ref,
            s.input.as_ref().and_then(|c| c.text.as_deref()).map(|t| t.chars().take(60).collect::<String>()),
            s.output.as_ref().and_then(|c| c.text.as_deref()).map(|t| t.chars().take(60).collect::<String>()),
            s.error, s.reported_cost_usd.map(|u| u.to_string()),
        );
    }
    eprintln!("  final {:?} answer {:?}", t.outcome.final_step, t.outcome.answer.as_ref().and_then(|a| a.text.as_deref()).map(|t| t.chars().take(60).collect::<String>()));
}

#[test]
fn dump_all() {
    for rel in [
        "otlp-real/pydantic-ai/s2_duplicate_tool_call.otlp.json",
        "otlp-real/vercel-ai-sdk-v6/s2_duplicate_tool_call.otlp.json",
        "otlp-real/vercel-ai-sdk-v7/s2_duplicate_tool_call.otlp.json",
        "otel-genai/vercel-ai-sdk-v6/all-spans.json",
    ] {
        eprintln!("=== {rel}");
        for t in load(rel).unwrap() { dump(&t); }
    }
    let _ = (Compiler::new(), StepKind::LlmCall, path("otlp-real/README.md"));
}
