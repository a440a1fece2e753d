//! The transfer study at a small size (`make guard-study` runs the full size):
//! issue 17's targets for the rules `tracecard guard` enforces — zero regressions
//! on the task kinds the rules were learnt from, at most 2% of sessions on unseen
//! task kinds, savings above zero — with the baselines shown beside them.

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
    assert!(seen.saved_usd.nanos() > 0 && unseen.saved_usd.nanos() > 0);
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
