//! Claude Code transcript importer: every fixture file, with facts checked by hand
//! (python over the JSONL; see docs/formats/claude_code.md), plus malformed input.

use tracecard_core::import::{self, Input};
use tracecard_core::{Compiler, ErrorKind, Format, OutcomeStatus, StepKind, StepStatus, Trace};

const DIR: &str = "claude-code";

fn one(rel: &str) -> Option<Trace> {
    let mut ts = crate::fixtures::load(&format!("{DIR}/{rel}"))?;
    assert_eq!(ts.len(), 1, "{rel}: one session per file");
    let t = ts.remove(0);
    assert_eq!(t.source.format, "claude_code");
    t.validate().unwrap();
    Some(t)
}

use crate::fixtures::count;

fn links(t: &Trace) -> (usize, usize, usize) {
    let sum = |f: fn(&tracecard_core::Step) -> usize| t.steps.iter().map(f).sum::<usize>();
    (
        sum(|s| s.links.requests.len()),
        sum(|s| s.links.consumes.len()),
        sum(|s| s.links.context.len()),
    )
}

fn flagged(t: &Trace) -> usize {
    t.steps
        .iter()
        .filter(|s| {
            s.attributes
                .get("output_tokens_underreported")
                .is_some_and(|v| v == "true")
        })
        .count()
}

fn has_warning(t: &Trace, code: &str) -> bool {
    t.warnings.iter().any(|w| w.code == code)
}

/// Kind counts: (llm_call, tool_use, subagent_spawn, user_input, compaction).
fn kinds(t: &Trace) -> (usize, usize, usize, usize, usize) {
    (
        count(t, StepKind::LlmCall),
        count(t, StepKind::ToolUse),
        count(t, StepKind::SubagentSpawn),
        count(t, StepKind::UserInput),
        count(t, StepKind::Compaction),
    )
}

fn cost(t: &Trace) -> String {
    let card = Compiler::new().compile(t).unwrap();
    assert_eq!(
        card.unpriced_steps, 0,
        "{}: every call is priced",
        t.session_id
    );
    // Claude Code transcripts carry no cost: nothing to reconcile against.
    assert!(card.reported_cost_usd.is_none());
    eprintln!(
        "{}: computed cost ${} (no reported cost in the format)",
        t.session_id, card.total_cost_usd
    );
    card.total_cost_usd.to_string()
}

/// Root-level outcome: unknown, final step = the root's last call with text.
fn check_outcome(t: &Trace, final_id: u32, answer_starts: &str) {
    assert_eq!(t.outcome.status, OutcomeStatus::Unknown);
    let f = t.outcome.final_step.expect("final step");
    assert_eq!(f.0, final_id);
    let s = t.step(f).unwrap();
    assert_eq!(s.kind, StepKind::LlmCall);
    assert_eq!(s.parent, None);
    let ans = t
        .outcome
        .answer
        .as_ref()
        .and_then(|a| a.text.as_deref())
        .unwrap();
    assert!(ans.starts_with(answer_starts), "{ans:?}");
}

#[test]
fn sniffly_fed8ce56_small_1_0_17_with_summary() {
    let Some(t) = one("sniffly/fed8ce56-bc79-401f-a83e-af084253362f.jsonl") else {
        return;
    };
    // 10 assistant records → 4 message ids; 7 Bash tool_use; 3 typed prompts
    assert_eq!(kinds(&t), (4, 7, 0, 3, 0));
    let tok = t.total_tokens();
    assert_eq!(
        (tok.input, tok.cache_read, tok.cache_write_5m, tok.output),
        (88, 44544, 16000, 278)
    );
    assert_eq!(links(&t), (7, 7, 10));
    // one failed command, one the user rejected ("doesn't want to proceed"): denied
    let status = |st| t.steps.iter().filter(|s| s.status == st).count();
    assert_eq!(status(StepStatus::Error), 1);
    assert_eq!(status(StepStatus::Denied), 1);
    assert!(t.metadata.get("summary").is_some_and(|s| !s.is_empty()));
    assert_eq!(
        t.metadata.get("claude_code_version").map(String::as_str),
        Some("1.0.17")
    );
    assert_eq!(flagged(&t), 2);
    check_outcome(&t, 14, "Successfully pushed to GitHub!");
    // sonnet-4: 88×3 + 278×15 + 44544×0.3 + 16000×3.75 µ$
    assert_eq!(cost(&t), "0.0777972");
}

#[test]
fn sniffly_ba79134d() {
    let Some(t) = one("sniffly/ba79134d-b6e9-4867-af0c-6941038c9e4b.jsonl") else {
        return;
    };
    assert_eq!(kinds(&t), (24, 30, 0, 6, 0));
    let tok = t.total_tokens();
    assert_eq!(
        (tok.input, tok.cache_read, tok.cache_write_5m, tok.output),
        (91, 503769, 16072, 2266)
    );
    assert_eq!(links(&t), (30, 30, 36));
    assert_eq!(flagged(&t), 7);
    check_outcome(&t, 60, "The environment activation didn't persist");
    assert_eq!(cost(&t), "0.2456637");
}

#[test]
fn sniffly_d3ad4cdc_write_edit_heavy() {
    let Some(t) = one("sniffly/d3ad4cdc-5657-435d-98fa-0035d53e383d.jsonl") else {
        return;
    };
    // 137 records: 62 message ids, 59 tool_use
    assert_eq!(kinds(&t), (62, 59, 0, 5, 0));
    let tok = t.total_tokens();
    assert_eq!(
        (tok.input, tok.cache_read, tok.cache_write_5m, tok.output),
        (114, 3754072, 174552, 16769)
    );
    assert_eq!(links(&t), (59, 59, 63));
    assert_eq!(
        t.steps
            .iter()
            .filter(|s| s.status == StepStatus::Error)
            .count(),
        4
    );
    // Read 4 + Edit 17 + NotebookEdit 4 reads; Write 8 + Edit 17 + NotebookEdit 4 writes
    let reads: usize = t.steps.iter().map(|s| s.links.reads.len()).sum();
    let writes: usize = t.steps.iter().map(|s| s.links.writes.len()).sum();
    assert_eq!((reads, writes), (25, 29));
    let f = "/Users/chip/dev/ai-music/diverse_musical_ai.py";
    let edits = t
        .steps
        .iter()
        .filter(|s| {
            s.tool.as_deref() == Some("Edit") && s.links.writes == [f] && s.links.reads == [f]
        })
        .count();
    assert_eq!(edits, 16);
    let writes_of = |p: &str| {
        t.steps
            .iter()
            .filter(|s| {
                s.tool.as_deref() == Some("Write")
                    && s.links.writes == [p]
                    && s.links.reads.is_empty()
            })
            .count()
    };
    assert_eq!(writes_of("/Users/chip/dev/ai-music/model_comparison.py"), 1);
    // streaming output_tokens: my rule (content chars/4 > 2×max output + 50) flags 24
    // of 62 (FORMATS.md quotes 26 with a different length measure); e.g. the Write of
    // 16,590 chars in msg_013VbPsC… reports 22 output tokens.
    assert_eq!(flagged(&t), 24);
    let w = t
        .warnings
        .iter()
        .find(|w| w.code == "output_tokens_underreported")
        .unwrap();
    assert!(w.message.starts_with("24 of 62 "), "{}", w.message);
    let s = t
        .steps
        .iter()
        .find(|s| {
            s.source_ref
                .as_deref()
                .is_some_and(|r| r.starts_with("msg_013VbPsC"))
        })
        .unwrap();
    assert_eq!(s.tokens.output, 22);
    assert_eq!(
        s.attributes
            .get("output_tokens_underreported")
            .map(String::as_str),
        Some("true")
    );
    check_outcome(&t, 123, "You're absolutely right.");
    assert_eq!(cost(&t), "2.0326686");
}

#[test]
fn viewer_1af7fc5e() {
    let Some(t) = one("claude-code-viewer/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl") else {
        return;
    };
    assert_eq!(kinds(&t), (7, 12, 0, 1, 0));
    let tok = t.total_tokens();
    assert_eq!(
        (tok.input, tok.cache_read, tok.cache_write_5m, tok.output),
        (93, 103219, 12698, 953)
    );
    assert_eq!(links(&t), (12, 12, 13));
    assert_eq!(flagged(&t), 2);
    check_outcome(&t, 20, "I've created a basic CLAUDE.md");
    assert_eq!(cost(&t), "0.0931572");
}

#[test]
fn viewer_5c0375b4_inlined_sidechains() {
    let Some(t) = one("claude-code-viewer/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl") else {
        return;
    };
    // 20 message ids (main + 2 sidechains), 21 tool_use of which 3 Task
    assert_eq!(kinds(&t), (20, 18, 3, 1, 0));
    let spawns: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::SubagentSpawn)
        .collect();
    // the first Task failed input validation (no prompt): no sub-agent, error status
    assert_eq!(spawns[0].status, StepStatus::Error);
    assert!(t.steps.iter().all(|s| s.parent != Some(spawns[0].id)));
    // the 2nd Task ("Examine the package.json…") owns 3 calls + 2 tools, the 3rd 7 + 6
    for (sp, llm, tools) in [(spawns[1], 3, 2), (spawns[2], 7, 6)] {
        let kids: Vec<_> = t.steps.iter().filter(|s| s.parent == Some(sp.id)).collect();
        assert_eq!(
            kids.iter().filter(|s| s.kind == StepKind::LlmCall).count(),
            llm
        );
        assert_eq!(
            kids.iter().filter(|s| s.kind == StepKind::ToolUse).count(),
            tools
        );
        // consumes: the issuing call, then the sub-agent's last call (its result)
        let last = *sp.links.consumes.last().unwrap();
        let ls = t.step(last).unwrap();
        assert_eq!((ls.kind, ls.parent), (StepKind::LlmCall, Some(sp.id)));
        let out = sp.output.as_ref().and_then(|c| c.text.as_deref()).unwrap();
        let ans = ls.output.as_ref().and_then(|c| c.text.as_deref()).unwrap();
        assert_eq!(out.trim(), ans.trim());
    }
    let tok = t.total_tokens();
    assert_eq!(
        (tok.input, tok.cache_read, tok.cache_write_5m, tok.output),
        (129, 324259, 47747, 3629)
    );
    assert_eq!(links(&t), (21, 23, 22));
    check_outcome(&t, 42, "CLAUDE.md");
    assert_eq!(cost(&t), "0.33115095");
}

#[test]
fn viewer_fe5e1c67_parallel_inlined_sidechains() {
    let Some(t) = one("claude-code-viewer/fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl") else {
        return;
    };
    // 262 assistant records → 170 calls; 167 tool_use incl. 5 Task
    assert_eq!(kinds(&t), (170, 162, 5, 2, 0));
    // per-sidechain (calls, tools) counted on the file by chain, matched by prompt
    let expect = [
        ("Setup Next.js project", 34, 33),
        ("Create data models", 40, 39),
        ("Build TODO components", 9, 8),
        ("Implement state management", 25, 24),
        ("Create main page integration", 53, 52),
    ];
    for (desc, llm, tools) in expect {
        let sp = t
            .steps
            .iter()
            .find(|s| {
                s.kind == StepKind::SubagentSpawn
                    && s.input
                        .as_ref()
                        .and_then(|c| c.text.as_deref())
                        .is_some_and(|i| i.contains(desc))
            })
            .unwrap();
        assert_eq!(
            sp.attributes.get("subagent_type").map(String::as_str),
            Some("general-purpose")
        );
        let kids: Vec<_> = t.steps.iter().filter(|s| s.parent == Some(sp.id)).collect();
        assert_eq!(
            kids.iter().filter(|s| s.kind == StepKind::LlmCall).count(),
            llm,
            "{desc}"
        );
        assert_eq!(
            kids.iter().filter(|s| s.kind == StepKind::ToolUse).count(),
            tools,
            "{desc}"
        );
        assert!(
            kids.iter()
                .all(|k| k.agent.as_deref() == Some("general-purpose") && k.id > sp.id)
        );
        assert_eq!(sp.links.consumes.len(), 2);
    }
    assert_eq!(t.steps.iter().filter(|s| s.parent.is_some()).count(), 317);
    let tok = t.total_tokens();
    assert_eq!(
        (tok.input, tok.cache_read, tok.cache_write_5m, tok.output),
        (818, 3647854, 137976, 51933)
    );
    assert_eq!(links(&t), (167, 172, 169));
    assert_eq!(flagged(&t), 2);
    check_outcome(&t, 339, "CLAUDE.md has been created");
    assert_eq!(cost(&t), "2.3932152");
}

#[test]
fn spotter_short_rejected_tools() {
    let Some(t) = one("spotter/short.jsonl") else {
        return;
    };
    // 5 assistant records, one message id; both tool calls rejected by the user
    assert_eq!(kinds(&t), (1, 2, 0, 2, 0));
    let denied: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Denied)
        .collect();
    assert_eq!(denied.len(), 2);
    assert!(denied.iter().all(|s| {
        s.attributes.get("denial_kind").map(String::as_str) == Some("user_rejected")
            && s.error.is_some()
    }));
    assert!(has_warning(&t, "denied_tool_calls"));
    let tok = t.total_tokens();
    // usage.cache_creation: all 13,835 written tokens are 1-hour writes
    assert_eq!(
        (
            tok.input,
            tok.cache_read,
            tok.cache_write_5m,
            tok.cache_write_1h,
            tok.output
        ),
        (3, 11515, 0, 13835, 13)
    );
    assert_eq!(t.steps[1].links.requests.len(), 2);
    assert_eq!(flagged(&t), 1);
    check_outcome(&t, 2, "Let me check the project structure");
    assert!(has_warning(&t, "skipped_records"));
    // opus-4-6: 3×5 + 13×25 + 11515×0.5 + 13835×10 µ$
    assert_eq!(cost(&t), "0.1444475");
}

#[test]
fn spotter_tool_heavy() {
    let Some(t) = one("spotter/tool_heavy.jsonl") else {
        return;
    };
    assert_eq!(kinds(&t), (4, 6, 0, 6, 0));
    let tok = t.total_tokens();
    assert_eq!(
        (tok.input, tok.cache_read, tok.cache_write_1h, tok.output),
        (54, 88231, 17696, 212)
    );
    assert_eq!(links(&t), (6, 6, 9));
    check_outcome(&t, 4, "");
    assert_eq!(cost(&t), "0.2266455");
}

#[test]
fn spotter_subagent_mirrors_only() {
    let Some(t) = one("spotter/subagent.jsonl") else {
        return;
    };
    // 12 main calls + 5 mirrored sub-agent message ids (agent_progress, each counted
    // once) + the sub-agent's final call, which is not mirrored: added from the Task
    // result's usage (3 in, 29,869 cache read, 892 1h-write, 3,130 out)
    assert_eq!(kinds(&t), (18, 24, 1, 3, 0));
    let sp = t
        .steps
        .iter()
        .find(|s| s.kind == StepKind::SubagentSpawn)
        .unwrap();
    assert_eq!(
        sp.attributes.get("subagent_type").map(String::as_str),
        Some("Plan")
    );
    let kids: Vec<_> = t.steps.iter().filter(|s| s.parent == Some(sp.id)).collect();
    assert_eq!(
        kids.iter().filter(|s| s.kind == StepKind::LlmCall).count(),
        6
    );
    assert_eq!(
        kids.iter().filter(|s| s.kind == StepKind::ToolUse).count(),
        9
    );
    assert!(
        kids.iter()
            .filter(|s| s.kind == StepKind::LlmCall)
            .all(|s| s.model.as_deref() == Some("claude-haiku-4-5-20251001"))
    );
    let synth = *sp.links.consumes.last().unwrap();
    let s = t.step(synth).unwrap();
    assert_eq!(
        s.attributes.get("synthesized").map(String::as_str),
        Some("task_result_usage")
    );
    assert_eq!(
        (
            s.tokens.input,
            s.tokens.cache_read,
            s.tokens.cache_write_1h,
            s.tokens.output
        ),
        (3, 29869, 892, 3130)
    );
    assert!(has_warning(&t, "synthesized_subagent_call"));
    let tok = t.total_tokens();
    assert_eq!(
        (tok.input, tok.cache_read, tok.cache_write_1h, tok.output),
        (1603, 552498, 41019, 4723)
    );
    assert_eq!(links(&t), (25, 26, 28));
    check_outcome(&t, 46, "## Beads Created");
    assert_eq!(cost(&t), "0.5781802");
}

#[test]
fn spotter_fa812bfe_2x_with_subagent_files_and_compaction() {
    let Some(t) = one("spotter/fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl") else {
        return;
    };
    assert_eq!(t.source.files.len(), 4, "main file + 3 sub-agent files");
    // 157 main calls + 11 (a93ccab) + 9 (aa84377) + 1 (acompact); agent_progress mirrors
    // (94 records) add nothing. 197 + 25 + 21 tool_use, 2 of them Task. 2 typed
    // prompts; the third user message is the <task-notification> of a background
    // Bash command: an `other` step consuming that command's output.
    assert_eq!(kinds(&t), (178, 241, 2, 2, 1));
    let notes: Vec<_> = t
        .steps
        .iter()
        .filter(|s| {
            s.attributes
                .get("event")
                .is_some_and(|e| e == "task_notification")
        })
        .collect();
    assert_eq!(notes.len(), 1);
    let bg = t.step(notes[0].links.consumes[0]).unwrap();
    assert_eq!(bg.tool.as_deref(), Some("Bash"));
    assert_eq!(
        bg.attributes.get("background_task_id").map(String::as_str),
        Some("b7b23b2")
    );
    assert!(!has_warning(&t, "task_notification_unmatched"));
    let spawns: Vec<_> = t
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::SubagentSpawn)
        .collect();
    for (sp, llm, tools, out) in [(spawns[0], 11, 25, 3473), (spawns[1], 9, 21, 4672)] {
        assert_eq!(
            sp.attributes.get("subagent_type").map(String::as_str),
            Some("Explore")
        );
        let kids: Vec<_> = t.steps.iter().filter(|s| s.parent == Some(sp.id)).collect();
        assert_eq!(
            kids.iter().filter(|s| s.kind == StepKind::LlmCall).count(),
            llm
        );
        assert_eq!(
            kids.iter().filter(|s| s.kind == StepKind::ToolUse).count(),
            tools
        );
        assert!(kids.iter().all(|k| k.agent.as_deref() == Some("Explore")));
        // the sub-agent's last call: output_tokens 4 in the file, corrected to the
        // Task result's final count
        let last = t.step(*sp.links.consumes.last().unwrap()).unwrap();
        assert_eq!(last.parent, Some(sp.id));
        assert_eq!(last.tokens.output, out);
        assert_eq!(
            last.attributes
                .get("output_tokens_source")
                .map(String::as_str),
            Some("task_result_usage")
        );
    }
    // compaction: one step at the compact_boundary, parent of the acompact agent's call
    let c = t
        .steps
        .iter()
        .find(|s| s.kind == StepKind::Compaction)
        .unwrap();
    assert_eq!(
        c.attributes.get("pre_tokens").map(String::as_str),
        Some("167117")
    );
    assert!(
        c.output
            .as_ref()
            .and_then(|o| o.text.as_deref())
            .unwrap()
            .starts_with("This session is being continued")
    );
    let ck: Vec<_> = t.steps.iter().filter(|s| s.parent == Some(c.id)).collect();
    assert_eq!(ck.len(), 1);
    assert_eq!(
        (ck[0].kind, ck[0].tokens.cache_read),
        (StepKind::LlmCall, 166873)
    );
    // the first root call after the boundary got the compaction delivered
    let next = t
        .steps
        .iter()
        .find(|s| s.id > ck[0].id && s.kind == StepKind::LlmCall && s.parent.is_none())
        .unwrap();
    assert_eq!(next.links.context, vec![c.id]);
    let tok = t.total_tokens();
    assert_eq!(tok.cache_read, 15373675 + 329070 + 306055 + 166873);
    assert_eq!(tok.input, 1502 + 70 + 52 + 3);
    // 36256 main + 28 + 17 + 6 in the files, + (3473 − 4) + (4672 − 4) corrections
    assert_eq!(tok.output, 44444);
    assert_eq!(links(&t), (243, 246, 247)); // +1 consumes: the task notification
    // the rule flags 29 of the 157 main-file calls (FORMATS.md quotes 31), 11 + 6 of the
    // sub-agent calls and the compaction call; the 2 corrected calls drop out → 45
    assert_eq!(flagged(&t), 45);
    let main_flagged = t
        .steps
        .iter()
        .filter(|s| {
            s.parent.is_none()
                && s.kind == StepKind::LlmCall
                && s.attributes.contains_key("output_tokens_underreported")
        })
        .count();
    assert_eq!(main_flagged, 29);
    assert!(has_warning(&t, "output_tokens_corrected"));
    let skipped = t
        .warnings
        .iter()
        .filter(|w| w.code == "skipped_records")
        .count();
    assert_eq!(skipped, 1, "noise is summarised in one warning");
    let reads: usize = t.steps.iter().map(|s| s.links.reads.len()).sum();
    assert_eq!(reads, 120);
    check_outcome(&t, 425, "All pushed.");
    // opus-4-6 main + compaction, haiku-4-5 sub-agents (checked in python with Fractions)
    assert_eq!(cost(&t), "10.55303475");
}

#[test]
fn spotter_directory_compiles_fa812bfe_as_one_session() {
    let Some(root) = crate::fixtures::root() else {
        return;
    };
    let files = import::discover(&root.join(DIR).join("spotter")).unwrap();
    assert_eq!(files.len(), 4, "{files:?}");
    let mut sessions = Vec::new();
    for f in &files {
        assert_eq!(
            import::detect(f).unwrap(),
            Some(Format::ClaudeCode),
            "{}",
            f.display()
        );
        sessions.extend(tracecard_core::load(f, None).unwrap());
    }
    let fa: Vec<_> = sessions
        .iter()
        .filter(|t| t.session_id.starts_with("fa812bfe"))
        .collect();
    assert_eq!(fa.len(), 1);
    assert_eq!(count(fa[0], StepKind::LlmCall), 178);
}

#[test]
fn subagent_file_alone_is_its_own_session() {
    let Some(p) = crate::fixtures::path(&format!(
        "{DIR}/spotter/fa812bfe-b295-4cca-9c2f-fdf01028cb46/subagents/agent-a93ccab.jsonl"
    )) else {
        return;
    };
    let t = tracecard_core::load(&p, Some(Format::ClaudeCode))
        .unwrap()
        .remove(0);
    t.validate().unwrap();
    // read on its own, the Task prompt is the session's user input
    assert_eq!(kinds(&t), (11, 25, 0, 1, 0));
    assert!(t.steps.iter().all(|s| s.parent.is_none()));
    assert!(
        t.steps[0]
            .output
            .as_ref()
            .and_then(|c| c.text.as_deref())
            .unwrap()
            .starts_with("Explore the codebase")
    );
}

// ---------------------------------------------------------------- malformed input

fn load_bytes(bytes: &[u8]) -> tracecard_core::Result<Vec<Trace>> {
    import::load_input(
        &Input::from_bytes("x.jsonl", bytes.to_vec()),
        Some(Format::ClaudeCode),
    )
}

const U: &str = r#"{"type":"user","uuid":"u1","parentUuid":null,"sessionId":"s","timestamp":"2025-01-01T00:00:00Z","message":{"role":"user","content":"hi"}}"#;
const A: &str = r#"{"type":"assistant","uuid":"a1","parentUuid":"u1","sessionId":"s","timestamp":"2025-01-01T00:00:01Z","message":{"id":"msg_1","model":"claude-sonnet-4-20250514","content":[{"type":"text","text":"hello"}],"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":0,"output_tokens":2}}}"#;

#[test]
fn minimal_session_and_fallback_cache_write() {
    let t = load_bytes(format!("{U}\n{A}\n").as_bytes())
        .unwrap()
        .remove(0);
    assert_eq!(t.session_id, "s");
    assert_eq!(kinds(&t), (1, 0, 0, 1, 0));
    // no usage.cache_creation: all cache_creation_input_tokens are 5m writes
    assert_eq!(t.steps[1].tokens.cache_write_5m, 5);
    assert_eq!(t.steps[1].links.context, vec![t.steps[0].id]);
    // auto-detected
    let t = import::load_input(&Input::from_bytes("s.jsonl", format!("{U}\n{A}\n")), None).unwrap();
    assert_eq!(t[0].source.format, "claude_code");
}

#[test]
fn synthetic_and_unknown_records_are_skipped_with_warnings() {
    let synth = A
        .replace("claude-sonnet-4-20250514", "<synthetic>")
        .replace("msg_1", "msg_2")
        .replace("\"a1\"", "\"a2\"");
    let unk = r#"{"type":"teleport","uuid":"x","sessionId":"s"}"#;
    let t = load_bytes(format!("{U}\n{A}\n{synth}\n{unk}\n").as_bytes())
        .unwrap()
        .remove(0);
    assert_eq!(count(&t, StepKind::LlmCall), 1);
    assert!(has_warning(&t, "unknown_record"));
    let w = t
        .warnings
        .iter()
        .find(|w| w.code == "skipped_records")
        .unwrap();
    assert!(w.message.contains("<synthetic>"), "{}", w.message);
}

#[test]
fn wrong_types_are_parse_errors_with_line_and_field() {
    let bad = A.replace("\"output_tokens\":2", "\"output_tokens\":\"many\"");
    let e = load_bytes(format!("{U}\n{bad}\n").as_bytes()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    assert_eq!(e.line(), Some(2));
    assert!(e.to_string().contains("output_tokens"), "{e}");
    let bad = A.replace(
        "\"content\":[{\"type\":\"text\",\"text\":\"hello\"}]",
        "\"content\":42",
    );
    let e = load_bytes(format!("{U}\n{bad}\n").as_bytes()).unwrap_err();
    assert_eq!((e.kind(), e.line()), (ErrorKind::Parse, Some(2)));
    let bad = U.replace(
        "\"message\":{\"role\":\"user\",\"content\":\"hi\"}",
        "\"message\":\"hi\"",
    );
    let e = load_bytes(bad.as_bytes()).unwrap_err();
    assert_eq!((e.kind(), e.line()), (ErrorKind::Parse, Some(1)));
    let bad = U.replace("2025-01-01T00:00:00Z", "yesterday");
    let e = load_bytes(bad.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("timestamp"), "{e}");
    let e = load_bytes(b"[1,2,3]\n").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    let e = load_bytes(format!("{U}\n{{not json\n{A}\n").as_bytes()).unwrap_err();
    assert_eq!(e.line(), Some(2));
}

#[test]
fn invalid_utf8_empty_truncated_and_deep_nesting() {
    let mut b = format!("{U}\n").into_bytes();
    b.extend_from_slice(&[0xff, 0xfe, b'\n']);
    let e = load_bytes(&b).unwrap_err();
    assert_eq!((e.kind(), e.line()), (ErrorKind::Parse, Some(2)));
    assert_eq!(load_bytes(b"").unwrap_err().kind(), ErrorKind::Parse);
    assert_eq!(load_bytes(b"\n  \n").unwrap_err().kind(), ErrorKind::Parse);
    // a session still being written: last line cut, no newline
    let cut = format!("{U}\n{}", &A[..A.len() - 30]);
    let t = load_bytes(cut.as_bytes()).unwrap().remove(0);
    assert_eq!(count(&t, StepKind::UserInput), 1);
    assert!(has_warning(&t, "truncated_line"));
    let deep = "[".repeat(100_000);
    assert_eq!(
        load_bytes(deep.as_bytes()).unwrap_err().kind(),
        ErrorKind::Parse
    );
    let deep_field = format!(
        "{{\"type\":\"user\",\"sessionId\":\"s\",\"message\":{{\"content\":{}}}}}\n",
        "[".repeat(100_000)
    );
    assert_eq!(
        load_bytes(deep_field.as_bytes()).unwrap_err().kind(),
        ErrorKind::Parse
    );
}

#[test]
fn orphan_results_and_dangling_sidechains_do_not_panic() {
    let orphan = r#"{"type":"user","uuid":"u9","parentUuid":"a1","sessionId":"s","timestamp":"2025-01-01T00:00:02Z","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_nope","content":"x"}]}}"#;
    let side = r#"{"type":"user","uuid":"s1","parentUuid":null,"isSidechain":true,"sessionId":"s","timestamp":"2025-01-01T00:00:03Z","message":{"role":"user","content":"do a thing"}}"#;
    let side_a = A
        .replace("\"a1\"", "\"sa\"")
        .replace("\"u1\"", "\"s1\"")
        .replace("msg_1", "msg_s")
        .replace(
            "\"parentUuid\":\"s1\"",
            "\"parentUuid\":\"s1\",\"isSidechain\":true",
        );
    let t = load_bytes(format!("{U}\n{A}\n{orphan}\n{side}\n{side_a}\n").as_bytes())
        .unwrap()
        .remove(0);
    t.validate().unwrap();
    assert!(has_warning(&t, "orphan_tool_output"));
    assert!(has_warning(&t, "sidechain_unmatched"));
    assert_eq!(count(&t, StepKind::LlmCall), 2);
    // records of odd shape where optional data is missing
    let bare =
        r#"{"type":"assistant","sessionId":"s","message":{"content":[{"type":"tool_use"}]}}"#;
    let t = load_bytes(format!("{bare}\n").as_bytes())
        .unwrap()
        .remove(0);
    assert_eq!(kinds(&t), (1, 1, 0, 0, 0));
}
