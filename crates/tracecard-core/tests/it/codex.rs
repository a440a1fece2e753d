//! Codex rollout JSONL importer: every fixture, hand-checked facts, malformed input.

use tracecard_core::import::{Input, load_input};
use tracecard_core::{Compiler, ContentCapture, Format, StepKind, StepStatus, TokenUsage, Trace};

use crate::fixtures::{load, path};

use crate::fixtures::count;

struct Facts {
    file: &'static str,
    llm: usize,
    tools: usize,
    web: usize,
    outputs: usize,
    users: usize,
    compactions: usize,
    tokens: TokenUsage,
    cost: &'static str,
}

/// Facts counted with python on the files (requests = token_count events whose
/// total_token_usage changed; see docs/formats/codex.md).
const FACTS: &[Facts] = &[
    Facts {
        file: "codex/rollout-2026-02-23T12-40-23-019c8a4c-ed82-79a1-aa28-7738fc5ab61a.jsonl",
        llm: 81,
        tools: 105,
        web: 1,
        outputs: 104,
        users: 5,
        compactions: 0,
        tokens: TokenUsage {
            input: 367_673,
            output: 36_075,
            cache_read: 6_836_352,
            cache_write_5m: 0,
            cache_write_1h: 0,
            reasoning: 17_896,
        },
        cost: "2.34483935",
    },
    Facts {
        file: "codex/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl",
        llm: 28,
        tools: 118,
        web: 0,
        outputs: 118,
        users: 1,
        compactions: 0,
        tokens: TokenUsage {
            input: 99_460,
            output: 14_600,
            cache_read: 1_651_968,
            cache_write_5m: 0,
            cache_write_1h: 0,
            reasoning: 4_293,
        },
        cost: "0.6675494",
    },
    Facts {
        file: "codex/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl",
        llm: 286,
        tools: 372,
        web: 7,
        outputs: 365,
        users: 38,
        compactions: 1,
        tokens: TokenUsage {
            input: 2_188_981,
            output: 133_999,
            cache_read: 31_621_504,
            cache_write_5m: 0,
            cache_write_1h: 0,
            reasoning: 42_113,
        },
        cost: "11.24046595",
    },
    Facts {
        file: "codex/rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl",
        llm: 1,
        tools: 1,
        web: 0,
        outputs: 0,
        users: 1,
        compactions: 0,
        tokens: TokenUsage {
            input: 31_013,
            output: 431,
            cache_read: 3_456,
            cache_write_5m: 0,
            cache_write_1h: 0,
            reasoning: 264,
        },
        cost: "0.06091155",
    },
    Facts {
        file: "codex/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl",
        llm: 6,
        tools: 5,
        web: 0,
        outputs: 5,
        users: 1,
        compactions: 0,
        tokens: TokenUsage {
            input: 59_525,
            output: 1_123,
            cache_read: 238_848,
            cache_write_5m: 0,
            cache_write_1h: 0,
            reasoning: 483,
        },
        cost: "0.16168915",
    },
];

#[test]
fn every_fixture_matches_hand_counts() {
    for f in FACTS {
        let Some(traces) = load(f.file) else { return };
        assert_eq!(traces.len(), 1, "{}", f.file);
        let t = &traces[0];
        t.validate().unwrap();
        assert_eq!(t.source.format, "codex");
        assert_eq!(
            t.source.content,
            ContentCapture::Hashed,
            "{}: redacted",
            f.file
        );
        assert_eq!(count(t, StepKind::LlmCall), f.llm, "{} llm", f.file);
        assert_eq!(count(t, StepKind::ToolUse), f.tools, "{} tools", f.file);
        assert_eq!(count(t, StepKind::UserInput), f.users, "{} users", f.file);
        assert_eq!(count(t, StepKind::Compaction), f.compactions, "{}", f.file);
        assert_eq!(t.total_tokens(), f.tokens, "{} tokens", f.file);
        // every llm_call has usage and the model from turn_context
        for s in t.steps.iter().filter(|s| s.kind == StepKind::LlmCall) {
            assert_eq!(s.model.as_deref(), Some("gpt-5.3-codex"));
            assert_eq!(s.provider.as_deref(), Some("openai"));
            assert!(!s.tokens.is_empty());
        }
        // links: every tool step consumes exactly the llm_call that issued it, and
        // that call lists its call_id in `requests`
        let tools: Vec<_> = t
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::ToolUse)
            .collect();
        for s in &tools {
            assert_eq!(s.links.consumes.len(), 1);
            let issuer = t.step(s.links.consumes[0]).unwrap();
            assert_eq!(issuer.kind, StepKind::LlmCall);
            if let Some(id) = &s.links.tool_call_id {
                assert!(issuer.links.requests.contains(id));
            }
        }
        let requests: usize = t.steps.iter().map(|s| s.links.requests.len()).sum();
        assert_eq!(requests, f.tools - f.web, "{} requests", f.file);
        let with_output = tools
            .iter()
            .filter(|s| s.status == StepStatus::Ok && !s.attributes.contains_key("server_side"))
            .count();
        assert_eq!(with_output, f.outputs, "{} outputs", f.file);
        // each tool output / user prompt that precedes a later request is delivered
        // into exactly one llm_call's context
        let last_llm = t
            .steps
            .iter()
            .rev()
            .find(|s| s.kind == StepKind::LlmCall)
            .unwrap()
            .id;
        let mut delivered = std::collections::HashMap::new();
        for s in &t.steps {
            for c in &s.links.context {
                *delivered.entry(*c).or_insert(0) += 1;
            }
        }
        assert!(delivered.values().all(|n| *n == 1));
        for s in &t.steps {
            let out_before = s.kind == StepKind::UserInput && s.id < last_llm;
            if out_before {
                assert!(
                    delivered.contains_key(&s.id),
                    "{} user step {} not delivered",
                    f.file,
                    s.id
                );
            }
        }
        let card = Compiler::new().compile(t).unwrap();
        eprintln!(
            "{}: computed ${} (codex stores no cost)",
            f.file, card.total_cost_usd
        );
        assert_eq!(card.total_cost_usd.to_string(), f.cost, "{}", f.file);
        assert_eq!(card.unpriced_steps, 0);
    }
}

#[test]
fn interrupted_call_and_outcome() {
    let Some(t) =
        load("codex/rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl")
    else {
        return;
    };
    let t = &t[0];
    assert_eq!(t.session_id, "019c8a70-dda7-7f33-98ea-f30553347322");
    // user_input, llm_call, exec_command (never answered)
    assert_eq!(t.steps.len(), 3);
    assert_eq!(t.steps[2].tool.as_deref(), Some("exec_command"));
    assert_eq!(t.steps[2].status, StepStatus::Error);
    assert_eq!(
        t.steps[2].links.tool_call_id.as_deref(),
        Some("call_UtYwHmwWekzvq83m8Rb9K8jJ")
    );
    assert_eq!(t.steps[1].links.context, vec![t.steps[0].id]);
    assert!(t.outcome.reason.as_deref().unwrap().contains("interrupted"));

    let Some(t) =
        load("codex/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl")
    else {
        return;
    };
    let t = &t[0];
    let last = t.steps.last().unwrap();
    assert_eq!(last.kind, StepKind::LlmCall);
    assert_eq!(t.outcome.final_step, Some(last.id));
    assert!(
        t.outcome
            .reason
            .as_deref()
            .unwrap()
            .starts_with("task_complete")
    );
    assert!(crate::fixtures::answer_text(t).contains("len=647"));
    // the first request's usage: last_token_usage of line 18
    let first = t
        .steps
        .iter()
        .find(|s| s.kind == StepKind::LlmCall)
        .unwrap();
    assert_eq!(
        first.tokens,
        TokenUsage::from_inclusive(42_772, 3_456, 0, 204, 124)
    );
    // request 2 was sent the output of the first tool call
    let llms: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::LlmCall)
        .collect();
    let tool1 = t
        .steps
        .iter()
        .find(|s| s.kind == StepKind::ToolUse)
        .unwrap();
    assert_eq!(llms[1].links.context, vec![tool1.id]);
}

#[test]
fn compaction_is_one_step() {
    let Some(t) =
        load("codex/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl")
    else {
        return;
    };
    let c: Vec<_> = t[0]
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Compaction)
        .collect();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].source_ref.as_deref(), Some("line 1788"));
}

#[test]
fn manifest_is_not_a_trace() {
    let Some(p) = path("codex/localpush-manifest.json") else {
        return;
    };
    assert_ne!(
        tracecard_core::import::detect(&p).unwrap(),
        Some(Format::Codex)
    );
}

fn imp(bytes: &[u8]) -> tracecard_core::Result<Vec<Trace>> {
    load_input(
        &Input::from_bytes("x.jsonl", bytes.to_vec()),
        Some(Format::Codex),
    )
}

#[test]
fn malformed_input() {
    let meta = r#"{"timestamp":"2026-01-01T00:00:00Z","type":"session_meta","payload":{"id":"s"}}"#;
    // empty, invalid UTF-8, deep nesting, wrong types: typed errors
    assert!(imp(b"").is_err());
    assert!(imp(b"\xff\xfe{}\n").is_err());
    assert!(imp("[".repeat(100_000).as_bytes()).is_err());
    let bad_tokens = format!(
        "{meta}\n{}\n",
        r#"{"timestamp":"2026-01-01T00:00:01Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":1},"last_token_usage":{"input_tokens":"many"}}}}"#
    );
    let e = imp(bad_tokens.as_bytes()).unwrap_err().to_string();
    assert!(e.contains("x.jsonl:2") && e.contains("input_tokens"), "{e}");
    let bad_ts = r#"{"timestamp":"yesterday","type":"session_meta","payload":{}}"#;
    assert!(imp(bad_ts.as_bytes()).is_err());
    let not_obj = "[1,2]\n";
    assert!(imp(not_obj.as_bytes()).is_err());
    // truncated last line and unknown record types: warnings
    let text = format!(
        "{meta}\n{}\n{}\n{}",
        r#"{"timestamp":"2026-01-01T00:00:01Z","type":"mystery","payload":{}}"#,
        r#"{"timestamp":"2026-01-01T00:00:01Z","type":"event_msg","payload":{"type":"new_event"}}"#,
        r#"{"timestamp":"2026-01-01T00:00:02Z","type":"turn_con"#
    );
    let t = imp(text.as_bytes()).unwrap();
    let codes: Vec<_> = t[0].warnings.iter().map(|w| w.code.as_str()).collect();
    // nothing but a header and unknown records: the card says it is empty
    assert_eq!(
        codes,
        [
            "truncated_line",
            "unknown_record",
            "unknown_record",
            "empty_session"
        ]
    );
    // an output without a call, a request without usage
    let text = format!(
        "{meta}\n{}\n{}\n{}\n",
        r#"{"timestamp":"2026-01-01T00:00:01Z","type":"turn_context","payload":{"model":"gpt-5"}}"#,
        r#"{"timestamp":"2026-01-01T00:00:02Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{}","call_id":"c1"}}"#,
        r#"{"timestamp":"2026-01-01T00:00:03Z","type":"response_item","payload":{"type":"function_call_output","call_id":"zz","output":"x"}}"#
    );
    let t = &imp(text.as_bytes()).unwrap()[0];
    assert_eq!(t.steps.len(), 2);
    assert_eq!(t.steps[0].status, StepStatus::Error);
    let codes: Vec<_> = t.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["orphan_tool_output", "no_usage"]);
}

#[test]
fn apply_patch_paths_become_reads_and_writes() {
    let patch = "*** Begin Patch\n*** Update File: src/a.rs\n@@\n-x\n+y\n*** Add File: b.txt\n+hi\n*** End Patch";
    let args = serde_json::to_string(patch).unwrap();
    let line3 = format!(
        r#"{{"timestamp":"2026-01-01T00:00:02Z","type":"response_item","payload":{{"type":"custom_tool_call","name":"apply_patch","input":{args},"call_id":"c1","status":"completed"}}}}"#
    );
    let text = format!(
        "{}\n{}\n{}\n",
        r#"{"timestamp":"2026-01-01T00:00:00Z","type":"session_meta","payload":{"id":"s","model_provider":"openai"}}"#,
        r#"{"timestamp":"2026-01-01T00:00:01Z","type":"turn_context","payload":{"model":"gpt-5"}}"#,
        line3
    );
    let t = &imp(text.as_bytes()).unwrap()[0];
    assert_eq!(t.source.content, ContentCapture::Full);
    let tool = &t.steps[1];
    assert_eq!(tool.links.reads, ["src/a.rs"]);
    assert_eq!(tool.links.writes, ["src/a.rs", "b.txt"]);
}

#[test]
fn unredacted_exec_outputs_give_exit_codes_and_reads() {
    let lines = [
        r#"{"timestamp":"2026-01-01T00:00:00Z","type":"session_meta","payload":{"id":"s","model_provider":"openai"}}"#,
        r#"{"timestamp":"2026-01-01T00:00:01Z","type":"turn_context","payload":{"model":"gpt-5"}}"#,
        r#"{"timestamp":"2026-01-01T00:00:02Z","type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":"{\"cmd\":\"cat README.md\"}","call_id":"c1"}}"#,
        r#"{"timestamp":"2026-01-01T00:00:02Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\"command\":[\"bash\",\"-lc\",\"pytest -q\"]}","call_id":"c2"}}"#,
        r#"{"timestamp":"2026-01-01T00:00:03Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":10},"last_token_usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":5,"reasoning_output_tokens":0,"total_tokens":15}}}}"#,
        r#"{"timestamp":"2026-01-01T00:00:04Z","type":"response_item","payload":{"type":"function_call_output","call_id":"c1","output":"Exit code: 0\nOutput:\n# readme"}}"#,
        r#"{"timestamp":"2026-01-01T00:00:05Z","type":"response_item","payload":{"type":"function_call_output","call_id":"c2","output":"{\"output\":\"1 failed\",\"metadata\":{\"exit_code\":1,\"duration_seconds\":0.5}}"}}"#,
    ];
    let t = &imp(format!("{}\n", lines.join("\n")).as_bytes()).unwrap()[0];
    assert_eq!(t.steps.len(), 3);
    assert_eq!(t.steps[1].links.reads, ["README.md"]);
    assert_eq!(t.steps[1].status, StepStatus::Ok);
    assert_eq!(t.steps[2].status, StepStatus::Error);
    assert_eq!(t.steps[2].error.as_deref(), Some("exit code 1"));
    assert_eq!(t.steps[0].links.requests, ["c1", "c2"]);
}
