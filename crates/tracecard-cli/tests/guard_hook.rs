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

fn fixtures() -> Option<std::path::PathBuf> {
    let root = std::env::var_os("TRACECARD_FIXTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
        });
    if root.is_dir() {
        return Some(root);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("fixtures not found at {} (CI=true)", root.display());
    }
    eprintln!("skipping: fixtures not found at {}", root.display());
    None
}

const RULES: &str = r#"schema_version: costcraft-rules/1
generated_by: test
corpus: {sessions: 2, tasks: 2, steps: 10, total_cost_usd: 0.1, replayed_sessions: 2, outcomes: {}}
policy: {min_savings_usd: 0.001, min_session_share: 0.01, require_replay: false, min_prune_tasks: 2, max_counter_example_rate: 0.1, min_preserve_sessions: 2, min_steps: 10, max_tool_time_share: 0.5, allow_backfire: [], include_quarantined: false, skill_name: cost-rules}
tools: {read_only: [Read, Glob, Grep], readers: [Read]}
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
- id: prune-glob-held
  action: prune
  status: held_back
  enforce: pre_tool_use
  match: {kind: tool_use, tool: Glob, scope: main, after: any}
  reason: held back
  support: {sessions: 2, tasks: 2, steps: 3}
  counter_examples: {sessions: 2, steps: 3, rate: 0.5}
  savings: {total_usd: 0.01, median_usd: 0.003}
  transfer_score: 0.1
  confirmed_by: {"replay:x": 3}
  evidence: {supporting: []}
"#;

/// The hook run on every call of a real Claude Code session (stdin built from the
/// fixture, the transcript cut before the record carrying the call) logs the
/// session and the rules it may deny with; `evaluate --guard-log` then puts that
/// session in the prune lane and a session the guard never saw in `no rules`.
#[test]
fn guard_log_drives_the_evaluate_ablation_on_real_transcripts() {
    let Some(root) = fixtures() else { return };
    let guarded =
        root.join("claude-code/claude-code-viewer/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl");
    let unguarded = root.join("claude-code/sniffly/fed8ce56-bc79-401f-a83e-af084253362f.jsonl");
    let sid = "5c0375b4-57a5-4f26-b12d-d022ee4e51b7";
    let dir = std::env::temp_dir().join(format!("tracecard-guard-log-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(&rules, RULES).unwrap();
    let (r, log, dry) = (
        rules.to_str().unwrap(),
        dir.join("guard.jsonl"),
        dir.join("dry.jsonl"),
    );
    let transcript = dir.join(format!("{sid}.jsonl"));
    let lines: Vec<String> = std::fs::read_to_string(&guarded)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let mut calls = 0;
    for (i, l) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["type"] != "assistant" {
            continue;
        }
        for b in v["message"]["content"].as_array().into_iter().flatten() {
            if b["type"] != "tool_use" {
                continue;
            }
            let prefix: String = lines[..i].iter().map(|l| format!("{l}\n")).collect();
            std::fs::write(&transcript, prefix).unwrap();
            let stdin = serde_json::json!({
                "session_id": v["sessionId"],
                "transcript_path": transcript,
                "cwd": "/repo",
                "permission_mode": "default",
                "hook_event_name": "PreToolUse",
                "tool_name": b["name"],
                "tool_input": b["input"],
                "tool_use_id": b["id"],
            })
            .to_string();
            let (code, _, err) = run(
                &["guard", "--rules", r, "--log", log.to_str().unwrap()],
                &stdin,
            );
            assert_eq!(code, 0, "{err}");
            calls += 1;
            if calls == 1 {
                // the same call under --dry-run, in another log
                let (code, out, err) = run(
                    &[
                        "guard",
                        "--rules",
                        r,
                        "--dry-run",
                        "--log",
                        dry.to_str().unwrap(),
                    ],
                    &stdin,
                );
                assert_eq!((code, out.as_str()), (0, ""), "{err}");
            }
        }
    }
    assert_eq!(calls, 21);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged.lines().count(), calls);
    for l in logged.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        // the existing fields stay; active_rules and dry_run are added
        for k in [
            "session_id",
            "tool_use_id",
            "tool_name",
            "agent_id",
            "decision",
            "rule_id",
            "after",
            "reason",
        ] {
            assert!(v.get(k).is_some(), "{k} missing in {l}");
        }
        assert_eq!(v["session_id"], sid);
        // the held-back rule is never active
        assert_eq!(
            v["active_rules"],
            serde_json::json!(["prune-read-repeat"]),
            "{l}"
        );
        assert_eq!(v["dry_run"], false);
    }
    let evaluate = |logs: &[&std::path::Path]| {
        let mut args = vec![
            "evaluate".to_string(),
            "--baseline".into(),
            guarded.display().to_string(),
            "--baseline".into(),
            unguarded.display().to_string(),
            "--treated".into(),
            guarded.display().to_string(),
            "--treated".into(),
            unguarded.display().to_string(),
            "--json".into(),
        ];
        for l in logs {
            args.push("--guard-log".into());
            args.push(l.display().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&args, "");
        (code, out, err)
    };
    let (code, out, err) = evaluate(&[&log]);
    assert_eq!(code, 0, "{err}");
    let e: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lanes: Vec<(&str, u64, u64)> = e["ablation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["lane"].as_str().unwrap(),
                l["rules"].as_u64().unwrap(),
                l["pairs"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lanes, [("all rules", 1, 1), ("no rules", 0, 1)], "{out}");
    // under --dry-run no rule could deny: both sessions are in the no-rules lane
    let (code, out, err) = evaluate(&[&dry]);
    assert_eq!(code, 0, "{err}");
    let e: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lanes = e["ablation"].as_array().unwrap();
    assert_eq!(lanes.len(), 1, "{out}");
    assert_eq!(
        (&lanes[0]["lane"], &lanes[0]["pairs"]),
        (&serde_json::json!("no rules"), &serde_json::json!(2))
    );
    assert_eq!(lanes[0]["rules"], 0);
    // without --guard-log there is no ablation
    let (code, out, _) = evaluate(&[]);
    assert_eq!(code, 0);
    let e: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        e["ablation"].as_array().is_none_or(|a| a.is_empty()),
        "{out}"
    );
    // a log line of an older guard (no active_rules): file, line and field
    let old = dir.join("old.jsonl");
    std::fs::write(
        &old,
        format!(
            "{}\n{{\"session_id\":\"{sid}\",\"decision\":\"allow\"}}\n",
            logged.lines().next().unwrap()
        ),
    )
    .unwrap();
    let (code, _, err) = evaluate(&[&old]);
    assert_ne!(code, 0);
    assert!(
        err.contains(&format!("{}:2: ", old.display())) && err.contains("active_rules"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
