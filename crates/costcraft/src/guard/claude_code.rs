//! The guard's state from a Claude Code transcript so far.
//!
//! `transcript_path` is the main session's JSONL; a sub-agent's own records are in
//! `<session>/subagents/agent-<agent_id>.jsonl` beside it (older versions: inline
//! `isSidechain: true` records carrying `agentId`). Each file, or each inline
//! `agentId`, is its own agent context. When the hook runs the assistant message
//! carrying the pending call is usually not written yet; if it is, the pending
//! call (and any call without a result) is ignored: only finished calls count.
//!
//! Events, in timestamp order over all files: a user prompt (a turn), a
//! `compact_boundary` (a compaction), and a tool result (a call of the tool its
//! `tool_use_id` names, in the context that made it; `is_error` = failed). A call
//! refused by a hook, a permission rule or the user did not run and is skipped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{MAIN, SessionState};
use crate::signature::ToolClasses;

/// A transcript that could not be read: the hook fails open on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptError(pub String);

impl std::fmt::Display for TranscriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TranscriptError {}

enum Ev {
    Turn,
    Compaction,
    Result { id: String, ok: bool },
}

struct Event {
    ts: String,
    file: usize,
    line: usize,
    ctx: String,
    ev: Ev,
}

/// The sub-agent files beside `transcript`: `<dir>/<stem>/subagents/agent-*.jsonl`
/// (sorted), with the agent id of each.
pub fn subagent_files(transcript: &Path) -> Vec<(String, PathBuf)> {
    let dir = transcript.with_extension("").join("subagents");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let id = name.strip_prefix("agent-")?.strip_suffix(".jsonl")?;
            Some((id.to_string(), p.clone()))
        })
        .collect();
    out.sort();
    out
}

/// The state of every agent context of the session whose main transcript is
/// `transcript`, from the records written so far. `pending`: the `tool_use_id` of
/// the call being decided (never counted).
pub fn session_state(
    transcript: &Path,
    pending: Option<&str>,
    classes: &ToolClasses,
) -> Result<SessionState, TranscriptError> {
    let mut files: Vec<(Option<String>, PathBuf)> = vec![(None, transcript.to_path_buf())];
    files.extend(
        subagent_files(transcript)
            .into_iter()
            .map(|(id, p)| (Some(id), p)),
    );
    let mut calls: HashMap<String, (String, String, Value)> = HashMap::new();
    let mut events: Vec<Event> = Vec::new();
    let mut state = SessionState::new();
    for (fi, (agent, path)) in files.iter().enumerate() {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            // the main file must be readable; a sub-agent file may vanish or be
            // half-written: its context stays unknown (the guard abstains there)
            Err(e) if fi == 0 => {
                return Err(TranscriptError(format!(
                    "transcript {}: {e}",
                    path.display()
                )));
            }
            Err(_) => continue,
        };
        let lines: Vec<&str> = text.lines().collect();
        let mut last_ts = String::new();
        for (li, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = match serde_json::from_str(line) {
                Ok(v) => v,
                // the last line may be mid-write
                Err(_) if li + 1 == lines.len() => continue,
                Err(e) if fi == 0 => {
                    return Err(TranscriptError(format!(
                        "transcript {}:{}: not JSON: {e}",
                        path.display(),
                        li + 1
                    )));
                }
                Err(_) => continue,
            };
            let Some(obj) = v.as_object() else { continue };
            let ctx = match agent {
                Some(id) => id.clone(),
                None if obj.get("isSidechain").and_then(Value::as_bool) == Some(true) => obj
                    .get("agentId")
                    .and_then(Value::as_str)
                    .unwrap_or("sidechain")
                    .to_string(),
                None => MAIN.to_string(),
            };
            state.start(&ctx);
            if let Some(ts) = obj.get("timestamp").and_then(Value::as_str) {
                last_ts = ts.to_string();
            }
            let mut push = |ev: Ev| {
                events.push(Event {
                    ts: last_ts.clone(),
                    file: fi,
                    line: li,
                    ctx: ctx.clone(),
                    ev,
                })
            };
            let ty = obj.get("type").and_then(Value::as_str).unwrap_or("");
            match ty {
                "system"
                    if obj.get("subtype").and_then(Value::as_str) == Some("compact_boundary") =>
                {
                    push(Ev::Compaction);
                }
                "assistant" => {
                    for b in blocks(&v) {
                        if b.get("type").and_then(Value::as_str) != Some("tool_use") {
                            continue;
                        }
                        let (Some(id), Some(name)) = (
                            b.get("id").and_then(Value::as_str),
                            b.get("name").and_then(Value::as_str),
                        ) else {
                            continue;
                        };
                        if Some(id) == pending {
                            continue;
                        }
                        let input = b.get("input").cloned().unwrap_or(Value::Null);
                        calls.insert(id.to_string(), (ctx.clone(), name.to_string(), input));
                    }
                }
                "user" => {
                    let content = v.get("message").and_then(|m| m.get("content"));
                    let results: Vec<&Value> = blocks(&v)
                        .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
                        .collect();
                    if !results.is_empty() {
                        let denied = denied(obj);
                        for b in results {
                            let Some(id) = b.get("tool_use_id").and_then(Value::as_str) else {
                                continue;
                            };
                            let is_err = b.get("is_error").and_then(Value::as_bool) == Some(true);
                            if denied || (is_err && refused_text(&result_text(b))) {
                                continue;
                            }
                            push(Ev::Result {
                                id: id.to_string(),
                                ok: !is_err,
                            });
                        }
                    } else if is_prompt(obj, content) {
                        push(Ev::Turn);
                    }
                }
                _ => {}
            }
        }
    }
    events.sort_by(|a, b| (&a.ts, a.file, a.line).cmp(&(&b.ts, b.file, b.line)));
    for e in events {
        match e.ev {
            Ev::Turn => state.turn(&e.ctx),
            Ev::Compaction => state.compaction(&e.ctx),
            Ev::Result { id, ok } => {
                if let Some((ctx, name, input)) = calls.get(&id) {
                    state.call(ctx, name, input, ok, classes);
                }
            }
        }
    }
    Ok(state)
}

fn blocks(v: &Value) -> impl Iterator<Item = &Value> {
    v.get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A user message that starts a task turn: typed text, not a meta record, a
/// compaction summary, a system reminder, a local command or a background
/// sub-agent's `<task-notification>`.
fn is_prompt(obj: &serde_json::Map<String, Value>, content: Option<&Value>) -> bool {
    if obj.get("isMeta").and_then(Value::as_bool) == Some(true)
        || obj.get("isCompactSummary").and_then(Value::as_bool) == Some(true)
    {
        return false;
    }
    let text = match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return false,
    };
    let t = text.trim_start();
    !t.is_empty()
        && !t.starts_with("<task-notification>")
        && !t.starts_with("<system-reminder>")
        && !t.starts_with("<local-command")
        && !t.starts_with("<command-")
        && !t.starts_with("[Request interrupted")
}

/// A result record of a call that never ran (2.1.x: `toolDenialKind`, or a
/// `permissionDecision` that rejected it).
fn denied(obj: &serde_json::Map<String, Value>) -> bool {
    obj.get("toolDenialKind").is_some_and(|k| !k.is_null())
        || obj
            .get("permissionDecision")
            .and_then(|p| p.get("decision"))
            .and_then(Value::as_str)
            .is_some_and(|d| d == "reject" || d == "deny")
}

fn result_text(b: &Value) -> String {
    match b.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Refusal texts of versions that wrote no denial fields.
fn refused_text(t: &str) -> bool {
    t.starts_with("The user doesn't want to proceed with this tool use")
        || (t.contains("Permission to use ") && t.contains(" has been denied"))
        || (t.starts_with("PreToolUse:") && t.contains("hook"))
}
