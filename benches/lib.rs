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

/// A synthetic Claude Code session transcript (JSONL, 2.1.x shape) with about
/// `steps` steps: turns of one assistant message split into a text record and a
/// `tool_use` record (same `message.id`, a copy of `usage` each, as Claude Code
/// writes them), the tool result as a user record with its `toolUseResult` copy,
/// `progress` bookkeeping, and a new user prompt every 40 turns. About 1.5 KB per
/// step, like real sessions (100k steps ≈ 150 MB).
pub fn claude_code_session(steps: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(steps * 1300);
    let sid = "5a3f9c2e-0000-4000-8000-00000000b0b0";
    let head = format!(
        "\"isSidechain\":false,\"userType\":\"external\",\"cwd\":\"/home/dev/projects/ledger\",\"sessionId\":\"{sid}\",\"version\":\"2.1.38\",\"gitBranch\":\"main\""
    );
    let ts = |k: usize| {
        let s = k as u64;
        format!(
            "2026-03-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            1 + (s / 86_400) % 28,
            (s / 3600) % 24,
            (s / 60) % 60,
            s % 60,
            (s * 7) % 1000
        )
    };
    let mut n = 0usize;
    let mut turn = 0usize;
    let mut parent = String::from("null");
    let uuid = |k: usize, tag: u32| format!("\"{:08x}-{:04x}-4000-8000-{:012x}\"", k, tag, k);
    while n < steps {
        let k = turn;
        if turn.is_multiple_of(40) {
            let u = uuid(k, 1);
            let _ = writeln!(
                out,
                "{{\"parentUuid\":{parent},{head},\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":\"Task {k}: refactor src/mod_{}.rs so that total_{} matches the ledger, then run the tests.\"}},\"uuid\":{u},\"timestamp\":\"{}\"}}",
                k % 13,
                k % 101,
                ts(k * 10)
            );
            parent = u;
            n += 1;
        }
        let (tool, input, result) = match k % 4 {
            0 => (
                "Read",
                format!("{{\"file_path\":\"/home/dev/projects/ledger/src/mod_{}.rs\"}}", k % 13),
                (0..8)
                    .map(|l| format!("{:>6}\u{2192}pub fn total_{}_{l}() -> u64 {{ {} }}\\n", l + 1, k % 101, k * 31 + l))
                    .collect::<String>(),
            ),
            1 => (
                "Bash",
                format!("{{\"command\":\"cargo test -p ledger mod_{}\",\"description\":\"Run the ledger tests\"}}", k % 13),
                format!("running 12 tests\\ntest mod_{}::total ... ok\\ntest result: ok. 12 passed; 0 failed; finished in 0.{:02}s\\n", k % 13, k % 100).repeat(2),
            ),
            2 => (
                "Grep",
                format!("{{\"pattern\":\"total_{}\",\"path\":\"src\",\"output_mode\":\"content\"}}", k % 101),
                (0..8).map(|l| format!("src/mod_{l}.rs:{}: let t = total_{}();\\n", l * 7 + 3, k % 101)).collect::<String>(),
            ),
            _ => (
                "Edit",
                format!("{{\"file_path\":\"/home/dev/projects/ledger/src/mod_{}.rs\",\"old_string\":\"{{ {} }}\",\"new_string\":\"{{ {} }}\"}}", k % 13, k * 31, k * 31 + 1),
                format!("The file /home/dev/projects/ledger/src/mod_{}.rs has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\\n     1\u{2192}pub fn total() -> u64 {{ {} }}\\n", k % 13, k * 31 + 1),
            ),
        };
        let usage = format!(
            "{{\"input_tokens\":{},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{},\"cache_creation\":{{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":{}}},\"output_tokens\":{},\"service_tier\":\"standard\"}}",
            3 + k % 5,
            200 + k % 700,
            20_000 + (k * 37) % 60_000,
            200 + k % 700,
            40 + k % 300
        );
        let model = if k.is_multiple_of(9) {
            "claude-sonnet-4-5-20250929"
        } else {
            "claude-opus-4-6"
        };
        let msg = format!("\"msg_{k:020}\"");
        let req = format!("\"req_{k:020}\"");
        let toolu = format!("toolu_{k:020}");
        let u1 = uuid(k, 2);
        let _ = writeln!(
            out,
            "{{\"parentUuid\":{parent},{head},\"message\":{{\"model\":\"{model}\",\"id\":{msg},\"type\":\"message\",\"role\":\"assistant\",\"content\":[{{\"type\":\"text\",\"text\":\"Step {k}: checking total_{} in src/mod_{}.rs before changing it.\"}}],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{usage}}},\"requestId\":{req},\"type\":\"assistant\",\"uuid\":{u1},\"timestamp\":\"{}\"}}",
            k % 101,
            k % 13,
            ts(k * 10 + 1)
        );
        let u2 = uuid(k, 3);
        let _ = writeln!(
            out,
            "{{\"parentUuid\":{u1},{head},\"message\":{{\"model\":\"{model}\",\"id\":{msg},\"type\":\"message\",\"role\":\"assistant\",\"content\":[{{\"type\":\"tool_use\",\"id\":\"{toolu}\",\"name\":\"{tool}\",\"input\":{input},\"caller\":{{\"type\":\"direct\"}}}}],\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":{usage}}},\"requestId\":{req},\"type\":\"assistant\",\"uuid\":{u2},\"timestamp\":\"{}\"}}",
            ts(k * 10 + 2)
        );
        if tool == "Bash" {
            let _ = writeln!(
                out,
                "{{\"parentUuid\":{u2},{head},\"type\":\"progress\",\"data\":{{\"type\":\"bash_progress\",\"output\":\"running 12 tests\",\"elapsedTimeSeconds\":2}},\"toolUseID\":\"bash-progress-{k}\",\"parentToolUseID\":\"{toolu}\",\"uuid\":{},\"timestamp\":\"{}\"}}",
                uuid(k, 4),
                ts(k * 10 + 3)
            );
        }
        let u3 = uuid(k, 5);
        let _ = writeln!(
            out,
            "{{\"parentUuid\":{u2},{head},\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":[{{\"tool_use_id\":\"{toolu}\",\"type\":\"tool_result\",\"content\":\"{result}\",\"is_error\":false}}]}},\"uuid\":{u3},\"timestamp\":\"{}\",\"toolUseResult\":{{\"type\":\"text\",\"stdout\":\"{result}\",\"stderr\":\"\",\"interrupted\":false}},\"sourceToolAssistantUUID\":{u2}}}",
            ts(k * 10 + 5)
        );
        parent = u3;
        n += 2;
        turn += 1;
    }
    out
}
