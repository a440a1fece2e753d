//! One test per refusal reason, plus outcomes and SKILL.md validation.

mod common;

use std::collections::BTreeSet;

use costcraft::patch::{PatchKind, candidates};
use costcraft::{Policy, RefusalReason, Session, validate};
use tracecard_core::analysis::Analysis;
use tracecard_core::{Compiler, PriceTable, StepId, Usd, Verdict};

/// ops-13: a duplicate `kv_get` (step 7) requested alone by model call 6.
fn session(seed: u64) -> (Session, Analysis) {
    let trace = ops_agent::run(seed, &BTreeSet::new()).trace;
    let s = Session::compile(trace, &Compiler::new()).unwrap();
    let a = Analysis::run(&s.trace, PriceTable::bundled()).unwrap();
    (s, a)
}

fn prune(s: &Session, a: &Analysis) -> costcraft::Patch {
    candidates(s, a)
        .into_iter()
        .find(|p| p.patch_kind == PatchKind::Prune)
        .expect("ops-13 has a prune candidate")
}

fn reason(r: Result<(), costcraft::Refusal>) -> RefusalReason {
    r.expect_err("refused").reason
}

#[test]
fn the_unit_prune_passes_defaults() {
    let (s, a) = session(13);
    let p = prune(&s, &a);
    assert_eq!(p.steps, vec![StepId(6), StepId(7)]);
    assert_eq!(p.target_step, StepId(7));
    assert_eq!(p.confirmed_by.as_deref(), Some("dataflow"));
    validate(&p, &s.card, &Policy::default()).unwrap();
}

#[test]
fn refuses_prune_of_a_step_not_redundant() {
    let (s, a) = session(13);
    let mut p = prune(&s, &a);
    let needed = s
        .card
        .steps
        .iter()
        .find(|c| c.verdict == Verdict::Needed)
        .unwrap()
        .id;
    p.target_step = needed;
    p.steps = vec![needed];
    assert_eq!(
        reason(validate(&p, &s.card, &Policy::default())),
        RefusalReason::PruneNotRedundant
    );
}

#[test]
fn refuses_prune_below_the_absolute_threshold() {
    let (s, a) = session(13);
    let p = prune(&s, &a);
    let policy = Policy {
        min_savings_usd: p.expected_savings_usd + Usd::from_nanos(1),
        ..Policy::default()
    };
    assert_eq!(
        reason(validate(&p, &s.card, &policy)),
        RefusalReason::PruneBelowCostThreshold
    );
}

#[test]
fn refuses_prune_below_the_session_share() {
    let (s, a) = session(13);
    let p = prune(&s, &a);
    let policy = Policy {
        min_session_share: 0.5,
        ..Policy::default()
    };
    assert_eq!(
        reason(validate(&p, &s.card, &policy)),
        RefusalReason::PruneBelowShareThreshold
    );
}

#[test]
fn refuses_dataflow_prune_under_require_replay_and_accepts_replayed() {
    let (s, a) = session(13);
    let p = prune(&s, &a);
    let policy = Policy {
        require_replay: true,
        ..Policy::default()
    };
    assert_eq!(
        reason(validate(&p, &s.card, &policy)),
        RefusalReason::PruneNotReplayed
    );
    // The same session through the true replayer.
    let r = common::OpsReplayer;
    let s2 = Session::compile(s.trace.clone(), &Compiler::new().replayer(&r)).unwrap();
    let a2 = Analysis::run(&s2.trace, PriceTable::bundled()).unwrap();
    let replayed: Vec<_> = candidates(&s2, &a2)
        .into_iter()
        .filter(|p| p.patch_kind == PatchKind::Prune)
        .filter(|p| validate(p, &s2.card, &policy).is_ok())
        .collect();
    assert!(
        !replayed.is_empty(),
        "a replayed prune passes --require-replay"
    );
    for p in replayed {
        assert!(p.confirmed_by.unwrap().starts_with("replay:ops-agent"));
        assert!(
            p.counterfactual
                .unwrap()
                .starts_with("Replay of session ops-13")
        );
    }
}

#[test]
fn refuses_repair_without_oracle_evidence() {
    let (s, a) = session(13);
    assert_eq!(s.card.outcome, tracecard_core::OutcomeStatus::Success);
    let mut p = prune(&s, &a);
    p.patch_kind = PatchKind::Repair;
    p.fix = Some("guess".into());
    assert_eq!(
        reason(validate(&p, &s.card, &Policy::default())),
        RefusalReason::RepairWithoutOracleEvidence
    );
    // A failed session with its evidence stripped.
    let (mut f, fa) = session(15);
    assert_eq!(f.card.outcome, tracecard_core::OutcomeStatus::Failure);
    let rp = candidates(&f, &fa)
        .into_iter()
        .find(|p| p.patch_kind == PatchKind::Repair)
        .unwrap();
    validate(&rp, &f.card, &Policy::default()).unwrap();
    f.card.oracle.clear();
    assert_eq!(
        reason(validate(&rp, &f.card, &Policy::default())),
        RefusalReason::RepairWithoutOracleEvidence
    );
}

#[test]
fn refuses_preserve_from_a_failed_session() {
    let (f, fa) = session(15);
    let mut p = prune(&f, &fa);
    p.patch_kind = PatchKind::Preserve;
    assert_eq!(
        reason(validate(&p, &f.card, &Policy::default())),
        RefusalReason::PreserveFromFailedSession
    );
    // Preserve candidates exist only for successes, and are quarantined.
    let (s, a) = session(13);
    let pres: Vec<_> = candidates(&s, &a)
        .into_iter()
        .filter(|p| p.patch_kind == PatchKind::Preserve)
        .collect();
    assert_eq!(pres.len(), 1);
    assert!(pres[0].quarantined);
    assert!(
        candidates(&f, &fa)
            .iter()
            .all(|p| p.patch_kind != PatchKind::Preserve)
    );
}

#[test]
fn refuses_unknown_targets() {
    let (s, a) = session(13);
    let mut p = prune(&s, &a);
    p.target_step = StepId(9999);
    assert_eq!(
        reason(validate(&p, &s.card, &Policy::default())),
        RefusalReason::UnknownTarget
    );
}

#[test]
fn outcome_lines_naming_no_session_are_reported() {
    let (s, _) = session(13);
    let text = r#"{"session_id":"ops-13","status":"failure","evidence":[{"verifier":"human","passed":false,"message":"wrong numbers"}]}

{"session_id":"nope","status":"success","evidence":[]}
"#;
    let recs = costcraft::outcomes::parse_outcomes(text, std::path::Path::new("o.jsonl")).unwrap();
    let mut traces = vec![s.trace];
    let rep = costcraft::outcomes::apply_outcomes(&mut traces, &recs);
    assert_eq!(rep.applied, vec!["ops-13".to_string()]);
    assert_eq!(rep.unmatched, vec![(3, "nope".to_string())]);
    assert_eq!(
        traces[0].outcome.status,
        tracecard_core::OutcomeStatus::Failure
    );
    assert!(
        traces[0]
            .outcome
            .evidence
            .iter()
            .any(|e| e.verifier == "human" && e.passed == Some(false))
    );
    let bad = costcraft::outcomes::parse_outcomes(
        "{\"session_id\":\"x\",\"status\":\"maybe\"}",
        std::path::Path::new("o.jsonl"),
    )
    .unwrap_err();
    assert_eq!(bad.kind(), costcraft::ErrorKind::Parse);
    assert!(bad.to_string().starts_with("o.jsonl:1:"), "{bad}");
}

#[test]
fn skill_names_follow_the_spec() {
    use costcraft::skill::validate_name;
    for ok in ["cost-rules", "a", "x1-y2", &"a".repeat(64)] {
        validate_name(ok).unwrap();
    }
    for bad in ["", "-a", "a-", "a--b", "A", "a_b", "a b", &"a".repeat(65)] {
        assert!(validate_name(bad).is_err(), "{bad:?}");
    }
    let ok = "---\nname: x\ndescription: does y\n---\nbody\n";
    costcraft::skill::validate_skill_md(ok, "x").unwrap();
    assert!(costcraft::skill::validate_skill_md(ok, "z").is_err());
    assert!(
        costcraft::skill::validate_skill_md("---\nname: x\ndescription: \"\"\n---\n", "x").is_err()
    );
    let long = format!("---\nname: x\ndescription: d\n---\n{}", "l\n".repeat(500));
    assert!(costcraft::skill::validate_skill_md(&long, "x").is_err());
}

#[test]
fn backfire_guards_refuse_unless_allowed() {
    let traces: Vec<_> = tracecard_core::import::load(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/traces/fix-test.jsonl"
        )),
        None,
    )
    .unwrap();
    let sessions: Vec<Session> = traces
        .into_iter()
        .map(|t| Session::compile(t, &Compiler::new()).unwrap())
        .collect();
    // fix-test has 10 steps: short under a 20-step floor.
    let strict = Policy {
        min_steps: 20,
        ..Policy::default()
    };
    let Err(e) = costcraft::distill(sessions.clone(), &strict) else {
        panic!("a short corpus must be refused");
    };
    assert_eq!(e.kind(), costcraft::ErrorKind::Backfire);
    assert!(e.to_string().contains("short-sessions"), "{e}");
    let mut p = strict.clone();
    p.allow_backfire = costcraft::backfire::Guard::ALL.into_iter().collect();
    let d = costcraft::distill(sessions, &p).unwrap();
    assert!(
        d.rules
            .backfire
            .iter()
            .any(|w| w.guard == costcraft::backfire::Guard::ShortSessions && w.holds && w.allowed)
    );
    assert!(
        d.sessions[0]
            .card
            .warnings
            .iter()
            .any(|w| w.code == "backfire_short_sessions")
    );
}
