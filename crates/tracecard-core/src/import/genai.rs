//! Shared mapping of GenAI span attributes (OTel GenAI old and new names, Vercel AI
//! SDK `ai.*`, pydantic-ai, OpenInference, LangSmith) onto the trace model, and the
//! span-tree → [`Trace`] builder used by both the OTLP and the Langfuse importers.
//!
//! Importers turn their records into [`SpanRec`]s (flattened attributes plus a
//! [`Class`]) and call [`build_trace`]; everything else (token extraction, message
//! parsing, tool-call ids, sub-agents, links, the final answer) lives here once.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::model::{
    Content, ContentCapture, OutcomeStatus, Step, StepId, StepKind, StepStatus, TokenUsage, Trace,
    Warning,
};
use crate::money::Usd;

/// Flattened span attributes: key → JSON value (strings, numbers, booleans, arrays).
pub(crate) type Attrs = BTreeMap<String, Value>;

/// Maximum nesting walked in attribute values and span ancestry.
pub(crate) const MAX_DEPTH: usize = 64;

// ---------------------------------------------------------------------------
// attribute lookup with aliases

/// The first present, non-null value among `keys`.
pub(crate) fn attr<'a>(a: &'a Attrs, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().filter_map(|k| a.get(*k)).find(|v| !v.is_null())
}

/// A string attribute (numbers and booleans rendered); empty strings count as absent.
pub(crate) fn attr_str(a: &Attrs, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match a.get(*k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// A non-negative integer attribute: a JSON number or a decimal string (OTLP
/// `intValue` is a string in protobuf-JSON, a number in Node exporters).
pub(crate) fn attr_u64(a: &Attrs, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| value_u64(a.get(*k)?))
}

/// A value as u64 (number, integral float, or decimal string).
pub(crate) fn value_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
}

/// A float attribute (number or decimal string).
pub(crate) fn attr_f64(a: &Attrs, keys: &[&str]) -> Option<f64> {
    keys.iter().find_map(|k| value_f64(a.get(*k)?))
}

/// A value as f64 (number or decimal string), finite only.
pub(crate) fn value_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// Parse a value that may be a JSON document inside a string (GenAI content
/// attributes are JSON strings; structured exporters give arrays directly).
fn json_of(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) => {
            let t = s.trim_start();
            if t.starts_with('[') || t.starts_with('{') {
                serde_json::from_str(s).ok()
            } else {
                None
            }
        }
        Value::Array(_) | Value::Object(_) => Some(v.clone()),
        _ => None,
    }
}

/// Text of a value for content analysis. A string that is itself a JSON string
/// literal (`"\"…\""`, as AI SDK tool results are) is decoded once.
pub(crate) fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => {
            if s.starts_with('"')
                && s.ends_with('"')
                && s.len() >= 2
                && let Ok(Value::String(inner)) = serde_json::from_str::<Value>(s)
            {
                return inner;
            }
            s.clone()
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------
// classification

/// What a span is, for the trace model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// One billed model request (leaf LLM-call span).
    Llm,
    /// One tool execution.
    Tool,
    /// An agent invocation (root agent or sub-agent).
    Agent,
    /// Anything else (workflow/step/chain containers, setup, embeddings).
    Container,
}

/// Classify a span from its name and attributes.
pub(crate) fn classify(name: &str, a: &Attrs) -> Class {
    if let Some(op) = attr_str(a, &["gen_ai.operation.name"]) {
        match op.as_str() {
            "chat" | "text_completion" | "generate_content" | "completion" => return Class::Llm,
            "execute_tool" | "tool.execute" => return Class::Tool,
            "invoke_agent" => return Class::Agent,
            _ => {}
        }
    }
    if let Some(k) = attr_str(a, &["openinference.span.kind"]) {
        match k.to_ascii_uppercase().as_str() {
            "LLM" => return Class::Llm,
            "TOOL" => return Class::Tool,
            "AGENT" => return Class::Agent,
            _ => {}
        }
    }
    let ai_op = attr_str(a, &["ai.operationId"]).unwrap_or_else(|| name.to_string());
    if ai_op.starts_with("ai.") {
        if ai_op.ends_with(".doGenerate") || ai_op.ends_with(".doStream") {
            return Class::Llm;
        }
        if ai_op == "ai.toolCall" {
            return Class::Tool;
        }
        if matches!(
            ai_op.as_str(),
            "ai.generateText" | "ai.streamText" | "ai.generateObject" | "ai.streamObject"
        ) {
            return Class::Agent;
        }
    }
    if let Some(k) = attr_str(a, &["langsmith.span.kind"]) {
        match k.as_str() {
            "llm" => return Class::Llm,
            "tool" => return Class::Tool,
            _ => {}
        }
    }
    if a.contains_key("gen_ai.tool.call.id") && a.contains_key("gen_ai.tool.name") {
        return Class::Tool;
    }
    // pydantic-ai agent spans (`agent run`, `invoke_agent`) without an operation name.
    if a.keys().any(|k| k.starts_with("gen_ai.aggregated_usage."))
        || (a.contains_key("agent_name") && a.contains_key("final_result"))
    {
        return Class::Agent;
    }
    Class::Container
}

// ---------------------------------------------------------------------------
// tokens, model, cost

const IN: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
    "ai.usage.inputTokens",
    "ai.usage.promptTokens",
];
const OUT: &[&str] = &[
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "ai.usage.outputTokens",
    "ai.usage.completionTokens",
];
const CACHE_READ: &[&str] = &[
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.usage.details.cache_read_tokens",
    "llm.token_count.prompt_details.cache_read",
    "ai.usage.inputTokenDetails.cacheReadTokens",
    "ai.usage.cachedInputTokens",
];
const CACHE_WRITE: &[&str] = &[
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "gen_ai.usage.details.cache_write_tokens",
    "llm.token_count.prompt_details.cache_write",
    "ai.usage.inputTokenDetails.cacheWriteTokens",
];
const REASONING: &[&str] = &[
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.details.reasoning_tokens",
    "llm.token_count.completion_details.reasoning",
    "ai.usage.outputTokenDetails.reasoningTokens",
    "ai.usage.reasoningTokens",
];

/// Token usage of an LLM-call span, normalised with `from_inclusive` (OTel GenAI,
/// OpenInference and the AI SDK count cached input inside the input total). `None`
/// when the span carries neither an input nor an output count.
pub(crate) fn tokens(a: &Attrs) -> Option<TokenUsage> {
    let input = attr_u64(a, IN);
    let output = attr_u64(a, OUT);
    if input.is_none() && output.is_none() {
        return None;
    }
    Some(TokenUsage::from_inclusive(
        input.unwrap_or(0),
        attr_u64(a, CACHE_READ).unwrap_or(0),
        attr_u64(a, CACHE_WRITE).unwrap_or(0),
        output.unwrap_or(0),
        attr_u64(a, REASONING).unwrap_or(0),
    ))
}

/// Model name as written (response model preferred: it is what was billed).
pub(crate) fn model(a: &Attrs) -> Option<String> {
    attr_str(
        a,
        &[
            "gen_ai.response.model",
            "ai.response.model",
            "llm.response.model_name",
            "llm.model_name",
            "gen_ai.request.model",
            "ai.model.id",
            "llm.request.model_name",
        ],
    )
}

/// Provider (`gen_ai.provider.name`, deprecated `gen_ai.system`, OpenInference,
/// AI SDK `openai.chat` → `openai`).
pub(crate) fn provider(a: &Attrs) -> Option<String> {
    let p = attr_str(
        a,
        &[
            "gen_ai.provider.name",
            "gen_ai.system",
            "llm.provider",
            "llm.system",
            "ai.model.provider",
        ],
    )?;
    for suffix in [".chat", ".responses", ".completion", ".messages"] {
        if let Some(s) = p.strip_suffix(suffix) {
            return Some(s.to_string());
        }
    }
    Some(p)
}

/// Cost the instrumentation reported (pydantic-ai/Logfire `operation.cost`,
/// OpenInference `llm.cost.total`), USD.
pub(crate) fn reported_cost(a: &Attrs) -> Option<f64> {
    attr_f64(a, &["llm.cost.total", "operation.cost"]).or_else(|| {
        let p = attr_f64(a, &["llm.cost.prompt"]);
        let c = attr_f64(a, &["llm.cost.completion"]);
        (p.is_some() || c.is_some()).then(|| p.unwrap_or(0.0) + c.unwrap_or(0.0))
    })
}

/// Session id attribute (`session.id`, `gen_ai.conversation.id`, AI SDK metadata).
pub(crate) fn session_id(a: &Attrs) -> Option<String> {
    attr_str(
        a,
        &[
            "session.id",
            "gen_ai.conversation.id",
            "ai.telemetry.metadata.sessionId",
        ],
    )
}

fn agent_name(a: &Attrs) -> Option<String> {
    attr_str(
        a,
        &[
            "gen_ai.agent.name",
            "agent.name",
            "agent_name",
            "ai.telemetry.functionId",
        ],
    )
}

// ---------------------------------------------------------------------------
// messages

/// One part of a chat message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    /// Text (or reasoning) content.
    Text(String),
    /// A tool call the model issued.
    ToolCall {
        id: Option<String>,
        name: String,
        args: String,
    },
    /// A tool result sent back to the model.
    ToolResult { id: Option<String>, text: String },
}

/// A chat message: role plus parts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Msg {
    pub role: String,
    pub parts: Vec<Part>,
}

impl Msg {
    fn text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn args_text(v: Option<&Value>) -> String {
    v.map(text_of).unwrap_or_default()
}

fn opt_str(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// One part in OTel GenAI parts format or the AI SDK content format.
fn parse_part(p: &Value) -> Option<Part> {
    if let Value::String(s) = p {
        return Some(Part::Text(s.clone()));
    }
    let ty = p.get("type").and_then(Value::as_str).unwrap_or("text");
    match ty {
        "text" | "reasoning" | "thinking" => p
            .get("content")
            .or_else(|| p.get("text"))
            .map(|v| Part::Text(text_of(v))),
        "tool_call" | "tool-call" | "function_call" | "tool_use" => Some(Part::ToolCall {
            id: opt_str(p, "id").or_else(|| opt_str(p, "toolCallId")),
            name: opt_str(p, "name")
                .or_else(|| opt_str(p, "toolName"))
                .unwrap_or_default(),
            args: args_text(
                p.get("arguments")
                    .or_else(|| p.get("input"))
                    .or_else(|| p.get("args")),
            ),
        }),
        "tool_call_response" | "tool-result" | "tool_result" | "function_call_output" => {
            let out = p
                .get("response")
                .or_else(|| p.get("result"))
                .or_else(|| p.get("output"))
                .or_else(|| p.get("content"));
            // AI SDK: output = {type:"text"|"json", value}
            let text = match out {
                Some(o @ Value::Object(m)) => m.get("value").map(text_of).unwrap_or(text_of(o)),
                Some(o) => text_of(o),
                None => String::new(),
            };
            Some(Part::ToolResult {
                id: opt_str(p, "id")
                    .or_else(|| opt_str(p, "toolCallId"))
                    .or_else(|| opt_str(p, "tool_use_id")),
                text,
            })
        }
        _ => None,
    }
}

/// One message in OTel GenAI (`parts`), AI SDK / Anthropic (`content` array) or
/// OpenAI chat (`content` string, `tool_calls`, `tool_call_id`) shape.
fn parse_message(m: &Value) -> Msg {
    let role = opt_str(m, "role").unwrap_or_default();
    if m.get("toolCallId").is_some() && m.get("toolName").is_some() {
        // AI SDK `ai.response.toolCalls` entry
        return Msg {
            role: "assistant".into(),
            parts: parse_part(&serde_json::json!({
                "type": "tool-call",
                "toolCallId": m.get("toolCallId"),
                "toolName": m.get("toolName"),
                "input": m.get("input").or_else(|| m.get("args")),
            }))
            .into_iter()
            .collect(),
        };
    }
    let mut parts: Vec<Part> = match m.get("parts").or_else(|| m.get("content")) {
        Some(Value::Array(ps)) => ps.iter().filter_map(parse_part).collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![Part::Text(s.clone())],
        _ => Vec::new(),
    };
    if let Some(id) = opt_str(m, "tool_call_id") {
        let text = render(&[Msg {
            role: String::new(),
            parts: std::mem::take(&mut parts),
        }]);
        parts.push(Part::ToolResult { id: Some(id), text });
    }
    if let Some(Value::Array(calls)) = m.get("tool_calls") {
        for c in calls {
            let f = c.get("function").unwrap_or(c);
            parts.push(Part::ToolCall {
                id: opt_str(c, "id"),
                name: opt_str(f, "name").unwrap_or_default(),
                args: args_text(f.get("arguments")),
            });
        }
    }
    Msg { role, parts }
}

/// Messages from a JSON value: an array of messages, one message object, or an
/// OpenAI completion (`choices[0].message`).
pub(crate) fn parse_messages(v: &Value) -> Vec<Msg> {
    match json_of(v) {
        Some(Value::Array(items)) => items
            .iter()
            .filter(|m| m.is_object())
            .map(parse_message)
            .collect(),
        Some(o @ Value::Object(_)) => {
            if let Some(Value::Array(ch)) = o.get("choices") {
                return ch
                    .iter()
                    .filter_map(|c| c.get("message"))
                    .map(parse_message)
                    .collect();
            }
            if let Some(Value::Array(ms)) = o.get("messages") {
                return ms
                    .iter()
                    .filter(|m| m.is_object())
                    .map(parse_message)
                    .collect();
            }
            if let Some(Value::String(t)) = o.get("text") {
                return vec![Msg {
                    role: "assistant".into(),
                    parts: vec![Part::Text(t.clone())],
                }];
            }
            if o.get("content").is_some() || o.get("parts").is_some() {
                return vec![parse_message(&o)];
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// OpenInference flattened messages under `prefix` (`llm.input_messages`).
fn openinference_messages(a: &Attrs, prefix: &str) -> Vec<Msg> {
    let pre = format!("{prefix}.");
    let mut by_idx: BTreeMap<usize, BTreeMap<&str, &Value>> = BTreeMap::new();
    for (k, v) in a.range(pre.clone()..) {
        let Some(rest) = k.strip_prefix(&pre) else {
            break;
        };
        let Some((idx, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(i) = idx.parse::<usize>() else {
            continue;
        };
        if i > 100_000 {
            continue;
        }
        by_idx.entry(i).or_default().insert(field, v);
    }
    by_idx
        .into_values()
        .map(|f| {
            let role = f
                .get("message.role")
                .map(|v| text_of(v))
                .unwrap_or_default();
            let mut parts = Vec::new();
            let content = f.get("message.content").map(|v| text_of(v));
            let mut texts: BTreeMap<usize, String> = BTreeMap::new();
            let mut calls: BTreeMap<usize, (Option<String>, String, String)> = BTreeMap::new();
            for (field, v) in &f {
                if let Some(r) = field.strip_prefix("message.contents.") {
                    if let Some((j, "message_content.text")) = r.split_once('.')
                        && let Ok(j) = j.parse::<usize>()
                    {
                        texts.insert(j, text_of(v));
                    }
                } else if let Some(r) = field.strip_prefix("message.tool_calls.")
                    && let Some((j, sub)) = r.split_once('.')
                {
                    let Ok(j) = j.parse::<usize>() else { continue };
                    let e = calls.entry(j).or_default();
                    match sub {
                        "tool_call.id" => e.0 = Some(text_of(v)),
                        "tool_call.function.name" => e.1 = text_of(v),
                        "tool_call.function.arguments" => e.2 = text_of(v),
                        _ => {}
                    }
                }
            }
            if let Some(id) = f.get("message.tool_call_id") {
                parts.push(Part::ToolResult {
                    id: Some(text_of(id)),
                    text: content.clone().unwrap_or_default(),
                });
            } else if let Some(c) = content {
                parts.push(Part::Text(c));
            }
            parts.extend(texts.into_values().map(Part::Text));
            parts.extend(calls.into_values().map(|(id, name, args)| Part::ToolCall {
                id,
                name,
                args,
            }));
            Msg { role, parts }
        })
        .collect()
}

/// The model input and output of an LLM-call span, from whichever content
/// attributes it carries.
#[derive(Debug, Default, Clone)]
pub(crate) struct LlmContent {
    /// Input messages (full history as sent), `None` without content capture.
    pub input: Option<Vec<Msg>>,
    /// Output messages.
    pub output: Option<Vec<Msg>>,
}

/// Read the input/output messages of an LLM span.
pub(crate) fn llm_content(a: &Attrs) -> LlmContent {
    let mut c = LlmContent::default();
    if let Some(v) = attr(
        a,
        &[
            "gen_ai.input.messages",
            "ai.prompt.messages",
            "gen_ai.prompt",
        ],
    ) {
        c.input = Some(parse_messages(v));
    } else if a.keys().any(|k| k.starts_with("llm.input_messages.")) {
        c.input = Some(openinference_messages(a, "llm.input_messages"));
    }
    if let Some(v) = attr(a, &["gen_ai.output.messages", "gen_ai.completion"]) {
        c.output = Some(parse_messages(v));
    } else if [
        "ai.response.text",
        "ai.response.object",
        "ai.response.toolCalls",
    ]
    .iter()
    .any(|k| a.contains_key(*k))
    {
        let mut parts = Vec::new();
        if let Some(t) = attr_str(a, &["ai.response.text", "ai.response.object"]) {
            parts.push(Part::Text(t));
        }
        if let Some(Value::Array(calls)) = attr(a, &["ai.response.toolCalls"]).and_then(json_of) {
            for tc in &calls {
                parts.push(Part::ToolCall {
                    id: opt_str(tc, "toolCallId"),
                    name: opt_str(tc, "toolName").unwrap_or_default(),
                    args: args_text(tc.get("input").or_else(|| tc.get("args"))),
                });
            }
        }
        c.output = Some(vec![Msg {
            role: "assistant".into(),
            parts,
        }]);
    } else if a.keys().any(|k| k.starts_with("llm.output_messages.")) {
        c.output = Some(openinference_messages(a, "llm.output_messages"));
    } else if let Some(v) = attr(a, &["output.value"]) {
        c.output = Some(vec![Msg {
            role: "assistant".into(),
            parts: vec![Part::Text(text_of(v))],
        }]);
    }
    if c.input.is_none()
        && let Some(v) = attr(a, &["input.value"])
    {
        c.input = Some(vec![Msg {
            role: "user".into(),
            parts: vec![Part::Text(text_of(v))],
        }]);
    }
    c
}

/// Render messages as text for content analysis (tool calls as `name(args)`).
pub(crate) fn render(msgs: &[Msg]) -> String {
    let mut out = Vec::new();
    for m in msgs {
        for p in &m.parts {
            match p {
                Part::Text(t) if !t.is_empty() => out.push(t.clone()),
                Part::ToolCall { name, args, .. } => out.push(format!("{name}({args})")),
                Part::ToolResult { text, .. } if !text.is_empty() => out.push(text.clone()),
                _ => {}
            }
        }
    }
    out.join("\n")
}

/// Tool calls (id, name, args) in output messages.
fn tool_calls(msgs: &[Msg]) -> Vec<(Option<String>, String, String)> {
    msgs.iter()
        .flat_map(|m| m.parts.iter())
        .filter_map(|p| match p {
            Part::ToolCall { id, name, args } => Some((id.clone(), name.clone(), args.clone())),
            _ => None,
        })
        .collect()
}

/// Ids of tool results in input messages.
fn tool_result_ids(msgs: &[Msg]) -> Vec<String> {
    msgs.iter()
        .flat_map(|m| m.parts.iter())
        .filter_map(|p| match p {
            Part::ToolResult { id: Some(id), .. } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

/// A tool span's name, call id, arguments and result.
#[derive(Debug, Default, Clone)]
pub(crate) struct ToolInfo {
    pub name: Option<String>,
    pub call_id: Option<String>,
    pub args: Option<String>,
    pub result: Option<String>,
}

/// Read a tool span.
pub(crate) fn tool_info(a: &Attrs) -> ToolInfo {
    ToolInfo {
        name: attr_str(a, &["gen_ai.tool.name", "ai.toolCall.name", "tool.name"]),
        call_id: attr_str(a, &["gen_ai.tool.call.id", "ai.toolCall.id", "tool.id"]),
        args: attr(
            a,
            &[
                "gen_ai.tool.call.arguments",
                "ai.toolCall.args",
                "ai.toolCall.input",
                "input.value",
                "tool.parameters",
                "tool_arguments",
                "gcp.vertex.agent.tool_call_args",
            ],
        )
        .map(text_of),
        result: attr(
            a,
            &[
                "gen_ai.tool.call.result",
                "ai.toolCall.result",
                "ai.toolCall.output",
                "output.value",
                "tool_response",
                "gcp.vertex.agent.tool_response",
            ],
        )
        .map(text_of),
    }
}

/// File artifacts a tool reads/writes, from its name and JSON arguments.
pub(crate) fn file_links(tool: &str, args: &str) -> (Vec<String>, Vec<String>) {
    let t = tool.to_ascii_lowercase();
    let read = matches!(t.as_str(), "read" | "read_file" | "view" | "open_file");
    let write = matches!(t.as_str(), "write" | "write_file" | "create_file");
    let edit = matches!(
        t.as_str(),
        "edit" | "multiedit" | "edit_file" | "str_replace" | "notebookedit"
    );
    if !(read || write || edit) {
        return (vec![], vec![]);
    }
    let path = serde_json::from_str::<Value>(args).ok().and_then(|v| {
        ["file_path", "path", "filename", "notebook_path"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
    });
    let Some(p) = path else {
        return (vec![], vec![]);
    };
    let reads = if read || edit {
        vec![p.clone()]
    } else {
        vec![]
    };
    let writes = if write || edit { vec![p] } else { vec![] };
    (reads, writes)
}

// ---------------------------------------------------------------------------
// the builder

/// One span (or Langfuse observation) ready for [`build_trace`].
#[derive(Debug, Clone)]
pub(crate) struct SpanRec {
    /// Span id in the source.
    pub id: String,
    /// Parent span id (`None` or unknown = root).
    pub parent: Option<String>,
    /// Span name.
    pub name: String,
    /// Start, as Unix nanoseconds (for ordering) and timestamp.
    pub start_ns: Option<i128>,
    /// End, as Unix nanoseconds.
    pub end_ns: Option<i128>,
    /// Attributes.
    pub attrs: Attrs,
    /// Classification.
    pub class: Class,
    /// `Some(message)` when the span failed.
    pub error: Option<String>,
    /// Usage from outside the attributes (Langfuse `usageDetails`); overrides.
    pub usage: Option<TokenUsage>,
    /// Cost from outside the attributes (Langfuse); overrides.
    pub cost: Option<f64>,
    /// Model from outside the attributes.
    pub model: Option<String>,
    /// Input/output content from outside the attributes (fallback).
    pub input: Option<String>,
    /// See `input`.
    pub output: Option<String>,
    /// Line in the source (JSONL).
    pub line: Option<u64>,
}

impl SpanRec {
    /// A span with everything but the basics empty.
    pub(crate) fn new(id: String, name: String, attrs: Attrs, class: Class) -> Self {
        SpanRec {
            id,
            parent: None,
            name,
            start_ns: None,
            end_ns: None,
            attrs,
            class,
            error: None,
            usage: None,
            cost: None,
            model: None,
            input: None,
            output: None,
            line: None,
        }
    }
}

/// Provenance passed to [`build_trace`].
pub(crate) struct BuildInfo<'a> {
    pub format: &'a str,
    pub file: String,
    pub session_id: String,
    pub token_semantics: &'a str,
}

struct Node {
    depth: usize,
    agent: Option<usize>,  // nearest Agent ancestor (excluding self)
    llm_anc: bool,         // has an Llm ancestor (→ mirror)
    ancestors: Vec<usize>, // nearest first, capped
}

/// Build one trace from the spans of one trace id.
pub(crate) fn build_trace(info: BuildInfo<'_>, spans: Vec<SpanRec>) -> Trace {
    let mut trace = Trace::new(info.session_id.clone(), info.format);
    trace.source.token_semantics = Some(info.token_semantics.to_string());
    let file = info.file.clone();
    let n = spans.len();
    let index: HashMap<&str, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let parent_of: Vec<Option<usize>> = spans
        .iter()
        .map(|s| {
            s.parent
                .as_deref()
                .filter(|p| !p.is_empty())
                .and_then(|p| index.get(p).copied())
        })
        .collect();
    let dangling = spans
        .iter()
        .zip(&parent_of)
        .filter(|(s, p)| p.is_none() && s.parent.as_deref().is_some_and(|x| !x.is_empty()))
        .count();
    if dangling > 0 {
        trace.warn(Warning::at(
            crate::model::WarningCode::MissingParent,
            format!("{dangling} span(s) name a parent that is not in the file; treated as roots"),
            &file,
            None,
        ));
    }
    let mut seen_ids = HashSet::new();
    for s in &spans {
        if !seen_ids.insert(s.id.as_str()) {
            trace.warn(Warning::at(
                crate::model::WarningCode::DuplicateSpanId,
                format!("span id {} appears more than once", s.id),
                &file,
                s.line,
            ));
        }
    }
    // ancestry (capped; cycles stop at the cap)
    let nodes: Vec<Node> = (0..n)
        .map(|i| {
            let mut ancestors = Vec::new();
            let mut cur = parent_of[i];
            while let Some(p) = cur {
                if ancestors.len() >= MAX_DEPTH || p == i || ancestors.contains(&p) {
                    break;
                }
                ancestors.push(p);
                cur = parent_of[p];
            }
            Node {
                depth: ancestors.len(),
                agent: ancestors
                    .iter()
                    .copied()
                    .find(|a| spans[*a].class == Class::Agent),
                llm_anc: ancestors.iter().any(|a| spans[*a].class == Class::Llm),
                ancestors,
            }
        })
        .collect();
    // mirrors: an LLM span inside another LLM span repeats the same request
    let mut skip = vec![false; n];
    for i in 0..n {
        if spans[i].class == Class::Llm && nodes[i].llm_anc {
            skip[i] = true;
            trace.warn(Warning::at(
                crate::model::WarningCode::MirroredLlmSpan,
                format!(
                    "LLM span {} ({}) is nested in another LLM span: a mirror of the same request; not counted",
                    spans[i].id, spans[i].name
                ),
                &file,
                spans[i].line,
            ));
        }
    }
    // which agents own LLM calls
    let mut owns_llm = vec![false; n];
    for i in 0..n {
        if spans[i].class == Class::Llm
            && !skip[i]
            && let Some(a) = nodes[i].agent
        {
            owns_llm[a] = true;
        }
    }
    // sub-agents and their spawn span (a tool span between the two agents, else itself)
    let mut spawn_span = vec![false; n]; // span i emits a SubagentSpawn step
    let mut subagent_of_spawn: HashMap<usize, usize> = HashMap::new();
    for i in 0..n {
        if spans[i].class != Class::Agent {
            continue;
        }
        let Some(outer) = nodes[i].agent else {
            continue;
        };
        if !owns_llm[outer] {
            continue;
        }
        let tool = nodes[i]
            .ancestors
            .iter()
            .copied()
            .take_while(|a| *a != outer)
            .find(|a| spans[*a].class == Class::Tool);
        let s = tool.unwrap_or(i);
        spawn_span[s] = true;
        subagent_of_spawn.insert(s, i);
    }
    // order
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| {
        let ka = (spans[*a].start_ns.unwrap_or(i128::MAX), nodes[*a].depth);
        let kb = (spans[*b].start_ns.unwrap_or(i128::MAX), nodes[*b].depth);
        ka.cmp(&kb).then_with(|| spans[*a].id.cmp(&spans[*b].id))
    });

    let mut step_of: HashMap<usize, StepId> = HashMap::new();
    let mut content_seen = false;
    // per agent key: input message count of the previous call, delivered tool ids,
    // steps delivered since the previous call
    let mut prev_len: HashMap<Option<usize>, usize> = HashMap::new();
    let mut delivered: HashMap<Option<usize>, HashSet<String>> = HashMap::new();
    let mut pending: HashMap<Option<usize>, Vec<StepId>> = HashMap::new();
    let mut last_llm: HashMap<Option<usize>, StepId> = HashMap::new();
    // last LLM call per sub-agent scope (spawn step), whatever the agent span
    let mut last_llm_scope: HashMap<Option<StepId>, StepId> = HashMap::new();
    let mut requested_by: HashMap<String, StepId> = HashMap::new();
    let mut by_call_id: HashMap<String, StepId> = HashMap::new();
    let mut final_step: Option<(StepId, String)> = None;
    let mut user_texts: HashSet<String> = HashSet::new();
    let mut total_cost: Option<f64> = None;

    for &i in &order {
        let s = &spans[i];
        if skip[i] {
            continue;
        }
        let is_spawn = spawn_span[i];
        if !(matches!(s.class, Class::Llm | Class::Tool) || is_spawn) {
            continue;
        }
        // agent key: the nearest agent above (for a self-spawning agent: its outer agent)
        let key = nodes[i].agent;
        let parent_step = nodes[i]
            .ancestors
            .iter()
            .find(|a| spawn_span[**a])
            .and_then(|a| step_of.get(a).copied());
        if nodes[i]
            .ancestors
            .iter()
            .any(|a| spawn_span[*a] && !step_of.contains_key(a))
        {
            trace.warn(Warning::at(
                crate::model::WarningCode::ChildBeforeParent,
                format!(
                    "span {} starts before its sub-agent spawn; not nested",
                    s.id
                ),
                &file,
                s.line,
            ));
        }
        let agent_label =
            key.map(|a| agent_name(&spans[a].attrs).unwrap_or_else(|| spans[a].name.clone()));
        let mut step = Step::new(StepKind::Other);
        step.parent = parent_step;
        step.agent = agent_label;
        step.started_at = s.start_ns.and_then(crate::import::json::from_unix_nanos);
        step.ended_at = s.end_ns.and_then(crate::import::json::from_unix_nanos);
        step.source_ref = Some(s.id.clone());
        if let Some(e) = &s.error {
            step.status = StepStatus::Error;
            step.error = Some(e.clone());
        }
        match s.class {
            Class::Llm => {
                step.kind = StepKind::LlmCall;
                step.model = s.model.clone().or_else(|| model(&s.attrs));
                step.provider = provider(&s.attrs);
                match s.usage.or_else(|| tokens(&s.attrs)) {
                    Some(t) => step.tokens = t,
                    None => trace.warn(Warning::at(
                        crate::model::WarningCode::NoUsage,
                        format!("LLM span {} ({}) carries no token counts", s.id, s.name),
                        &file,
                        s.line,
                    )),
                }
                let cost = s.cost.or_else(|| reported_cost(&s.attrs));
                if let Some(c) = cost {
                    step.reported_cost_usd = Usd::from_f64(c);
                    total_cost = Some(total_cost.unwrap_or(0.0) + c);
                }
                let mut content = llm_content(&s.attrs);
                if content.input.is_none()
                    && let Some(t) = &s.input
                {
                    let msgs = parse_messages(&Value::String(t.clone()));
                    if msgs.iter().any(|m| !m.parts.is_empty()) {
                        content.input = Some(msgs);
                    }
                }
                // new input since the previous call of this agent
                let mut user_steps = Vec::new();
                let mut result_ids = Vec::new();
                if let Some(inp) = &content.input {
                    content_seen = true;
                    let from = prev_len.get(&key).copied().unwrap_or(0);
                    let from = if from <= inp.len() { from } else { 0 };
                    let new = inp.get(from..).unwrap_or(&[]);
                    prev_len.insert(key, inp.len());
                    step.input = Some(Content::full(render(new)));
                    if parent_step.is_none() {
                        for m in new.iter().filter(|m| m.role == "user") {
                            let t = m.text();
                            if !t.is_empty() && user_texts.insert(t.clone()) {
                                user_steps.push(t);
                            }
                        }
                    }
                    result_ids = tool_result_ids(inp);
                } else if let Some(t) = &s.input {
                    content_seen = true;
                    step.input = Some(Content::full(t.clone()));
                }
                let mut answer = String::new();
                if let Some(out) = &content.output {
                    content_seen = true;
                    step.output = Some(Content::full(render(out)));
                    answer = out.iter().map(Msg::text).collect::<Vec<_>>().join("\n");
                    for (id, _, _) in tool_calls(out) {
                        if let Some(id) = id {
                            step.links.requests.push(id);
                        }
                    }
                } else if let Some(t) = &s.output {
                    content_seen = true;
                    let msgs = parse_messages(&Value::String(t.clone()));
                    if msgs.iter().any(|m| !m.parts.is_empty()) {
                        step.output = Some(Content::full(render(&msgs)));
                        answer = msgs.iter().map(Msg::text).collect::<Vec<_>>().join("\n");
                        for (id, _, _) in tool_calls(&msgs) {
                            step.links.requests.extend(id);
                        }
                    } else {
                        step.output = Some(Content::full(t.clone()));
                        answer = t.clone();
                    }
                }
                if step.links.requests.len() == 1 {
                    step.links.tool_call_id = step.links.requests.first().cloned();
                }
                // user inputs first
                let mut ctx = Vec::new();
                for t in user_steps {
                    let mut u = Step::new(StepKind::UserInput);
                    u.parent = parent_step;
                    u.started_at = step.started_at;
                    u.output = Some(Content::full(t));
                    u.source_ref = Some(s.id.clone());
                    ctx.push(trace.push(u));
                }
                // delivered tool results
                let pend = pending.remove(&key).unwrap_or_default();
                if content.input.is_some() && !result_ids.is_empty() {
                    let seen = delivered.entry(key).or_default();
                    for id in result_ids {
                        if seen.insert(id.clone())
                            && let Some(sid) = by_call_id.get(&id)
                        {
                            ctx.push(*sid);
                        }
                    }
                    // spawns / tools without ids delivered since the last call
                    for p in pend {
                        let has_id = trace
                            .step(p)
                            .and_then(|st| st.links.tool_call_id.as_ref())
                            .is_some_and(|id| by_call_id.contains_key(id));
                        if !has_id && !ctx.contains(&p) {
                            ctx.push(p);
                        }
                    }
                } else {
                    ctx.extend(pend);
                }
                step.links.context = ctx;
                let id = trace.push(step);
                if let Some(r) = trace.step(id) {
                    for rid in &r.links.requests {
                        requested_by.insert(rid.clone(), id);
                    }
                }
                last_llm.insert(key, id);
                last_llm_scope.insert(parent_step, id);
                if parent_step.is_none() && !answer.trim().is_empty() {
                    final_step = Some((id, answer));
                }
                step_of.insert(i, id);
            }
            _ => {
                let ti = tool_info(&s.attrs);
                step.kind = if is_spawn {
                    StepKind::SubagentSpawn
                } else {
                    StepKind::ToolUse
                };
                let name = if s.class == Class::Agent {
                    agent_name(&s.attrs).or_else(|| Some(s.name.clone()))
                } else {
                    ti.name.clone().or_else(|| Some(s.name.clone()))
                };
                step.tool = name.clone();
                step.links.tool_call_id = ti.call_id.clone();
                let args = if s.class == Class::Agent {
                    llm_content(&s.attrs).input.map(|m| render(&m))
                } else {
                    ti.args.clone()
                }
                .or_else(|| s.input.clone());
                let result = if s.class == Class::Agent {
                    llm_content(&s.attrs).output.map(|m| render(&m))
                } else {
                    ti.result.clone()
                }
                .or_else(|| s.output.clone());
                if let Some(a) = &args {
                    content_seen = true;
                    let (r, w) = file_links(name.as_deref().unwrap_or(""), a);
                    step.links.reads = r;
                    step.links.writes = w;
                    step.input = Some(Content::full(a.clone()));
                }
                if let Some(r) = &result {
                    content_seen = true;
                    step.output = Some(Content::full(r.clone()));
                }
                // consumes: the LLM call that requested it
                let issuer = ti
                    .call_id
                    .as_ref()
                    .and_then(|id| requested_by.get(id).copied())
                    .or_else(|| last_llm.get(&key).copied())
                    .or_else(|| last_llm_scope.get(&parent_step).copied());
                if let Some(c) = issuer {
                    step.links.consumes.push(c);
                }
                let id = trace.push(step);
                if let Some(cid) = ti.call_id {
                    by_call_id.entry(cid).or_insert(id);
                }
                pending.entry(key).or_default().push(id);
                step_of.insert(i, id);
            }
        }
    }
    // spawn consumes: the sub-agent's last LLM call
    let spawn_ids: Vec<StepId> = trace
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::SubagentSpawn)
        .map(|s| s.id)
        .collect();
    for sp in spawn_ids {
        let last = trace
            .steps
            .iter()
            .filter(|s| s.parent == Some(sp) && s.kind == StepKind::LlmCall)
            .map(|s| s.id)
            .next_back();
        if let Some(l) = last
            && let Some(st) = trace.step_mut(sp)
        {
            st.links.consumes = vec![l];
        }
    }
    if let Some((id, text)) = final_step {
        trace.outcome.final_step = Some(id);
        trace.outcome.answer = Some(Content::full(text));
    }
    trace.source.content = if content_seen {
        ContentCapture::Full
    } else {
        ContentCapture::None
    };
    trace.reported_cost_usd = total_cost.and_then(Usd::from_f64);
    trace.started_at = spans
        .iter()
        .filter_map(|s| s.start_ns)
        .min()
        .and_then(crate::import::json::from_unix_nanos);
    // outcome: a failed root span is a failed session
    let roots: Vec<usize> = (0..n).filter(|i| parent_of[*i].is_none()).collect();
    if let Some(r) = roots.iter().find(|r| spans[**r].error.is_some()) {
        trace.outcome.status = OutcomeStatus::Failure;
        trace.outcome.reason = spans[*r].error.clone();
    }
    if let Some(r) = roots.first() {
        trace
            .metadata
            .insert("root_span".into(), spans[*r].name.clone());
    }
    trace
}

/// The session id for a group of spans: the first `session.id` /
/// `gen_ai.conversation.id` in start order, else `fallback`.
pub(crate) fn session_of(spans: &[SpanRec], fallback: &str) -> String {
    let mut v: Vec<&SpanRec> = spans.iter().collect();
    v.sort_by_key(|s| s.start_ns.unwrap_or(i128::MAX));
    v.iter()
        .find_map(|s| session_id(&s.attrs))
        .unwrap_or_else(|| fallback.to_string())
}
