//! End-to-end through the binary: `tracecard compile TRANSCRIPT TELEMETRY_DIR` on a
//! session of the real Claude Code CLI (captures from `make test-e2e`, which runs
//! this with `TRACECARD_CLAUDE_E2E` set; `#[ignore]`d in the ordinary run).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    let d = std::env::var_os("TRACECARD_CLAUDE_E2E")
        .map(PathBuf::from)
        .expect("TRACECARD_CLAUDE_E2E is not set: run `make test-e2e`");
    assert!(
        d.is_dir(),
        "{} is missing: run `make test-e2e`",
        d.display()
    );
    d
}

fn compile(args: &[&std::ffi::OsStr]) -> (Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tracecard"))
        .arg("compile")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cards = match v {
        Value::Array(a) => a,
        one => vec![one],
    };
    (cards, stderr)
}

/// Σ Claude Code's own `cost_usd_micros` over the scenario's api_request events.
fn otel_cost_micros(scenario: &str) -> i64 {
    let text =
        std::fs::read_to_string(root().join(scenario).join("otel").join("logs.jsonl")).unwrap();
    let mut sum = 0;
    for l in text.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        for r in v["resourceLogs"][0]["scopeLogs"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["logRecords"].as_array().unwrap())
        {
            let a = r["attributes"].as_array().unwrap();
            let get = |k: &str| a.iter().find(|x| x["key"] == k).map(|x| &x["value"]);
            if get("event.name").and_then(|v| v["stringValue"].as_str()) == Some("api_request") {
                let m = &get("cost_usd_micros").unwrap()["intValue"];
                sum += m
                    .as_i64()
                    .or_else(|| m.as_str().and_then(|s| s.parse().ok()))
                    .unwrap();
            }
        }
    }
    sum
}

#[test]
#[ignore = "needs the real Claude Code CLI: make test-e2e"]
fn e2e_compile_transcript_and_telemetry_paths() {
    let scenario = root().join("agent");
    let src = std::fs::read_dir(scenario.join("transcript"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .unwrap();
    // the transcript alone, away from its <session>/otel/ folder
    let dir = scenario.join("cli-two-paths");
    let _ = std::fs::remove_dir_all(&dir);
    let session = src.file_stem().unwrap();
    let subs = dir.join(session).join("subagents");
    std::fs::create_dir_all(&subs).unwrap();
    let main = dir.join(src.file_name().unwrap());
    std::fs::copy(&src, &main).unwrap();
    for e in std::fs::read_dir(src.with_extension("").join("subagents")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, subs.join(p.file_name().unwrap())).unwrap();
    }
    let want = otel_cost_micros("agent");

    // transcript alone: no reported cost from telemetry
    let (cards, _) = compile(&[main.as_os_str()]);
    assert_eq!(cards.len(), 1);
    assert!(
        !cards[0]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "telemetry_joined")
    );

    // telemetry alone: a card of its own
    let otel = scenario.join("otel");
    let (cards, _) = compile(&[otel.as_os_str()]);
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["source"]["format"], "claude_code_otel");
    let micros = |v: &Value| (v.as_f64().unwrap() * 1e6).round() as i64;
    assert_eq!(micros(&cards[0]["reported_cost_usd"]), want);

    // both paths: one card, transcript steps, Claude Code's cost joined, delta 0
    let (cards, stderr) = compile(&[main.as_os_str(), otel.as_os_str()]);
    assert_eq!(cards.len(), 1, "one card per session: {stderr}");
    let c = &cards[0];
    assert_eq!(c["source"]["format"], "claude_code");
    assert_eq!(c["session_id"].as_str(), session.to_str());
    assert!(
        c["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "telemetry_joined"
                && w["message"].as_str().unwrap().contains("7 of 7"))
    );
    assert_eq!(micros(&c["reported_cost_usd"]), want);
    assert_eq!(micros(&c["total_cost_usd"]), want);
    assert_eq!(c["cost_delta_usd"].as_f64(), Some(0.0));
    let llm: Vec<&Value> = c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "llm_call")
        .collect();
    assert_eq!(llm.len(), 7);
    assert!(llm.iter().all(|s| s["reported_cost_usd"].is_number()));
    assert!(
        stderr.contains("telemetry joined into the transcript"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The one main transcript of a scenario.
fn transcript(scenario: &str) -> PathBuf {
    let t = root().join(scenario).join("transcript");
    let main: Vec<PathBuf> = std::fs::read_dir(&t)
        .unwrap_or_else(|e| panic!("{}: {e}", t.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    assert_eq!(main.len(), 1, "one session in {}", t.display());
    main[0].clone()
}

/// `evaluate --guard-log` on real sessions: the session run with `tracecard guard`
/// as its hook is in the lane of the rules its log names, a session run without
/// the guard (scenario `deny`) in `no rules`.
#[test]
#[ignore = "needs the real Claude Code CLI: make test-e2e"]
fn e2e_evaluate_lanes_from_the_guard_log() {
    let (g, d) = (transcript("guard"), transcript("deny"));
    let log = root().join("guard").join("guard.jsonl");
    let mut c = Command::new(env!("CARGO_BIN_EXE_tracecard"));
    c.arg("evaluate");
    for side in ["--baseline", "--treated"] {
        c.arg(side).arg(&g).arg(side).arg(&d);
    }
    let out = c
        .arg("--guard-log")
        .arg(&log)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
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
    assert_eq!(lanes, [("all rules", 1, 1), ("no rules", 0, 1)], "{e}");
}
