//! `CommandReplayer`: the `tracecard-replay/1` command protocol, end to end with
//! small `sh` scripts as harnesses.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tracecard_core::{
    CommandReplayer, Compiler, ErrorKind, OracleEvidence, OutcomeStatus, Recorder, Replayer,
    StepId, TokenUsage, Trace,
};

/// A fresh, empty directory under the system temp dir.
fn scratch(test: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tracecard-replay-{test}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Write `body` as an `sh` script in `dir`; the command that runs it.
fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    format!("sh '{}'", path.display())
}

/// The example trace, loaded by a relative path (the request must make it absolute).
fn example() -> Trace {
    let rel = Path::new("../../examples/traces/config-question.jsonl");
    assert!(rel.exists(), "tests run from the crate directory");
    let mut traces = tracecard_core::load(rel, None).unwrap();
    traces.remove(0)
}

fn replay_err(r: &CommandReplayer, trace: &Trace, removed: &[StepId]) -> String {
    let err = r.replay(trace, removed).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replay, "{err}");
    err.to_string()
}

#[test]
fn command_gets_the_exact_request_and_its_outcome_is_parsed() {
    let dir = scratch("request");
    let log = dir.join("requests.jsonl");
    let cmd = script(
        &dir,
        "harness.sh",
        &format!(
            "cat >> '{}'\necho '{{\"status\": \"success\", \"evidence\": [{{\"verifier\": \"pytest\", \"passed\": true, \"message\": \"3 passed\", \"extra\": 1}}], \"ignored\": [1, 2]}}'\n",
            log.display()
        ),
    );
    let trace = example();
    let r = CommandReplayer::new(&cmd);
    assert_eq!(r.name(), "sh harness.sh");

    let baseline = r.replay(&trace, &[]).unwrap();
    let without = r.replay(&trace, &[StepId(2), StepId(3)]).unwrap();
    for out in [&baseline, &without] {
        assert_eq!(out.status, OutcomeStatus::Success);
        assert_eq!(
            out.evidence,
            vec![OracleEvidence {
                verifier: "pytest".into(),
                passed: Some(true),
                message: Some("3 passed".into()),
                score: None,
                artifacts: vec![],
            }]
        );
    }

    let abs = std::fs::canonicalize("../../examples/traces/config-question.jsonl").unwrap();
    let requests: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        requests,
        vec![
            json!({
                "protocol": "tracecard-replay/1",
                "session_id": "config-question",
                "trace_path": abs.to_str().unwrap(),
                "format": "native",
                "remove": [],
            }),
            json!({
                "protocol": "tracecard-replay/1",
                "session_id": "config-question",
                "trace_path": abs.to_str().unwrap(),
                "format": "native",
                "remove": [
                    {"step": 2, "source_ref": "msg-1", "source_ids": ["msg-1"], "kind": "llm_call", "name": "claude-sonnet-4-5"},
                    {"step": 3, "source_ref": "toolu_01", "source_ids": ["toolu_01"], "kind": "tool_use", "name": "read_file"},
                ],
            }),
        ]
    );
    // The request method gives exactly what was sent.
    assert_eq!(
        serde_json::from_str::<Value>(&r.request(&trace, &[]).unwrap()).unwrap(),
        requests[0]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn request_without_a_file_and_with_ids_from_links_and_attributes() {
    let mut rec = Recorder::new("rec-1");
    let call = rec.llm_call(
        "gpt-4.1-mini",
        TokenUsage::from_inclusive(100, 0, 0, 10, 0),
        "ls",
    );
    let tool = rec.tool_use("shell", "ls", "a b", Some(call));
    let step = rec.step_mut(tool).unwrap();
    step.links.tool_call_id = Some("call_9".into());
    step.source_ref = Some("span-7".into());
    step.attributes.insert("request_id".into(), "req_1".into());
    step.attributes.insert("exit_code".into(), "0".into());
    rec.step_mut(call).unwrap().source_ref = Some(String::new());
    let trace = rec.finish(OutcomeStatus::Success, None, vec![]);
    let req: Value = serde_json::from_str(
        &CommandReplayer::new("true")
            .request(&trace, &[call, tool])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(req["trace_path"], Value::Null);
    assert_eq!(req["format"], trace.source.format.as_str());
    assert_eq!(
        req["remove"],
        json!([
            {"step": 1, "source_ref": "", "source_ids": [], "kind": "llm_call", "name": "gpt-4.1-mini"},
            {"step": 2, "source_ref": "span-7", "source_ids": ["span-7", "call_9", "req_1"], "kind": "tool_use", "name": "shell"},
        ])
    );
    let err = CommandReplayer::new("true")
        .request(&trace, &[StepId(9)])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replay);
}

#[test]
fn failing_command_names_itself_and_its_stderr_tail() {
    let dir = scratch("fails");
    let cmd = script(
        &dir,
        "fails.sh",
        "cat > /dev/null\ni=0; while [ $i -lt 300 ]; do echo \"noise line $i ..............\" >&2; i=$((i+1)); done\necho 'harness: LAST-WORDS' >&2\nexit 1\n",
    );
    let r = CommandReplayer::new(&cmd);
    let msg = replay_err(&r, &example(), &[]);
    assert!(msg.contains(&cmd), "{msg}");
    assert!(msg.contains("exited with status 1"), "{msg}");
    assert!(msg.contains("harness: LAST-WORDS"), "{msg}");
    assert!(
        !msg.contains("noise line 0 "),
        "only the tail is kept: {msg}"
    );
    assert!(msg.len() < 2048 + 600, "{} bytes", msg.len());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn command_killed_by_a_signal_is_an_error() {
    let r = CommandReplayer::new("echo dying >&2; kill -s KILL $$");
    let msg = replay_err(&r, &example(), &[]);
    assert!(msg.contains("killed by signal 9"), "{msg}");
    assert!(msg.contains("dying"), "{msg}");
}

/// Processes of process group `pgid` that are still running (not zombies).
fn alive_in_group(pgid: u32) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            out.push(stat);
        }
    }
    out
}

#[test]
fn hanging_command_times_out_and_leaves_nothing_running() {
    let dir = scratch("hangs");
    let pid_file = dir.join("pgid");
    let cmd = script(
        &dir,
        "hangs.sh",
        &format!(
            "echo $$ > '{}'\necho 'waiting forever' >&2\nsleep 60 | cat\n",
            pid_file.display()
        ),
    );
    let r = CommandReplayer::new(&cmd).timeout(Duration::from_secs(1));
    let start = Instant::now();
    let msg = replay_err(&r, &example(), &[]);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(msg.contains("timed out after 1 s"), "{msg}");
    assert!(msg.contains("waiting forever"), "{msg}");
    let pgid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if Path::new("/proc/self/stat").exists() {
        // The kill is synchronous, but give the kernel a moment to tear down.
        let mut left = alive_in_group(pgid);
        for _ in 0..20 {
            if left.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
            left = alive_in_group(pgid);
        }
        assert!(left.is_empty(), "left running: {left:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn garbage_on_stdout_is_an_error() {
    for (body, what) in [
        ("cat > /dev/null; echo 'all good!'", "all good!"),
        ("cat > /dev/null; echo '{\"status\": \"great\"}'", "great"),
        ("cat > /dev/null; echo '{\"evidence\": []}'", "status"),
        (
            "cat > /dev/null; echo '{\"status\": \"success\"} {\"status\": \"failure\"}'",
            "trailing",
        ),
        ("cat > /dev/null", "stdout was empty"),
    ] {
        let r = CommandReplayer::new(body);
        let msg = replay_err(&r, &example(), &[]);
        assert!(
            msg.contains("did not print one `tracecard-replay/1` JSON response"),
            "{msg}"
        );
        assert!(msg.contains(what), "{what}: {msg}");
    }
}

#[test]
fn command_that_never_reads_stdin_still_answers() {
    // A large request (every step removed, many times over) so EPIPE is likely.
    let trace = example();
    let all: Vec<StepId> = (0..2000)
        .map(|i| StepId(1 + (i % trace.steps.len()) as u32))
        .collect();
    let r = CommandReplayer::new("echo '{\"status\": \"failure\"}'");
    let out = r.replay(&trace, &all).unwrap();
    assert_eq!(out.status, OutcomeStatus::Failure);
    assert!(out.evidence.is_empty());
}

#[test]
fn compiler_uses_the_command_replayer() {
    let dir = scratch("compile");
    let log = dir.join("requests.jsonl");
    let cmd = script(
        &dir,
        "ok.sh",
        &format!(
            "cat >> '{}'\necho '{{\"status\": \"success\"}}'\n",
            log.display()
        ),
    );
    let r = CommandReplayer::new(&cmd).with_name("harness");
    assert_eq!(r.name(), "harness");
    let card = Compiler::new().replayer(&r).compile(&example()).unwrap();
    assert!(card.steps.iter().any(|s| s.redundant));
    // One request per replay, each a single line of JSON.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().count() >= 1);
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["protocol"], "tracecard-replay/1");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn background_processes_do_not_outlive_the_answer() {
    let dir = scratch("background");
    let pid_file = dir.join("pgid");
    // The background sleep keeps stdout open: without the group kill this would
    // block for a minute.
    let cmd = script(
        &dir,
        "bg.sh",
        &format!(
            "echo $$ > '{}'\nsleep 60 &\necho '{{\"status\": \"unknown\"}}'\n",
            pid_file.display()
        ),
    );
    let start = Instant::now();
    let out = CommandReplayer::new(&cmd).replay(&example(), &[]).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.status, OutcomeStatus::Unknown);
    let pgid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if Path::new("/proc/self/stat").exists() {
        let mut left = alive_in_group(pgid);
        for _ in 0..20 {
            if left.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
            left = alive_in_group(pgid);
        }
        assert!(left.is_empty(), "left running: {left:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
