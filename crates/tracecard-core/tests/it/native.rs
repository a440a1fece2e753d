//! Native format: recorder → JSONL/JSON → parse, and its error handling.

use std::path::Path;

use tracecard_core::{Compiler, ErrorKind, OutcomeStatus, Recorder, StepKind, TokenUsage, native};

fn sample() -> tracecard_core::Trace {
    let mut rec = Recorder::new("s-1");
    rec.user_input("What is the pool size in prod?");
    let c1 = rec.llm_call(
        "gpt-4.1-mini",
        TokenUsage::from_inclusive(606, 0, 0, 22, 0),
        "read_file config/prod.toml",
    );
    let t1 = rec.tool_use(
        "read_file",
        r#"{"path":"config/prod.toml"}"#,
        "pool_size = 32",
        Some(c1),
    );
    rec.reads(t1, "config/prod.toml");
    let sub = rec.begin_subagent("Task", "explorer", Some(c1));
    let c2 = rec.llm_call(
        "claude-haiku-4-5",
        TokenUsage::from_exclusive(100, 0, 0, 0, 10),
        "nothing else",
    );
    rec.end_subagent(sub, "nothing else", Some(c2));
    let c3 = rec.llm_call(
        "gpt-4.1-mini",
        TokenUsage::from_inclusive(739, 0, 0, 13, 0),
        "The pool size is 32.",
    );
    rec.step_mut(c3).unwrap().links.context.push(t1);
    rec.finish(OutcomeStatus::Success, Some(c3), vec![])
}

#[test]
fn jsonl_and_json_round_trip() {
    let t = sample();
    let back = native::parse(Path::new("x.jsonl"), &native::to_jsonl(&t).unwrap()).unwrap();
    assert_eq!(back.steps, t.steps);
    assert_eq!(back.outcome, t.outcome);
    let back = native::parse(Path::new("x.json"), &native::to_json(&t).unwrap()).unwrap();
    assert_eq!(back.steps, t.steps);
    assert_eq!(back.steps[4].parent, Some(back.steps[3].id));
    assert_eq!(back.steps[3].kind, StepKind::SubagentSpawn);
}

#[test]
fn card_prices_subagent_subtree() {
    let card = Compiler::new().compile(&sample()).unwrap();
    // gpt-4.1-mini: 606×0.4 + 22×1.6 = 277.6 µ$; 739×0.4 + 13×1.6 = 316.4 µ$
    // haiku-4-5: 100×1 + 10×5 = 150 µ$
    assert_eq!(card.total_cost_usd.to_string(), "0.000744");
    assert_eq!(
        card.steps[3].subtree_cost_usd.unwrap().to_string(),
        "0.00015"
    );
    assert_eq!(card.steps[2].cost_usd.unwrap().to_string(), "0");
}

#[test]
fn truncated_last_line_is_a_warning_and_keeps_the_rest() {
    let text = native::to_jsonl(&sample()).unwrap();
    let cut = &text[..text.len() - 20]; // inside the outcome record, no newline
    let t = native::parse(Path::new("live.jsonl"), cut).unwrap();
    assert_eq!(t.steps.len(), 6);
    assert_eq!(t.warnings[0].code, "truncated_line");
    assert_eq!(t.warnings[0].line, Some(8));
}

#[test]
fn bad_lines_are_typed_errors_with_line_and_field() {
    let text = native::to_jsonl(&sample()).unwrap();
    let broken = text.replacen("\"kind\":\"tool_use\"", "\"kind\":\"teleport\"", 1);
    let e = native::parse(Path::new("bad.jsonl"), &broken).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    assert_eq!(e.line(), Some(4));
    assert!(e.to_string().contains("bad.jsonl:4"), "{e}");
    assert!(e.to_string().contains("field `kind`"), "{e}");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{not json";
    let e = native::parse(Path::new("bad.jsonl"), &lines.join("\n")).unwrap_err();
    assert_eq!(e.line(), Some(3));
    let e = native::parse(
        Path::new("nohead.jsonl"),
        "{\"record\":\"step\",\"kind\":\"llm_call\"}\n",
    )
    .unwrap_err();
    assert_eq!(e.line(), Some(1));
}

#[test]
fn dangling_links_are_validation_errors() {
    let mut t = sample();
    t.steps[2].links.consumes.push(tracecard_core::StepId(99));
    let e = Compiler::new().compile(&t).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
}

#[test]
fn committed_json_schema_is_current_and_validates_cards() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/tracecard.schema.json"
    );
    let committed =
        std::fs::read_to_string(path).expect("schema/tracecard.schema.json is committed");
    assert_eq!(
        committed,
        tracecard_core::TraceCard::json_schema(),
        "schema/tracecard.schema.json is stale: run `cargo run -p tracecard-cli -- schema > schema/tracecard.schema.json`"
    );
    // every required property of the schema is present in a real card
    let schema: serde_json::Value = serde_json::from_str(&committed).unwrap();
    let card: serde_json::Value = serde_json::from_str(
        &Compiler::new()
            .compile(&sample())
            .unwrap()
            .to_json()
            .unwrap(),
    )
    .unwrap();
    for req in schema["required"].as_array().unwrap() {
        assert!(
            card.get(req.as_str().unwrap()).is_some(),
            "card lacks required {req}"
        );
    }
    let step_required = schema["$defs"]["CardStep"]["required"].as_array().unwrap();
    for s in card["steps"].as_array().unwrap() {
        for req in step_required {
            assert!(
                s.get(req.as_str().unwrap()).is_some(),
                "step lacks required {req}"
            );
        }
    }
}

#[test]
fn json_to_jsonl_round_trip_gives_the_same_trace_up_to_the_documented_normalisation() {
    use tracecard_core::import::{Input, load_input};
    let path = Path::new("rt.input");
    let load = |text: String| {
        load_input(
            &Input::from_bytes(path, text.into_bytes()),
            Some(tracecard_core::Format::Native),
        )
        .unwrap()
        .remove(0)
    };
    let mut traces: Vec<tracecard_core::Trace> = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/traces");
    for e in std::fs::read_dir(dir).unwrap() {
        traces.push(
            tracecard_core::load(&e.unwrap().path(), None)
                .unwrap()
                .remove(0),
        );
    }
    // what JSONL does not carry, and a record JSONL writes twice byte for byte
    let mut s = sample();
    s.reported_tokens = Some(TokenUsage::from_exclusive(1, 2, 3, 4, 5));
    s.source.token_semantics = Some("exclusive".into());
    for _ in 0..2 {
        s.warnings.push(tracecard_core::Warning::new(
            tracecard_core::WarningCode::NoUsage,
            "no usage on step 2",
        ));
    }
    traces.push(s);
    // an empty session (the loader warns on each read)
    traces.push(Recorder::new("empty").finish(OutcomeStatus::Unknown, None, vec![]));
    for t0 in traces {
        let t = load(native::to_json(&t0).unwrap());
        let back = load(native::to_jsonl(&t).unwrap());
        assert_eq!(
            native::jsonl_normalised(&back),
            native::jsonl_normalised(&t),
            "{}",
            t.session_id
        );
    }
    // the normalisation is needed: without it the last two differ
    let s = load(
        native::to_json(&{
            let mut s = sample();
            s.reported_tokens = Some(TokenUsage::from_exclusive(1, 2, 3, 4, 5));
            s
        })
        .unwrap(),
    );
    assert_ne!(load(native::to_jsonl(&s).unwrap()), s);
}
