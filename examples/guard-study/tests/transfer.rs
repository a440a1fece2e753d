//! The transfer study at a small size (`make guard-study` runs the full size):
//! issue 17's targets for the rules `tracecard guard` enforces — zero regressions
//! on the task kinds the rules were learnt from, at most 2% of sessions on unseen
//! task kinds, savings within reach of the prefix-causal ceiling — with the
//! baselines shown beside them.

use guard_study::{Config, Lane, render, study};

#[test]
fn prune_rules_transfer_without_regressions() {
    let s = study(Config {
        train: 16,
        eval: 40,
    });
    eprintln!("{}", render(&s));
    let seen = s.row("seen kinds", Lane::PruneRules);
    let unseen = s.row("unseen kinds", Lane::PruneRules);
    assert_eq!(
        seen.regressions, 0,
        "no regression on the kinds learnt from"
    );
    assert!(
        unseen.regressions * 50 <= unseen.sessions,
        "at most 2% regressions on unseen kinds: {}/{}",
        unseen.regressions,
        unseen.sessions
    );
    assert!(seen.denies > 0 && unseen.denies > 0);
    // Savings floors, as shares of the baseline cost. At this size the enforced
    // rules save 1.1% (seen) / 0.4% (unseen); the most any prefix-causal rule at
    // the signature resolution could save on these sessions is 1.3% / 0.5%
    // (`guard-study --train 16 --eval 40 --ceiling`, BENCHMARKS.md): the floors
    // keep the guard within reach of that ceiling, not merely above zero.
    assert!(
        seen.saved_share >= 0.010,
        "seen kinds: saved {:.2}% < 1.0%",
        100.0 * seen.saved_share
    );
    assert!(
        unseen.saved_share >= 0.003,
        "unseen kinds: saved {:.2}% < 0.3%",
        100.0 * unseen.saved_share
    );
    // the baselines break sessions: why rule status and context matter
    for split in ["seen kinds", "unseen kinds"] {
        assert_eq!(s.row(split, Lane::NoRules).denies, 0);
        assert!(
            s.row(split, Lane::Similarity).regressions * 2
                > s.row(split, Lane::Similarity).sessions
        );
        assert!(s.row(split, Lane::AllRules).regressions > 0);
    }
    // deterministic
    let again = study(Config {
        train: 16,
        eval: 40,
    });
    assert_eq!(render(&again), render(&s));
}
