//! Redundancy flags on real traces, checked against hand-made ground truth.

use tracecard_core::{
    Compiler, Outcome, OutcomeStatus, Replayer, StepId, StepKind, Trace, TraceCard, Verdict,
};

fn card(rel: &str) -> Option<TraceCard> {
    let traces = crate::fixtures::load(rel)?;
    assert_eq!(traces.len(), 1, "{rel}");
    Some(Compiler::new().compile(&traces[0]).unwrap())
}

/// A replayer that knows the sidecar's ground truth: removing anything but the
/// wasted steps changes the outcome.
struct SidecarOracle {
    wasted: Vec<String>,
}

impl Replayer for SidecarOracle {
    fn name(&self) -> &str {
        "sidecar"
    }
    fn replay(&self, trace: &Trace, removed: &[StepId]) -> tracecard_core::Result<Outcome> {
        let harmless = removed.iter().all(|id| {
            trace
                .step(*id)
                .and_then(|s| s.source_ref.as_ref())
                .is_some_and(|r| self.wasted.contains(r))
        });
        Ok(Outcome {
            status: if harmless {
                OutcomeStatus::Success
            } else {
                OutcomeStatus::Failure
            },
            ..Outcome::default()
        })
    }
}

fn by_verdict(card: &TraceCard, v: Verdict) -> Vec<String> {
    let mut got: Vec<String> = card
        .steps
        .iter()
        .filter(|s| s.verdict == v)
        .map(|s| s.source_ref.clone().unwrap_or_default())
        .collect();
    got.sort();
    got
}

/// The otlp-real sidecars name every wasted tool call (by span id) and the model
/// call that issued it. Without a replayer, the duplicate call is proven redundant;
/// the unused read was delivered to a model call, so it is `unproven` (nothing in
/// the trace proves it was ignored) and so is the call that asked for it; the clean
/// run has nothing flagged. A replayer that knows the truth turns exactly the
/// sidecar's steps into `redundant`, confirmed by replay.
#[test]
fn otlp_real_flags_match_the_sidecars() {
    for framework in ["pydantic-ai", "vercel-ai-sdk-v6", "vercel-ai-sdk-v7"] {
        for scenario in ["s1_unused_file_read", "s2_duplicate_tool_call", "s4_clean"] {
            let rel = format!("otlp-real/{framework}/{scenario}.otlp.json");
            let Some(card) = card(&rel) else { return };
            let side_path =
                crate::fixtures::path(&format!("otlp-real/{framework}/{scenario}.waste.json"))
                    .unwrap();
            let side: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(side_path).unwrap()).unwrap();
            let mut want: Vec<String> = Vec::new();
            for w in side["wasted"].as_array().unwrap() {
                want.push(w["tool_span_id"].as_str().unwrap().to_owned());
                want.push(w["issued_by_llm_span_id"].as_str().unwrap().to_owned());
            }
            want.sort();
            let flagged = by_verdict(&card, Verdict::Redundant);
            match scenario {
                "s1_unused_file_read" => {
                    assert!(flagged.is_empty(), "{rel}: {flagged:?}");
                    assert_eq!(by_verdict(&card, Verdict::Unproven), want, "{rel}");
                    assert!(card.unproven_cost_usd > tracecard_core::Usd::ZERO, "{rel}");
                }
                _ => assert_eq!(flagged, want, "{rel}: flagged steps (by span id)"),
            }
            for s in card.steps.iter().filter(|s| s.redundant) {
                let reason = s.reason.as_deref().unwrap();
                if s.kind == StepKind::ToolUse {
                    assert!(reason.starts_with("duplicate of step"), "{rel}: {reason}");
                }
                assert_eq!(s.confirmed_by.as_deref(), Some("dataflow"));
            }
            if scenario == "s2_duplicate_tool_call" {
                assert!(card.redundant_cost_usd > tracecard_core::Usd::ZERO, "{rel}");
            }
            // with a replayer that knows the truth, exactly the sidecar's steps
            let traces = crate::fixtures::load(&rel).unwrap();
            let oracle = SidecarOracle {
                wasted: want.clone(),
            };
            let replayed = Compiler::new()
                .replayer(&oracle)
                .compile(&traces[0])
                .unwrap();
            assert_eq!(by_verdict(&replayed, Verdict::Redundant), want, "{rel}");
            for s in replayed.steps.iter().filter(|s| s.redundant) {
                assert_eq!(s.confirmed_by.as_deref(), Some("replay:sidecar"), "{rel}");
            }
            assert!(replayed.replays_used.is_some_and(|n| n <= 32), "{rel}");
        }
    }
}

/// The seed's example in the wild: a Claude Code session where the final answer
/// and every file edit stay live, and re-reads of unchanged files are flagged.
#[test]
fn claude_code_flags_are_plausible() {
    let Some(card) = card("claude-code/sniffly/d3ad4cdc-5657-435d-98fa-0035d53e383d.jsonl") else {
        return;
    };
    let last_llm = card
        .steps
        .iter()
        .rev()
        .find(|s| s.kind == StepKind::LlmCall && s.parent.is_none())
        .unwrap();
    assert!(!last_llm.redundant, "the final answer is never redundant");
    // every write/edit whose file version survives is live
    let traces =
        crate::fixtures::load("claude-code/sniffly/d3ad4cdc-5657-435d-98fa-0035d53e383d.jsonl")
            .unwrap();
    let t = &traces[0];
    let mut last_writer = std::collections::HashMap::new();
    for s in &t.steps {
        for w in &s.links.writes {
            last_writer.insert(w.clone(), s.id);
        }
    }
    for id in last_writer.values() {
        assert!(
            !card.step(*id).unwrap().redundant,
            "final version writer {id} flagged"
        );
    }
    // user inputs are never flagged
    assert!(
        card.steps
            .iter()
            .filter(|s| s.kind == StepKind::UserInput)
            .all(|s| !s.redundant)
    );
    let flagged = card.steps.iter().filter(|s| s.redundant).count();
    assert!(
        flagged > 0 && flagged < card.steps.len() / 2,
        "{flagged} of {}",
        card.steps.len()
    );
}

/// Every file under the fixtures folder: each one a trace importer recognises is
/// imported and compiled with the analysis, and the verdicts respect the invariants a
/// user relies on: the final answer, user inputs and the final version of every file
/// are never flagged, every flag has a reason and an evidence level, and every
/// producer of a kept step is kept.
#[test]
fn every_fixture_compiles_and_flags_respect_the_invariants() {
    let Some(root) = crate::fixtures::root() else {
        return;
    };
    let mut sessions = 0;
    let mut flagged = 0;
    let mut formats = std::collections::BTreeSet::new();
    for path in tracecard_core::import::discover(&root).unwrap() {
        let Some(format) = tracecard_core::import::detect(&path).unwrap() else {
            continue;
        };
        let traces = tracecard_core::load(&path, Some(format))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for t in &traces {
            let card = Compiler::new()
                .compile(t)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let a =
                tracecard_core::analysis::Analysis::run(t, tracecard_core::PriceTable::bundled())
                    .unwrap();
            sessions += 1;
            formats.insert(format.as_str());
            let name = format!("{} / {}", path.display(), t.session_id);
            if let Some(f) = t.outcome.final_step {
                assert!(
                    !card.step(f).unwrap().redundant,
                    "{name}: final step {f} flagged"
                );
            }
            let mut last_writer = std::collections::HashMap::new();
            for s in &t.steps {
                for w in &s.links.writes {
                    last_writer.insert(w.clone(), s.id);
                }
            }
            for (file, id) in &last_writer {
                assert!(
                    !card.step(*id).unwrap().redundant,
                    "{name}: last writer {id} of {file} flagged"
                );
            }
            for s in &card.steps {
                if s.kind == StepKind::UserInput {
                    assert!(!s.redundant, "{name}: user input {} flagged", s.id);
                }
                if s.redundant {
                    flagged += 1;
                    assert!(
                        s.reason.is_some() && s.evidence.is_some(),
                        "{name}: step {} lacks a reason",
                        s.id
                    );
                }
            }
            for e in a.edges.iter().filter(|e| e.is_use()) {
                if e.consumer().is_none_or(|c| a.is_live(c)) {
                    assert!(
                        a.is_live(e.producer()),
                        "{name}: producer {} of a kept step is flagged",
                        e.producer()
                    );
                }
            }
        }
    }
    eprintln!(
        "{sessions} sessions in {} formats, {flagged} steps flagged",
        formats.len()
    );
    assert!(sessions >= 60, "{sessions} sessions");
    assert_eq!(formats.len(), 8, "{formats:?}"); // every format with fixtures (none exist for OpenClaw)
}

/// Hand-checked harness runs: SWE-agent's test-repo run is clean (find the file, open
/// it, edit the line it showed, run it, submit), and OpenHands' `finish` hands in the
/// result, so neither is ever waste.
#[test]
fn clean_harness_runs_have_no_waste() {
    let Some(swe) = card("swe-agent/swe-agent__test-repo-i1.gpt4.traj") else {
        return;
    };
    let flagged: Vec<_> = swe
        .steps
        .iter()
        .filter(|s| s.redundant)
        .map(|s| (s.id, s.reason.clone()))
        .collect();
    assert!(flagged.is_empty(), "{flagged:?}");
    let Some(oh) = card("openhands/basic.json") else {
        return;
    };
    let finish = oh
        .steps
        .iter()
        .find(|s| s.tool.as_deref() == Some("finish"))
        .unwrap();
    assert!(!finish.redundant);
}

/// mini-swe-agent hands in its patch with a shell command whose output is the
/// submission; a pydantic-ai run ends with its structured `final_result` call. Both
/// are the outcome, never waste.
#[test]
fn submissions_are_never_waste() {
    let Some(mini) = card("mini-swe-agent/django__django-12983.deepseek-chat.traj.json") else {
        return;
    };
    let last_tool = mini
        .steps
        .iter()
        .rev()
        .find(|s| s.kind == StepKind::ToolUse)
        .unwrap();
    assert!(
        !last_tool.redundant,
        "the submission step {} is flagged",
        last_tool.id
    );
    let Some(pai) = card("langfuse/pydantic-ai-tools-2025-12-04.trace.json") else {
        return;
    };
    let last_llm = pai
        .steps
        .iter()
        .rev()
        .find(|s| s.kind == StepKind::LlmCall)
        .unwrap();
    assert!(
        !last_llm.redundant,
        "the final_result call {} is flagged",
        last_llm.id
    );
}
