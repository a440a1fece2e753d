//! The same session recorded from Rust (here) and from Python
//! (`bindings/python/tests/test_recorder_parity.py`) gives the same trace: both
//! compare against `tests/data/recorded-session.json` (the native JSON document
//! without timestamps). `TRACECARD_BLESS=1` rewrites the file from Rust.

use tracecard_core::model::{OracleEvidence, OutcomeStatus, StepKind, TokenUsage, Trace};
use tracecard_core::{Recorder, Usd};

/// Mirrors the Python recorder calls step for step (a `with` block is a begin …
/// `end`).
fn record() -> Trace {
    let mut rec = Recorder::new("parity");
    let q = rec.user_input("what port does the service use?");

    let call = rec.begin_llm_call("claude-sonnet-4-5");
    rec.set_input(call, "what port?");
    rec.set_provider(call, Some("anthropic"));
    rec.set_tokens(call, TokenUsage::from_exclusive(1200, 100, 50, 0, 80));
    rec.set_output(call, "read cfg.toml");
    rec.requests(call, ["toolu_1", "toolu_2"]);
    rec.consumes(call, q);
    rec.end(call);

    let t = rec.begin_tool_use("read_file", Some(call));
    rec.set_input(t, r#"{"path":"cfg.toml"}"#);
    rec.set_tool_call_id(t, Some("toolu_1"));
    rec.reads(t, "cfg.toml");
    rec.set_output(t, "port = 6432");
    rec.set_attribute(t, tracecard_core::model::attr::EXIT_CODE, "0");
    rec.end(t);

    let bad = rec.begin_tool_use("bash", Some(call));
    rec.set_input(bad, "ls /nope");
    rec.set_tool_call_id(bad, Some("toolu_2"));
    rec.set_output(bad, "ls: cannot access '/nope'");
    rec.error(bad, "exit code 2");
    rec.end(bad);

    let sub = rec.begin_subagent("Task", "researcher", Some(call));
    let inner = rec.begin_llm_call("claude-haiku-4-5");
    rec.set_tokens(inner, TokenUsage::from_exclusive(300, 0, 0, 0, 30));
    rec.set_output(inner, "6432 confirmed");
    rec.end(inner);
    rec.end_subagent(sub, "6432 confirmed", Some(inner));

    let ans = rec.begin_llm_call("claude-sonnet-4-5");
    rec.set_model(ans, "claude-sonnet-4-5-20250929");
    rec.set_tokens(ans, TokenUsage::from_inclusive(1500, 1000, 0, 20, 5));
    rec.set_output(ans, "The port is 6432.");
    rec.consumes(ans, t);
    rec.in_context(ans, bad);
    rec.consumes(ans, sub);
    rec.reported_cost(ans, "0.0123".parse::<Usd>().unwrap());
    rec.end(ans);
    rec.writes(ans, "answer.md");

    let evidence: OracleEvidence =
        serde_json::from_str(r#"{"verifier":"pytest","passed":true,"message":"1 passed"}"#)
            .unwrap();
    // No final step given: the recorder's own policy picks it (the answer).
    let trace = rec.finish(OutcomeStatus::Success, None, vec![evidence]);
    assert_eq!(trace.outcome.final_step, Some(ans));
    assert_eq!(trace.step(ans).map(|s| s.kind), Some(StepKind::LlmCall));
    trace
}

/// The native JSON document with every timestamp removed.
pub fn normalized(trace: &Trace) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("started_at");
                m.remove("ended_at");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value =
        serde_json::from_str(&tracecard_core::native::to_json(trace).unwrap()).unwrap();
    strip(&mut v);
    v
}

#[test]
fn rust_recorder_matches_the_shared_recorded_session() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/recorded-session.json"
    );
    let got = normalized(&record());
    if std::env::var_os("TRACECARD_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
        std::fs::write(path, text).unwrap();
    }
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("committed")).unwrap();
    assert_eq!(
        got, want,
        "the Rust recorder changed: rerun with TRACECARD_BLESS=1 and check the Python parity test"
    );
}

#[test]
fn finish_picks_the_last_successful_top_level_model_call() {
    let mut rec = Recorder::new("f");
    let a = rec.llm_call("m", TokenUsage::default(), "a");
    let b = rec.llm_call("m", TokenUsage::default(), "b");
    rec.error(b, "boom");
    let sub = rec.begin_subagent("Task", "x", Some(a));
    rec.llm_call("m", TokenUsage::default(), "inner");
    rec.end_subagent(sub, "r", None);
    let t = rec.finish(OutcomeStatus::Success, None, vec![]);
    assert_eq!(t.outcome.final_step, Some(a));
    assert_eq!(t.outcome.answer.and_then(|c| c.text).as_deref(), Some("a"));
    // no model call at all: no final step
    let t = Recorder::new("e").finish(OutcomeStatus::Unknown, None, vec![]);
    assert_eq!(t.outcome.final_step, None);
}

#[test]
fn outcome_synonyms_parse_the_same_for_every_caller() {
    for (s, want) in [
        ("success", OutcomeStatus::Success),
        (" Passed ", OutcomeStatus::Success),
        ("succeeded", OutcomeStatus::Success),
        ("pass", OutcomeStatus::Success),
        ("FAILED", OutcomeStatus::Failure),
        ("fail", OutcomeStatus::Failure),
        ("failure", OutcomeStatus::Failure),
        ("unknown", OutcomeStatus::Unknown),
    ] {
        assert_eq!(s.parse::<OutcomeStatus>().unwrap(), want, "{s}");
    }
    let e = "maybe".parse::<OutcomeStatus>().unwrap_err();
    assert_eq!(e.kind(), tracecard_core::ErrorKind::Validation);
    assert!(e.to_string().contains("'success', 'failure' or 'unknown'"));
}

#[test]
fn load_one_refuses_several_sessions() {
    use std::path::Path;
    let text = tracecard_core::native::to_jsonl(&record()).unwrap();
    let input = tracecard_core::import::Input::from_bytes("one.jsonl", text.into_bytes());
    let t = tracecard_core::import::load_input_one(&input, None).unwrap();
    assert_eq!(t.session_id, "parity");
    // two OTLP traces in one file (inline, minimal)
    let otlp = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
      {"traceId":"aa","spanId":"01","name":"chat m","startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4.1-mini"}}]},
      {"traceId":"bb","spanId":"02","name":"chat m","startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4.1-mini"}}]}
    ]}]}]}"#;
    let input = tracecard_core::import::Input::from_bytes("two.json", otlp.as_bytes().to_vec());
    let all = tracecard_core::import::load_input(&input, None).unwrap();
    assert_eq!(all.len(), 2);
    let e = tracecard_core::import::load_input_one(&input, None).unwrap_err();
    assert_eq!(e.kind(), tracecard_core::ErrorKind::MultipleSessions);
    assert_eq!(e.path(), Some(Path::new("two.json")));
    assert!(matches!(
        e,
        tracecard_core::Error::MultipleSessions { count: 2, .. }
    ));
}

#[test]
fn format_names_and_price_resolution() {
    use tracecard_core::{Format, PriceTable};
    assert_eq!(
        Format::from_name("OpenHands", "x").unwrap(),
        Format::OpenHands
    );
    let e = Format::from_name("nope", "x.jsonl").unwrap_err();
    assert_eq!(e.kind(), tracecard_core::ErrorKind::UnknownFormat);
    assert!(e.to_string().contains(&Format::known_names()));
    let p = PriceTable::bundled();
    assert_eq!(
        p.resolve("claude-sonnet-4-5-20250929", None)
            .map(|m| m.id.as_str()),
        Some("claude-sonnet-4-5")
    );
    assert!(p.resolve("no-such-model", None).is_none());
}
