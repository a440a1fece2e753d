//! Claude Code telemetry alone (`claude_code_otel`) on small bodies in the shape the
//! real CLI (2.1.332) exports (the full check against the real CLI is
//! `claude_code_e2e`): OTLP/JSON, the same bodies as OTLP/protobuf, and bad input.

use std::path::{Path, PathBuf};

use prost::Message;
use serde_json::{Value, json};
use tracecard_core::{Compiler, Format, StepKind, StepStatus, Usd};

const SESSION: &str = "6cfa33ca-4268-4be9-806f-cd6759c07110";

fn kv(k: &str, v: Value) -> Value {
    let v = match v {
        Value::String(s) => json!({"stringValue": s}),
        Value::Bool(b) => json!({"boolValue": b}),
        Value::Number(n) if n.is_f64() => json!({"doubleValue": n}),
        Value::Number(n) => json!({"intValue": n.to_string()}),
        other => other,
    };
    json!({"key": k, "value": v})
}

fn resource() -> Value {
    json!({"attributes": [kv("service.name", json!("claude-code")), kv("service.version", json!("2.1.332"))]})
}

fn event(t_ms: u64, seq: u64, name: &str, attrs: &[(&str, Value)]) -> Value {
    let mut a = vec![
        kv("session.id", json!(SESSION)),
        kv("event.name", json!(name)),
        kv("event.sequence", json!(seq)),
    ];
    a.extend(attrs.iter().map(|(k, v)| kv(k, v.clone())));
    json!({"timeUnixNano": (t_ms * 1_000_000).to_string(), "body": {"stringValue": format!("claude_code.{name}")}, "attributes": a})
}

fn api(
    t: u64,
    seq: u64,
    rid: &str,
    inp: u64,
    out: u64,
    micros: u64,
    extra: &[(&str, Value)],
) -> Value {
    let mut a = vec![
        ("model", json!("claude-opus-5-5")),
        ("input_tokens", json!(inp)),
        ("output_tokens", json!(out)),
        ("cache_read_tokens", json!(1000)),
        ("cache_creation_tokens", json!(300)),
        ("cache_creation_1h_tokens", json!(100)),
        ("cost_usd_micros", json!(micros)),
        ("duration_ms", json!(200)),
        ("request_id", json!(rid)),
    ];
    a.extend(extra.iter().cloned());
    event(t, seq, "api_request", &a)
}

/// A session: prompt, a call asking for Read, a call asking for Bash (denied by a
/// hook), the answer; cost metric with two delta points.
fn logs() -> Value {
    let recs = vec![
        event(
            1_000,
            1,
            "user_prompt",
            &[
                ("prompt", json!("<REDACTED>")),
                ("prompt_length", json!("12")),
            ],
        ),
        api(
            1_500,
            2,
            "req_1",
            107,
            23,
            cost(107, 23),
            &[("query_source", json!("sdk"))],
        ),
        event(
            1_510,
            3,
            "tool_decision",
            &[
                ("tool_name", json!("Read")),
                ("tool_use_id", json!("toolu_1")),
                ("decision", json!("accept")),
                ("source", json!("config")),
                ("request_id", json!("req_1")),
            ],
        ),
        event(
            1_600,
            4,
            "tool_result",
            &[
                ("tool_name", json!("Read")),
                ("tool_use_id", json!("toolu_1")),
                ("success", json!("true")),
                ("duration_ms", json!("90")),
                ("request_id", json!("req_1")),
            ],
        ),
        api(2_000, 5, "req_2", 114, 26, cost(114, 26), &[]),
        event(
            2_010,
            6,
            "tool_decision",
            &[
                ("tool_name", json!("Bash")),
                ("tool_use_id", json!("toolu_2")),
                ("decision", json!("reject")),
                ("source", json!("hook")),
                ("request_id", json!("req_2")),
            ],
        ),
        api(
            2_500,
            7,
            "req_3",
            121,
            29,
            cost(121, 29),
            &[("response", json!("done"))],
        ),
    ];
    json!({"resourceLogs": [{"resource": resource(), "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events", "version": "2.1.332"}, "logRecords": recs}]}]})
}

/// claude-opus-5-5: $4 in, $20 out, $0.2 cache read, $5 5m write, $8 1h write per M.
fn cost(inp: u64, out: u64) -> u64 {
    // $/M × tokens = µ$: 1000 cache reads, 200 5m writes, 100 1h writes
    inp * 4 + out * 20 + 1000 * 2 / 10 + 200 * 5 + 100 * 8
}

fn metrics(points: &[f64]) -> Value {
    let dps: Vec<Value> = points
        .iter()
        .map(|v| json!({"attributes": [kv("session.id", json!(SESSION)), kv("model", json!("claude-opus-5-5"))], "startTimeUnixNano": "1", "timeUnixNano": "2", "asDouble": v}))
        .collect();
    json!({"resourceMetrics": [{"resource": resource(), "scopeMetrics": [{"scope": {"name": "com.anthropic.claude_code", "version": "2.1.332"}, "metrics": [
        {"name": "claude_code.cost.usage", "unit": "USD", "sum": {"aggregationTemporality": 1, "isMonotonic": true, "dataPoints": dps}}
    ]}]}]})
}

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn total_micros() -> u64 {
    cost(107, 23) + cost(114, 26) + cost(121, 29)
}

fn check(dir: &Path, first: &str) {
    let p = dir.join(first);
    assert_eq!(
        tracecard_core::import::detect(&p).unwrap(),
        Some(Format::ClaudeCodeOtel)
    );
    assert_eq!(tracecard_core::import::discover(dir).unwrap().len(), 1);
    let t = tracecard_core::load_one(&p, None).unwrap();
    t.validate().unwrap();
    assert_eq!(t.session_id, SESSION);
    assert_eq!(t.source.format, "claude_code_otel");
    let kinds: Vec<StepKind> = t.steps.iter().map(|s| s.kind).collect();
    use StepKind::*;
    assert_eq!(
        kinds,
        vec![UserInput, LlmCall, ToolUse, LlmCall, ToolUse, LlmCall]
    );
    let read = &t.steps[2];
    assert_eq!(read.tool.as_deref(), Some("Read"));
    assert_eq!(read.links.consumes, vec![t.steps[1].id]);
    assert!(t.steps[3].links.context.contains(&read.id));
    let bash = &t.steps[4];
    assert_eq!(bash.status, StepStatus::Denied);
    assert_eq!(bash.attributes["permission_source"], "hook");
    let c1 = &t.steps[1];
    assert_eq!(
        (
            c1.tokens.input,
            c1.tokens.cache_read,
            c1.tokens.cache_write_5m,
            c1.tokens.cache_write_1h,
            c1.tokens.output
        ),
        (107, 1000, 200, 100, 23)
    );
    let card = Compiler::new().compile(&t).unwrap();
    let want = Usd::from_nanos(total_micros() as i64 * 1000);
    assert_eq!(
        card.total_cost_usd, want,
        "computed = Claude Code's cost_usd"
    );
    assert_eq!(card.reported_cost_usd, Some(want), "cost.usage sum");
    assert_eq!(card.cost_delta_usd, Some(Usd::ZERO));
}

#[test]
fn telemetry_alone_json() {
    let d = scratch("cc_otel_json");
    let c = total_micros() as f64 / 1e6;
    std::fs::write(d.join("logs.jsonl"), format!("{}\n", logs())).unwrap();
    std::fs::write(
        d.join("metrics.jsonl"),
        format!("{}\n{}\n", metrics(&[c - 0.001]), metrics(&[0.001])),
    )
    .unwrap();
    check(&d, "logs.jsonl");
}

#[test]
fn telemetry_alone_protobuf() {
    use opentelemetry_proto::tonic::collector::{
        logs::v1::ExportLogsServiceRequest, metrics::v1::ExportMetricsServiceRequest,
    };
    let d = scratch("cc_otel_pb");
    // the same bodies, encoded as a protobuf exporter sends them
    let l: ExportLogsServiceRequest = serde_json::from_value(logs()).unwrap();
    let c = total_micros() as f64 / 1e6;
    let m: ExportMetricsServiceRequest = serde_json::from_value(metrics(&[c])).unwrap();
    std::fs::write(d.join("logs-0001.pb"), l.encode_to_vec()).unwrap();
    std::fs::write(d.join("metrics-0002.pb"), m.encode_to_vec()).unwrap();
    check(&d, "logs-0001.pb");
}

#[test]
fn bad_telemetry_names_file_line_and_field() {
    let d = scratch("cc_otel_bad");
    // a JSONL body file with a broken second line
    let p = d.join("logs.jsonl");
    std::fs::write(
        &p,
        format!("{}\n{{\"resourceLogs\": [oops\n{}\n", logs(), logs()),
    )
    .unwrap();
    let e = tracecard_core::load(&p, Some(Format::ClaudeCodeOtel)).unwrap_err();
    assert_eq!(e.kind(), tracecard_core::ErrorKind::Parse);
    let msg = e.to_string();
    assert!(msg.contains("logs.jsonl") && msg.contains(":2"), "{msg}");
    // protobuf that is none of the three requests
    let d = scratch("cc_otel_badpb");
    let p = d.join("logs-0001.pb");
    let mut bytes = b"\x0a\x05claude-code".to_vec();
    bytes.extend_from_slice(&[0xff; 8]);
    std::fs::write(&p, bytes).unwrap();
    let e = tracecard_core::load(&p, None).unwrap_err();
    let msg = e.to_string();
    assert_eq!(e.kind(), tracecard_core::ErrorKind::Parse, "{msg}");
    assert!(
        msg.contains("logs-0001.pb") && msg.contains("protobuf"),
        "{msg}"
    );
}

/// Metrics only (no events, no spans): one aggregate call per model from the
/// session totals, reported cost = the cost.usage sum, and a warning saying so.
#[test]
fn metrics_only_session_is_one_call_per_model() {
    let d = scratch("cc_otel_metrics_only");
    let point = |ty: &str, v: u64| json!({"attributes": [kv("session.id", json!(SESSION)), kv("model", json!("claude-opus-5-5")), kv("type", json!(ty))], "startTimeUnixNano": "1", "timeUnixNano": "2", "asDouble": v as f64});
    let tokens = json!({"resourceMetrics": [{"resource": resource(), "scopeMetrics": [{"scope": {"name": "com.anthropic.claude_code"}, "metrics": [
        {"name": "claude_code.token.usage", "unit": "tokens", "sum": {"aggregationTemporality": 1, "dataPoints": [
            point("input", 107), point("output", 23), point("cacheRead", 1000), point("cacheCreation", 200), point("input", 7)
        ]}}
    ]}]}]});
    std::fs::write(
        d.join("metrics.jsonl"),
        format!("{}\n{}\n", tokens, metrics(&[0.01, 0.0025])),
    )
    .unwrap();
    let t = tracecard_core::load_one(&d.join("metrics.jsonl"), None).unwrap();
    assert_eq!(t.steps.len(), 1);
    let s = &t.steps[0];
    assert_eq!(s.kind, StepKind::LlmCall);
    assert_eq!(
        (
            s.tokens.input,
            s.tokens.output,
            s.tokens.cache_read,
            s.tokens.cache_write_5m
        ),
        (114, 23, 1000, 200)
    );
    let want = Usd::from_nanos(12_500_000);
    assert_eq!(s.reported_cost_usd, Some(want));
    assert_eq!(t.reported_cost_usd, Some(want));
    assert!(t.warnings.iter().any(|w| w.code == "apportioned_tokens"));
}
