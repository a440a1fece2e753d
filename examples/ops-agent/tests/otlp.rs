//! The ops agent's sessions rendered as OTLP GenAI JSON at the content level of the
//! `openai` JS contrib instrumentation (model spans without messages, tool spans with
//! arguments and results), imported by tracecard's OTLP importer: the dataflow-only
//! `redundant` flags must stay right (precision ≥ 0.95) and removable together
//! (≥ 95% of sessions). Report seeds only (figures in BENCHMARKS.md).

use std::collections::BTreeSet;

use ops_agent::otlp::{step_of_span, to_otlp_genai};
use ops_agent::{ContentLevel, run_with};
use tracecard_core::{Compiler, StepKind, Verdict};

const REPORT: u64 = 10_000;
const SEEDS: u64 = 40;

#[test]
fn dataflow_flags_hold_on_otlp_genai_without_messages() {
    check(REPORT..REPORT + SEEDS, "report");
}

/// Tuning aid: the same on the tuning seeds, with the reasons of wrong flags.
#[test]
#[ignore = "tuning aid on the tuning seeds"]
fn tune_otlp() {
    check(0..SEEDS, "tuning");
}

fn check(seeds: std::ops::Range<u64>, label: &str) {
    let n = seeds.end - seeds.start;
    let dir = std::env::temp_dir().join(format!("ops-agent-otlp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut tp, mut fp, mut valid, mut steps) = (0u32, 0u32, 0u32, 0usize);
    let mut wrong = Vec::new();
    for seed in seeds {
        let session = run_with(seed, &BTreeSet::new(), ContentLevel::Full);
        let path = dir.join(format!("ops-{seed}.otlp.json"));
        std::fs::write(&path, to_otlp_genai(&session.trace)).unwrap();
        let traces = tracecard_core::load(&path, None).unwrap();
        assert_eq!(traces.len(), 1, "one trace per session");
        let trace = &traces[0];
        // every model call, tool call and spawn of the session is one step
        let expected = session
            .trace
            .steps
            .iter()
            .filter(|s| !matches!(s.kind, StepKind::UserInput | StepKind::Compaction))
            .count();
        let imported: Vec<(u32, StepKind)> = trace
            .steps
            .iter()
            .filter_map(|s| Some((step_of_span(s.source_ref.as_deref()?)?, s.kind)))
            .filter(|(id, _)| *id != u32::MAX)
            .collect();
        assert_eq!(imported.len(), expected, "seed {seed}: steps imported");
        for (id, kind) in &imported {
            assert_eq!(
                session.trace.steps[*id as usize - 1].kind,
                *kind,
                "seed {seed} step {id}"
            );
        }
        steps += expected;
        let card = Compiler::new().compile(trace).unwrap();
        let flagged: BTreeSet<u32> = card
            .steps
            .iter()
            .filter(|s| s.verdict == Verdict::Redundant)
            .map(|s| {
                let src = trace.step(s.id).and_then(|t| t.source_ref.as_deref());
                src.and_then(step_of_span)
                    .unwrap_or_else(|| panic!("seed {seed}: flagged step {} has no span", s.id))
            })
            .collect();
        let truth = ops_agent::strict_truth(seed);
        for &id in &flagged {
            if truth[id as usize - 1] {
                tp += 1;
            } else {
                fp += 1;
                let s = card.steps.iter().find(|s| {
                    trace
                        .step(s.id)
                        .and_then(|t| t.source_ref.as_deref())
                        .and_then(step_of_span)
                        == Some(id)
                });
                wrong.push(format!(
                    "seed {seed} step {id} {:?}: {}",
                    s.and_then(|s| s.tool.clone()),
                    s.and_then(|s| s.reason.clone()).unwrap_or_default()
                ));
            }
        }
        valid += u32::from(ops_agent::keeps_outcome(seed, &flagged));
    }
    std::fs::remove_dir_all(&dir).ok();
    let precision = f64::from(tp) / f64::from((tp + fp).max(1));
    let share = f64::from(valid) / n as f64;
    eprintln!(
        "ops agent as OTLP GenAI (no messages), dataflow only, {label} seeds: {n} sessions, {steps} steps | strict precision {precision:.3} (tp {tp} fp {fp}) | all flags removable together in {:.1}% of sessions",
        100.0 * share
    );
    assert!(tp > 0, "real waste is found");
    for w in &wrong {
        eprintln!("  FP {w}");
    }
    assert!(precision >= 0.95, "precision {precision:.3}");
    assert!(share >= 0.95, "joint validity {share:.3}");
}
