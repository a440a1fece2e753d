//! OpenClaw (pi agent) session JSONL: `~/.openclaw/agents/<agent>/sessions/<id>.jsonl`.
//! See `docs/formats/openclaw.md`.
//!
//! Lines `{type, id, parentId, timestamp, …}`: `session` (header), `message`
//! (`message.role` = `user` | `assistant` | `toolResult`), `model_change`,
//! `thinking_level_change`, `compaction`, `custom`, …

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::Input;
use super::json::{At, text_of};
use crate::Result;
use crate::model::{
    Content, OutcomeStatus, Step, StepId, StepKind, StepStatus, TokenUsage, Trace, Warning,
};

/// Tool names that spawn a sub-agent.
const SPAWN_TOOLS: &[&str] = &["task", "agent", "subagent", "spawn_agent", "sessions_spawn"];

/// First line is a `session` header (no Codex-style `payload`).
pub(crate) fn sniff(_path: &Path, head: &str) -> bool {
    let first = head.trim_start().lines().next().unwrap_or("");
    first.starts_with('{')
        && (first.contains("\"type\":\"session\"") || first.contains("\"type\": \"session\""))
        && !first.contains("\"payload\"")
}

/// Text of `content` (a string or blocks with `text`).
fn blocks_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|b| match b.get("type").and_then(Value::as_str) {
                Some("text") => b.get("text").and_then(Value::as_str).map(str::to_string),
                Some("image") => Some("[image]".into()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn file_links(name: &str, args: &Value) -> (Vec<String>, Vec<String>) {
    let p = args
        .get("path")
        .or_else(|| args.get("file_path"))
        .and_then(Value::as_str)
        .map(str::to_string);
    match (name, p) {
        ("read" | "read_file", Some(p)) => (vec![p], vec![]),
        ("write" | "write_file", Some(p)) => (vec![], vec![p]),
        ("edit" | "multi_edit", Some(p)) => (vec![p.clone()], vec![p]),
        ("bash" | "exec" | "shell", _) => (
            args.get("command")
                .and_then(Value::as_str)
                .and_then(super::chat_log::trivial_cat)
                .into_iter()
                .collect(),
            vec![],
        ),
        _ => (vec![], vec![]),
    }
}

/// Import one session file.
pub(crate) fn import(input: &Input) -> Result<Vec<Trace>> {
    let path = input.path.as_path();
    let file = path.display().to_string();
    let mut parsed = super::jsonl(path, input.text()?)?;
    let mut trace = Trace::new(input.stem(), "openclaw");
    trace.warnings.extend(parsed.warnings);
    // an entry re-written with other bytes but the same id is one entry
    trace.warnings.extend(super::dedup_by_id(
        path,
        &mut parsed.lines,
        "id",
        |v| v.get("id").and_then(Value::as_str),
        |a, b| a == b,
    ));
    trace.source.token_semantics = Some(
        "pi-ai usage: input excludes cacheRead and cacheWrite (Anthropic-style, disjoint buckets); output includes thinking; cost.total in USD computed by the harness".into(),
    );
    let mut provider: Option<String> = None;
    let mut model: Option<String> = None;
    let mut by_call: HashMap<String, StepId> = HashMap::new();
    let mut delivered: Vec<StepId> = Vec::new();
    let mut last_text: Option<StepId> = None;
    let mut last_answer = String::new();
    let mut last_stop: Option<String> = None;
    for (line, v) in &parsed.lines {
        let line = *line;
        let at = At::new(path, Some(line));
        if !v.is_object() {
            return Err(at.err("", "expected a JSON object per line"));
        }
        let ty = at.str(v, "type")?.unwrap_or("");
        let ts = at.time(v, "timestamp")?;
        let sref = at
            .str(v, "id")?
            .map(str::to_string)
            .unwrap_or_else(|| format!("line {line}"));
        match ty {
            "session" => {
                if let Some(id) = at.str(v, "id")? {
                    trace.session_id = id.to_string();
                }
                trace.started_at = ts;
                if let Some(c) = at.str(v, "cwd")? {
                    trace.metadata.insert("cwd".into(), c.into());
                }
                if let Some(ver) = v.get("version") {
                    trace
                        .metadata
                        .insert("session_version".into(), text_of(ver));
                }
            }
            "model_change" => {
                provider = at.str(v, "provider")?.map(str::to_string);
                model = at.str(v, "modelId")?.map(str::to_string);
            }
            "thinking_level_change" | "custom" | "label" | "session_info" | "branch_summary" => {}
            "compaction" => {
                let mut s = Step::new(StepKind::Compaction);
                s.started_at = ts;
                s.output = at.str(v, "summary")?.map(Content::full);
                s.source_ref = Some(sref);
                trace.push(s);
            }
            "message" => {
                let Some(m) = v.get("message").filter(|m| m.is_object()) else {
                    return Err(at.err("message", "expected an object"));
                };
                let role = at
                    .str(m, "role")
                    .map_err(|_| at.err("message.role", "expected a string"))?
                    .unwrap_or("");
                match role {
                    "user" => {
                        let mut s = Step::new(StepKind::UserInput);
                        s.started_at = ts;
                        s.output = Some(Content::full(blocks_text(m.get("content"))));
                        s.source_ref = Some(sref);
                        delivered.push(trace.push(s));
                    }
                    "assistant" => {
                        let mut s = Step::new(StepKind::LlmCall);
                        s.ended_at = ts;
                        s.source_ref = Some(sref.clone());
                        s.model = at
                            .str(m, "model")?
                            .map(str::to_string)
                            .or_else(|| model.clone());
                        s.provider = at
                            .str(m, "provider")?
                            .map(str::to_string)
                            .or_else(|| provider.clone());
                        if let Some(u) = m.get("usage").filter(|u| u.is_object()) {
                            let g = |k: &str| -> Result<u64> {
                                at.tokens(u, k)
                                    .map_err(|_| {
                                        at.err(
                                            &format!("message.usage.{k}"),
                                            "expected a non-negative integer",
                                        )
                                    })
                                    .map(|x| x.unwrap_or(0))
                            };
                            s.tokens = TokenUsage::from_exclusive(
                                g("input")?,
                                g("cacheRead")?,
                                g("cacheWrite")?,
                                g("cacheWrite1h")?,
                                g("output")?,
                            );
                            s.tokens.reasoning = g("reasoning")?;
                            if let Some(c) = u.get("cost").filter(|c| c.is_object()) {
                                s.reported_cost_usd = at
                                    .f64(c, "total")
                                    .map_err(|_| {
                                        at.err("message.usage.cost.total", "expected a number")
                                    })?
                                    .map(|c| at.usd("message.usage.cost.total", c))
                                    .transpose()?;
                            }
                        }
                        let blocks = match m.get("content") {
                            Some(Value::Array(a)) => a.as_slice(),
                            _ => &[],
                        };
                        let mut out = Vec::new();
                        let mut calls = Vec::new();
                        let mut texts: Vec<String> = Vec::new();
                        if let Some(Value::String(t)) = m.get("content") {
                            out.push(t.clone());
                            texts.push(t.clone());
                        }
                        for (j, b) in blocks.iter().enumerate() {
                            match b.get("type").and_then(Value::as_str).unwrap_or("") {
                                "text" => {
                                    let t = b.get("text").map(text_of).unwrap_or_default();
                                    texts.push(t.clone());
                                    out.push(t);
                                }
                                "thinking" => {
                                    if let Some(t) = b.get("thinking").and_then(Value::as_str) {
                                        out.push(format!("[thinking] {t}"));
                                    }
                                }
                                "toolCall" => {
                                    let name =
                                        b.get("name").and_then(Value::as_str).unwrap_or("tool");
                                    let args = b.get("arguments").cloned().unwrap_or(Value::Null);
                                    let args_text = text_of(&args);
                                    out.push(format!("{name}({args_text})"));
                                    let kind = if SPAWN_TOOLS.contains(&name) {
                                        StepKind::SubagentSpawn
                                    } else {
                                        StepKind::ToolUse
                                    };
                                    let mut t = Step::new(kind);
                                    t.tool = Some(name.to_string());
                                    t.started_at = ts;
                                    let (r, w) = file_links(name, &args);
                                    t.links.reads = r;
                                    t.links.writes = w;
                                    t.input = Some(Content::full(args_text));
                                    match b.get("id").and_then(Value::as_str) {
                                        Some(id) => {
                                            s.links.requests.push(id.to_string());
                                            t.links.tool_call_id = Some(id.to_string());
                                            t.source_ref = Some(id.to_string());
                                        }
                                        None => t.source_ref = Some(format!("{sref}.content[{j}]")),
                                    }
                                    t.status = StepStatus::Error;
                                    t.error = Some("no toolResult recorded".into());
                                    calls.push(t);
                                }
                                other => trace.warn(Warning::at(
                                    crate::model::WarningCode::UnknownRecord,
                                    format!("assistant content block `{other}` skipped"),
                                    file.clone(),
                                    Some(line),
                                )),
                            }
                        }
                        if calls.len() == 1 {
                            s.links.tool_call_id = calls[0].links.tool_call_id.clone();
                        }
                        s.output = Some(Content::full(out.join("\n")));
                        let stop = at.str(m, "stopReason")?.map(str::to_string);
                        if matches!(stop.as_deref(), Some("error" | "aborted")) {
                            s.status = StepStatus::Error;
                            s.error = Some(
                                at.str(m, "errorMessage")?
                                    .map(str::to_string)
                                    .unwrap_or_else(|| {
                                        format!("stopReason {}", stop.as_deref().unwrap_or(""))
                                    }),
                            );
                        }
                        last_stop = stop;
                        s.links.context = std::mem::take(&mut delivered);
                        let id = trace.push(s);
                        let answer = texts.join("\n");
                        if !answer.trim().is_empty() {
                            last_text = Some(id);
                            last_answer = answer;
                        }
                        for mut t in calls {
                            t.links.consumes.push(id);
                            let cid = t.links.tool_call_id.clone();
                            let tid = trace.push(t);
                            if let Some(c) = cid {
                                by_call.insert(c, tid);
                            }
                        }
                    }
                    "toolResult" => {
                        let cid = at
                            .str(m, "toolCallId")
                            .map_err(|_| at.err("message.toolCallId", "expected a string"))?;
                        let Some(tid) = cid.and_then(|c| by_call.get(c)).copied() else {
                            trace.warn(Warning::at(
                                crate::model::WarningCode::OrphanToolOutput,
                                format!("toolResult for unknown call {}", cid.unwrap_or("?")),
                                file.clone(),
                                Some(line),
                            ));
                            continue;
                        };
                        let is_error = at
                            .bool(m, "isError")
                            .map_err(|_| at.err("message.isError", "expected a boolean"))?
                            .unwrap_or(false);
                        let text = blocks_text(m.get("content"));
                        if let Some(s) = trace.step_mut(tid) {
                            s.output = Some(Content::full(text.clone()));
                            s.ended_at = ts;
                            s.status = if is_error {
                                StepStatus::Error
                            } else {
                                StepStatus::Ok
                            };
                            s.error = is_error.then(|| text.chars().take(200).collect());
                        }
                        delivered.push(tid);
                    }
                    other => trace.warn(Warning::at(
                        crate::model::WarningCode::UnknownRecord,
                        format!("message role `{other}` skipped"),
                        file.clone(),
                        Some(line),
                    )),
                }
            }
            other => trace.warn(Warning::at(
                crate::model::WarningCode::UnknownRecord,
                format!("unknown record type `{other}`; skipped"),
                file.clone(),
                Some(line),
            )),
        }
    }
    trace.outcome.status = OutcomeStatus::Unknown;
    trace.outcome.final_step = last_text;
    trace.outcome.answer = last_text.map(|_| Content::full(last_answer));
    trace.outcome.reason = last_stop.map(|s| format!("stopReason {s}"));
    Ok(vec![trace])
}
