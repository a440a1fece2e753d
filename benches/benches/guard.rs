//! `tracecard guard`'s decision (issue 17's target: < 50 ms on a 2,000-record
//! transcript): the first 2,000 records of the synthetic Claude Code session
//! (`claude_code_session`, the hook's view of a transcript so far) written to a
//! temporary file, then one `PreToolUse` hook call — parse the hook input,
//! rebuild every agent context's state from the transcript, decide — for a
//! pending `Read` a rule names (`decide_read`), and for a tool no rule names
//! (`no_rule_bash`: the transcript is not read). Same size under `cargo test`.

use std::hint::black_box;
use std::path::Path;

use costcraft::RuleSet;
use costcraft::guard::{Guard, GuardOptions, hook};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const RECORDS: usize = 2_000;

const RULES: &str = r#"schema_version: costcraft-rules/1
generated_by: bench
corpus: {sessions: 3, tasks: 2, steps: 40, total_cost_usd: 0.5, replayed_sessions: 3, outcomes: {}}
policy: {min_savings_usd: 0.001, min_session_share: 0.01, require_replay: false, min_prune_tasks: 2, max_counter_example_rate: 0.1, min_preserve_sessions: 2, min_steps: 10, max_tool_time_share: 0.5, allow_backfire: [], include_quarantined: false, skill_name: cost-rules}
tools: {read_only: [Read, Grep, Glob], readers: [Read, Grep, Glob]}
rules:
- id: prune-read-repeat-of-success-main
  action: prune
  status: active
  enforce: pre_tool_use
  match: {kind: tool_use, tool: Read, scope: main, after: repeat_of_success}
  reason: Read of a file already read successfully with nothing but reads since
  support: {sessions: 3, tasks: 2, steps: 4}
  counter_examples: {sessions: 0, steps: 0, rate: 0.0}
  savings: {total_usd: 0.02, median_usd: 0.005}
  transfer_score: 0.6667
  confirmed_by: {"replay:bench": 4}
  evidence: {supporting: []}
"#;

fn guard_bench(c: &mut Criterion) {
    let session = tracecard_benches::claude_code_session(RECORDS);
    let prefix: String = session
        .lines()
        .take(RECORDS)
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(prefix.lines().count(), RECORDS, "a 2,000-record transcript");
    let dir = std::env::temp_dir().join(format!("tracecard-bench-guard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let transcript = dir.join("5a3f9c2e-0000-4000-8000-00000000b0b0.jsonl");
    std::fs::write(&transcript, &prefix).expect("write transcript");
    let rules = RuleSet::from_yaml(RULES, Path::new("rules.yaml")).expect("rules");
    let guard = Guard::new(&rules, &GuardOptions::default());
    let input = |tool: &str, tool_input: serde_json::Value| {
        serde_json::json!({
            "session_id": "5a3f9c2e-0000-4000-8000-00000000b0b0",
            "transcript_path": transcript,
            "cwd": "/home/dev/projects/ledger",
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": tool_input,
            "tool_use_id": "toolu_pending",
        })
        .to_string()
    };
    let read = input(
        "Read",
        serde_json::json!({"file_path": "/home/dev/projects/ledger/src/mod_1.rs"}),
    );
    let bash = input("Bash", serde_json::json!({"command": "cargo test"}));
    // the decision is real: the file was read in this transcript
    let d = hook(&guard, &read, false).expect("decide").decision;
    assert!(d.after.is_some(), "{d:?}");

    let mut g = c.benchmark_group(format!("guard_{RECORDS}_records"));
    g.sample_size(20);
    g.throughput(Throughput::Bytes(prefix.len() as u64));
    g.bench_function("decide_read", |b| {
        b.iter(|| hook(&guard, black_box(&read), false).expect("decide"))
    });
    g.bench_function("no_rule_bash", |b| {
        b.iter(|| hook(&guard, black_box(&bash), false).expect("decide"))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, guard_bench);
criterion_main!(benches);
