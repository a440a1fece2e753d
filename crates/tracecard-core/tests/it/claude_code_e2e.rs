//! End-to-end: sessions produced by the real Claude Code CLI (2.1.x) run offline
//! against the scripted Messages API server of `scripts/claude_code_e2e/` (with its
//! OpenTelemetry export on). `make test-e2e` generates the captures and runs these
//! tests with `TRACECARD_CLAUDE_E2E` pointing at them; without it they fail (they are
//! `#[ignore]`d in the ordinary run).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tracecard_core::{Compiler, CostSource, PriceTable, StepKind, StepStatus, Trace, Usd};

fn root() -> PathBuf {
    let d = std::env::var_os("TRACECARD_CLAUDE_E2E")
        .map(PathBuf::from)
        .expect("TRACECARD_CLAUDE_E2E is not set: run `make test-e2e`");
    assert!(
        d.is_dir(),
        "{} is missing: run `make test-e2e`",
        d.display()
    );
    d
}

/// `<root>/<scenario>/transcript/<session>.jsonl`.
fn transcript(scenario: &str) -> PathBuf {
    let dir = root().join(scenario).join("transcript");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    assert_eq!(files.len(), 1, "one session in {}", dir.display());
    files.remove(0)
}

fn load(scenario: &str) -> Trace {
    let p = transcript(scenario);
    let mut ts = tracecard_core::load(&p, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ts.len(), 1);
    let t = ts.remove(0);
    assert_eq!(t.source.format, "claude_code");
    t.validate().unwrap();
    t
}

/// What the scripted server reported, by request id: (input, cache_read, 5m, 1h, output).
fn served(scenario: &str) -> BTreeMap<String, (u64, u64, u64, u64, u64)> {
    let text = std::fs::read_to_string(root().join(scenario).join("served.jsonl")).unwrap();
    let mut out = BTreeMap::new();
    for l in text.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        let u = &v["usage"];
        let n = |k: &str| u[k].as_u64().unwrap();
        out.insert(
            v["request_id"].as_str().unwrap().to_string(),
            (
                n("input_tokens"),
                n("cache_read_input_tokens"),
                u["cache_creation"]["ephemeral_5m_input_tokens"]
                    .as_u64()
                    .unwrap(),
                u["cache_creation"]["ephemeral_1h_input_tokens"]
                    .as_u64()
                    .unwrap(),
                n("output_tokens"),
            ),
        );
    }
    out
}

/// Claude Code's own `cost_usd_micros` per request id, from its OTLP log export.
fn otel_costs(scenario: &str) -> BTreeMap<String, i64> {
    let text =
        std::fs::read_to_string(root().join(scenario).join("otel").join("logs.jsonl")).unwrap();
    let mut out = BTreeMap::new();
    for l in text.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        for rl in v["resourceLogs"].as_array().unwrap() {
            for sl in rl["scopeLogs"].as_array().unwrap() {
                for r in sl["logRecords"].as_array().unwrap() {
                    let attr = |k: &str| {
                        r["attributes"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .find(|a| a["key"] == k)
                            .map(|a| a["value"].clone())
                    };
                    if attr("event.name").and_then(|v| v["stringValue"].as_str().map(String::from))
                        != Some("api_request".into())
                    {
                        continue;
                    }
                    let id = attr("request_id").unwrap()["stringValue"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let m = attr("cost_usd_micros").unwrap()["intValue"].clone();
                    let m = m
                        .as_i64()
                        .or_else(|| m.as_str().and_then(|s| s.parse().ok()))
                        .unwrap();
                    out.insert(id, m);
                }
            }
        }
    }
    out
}

fn micros(m: i64) -> Usd {
    Usd::from_f64(m as f64 / 1e6).unwrap()
}

/// Tokens of every model call equal what the server reported; the computed cost of
/// every call equals Claude Code's own cost_usd (the join puts it in reported_cost_usd).
fn check_tokens_and_costs(scenario: &str, t: &Trace) {
    let served = served(scenario);
    let costs = otel_costs(scenario);
    let calls: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::LlmCall)
        .collect();
    assert_eq!(calls.len(), served.len(), "one step per served request");
    for s in &calls {
        let rid = s.attributes.get("request_id").expect("request_id");
        let (i, cr, w5, w1, o) = served[rid];
        let k = &s.tokens;
        assert_eq!(
            (
                k.input,
                k.cache_read,
                k.cache_write_5m,
                k.cache_write_1h,
                k.output
            ),
            (i, cr, w5, w1, o),
            "{rid}"
        );
        assert_eq!(s.model.as_deref(), Some("claude-opus-5-5"));
        assert_eq!(s.reported_cost_usd, Some(micros(costs[rid])), "{rid}");
    }
    let card = Compiler::new().compile(t).unwrap();
    assert_eq!(card.unpriced_steps, 0, "claude-opus-5-5 is priced");
    let total: i64 = costs.values().sum();
    assert_eq!(card.total_cost_usd, micros(total));
    assert_eq!(card.reported_cost_usd, Some(micros(total)));
    assert_eq!(card.cost_delta_usd, Some(Usd::ZERO));
    for s in card.steps.iter().filter(|s| s.kind == StepKind::LlmCall) {
        assert_eq!(s.cost_source, CostSource::Computed);
        assert_eq!(s.cost_usd, s.reported_cost_usd);
    }
    // a table without the model: the reported cost is used, not an unknown
    let empty = PriceTable::from_bundled_json(
        r#"{"as_of": "2026-01-01", "models": [{"id": "x", "provider": "x", "input": "1", "output": "1"}]}"#,
        None,
    )
    .unwrap();
    let card = Compiler::new().prices(&empty).compile(t).unwrap();
    assert_eq!(card.unpriced_steps, 0);
    assert_eq!(card.total_cost_usd, micros(total));
    assert!(
        card.steps
            .iter()
            .filter(|s| s.kind == StepKind::LlmCall)
            .all(|s| s.cost_source == CostSource::Reported)
    );
}

#[test]
#[ignore = "needs the real Claude Code CLI: make test-e2e"]
fn e2e_background_agent() {
    let t = load("agent");
    let n = |k| t.steps.iter().filter(|s| s.kind == k).count();
    // main: 5 calls (Agent, Read, Read, wait, answer); sub-agent: 2 (Bash, report)
    assert_eq!(n(StepKind::LlmCall), 7);
    assert_eq!(n(StepKind::SubagentSpawn), 1);
    assert_eq!(n(StepKind::ToolUse), 3);
    assert_eq!(n(StepKind::UserInput), 1);
    assert_eq!(n(StepKind::Other), 1, "the <task-notification>");
    let spawn = t
        .steps
        .iter()
        .find(|s| s.kind == StepKind::SubagentSpawn)
        .unwrap();
    assert_eq!(spawn.tool.as_deref(), Some("Agent"));
    assert_eq!(
        spawn.attributes.get("background").map(String::as_str),
        Some("true")
    );
    assert!(
        spawn.links.consumes.iter().all(|c| t
            .step(*c)
            .is_some_and(|s| s.agent.as_deref() != Some("general-purpose"))),
        "the launch receipt does not carry the sub-agent's report"
    );
    // sub-agent steps: children of the spawn, named by subagent_type
    let sub: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.agent.as_deref() == Some("general-purpose"))
        .collect();
    assert_eq!(sub.len(), 3, "2 calls + Bash");
    assert!(sub.iter().all(|s| s.parent == Some(spawn.id)));
    let report = sub.iter().rfind(|s| s.kind == StepKind::LlmCall).unwrap();
    assert!(
        report
            .output
            .as_ref()
            .and_then(|o| o.text.as_deref())
            .is_some_and(|x| x.contains("3 lines"))
    );
    // the notification consumes the report and is read by the next main call
    let note = t.steps.iter().find(|s| s.kind == StepKind::Other).unwrap();
    assert_eq!(
        note.attributes.get("event").map(String::as_str),
        Some("task_notification")
    );
    assert_eq!(note.links.consumes, vec![report.id]);
    assert_eq!(note.parent, None);
    assert_eq!(note.links.tool_call_id, spawn.links.tool_call_id);
    let last = t
        .steps
        .iter()
        .rfind(|s| s.kind == StepKind::LlmCall && s.agent.is_none())
        .unwrap();
    assert!(last.links.context.contains(&note.id));
    assert_eq!(t.outcome.final_step, Some(last.id));
    // the two Reads of the same file both name it
    let reads: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.tool.as_deref() == Some("Read"))
        .collect();
    assert_eq!(reads.len(), 2);
    assert!(reads.iter().all(|r| r.status == StepStatus::Ok));
    assert_eq!(reads[0].links.reads, reads[1].links.reads);
    // bookkeeping records known and counted, none unknown
    assert!(!t.warnings.iter().any(|w| w.code == "unknown_record_type"));
    let skipped = t
        .warnings
        .iter()
        .find(|w| w.code == "skipped_records")
        .unwrap();
    assert!(skipped.message.contains("queue-operation"));
    assert!(
        t.warnings
            .iter()
            .any(|w| w.code == "telemetry_joined"
                && w.message.contains("7 of 7 model calls matched"))
    );
    check_tokens_and_costs("agent", &t);
}

#[test]
#[ignore = "needs the real Claude Code CLI: make test-e2e"]
fn e2e_denied_calls() {
    let t = load("deny");
    let bash: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.tool.as_deref() == Some("Bash"))
        .collect();
    assert_eq!(bash.len(), 2);
    let rm = bash[0];
    assert_eq!(rm.status, StepStatus::Denied);
    assert_eq!(
        rm.attributes.get("permission_source").map(String::as_str),
        Some("hook")
    );
    assert!(rm.error.as_deref().unwrap().contains("rm is not allowed"));
    assert_eq!(bash[1].status, StepStatus::Ok, "the grep ran");
    let write = t
        .steps
        .iter()
        .find(|s| s.tool.as_deref() == Some("Write"))
        .unwrap();
    assert_eq!(write.status, StepStatus::Denied, "not allowed headless");
    assert!(t.warnings.iter().any(|w| w.code == "denied_tool_calls"));
    check_tokens_and_costs("deny", &t);
}

/// The CLI compiles the session folder: one card (sub-agents and telemetry read with
/// the session), no panic.
#[test]
#[ignore = "needs the real Claude Code CLI: make test-e2e"]
fn e2e_folder_is_one_card_per_session() {
    for s in ["agent", "deny"] {
        let dir = root().join(s).join("transcript");
        let files = tracecard_core::import::discover(&dir).unwrap();
        let sessions: Vec<&Path> = files
            .iter()
            .map(PathBuf::as_path)
            .filter(|p| tracecard_core::import::detect(p).unwrap().is_some())
            .collect();
        assert_eq!(sessions.len(), 1, "{s}: {sessions:?}");
    }
}

/// The telemetry files of a scenario (`<root>/<scenario>/otel/`), sorted.
fn otel_files(scenario: &str) -> Vec<PathBuf> {
    let dir = root().join(scenario).join("otel");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no telemetry in {}", dir.display());
    files
}

/// Telemetry alone (no transcript): one trace per session, built from the logs,
/// metrics and traces Claude Code exported; tokens equal what the server sent,
/// each call's reported cost is Claude Code's own and equals the computed cost.
fn check_telemetry_alone(scenario: &str, ext: &str) {
    let files = otel_files(scenario);
    assert!(
        files
            .iter()
            .all(|p| p.extension().is_some_and(|x| x == ext)),
        "{scenario}: {files:?}"
    );
    let first = &files[0];
    assert_eq!(
        tracecard_core::import::detect(first).unwrap(),
        Some(tracecard_core::Format::ClaudeCodeOtel),
        "{}",
        first.display()
    );
    // the folder is one input: only one of its files is listed
    let listed = tracecard_core::import::discover(&root().join(scenario).join("otel")).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let mut ts = tracecard_core::load(first, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ts.len(), 1, "one session");
    let t = ts.remove(0);
    t.validate().unwrap();
    assert_eq!(t.source.format, "claude_code_otel");
    assert_eq!(
        t.source.files.len(),
        files.len(),
        "every file of the folder read"
    );
    let transcript = load(scenario);
    assert_eq!(t.session_id, transcript.session_id);
    let n = |k| t.steps.iter().filter(|s| s.kind == k).count();
    assert_eq!(n(StepKind::LlmCall), 7);
    assert_eq!(n(StepKind::SubagentSpawn), 1);
    assert_eq!(n(StepKind::ToolUse), 3, "Read, Read, Bash");
    assert_eq!(
        n(StepKind::UserInput),
        2,
        "the prompt and the task notification"
    );
    // per-call tokens equal what the scripted server reported
    let served = served(scenario);
    let calls: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::LlmCall)
        .collect();
    assert_eq!(calls.len(), served.len());
    for s in &calls {
        let rid = s.attributes.get("request_id").expect("request_id");
        let (i, cr, w5, w1, o) = served[rid];
        let k = &s.tokens;
        assert_eq!(
            (
                k.input,
                k.cache_read,
                k.cache_write_5m,
                k.cache_write_1h,
                k.output
            ),
            (i, cr, w5, w1, o),
            "{rid}"
        );
        assert!(s.reported_cost_usd.is_some(), "{rid}: cost_usd");
    }
    // the sub-agent: its calls and its Bash under the spawn, which is a background one
    let spawn = t
        .steps
        .iter()
        .find(|s| s.kind == StepKind::SubagentSpawn)
        .unwrap();
    assert_eq!(spawn.tool.as_deref(), Some("Agent"));
    assert_eq!(
        spawn.attributes.get("background").map(String::as_str),
        Some("true")
    );
    let sub: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.parent == Some(spawn.id))
        .collect();
    assert_eq!(sub.len(), 3, "2 calls + Bash");
    assert!(
        sub.iter()
            .all(|s| s.agent.as_deref() == Some("general-purpose"))
    );
    let report = sub.iter().rfind(|s| s.kind == StepKind::LlmCall).unwrap();
    let note = t
        .steps
        .iter()
        .find(|s| s.attributes.get("event").map(String::as_str) == Some("task_notification"))
        .expect("the notification prompt");
    assert_eq!(note.links.consumes, vec![report.id]);
    // the two Reads were asked for by main-conversation calls
    for r in t.steps.iter().filter(|s| s.tool.as_deref() == Some("Read")) {
        assert_eq!(r.links.consumes.len(), 1);
        let by = t.step(r.links.consumes[0]).unwrap();
        assert_eq!(by.kind, StepKind::LlmCall);
        assert!(
            by.links
                .requests
                .contains(r.links.tool_call_id.as_ref().unwrap())
        );
    }
    // cost: computed per call = Claude Code's own; session = claude_code.cost.usage sum
    let card = Compiler::new().compile(&t).unwrap();
    assert_eq!(card.unpriced_steps, 0);
    let sum: Usd = calls.iter().filter_map(|s| s.reported_cost_usd).sum();
    assert_eq!(
        t.reported_cost_usd,
        Some(sum),
        "cost.usage sum = Σ cost_usd"
    );
    assert_eq!(card.total_cost_usd, sum);
    assert_eq!(card.cost_delta_usd, Some(Usd::ZERO));
    for s in card.steps.iter().filter(|s| s.kind == StepKind::LlmCall) {
        assert_eq!(s.cost_usd, s.reported_cost_usd);
    }
    if ext == "jsonl" {
        let costs = otel_costs(scenario);
        let total: i64 = costs.values().sum();
        assert_eq!(sum, micros(total));
    }
    // the same numbers as the transcript joined with the same telemetry
    let joined = Compiler::new().compile(&transcript).unwrap();
    assert_eq!(joined.total_cost_usd, card.total_cost_usd);
    assert_eq!(joined.reported_cost_usd, card.reported_cost_usd);
}

#[test]
#[ignore = "needs the real Claude Code CLI: make test-e2e"]
fn e2e_telemetry_alone_json() {
    check_telemetry_alone("agent", "jsonl");
}

#[test]
#[ignore = "needs the real Claude Code CLI: make test-e2e"]
fn e2e_telemetry_alone_protobuf() {
    check_telemetry_alone("agentpb", "pb");
}

/// The transcript and the telemetry loaded apart (two paths): joined into one
/// trace; with a price table that lacks the model, each call is priced at Claude
/// Code's reported cost (`cost_source: reported`).
#[test]
#[ignore = "needs the real Claude Code CLI: make test-e2e"]
fn e2e_joined_from_two_paths() {
    // the transcript without its <session>/otel/ folder
    let src = transcript("agent");
    let session = src.file_stem().unwrap().to_owned();
    let dir = root().join("agent").join("two-paths");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(&session)).unwrap();
    let main = dir.join(src.file_name().unwrap());
    std::fs::copy(&src, &main).unwrap();
    let subs = src.with_extension("").join("subagents");
    std::fs::create_dir_all(dir.join(&session).join("subagents")).unwrap();
    for e in std::fs::read_dir(&subs).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(
            &p,
            dir.join(&session)
                .join("subagents")
                .join(p.file_name().unwrap()),
        )
        .unwrap();
    }
    let bare = tracecard_core::load_one(&main, None).unwrap();
    assert!(!bare.warnings.iter().any(|w| w.code == "telemetry_joined"));
    let mut all = vec![bare];
    all.extend(tracecard_core::load(&otel_files("agent")[0], None).unwrap());
    assert_eq!(all.len(), 2);
    assert_eq!(
        tracecard_core::import::claude_code_otel::join_loaded(&mut all),
        1
    );
    assert_eq!(all.len(), 1, "one trace per session");
    let t = all.remove(0);
    assert_eq!(t.source.format, "claude_code");
    assert!(
        t.warnings
            .iter()
            .any(|w| w.code == "telemetry_joined" && w.message.contains("7 of 7 model calls"))
    );
    check_tokens_and_costs("agent", &t);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Telemetry alone of the deny session: the hook-denied Bash and the Write refused
/// headless are `denied` steps; the grep ran; cost equals Claude Code's own.
#[test]
#[ignore = "needs the real Claude Code CLI: make test-e2e"]
fn e2e_telemetry_alone_denied() {
    let t = tracecard_core::load_one(&otel_files("deny")[0], None).unwrap();
    assert_eq!(t.source.format, "claude_code_otel");
    let tools: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::ToolUse)
        .map(|s| (s.tool.as_deref().unwrap(), s.status))
        .collect();
    assert_eq!(
        tools,
        vec![
            ("Bash", StepStatus::Denied),
            ("Write", StepStatus::Denied),
            ("Bash", StepStatus::Ok)
        ]
    );
    let rm = t
        .steps
        .iter()
        .find(|s| s.tool.as_deref() == Some("Bash"))
        .unwrap();
    assert_eq!(
        rm.attributes.get("permission_source").map(String::as_str),
        Some("hook")
    );
    assert!(t.warnings.iter().any(|w| w.code == "denied_tool_calls"));
    let card = Compiler::new().compile(&t).unwrap();
    let total: i64 = otel_costs("deny").values().sum();
    assert_eq!(card.total_cost_usd, micros(total));
    assert_eq!(card.reported_cost_usd, Some(micros(total)));
    assert_eq!(card.cost_delta_usd, Some(Usd::ZERO));
}
