//! The `ops-agent` binary: `gen` writes byte-identical native traces, `replay`
//! speaks `tracecard-replay/1`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ops-agent");

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ops-agent-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn replay(request: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .arg("replay")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn gen_is_byte_identical() {
    let (a, b) = (tmp("a"), tmp("b"));
    for d in [&a, &b] {
        let st = Command::new(BIN)
            .args(["gen", "--seed-start", "40", "--count", "3", "--out"])
            .arg(d)
            .args(["--content", "partial"])
            .status()
            .unwrap();
        assert!(st.success());
    }
    for seed in 40..43 {
        let f = format!("ops-{seed}.jsonl");
        let x = std::fs::read(a.join(&f)).unwrap();
        assert_eq!(x, std::fs::read(b.join(&f)).unwrap());
        let expect = ops_agent::run_with(seed, &BTreeSet::new(), ops_agent::ContentLevel::Partial);
        assert_eq!(String::from_utf8(x).unwrap(), expect.to_jsonl());
    }
    let _ = std::fs::remove_dir_all(a);
    let _ = std::fs::remove_dir_all(b);
}

#[test]
fn replay_round_trips_the_protocol() {
    let dir = tmp("replay");
    let st = Command::new(BIN)
        .args(["gen", "--seed-start", "5", "--count", "1", "--out"])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    let path = dir.join("ops-5.jsonl");
    let base = ops_agent::run(5, &BTreeSet::new());
    let req = |remove: &str| {
        format!(
            r#"{{"protocol": "tracecard-replay/1", "session_id": "ops-5", "trace_path": {:?}, "format": "native", "remove": [{remove}]}}"#,
            path.display().to_string()
        )
    };
    let (code, out, err) = replay(&req(""));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let want = if base.outcome.status == ops_agent::Status::Success {
        "success"
    } else {
        "failure"
    };
    assert_eq!(v["status"], want);
    assert_eq!(
        v["evidence"].as_array().unwrap().len(),
        base.outcome.evidence.len()
    );
    assert!(
        v["evidence"][0]["verifier"]
            .as_str()
            .unwrap()
            .starts_with("ops-check/")
    );

    // a removal: the answer of the last task
    let last = base.trace.outcome.final_step.unwrap().0;
    let (code, out, _) = replay(&req(&format!(
        r#"{{"step": {last}, "source_ref": "x", "source_ids": ["y"], "kind": "llm_call", "name": null}}"#
    )));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["status"], "failure");

    // session id from the trace file alone
    let (code, out2, _) = replay(&format!(
        r#"{{"protocol": "tracecard-replay/1", "trace_path": {:?}, "remove": []}}"#,
        path.display().to_string()
    ));
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(out2.trim()).unwrap()["status"],
        want
    );

    for bad in [
        "not json",
        r#"{"protocol": "other/1", "session_id": "ops-5", "remove": []}"#,
        r#"{"protocol": "tracecard-replay/1", "session_id": "nope", "remove": []}"#,
        r#"{"protocol": "tracecard-replay/1", "session_id": "ops-5", "remove": [{"kind": "x"}]}"#,
    ] {
        let (code, out, err) = replay(bad);
        assert_ne!(code, 0, "{bad}");
        assert!(out.is_empty() && !err.is_empty(), "{bad}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
