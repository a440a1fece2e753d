//! `tracecard guard` as Claude Code runs it: exit codes and output (issue 17).

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tracecard"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // a command that fails before reading its input (bad arguments) may close the
    // pipe first: that is not the test's failure
    if let Err(e) = c.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    let o = c.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn exit_codes_and_output() {
    let dir = std::env::temp_dir().join(format!("tracecard-guard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        r#"schema_version: costcraft-rules/1
generated_by: test
corpus: {sessions: 2, tasks: 2, steps: 10, total_cost_usd: 0.1, replayed_sessions: 2, outcomes: {}}
policy: {min_savings_usd: 0.001, min_session_share: 0.01, require_replay: false, min_prune_tasks: 2, max_counter_example_rate: 0.1, min_preserve_sessions: 2, min_steps: 10, max_tool_time_share: 0.5, allow_backfire: [], include_quarantined: false, skill_name: cost-rules}
tools: {read_only: [Read], readers: [Read]}
rules:
- id: prune-read-repeat
  action: prune
  status: active
  enforce: pre_tool_use
  match: {kind: tool_use, tool: Read, scope: main, after: repeat_of_success}
  reason: duplicate read
  support: {sessions: 2, tasks: 2, steps: 3}
  counter_examples: {sessions: 0, steps: 0, rate: 0.0}
  savings: {total_usd: 0.01, median_usd: 0.003}
  transfer_score: 0.6667
  confirmed_by: {"replay:x": 3}
  evidence: {supporting: []}
"#,
    )
    .unwrap();
    let t = dir.join("s.jsonl");
    std::fs::write(&t, concat!(
        r#"{"type":"user","timestamp":"2026-01-01T00:00:00Z","message":{"content":"go"}}"#, "\n",
        r#"{"type":"assistant","timestamp":"2026-01-01T00:00:01Z","message":{"content":[{"type":"tool_use","id":"t1","name":"Read","input":{"file_path":"a"}}]}}"#, "\n",
        r#"{"type":"user","timestamp":"2026-01-01T00:00:02Z","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"x"}]}}"#, "\n",
    )).unwrap();
    let input = |tool: &str| {
        format!(
            r#"{{"session_id":"s","transcript_path":{:?},"cwd":"/","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"{tool}","tool_input":{{"file_path":"a"}},"tool_use_id":"t2","prompt_id":"p"}}"#,
            t.to_str().unwrap()
        )
    };
    let r = rules.to_str().unwrap();
    let log = dir.join("log.jsonl");
    let l = log.to_str().unwrap();
    // deny: the JSON on stdout, exit 0
    let (code, out, _) = run(&["guard", "--rules", r, "--log", l], &input("Read"));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
    assert!(
        v["hookSpecificOutput"]["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .starts_with("prune-read-repeat: ")
    );
    // allow: nothing, exit 0
    let (code, out, _) = run(&["guard", "--rules", r], &input("Glob"));
    assert_eq!((code, out.as_str()), (0, ""));
    // dry run: allowed, logged
    let (code, out, _) = run(
        &["guard", "--rules", r, "--dry-run", "--log", l],
        &input("Read"),
    );
    assert_eq!((code, out.as_str()), (0, ""));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged.lines().count(), 2);
    assert!(logged.lines().last().unwrap().contains("would_deny"));
    // fail open: exit 1, one line on stderr, never 2
    for (args, stdin) in [
        (vec!["guard", "--rules", r], "{not json".to_string()),
        (
            vec!["guard", "--rules", "/nonexistent/rules.yaml"],
            input("Read"),
        ),
        (vec!["guard"], input("Read")),
        (vec!["guard", "--rules", r, "--bogus"], input("Read")),
        (
            vec!["guard", "--rules", r],
            input("Read").replace(t.to_str().unwrap(), "/nonexistent/s.jsonl"),
        ),
    ] {
        let (code, out, err) = run(&args, &stdin);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert_eq!(out, "");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    // a bad rules file: exit 1, one line naming the file, the line and the field
    let bad = dir.join("bad.yaml");
    let text = std::fs::read_to_string(&rules).unwrap().replace(
        "match: {kind: tool_use, tool: Read, scope: main,",
        "match: {kind: tool_use, tool: Read, scope: mian,",
    );
    std::fs::write(&bad, &text).unwrap();
    let (code, out, err) = run(&["guard", "--rules", bad.to_str().unwrap()], &input("Read"));
    assert_eq!((code, out.as_str()), (1, ""));
    let line = 1 + text.lines().position(|l| l.contains("mian")).unwrap();
    assert!(
        err.starts_with(&format!(
            "tracecard guard: {}:{line}: field rules[0].match.scope: unknown variant `mian`",
            bad.display()
        )),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
