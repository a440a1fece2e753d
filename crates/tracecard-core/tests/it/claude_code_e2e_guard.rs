//! End-to-end (issue 17): the real Claude Code CLI (2.1.x) with `tracecard guard
//! --rules scripts/claude_code_e2e/guard-rules.yaml` installed as its `PreToolUse`
//! hook on every tool (scenario `guard` of `scripts/claude_code_e2e/run.sh`): the
//! duplicate Read is denied, the model receives the error result carrying the
//! reason, everything else runs, and the session's card shows the denied step.
//! `make test-e2e` generates the capture; without it these tests fail (they are
//! `#[ignore]`d in the ordinary run).

use std::path::PathBuf;

use serde_json::Value;
use tracecard_core::{Compiler, StepKind, StepStatus, Trace};

const RULE: &str = "prune-read-repeat-of-success-main";

fn dir() -> PathBuf {
    let d = std::env::var_os("TRACECARD_CLAUDE_E2E")
        .map(PathBuf::from)
        .expect("TRACECARD_CLAUDE_E2E is not set: run `make test-e2e`")
        .join("guard");
    assert!(
        d.is_dir(),
        "{} is missing: run `make test-e2e`",
        d.display()
    );
    d
}

fn trace() -> Trace {
    let t = dir().join("transcript");
    let main: Vec<PathBuf> = std::fs::read_dir(&t)
        .unwrap_or_else(|e| panic!("{}: {e}", t.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    assert_eq!(main.len(), 1, "one session in {}", t.display());
    let mut ts = tracecard_core::load(&main[0], None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ts.len(), 1);
    let t = ts.remove(0);
    t.validate().unwrap();
    t
}

#[test]
#[ignore = "needs the real Claude Code CLI: make test-e2e"]
fn e2e_guard_hook_denies_the_duplicate_read() {
    // the hook's own log: one decision per call, the duplicate read denied
    let log = std::fs::read_to_string(dir().join("guard.jsonl")).unwrap();
    let decisions: Vec<(String, String, Option<String>)> = log
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            // the rules the hook may deny with (the held-back one never), for
            // `tracecard evaluate --guard-log`
            assert_eq!(v["active_rules"], serde_json::json!([RULE]), "{l}");
            assert_eq!(v["dry_run"], false, "{l}");
            (
                v["tool_name"].as_str().unwrap().to_string(),
                v["decision"].as_str().unwrap().to_string(),
                v["rule_id"].as_str().map(str::to_string),
            )
        })
        .collect();
    let d = |t: &str, x: &str, r: Option<&str>| (t.to_string(), x.to_string(), r.map(String::from));
    assert_eq!(
        decisions,
        [
            d("Read", "allow", None),
            d("Read", "deny", Some(RULE)),
            d("Bash", "allow", None),
        ]
    );

    // the session: the first Read and the grep ran, the duplicate did not
    let t = trace();
    let tools: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::ToolUse)
        .collect();
    let shape: Vec<(&str, StepStatus)> = tools
        .iter()
        .map(|s| (s.tool.as_deref().unwrap(), s.status))
        .collect();
    assert_eq!(
        shape,
        [
            ("Read", StepStatus::Ok),
            ("Read", StepStatus::Denied),
            ("Bash", StepStatus::Ok),
        ]
    );
    assert_eq!(tools[0].input, tools[1].input, "the same read");
    let reason = tools[1].error.as_deref().unwrap();
    assert!(
        reason.contains(&format!("{RULE}: Read of a file already read"))
            && reason.contains("proven waste in 4 step(s) of 3 session(s)"),
        "{reason}"
    );
    assert_eq!(
        tools[1]
            .attributes
            .get("permission_source")
            .map(String::as_str),
        Some("hook")
    );
    let grep = tools[2].output.as_ref().and_then(|c| c.text.as_deref());
    assert_eq!(grep, Some("1"), "the grep ran");

    // the model received the error result with the reason: the scripted model
    // quotes it back in its answer only when it was in the conversation
    let answer = t.outcome.answer.as_ref().and_then(|c| c.text.as_deref());
    let answer = answer.unwrap_or_else(|| panic!("no answer: {:?}", t.outcome));
    assert!(answer.starts_with("GUARD-SEEN "), "{answer}");
    assert!(answer.contains(&format!("{RULE}: ")), "{answer}");

    // the card shows the denied step
    let card = Compiler::new().compile(&t).unwrap();
    let denied: Vec<_> = card
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Denied)
        .collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].id, tools[1].id);
    assert!(card.warnings.iter().any(|w| w.code == "denied_tool_calls"));
}
