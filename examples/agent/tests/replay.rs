//! The dataflow flags against true replay of the example agent, over many
//! generated sessions: precision and recall, and the replayer's confirmation.

use std::collections::BTreeSet;

use tracecard_core::analysis::Analysis;
use tracecard_core::{Compiler, OutcomeStatus, PriceTable, StepKind};
use tracecard_example_agent::{AgentReplayer, Task, run, true_redundancy};
use tracecard_flagbench::{ScriptedAgent, measure};

#[test]
fn replay_is_real_and_deterministic() {
    for seed in 0..30 {
        let task = Task::generate(seed);
        let a = run(&task, &BTreeSet::new());
        let b = run(&task, &BTreeSet::new());
        assert_eq!(a.trace.steps, b.trace.steps, "seed {seed}");
        assert_eq!(
            a.outcome.status,
            OutcomeStatus::Success,
            "seed {seed}: the unskipped run solves its task: {:?}",
            a.outcome
        );
        // removing the final answer always breaks the outcome
        let last = a.trace.outcome.final_step.expect("final step");
        let without = run(&task, &BTreeSet::from([last.0]));
        assert_eq!(
            without.outcome.status,
            OutcomeStatus::Failure,
            "seed {seed}"
        );
    }
}

/// The example agent as a [`ScriptedAgent`] for the shared scorer.
struct Example;

impl ScriptedAgent for Example {
    fn name(&self) -> &str {
        "example-agent"
    }
    fn baseline(&self, seed: u64) -> tracecard_core::Trace {
        run(&Task::generate(seed), &BTreeSet::new()).trace
    }
    fn replay(&self, seed: u64, removed: &BTreeSet<u32>) -> tracecard_core::Outcome {
        run(&Task::generate(seed), removed).outcome
    }
}

/// Without a replayer, `redundant` is a claim a reviewer would accept: precision
/// against strict per-step truth, and every session survives removing all its
/// flags together. Recall is what positive evidence of waste allows (unused but
/// delivered reads are `unproven`, left to a replay).
#[test]
fn dataflow_flags_against_true_replay() {
    let rep = measure(&Example, 0..300, false, 0);
    eprintln!("{}", rep.summary("example agent, dataflow only"));
    for m in rep.misses.iter().filter(|m| m.starts_with("FP")).take(20) {
        eprintln!("  {m}");
    }
    assert!(
        rep.strict.tp > 100,
        "the generated sessions contain real waste"
    );
    assert!(
        rep.strict.precision() >= 0.99,
        "{}",
        rep.summary("precision")
    );
    assert!(
        rep.jointly_valid_share() >= 0.99,
        "{}",
        rep.summary("joint")
    );
}

/// With the agent as replayer: the replay strategy settles the unproven steps.
#[test]
fn replayed_flags_against_true_replay() {
    let rep = measure(&Example, 1000..1150, true, 32);
    eprintln!("{}", rep.summary("example agent, replayed"));
    for m in rep.misses.iter().take(20) {
        eprintln!("  {m}");
    }
    assert!(
        rep.strict.precision() >= 0.99,
        "{}",
        rep.summary("precision")
    );
    assert!(rep.joint.recall() >= 0.85, "{}", rep.summary("recall"));
    assert_eq!(rep.jointly_valid, rep.sessions, "{}", rep.summary("joint"));
    assert!(rep.median_replays() <= 12, "{}", rep.summary("replays"));
}

#[test]
fn the_agent_replayer_confirms_flags_on_the_card() {
    let mut confirmed = 0;
    for seed in 0..40 {
        let task = Task::generate(seed);
        let r = run(&task, &BTreeSet::new());
        let replayer = AgentReplayer { task };
        let card = Compiler::new()
            .replayer(&replayer)
            .compile(&r.trace)
            .unwrap();
        assert!(card.replays_used.is_some_and(|n| n <= 32));
        for s in card.steps.iter().filter(|s| s.redundant) {
            assert_eq!(
                s.confirmed_by.as_deref(),
                Some("replay:example-agent"),
                "seed {seed} step {}",
                s.id
            );
            confirmed += 1;
        }
        // whatever stays flagged is removable together under true replay
        let flagged: BTreeSet<u32> = card
            .steps
            .iter()
            .filter(|s| s.redundant)
            .map(|s| s.id.0)
            .collect();
        let out = run(&replayer.task, &flagged).outcome;
        assert_eq!(
            out.status,
            OutcomeStatus::Success,
            "seed {seed}: joint removal of {flagged:?} broke the outcome"
        );
        assert!(
            card.steps
                .iter()
                .all(|s| s.kind != StepKind::UserInput || !s.redundant)
        );
    }
    assert!(confirmed > 20);
}

#[test]
#[ignore = "debugging aid: cargo test -p tracecard-example-agent -- --ignored dump"]
fn dump() {
    let seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let task = Task::generate(seed);
    let r = run(&task, &BTreeSet::new());
    let a = Analysis::run(&r.trace, PriceTable::bundled()).unwrap();
    let truth = true_redundancy(&task, &r.trace);
    for (i, s) in r.trace.steps.iter().enumerate() {
        let removed = run(&task, &BTreeSet::from([s.id.0]));
        eprintln!(
            "{} {:?} {:?} {:?} truth={:?} out={:?} | without: {:?} {:?}",
            s.id,
            s.kind,
            s.tool,
            a.finding(s.id).map(|f| f.verdict),
            truth[i],
            s.output
                .as_ref()
                .and_then(|c| c.text.clone())
                .map(|t| t.chars().take(60).collect::<String>()),
            removed.outcome.status,
            removed.outcome.evidence[0].message
        );
    }
    for id in 1..=r.trace.steps.len() as u32 {
        eprint!(
            "{}",
            a.explain(&r.trace, tracecard_core::StepId(id)).unwrap()
        );
    }
}
