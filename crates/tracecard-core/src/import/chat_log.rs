//! OpenAI-style chat logs: a JSON list of `{role, content, tool_calls?, tool_call_id?}`
//! messages, an object with `messages[]`, and mini-swe-agent trajectories (v0 bare
//! lists with fenced bash blocks; `mini-swe-agent-1.1` with per-message
//! `extra.response.usage` and `extra.cost`). See `docs/formats/chat_log.md`.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::Input;
use super::json::{At, from_unix_secs_f64, text_of};
use crate::model::{
    Content, OracleEvidence, OutcomeStatus, Step, StepId, StepKind, StepStatus, TokenUsage, Trace,
    Warning,
};
use crate::money::Usd;
use crate::{Error, Result};

/// A chat log is a JSON list whose first element has a `role`, or an object with
/// `messages[]` (mini-swe-agent 1.x carries `trajectory_format: "mini-swe-agent-…"`).
pub(crate) fn sniff(_path: &Path, head: &str) -> bool {
    let t = head.trim_start();
    if t.contains("\"trajectory_format\": \"mini-swe-agent")
        || t.contains("\"trajectory_format\":\"mini-swe-agent")
    {
        return true;
    }
    if let Some(rest) = t.strip_prefix('[') {
        let rest = rest.trim_start();
        if let Some(obj) = rest.strip_prefix('{') {
            let first = obj.trim_start();
            let mut end = obj.len().min(4096);
            while end > 0 && !obj.is_char_boundary(end) {
                end -= 1;
            }
            return first.starts_with("\"role\"")
                || (first.starts_with("\"content\"") && obj[..end].contains("\"role\""));
        }
        return false;
    }
    t.starts_with('{')
        && t.contains("\"messages\"")
        && (t.contains("\"role\": \"assistant\"") || t.contains("\"role\":\"assistant\""))
        && !t.contains("\"eval\"")
        && !t.contains("\"trajectory\"")
}

/// Cap on the size of a sibling SWE-bench report.
const MAX_REPORT: u64 = 16 * 1024 * 1024;

/// Shell commands in fenced blocks (```` ```bash ````, ```` ```mswea_bash_command ````).
pub(crate) fn fenced_commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("```") {
        let after = &rest[i + 3..];
        let Some(nl) = after.find('\n') else { break };
        let lang = after[..nl].trim();
        let body = &after[nl + 1..];
        let Some(end) = body.find("```") else { break };
        if matches!(lang, "bash" | "sh" | "shell" | "mswea_bash_command" | "") {
            let cmd = body[..end].trim_end_matches('\n').to_string();
            if !cmd.trim().is_empty() {
                out.push(cmd);
            }
        }
        rest = &body[end + 3..];
    }
    out
}

/// `cat FILE` with nothing else: the one shell read we trust.
pub(crate) fn trivial_cat(cmd: &str) -> Option<String> {
    let c = cmd.trim();
    let rest = c.strip_prefix("cat ")?.trim();
    if rest.is_empty()
        || rest.starts_with('-')
        || rest.contains(|ch: char| "|;&><$`*?\n\"'()".contains(ch) || ch.is_whitespace())
    {
        return None;
    }
    Some(rest.to_string())
}

/// `(reads, writes)` of a tool call from its name and JSON arguments: file tools
/// (`read_file`, `write_file`, `edit`, `str_replace_editor`/`text_editor` with
/// `command` view/create/str_replace/insert) and trivial `cat FILE` shell commands.
pub(crate) fn tool_links(name: &str, args: &Value) -> (Vec<String>, Vec<String>) {
    let path = ["path", "file_path", "filename", "file"]
        .iter()
        .find_map(|k| args.get(*k).and_then(Value::as_str))
        .map(str::to_string);
    let command = args.get("command").and_then(Value::as_str).unwrap_or("");
    if let Some(p) = path {
        let n = name.to_ascii_lowercase();
        return match command {
            "view" | "read" => (vec![p], vec![]),
            "create" | "write" => (vec![], vec![p]),
            "str_replace" | "insert" | "undo_edit" | "edit" => (vec![p.clone()], vec![p]),
            _ if matches!(
                n.as_str(),
                "read" | "read_file" | "view" | "view_file" | "open_file"
            ) =>
            {
                (vec![p], vec![])
            }
            _ if matches!(
                n.as_str(),
                "write" | "write_file" | "create" | "create_file"
            ) =>
            {
                (vec![], vec![p])
            }
            _ if matches!(
                n.as_str(),
                "edit" | "edit_file" | "multiedit" | "multi_edit" | "str_replace"
            ) =>
            {
                (vec![p.clone()], vec![p])
            }
            _ => (vec![], vec![]),
        };
    }
    let shell = match args.get("command").or_else(|| args.get("cmd")) {
        Some(Value::String(c)) => Some(c.clone()),
        Some(Value::Array(a)) => a.last().and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    (
        shell.as_deref().and_then(trivial_cat).into_iter().collect(),
        vec![],
    )
}

/// `<returncode>N</returncode>` of a mini-swe-agent observation.
fn returncode(text: &str) -> Option<i64> {
    let s = text.split("<returncode>").nth(1)?;
    s.split("</returncode>").next()?.trim().parse().ok()
}

/// The first of `prompt_tokens` / `completion_tokens` that an OpenAI-style usage
/// object leaves null or out: such a usage is unknown, not zero (it would price
/// the call at $0 or at half its cost).
pub(crate) fn openai_usage_gap(u: &Value) -> Option<&'static str> {
    ["prompt_tokens", "completion_tokens"]
        .into_iter()
        .find(|k| u.get(k).is_none_or(Value::is_null))
}

/// Tokens of an OpenAI-style `usage` object (DeepSeek and litellm extras included);
/// see [`openai_usage_gap`] for a usage with a count
/// left out.
pub(crate) fn openai_usage(at: &At, u: &Value, field: &str) -> Result<TokenUsage> {
    let f = |v: &Value, k: &str| -> Result<u64> {
        at.tokens(v, k)
            .map_err(|_| at.err(&format!("{field}.{k}"), "expected a non-negative integer"))
            .map(|x| x.unwrap_or(0))
    };
    let prompt = f(u, "prompt_tokens")?;
    let completion = f(u, "completion_tokens")?;
    let mut cached = u
        .get("prompt_tokens_details")
        .filter(|d| d.is_object())
        .map(|d| f(d, "cached_tokens"))
        .transpose()?
        .unwrap_or(0);
    if cached == 0 {
        cached = f(u, "prompt_cache_hit_tokens")?;
    }
    if cached == 0 {
        cached = f(u, "cache_read_input_tokens")?;
    }
    let cache_write = f(u, "cache_creation_input_tokens")?;
    let reasoning = u
        .get("completion_tokens_details")
        .filter(|d| d.is_object())
        .map(|d| f(d, "reasoning_tokens"))
        .transpose()?
        .unwrap_or(0);
    Ok(TokenUsage::from_inclusive(
        prompt,
        cached,
        cache_write,
        completion,
        reasoning,
    ))
}

/// The SWE-bench report next to a trajectory: `<instance>.swebench-report.json` or
/// `report.json`, keyed by instance id.
pub(crate) fn swebench_report(path: &Path, instance: &str) -> Option<(Value, String)> {
    let dir = path.parent()?;
    for name in [
        format!("{instance}.swebench-report.json"),
        "report.json".into(),
    ] {
        let p = dir.join(&name);
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if !meta.is_file() || meta.len() > MAX_REPORT {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if let Some(r) = v.get(instance) {
            return Some((r.clone(), p.display().to_string()));
        }
    }
    None
}

/// Apply a SWE-bench report to `trace`'s outcome (verifier `swebench`).
pub(crate) fn apply_swebench(trace: &mut Trace, report: &Value, file: &str, patch: Option<&str>) {
    let resolved = report.get("resolved").and_then(Value::as_bool);
    let mut artifacts = Vec::new();
    if let Some(patch) = patch {
        for l in patch.lines() {
            if let Some(rest) = l.strip_prefix("diff --git a/")
                && let Some((a, _)) = rest.split_once(" b/")
            {
                artifacts.push(a.to_string());
            }
        }
    }
    let mut parts = Vec::new();
    if let Some(ts) = report.get("tests_status").and_then(Value::as_object) {
        for (group, v) in ts {
            let list = |k: &str| {
                v.get(k)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            };
            let (ok, bad) = (list("success"), list("failure"));
            if ok.is_empty() && bad.is_empty() {
                continue;
            }
            parts.push(format!(
                "{group} {}/{} passed",
                ok.len(),
                ok.len() + bad.len()
            ));
            if group == "FAIL_TO_PASS" {
                for t in ok.iter().chain(bad.iter()) {
                    parts.push(format!("{group}: {t}"));
                }
            }
            for t in bad {
                if group != "FAIL_TO_PASS" {
                    parts.push(format!("{group} failed: {t}"));
                }
            }
            artifacts.extend(list("success"));
            artifacts.extend(list("failure"));
        }
    }
    trace.outcome.evidence.push(OracleEvidence {
        verifier: "swebench".into(),
        passed: resolved,
        message: Some(format!(
            "resolved={}; {}",
            resolved
                .map(|b| b.to_string())
                .unwrap_or_else(|| "?".into()),
            parts.join("; ")
        )),
        score: resolved.map(|b| if b { 1.0 } else { 0.0 }),
        artifacts,
    });
    trace.outcome.status = match resolved {
        Some(true) => OutcomeStatus::Success,
        Some(false) => OutcomeStatus::Failure,
        None => trace.outcome.status,
    };
    trace.metadata.insert("swebench_report".into(), file.into());
}

/// Parse a whole-file JSON document with a parse error naming the file.
pub(crate) fn parse_json(input: &Input) -> Result<Value> {
    let text = input.text()?;
    serde_json::from_str(text).map_err(|e| Error::from_json(&input.path, None, e))
}

/// Import a chat log / mini-swe-agent trajectory.
pub(crate) fn import(input: &Input) -> Result<Vec<Trace>> {
    let doc = parse_json(input)?;
    let path = input.path.as_path();
    let at = At::new(path, None);
    let file = path.display().to_string();
    let (messages, info, format_name) = match &doc {
        Value::Array(a) => (a.as_slice(), None, "chat messages (bare list)".to_string()),
        Value::Object(_) => (
            at.arr(&doc, "messages")?,
            doc.get("info").filter(|v| v.is_object()),
            at.str(&doc, "trajectory_format")?
                .unwrap_or("chat messages")
                .to_string(),
        ),
        _ => {
            return Err(at.err(
                "",
                "expected a list of messages or an object with `messages`",
            ));
        }
    };
    let instance = match &doc {
        Value::Object(_) => at.str(&doc, "instance_id")?.map(str::to_string),
        _ => None,
    };
    let mut trace = Trace::new(
        instance.clone().unwrap_or_else(|| {
            let s = input.stem();
            s.split('.').next().unwrap_or(&s).to_string()
        }),
        "chat_log",
    );
    trace
        .metadata
        .insert("trajectory_format".into(), format_name);
    trace.source.token_semantics = Some(
        "OpenAI chat usage: prompt_tokens includes cached tokens (prompt_tokens_details.cached_tokens / DeepSeek prompt_cache_hit_tokens / litellm cache_read_input_tokens) and litellm cache_creation_input_tokens; completion_tokens includes reasoning_tokens".into(),
    );
    let cfg_model = info
        .and_then(|i| i.get("config"))
        .and_then(|c| c.get("model"))
        .and_then(|m| m.get("model_name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let (cfg_provider, cfg_model_bare) = match cfg_model.as_deref().and_then(|m| m.split_once('/'))
    {
        Some((p, m)) => (Some(p.to_string()), Some(m.to_string())),
        None => (None, cfg_model.clone()),
    };

    let mut by_call: HashMap<String, StepId> = HashMap::new();
    // Tool steps still waiting for an output, in issue order.
    let mut pending: Vec<StepId> = Vec::new();
    let mut delivered: Vec<StepId> = Vec::new();
    let mut last_llm_with_text: Option<StepId> = None;
    let mut exit: Option<(String, Option<String>, Option<String>)> = None;
    let mut usage_seen = false;
    // a message id names one message; an assistant message repeated exactly is
    // dropped when it carries its time, named in a warning otherwise
    let (messages, dups) = super::dedup_list(&file, "messages", messages, super::message_id, |m| {
        (m.get("role").and_then(Value::as_str) == Some("assistant"))
            .then(|| m.get("extra").and_then(|e| e.get("timestamp")).is_some())
    });
    trace.warnings.extend(dups);
    for (i, m) in messages {
        let field = format!("messages[{i}]");
        if !m.is_object() {
            return Err(at.err(&field, "expected a message object"));
        }
        let role = at
            .str(m, "role")
            .map_err(|_| at.err(&format!("{field}.role"), "expected a string"))?
            .unwrap_or("");
        let content = match m.get("content") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str).or(p.as_str()))
                .collect::<Vec<_>>()
                .join("\n"),
            Some(other) => other.to_string(),
        };
        let extra = m.get("extra").filter(|e| e.is_object());
        let ts = extra
            .and_then(|e| e.get("timestamp"))
            .and_then(Value::as_f64)
            .and_then(from_unix_secs_f64);
        match role {
            "system" | "developer" => {}
            "assistant" => {
                let mut s = Step::new(StepKind::LlmCall);
                s.source_ref = Some(field.clone());
                s.ended_at = ts;
                let resp = extra
                    .and_then(|e| e.get("response"))
                    .filter(|r| r.is_object());
                let usage = resp
                    .and_then(|r| r.get("usage"))
                    .or_else(|| m.get("usage"))
                    .filter(|u| u.is_object());
                if let Some(u) = usage {
                    // counts of the wrong type are errors even when one is missing
                    let tokens = openai_usage(&at, u, &format!("{field}.usage"))?;
                    if let Some(k) = openai_usage_gap(u) {
                        trace.warn(Warning::at(
                            crate::model::WarningCode::NoUsage,
                            format!("{field}.usage.{k} is null or missing: the call's token counts and cost are unknown"),
                            file.clone(),
                            None,
                        ));
                    } else {
                        s.tokens = tokens;
                    }
                    usage_seen = true;
                }
                s.model = resp
                    .and_then(|r| r.get("model"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| cfg_model_bare.clone());
                s.provider = cfg_provider.clone();
                if let Some(id) = resp.and_then(|r| r.get("id")).and_then(Value::as_str) {
                    s.source_ref = Some(format!("{field} ({id})"));
                }
                if let Some(c) = extra.and_then(|e| e.get("cost")) {
                    let c = c.as_f64().ok_or_else(|| {
                        at.err(&format!("{field}.extra.cost"), "expected a number")
                    })?;
                    s.reported_cost_usd = Some(at.usd(&format!("{field}.extra.cost"), c)?);
                }
                let reasoning = at.str(m, "reasoning_content")?.unwrap_or("");
                let mut out = Vec::new();
                if !reasoning.is_empty() {
                    out.push(format!("[reasoning] {reasoning}"));
                }
                if !content.is_empty() {
                    out.push(content.clone());
                }
                // Tool calls: function-calling `tool_calls`, else fenced bash blocks.
                let mut calls: Vec<Step> = Vec::new();
                for (j, tc) in at.arr(m, "tool_calls")?.iter().enumerate() {
                    let tf = format!("{field}.tool_calls[{j}]");
                    let func = tc.get("function").filter(|f| f.is_object());
                    let name = func
                        .and_then(|f| f.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or("tool");
                    let args = func
                        .and_then(|f| f.get("arguments"))
                        .map(text_of)
                        .unwrap_or_default();
                    let id = tc.get("id").and_then(Value::as_str);
                    let mut t = Step::new(StepKind::ToolUse);
                    t.tool = Some(name.to_string());
                    if let Some(id) = id {
                        t.links.tool_call_id = Some(id.to_string());
                        t.source_ref = Some(id.to_string());
                        s.links.requests.push(id.to_string());
                    } else {
                        t.source_ref = Some(tf);
                    }
                    if let Ok(a) = serde_json::from_str::<Value>(&args) {
                        let (r, w) = tool_links(name, &a);
                        t.links.reads = r;
                        t.links.writes = w;
                    }
                    out.push(format!("{name}({args})"));
                    t.input = Some(Content::full(args));
                    calls.push(t);
                }
                if calls.is_empty() {
                    let actions: Vec<String> = extra
                        .and_then(|e| e.get("actions"))
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.get("command").and_then(Value::as_str))
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    let cmds = if actions.is_empty() {
                        fenced_commands(&content)
                    } else {
                        actions
                    };
                    for (j, cmd) in cmds.into_iter().enumerate() {
                        let mut t = Step::new(StepKind::ToolUse);
                        t.tool = Some("bash".into());
                        t.source_ref = Some(format!("{field}.action[{j}]"));
                        if let Some(p) = trivial_cat(&cmd) {
                            t.links.reads.push(p);
                        }
                        t.input = Some(Content::full(cmd));
                        calls.push(t);
                    }
                }
                if calls.len() == 1 {
                    s.links.tool_call_id = calls[0].links.tool_call_id.clone();
                }
                s.output = Some(Content::full(out.join("\n")));
                s.links.context = std::mem::take(&mut delivered);
                s.started_at = None;
                let id = trace.push(s);
                if !content.is_empty() {
                    last_llm_with_text = Some(id);
                }
                for mut t in calls {
                    t.links.consumes.push(id);
                    t.status = StepStatus::Error;
                    t.error = Some("no output recorded".into());
                    let cid = t.links.tool_call_id.clone();
                    let tid = trace.push(t);
                    if let Some(c) = cid {
                        by_call.insert(c, tid);
                    }
                    pending.push(tid);
                }
            }
            "tool" => {
                let target = match at.str(m, "tool_call_id")? {
                    Some(c) => by_call.get(c).copied(),
                    None => pending.first().copied(),
                };
                let Some(tid) = target else {
                    trace.warn(Warning::at(
                        crate::model::WarningCode::OrphanToolOutput,
                        format!("{field}: tool message for an unknown tool call"),
                        file.clone(),
                        None,
                    ));
                    continue;
                };
                pending.retain(|p| *p != tid);
                let rc = extra
                    .and_then(|e| e.get("returncode"))
                    .and_then(Value::as_i64)
                    .or_else(|| returncode(&content));
                set_tool_output(&mut trace, tid, &content, ts, rc, extra);
                delivered.push(tid);
            }
            "user" => {
                if let Some(tid) = pending.first().copied() {
                    // mini-swe-agent text mode: the observation comes back as a user message
                    pending.remove(0);
                    set_tool_output(&mut trace, tid, &content, ts, returncode(&content), extra);
                    delivered.push(tid);
                } else {
                    let mut s = Step::new(StepKind::UserInput);
                    s.output = Some(Content::full(content.clone()));
                    s.source_ref = Some(field.clone());
                    s.started_at = ts;
                    delivered.push(trace.push(s));
                }
            }
            "exit" => {
                let status = extra
                    .and_then(|e| e.get("exit_status"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| "exit".into());
                let exc = extra
                    .and_then(|e| e.get("exception_str"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
                if status == "Submitted"
                    && let Some(tid) = pending.first().copied()
                {
                    pending.remove(0);
                    set_tool_output(&mut trace, tid, &content, ts, Some(0), extra);
                }
                exit = Some((status, exc, Some(content.clone())));
            }
            other => trace.warn(Warning::at(
                crate::model::WarningCode::UnknownRecord,
                format!("{field}: unknown role `{other}`; skipped"),
                file.clone(),
                None,
            )),
        }
    }

    // mini-swe-agent info: exit status, submission, api_calls, instance_cost
    let mut exit_status = exit.as_ref().map(|e| e.0.clone());
    let mut exception = exit.as_ref().and_then(|e| e.1.clone());
    let mut submission: Option<String> = None;
    if let Some(info) = info {
        if let Some(s) = at.str(info, "exit_status")? {
            exit_status = Some(s.to_string());
        }
        if let Some(s) = at.str(info, "exception_str")?.filter(|s| !s.is_empty()) {
            exception = Some(s.to_string());
        }
        submission = at
            .str(info, "submission")?
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if let Some(v) = at.str(info, "mini_version")? {
            trace.metadata.insert("mini_version".into(), v.into());
        }
        if let Some(ms) = info.get("model_stats").filter(|v| v.is_object()) {
            if let Some(c) = at
                .f64(ms, "instance_cost")
                .map_err(|_| at.err("info.model_stats.instance_cost", "expected a number"))?
            {
                trace.reported_cost_usd = Some(at.usd("info.model_stats.instance_cost", c)?);
            }
            let calls = at
                .u64(ms, "api_calls")
                .map_err(|_| at.err("info.model_stats.api_calls", "expected an integer"))?;
            let n = trace
                .steps
                .iter()
                .filter(|s| s.kind == StepKind::LlmCall)
                .count() as u64;
            if let Some(calls) = calls {
                trace.metadata.insert("api_calls".into(), calls.to_string());
                if calls > n {
                    // The last call failed (API error): record it as a failed llm_call
                    // with no usage; the source charged nothing for it.
                    for _ in n..calls.min(n + 1) {
                        let mut s = Step::new(StepKind::LlmCall);
                        s.model = cfg_model_bare.clone();
                        s.provider = cfg_provider.clone();
                        s.status = StepStatus::Error;
                        s.error = Some(exception.clone().unwrap_or_else(|| {
                            format!("exit_status {}", exit_status.clone().unwrap_or_default())
                        }));
                        s.reported_cost_usd = Some(Usd::ZERO);
                        s.links.context = std::mem::take(&mut delivered);
                        s.source_ref = Some("info.model_stats.api_calls".into());
                        trace.push(s);
                    }
                    trace.warn(Warning::at(
                        crate::model::WarningCode::MissingResponse,
                        format!("api_calls = {calls} but {n} responses are recorded; the last call is recorded as failed ({})", exit_status.clone().unwrap_or_default()),
                        file.clone(),
                        None,
                    ));
                }
            }
        }
    }
    if !usage_seen {
        trace.warn(Warning::at(
            crate::model::WarningCode::NoUsage,
            "the log carries no token usage: model calls are unpriced",
            file.clone(),
            None,
        ));
    }
    let _ = exception;
    trace.outcome.reason = exit_status.clone();
    trace.outcome.status = match exit_status.as_deref() {
        None | Some("Submitted") | Some("submitted") => OutcomeStatus::Unknown,
        Some(_) => OutcomeStatus::Failure,
    };
    let answer = submission.or_else(|| {
        exit.as_ref()
            .filter(|e| e.0 == "Submitted")
            .and_then(|e| e.2.clone())
            .filter(|s| !s.is_empty())
    });
    // final answer step: last llm_call (it issued the submit command / wrote the answer)
    let final_llm = trace
        .steps
        .iter()
        .rev()
        .find(|s| s.kind == StepKind::LlmCall && s.status == StepStatus::Ok)
        .map(|s| s.id);
    trace.outcome.final_step = final_llm.or(last_llm_with_text);
    trace.outcome.answer = match &answer {
        Some(a) => Some(Content::full(a.clone())),
        None => trace
            .outcome
            .final_step
            .and_then(|f| trace.step(f))
            .and_then(|s| s.output.clone()),
    };
    let inst = instance.clone().unwrap_or_else(|| trace.session_id.clone());
    if let Some((report, rfile)) = swebench_report(path, &inst) {
        apply_swebench(&mut trace, &report, &rfile, answer.as_deref());
    }
    trace.started_at = trace.steps.iter().find_map(|s| s.started_at.or(s.ended_at));
    Ok(vec![trace])
}

fn set_tool_output(
    trace: &mut Trace,
    tid: StepId,
    content: &str,
    ts: Option<jiff::Timestamp>,
    rc: Option<i64>,
    extra: Option<&Value>,
) {
    if let Some(t) = trace.step_mut(tid) {
        t.output = Some(Content::full(content));
        t.ended_at = ts;
        t.status = StepStatus::Ok;
        t.error = None;
        if let Some(rc) = rc {
            t.attributes
                .insert(crate::model::attr::EXIT_CODE.into(), rc.to_string());
            if rc != 0 {
                t.status = StepStatus::Error;
                t.error = Some(format!("exit code {rc}"));
            }
        }
        if let Some(e) = extra
            .and_then(|e| e.get("exception_info"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            t.status = StepStatus::Error;
            t.error = Some(e.to_string());
        }
    }
}
