//! SWE-agent `.traj` files (v0.x and v1, incl. function-calling history). See
//! `docs/formats/swe_agent.md`.
//!
//! The file has only run totals (`info.model_stats`): one `llm_call` per trajectory
//! step and one `tool_use` per action; `tokens_sent` / `tokens_received` are
//! apportioned to the calls (proportional to each call's prompt size / response
//! length, remainder on the last call) and the reported cost is kept on the trace.

use std::path::Path;

use serde_json::Value;

use super::Input;
use super::chat_log::{apply_swebench, parse_json, swebench_report, trivial_cat};
use super::json::At;
use crate::Result;
use crate::model::{Content, OutcomeStatus, Step, StepId, StepKind, TokenUsage, Trace, Warning};
use crate::money::Usd;

/// A `.traj` is a JSON object with `trajectory` and `info` (and usually `history`).
pub(crate) fn sniff(path: &Path, head: &str) -> bool {
    let t = head.trim_start();
    let ext = path.extension().is_some_and(|e| e == "traj");
    t.starts_with('{')
        && t.contains("\"trajectory\"")
        && (ext || t.contains("\"history\"") || t.contains("\"environment\""))
        && !t.contains("\"trajectory_format\"")
}

/// SWE-agent 0.x model shortcuts (`sweagent/agent/models.py`, `OpenAIModel.SHORTCUTS`):
/// the run directory (`gpt4__<data>__<config>__…`) names the shortcut, not the model.
const SHORTCUTS: &[(&str, &str)] = &[
    ("gpt3", "gpt-3.5-turbo-1106"),
    ("gpt3-legacy", "gpt-3.5-turbo-16k-0613"),
    ("gpt4", "gpt-4-1106-preview"),
    ("gpt4-legacy", "gpt-4-0613"),
    ("gpt4-0125", "gpt-4-0125-preview"),
    ("gpt4-turbo", "gpt-4-turbo-2024-04-09"),
    ("gpt4o", "gpt-4o-2024-05-13"),
];

fn model_from_path(path: &Path) -> Option<(String, String)> {
    let mut tokens: Vec<String> = Vec::new();
    if let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) {
        tokens.extend(name.split('.').map(str::to_string));
    }
    if let Some(dir) = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
    {
        tokens.extend(dir.split("__").next().map(str::to_string));
    }
    tokens.iter().find_map(|t| {
        SHORTCUTS
            .iter()
            .find(|(k, _)| k == t)
            .map(|(k, m)| (k.to_string(), m.to_string()))
    })
}

/// A string field of a step's `state` (a JSON string, or a Python-repr dict in v1).
fn state_field(state: &str, name: &str) -> Option<String> {
    for key in [
        format!("\"{name}\": \""),
        format!("'{name}': '"),
        format!("\"{name}\":\""),
    ] {
        if let Some(i) = state.find(&key) {
            let rest = &state[i + key.len()..];
            let end = rest.find(['"', '\''])?;
            let f = &rest[..end];
            return (f != "n/a" && !f.is_empty()).then(|| f.to_string());
        }
    }
    None
}

/// The open file of `state`, relative to its `working_dir` when inside it (so it
/// matches the relative paths the model writes in `open`/`create`).
fn open_file(state: &str) -> Option<String> {
    let f = state_field(state, "open_file")?;
    if let Some(wd) = state_field(state, "working_dir")
        && let Some(rel) = f.strip_prefix(&format!("{}/", wd.trim_end_matches('/')))
    {
        return Some(rel.to_string());
    }
    Some(f)
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches(|c| c == '"' || c == '\'').to_string()
}

/// `(reads, writes)` of a SWE-agent command.
fn artifacts(action: &str, state: &str) -> (Vec<String>, Vec<String>) {
    let first = action.lines().next().unwrap_or("").trim();
    let mut words = first.split_whitespace();
    let cmd = words.next().unwrap_or("");
    match cmd {
        "open" => (words.next().map(unquote).into_iter().collect(), vec![]),
        "create" => (vec![], words.next().map(unquote).into_iter().collect()),
        "edit" | "insert" => match open_file(state) {
            Some(f) => (vec![f.clone()], vec![f]),
            None => (vec![], vec![]),
        },
        _ => (trivial_cat(first).into_iter().collect(), vec![]),
    }
}

/// Ids in a Python-repr `tool_calls` / `tool_call_ids` string (`'id': 'call_…'`) or a
/// real JSON array.
fn call_ids(v: Option<&Value>) -> Vec<(String, Option<String>)> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|c| {
                let id = c.get("id").and_then(Value::as_str).or(c.as_str())?;
                let name = c
                    .get("function")
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                Some((id.to_string(), name))
            })
            .collect(),
        Some(Value::String(s)) => {
            let mut out = Vec::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("'id': '") {
                let after = &rest[i + 7..];
                let Some(end) = after.find('\'') else { break };
                let before = &rest[..i];
                let name = before.rfind("'name': '").and_then(|j| {
                    let n = &before[j + 9..];
                    n.find('\'').map(|e| n[..e].to_string())
                });
                out.push((after[..end].to_string(), name));
                rest = &after[end..];
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Split `total` in proportion to `weights`; the last share takes the remainder, so
/// the shares sum to `total` exactly.
fn apportion(total: u64, weights: &[u64]) -> Vec<u64> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let w: u128 = weights.iter().map(|x| *x as u128).sum();
    let mut out = Vec::with_capacity(n);
    let mut given = 0u64;
    for (i, x) in weights.iter().enumerate() {
        let share = if i + 1 == n {
            total.saturating_sub(given)
        } else {
            (total as u128 * *x as u128)
                .checked_div(w)
                .map(|v| v as u64)
                .unwrap_or(total / n as u64)
        };
        given = given.saturating_add(share);
        out.push(share);
    }
    out
}

/// Import one `.traj`.
pub(crate) fn import(input: &Input) -> Result<Vec<Trace>> {
    let doc = parse_json(input)?;
    let path = input.path.as_path();
    let at = At::new(path, None);
    let file = path.display().to_string();
    if !doc.is_object() {
        return Err(at.err("", "expected a JSON object with `trajectory`"));
    }
    let steps = at.arr(&doc, "trajectory")?;
    let history = at.arr(&doc, "history")?;
    let empty = Value::Null;
    let info = doc.get("info").filter(|v| v.is_object()).unwrap_or(&empty);
    let stem = input.stem();
    let instance = stem.split('.').next().unwrap_or(&stem).to_string();
    let mut trace = Trace::new(instance.clone(), "swe_agent");
    if let Some(e) = at.str(&doc, "environment")? {
        trace.metadata.insert("environment".into(), e.into());
    }

    // Stats
    let ms = info
        .get("model_stats")
        .filter(|v| v.is_object())
        .unwrap_or(&empty);
    let num = |f: &str| -> Result<Option<f64>> {
        at.f64(ms, f)
            .map_err(|_| at.err(&format!("info.model_stats.{f}"), "expected a number"))
    };
    let int = |f: &str| -> Result<Option<u64>> {
        at.tokens(ms, f).map_err(|_| {
            at.err(
                &format!("info.model_stats.{f}"),
                "expected a non-negative integer",
            )
        })
    };
    let cost = num("instance_cost")?.or(num("total_cost")?);
    let (sent, received) = (int("tokens_sent")?, int("tokens_received")?);
    let api_calls = int("api_calls")?;
    // a run with stats but a null or missing token total: the counts are unknown,
    // not zero (a half-known total would price the calls too low)
    let has_stats = ms.as_object().is_some_and(|o| !o.is_empty());
    let tokens_known = !has_stats || (sent.is_some() && received.is_some());
    if !tokens_known {
        let missing: Vec<&str> = [("tokens_sent", sent), ("tokens_received", received)]
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| *k)
            .collect();
        trace.warn(Warning::at(
            crate::model::WarningCode::NoUsage,
            format!(
                "info.model_stats.{} is null or missing: token counts unknown, the calls are unpriced (the reported cost is kept on the trace)",
                missing.join(" and info.model_stats.")
            ),
            file.clone(),
            None,
        ));
    }
    let (sent, received) = if tokens_known {
        (sent.unwrap_or(0), received.unwrap_or(0))
    } else {
        (0, 0)
    };
    // Model: replay_config.agent.model.name (v1), else a 0.x shortcut in the path.
    let cfg_model = doc
        .get("replay_config")
        .and_then(|r| match r {
            Value::String(s) => serde_json::from_str::<Value>(s).ok(),
            other => Some(other.clone()),
        })
        .and_then(|r| {
            r.get("agent")
                .and_then(|a| a.get("model"))
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let model = match cfg_model {
        Some(m) => Some(m),
        None => match model_from_path(path) {
            Some((short, m)) => {
                trace.warn(Warning::at(
                    crate::model::WarningCode::ModelGuessed,
                    format!("the file does not name its model; `{short}` in the file/run-directory name is SWE-agent 0.x's shortcut for `{m}`"),
                    file.clone(),
                    None,
                ));
                Some(m)
            }
            None if cost == Some(0.0) || cost.is_none() && sent == 0 => None,
            None => {
                trace.warn(Warning::at(
                    crate::model::WarningCode::UnknownModel,
                    "the file does not name its model; calls are unpriced (the reported cost is kept on the trace)",
                    file.clone(),
                    None,
                ));
                None
            }
        },
    };

    trace.reported_cost_usd = cost
        .map(|c| at.usd("info.model_stats.instance_cost", c))
        .transpose()?;
    if tokens_known {
        trace.reported_tokens = Some(TokenUsage::from_inclusive(sent, 0, 0, received, 0));
    }
    if let Some(n) = api_calls {
        trace.metadata.insert("api_calls".into(), n.to_string());
        if n != steps.len() as u64 && n != 0 {
            trace.warn(Warning::at(
                crate::model::WarningCode::ApiCallsMismatch,
                format!("api_calls = {n} but the trajectory has {} steps (retries or format errors are not in the file)", steps.len()),
                file.clone(),
                None,
            ));
        }
    }

    // Non-demo history: the task prompt(s), the assistant messages (one per step) and
    // the prompt size each call saw (all history text before it).
    let mut task_prompts: Vec<(usize, String)> = Vec::new();
    let mut assistant_msgs: Vec<&Value> = Vec::new();
    let mut prompt_chars: Vec<u64> = Vec::new();
    let mut chars_so_far = 0u64;
    let mut odd_roles: Vec<String> = Vec::new();
    for (i, m) in history.iter().enumerate() {
        if !m.is_object() {
            return Err(at.err(&format!("history[{i}]"), "expected a message object"));
        }
        let content = m
            .get("content")
            .map(super::json::text_of)
            .unwrap_or_default();
        let is_demo = matches!(m.get("is_demo"), Some(Value::Bool(true)))
            || m.get("is_demo").and_then(Value::as_str) == Some("True")
            || m.get("message_type").and_then(Value::as_str) == Some("demonstration");
        let role = at
            .str(m, "role")
            .map_err(|_| at.err(&format!("history[{i}].role"), "expected a string"))?
            .unwrap_or("");
        if role == "assistant" && !is_demo {
            prompt_chars.push(chars_so_far);
            assistant_msgs.push(m);
        } else if role == "user" && !is_demo && assistant_msgs.is_empty() {
            task_prompts.push((i, content.clone()));
        } else if !matches!(role, "user" | "assistant" | "system" | "tool") {
            odd_roles.push(format!(
                "history[{i}] ({})",
                if role.is_empty() { "no role" } else { role }
            ));
        }
        chars_so_far += content.len() as u64;
    }
    if let Some(first) = odd_roles.first() {
        trace.warn(Warning::at(
            crate::model::WarningCode::SkippedRecords,
            format!(
                "{} history message(s) with a missing or unknown role skipped (first: {first})",
                odd_roles.len()
            ),
            file.clone(),
            None,
        ));
    }
    if history.is_empty() && !steps.is_empty() {
        trace.warn(Warning::at(
            crate::model::WarningCode::HistoryMismatch,
            "the file has no history: the task prompt is not a step and prompt sizes are estimated from the trajectory",
            file.clone(),
            None,
        ));
    }
    let history_usable = assistant_msgs.len() == steps.len();
    if !history.is_empty() && !history_usable {
        trace.warn(Warning::at(
            crate::model::WarningCode::HistoryMismatch,
            format!("{} assistant messages in history vs {} trajectory steps; prompt sizes estimated from the trajectory", assistant_msgs.len(), steps.len()),
            file.clone(),
            None,
        ));
    }

    // Apportionment weights
    let mut prompt_w = Vec::with_capacity(steps.len());
    let mut resp_w = Vec::with_capacity(steps.len());
    let mut cum = 0u64;
    for (i, s) in steps.iter().enumerate() {
        if !s.is_object() {
            return Err(at.err(&format!("trajectory[{i}]"), "expected a step object"));
        }
        let f = |k: &str| -> Result<String> {
            Ok(at
                .str(s, k)
                .map_err(|_| at.err(&format!("trajectory[{i}].{k}"), "expected a string"))?
                .unwrap_or("")
                .to_string())
        };
        let response = f("response")?;
        let observation = f("observation")?;
        f("action")?;
        f("thought")?;
        let pw = if history_usable {
            prompt_chars.get(i).copied().unwrap_or(0)
        } else {
            cum
        };
        prompt_w.push(pw.max(1));
        resp_w.push((response.len() as u64).max(1));
        cum += response.len() as u64 + observation.len() as u64;
    }
    let sent_parts = apportion(sent, &prompt_w);
    let recv_parts = apportion(received, &resp_w);
    if (sent > 0 || received > 0) && !steps.is_empty() {
        trace.warn(Warning::at(
            crate::model::WarningCode::ApportionedTokens,
            format!("SWE-agent stores only run totals: tokens_sent={sent} split across {} calls in proportion to the history text each call saw as prompt, tokens_received={received} in proportion to each response's length; the last call takes the rounding remainder, so the sums equal the totals exactly", steps.len()),
            file.clone(),
            None,
        ));
    }
    let zero_cost = cost == Some(0.0);

    for (idx, prompt) in &task_prompts {
        let mut s = Step::new(StepKind::UserInput);
        s.output = Some(Content::full(prompt.clone()));
        s.source_ref = Some(format!("history[{idx}]"));
        trace.push(s);
    }
    let (_, twins) = super::dedup_list(&file, "trajectory", steps, |_| None, |_| Some(false));
    trace.warnings.extend(twins);
    let no_action: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, st)| {
            st.get("action")
                .and_then(Value::as_str)
                .is_none_or(|a| a.trim().is_empty())
        })
        .map(|(i, _)| i)
        .collect();
    if let Some(first) = no_action.first() {
        trace.warn(Warning::at(
            crate::model::WarningCode::SkippedRecords,
            format!(
                "{} of {} trajectory steps have no action (first: trajectory[{first}]): a model call without a tool step each",
                no_action.len(),
                steps.len()
            ),
            file.clone(),
            None,
        ));
    }
    let mut delivered: Vec<StepId> = trace.steps.iter().map(|s| s.id).collect();
    let n = steps.len();
    for (i, st) in steps.iter().enumerate() {
        let g = |k: &str| match st.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let (action, observation, response, state) =
            (g("action"), g("observation"), g("response"), g("state"));
        let hist = if history_usable {
            assistant_msgs.get(i).copied()
        } else {
            None
        };
        let ids = call_ids(hist.and_then(|h| h.get("tool_calls")));
        let mut call = Step::new(StepKind::LlmCall);
        call.model = model.clone();
        call.tokens = TokenUsage::from_inclusive(
            sent_parts.get(i).copied().unwrap_or(0),
            0,
            0,
            recv_parts.get(i).copied().unwrap_or(0),
            0,
        );
        if zero_cost {
            call.reported_cost_usd = Some(Usd::ZERO);
        }
        call.source_ref = Some(format!("trajectory[{i}]"));
        call.output = Some(Content::full(if response.is_empty() {
            action.clone()
        } else {
            response.clone()
        }));
        call.links.context = std::mem::take(&mut delivered);
        for (id, _) in &ids {
            call.links.requests.push(id.clone());
        }
        if ids.len() == 1 {
            call.links.tool_call_id = ids.first().map(|x| x.0.clone());
        }
        let cid = trace.push(call);
        if action.trim().is_empty() {
            continue;
        }
        let mut tool = Step::new(StepKind::ToolUse);
        let word = action.split_whitespace().next().unwrap_or("").to_string();
        tool.tool = Some(ids.first().and_then(|x| x.1.clone()).unwrap_or(word));
        tool.links.tool_call_id = ids.first().map(|x| x.0.clone());
        tool.links.consumes.push(cid);
        let (r, w) = artifacts(&action, &state);
        tool.links.reads = r;
        tool.links.writes = w;
        tool.input = Some(Content::full(action.clone()));
        tool.output = Some(Content::full(observation));
        tool.source_ref = Some(format!("trajectory[{i}].action"));
        if let Some(t) = st.get("execution_time") {
            tool.attributes
                .insert("execution_time_s".into(), super::json::text_of(t));
        }
        let tid = trace.push(tool);
        if i + 1 < n {
            delivered.push(tid);
        }
    }

    // Outcome
    let exit = at.str(info, "exit_status")?.map(str::to_string);
    let submission = at
        .str(info, "submission")?
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    trace.outcome.reason = exit.clone();
    trace.outcome.status = match exit.as_deref() {
        None => OutcomeStatus::Unknown,
        Some(e) if e == "submitted" || e.starts_with("submitted") => OutcomeStatus::Unknown,
        Some(_) => OutcomeStatus::Failure,
    };
    trace.outcome.final_step = trace
        .steps
        .iter()
        .rev()
        .find(|s| s.kind == StepKind::LlmCall)
        .map(|s| s.id);
    trace.outcome.answer = submission.clone().map(Content::full);
    if let Some((report, rfile)) = swebench_report(path, &instance) {
        apply_swebench(&mut trace, &report, &rfile, submission.as_deref());
    }
    trace.source.token_semantics = Some(
        "SWE-agent info.model_stats run totals only: tokens_sent = all prompt tokens (cache not reported), tokens_received = completion tokens; apportioned to calls".into(),
    );
    Ok(vec![trace])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_sums_exactly() {
        let parts = apportion(122_612, &[1, 5, 9, 13, 2]);
        assert_eq!(parts.iter().sum::<u64>(), 122_612);
        assert_eq!(apportion(7, &[0, 0, 0]), vec![2, 2, 3]);
        assert!(apportion(5, &[]).is_empty());
    }

    #[test]
    fn python_repr_tool_calls() {
        let s = Value::String("[{'function': {'arguments': '{}', 'name': 'create'}, 'id': 'call_1', 'type': 'function'}]".into());
        assert_eq!(
            call_ids(Some(&s)),
            vec![("call_1".to_string(), Some("create".to_string()))]
        );
    }
}
