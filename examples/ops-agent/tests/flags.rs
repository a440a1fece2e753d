//! tracecard's verdicts against true replay of an agent the analysis was not
//! written for. Seeds 0..100 are the tuning seeds; the report seeds (10_000..)
//! are never looked at while changing the analysis (figures in BENCHMARKS.md).

use std::collections::BTreeSet;

use ops_agent::{ContentLevel, Status, run_with};
use tracecard_core::{OracleEvidence, Outcome, OutcomeStatus, Trace};
use tracecard_flagbench::{Report, ScriptedAgent, measure};

/// The ops agent at one content level.
struct Ops(ContentLevel);

impl ScriptedAgent for Ops {
    fn name(&self) -> &str {
        "ops-agent"
    }
    fn baseline(&self, seed: u64) -> Trace {
        run_with(seed, &BTreeSet::new(), self.0).trace
    }
    fn replay(&self, seed: u64, removed: &BTreeSet<u32>) -> Outcome {
        let o = run_with(seed, removed, self.0).outcome;
        Outcome {
            status: match o.status {
                Status::Success => OutcomeStatus::Success,
                Status::Failure => OutcomeStatus::Failure,
            },
            evidence: o
                .evidence
                .into_iter()
                .map(|e| OracleEvidence {
                    verifier: e.verifier,
                    passed: Some(e.passed),
                    message: Some(e.message),
                    score: None,
                    artifacts: Vec::new(),
                })
                .collect(),
            ..Outcome::default()
        }
    }
}

/// Seeds per run: enough for stable figures, small enough for a debug test run.
const SEEDS: u64 = 40;
/// The report seeds start here.
const REPORT: u64 = 10_000;

fn show(rep: &Report, label: &str) {
    eprintln!("{}", rep.summary(label));
    for m in rep.misses.iter().filter(|m| m.starts_with("FP")).take(15) {
        eprintln!("  {m}");
    }
}

fn dataflow_only(level: ContentLevel, label: &str) {
    let rep = measure(&Ops(level), REPORT..REPORT + SEEDS, false, 0);
    show(&rep, label);
    assert!(rep.strict.tp > 50, "{}", rep.summary("real waste is found"));
    assert!(rep.strict.precision() >= 0.95, "{}", rep.summary(label));
    assert!(rep.jointly_valid_share() >= 0.95, "{}", rep.summary(label));
}

#[test]
fn dataflow_flags_hold_with_full_content() {
    dataflow_only(ContentLevel::Full, "ops agent, full content, dataflow only");
}

#[test]
fn dataflow_flags_hold_with_partial_content() {
    dataflow_only(
        ContentLevel::Partial,
        "ops agent, partial content, dataflow only",
    );
}

#[test]
fn replayed_flags_reach_the_targets() {
    let rep = measure(&Ops(ContentLevel::Full), REPORT..REPORT + SEEDS, true, 32);
    show(&rep, "ops agent, full content, replayed");
    assert!(
        rep.strict.precision() >= 0.99,
        "{}",
        rep.summary("precision")
    );
    assert!(rep.joint.recall() >= 0.85, "{}", rep.summary("recall"));
    assert_eq!(rep.jointly_valid, rep.sessions, "{}", rep.summary("joint"));
    assert!(rep.median_replays() <= 12, "{}", rep.summary("replays"));
}

/// Tuning aid: `cargo test -p ops-agent --release --test flags -- --ignored tune --nocapture`.
#[test]
#[ignore = "tuning aid on the tuning seeds"]
fn tune() {
    for (level, name) in [
        (ContentLevel::Full, "full"),
        (ContentLevel::Partial, "partial"),
    ] {
        let rep = measure(&Ops(level), 0..100, false, 0);
        eprintln!("{}", rep.summary(&format!("tune {name} dataflow")));
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        for m in &rep.misses {
            let key = m
                .split(": ")
                .nth(1)
                .unwrap_or("")
                .split('(')
                .next()
                .unwrap_or("")
                .to_owned();
            *kinds.entry(format!("{} {key}", &m[..2])).or_default() += 1;
        }
        for (k, n) in kinds {
            eprintln!("  {n:5} {k}");
        }
        for m in rep.misses.iter().filter(|m| m.starts_with("FP")).take(30) {
            eprintln!("  {m}");
        }
    }
    let rep = measure(&Ops(ContentLevel::Full), 0..100, true, 32);
    eprintln!("{}", rep.summary("tune full replayed"));
    for m in rep.misses.iter().take(30) {
        eprintln!("  {m}");
    }
}

/// Tuning aid: why dataflow calls removable steps needed.
#[test]
#[ignore = "tuning aid on the tuning seeds"]
fn tune_needed() {
    use tracecard_core::analysis::Analysis;
    let mut why = std::collections::BTreeMap::<String, usize>::new();
    for seed in 0..30 {
        let trace = run_with(seed, &BTreeSet::new(), ContentLevel::Full).trace;
        let truth = ops_agent::strict_truth(seed);
        let a = Analysis::run(&trace, tracecard_core::PriceTable::bundled()).unwrap();
        for (i, s) in trace.steps.iter().enumerate() {
            if a.live[i] && truth[i] && s.kind != tracecard_core::StepKind::UserInput {
                let ex = a.explain(&trace, s.id).unwrap();
                let live = ex
                    .lines()
                    .find(|l| l.contains("live:"))
                    .unwrap_or("")
                    .to_owned();
                let sink = live.rsplit("OUTCOME").next().unwrap_or("").to_owned();
                let first = live
                    .split(" -> ")
                    .nth(1)
                    .unwrap_or("")
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .to_owned();
                *why.entry(format!(
                    "{:?} {} | {} | {}",
                    s.kind,
                    s.tool.as_deref().unwrap_or(""),
                    first.split('[').nth(1).unwrap_or(""),
                    sink
                ))
                .or_default() += 1;
                if seed < 3 {
                    eprintln!("seed {seed} {ex}");
                }
            }
        }
    }
    for (k, n) in why {
        eprintln!("{n:5} {k}");
    }
}
