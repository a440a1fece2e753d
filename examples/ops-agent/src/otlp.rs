//! A rendering of a session as OTLP/JSON with OpenTelemetry GenAI attributes, at
//! the content level of the contrib instrumentation of the `openai` JS client:
//! model spans (`chat <model>`) carry the model, provider and token usage but **no
//! messages** (that instrumentation writes content only to log events), tool spans
//! (`execute_tool <name>`, written by the agent) carry their arguments and results,
//! and a sub-agent is an `invoke_agent` span whose children are its steps. User
//! messages and compactions leave no span.
//!
//! Span ids are the step ids (16 hex digits), so a card of the imported trace maps
//! back to the session's steps ([`step_of_span`]).

use serde_json::{Value, json};
use tracecard_core::{StepKind, StepStatus, Trace};

/// The OTLP/JSON `ExportTraceServiceRequest` of `trace` (one resource, one trace).
pub fn to_otlp_genai(trace: &Trace) -> String {
    let seed_hex: String = trace
        .session_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let trace_id = format!("{seed_hex}{seed_hex}");
    let root_id = format!("{:016x}", u64::MAX);
    let t0: i64 = 1_767_225_600_000_000_000; // 2026-01-01T00:00:00Z, in ns
    let ns = |i: usize| (t0 + (i as i64) * 1_000_000_000).to_string();
    let mut chat = Vec::new();
    let mut agent = Vec::new();
    let mut end_of: Vec<usize> = (0..trace.steps.len()).collect();
    for (i, s) in trace.steps.iter().enumerate() {
        if let Some(p) = s.parent {
            end_of[p.index()] = end_of[p.index()].max(i);
        }
    }
    agent.push(json!({
        "traceId": trace_id,
        "spanId": root_id,
        "name": "invoke_agent ops-agent",
        "kind": 1,
        "startTimeUnixNano": ns(0),
        "endTimeUnixNano": ns(trace.steps.len() + 1),
        "attributes": attrs(&[
            ("gen_ai.operation.name", json!("invoke_agent")),
            ("gen_ai.agent.name", json!("ops-agent")),
        ]),
        "status": {}
    }));
    for (i, s) in trace.steps.iter().enumerate() {
        let parent = s
            .parent
            .map(|p| format!("{:016x}", p.0))
            .unwrap_or_else(|| root_id.clone());
        let span = |name: String, kind: u8, a: Vec<Value>, end: usize| {
            let mut v = json!({
                "traceId": trace_id,
                "spanId": format!("{:016x}", s.id.0),
                "parentSpanId": parent,
                "name": name,
                "kind": kind,
                "startTimeUnixNano": ns(i + 1),
                "endTimeUnixNano": (t0 + (end as i64 + 1) * 1_000_000_000 + 500_000_000).to_string(),
                "attributes": a,
                "status": {}
            });
            if s.status == StepStatus::Error {
                v["status"] = json!({"code": 2, "message": s.error.clone().unwrap_or_default()});
            }
            v
        };
        let text = |c: &Option<tracecard_core::Content>| {
            c.as_ref().and_then(|c| c.text.clone()).unwrap_or_default()
        };
        match s.kind {
            StepKind::LlmCall => {
                let model = s.model.clone().unwrap_or_default();
                let provider = if model.starts_with("claude") {
                    "anthropic"
                } else {
                    "openai"
                };
                chat.push(span(
                    format!("chat {model}"),
                    3,
                    attrs(&[
                        ("gen_ai.operation.name", json!("chat")),
                        ("gen_ai.provider.name", json!(provider)),
                        ("gen_ai.request.model", json!(model)),
                        ("gen_ai.response.model", json!(model)),
                        (
                            "gen_ai.usage.input_tokens",
                            json!(s.tokens.input + s.tokens.cache_read),
                        ),
                        ("gen_ai.usage.output_tokens", json!(s.tokens.output)),
                    ]),
                    i,
                ));
            }
            StepKind::ToolUse | StepKind::Other => {
                let tool = s.tool.clone().unwrap_or_default();
                agent.push(span(
                    format!("execute_tool {tool}"),
                    1,
                    attrs(&[
                        ("gen_ai.operation.name", json!("execute_tool")),
                        ("gen_ai.tool.name", json!(tool)),
                        ("gen_ai.tool.call.id", json!(format!("call_{:08x}", s.id.0))),
                        ("gen_ai.tool.type", json!("function")),
                        ("gen_ai.tool.call.arguments", json!(text(&s.input))),
                        ("gen_ai.tool.call.result", json!(text(&s.output))),
                    ]),
                    i,
                ));
            }
            StepKind::SubagentSpawn => {
                let name = s.agent.clone().unwrap_or_else(|| "sub-agent".into());
                agent.push(span(
                    format!("invoke_agent {name}"),
                    1,
                    attrs(&[
                        ("gen_ai.operation.name", json!("invoke_agent")),
                        ("gen_ai.agent.name", json!(name)),
                    ]),
                    end_of[i],
                ));
            }
            StepKind::UserInput | StepKind::Compaction => {}
        }
    }
    let req = json!({
        "resourceSpans": [{
            "resource": {"attributes": attrs(&[
                ("service.name", json!("ops-agent")),
                ("telemetry.sdk.language", json!("nodejs")),
            ])},
            "scopeSpans": [
                {"scope": {"name": "ops-agent"}, "spans": agent},
                {"scope": {"name": "@opentelemetry/instrumentation-openai", "version": "0.5.0"}, "spans": chat}
            ]
        }]
    });
    serde_json::to_string(&req).expect("a JSON value always serialises")
}

/// The session step a span id of [`to_otlp_genai`] stands for (`None` for the root).
pub fn step_of_span(span_id: &str) -> Option<u32> {
    u32::try_from(u64::from_str_radix(span_id, 16).ok()?).ok()
}

fn attrs(kv: &[(&str, Value)]) -> Vec<Value> {
    kv.iter()
        .map(|(k, v)| {
            let value = match v {
                Value::Number(n) => json!({"intValue": n}),
                Value::Bool(b) => json!({"boolValue": b}),
                other => json!({"stringValue": other.as_str().unwrap_or_default()}),
            };
            json!({"key": k, "value": value})
        })
        .collect()
}
