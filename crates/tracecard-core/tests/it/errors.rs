//! Error causes: a replayer's own error comes back through the core unchanged
//! (`Error::Host`), other failures keep their cause (`source()`).

use std::error::Error as _;

use tracecard_core::model::{Outcome, OutcomeStatus, StepId, TokenUsage, Trace};
use tracecard_core::{Compiler, Error, ErrorKind, Recorder, Replayer, WarningCode};

#[derive(Debug, PartialEq)]
struct HostException(u32);

impl std::fmt::Display for HostException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "host exception #{}", self.0)
    }
}

impl std::error::Error for HostException {}

enum Fails {
    Host,
    Io,
}

impl Replayer for Fails {
    fn name(&self) -> &str {
        "fails"
    }

    fn replay(&self, _: &Trace, _: &[StepId]) -> tracecard_core::Result<Outcome> {
        Err(match self {
            Fails::Host => Error::host("replayer `fails`", HostException(7)),
            Fails::Io => Error::io(
                "replay.sock",
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe closed"),
            ),
        })
    }
}

fn trace() -> Trace {
    let mut rec = Recorder::new("e");
    let c = rec.llm_call(
        "gpt-4.1-mini",
        TokenUsage::from_exclusive(10, 0, 0, 0, 1),
        "x",
    );
    let t = rec.tool_use("read_file", "{}", "unused", Some(c));
    let _ = t;
    rec.llm_call(
        "gpt-4.1-mini",
        TokenUsage::from_exclusive(10, 0, 0, 0, 1),
        "done",
    );
    rec.finish(OutcomeStatus::Success, None, vec![])
}

#[test]
fn a_host_error_stops_compile_and_comes_back_unchanged() {
    let r = Fails::Host;
    let e = Compiler::new().replayer(&r).compile(&trace()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Host);
    assert_eq!(e.kind().as_str(), "host");
    let Error::Host { source, .. } = e else {
        panic!("not a host error")
    };
    assert_eq!(
        *source.downcast::<HostException>().unwrap(),
        HostException(7)
    );
}

#[test]
fn another_replayer_error_is_a_warning_that_keeps_its_cause() {
    let r = Fails::Io;
    let card = Compiler::new().replayer(&r).compile(&trace()).unwrap();
    let w = card
        .warnings
        .iter()
        .find(|w| w.code == WarningCode::ReplayFailed)
        .expect("replay_failed warning");
    assert!(w.message.contains("pipe closed"), "{}", w.message);
}

#[test]
fn replay_errors_keep_their_source() {
    let io = Error::io("x", std::io::Error::other("boom"));
    let e = Error::Replay {
        replayer: "r".into(),
        message: io.to_string(),
        source: Some(Box::new(io)),
    };
    let cause = e.source().expect("a source");
    let inner = cause.downcast_ref::<Error>().expect("a core error");
    assert_eq!(inner.kind(), ErrorKind::Io);
    assert!(inner.source().is_some(), "the io::Error is kept too");
    assert!(Error::replay("r", "m").source().is_none());
}

#[test]
fn field_line_and_path_accessors() {
    let e = Error::parse("t.jsonl", Some(3), Some("steps[0].id"), "bad id");
    assert_eq!(e.field(), Some("steps[0].id"));
    assert_eq!(e.line(), Some(3));
    assert_eq!(e.path(), Some(std::path::Path::new("t.jsonl")));
    assert_eq!(Error::validation("trace", "x").field(), None);
}

#[test]
fn parse_errors_keep_the_parsers_error_as_their_source() {
    // a card that is not JSON: the serde_json error is the source, its line kept
    let e = tracecard_core::TraceCard::from_json("{\n  \"schema_version\": ").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    let src = e.source().expect("a source");
    assert!(src.downcast_ref::<serde_json::Error>().is_some(), "{src:?}");
    assert!(e.to_string().starts_with("<card>:2"), "{e}");
    // errors the core makes itself have none
    assert!(
        Error::parse("x.jsonl", Some(3), Some("kind"), "bad")
            .source()
            .is_none()
    );
}

#[test]
fn serialize_errors_keep_the_serializers_error_as_their_source() {
    let inner = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
    let e = Error::serialize("card", inner);
    assert_eq!(e.kind(), ErrorKind::Serialize);
    assert!(
        e.source()
            .unwrap()
            .downcast_ref::<serde_json::Error>()
            .is_some()
    );
}

#[test]
fn pricing_errors_keep_the_parsers_error_as_their_source() {
    let e = tracecard_core::PriceTable::from_litellm_json("{\"gpt\": ", None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Pricing);
    assert!(
        e.source()
            .unwrap()
            .downcast_ref::<serde_json::Error>()
            .is_some()
    );
}
