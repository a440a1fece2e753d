//! Inspect AI importer: `.json` logs, the `.eval` ZIP, usage semantics, scores.

use std::io::Write;

use tracecard_core::import::{Input, load_input};
use tracecard_core::{Compiler, Format, OutcomeStatus, StepKind, StepStatus, TokenUsage, Trace};

use crate::fixtures::load;

use crate::fixtures::count;

fn links(t: &Trace) -> (usize, usize, usize) {
    (
        t.steps.iter().map(|s| s.links.requests.len()).sum(),
        t.steps.iter().map(|s| s.links.consumes.len()).sum(),
        t.steps.iter().map(|s| s.links.context.len()).sum(),
    )
}

#[test]
fn browser_agent_inclusive_cache_reads() {
    let Some(ts) = load("inspect/2025-05-12T20-27-36-04-00_browser.json") else {
        return;
    };
    assert_eq!(ts.len(), 1);
    let t = &ts[0];
    t.validate().unwrap();
    assert_eq!(t.session_id, "browser/1/epoch-1");
    assert_eq!(count(t, StepKind::UserInput), 1);
    assert_eq!(count(t, StepKind::LlmCall), 5);
    assert_eq!(count(t, StepKind::ToolUse), 4);
    // 4 tool calls requested + consumed; each later call is sent exactly one tool result, the first the prompt
    assert_eq!(links(t), (4, 4, 5));
    // stats.model_usage: input 15235 of which cache_read 9088, output 281; total = input + output → inclusive
    assert_eq!(
        t.total_tokens(),
        TokenUsage {
            input: 6_147,
            cache_read: 9_088,
            output: 281,
            ..TokenUsage::default()
        }
    );
    assert!(
        t.source
            .token_semantics
            .as_deref()
            .unwrap()
            .contains("inclusive")
    );
    assert_eq!(t.steps[1].model.as_deref(), Some("openai/gpt-4o-mini"));
    assert_eq!(t.steps[1].provider.as_deref(), Some("openai"));
    let tool = &t.steps[2];
    assert_eq!(tool.tool.as_deref(), Some("web_browser_go"));
    assert_eq!(
        tool.links.tool_call_id.as_deref(),
        Some("call_35FTpd6shR9efioDgeEBZ33s")
    );
    assert_eq!(t.steps[3].links.context, [tool.id]);
    assert_eq!(t.outcome.status, OutcomeStatus::Success);
    assert_eq!(t.outcome.evidence[0].verifier, "inspect:includes");
    assert_eq!(t.outcome.evidence[0].passed, Some(true));
    assert_eq!(t.outcome.final_step, Some(t.steps.last().unwrap().id));
    let card = Compiler::new().compile(t).unwrap();
    // 6147×0.15 + 9088×0.075 + 281×0.6 µ$ (no reported cost in this log)
    eprintln!("browser: computed ${}", card.total_cost_usd);
    assert_eq!(card.total_cost_usd.to_string(), "0.00177225");
}

#[test]
fn security_guide_three_samples_with_scorer_calls() {
    let Some(ts) = load("inspect/2025-05-12T20-28-26-04-00_security-guide.json") else {
        return;
    };
    assert_eq!(ts.len(), 3);
    let want = [
        (
            TokenUsage {
                input: 320,
                output: 309,
                ..TokenUsage::default()
            },
            "0.0002334",
        ),
        (
            TokenUsage {
                input: 310,
                output: 256,
                ..TokenUsage::default()
            },
            "0.0002001",
        ),
        (
            TokenUsage {
                input: 329,
                output: 468,
                ..TokenUsage::default()
            },
            "0.00033015",
        ),
    ];
    for (t, (tokens, cost)) in ts.iter().zip(want) {
        t.validate().unwrap();
        // solver generate + model_graded_fact scorer call (both billed, = sample model_usage)
        assert_eq!(count(t, StepKind::LlmCall), 2);
        assert_eq!(count(t, StepKind::ToolUse), 0);
        assert_eq!(t.steps[2].agent.as_deref(), Some("scorer"));
        assert_eq!(t.outcome.final_step, Some(t.steps[1].id));
        assert_eq!(t.total_tokens(), tokens);
        assert_eq!(t.outcome.status, OutcomeStatus::Success);
        assert_eq!(t.outcome.evidence[0].verifier, "inspect:model_graded_fact");
        let card = Compiler::new().compile(t).unwrap();
        assert_eq!(card.total_cost_usd.to_string(), cost, "{}", t.session_id);
    }
    assert_eq!(ts[2].session_id, "security_guide/3/epoch-1");
}

#[test]
fn eval_zip_container() {
    let Some(ts) = load("inspect/log_read_sample.eval") else {
        return;
    };
    assert_eq!(ts.len(), 1);
    let t = &ts[0];
    t.validate().unwrap();
    assert_eq!(t.source.format, "inspect");
    assert_eq!(count(t, StepKind::LlmCall), 1);
    assert_eq!(
        t.total_tokens(),
        TokenUsage {
            input: 66,
            output: 3,
            ..TokenUsage::default()
        }
    );
    assert_eq!(t.steps[1].model.as_deref(), Some("ollama/gemma3"));
    assert_eq!(t.outcome.status, OutcomeStatus::Success);
    assert_eq!(t.outcome.evidence[0].verifier, "inspect:match");
    // a local model the price table does not know: unpriced, with a warning
    let card = Compiler::new().compile(t).unwrap();
    assert_eq!(card.unpriced_steps, 1);
    assert!(card.warnings.iter().any(|w| w.code == "unknown_model"));
}

#[test]
fn stripped_log_with_tool_errors() {
    let Some(ts) = load("inspect/log_tool_call_error.json") else {
        return;
    };
    let t = &ts[0];
    t.validate().unwrap();
    assert_eq!(t.session_id, ".../1/epoch-4");
    // 11 tool messages, each with an error (parsing, timeout, … output_limit)
    assert_eq!(count(t, StepKind::ToolUse), 11);
    assert!(t.steps.iter().all(|s| s.status == StepStatus::Error));
    assert_eq!(
        t.steps[10].error.as_deref(),
        Some("output_limit: The tool output limit of 10 MiB was exceeded.")
    );
    assert!(t.warnings.iter().any(|w| w.code == "no_events"));
    assert_eq!(t.outcome.status, OutcomeStatus::Unknown);
}

fn imp(name: &str, bytes: &[u8]) -> tracecard_core::Result<Vec<Trace>> {
    load_input(
        &Input::from_bytes(name, bytes.to_vec()),
        Some(Format::Inspect),
    )
}

fn sample_log(events: &str) -> String {
    format!(
        r#"{{"version":2,"status":"success","eval":{{"task":"t","model":"anthropic/claude-3-5-sonnet-20241022"}},"samples":[{{"id":1,"epoch":1,"input":"hi","events":{events},"scores":{{"acc":{{"value":0}}}},"total_cost":0.5}}]}}"#
    )
}

#[test]
fn exclusive_usage_subagents_and_reported_cost() {
    // post-2026 semantics: total = input + cache + output → exclusive
    let events = r#"[
      {"event":"model","model":"anthropic/claude-3-5-sonnet-20241022","input":[],"output":{"choices":[{"message":{"content":"","tool_calls":[{"id":"t1","function":"researcher","arguments":{}}]}}],
        "usage":{"input_tokens":10,"output_tokens":5,"total_tokens":1115,"input_tokens_cache_read":1000,"input_tokens_cache_write":100,"total_cost":0.25}}},
      {"event":"tool","id":"t1","function":"researcher","arguments":{},"result":"found it","events":[
        {"event":"model","model":"anthropic/claude-3-5-sonnet-20241022","input":[],"output":{"choices":[{"message":{"content":"found it"}}],"usage":{"input_tokens":7,"output_tokens":3,"total_tokens":10}}}]},
      {"event":"model","model":"anthropic/claude-3-5-sonnet-20241022","input":[{"role":"tool","tool_call_id":"t1"}],"output":{"choices":[{"message":{"content":"done"}}],"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2}}},
      {"event":"brand_new"}]"#;
    let t = &imp("x.json", sample_log(events).as_bytes()).unwrap()[0];
    t.validate().unwrap();
    assert_eq!(
        t.steps[1].tokens,
        TokenUsage::from_exclusive(10, 1000, 100, 0, 5)
    );
    let spawn = &t.steps[2];
    assert_eq!(spawn.kind, StepKind::SubagentSpawn);
    assert_eq!(t.steps[3].parent, Some(spawn.id));
    assert_eq!(spawn.links.consumes, [t.steps[1].id, t.steps[3].id]);
    assert_eq!(t.steps[4].links.context, [spawn.id]);
    assert_eq!(t.outcome.final_step, Some(t.steps[4].id));
    assert_eq!(t.outcome.status, OutcomeStatus::Failure);
    assert_eq!(t.reported_cost_usd.unwrap().to_string(), "0.5");
    assert_eq!(t.steps[1].reported_cost_usd.unwrap().to_string(), "0.25");
    assert_eq!(t.warnings[0].code, "unknown_record");
}

#[test]
fn malformed_input() {
    assert!(imp("x.json", b"").is_err());
    assert!(imp("x.json", b"{\"eval\":{},\"x\":\"\xff\"}").is_err());
    assert!(imp("x.json", "[".repeat(100_000).as_bytes()).is_err());
    assert!(imp("x.json", b"{\"version\":2,\"eval\":{").is_err());
    let e = imp(
        "x.json",
        sample_log(r#"[{"event":"model","output":{"usage":{"input_tokens":"x"}}}]"#).as_bytes(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("input_tokens"), "{e}");
    let e = imp("x.json", br#"{"samples":[{"events":"no"}]}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("events"), "{e}");
    // ZIP: garbage after the magic, missing header, oversize entry refused
    assert!(imp("x.eval", b"PK\x03\x04garbage").is_err());
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file(
            "samples/1_epoch_1.json",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        z.write_all(b"{}").unwrap();
        z.finish().unwrap();
    }
    let e = imp("x.eval", buf.get_ref()).unwrap_err().to_string();
    assert!(e.contains("header.json"), "{e}");
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("header.json", o).unwrap();
        z.write_all(b"{\"version\":2,\"eval\":{\"task\":\"t\"}}")
            .unwrap();
        z.start_file("samples/1_epoch_1.json", o).unwrap();
        z.write_all(b"{\"id\":1,\"epoch\":1,\"events\":[{\"event\":\"model\",\"output\":{\"usage\":{\"input_tokens\":1,\"output_tokens\":1,\"total_tokens\":2}}}]}").unwrap();
        z.start_file("samples/2_epoch_1.json", o).unwrap();
        z.write_all(b"{\"id\":2, bad").unwrap();
        z.finish().unwrap();
    }
    let e = imp("x.eval", buf.get_ref()).unwrap_err().to_string();
    assert!(e.contains("samples/2_epoch_1.json"), "{e}");
}
