//! OpenHands event streams (a JSON list of action/observation events with `id` and
//! `cause`) and legacy resolver / evaluation output JSONL (`history` without ids,
//! `metrics.costs[]`, `success`). See `docs/formats/openhands.md`.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::Input;
use super::chat_log::{openai_usage, openai_usage_gap, parse_json};
use super::json::{At, text_of};
use crate::Result;
use crate::model::{
    Content, OracleEvidence, OutcomeStatus, Step, StepId, StepKind, StepStatus, Trace, Warning,
};

/// An event list (`[{"id":…, "source":…, "action"|"observation":…}]`) or a resolver
/// output line (`{"instruction"|"instance_id"|"metrics"…, "history": […]}`).
pub(crate) fn sniff(_path: &Path, head: &str) -> bool {
    let t = head.trim_start();
    let window = &t[..floor_char(t, 8192)];
    if let Some(rest) = t.strip_prefix('[') {
        return rest.trim_start().starts_with('{')
            && window.contains("\"source\"")
            && window.contains("\"id\"")
            && (window.contains("\"action\"") || window.contains("\"observation\""));
    }
    let first = t.lines().next().unwrap_or("");
    first.starts_with('{')
        && first.contains("\"history\"")
        && (first.contains("\"instruction\"")
            || first.contains("\"metrics\"")
            || first.contains("\"instance_id\""))
        && !first.contains("\"trajectory\"")
}

use super::floor_char_boundary as floor_char;

const SEMANTICS: &str = "litellm-normalised usage in tool_call_metadata.model_response: prompt_tokens includes cache reads (prompt_tokens_details.cached_tokens / cache_read_input_tokens) and Anthropic cache writes (cache_creation_input_tokens); completion_tokens includes reasoning; deduplicated by model_response.id";

/// Import an event list (one trace) or resolver JSONL (one trace per line).
pub(crate) fn import(input: &Input) -> Result<Vec<Trace>> {
    let t = input.text()?;
    if t.trim_start().starts_with('[') {
        let doc = parse_json(input)?;
        let at = At::new(&input.path, None);
        let Value::Array(events) = &doc else {
            return Err(at.err("", "expected a list of events"));
        };
        let mut trace = Trace::new(input.stem(), "openhands");
        events_to_steps(&mut trace, &at, events, false)?;
        return Ok(vec![trace]);
    }
    let parsed = super::jsonl(&input.path, t)?;
    let mut out = Vec::new();
    for (line, v) in &parsed.lines {
        let at = At::new(&input.path, Some(*line));
        out.push(legacy_line(input, &at, *line, v)?);
    }
    if let Some(first) = out.first_mut() {
        first.warnings.splice(0..0, parsed.warnings);
    } else if !parsed.warnings.is_empty() {
        let mut t = Trace::new(input.stem(), "openhands");
        t.warnings = parsed.warnings;
        out.push(t);
    }
    Ok(out)
}

fn legacy_line(input: &Input, at: &At, line: u64, v: &Value) -> Result<Trace> {
    if !v.is_object() {
        return Err(at.err("", "expected a JSON object per line"));
    }
    let id = match v.get("issue").filter(|i| i.is_object()) {
        Some(i) => format!(
            "{}/{}#{}",
            i.get("owner").map(text_of).unwrap_or_default(),
            i.get("repo").map(text_of).unwrap_or_default(),
            i.get("number").map(text_of).unwrap_or_default()
        ),
        None => at
            .str(v, "instance_id")?
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}:{line}", input.stem())),
    };
    let mut trace = Trace::new(id, "openhands");
    let history = at.arr(v, "history")?;
    // Old histories are [action, observation] pairs; flatten them.
    let mut flat: Vec<Value> = Vec::new();
    for h in history {
        match h {
            Value::Array(pair) => flat.extend(pair.iter().cloned()),
            other => flat.push(other.clone()),
        }
    }
    let metrics = v.get("metrics").filter(|m| m.is_object());
    let costs: Vec<f64> = match metrics {
        Some(m) => at
            .arr(m, "costs")
            .map_err(|_| at.err("metrics.costs", "expected an array"))?
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.as_f64()
                    .or_else(|| c.get("cost").and_then(Value::as_f64))
                    .ok_or_else(|| at.err(&format!("metrics.costs[{i}]"), "expected a number"))
            })
            .collect::<Result<_>>()?,
        None => Vec::new(),
    };
    if let Some(m) = metrics {
        trace.reported_cost_usd = at
            .f64(m, "accumulated_cost")
            .map_err(|_| at.err("metrics.accumulated_cost", "expected a number"))?
            .map(|c| at.usd("metrics.accumulated_cost", c))
            .transpose()?;
    }
    events_to_steps(&mut trace, at, &flat, true)?;
    // metrics.costs[k] belongs to the k-th model call
    let calls: Vec<StepId> = trace
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::LlmCall)
        .map(|s| s.id)
        .collect();
    for (k, id) in calls.iter().enumerate() {
        if let (Some(c), Some(s)) = (costs.get(k), trace.step_mut(*id)) {
            s.reported_cost_usd = Some(at.usd(&format!("metrics.costs[{k}]"), *c)?);
        }
    }
    if costs.len() != calls.len() && !costs.is_empty() {
        trace.warn(Warning::at(
            crate::model::WarningCode::CostCountMismatch,
            format!(
                "{} entries in metrics.costs but {} agent actions (model calls)",
                costs.len(),
                calls.len()
            ),
            input.path.display().to_string(),
            Some(line),
        ));
    }
    trace.warn(Warning::at(
        crate::model::WarningCode::NoUsage,
        "legacy resolver output has no token counts and no model name: per-call cost is metrics.costs[k]",
        input.path.display().to_string(),
        Some(line),
    ));
    let patch = at
        .str(v, "git_patch")?
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    if let Some(p) = &patch {
        trace.outcome.answer = Some(Content::full(p.clone()));
    }
    if let Some(success) = at.bool(v, "success")? {
        let mut artifacts = Vec::new();
        for l in patch.as_deref().unwrap_or("").lines() {
            if let Some(rest) = l.trim_end().strip_prefix("diff --git a/")
                && let Some((a, _)) = rest.split_once(" b/")
            {
                artifacts.push(a.to_string());
            }
        }
        trace.outcome.status = if success {
            OutcomeStatus::Success
        } else {
            OutcomeStatus::Failure
        };
        trace.outcome.evidence.push(OracleEvidence {
            verifier: "openhands-resolver".into(),
            passed: Some(success),
            message: at.str(v, "result_explanation")?.map(str::to_string),
            score: None,
            artifacts,
        });
    }
    if let Some(e) = at.str(v, "error")? {
        trace.outcome.reason = Some(format!("error: {e}"));
    }
    Ok(trace)
}

/// `(reads, writes)` of OpenHands agentskills calls in IPython code:
/// `open_file('p')` reads, `create_file('p')` writes, `edit_file_by_replace('p', …)`,
/// `insert_content_at_line('p', …)`, `append_file('p', …)` read and write.
fn agentskills_links(code: &str) -> (Vec<String>, Vec<String>) {
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    for (func, read, write) in [
        ("open_file(", true, false),
        ("create_file(", false, true),
        ("edit_file_by_replace(", true, true),
        ("edit_file_by_line(", true, true),
        ("insert_content_at_line(", true, true),
        ("append_file(", true, true),
    ] {
        let mut rest = code;
        while let Some(i) = rest.find(func) {
            rest = &rest[i + func.len()..];
            let arg = rest.trim_start();
            let Some(q) = arg.chars().next().filter(|c| *c == '\'' || *c == '"') else {
                continue;
            };
            let body = &arg[1..];
            let Some(end) = body.find(q) else { continue };
            let p = body[..end].to_string();
            if p.is_empty() || p.contains('\n') {
                continue;
            }
            if read && !reads.contains(&p) {
                reads.push(p.clone());
            }
            if write && !writes.contains(&p) {
                writes.push(p);
            }
        }
    }
    (reads, writes)
}

/// `(reads, writes)` of an action.
fn artifacts(action: &str, args: &Value, fn_args: Option<&Value>) -> (Vec<String>, Vec<String>) {
    let path = args
        .get("path")
        .and_then(Value::as_str)
        .or_else(|| fn_args.and_then(|a| a.get("path")).and_then(Value::as_str));
    let command = fn_args
        .and_then(|a| a.get("command"))
        .and_then(Value::as_str)
        .or_else(|| args.get("command").and_then(Value::as_str))
        .unwrap_or("");
    let Some(p) = path.map(str::to_string) else {
        if let Some(code) = args.get("code").and_then(Value::as_str) {
            return agentskills_links(code);
        }
        let code = args.get("command").and_then(Value::as_str).unwrap_or("");
        return (
            super::chat_log::trivial_cat(code).into_iter().collect(),
            vec![],
        );
    };
    match (action, command) {
        ("read", _) | (_, "view") => (vec![p], vec![]),
        ("write", _) | (_, "create") => (vec![], vec![p]),
        ("edit", _) | (_, "str_replace" | "insert" | "undo_edit") => (vec![p.clone()], vec![p]),
        _ => (vec![], vec![]),
    }
}

/// Convert a list of events to steps. `legacy`: no ids/cause; each agent action is
/// one model call and its observation is the next observation event.
fn events_to_steps(trace: &mut Trace, at: &At, events: &[Value], legacy: bool) -> Result<()> {
    trace.source.token_semantics = Some(SEMANTICS.into());
    let file = at.path.display().to_string();
    let mut by_response: HashMap<String, StepId> = HashMap::new();
    let mut by_action: HashMap<i64, StepId> = HashMap::new();
    let mut by_call: HashMap<String, StepId> = HashMap::new();
    let mut delivered: Vec<StepId> = Vec::new();
    let mut last_tool: Option<StepId> = None;
    let mut last_state: Option<String> = None;
    let mut final_llm: Option<StepId> = None;
    let mut null_usage: Vec<String> = Vec::new();
    // an event id names one event: a second copy is a double write
    let (events, dups) = super::dedup_list(
        &file,
        "events",
        events,
        |e| super::id_of(e, "id"),
        |e| Some(e.get("timestamp").is_some()),
    );
    trace.warnings.extend(dups);
    for &(i, e) in &events {
        let f = format!("[{i}]");
        if !e.is_object() {
            return Err(at.err(&f, "expected an event object"));
        }
        let eid = match e.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_i64(),
            Some(_) => return Err(at.err(&format!("{f}.id"), "expected an integer")),
        };
        let cause = match e.get("cause") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_i64(),
            Some(_) => return Err(at.err(&format!("{f}.cause"), "expected an integer")),
        };
        let ts = at
            .time(e, "timestamp")
            .map_err(|_| at.err(&format!("{f}.timestamp"), "not a timestamp"))?;
        let source = at
            .str(e, "source")
            .map_err(|_| at.err(&format!("{f}.source"), "expected a string"))?;
        let sref = match eid {
            Some(id) => format!("event {id}"),
            None => format!("history{f}"),
        };
        let empty = Value::Object(Default::default());
        // Legacy events carry the args inline.
        let args = e
            .get("args")
            .filter(|a| a.is_object())
            .unwrap_or(if legacy { e } else { &empty });
        if let Some(action) = at
            .str(e, "action")
            .map_err(|_| at.err(&format!("{f}.action"), "expected a string"))?
        {
            let agent = source == Some("agent") || (legacy && source.is_none() && i > 0);
            let tcm = e.get("tool_call_metadata").filter(|t| t.is_object());
            match (action, agent) {
                ("message", false) => {
                    let mut s = Step::new(StepKind::UserInput);
                    s.started_at = ts;
                    s.output = Some(Content::full(
                        args.get("content").map(text_of).unwrap_or_default(),
                    ));
                    s.source_ref = Some(sref);
                    delivered.push(trace.push(s));
                }
                (_, false) => {} // environment actions (change_agent_state, …)
                (_, true) => {
                    // The model call behind this action (deduped by response id).
                    let resp = tcm
                        .and_then(|t| t.get("model_response"))
                        .filter(|r| r.is_object());
                    let rid = resp
                        .and_then(|r| r.get("id"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    let llm = match rid.as_ref().and_then(|r| by_response.get(r)).copied() {
                        Some(id) => id,
                        None => {
                            let mut s = Step::new(StepKind::LlmCall);
                            s.ended_at = ts;
                            s.source_ref = Some(match &rid {
                                Some(r) => format!("{sref} ({r})"),
                                None => sref.clone(),
                            });
                            let mut out = Vec::new();
                            if let Some(r) = resp {
                                s.model =
                                    r.get("model").and_then(Value::as_str).map(str::to_string);
                                if let Some(u) = r.get("usage").filter(|u| u.is_object()) {
                                    // counts of the wrong type are errors even when one is missing
                                    let tokens = openai_usage(
                                        at,
                                        u,
                                        &format!("{f}.tool_call_metadata.model_response.usage"),
                                    )?;
                                    match openai_usage_gap(u) {
                                        Some(k) => null_usage.push(format!(
                                            "{f}.tool_call_metadata.model_response.usage.{k}"
                                        )),
                                        None => s.tokens = tokens,
                                    }
                                }
                                let msg = r
                                    .get("choices")
                                    .and_then(|c| c.get(0))
                                    .and_then(|c| c.get("message"));
                                if let Some(m) = msg {
                                    if let Some(c) = m
                                        .get("content")
                                        .and_then(Value::as_str)
                                        .filter(|c| !c.is_empty())
                                    {
                                        out.push(c.to_string());
                                    }
                                    for tc in m
                                        .get("tool_calls")
                                        .and_then(Value::as_array)
                                        .map(Vec::as_slice)
                                        .unwrap_or(&[])
                                    {
                                        let name = tc
                                            .get("function")
                                            .and_then(|f| f.get("name"))
                                            .and_then(Value::as_str)
                                            .unwrap_or("tool");
                                        let a = tc
                                            .get("function")
                                            .and_then(|f| f.get("arguments"))
                                            .map(text_of)
                                            .unwrap_or_default();
                                        out.push(format!("{name}({a})"));
                                        if let Some(id) = tc.get("id").and_then(Value::as_str) {
                                            s.links.requests.push(id.to_string());
                                        }
                                    }
                                }
                            } else {
                                for k in ["thought", "content"] {
                                    if let Some(t) = args
                                        .get(k)
                                        .and_then(Value::as_str)
                                        .filter(|t| !t.is_empty())
                                    {
                                        out.push(t.to_string());
                                    }
                                }
                                if action != "message" {
                                    out.push(format!("{action}({})", action_input(args)));
                                }
                            }
                            if s.links.requests.len() == 1 {
                                s.links.tool_call_id = s.links.requests.first().cloned();
                            }
                            s.output = Some(Content::full(out.join("\n")));
                            s.links.context = std::mem::take(&mut delivered);
                            let id = trace.push(s);
                            if let Some(r) = rid {
                                by_response.insert(r, id);
                            }
                            id
                        }
                    };
                    if action == "message" || action == "finish" {
                        final_llm = Some(llm);
                    }
                    if action == "message" && tcm.is_none() {
                        continue; // a plain text answer: the llm_call is the step
                    }
                    if matches!(action, "finish" | "message") && tcm.is_none() && legacy {
                        continue;
                    }
                    // The tool execution.
                    let mut t = Step::new(StepKind::ToolUse);
                    let call_id = tcm
                        .and_then(|m| m.get("tool_call_id"))
                        .and_then(Value::as_str);
                    let fname = tcm
                        .and_then(|m| m.get("function_name"))
                        .and_then(Value::as_str);
                    t.tool = Some(fname.unwrap_or(action).to_string());
                    t.started_at = ts;
                    t.source_ref = Some(sref.clone());
                    let fn_args: Option<Value> = call_id.and_then(|cid| {
                        let r = tcm?.get("model_response")?;
                        let calls = r
                            .get("choices")?
                            .get(0)?
                            .get("message")?
                            .get("tool_calls")?
                            .as_array()?;
                        let c = calls
                            .iter()
                            .find(|c| c.get("id").and_then(Value::as_str) == Some(cid))?;
                        let a = c.get("function")?.get("arguments")?;
                        match a {
                            Value::String(s) => serde_json::from_str(s).ok(),
                            other => Some(other.clone()),
                        }
                    });
                    t.input = Some(Content::full(match &fn_args {
                        Some(a) => a.to_string(),
                        None => action_input(args),
                    }));
                    let (r, w) = artifacts(action, args, fn_args.as_ref());
                    t.links.reads = r;
                    t.links.writes = w;
                    t.links.consumes.push(llm);
                    if let Some(cid) = call_id {
                        t.links.tool_call_id = Some(cid.to_string());
                    }
                    t.attributes
                        .insert(crate::model::attr::ACTION.into(), action.to_string());
                    if action == "finish" {
                        let msg = e
                            .get("message")
                            .and_then(Value::as_str)
                            .filter(|m| !m.is_empty())
                            .or_else(|| args.get("thought").and_then(Value::as_str))
                            .unwrap_or("");
                        t.output = Some(Content::full(msg));
                        t.ended_at = ts;
                    } else {
                        t.status = StepStatus::Error;
                        t.error = Some("no observation recorded".into());
                    }
                    let tid = trace.push(t);
                    if let Some(id) = eid {
                        by_action.insert(id, tid);
                    }
                    if let Some(cid) = call_id {
                        by_call.insert(cid.to_string(), tid);
                    }
                    if action != "finish" {
                        last_tool = Some(tid);
                    }
                }
            }
        } else if let Some(obs) = at
            .str(e, "observation")
            .map_err(|_| at.err(&format!("{f}.observation"), "expected a string"))?
        {
            if obs == "agent_state_changed" {
                last_state = e
                    .get("extras")
                    .and_then(|x| x.get("agent_state"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                continue;
            }
            // Which tool step does this observation answer?
            let target = match cause {
                Some(c) => by_action.get(&c).copied(),
                None if legacy => last_tool.take(),
                None => e
                    .get("tool_call_metadata")
                    .and_then(|m| m.get("tool_call_id"))
                    .and_then(Value::as_str)
                    .and_then(|c| by_call.get(c).copied()),
            };
            let Some(tid) = target else {
                if obs != "null" && cause.is_none() {
                    trace.warn(Warning::at(
                        crate::model::WarningCode::OrphanToolOutput,
                        format!("{sref}: `{obs}` observation without a known cause; skipped"),
                        file.clone(),
                        at.line,
                    ));
                }
                continue;
            };
            let content = e.get("content").map(text_of).unwrap_or_default();
            let exit_code = e
                .get("extras")
                .and_then(|x| x.get("metadata"))
                .and_then(|m| m.get("exit_code"))
                .or_else(|| e.get("extras").and_then(|x| x.get("exit_code")))
                .or_else(|| e.get("exit_code"))
                .and_then(Value::as_i64);
            let success = e.get("success").and_then(Value::as_bool);
            if let Some(s) = trace.step_mut(tid) {
                if s.output.is_some() && s.status == StepStatus::Ok {
                    continue;
                }
                s.output = Some(Content::full(content));
                s.ended_at = ts;
                s.status = StepStatus::Ok;
                s.error = None;
                if let Some(c) = exit_code {
                    s.attributes
                        .insert(crate::model::attr::EXIT_CODE.into(), c.to_string());
                }
                if obs == "error" || success == Some(false) || exit_code.is_some_and(|c| c != 0) {
                    s.status = StepStatus::Error;
                    s.error = Some(match exit_code {
                        Some(c) if c != 0 => format!("exit code {c}"),
                        _ => format!("{obs} observation reported failure"),
                    });
                }
            }
            delivered.push(tid);
        } else {
            trace.warn(Warning::at(
                crate::model::WarningCode::UnknownRecord,
                format!("{sref}: event with neither `action` nor `observation`; skipped"),
                file.clone(),
                at.line,
            ));
        }
    }
    trace.started_at = events.iter().find_map(|(_, e)| {
        e.get("timestamp")
            .and_then(Value::as_str)
            .and_then(super::json::parse_time)
    });
    trace.outcome.final_step = final_llm.or_else(|| {
        trace
            .steps
            .iter()
            .rev()
            .find(|s| s.kind == StepKind::LlmCall)
            .map(|s| s.id)
    });
    if trace.outcome.answer.is_none() {
        trace.outcome.answer = trace
            .outcome
            .final_step
            .and_then(|f| trace.step(f))
            .and_then(|s| s.output.clone());
    }
    let finished = trace.steps.iter().any(|s| {
        s.attributes
            .get(crate::model::attr::ACTION)
            .is_some_and(|a| a == "finish")
    });
    trace.outcome.reason = match (&last_state, finished) {
        (Some(s), _) => Some(format!("agent_state {s}")),
        (None, true) => Some("finish".into()),
        (None, false) => None,
    };
    if let Some(first) = null_usage.first() {
        trace.warn(Warning::at(
            crate::model::WarningCode::NoUsage,
            format!(
                "{} model call(s) report usage with a null or missing token count (first: {first}): their token counts and cost are unknown",
                null_usage.len()
            ),
            file.clone(),
            None,
        ));
    }
    let without_usage = trace
        .steps
        .iter()
        .filter(|s| {
            s.kind == StepKind::LlmCall && s.tokens.is_empty() && s.reported_cost_usd.is_none()
        })
        .count();
    if without_usage > null_usage.len() && !legacy {
        trace.warn(Warning::at(
            crate::model::WarningCode::NoUsage,
            "agent messages without tool_call_metadata carry no usage (their model calls are unpriced)",
            file,
            None,
        ));
    }
    Ok(())
}

/// The arguments of an action as text (without the `thought`).
fn action_input(args: &Value) -> String {
    for k in ["command", "code", "content", "path", "url"] {
        if let Some(v) = args.get(k).and_then(Value::as_str) {
            return v.to_string();
        }
    }
    match args {
        Value::Object(m) => {
            let mut m = m.clone();
            m.remove("thought");
            Value::Object(m).to_string()
        }
        other => other.to_string(),
    }
}
