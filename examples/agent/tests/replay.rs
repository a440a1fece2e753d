//! The dataflow flags against true replay of the example agent, over many
//! generated sessions: precision and recall, and the replayer's confirmation.

use std::collections::BTreeSet;

use tracecard_core::analysis::Analysis;
use tracecard_core::{Compiler, OutcomeStatus, PriceTable, StepKind};
use tracecard_example_agent::{AgentReplayer, Task, run, true_redundancy};

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

/// Confusion counts of the flags against a truth.
#[derive(Default)]
struct Score {
    tp: u32,
    fp: u32,
    fn_: u32,
    tn: u32,
}

impl Score {
    fn add(&mut self, flagged: bool, truly: bool) {
        match (flagged, truly) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn precision(&self) -> f64 {
        f64::from(self.tp) / f64::from((self.tp + self.fp).max(1))
    }
    fn recall(&self) -> f64 {
        f64::from(self.tp) / f64::from((self.tp + self.fn_).max(1))
    }
}

/// Two truths from true replay:
/// - *strict*: removing the step alone keeps the outcome;
/// - *joint*: for a flagged step, removing it alone keeps the outcome; for an
///   unflagged one, removing it together with every flagged step still does. Of
///   two duplicate reads either can go alone but not both: joint truth does not
///   count the kept copy as a miss.
#[test]
fn dataflow_flags_against_true_replay() {
    let (mut strict, mut joint) = (Score::default(), Score::default());
    let mut misses = Vec::new();
    let sessions = 300u64;
    for seed in 0..sessions {
        let task = Task::generate(seed);
        let r = run(&task, &BTreeSet::new());
        let a = Analysis::run(&r.trace, PriceTable::bundled()).unwrap();
        let truth = true_redundancy(&task, &r.trace);
        let flagged_set: BTreeSet<u32> = (0..a.live.len())
            .filter(|&i| !a.live[i])
            .map(|i| i as u32 + 1)
            .collect();
        for (i, t) in truth.iter().enumerate() {
            let Some(alone) = *t else { continue };
            let flagged = !a.live[i];
            strict.add(flagged, alone);
            let with_flags = if flagged || !alone {
                alone
            } else {
                let mut skip = flagged_set.clone();
                skip.insert(i as u32 + 1);
                run(&task, &skip).outcome.status == OutcomeStatus::Success
            };
            joint.add(flagged, with_flags);
            if flagged != with_flags {
                let kind = if flagged { "FP" } else { "FN" };
                misses.push(format!(
                    "{kind} seed {seed} step {} {:?} {:?} {:?}",
                    i + 1,
                    r.trace.steps[i].kind,
                    r.trace.steps[i].tool,
                    a.verdicts[i]
                ));
            }
        }
    }
    eprintln!(
        "{sessions} sessions, strict truth: tp={} fp={} fn={} tn={} precision={:.3} recall={:.3}",
        strict.tp,
        strict.fp,
        strict.fn_,
        strict.tn,
        strict.precision(),
        strict.recall()
    );
    eprintln!(
        "{sessions} sessions, joint truth:  tp={} fp={} fn={} tn={} precision={:.3} recall={:.3}",
        joint.tp,
        joint.fp,
        joint.fn_,
        joint.tn,
        joint.precision(),
        joint.recall()
    );
    for m in misses.iter().take(25) {
        eprintln!("  {m}");
    }
    assert!(joint.tp > 100, "the generated sessions contain real waste");
    assert!(
        joint.precision() >= 0.95,
        "precision {:.3}",
        joint.precision()
    );
    // The known miss (DESIGN.md, "hard cases"): a directory listing whose file name
    // the agent would have guessed anyway. The read's arguments repeat the listed
    // path, which is evidence of use; replay shows it was not needed. Measured: 0.897.
    assert!(joint.recall() >= 0.85, "recall {:.3}", joint.recall());
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
        for s in card.steps.iter().filter(|s| s.redundant) {
            assert_eq!(
                s.confirmed_by.as_deref(),
                Some("example-agent"),
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
            "{} {:?} {:?} live={} truth={:?} out={:?} | without: {:?} {:?}",
            s.id,
            s.kind,
            s.tool,
            a.live[i],
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
