//! `tracecard compile --replayer`: the command protocol from the CLI, and its exit
//! statuses.
#![cfg(unix)]

use std::path::PathBuf;
use std::process::Command;

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/traces/config-question.jsonl")
}

fn compile(replayer: &str, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tracecard"))
        .arg("compile")
        .arg(example())
        .args(["--format", "json", "--replayer", replayer])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn replayer_confirms_flags_and_exits_zero() {
    let out = compile("cat > /dev/null; echo '{\"status\": \"success\"}'", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let card: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let confirmed: Vec<&str> = card["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["confirmed_by"].as_str())
        .collect();
    assert!(!confirmed.is_empty(), "{card}");
    assert!(
        confirmed.iter().all(|c| c.contains("cat > null; echo")),
        "named after the command: {confirmed:?}"
    );
}

#[test]
fn failing_replayer_exits_three_with_its_stderr() {
    let out = compile(
        "echo 'harness broke' >&2; exit 4",
        &["--replay-timeout", "5"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("exited with status 4"), "{stderr}");
    assert!(stderr.contains("harness broke"), "{stderr}");
}

#[test]
fn replay_flags_are_validated() {
    let out = compile("true", &["--replay-timeout", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = compile("true", &["--replay-budget", "many"]);
    assert_eq!(out.status.code(), Some(2));
}
