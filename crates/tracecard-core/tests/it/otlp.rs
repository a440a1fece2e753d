//! OTLP/JSON importer: real exports from pydantic-ai and the Vercel AI SDK 6/7
//! (`fixtures/otlp-real`, every fact checked against the `.waste.json` sidecars),
//! AI SDK `ReadableSpan` arrays, attribute examples wrapped into spans, and
//! malformed input.

use serde_json::{Value, json};
use tracecard_core::import::{Input, detect, load_input};
use tracecard_core::{
    Compiler, ContentCapture, ErrorKind, Format, StepKind, StepStatus, Trace, Warning,
};

use crate::fixtures::{load, path};

/// Debug print of a trace (used while checking fixtures by hand).
#[allow(dead_code)]
pub(crate) fn dump(t: &Trace) {
    eprintln!("session {} content {:?}", t.session_id, t.source.content);
    for s in &t.steps {
        eprintln!(
            "  {} {:?} p={:?} tool={:?} tok={:?} req={:?} tcid={:?} cons={:?} ctx={:?} ref={:?}",
            s.id,
            s.kind,
            s.parent,
            s.tool,
            s.tokens,
            s.links.requests,
            s.links.tool_call_id,
            s.links.consumes,
            s.links.context,
            s.source_ref,
        );
    }
}

fn step_by_ref<'a>(t: &'a Trace, span: &str) -> &'a tracecard_core::Step {
    t.steps
        .iter()
        .find(|s| s.source_ref.as_deref() == Some(span) && s.kind != StepKind::UserInput)
        .unwrap_or_else(|| panic!("no step for span {span}"))
}

fn sum(calls: &[Value], k: &str) -> u64 {
    calls
        .iter()
        .map(|c| c["usage_in_span"][k].as_u64().unwrap_or(0))
        .sum()
}

/// Check one otlp-real trace against its sidecar; returns the trace.
fn check_real(dir: &str, scenario: &str) -> Option<Trace> {
    let rel = format!("otlp-real/{dir}/{scenario}.otlp.json");
    let side = path(&format!("otlp-real/{dir}/{scenario}.waste.json"))?;
    let side: Value = serde_json::from_str(&std::fs::read_to_string(side).unwrap()).unwrap();
    let traces = load(&rel)?;
    assert_eq!(traces.len(), 1, "{rel}: one trace");
    let t = traces.into_iter().next().unwrap();
    t.validate().unwrap();
    assert_eq!(t.source.format, "otlp");
    assert_eq!(t.source.content, ContentCapture::Full);
    assert_eq!(t.metadata["trace_id"], side["trace_id"].as_str().unwrap());
    // LLM calls and tokens = the sidecar's llm_calls[].usage_in_span
    let calls = side["llm_calls"].as_array().unwrap();
    let llm: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::LlmCall)
        .collect();
    assert_eq!(llm.len(), calls.len(), "{rel}: llm calls");
    let tok = t.total_tokens();
    assert_eq!(
        tok.prompt_total(),
        sum(calls, "input_tokens"),
        "{rel}: input"
    );
    assert_eq!(tok.output, sum(calls, "output_tokens"), "{rel}: output");
    assert_eq!(
        tok.cache_read,
        sum(calls, "cache_read_input_tokens"),
        "{rel}: cache read"
    );
    assert_eq!(
        tok.reasoning,
        sum(calls, "reasoning_output_tokens"),
        "{rel}: reasoning"
    );
    for c in calls {
        let s = step_by_ref(&t, c["llm_span_id"].as_str().unwrap());
        assert_eq!(s.kind, StepKind::LlmCall);
        assert_eq!(
            s.tokens.output,
            c["usage_in_span"]["output_tokens"].as_u64().unwrap()
        );
        assert_eq!(s.provider.as_deref(), Some("openai"));
        assert!(s.model.as_deref().unwrap().starts_with("gpt-4.1-mini"));
    }
    // tool calls: count, ids, span ids, issuing llm call (consumes) and its requests
    let tools = side["tool_calls"].as_array().unwrap();
    let tool_steps: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::ToolUse)
        .collect();
    assert_eq!(tool_steps.len(), tools.len(), "{rel}: tool calls");
    let mut ids: Vec<_> = tool_steps
        .iter()
        .map(|s| s.links.tool_call_id.clone().unwrap())
        .collect();
    let mut want: Vec<_> = tools
        .iter()
        .map(|c| c["tool_call_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    want.sort();
    assert_eq!(ids, want, "{rel}: tool call ids");
    for c in tools {
        let s = step_by_ref(&t, c["tool_span_id"].as_str().unwrap());
        let id = c["tool_call_id"].as_str().unwrap();
        assert_eq!(s.links.tool_call_id.as_deref(), Some(id));
        assert_eq!(s.tool.as_deref(), c["tool_name"].as_str());
        let args: Value =
            serde_json::from_str(s.input.as_ref().unwrap().text.as_deref().unwrap()).unwrap();
        assert_eq!(args, c["arguments"], "{rel}: args of {id}");
        assert_eq!(s.status, StepStatus::Ok);
        let issuer = step_by_ref(&t, c["issued_by_llm_span_id"].as_str().unwrap());
        assert_eq!(
            s.links.consumes,
            vec![issuer.id],
            "{rel}: {id} consumes its issuer"
        );
        assert!(issuer.links.requests.iter().any(|r| r == id));
        // delivered to exactly one later llm call (the next one of the agent)
        let receivers: Vec<_> = llm
            .iter()
            .filter(|l| l.links.context.contains(&s.id))
            .collect();
        assert_eq!(receivers.len(), 1, "{rel}: {id} delivered once");
        assert!(receivers[0].id > s.id);
    }
    // the wasted call
    for w in side["wasted"].as_array().unwrap() {
        let s = step_by_ref(&t, w["tool_span_id"].as_str().unwrap());
        assert_eq!(s.tool.as_deref(), w["tool_name"].as_str());
        assert_eq!(s.links.tool_call_id.as_deref(), w["tool_call_id"].as_str());
        let args: Value =
            serde_json::from_str(s.input.as_ref().unwrap().text.as_deref().unwrap()).unwrap();
        assert_eq!(args, w["arguments"]);
        let issuer = step_by_ref(&t, w["issued_by_llm_span_id"].as_str().unwrap());
        assert_eq!(s.links.consumes, vec![issuer.id]);
    }
    // one user prompt, the final answer
    let users: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::UserInput)
        .collect();
    assert_eq!(users.len(), 1);
    assert_eq!(
        users[0].output.as_ref().unwrap().text.as_deref(),
        side["user_prompt"].as_str()
    );
    let answer = crate::fixtures::answer_text(&t);
    assert_eq!(
        answer,
        side["final_answer"].as_str().unwrap(),
        "{rel}: answer"
    );
    let last = llm.last().unwrap();
    assert_eq!(t.outcome.final_step, Some(last.id));
    // read_file steps name the file they read
    for s in &tool_steps {
        if s.tool.as_deref() == Some("read_file") {
            assert_eq!(s.links.reads.len(), 1);
        }
    }
    let card = Compiler::new().compile(&t).unwrap();
    assert!(card.total_cost_usd.to_f64() > 0.0);
    Some(t)
}

/// gpt-4.1-mini at $0.40 / $0.10 cached / $1.60 per Mtok.
fn gpt41mini(input: u64, cached: u64, output: u64) -> f64 {
    ((input - cached) as f64 * 0.4 + cached as f64 * 0.1 + output as f64 * 1.6) / 1e6
}

#[test]
fn otlp_real_all_frameworks_match_sidecars() {
    for dir in ["pydantic-ai", "vercel-ai-sdk-v6", "vercel-ai-sdk-v7"] {
        for sc in ["s1_unused_file_read", "s2_duplicate_tool_call", "s4_clean"] {
            let Some(t) = check_real(dir, sc) else { return };
            let n = |k: StepKind| t.steps.iter().filter(|s| s.kind == k).count();
            let card = Compiler::new().compile(&t).unwrap();
            let tok = t.total_tokens();
            let expect = gpt41mini(tok.prompt_total(), tok.cache_read, tok.output);
            let got = card.total_cost_usd.to_f64();
            eprintln!(
                "{dir}/{sc}: steps {} card ${got:.7} expected ${expect:.7} reported {:?}",
                t.steps.len(),
                t.reported_cost_usd.map(|u| u.to_string())
            );
            assert!((got - expect).abs() <= expect * 0.01, "{dir}/{sc}");
            // pydantic-ai reports operation.cost per chat span (genai-prices)
            if dir == "pydantic-ai" {
                let rep = t.reported_cost_usd.unwrap().to_f64();
                assert!(
                    (got - rep).abs() <= rep * 0.01,
                    "{dir}/{sc}: card {got} vs reported {rep}"
                );
                assert!(
                    t.steps
                        .iter()
                        .filter(|s| s.kind == StepKind::LlmCall)
                        .all(|s| s.reported_cost_usd.is_some())
                );
            } else {
                assert!(t.reported_cost_usd.is_none());
            }
            assert_eq!(n(StepKind::SubagentSpawn), 0);
            assert!(t.warnings.is_empty(), "{dir}/{sc}: {:?}", t.warnings);
        }
    }
}

#[test]
fn otlp_real_hand_checked_facts() {
    // pydantic-ai s2: 4 calls, 3804 in (1024 cached on the last), 108 out; session = conversation id
    let Some(t) = check_real("pydantic-ai", "s2_duplicate_tool_call") else {
        return;
    };
    assert_eq!(t.session_id, "01a20e2d-6cf3-72f7-b279-ac0d5e313266"); // gen_ai.conversation.id
    assert_eq!(t.steps.len(), 8); // 1 user + 4 llm + 3 tools
    assert_eq!(t.steps[7].tokens.cache_read, 1024);
    // AI SDK 6: session from ai.telemetry.metadata.sessionId; doGenerate spans only (root
    // ai.generateText repeats the totals 2263/69 and is not counted)
    let t = check_real("vercel-ai-sdk-v6", "s1_unused_file_read").unwrap();
    assert!(t.session_id.starts_with("sess_"));
    assert_eq!(t.total_tokens().prompt_total(), 2263);
    assert_eq!(t.total_tokens().output, 69);
    // AI SDK 7: invoke_agent / step N / chat: only chat spans count; no session attr → traceId
    let t = check_real("vercel-ai-sdk-v7", "s2_duplicate_tool_call").unwrap();
    assert_eq!(t.session_id, t.metadata["trace_id"]);
    assert_eq!(t.total_tokens().prompt_total(), 3872);
    assert_eq!(t.total_tokens().cache_read, 1024);
}

#[test]
fn sidecars_and_non_traces_are_not_detected() {
    let Some(root) = crate::fixtures::root() else {
        return;
    };
    for dir in ["pydantic-ai", "vercel-ai-sdk-v6", "vercel-ai-sdk-v7"] {
        for sc in ["s1_unused_file_read", "s2_duplicate_tool_call", "s4_clean"] {
            let p = root.join(format!("otlp-real/{dir}/{sc}.waste.json"));
            assert_eq!(detect(&p).unwrap(), None, "{}", p.display());
            let p = root.join(format!("otlp-real/{dir}/{sc}.otlp.json"));
            assert_eq!(detect(&p).unwrap(), Some(Format::Otlp));
        }
    }
    // attribute examples are bare attribute sets and schemas are JSON Schemas: not traces
    for f in [
        "otel-genai/attribute-examples/otel_genai_tool_execution_span.json",
        "otel-genai/attribute-examples/otel_genai_client_span_tool_calls.json",
        "otel-genai/attribute-examples/otel_genai_deprecated_client_span_tool_calls.json",
        "otel-genai/attribute-examples/openinference_client_span_tool_calls.json",
        "otel-genai/attribute-examples/openinference_client_span_input_output_only.json",
        "otel-genai/schemas/gen-ai-input-messages.schema.json",
        "otel-genai/schemas/gen-ai-output-messages.schema.json",
    ] {
        let p = root.join(f);
        assert_eq!(detect(&p).unwrap(), None, "{f}");
        let e = tracecard_core::load(&p, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownFormat, "{f}");
        // forced: a typed parse error, not a panic
        let e = tracecard_core::load(&p, Some(Format::Otlp)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Parse, "{f}");
    }
}

#[test]
fn readable_span_arrays_from_ai_sdk_6() {
    // 10 spans, each with its own traceId (the fixture is a bag of unrelated spans):
    // 5 doGenerate/doStream/doEmbed spans + their 5 outer spans.
    let Some(ts) = load("otel-genai/vercel-ai-sdk-v6/all-spans.json") else {
        return;
    };
    assert_eq!(ts.len(), 10);
    let llm: Vec<_> = ts
        .iter()
        .flat_map(|t| &t.steps)
        .filter(|s| s.kind == StepKind::LlmCall)
        .collect();
    // generateText x2, generateObject, streamText; embed.doEmbed is not a chat call
    assert_eq!(llm.len(), 4);
    let ins: u64 = llm.iter().map(|s| s.tokens.prompt_total()).sum();
    let outs: u64 = llm.iter().map(|s| s.tokens.output).sum();
    assert_eq!((ins, outs), (14 + 50 + 63 + 15, 20 + 9 + 156 + 112));
    // outer ai.generateText spans repeat the usage: never counted
    let outer = ts
        .iter()
        .find(|t| t.metadata["trace_id"] == "700d5f98fe2420adcf6ab0822f7a323c")
        .unwrap();
    assert!(outer.steps.is_empty());
    let haiku = ts
        .iter()
        .find(|t| t.metadata["trace_id"] == "b3e700af9eab81e19f72f964d62a35af")
        .unwrap();
    assert!(crate::fixtures::answer_text(haiku).starts_with("Lines of code align"));
    let Some(ts) = load("otel-genai/vercel-ai-sdk-v6/ai-streamText.json") else {
        return;
    };
    assert_eq!(ts.len(), 1);
    assert!(ts[0].steps.is_empty()); // the outer streamText span only
}

/// Wrap a bare attribute set into a one-span OTLP request.
fn wrap(attrs: &Value, name: &str, span: &str, parent: &str, start: u64) -> Value {
    let kvs: Vec<Value> = attrs
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => json!({"stringValue": s}),
                Value::Number(n) if n.is_u64() => json!({"intValue": n.to_string()}),
                Value::Number(n) => json!({"doubleValue": n}),
                Value::Bool(b) => json!({"boolValue": b}),
                Value::Array(a) => json!({"arrayValue": {"values": a.iter().map(|x| json!({"stringValue": x.to_string().trim_matches('"')})).collect::<Vec<_>>()}}),
                _ => json!({"stringValue": v.to_string()}),
            };
            json!({"key": k, "value": value})
        })
        .collect();
    json!({"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": span, "parentSpanId": parent,
           "name": name, "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 10).to_string(),
           "attributes": kvs})
}

fn request(spans: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]})).unwrap()
}

fn example(f: &str) -> Option<Value> {
    let p = path(&format!("otel-genai/attribute-examples/{f}"))?;
    Some(serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
}

#[test]
fn attribute_examples_map_through_the_shared_mapping() {
    // new names: chat span whose input has tool_call 1234 + its tool_call_response
    let Some(chat) = example("otel_genai_client_span_tool_calls.json") else {
        return;
    };
    let old = example("otel_genai_deprecated_client_span_tool_calls.json").unwrap();
    let tool = example("otel_genai_tool_execution_span.json").unwrap();
    let oi = example("openinference_client_span_tool_calls.json").unwrap();
    for (label, llm) in [
        ("genai", &chat),
        ("deprecated", &old),
        ("openinference", &oi),
    ] {
        let bytes = request(vec![
            wrap(
                &tool,
                "execute_tool get_weather",
                "00f067aa0ba902b7",
                "",
                1_000,
            ),
            wrap(llm, "chat gpt-4", "00f067aa0ba902b8", "", 2_000),
        ]);
        let ts = load_input(&Input::from_bytes("ex.otlp.json", bytes), None).unwrap();
        let t = &ts[0];
        let l = t
            .steps
            .iter()
            .find(|s| s.kind == StepKind::LlmCall)
            .unwrap_or_else(|| panic!("{label}"));
        assert_eq!(l.tokens.prompt_total(), 97, "{label}");
        assert_eq!(l.tokens.output, 52, "{label}");
        assert_eq!(l.provider.as_deref(), Some("openai"), "{label}");
        let tstep = t
            .steps
            .iter()
            .find(|s| s.kind == StepKind::ToolUse)
            .unwrap();
        assert_eq!(tstep.links.tool_call_id.as_deref(), Some("1234"));
        // the chat input carries tool_call_response 1234 → delivered into that call
        assert_eq!(
            l.links.context.iter().filter(|c| **c == tstep.id).count(),
            1,
            "{label}"
        );
        assert!(crate::fixtures::answer_text(t).contains("rainy"), "{label}");
    }
}

#[test]
fn nested_invoke_agent_is_a_subagent_spawn() {
    let a = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let i = |k: &str, v: u64| json!({"key": k, "value": {"intValue": v}});
    let span = |id: &str, parent: &str, name: &str, start: u64, attrs: Vec<Value>| {
        json!({"traceId": "t1", "spanId": id, "parentSpanId": parent, "name": name,
               "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 5).to_string(), "attributes": attrs})
    };
    let out = |parts: &str| a("gen_ai.output.messages", parts);
    let bytes = request(vec![
        span(
            "a1",
            "",
            "invoke_agent boss",
            1,
            vec![
                a("gen_ai.operation.name", "invoke_agent"),
                a("gen_ai.agent.name", "boss"),
                i("gen_ai.usage.input_tokens", 999),
            ],
        ),
        span(
            "c1",
            "a1",
            "chat m",
            2,
            vec![
                a("gen_ai.operation.name", "chat"),
                a("gen_ai.request.model", "gpt-4.1-mini"),
                i("gen_ai.usage.input_tokens", 100),
                i("gen_ai.usage.output_tokens", 10),
                out(
                    r#"[{"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"delegate","arguments":{"q":"x"}}]}]"#,
                ),
            ],
        ),
        span(
            "t1",
            "a1",
            "execute_tool delegate",
            3,
            vec![
                a("gen_ai.operation.name", "execute_tool"),
                a("gen_ai.tool.name", "delegate"),
                a("gen_ai.tool.call.id", "call_1"),
            ],
        ),
        span(
            "a2",
            "t1",
            "invoke_agent helper",
            4,
            vec![
                a("gen_ai.operation.name", "invoke_agent"),
                a("gen_ai.agent.name", "helper"),
            ],
        ),
        span(
            "c2",
            "a2",
            "chat m",
            5,
            vec![
                a("gen_ai.operation.name", "chat"),
                a("gen_ai.request.model", "gpt-4.1-mini"),
                i("gen_ai.usage.input_tokens", 50),
                i("gen_ai.usage.output_tokens", 5),
                out(r#"[{"role":"assistant","parts":[{"type":"text","content":"found x"}]}]"#),
            ],
        ),
        span(
            "c3",
            "a1",
            "chat m",
            10,
            vec![
                a("gen_ai.operation.name", "chat"),
                a("gen_ai.request.model", "gpt-4.1-mini"),
                i("gen_ai.usage.input_tokens", 120),
                i("gen_ai.usage.output_tokens", 7),
                a(
                    "gen_ai.input.messages",
                    r#"[{"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"found x"}]}]"#,
                ),
                out(r#"[{"role":"assistant","parts":[{"type":"text","content":"x it is"}]}]"#),
            ],
        ),
    ]);
    let ts = load_input(&Input::from_bytes("sub.json", bytes), Some(Format::Otlp)).unwrap();
    let t = &ts[0];
    t.validate().unwrap();
    let kinds: Vec<_> = t.steps.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        vec![
            StepKind::LlmCall,
            StepKind::SubagentSpawn,
            StepKind::LlmCall,
            StepKind::LlmCall
        ]
    );
    let spawn = &t.steps[1];
    assert_eq!(spawn.tool.as_deref(), Some("delegate"));
    assert_eq!(spawn.links.tool_call_id.as_deref(), Some("call_1"));
    assert_eq!(t.steps[2].parent, Some(spawn.id));
    assert_eq!(spawn.links.consumes, vec![t.steps[2].id]); // the sub-agent's last call
    assert_eq!(t.steps[3].links.context, vec![spawn.id]);
    assert_eq!(t.total_tokens().prompt_total(), 270); // agent span's 999 not counted
    assert_eq!(t.outcome.final_step, Some(t.steps[3].id));
    assert_eq!(
        t.outcome.answer.as_ref().unwrap().text.as_deref(),
        Some("x it is")
    );
}

#[test]
fn jsonl_status_errors_and_string_ints() {
    let line = |tid: &str, sid: &str, code: u64| {
        serde_json::to_string(&json!({"resourceSpans": [{"scopeSpans": [{"spans": [
            {"traceId": tid, "spanId": sid, "name": "execute_tool x", "startTimeUnixNano": "5",
             "status": {"code": code, "message": "boom"},
             "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
                            {"key": "gen_ai.tool.name", "value": {"stringValue": "x"}}]},
            {"traceId": tid, "spanId": "c", "name": "chat", "startTimeUnixNano": "1",
             "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                            {"key": "gen_ai.usage.prompt_tokens", "value": {"intValue": "12"}},
                            {"key": "gen_ai.usage.completion_tokens", "value": {"intValue": 3}},
                            {"key": "gen_ai.usage.cache_read_input_tokens", "value": {"intValue": "4"}}]}
        ]}]}]})).unwrap()
    };
    let text = format!(
        "{}\n{}\n{}",
        line("A", "s1", 2),
        line("B", "s2", 0),
        &line("C", "s3", 0)[..40]
    );
    let ts = load_input(&Input::from_bytes("f.jsonl", text), Some(Format::Otlp)).unwrap();
    assert_eq!(ts.len(), 2);
    let a = &ts[0];
    assert_eq!(a.session_id, "A");
    assert_eq!(a.steps[0].kind, StepKind::LlmCall);
    assert_eq!(
        (
            a.steps[0].tokens.input,
            a.steps[0].tokens.cache_read,
            a.steps[0].tokens.output
        ),
        (8, 4, 3)
    );
    assert_eq!(a.steps[1].status, StepStatus::Error);
    assert_eq!(a.steps[1].error.as_deref(), Some("boom"));
    assert_eq!(a.steps[1].links.consumes, vec![a.steps[0].id]); // fallback: previous call
    assert_eq!(a.source.content, ContentCapture::None);
    assert!(
        a.warnings
            .iter()
            .any(|w: &Warning| w.code == "truncated_line")
    );
    assert_eq!(ts[1].steps[1].status, StepStatus::Ok);
}

#[test]
fn malformed_otlp_is_a_typed_error() {
    let f = |b: &[u8]| load_input(&Input::from_bytes("x.json", b.to_vec()), Some(Format::Otlp));
    let kind = |b: &[u8]| f(b).unwrap_err().kind();
    assert_eq!(kind(b""), ErrorKind::Parse);
    assert_eq!(kind(b"{\"resourceSpans\": 3}"), ErrorKind::Parse);
    assert_eq!(
        kind(b"{\"resourceSpans\": [{\"scopeSpans\": [{\"spans\": [{\"traceId\": 1}]}]}]}"),
        ErrorKind::Parse
    );
    assert_eq!(kind(b"{\"resourceSpans\": [{\"scopeSpans\": [{\"spans\": [{\"traceId\": \"a\", \"spanId\": \"b\", \"attributes\": {}}]}]}]}"), ErrorKind::Parse);
    assert_eq!(kind(b"{\"resourceSpans\": [{\"scopeSpans\": [{\"spans\": [{\"traceId\": \"a\", \"spanId\": \"b\", \"startTimeUnixNano\": \"soon\"}]}]}]}"), ErrorKind::Parse);
    assert_eq!(kind(b"{\"resourceSpans\": []}"), ErrorKind::Parse);
    assert_eq!(
        kind(b"{\"resourceSpans\": [{\"scopeSpans\": [{\"spans\": [{\"traceId\""),
        ErrorKind::Parse
    );
    assert_eq!(kind(b"\xff\xfe{\"resourceSpans\": []}"), ErrorKind::Parse);
    assert_eq!(kind(b"42"), ErrorKind::Parse);
    assert_eq!(kind(&vec![b'['; 100_000]), ErrorKind::Parse);
    let deep = format!(
        "{{\"resourceSpans\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(kind(deep.as_bytes()), ErrorKind::Parse);
    // a cycle in parent ids and a deeply nested attribute value: no hang, no panic
    let cyc = request(vec![
        json!({"traceId": "t", "spanId": "a", "parentSpanId": "b", "name": "chat", "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}}]}),
        json!({"traceId": "t", "spanId": "b", "parentSpanId": "a", "name": "chat", "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}}]}),
    ]);
    let ts = f(&cyc).unwrap();
    assert!(ts[0].steps.is_empty());
    // unknown span kinds are kept out of the steps, not errors
    let odd = request(vec![
        json!({"traceId": "t", "spanId": "a", "name": "db.query", "attributes": []}),
    ]);
    assert!(f(&odd).unwrap()[0].steps.is_empty());
}
