//! Locating the shared real-trace fixtures (read in place, never copied).
#![allow(dead_code)] // not every test module uses every helper

use std::path::PathBuf;

/// The fixtures root: `$TRACECARD_FIXTURES`, else `<workspace>/../shared/fixtures`.
/// Returns `None` (the test then skips, saying so) only outside CI: with
/// `CI=true` the fixtures must be there and a missing folder fails the test.
pub fn root() -> Option<PathBuf> {
    let root = std::env::var_os("TRACECARD_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
        });
    if root.is_dir() {
        return Some(root);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!(
            "fixtures not found at {} (CI=true: they must be present)",
            root.display()
        );
    }
    eprintln!(
        "skipping: fixtures not found at {} (set TRACECARD_FIXTURES)",
        root.display()
    );
    None
}

/// Path of one fixture file, relative to the fixtures root.
pub fn path(rel: &str) -> Option<PathBuf> {
    let p = root()?.join(rel);
    assert!(p.exists(), "fixture {} is missing", p.display());
    Some(p)
}

/// Import one fixture (auto-detected format) and return its traces.
pub fn load(rel: &str) -> Option<Vec<tracecard_core::Trace>> {
    let p = path(rel)?;
    Some(tracecard_core::load(&p, None).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

/// The text of a trace's final answer (panics when there is none: a test failure).
pub fn answer_text(t: &tracecard_core::Trace) -> &str {
    t.outcome
        .answer
        .as_ref()
        .and_then(|a| a.text.as_deref())
        .expect("the trace has a final answer with text")
}

/// Number of steps of `kind` in `t`.
pub fn count(t: &tracecard_core::Trace, kind: tracecard_core::StepKind) -> usize {
    t.steps.iter().filter(|s| s.kind == kind).count()
}
