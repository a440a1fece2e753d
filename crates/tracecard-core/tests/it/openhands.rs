//! OpenHands importer: event lists (cause links, usage deduped by response id) and
//! legacy resolver output JSONL.

use tracecard_core::import::{Input, load_input};
use tracecard_core::{Compiler, Format, OutcomeStatus, StepKind, StepStatus, TokenUsage, Trace};

use crate::fixtures::load;

use crate::fixtures::count;

struct Facts {
    file: &'static str,
    llm: usize,
    tools: usize,
    users: usize,
    tokens: TokenUsage,
    cost: &'static str,
    unpriced: u64,
}

// python: one llm_call per distinct model_response.id (+ one per agent message without
// metadata); fresh = prompt - cached - cache_creation
const FACTS: &[Facts] = &[
    Facts {
        file: "openhands/basic.json",
        llm: 2,
        tools: 2,
        users: 1,
        tokens: TokenUsage {
            input: 10,
            output: 1312,
            cache_read: 3482,
            cache_write_5m: 4640,
            cache_write_1h: 0,
            reasoning: 0,
        },
        cost: "0.0381546",
        unpriced: 0,
    },
    Facts {
        file: "openhands/basic_gui_mode.json",
        llm: 5,
        tools: 4,
        users: 1,
        tokens: TokenUsage {
            input: 22,
            output: 2024,
            cache_read: 11_793,
            cache_write_5m: 5482,
            cache_write_1h: 0,
            reasoning: 0,
        },
        cost: "0.0545214",
        unpriced: 1,
    },
    Facts {
        file: "openhands/basic_interactions.json",
        llm: 3,
        tools: 1,
        users: 3,
        tokens: TokenUsage {
            input: 169,
            output: 10,
            cache_read: 2304,
            cache_write_5m: 0,
            cache_write_1h: 0,
            reasoning: 0,
        },
        cost: "0.0034025",
        unpriced: 2,
    },
];

#[test]
fn event_lists_match_hand_counts() {
    for f in FACTS {
        let Some(t) = load(f.file) else { return };
        assert_eq!(t.len(), 1);
        let t = &t[0];
        t.validate().unwrap();
        assert_eq!(t.source.format, "openhands", "{}", f.file);
        assert_eq!(count(t, StepKind::LlmCall), f.llm, "{}", f.file);
        assert_eq!(count(t, StepKind::ToolUse), f.tools, "{}", f.file);
        assert_eq!(count(t, StepKind::UserInput), f.users, "{}", f.file);
        assert_eq!(t.total_tokens(), f.tokens, "{}", f.file);
        // every tool step consumes its llm_call, which requested its id
        for s in t.steps.iter().filter(|s| s.kind == StepKind::ToolUse) {
            let issuer = t.step(s.links.consumes[0]).unwrap();
            assert!(
                issuer
                    .links
                    .requests
                    .contains(s.links.tool_call_id.as_ref().unwrap())
            );
        }
        let card = Compiler::new().compile(t).unwrap();
        eprintln!(
            "{}: computed ${} (no reported cost in the file)",
            f.file, card.total_cost_usd
        );
        assert_eq!(card.total_cost_usd.to_string(), f.cost, "{}", f.file);
        assert_eq!(card.unpriced_steps, f.unpriced, "{}", f.file);
    }
}

#[test]
fn cause_links_and_litellm_anthropic_usage() {
    let Some(t) = load("openhands/basic.json") else {
        return;
    };
    let t = &t[0];
    // user, llm (edit), edit tool, llm (finish), finish tool
    let kinds: Vec<_> = t.steps.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            StepKind::UserInput,
            StepKind::LlmCall,
            StepKind::ToolUse,
            StepKind::LlmCall,
            StepKind::ToolUse
        ]
    );
    // prompt 3486 incl. 3482 cache writes → 4 fresh
    assert_eq!(
        t.steps[1].tokens,
        TokenUsage::from_inclusive(3486, 0, 3482, 1135, 0)
    );
    assert_eq!(
        t.steps[1].model.as_deref(),
        Some("claude-3-5-sonnet-20241022")
    );
    let edit = &t.steps[2];
    assert_eq!(edit.tool.as_deref(), Some("str_replace_editor"));
    assert_eq!(edit.links.writes, ["/workspace/game_2048.py"]);
    assert!(
        edit.output
            .as_ref()
            .unwrap()
            .text
            .as_deref()
            .unwrap()
            .contains("+++ /workspace/game_2048.py")
    );
    // observation (cause 3) delivered into the next call
    assert_eq!(t.steps[3].links.context, [edit.id]);
    assert_eq!(t.steps[1].links.context, [t.steps[0].id]);
    assert_eq!(t.outcome.final_step, Some(t.steps[3].id));
    assert_eq!(t.outcome.reason.as_deref(), Some("finish"));
    assert_eq!(t.outcome.status, OutcomeStatus::Unknown);
}

#[test]
fn gui_mode_errors_and_state() {
    let Some(t) = load("openhands/basic_gui_mode.json") else {
        return;
    };
    let t = &t[0];
    let tools: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::ToolUse)
        .collect();
    // event 14: `python3 -m http.server` timed out, exit_code -1, success false
    assert_eq!(
        tools
            .iter()
            .filter(|s| s.status == StepStatus::Error)
            .count(),
        1
    );
    assert_eq!(tools[3].error.as_deref(), Some("exit code -1"));
    assert_eq!(
        t.outcome.reason.as_deref(),
        Some("agent_state awaiting_user_input")
    );
    // the final text message (event 15) has no usage: it is the final step
    let last = t.steps.last().unwrap();
    assert_eq!(last.kind, StepKind::LlmCall);
    assert!(last.tokens.is_empty());
    assert_eq!(t.outcome.final_step, Some(last.id));
    assert_eq!(
        tools.iter().filter(|s| !s.links.writes.is_empty()).count(),
        2
    );
}

#[test]
fn legacy_resolver_output() {
    let Some(t) = load("openhands/resolver-output.v0-legacy.jsonl") else {
        return;
    };
    assert_eq!(t.len(), 2);
    for (t, llm, tools, reported_str, id) in [
        (&t[0], 4, 3, "0.070713", "neubig/pr-viewer#5"),
        (&t[1], 22, 21, "1.152933", "neubig/pr-viewer#1"),
    ] {
        t.validate().unwrap();
        assert_eq!(t.session_id, id);
        assert_eq!(count(t, StepKind::LlmCall), llm);
        assert_eq!(count(t, StepKind::ToolUse), tools);
        assert_eq!(count(t, StepKind::UserInput), 1);
        assert!(
            t.steps
                .iter()
                .filter(|s| s.kind == StepKind::ToolUse)
                .all(|s| s.output.is_some() && s.status == StepStatus::Ok)
        );
        assert_eq!(t.outcome.status, OutcomeStatus::Success);
        assert_eq!(t.outcome.evidence[0].verifier, "openhands-resolver");
        assert!(crate::fixtures::answer_text(t).starts_with("diff --git"));
        let card = Compiler::new().compile(t).unwrap();
        // no model, no tokens: every call is priced by its metrics.costs entry
        assert_eq!(card.unpriced_steps, 0);
        let reported = card.reported_cost_usd.unwrap();
        eprintln!(
            "{id}: sum of metrics.costs ${} accumulated_cost ${}",
            card.total_cost_usd, reported
        );
        assert_eq!(reported.to_string(), reported_str);
        assert_eq!(card.total_cost_usd, reported);
    }
    assert_eq!(t[0].outcome.evidence[0].artifacts, ["LICENSE"]);
    // agentskills calls in run_ipython code (python regex count): 20 steps read, 15 write
    let r = t[1]
        .steps
        .iter()
        .filter(|s| !s.links.reads.is_empty())
        .count();
    let w = t[1]
        .steps
        .iter()
        .filter(|s| !s.links.writes.is_empty())
        .count();
    assert_eq!((r, w), (20, 15));
    assert!(
        t[1].steps
            .iter()
            .any(|s| s.links.writes == ["/workspace/src/PullRequestViewer.tsx"])
    );
}

fn imp(name: &str, bytes: &[u8]) -> tracecard_core::Result<Vec<Trace>> {
    load_input(
        &Input::from_bytes(name, bytes.to_vec()),
        Some(Format::OpenHands),
    )
}

#[test]
fn malformed_input() {
    assert!(imp("x.json", b"").is_err());
    assert!(imp("x.json", b"[{\"id\":0,\"source\":\"user\",\"action\":\"message\",\"args\":{\"content\":\"\xff\"}}]").is_err());
    assert!(imp("x.json", "[".repeat(100_000).as_bytes()).is_err());
    assert!(imp("x.json", b"[{\"id\":0,").is_err());
    let e = imp(
        "x.json",
        br#"[{"id":"zero","source":"user","action":"message"}]"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("[0].id"), "{e}");
    let e = imp("x.json", br#"[{"id":1,"source":"agent","action":"run","args":{},"tool_call_metadata":{"tool_call_id":"t","model_response":{"id":"r","usage":{"prompt_tokens":-3}}}}]"#).unwrap_err().to_string();
    assert!(e.contains("prompt_tokens"), "{e}");
    let e = imp(
        "x.jsonl",
        b"{\"history\":[],\"metrics\":{\"costs\":[\"a\"]}}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("metrics.costs[0]"), "{e}");
    // unknown events and orphan observations are warnings; truncated JSONL tail too
    let t = imp("x.json", br#"[{"id":0,"source":"user","mystery":1},{"id":1,"source":"agent","observation":"run","cause":77,"content":"x"},{"id":2,"source":"agent","observation":"run","content":"y"}]"#).unwrap();
    let codes: Vec<_> = t[0].warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(
        codes,
        ["unknown_record", "orphan_tool_output", "empty_session"]
    );
    let t = imp(
        "x.jsonl",
        b"{\"history\":[],\"success\":false}\n{\"history\":[",
    )
    .unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].warnings[0].code, "truncated_line");
    assert_eq!(t[0].outcome.status, OutcomeStatus::Failure);
}
