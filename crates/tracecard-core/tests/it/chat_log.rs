//! Chat-log importer (OpenAI-style messages, mini-swe-agent v0 and 1.1).

use tracecard_core::import::{Input, load_input};
use tracecard_core::{Compiler, Format, OutcomeStatus, StepKind, StepStatus, TokenUsage, Trace};

use crate::fixtures::{load, path};

use crate::fixtures::count;

fn links(t: &Trace) -> (usize, usize, usize) {
    let r = t.steps.iter().map(|s| s.links.requests.len()).sum();
    let c = t.steps.iter().map(|s| s.links.consumes.len()).sum();
    let x = t.steps.iter().map(|s| s.links.context.len()).sum();
    (r, c, x)
}

#[test]
fn mini_swe_agent_v0_list() {
    let Some(t) = load("mini-swe-agent/github_issue.v0-list.traj.json") else {
        return;
    };
    let t = &t[0];
    t.validate().unwrap();
    assert_eq!(t.source.format, "chat_log");
    // 22 messages: system, task, then 10 × (assistant with one fenced bash block, observation)
    assert_eq!(count(t, StepKind::UserInput), 1);
    assert_eq!(count(t, StepKind::LlmCall), 10);
    assert_eq!(count(t, StepKind::ToolUse), 10);
    assert_eq!(t.steps.len(), 21);
    // returncode 1 on messages 3 and 17
    let errs: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Error)
        .collect();
    assert_eq!(errs.len(), 2);
    // `cat FILE` reads: the wrong absolute path once, tests/missing_colon.py twice
    let reads: Vec<_> = t.steps.iter().flat_map(|s| s.links.reads.iter()).collect();
    assert_eq!(reads.len(), 3);
    assert_eq!(
        reads
            .iter()
            .filter(|r| *r == &"tests/missing_colon.py")
            .count(),
        2
    );
    // no ids: every tool consumes its call; each call after the first gets the previous observation
    assert_eq!(links(t), (0, 10, 10));
    assert_eq!(t.total_tokens(), TokenUsage::default());
    let card = Compiler::new().compile(t).unwrap();
    assert_eq!(card.unpriced_steps, 10);
    assert!(card.warnings.iter().any(|w| w.code == "no_usage"));
    // the last command prints the diff: that is the submission
    assert_eq!(t.outcome.final_step, Some(t.steps[19].id));
    assert!(
        t.steps[20]
            .output
            .as_ref()
            .unwrap()
            .text
            .as_deref()
            .unwrap()
            .starts_with("diff --git")
    );
}

#[test]
fn mini_swe_agent_deepseek_chat_with_swebench_report() {
    let Some(t) = load("mini-swe-agent/django__django-12983.deepseek-chat.traj.json") else {
        return;
    };
    let t = &t[0];
    t.validate().unwrap();
    assert_eq!(t.session_id, "django__django-12983");
    // 116 messages: system, user, 57 assistant (one tool call each), 56 tool, exit
    assert_eq!(count(t, StepKind::LlmCall), 57);
    assert_eq!(count(t, StepKind::ToolUse), 57);
    assert_eq!(count(t, StepKind::UserInput), 1);
    assert_eq!(links(t), (57, 57, 57));
    // sums of extra.response.usage (python): prompt 668092, cached 654720 (= prompt_cache_hit_tokens), completion 10522
    assert_eq!(
        t.total_tokens(),
        TokenUsage {
            input: 13_372,
            output: 10_522,
            cache_read: 654_720,
            ..TokenUsage::default()
        }
    );
    let s = &t.steps[1];
    assert_eq!(s.model.as_deref(), Some("deepseek-chat"));
    assert_eq!(s.provider.as_deref(), Some("deepseek"));
    assert_eq!(
        s.links.tool_call_id.as_deref(),
        Some("call_00_EMNDZU1radHqx0k4tMgqF96u")
    );
    assert_eq!(s.tokens, TokenUsage::from_inclusive(1429, 320, 0, 89, 0));
    // outcome from the sibling SWE-bench report
    assert_eq!(t.outcome.status, OutcomeStatus::Success);
    assert_eq!(t.outcome.reason.as_deref(), Some("Submitted"));
    let ev = &t.outcome.evidence[0];
    assert_eq!(ev.verifier, "swebench");
    assert_eq!(ev.passed, Some(true));
    assert!(
        ev.message
            .as_deref()
            .unwrap()
            .contains("FAIL_TO_PASS: test_slugify (utils_tests.test_text.TestUtilsText)")
    );
    assert!(ev.artifacts.contains(&"django/utils/text.py".to_string()));
    assert_eq!(ev.artifacts.len(), 1 + 1 + 15);
    assert!(crate::fixtures::answer_text(t).starts_with("diff --git a/django/utils/text.py"));
    // the submit command's output is the exit message (the patch)
    let last = t.steps.last().unwrap();
    assert_eq!(last.kind, StepKind::ToolUse);
    assert_eq!(last.status, StepStatus::Ok);
    // reconciliation: timestamps are 2026-04 → the deepseek prices from 2025-09-05 apply
    let card = Compiler::new().compile(t).unwrap();
    let reported = card.reported_cost_usd.unwrap();
    eprintln!(
        "django-12983: computed ${} reported instance_cost ${}",
        card.total_cost_usd, reported
    );
    assert_eq!(card.total_cost_usd.to_string(), "0.02649556");
    assert!((card.total_cost_usd.to_f64() - reported.to_f64()).abs() <= reported.to_f64() * 0.01);
    assert_eq!(card.steps[1].priced_as.as_deref(), Some("deepseek-chat"));
    // per-step extra.cost sums to instance_cost too
    let step_sum: f64 = t
        .steps
        .iter()
        .filter_map(|s| s.reported_cost_usd)
        .map(|u| u.to_f64())
        .sum();
    assert!((step_sum - 0.02649556).abs() < 1e-9);
}

#[test]
fn mini_swe_agent_deepseek_reasoner_api_error() {
    let Some(t) = load("mini-swe-agent/pvlib__pvlib-python-1606.deepseek-reasoner.traj.json")
    else {
        return;
    };
    let t = &t[0];
    t.validate().unwrap();
    // 4 answered calls + the 5th (api_calls = 5) that failed with InternalServerError
    assert_eq!(count(t, StepKind::LlmCall), 5);
    assert_eq!(count(t, StepKind::ToolUse), 4);
    let failed = t.steps.last().unwrap();
    assert_eq!(
        (failed.kind, failed.status),
        (StepKind::LlmCall, StepStatus::Error)
    );
    assert!(
        failed
            .error
            .as_deref()
            .unwrap()
            .contains("InternalServerError")
    );
    assert!(t.warnings.iter().any(|w| w.code == "missing_response"));
    assert_eq!(
        t.total_tokens(),
        TokenUsage {
            input: 1_731,
            output: 318,
            cache_read: 15_616,
            reasoning: 94,
            ..TokenUsage::default()
        }
    );
    assert!(
        t.steps[1]
            .output
            .as_ref()
            .unwrap()
            .text
            .as_deref()
            .unwrap()
            .starts_with("[reasoning] I'll start")
    );
    assert_eq!(t.outcome.status, OutcomeStatus::Failure);
    assert_eq!(t.outcome.reason.as_deref(), Some("InternalServerError"));
    assert!(t.outcome.evidence.is_empty());
    let card = Compiler::new().compile(t).unwrap();
    let reported = card.reported_cost_usd.unwrap();
    eprintln!(
        "pvlib-1606: computed ${} reported ${}",
        card.total_cost_usd, reported
    );
    assert_eq!(card.total_cost_usd.to_string(), "0.001055488");
    assert_eq!(card.unpriced_steps, 0);
    assert!((card.total_cost_usd.to_f64() - reported.to_f64()).abs() <= reported.to_f64() * 0.01);
}

#[test]
fn old_deepseek_prices_would_not_reconcile() {
    // Explanation asserted: before 2025-09-05 deepseek-chat cost $0.27/M in, $0.07/M cached,
    // $1.10/M out; with those prices the same tokens cost $0.0610 (2.3× the file's
    // instance_cost $0.02650), so the file was priced with the post-2025-09-05 table (0.28/0.028/0.42).
    let Some(t) = load("mini-swe-agent/django__django-12983.deepseek-chat.traj.json") else {
        return;
    };
    let mut t = t[0].clone();
    for s in &mut t.steps {
        s.ended_at = Some("2025-06-01T00:00:00Z".parse().unwrap());
    }
    let card = Compiler::new().compile(&t).unwrap();
    // 13372×0.27 + 654720×0.07 + 10522×1.1 = 61015.04 µ$
    assert_eq!(card.total_cost_usd.to_string(), "0.06101504");
}

#[test]
fn swebench_report_is_not_a_trace() {
    let Some(p) = path("mini-swe-agent/django__django-12983.swebench-report.json") else {
        return;
    };
    assert_eq!(tracecard_core::import::detect(&p).unwrap(), None);
}

fn imp(bytes: &[u8]) -> tracecard_core::Result<Vec<Trace>> {
    load_input(
        &Input::from_bytes("x.json", bytes.to_vec()),
        Some(Format::ChatLog),
    )
}

#[test]
fn plain_openai_messages_with_ids_and_usage() {
    let text = r#"{"messages":[
      {"role":"user","content":"What is in a.txt?"},
      {"role":"assistant","content":null,"tool_calls":[
         {"id":"c1","type":"function","function":{"name":"read_file","arguments":"{\"command\":\"cat a.txt\"}"}},
         {"id":"c2","type":"function","function":{"name":"bash","arguments":"{\"command\":\"ls\"}"}}],
       "usage":{"prompt_tokens":100,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":40}}},
      {"role":"tool","tool_call_id":"c2","content":"a.txt"},
      {"role":"tool","tool_call_id":"c1","content":"hello"},
      {"role":"assistant","content":"It says hello.","usage":{"prompt_tokens":130,"completion_tokens":5}}]}"#;
    let t = &imp(text.as_bytes()).unwrap()[0];
    assert_eq!(t.steps.len(), 5);
    assert_eq!(t.steps[1].links.requests, ["c1", "c2"]);
    assert_eq!(t.steps[2].links.reads, ["a.txt"]);
    // delivered in arrival order
    assert_eq!(t.steps[4].links.context, [t.steps[3].id, t.steps[2].id]);
    assert_eq!(
        t.steps[1].tokens,
        TokenUsage::from_inclusive(100, 40, 0, 10, 0)
    );
    assert_eq!(t.outcome.final_step, Some(t.steps[4].id));
}

#[test]
fn malformed_input() {
    assert!(imp(b"").is_err());
    assert!(imp(b"[{\"role\":\"user\",\"content\":\"\xff\"}]").is_err());
    assert!(imp("[".repeat(100_000).as_bytes()).is_err());
    assert!(imp(b"[{\"role\":\"user\",\"content\":\"hi\"}").is_err()); // truncated
    assert!(imp(b"42").is_err());
    let e = imp(br#"[{"role":5}]"#).unwrap_err().to_string();
    assert!(e.contains("messages[0].role"), "{e}");
    let e = imp(br#"[{"role":"assistant","content":"x","usage":{"prompt_tokens":"lots"}}]"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("prompt_tokens"), "{e}");
    let e = imp(br#"{"messages":[],"info":{"model_stats":{"instance_cost":"free"}}}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("instance_cost"), "{e}");
    assert!(imp(br#"[1]"#).is_err());
    let t = imp(br#"[{"role":"narrator","content":"x"},{"role":"tool","tool_call_id":"nope","content":"y"}]"#).unwrap();
    let codes: Vec<_> = t[0].warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "unknown_record",
            "orphan_tool_output",
            "no_usage",
            "empty_session"
        ]
    );
}

/// Every fixture of these formats is detected as its own format; fixtures of other
/// formats (Claude Code, Langfuse, OTLP, …) and the side files are not claimed by them.
#[test]
fn detection_over_all_fixtures() {
    let Some(root) = crate::fixtures::root() else {
        return;
    };
    let mine = [
        ("codex/", Format::Codex),
        ("mini-swe-agent/", Format::ChatLog),
        ("swe-agent/", Format::SweAgent),
        ("openhands/", Format::OpenHands),
        ("inspect/", Format::Inspect),
    ];
    let not_traces = ["localpush-manifest.json", "swebench-report.json"];
    let ours = [
        Format::Codex,
        Format::ChatLog,
        Format::SweAgent,
        Format::OpenHands,
        Format::Inspect,
        Format::OpenClaw,
    ];
    let mut stack = vec![root.clone()];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel.ends_with(".md") {
                continue;
            }
            let got = tracecard_core::import::detect(&p).unwrap();
            let want = mine
                .iter()
                .find(|(pre, _)| rel.starts_with(pre))
                .map(|(_, f)| *f);
            match want {
                Some(f) if !not_traces.iter().any(|n| rel.ends_with(n)) => {
                    assert_eq!(got, Some(f), "{rel}")
                }
                _ => assert!(
                    !got.is_some_and(|g| ours.contains(&g)),
                    "{rel} claimed as {got:?}"
                ),
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
}

#[test]
fn sniffers_survive_multibyte_heads() {
    // a head whose 4096th/8192nd byte falls inside a multi-byte character
    for pad in 0..4 {
        let mut s = String::from("[{\"content\":\"");
        s.push_str(&"x".repeat(pad));
        s.push_str(&"é€".repeat(5000));
        s.push_str("\",\"role\":\"user\"}]");
        // the role is beyond the sniffed window: unknown format, but no panic
        let r = load_input(&Input::from_bytes("m.json", s.clone().into_bytes()), None);
        assert!(r.is_err());
        let r = load_input(
            &Input::from_bytes("m.json", s.into_bytes()),
            Some(Format::ChatLog),
        );
        assert_eq!(r.unwrap()[0].steps.len(), 1);
        let r = load_input(
            &Input::from_bytes(
                "m.json",
                format!(
                    "[{{\"id\":0,\"source\":\"x\",\"q\":\"{}\"}}]",
                    "é€".repeat(5000)
                )
                .into_bytes(),
            ),
            None,
        );
        assert!(r.is_err()); // unknown format, no panic
    }
}

#[test]
fn editor_tool_calls_give_reads_and_writes() {
    let text = r#"[{"role":"user","content":"fix it"},
      {"role":"assistant","content":"","tool_calls":[
        {"id":"a","type":"function","function":{"name":"str_replace_editor","arguments":"{\"command\":\"view\",\"path\":\"src/x.py\"}"}},
        {"id":"b","type":"function","function":{"name":"str_replace_editor","arguments":"{\"command\":\"str_replace\",\"path\":\"src/x.py\",\"old_str\":\"a\",\"new_str\":\"b\"}"}},
        {"id":"c","type":"function","function":{"name":"write_file","arguments":"{\"path\":\"notes.md\",\"content\":\"x\"}"}},
        {"id":"d","type":"function","function":{"name":"bash","arguments":"{\"command\":\"cat setup.cfg | head\"}"}}]}]"#;
    let t = &imp(text.as_bytes()).unwrap()[0];
    let rw: Vec<_> = t.steps[2..]
        .iter()
        .map(|s| (s.links.reads.clone(), s.links.writes.clone()))
        .collect();
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        rw,
        [
            (v(&["src/x.py"]), v(&[])),
            (v(&["src/x.py"]), v(&["src/x.py"])),
            (v(&[]), v(&["notes.md"])),
            (v(&[]), v(&[])), // not a trivial cat
        ]
    );
}
