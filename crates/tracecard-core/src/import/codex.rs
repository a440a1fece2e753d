//! OpenAI Codex CLI / Codex Desktop rollout JSONL
//! (`~/.codex/sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl`). See
//! `docs/formats/codex.md`.
//!
//! One `llm_call` per model request: a `turn_context` opens a request, the
//! `response_item`s that follow are its response, and the first `token_count` whose
//! `total_token_usage` differs from the previous one closes it with its
//! `last_token_usage` (the second `token_count` of each request repeats the totals and
//! is skipped). Tool calls (`function_call`, `custom_tool_call`, `web_search_call`)
//! become tool steps linked to their outputs by `call_id`.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::Input;
use super::json::{At, text_of};
use crate::Result;
use crate::model::{
    Content, ContentCapture, OutcomeStatus, Step, StepId, StepKind, StepStatus, TokenUsage, Trace,
    Warning,
};

/// Codex rollouts start with a `session_meta` line (or, for older files, carry
/// `turn_context` / `response_item` lines with a `payload`).
pub(crate) fn sniff(_path: &Path, head: &str) -> bool {
    let first = head.trim_start().lines().next().unwrap_or("");
    if !first.starts_with('{') {
        return false;
    }
    let has_type = |t: &str| {
        first.contains(&format!("\"type\":\"{t}\""))
            || first.contains(&format!("\"type\": \"{t}\""))
    };
    first.contains("\"payload\"")
        && (has_type("session_meta") || has_type("turn_context") || has_type("response_item"))
}

/// The text of a `message` response item's `content[]` parts.
fn message_text(at: &At, p: &Value) -> Result<String> {
    let mut out = Vec::new();
    for part in at.arr(p, "content")? {
        if let Some(t) = at.str(part, "text")? {
            out.push(t.to_string());
        }
    }
    Ok(out.join("\n"))
}

/// File paths named in an `apply_patch` body (`*** Add/Update/Delete File: path`,
/// `*** Move to: path`). Returns `(reads, writes)`.
pub(crate) fn apply_patch_paths(patch: &str) -> (Vec<String>, Vec<String>) {
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    for line in patch.lines() {
        let l = line.trim_end();
        for (prefix, read) in [
            ("*** Update File: ", true),
            ("*** Delete File: ", true),
            ("*** Add File: ", false),
            ("*** Move to: ", false),
        ] {
            if let Some(p) = l.strip_prefix(prefix) {
                let p = p.trim().to_string();
                if p.is_empty() {
                    continue;
                }
                if read && !reads.contains(&p) {
                    reads.push(p.clone());
                }
                if !writes.contains(&p) {
                    writes.push(p);
                }
            }
        }
    }
    (reads, writes)
}

/// A model request being assembled.
#[derive(Default)]
struct Request {
    line: u64,
    turn_id: Option<String>,
    model: Option<String>,
    started_at: Option<jiff::Timestamp>,
    texts: Vec<String>,
    reasoning: usize,
    /// Tool calls issued in this request (not yet pushed as steps).
    calls: Vec<Step>,
    context: Vec<StepId>,
    /// True once anything was seen for this request.
    active: bool,
}

struct State<'a> {
    path: &'a Path,
    file: String,
    trace: Trace,
    model: Option<String>,
    provider: Option<String>,
    req: Request,
    /// Steps whose output reached the model since the last request started.
    delivered: Vec<StepId>,
    /// call_id → tool step.
    by_call: HashMap<String, StepId>,
    last_total: Option<Value>,
    last_compaction_line: Option<u64>,
}

impl State<'_> {
    /// Close the current request as an llm_call with `usage` (or none) and push its
    /// tool calls after it.
    fn flush(
        &mut self,
        usage: Option<TokenUsage>,
        ended: Option<jiff::Timestamp>,
        line: u64,
    ) -> StepId {
        let req = std::mem::take(&mut self.req);
        let mut s = Step::new(StepKind::LlmCall);
        s.model = req.model.clone().or_else(|| self.model.clone());
        s.provider = self.provider.clone();
        s.started_at = req.started_at;
        s.ended_at = ended;
        s.source_ref = Some(match &req.turn_id {
            Some(t) => format!("turn {t} line {}", req.line.max(line)),
            None => format!("line {line}"),
        });
        let mut out = req.texts.clone();
        for c in &req.calls {
            let args = c
                .input
                .as_ref()
                .and_then(|i| i.text.clone())
                .unwrap_or_default();
            out.push(format!("{}({args})", c.tool.as_deref().unwrap_or("tool")));
            if let Some(id) = &c.links.tool_call_id {
                s.links.requests.push(id.clone());
            }
        }
        if req.calls.len() == 1 {
            s.links.tool_call_id = req.calls[0].links.tool_call_id.clone();
        }
        s.output = Some(Content::full(out.join("\n")));
        if req.reasoning > 0 {
            s.attributes
                .insert("reasoning_items".into(), req.reasoning.to_string());
        }
        s.links.context = req.context;
        match usage {
            Some(u) => s.tokens = u,
            None => {
                s.status = StepStatus::Error;
                s.error = Some("no token_count recorded for this request (interrupted?)".into());
                self.trace.warn(Warning::at(
                    crate::model::WarningCode::NoUsage,
                    "model request without a token_count: usage unknown",
                    self.file.clone(),
                    Some(req.line.max(1)),
                ));
            }
        }
        let id = self.trace.push(s);
        for mut c in req.calls {
            c.links.consumes.push(id);
            let call_id = c.links.tool_call_id.clone();
            let tid = self.trace.push(c);
            if let Some(cid) = call_id {
                self.by_call.insert(cid, tid);
            }
        }
        id
    }

    fn open_request(&mut self, line: u64, ts: Option<jiff::Timestamp>, turn: Option<String>) {
        let model = self.model.clone();
        self.req = Request {
            line,
            turn_id: turn,
            model,
            started_at: ts,
            context: std::mem::take(&mut self.delivered),
            active: true,
            ..Request::default()
        };
    }
}

/// Import one rollout file.
pub(crate) fn import(input: &Input) -> Result<Vec<Trace>> {
    let path = input.path.as_path();
    let file = path.display().to_string();
    let parsed = super::jsonl(path, input.text()?)?;
    let mut st = State {
        path,
        file: file.clone(),
        trace: Trace::new(input.stem(), "codex"),
        model: None,
        provider: None,
        req: Request::default(),
        delivered: Vec::new(),
        by_call: HashMap::new(),
        last_total: None,
        last_compaction_line: None,
    };
    st.trace.warnings.extend(parsed.warnings);
    st.trace.source.token_semantics = Some(
        "OpenAI Responses: input_tokens includes cached_input_tokens; output_tokens includes reasoning_output_tokens; per request = last_token_usage of a token_count whose total changed".into(),
    );
    let mut last_task: Option<(u64, String, Option<String>)> = None;
    let mut tasks_started = 0u64;
    let mut tasks_completed = 0u64;
    let mut redacted = false;
    for (line, v) in &parsed.lines {
        let line = *line;
        let at = At::new(st.path, Some(line));
        if !v.is_object() {
            return Err(at.err("", "expected a JSON object per line"));
        }
        let ts = at.time(v, "timestamp")?;
        let ty = at.str(v, "type")?.unwrap_or("");
        let empty = Value::Null;
        let p = v.get("payload").unwrap_or(&empty);
        let pty = at.str(p, "type").ok().flatten().unwrap_or("");
        if !redacted && v.to_string().contains("[REDACTED_") {
            redacted = true;
        }
        match (ty, pty) {
            ("session_meta", _) => {
                if let Some(id) = at.str(p, "id")? {
                    st.trace.session_id = id.to_string();
                }
                st.trace.started_at = at.time(p, "timestamp")?.or(ts);
                for k in [
                    "cwd",
                    "originator",
                    "cli_version",
                    "source",
                    "model_provider",
                ] {
                    if let Some(s) = p.get(k).and_then(Value::as_str) {
                        st.trace.metadata.insert(k.into(), s.into());
                    }
                }
                st.provider = at.str(p, "model_provider")?.map(str::to_string);
            }
            ("turn_context", _) => {
                if st.req.active && (!st.req.texts.is_empty() || !st.req.calls.is_empty()) {
                    // The previous request never got a token_count.
                    st.flush(None, ts, line);
                }
                if let Some(m) = at.str(p, "model")? {
                    st.model = Some(m.to_string());
                }
                let turn = at.str(p, "turn_id")?.map(str::to_string);
                if st.req.active {
                    // A request with nothing in it yet: keep its delivered context.
                    let ctx = std::mem::take(&mut st.req.context);
                    st.delivered.splice(0..0, ctx);
                }
                st.open_request(line, ts, turn);
            }
            ("response_item", "message") => {
                let role = at.str(p, "role")?.unwrap_or("");
                if role == "assistant" {
                    if !st.req.active {
                        st.open_request(line, ts, None);
                    }
                    st.req.texts.push(message_text(&at, p)?);
                }
                // user/developer items are prompt context; user prompts come from
                // event_msg user_message (the response_item copy would duplicate them).
            }
            ("response_item", "reasoning") => {
                if !st.req.active {
                    st.open_request(line, ts, None);
                }
                st.req.reasoning += 1;
            }
            ("response_item", "function_call" | "custom_tool_call" | "web_search_call") => {
                if !st.req.active {
                    st.open_request(line, ts, None);
                }
                let mut s = Step::new(StepKind::ToolUse);
                s.started_at = ts;
                let name = at.str(p, "name")?.unwrap_or(match pty {
                    "web_search_call" => "web_search",
                    _ => "tool",
                });
                s.tool = Some(name.to_string());
                let args = match pty {
                    "function_call" => at.str(p, "arguments")?.unwrap_or("").to_string(),
                    "custom_tool_call" => at.str(p, "input")?.unwrap_or("").to_string(),
                    _ => p.get("action").map(text_of).unwrap_or_default(),
                };
                let (r, w) = if name == "apply_patch" {
                    apply_patch_paths(&args)
                } else {
                    match serde_json::from_str::<Value>(&args) {
                        Ok(a) if a.is_object() => super::chat_log::tool_links(name, &a),
                        _ => (vec![], vec![]),
                    }
                };
                s.links.reads = r;
                s.links.writes = w;
                s.input = Some(Content::full(args));
                match at.str(p, "call_id")? {
                    Some(id) => {
                        s.links.tool_call_id = Some(id.to_string());
                        s.source_ref = Some(id.to_string());
                    }
                    None => s.source_ref = Some(format!("line {line}")),
                }
                if pty == "web_search_call" {
                    // Executed by the provider inside the request: no output record.
                    let status = at.str(p, "status")?.unwrap_or("unknown");
                    s.output = Some(Content::full(format!("web_search_call status={status}")));
                    s.ended_at = ts;
                    s.attributes
                        .insert(crate::model::attr::SERVER_SIDE.into(), "true".into());
                } else {
                    s.status = StepStatus::Error;
                    s.error = Some("no output recorded for this call (interrupted?)".into());
                }
                if let Some(status) = at.str(p, "status")?
                    && status != "completed"
                {
                    s.status = StepStatus::Error;
                    s.error = Some(format!("status {status}"));
                }
                st.req.calls.push(s);
            }
            ("response_item", "function_call_output" | "custom_tool_call_output") => {
                let call_id = at.req_str(p, "call_id")?;
                let out = p.get("output").map(text_of).unwrap_or_default();
                // The output may arrive before the request's token_count: look in the
                // pending calls too.
                if let Some(c) = st
                    .req
                    .calls
                    .iter_mut()
                    .find(|c| c.links.tool_call_id.as_deref() == Some(call_id))
                {
                    set_output(c, out, ts);
                    // delivered once the step exists; remembered via a marker below
                    c.attributes
                        .insert(crate::model::attr::OUTPUT_LINE.into(), line.to_string());
                } else if let Some(id) = st.by_call.get(call_id).copied() {
                    if let Some(s) = st.trace.step_mut(id) {
                        set_output(s, out, ts);
                    }
                    st.delivered.push(id);
                } else {
                    st.trace.warn(Warning::at(
                        crate::model::WarningCode::OrphanToolOutput,
                        format!("output for unknown call_id {call_id}"),
                        file.clone(),
                        Some(line),
                    ));
                }
            }
            ("event_msg", "token_count") => {
                let Some(info) = at.obj(p, "info")? else {
                    continue;
                };
                let info = Value::Object(info.clone());
                let total = info.get("total_token_usage").cloned();
                if total.is_some() && total == st.last_total {
                    continue; // the duplicate token_count of a request
                }
                st.last_total = total;
                let last = info
                    .get("last_token_usage")
                    .ok_or_else(|| at.err("payload.info.last_token_usage", "missing"))?;
                let g = |f: &str| -> Result<u64> {
                    Ok(at
                        .tokens(last, f)
                        .map_err(|_| {
                            at.err(
                                &format!("payload.info.last_token_usage.{f}"),
                                "expected a non-negative integer",
                            )
                        })?
                        .unwrap_or(0))
                };
                let usage = TokenUsage::from_inclusive(
                    g("input_tokens")?,
                    g("cached_input_tokens")?,
                    0,
                    g("output_tokens")?,
                    g("reasoning_output_tokens")?,
                );
                if !st.req.active {
                    st.trace.warn(Warning::at(
                        crate::model::WarningCode::UsageWithoutRequest,
                        "token_count with new totals but no response items before it",
                        file.clone(),
                        Some(line),
                    ));
                    st.open_request(line, ts, None);
                }
                let pending_outputs: Vec<String> = st
                    .req
                    .calls
                    .iter()
                    .filter(|c| c.attributes.contains_key("output_line"))
                    .filter_map(|c| c.links.tool_call_id.clone())
                    .collect();
                st.flush(Some(usage), ts, line);
                for cid in pending_outputs {
                    if let Some(id) = st.by_call.get(&cid).copied() {
                        if let Some(s) = st.trace.step_mut(id) {
                            s.attributes.remove("output_line");
                        }
                        st.delivered.push(id);
                    }
                }
            }
            ("event_msg", "user_message") => {
                let mut s = Step::new(StepKind::UserInput);
                s.started_at = ts;
                s.output = Some(Content::full(at.str(p, "message")?.unwrap_or("")));
                s.source_ref = Some(format!("line {line}"));
                let id = st.trace.push(s);
                st.delivered.push(id);
            }
            ("compacted", _) | ("event_msg", "context_compacted") => {
                // One compaction is written twice (`compacted` + `context_compacted`).
                if st.last_compaction_line.is_some_and(|l| {
                    st.trace
                        .steps
                        .last()
                        .is_some_and(|s| s.kind == StepKind::Compaction)
                        && l + 3 >= line
                }) {
                    continue;
                }
                let mut s = Step::new(StepKind::Compaction);
                s.started_at = ts;
                if let Some(m) = at.str(p, "message")? {
                    s.output = Some(Content::full(m));
                }
                s.source_ref = Some(format!("line {line}"));
                st.trace.push(s);
                st.last_compaction_line = Some(line);
            }
            ("event_msg", "task_started") => tasks_started += 1,
            ("event_msg", "task_complete") => {
                tasks_completed += 1;
                let msg = at.str(p, "last_agent_message")?.map(str::to_string);
                last_task = Some((line, at.str(p, "turn_id")?.unwrap_or("").to_string(), msg));
            }
            (
                "event_msg",
                "agent_message"
                | "agent_reasoning"
                | "turn_aborted"
                | "entered_review_mode"
                | "exited_review_mode",
            ) => {} // mirrors of response items / UI events
            ("response_item", _) | ("event_msg", _) => {
                st.trace.warn(Warning::at(
                    crate::model::WarningCode::UnknownRecord,
                    format!("unknown {ty} payload type `{pty}`; skipped"),
                    file.clone(),
                    Some(line),
                ));
            }
            _ => st.trace.warn(Warning::at(
                crate::model::WarningCode::UnknownRecord,
                format!("unknown record type `{ty}`; skipped"),
                file.clone(),
                Some(line),
            )),
        }
    }
    if st.req.active && (!st.req.texts.is_empty() || !st.req.calls.is_empty()) {
        let line = parsed.lines.last().map(|(l, _)| *l).unwrap_or(1);
        st.flush(None, None, line);
    }
    let mut trace = st.trace;
    trace.source.content = if redacted {
        ContentCapture::Hashed
    } else {
        ContentCapture::Full
    };
    trace
        .metadata
        .insert("tasks_started".into(), tasks_started.to_string());
    trace
        .metadata
        .insert("tasks_completed".into(), tasks_completed.to_string());
    let last_llm = trace
        .steps
        .iter()
        .rev()
        .find(|s| s.kind == StepKind::LlmCall)
        .map(|s| s.id);
    match last_task {
        Some((_, turn, msg)) => {
            trace.outcome.status = OutcomeStatus::Unknown;
            trace.outcome.reason = Some(format!(
                "task_complete (turn {turn}; {tasks_completed} of {tasks_started} tasks completed)"
            ));
            trace.outcome.answer = msg.map(Content::full);
            trace.outcome.final_step = last_llm;
        }
        None => {
            trace.outcome.reason = Some("no task_complete: the session was interrupted".into());
        }
    }
    Ok(vec![trace])
}

/// Exit code of a tool output: the JSON form `{"output", "metadata": {"exit_code"}}`
/// of older Codex versions, or an `Exit code: N` / `Process exited with code N` line.
fn exit_code(out: &str) -> Option<i64> {
    if out.trim_start().starts_with('{')
        && let Ok(v) = serde_json::from_str::<Value>(out)
    {
        return v
            .get("metadata")
            .and_then(|m| m.get("exit_code"))
            .and_then(Value::as_i64);
    }
    out.lines().take(5).find_map(|l| {
        let l = l.trim();
        l.strip_prefix("Exit code:")
            .or_else(|| l.strip_prefix("Process exited with code"))
            .and_then(|n| n.trim().parse().ok())
    })
}

fn set_output(s: &mut Step, out: String, ts: Option<jiff::Timestamp>) {
    let code = exit_code(&out);
    s.output = Some(Content::full(out));
    s.ended_at = ts;
    s.status = StepStatus::Ok;
    s.error = None;
    if let Some(c) = code {
        s.attributes
            .insert(crate::model::attr::EXIT_CODE.into(), c.to_string());
        if c != 0 {
            s.status = StepStatus::Error;
            s.error = Some(format!("exit code {c}"));
        }
    }
}
