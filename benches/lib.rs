//! Shared generators for the benchmarks.

use tracecard_core::{OutcomeStatus, Recorder, StepId, TokenUsage, Trace};

/// A synthetic native trace of `n` steps: an agent loop of model calls and tool
/// calls over a handful of files, with reads, writes, duplicates and content.
pub fn synthetic_trace(n: usize) -> Trace {
    let mut rec = Recorder::new(format!("synthetic-{n}"));
    let mut last_call: Option<StepId> = None;
    let mut i = 0usize;
    rec.user_input("Refactor the ledger module and report the totals.");
    while rec.trace().steps.len() < n {
        let tokens = TokenUsage::from_exclusive(
            200 + (i % 50) as u64,
            20_000 + (i as u64 * 37) % 50_000,
            300,
            0,
            120,
        );
        let model = if i.is_multiple_of(7) {
            "claude-opus-4-5"
        } else {
            "claude-sonnet-4-5"
        };
        let call = rec.llm_call(
            model,
            tokens,
            &format!(
                "step {i}: open file src/mod_{}.rs and check total_{}",
                i % 13,
                i % 101
            ),
        );
        if let Some(prev) = last_call {
            rec.consumes(call, prev);
        }
        let path = format!("src/mod_{}.rs", i % 13);
        let tool = rec.tool_use(
            if i.is_multiple_of(5) {
                "write_file"
            } else {
                "read_file"
            },
            &format!("{{\"path\":\"{path}\"}}"),
            &format!("fn total_{}() -> u64 {{ {} }}", i % 101, i * 31),
            Some(call),
        );
        if i.is_multiple_of(5) {
            rec.writes(tool, &path)
        } else {
            rec.reads(tool, &path)
        }
        last_call = Some(call);
        i += 1;
    }
    let last = rec.trace().steps.last().map(|s| s.id);
    rec.finish(OutcomeStatus::Success, last, vec![])
}
