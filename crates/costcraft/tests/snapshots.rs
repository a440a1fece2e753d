//! Snapshot tests of patches.yaml, rules.yaml and SKILL.md from the real fixtures
//! and from ops-agent sessions under true replay; the committed JSON Schema;
//! SKILL.md against the Agent Skills spec; check-rules and evaluate on held-out
//! sessions.

mod common;

use costcraft::backfire::Guard;
use costcraft::{Action, Policy, RuleSet, RuleStatus, Session};
use tracecard_core::Compiler;

fn fixtures() -> Vec<Session> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/traces");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| tracecard_core::import::load(f, None).unwrap())
        .map(|mut t| {
            t.source.files.clear(); // absolute paths would make snapshots machine-specific
            Session::compile(t, &Compiler::new()).unwrap()
        })
        .collect()
}

fn check_outputs(name: &str, d: &costcraft::Distillation) {
    let skill = d.skill_md();
    costcraft::skill::validate_skill_md(&skill, &d.rules.policy.skill_name).unwrap();
    let rules = d.rules.to_yaml().unwrap();
    let back = RuleSet::from_yaml(&rules, std::path::Path::new("rules.yaml")).unwrap();
    assert_eq!(back, d.rules, "rules.yaml round-trips");
    common::snapshot(&format!("{name}.rules.yaml"), &rules);
    common::snapshot(&format!("{name}.patches.yaml"), &d.patches_yaml().unwrap());
    common::snapshot(&format!("{name}.SKILL.md"), &skill);
    common::snapshot(&format!("{name}.REPORT.md"), &d.report_md());
}

#[test]
fn fixtures_distil() {
    let policy = Policy {
        allow_backfire: Guard::ALL.into_iter().collect(),
        min_prune_tasks: 1,
        ..Policy::default()
    };
    let d = costcraft::distill(fixtures(), &policy).unwrap();
    // Every prune rule rests on redundant steps only.
    for p in d
        .patches
        .kept
        .iter()
        .filter(|p| p.patch_kind == costcraft::PatchKind::Prune)
    {
        let s = d
            .sessions
            .iter()
            .find(|s| s.card.session_id == p.session_id)
            .unwrap();
        for id in &p.steps {
            assert!(s.card.step(*id).unwrap().redundant);
        }
    }
    check_outputs("fixtures", &d);
}

#[test]
fn ops_agent_distils_with_true_replay() {
    let sessions = common::ops_sessions(0..16, true);
    let policy = Policy::default();
    let d = costcraft::distill(sessions, &policy).unwrap();
    assert!(d.rules.corpus.replayed_sessions > 0);
    let active: Vec<_> = d
        .rules
        .rules
        .iter()
        .filter(|r| r.action == Action::Prune && r.status == RuleStatus::Active)
        .collect();
    assert!(!active.is_empty(), "some prune rule is active");
    for r in &active {
        assert!(r.support.tasks >= policy.min_prune_tasks);
        assert!(r.counter_examples.rate <= policy.max_counter_example_rate);
        assert!(!r.evidence.supporting.is_empty());
    }
    // Preserve rules are never active and never in SKILL.md by default.
    assert!(
        d.rules
            .rules
            .iter()
            .filter(|r| r.action == Action::Preserve)
            .all(|r| r.status == RuleStatus::Quarantined)
    );
    assert!(!d.skill_md().contains("What to keep doing"));
    check_outputs("ops-0-16", &d);

    // --include-quarantined puts them in, still within the spec.
    let mut p2 = policy.clone();
    p2.include_quarantined = true;
    let d2 = costcraft::distill(common::ops_sessions(0..16, true), &p2).unwrap();
    let skill = d2.skill_md();
    costcraft::skill::validate_skill_md(&skill, "cost-rules").unwrap();
    assert!(skill.contains("What to keep doing"));

    // check-rules on held-out seeds: active prune rules fire on redundant or
    // unproven steps, never on needed ones.
    let held_out = common::ops_sessions(200..216, true);
    let report = costcraft::check::check(&d.rules, &held_out);
    for (rule, rc) in d.rules.rules.iter().zip(&report.rules) {
        assert_eq!(rule.id, rc.id);
        if rule.action == Action::Prune && rule.status == RuleStatus::Active {
            eprintln!(
                "{}: fired {} on held-out, {} on needed",
                rc.id,
                rc.fired.len(),
                rc.fired_on_needed
            );
        }
    }
}

#[test]
fn rules_schema_is_committed() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/costcraft-rules.schema.json"
    );
    let now = RuleSet::json_schema();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &now).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(path).unwrap(),
        now,
        "UPDATE_SNAPSHOTS=1 to rewrite schema/costcraft-rules.schema.json"
    );
}

#[test]
fn evaluate_pairs_and_counts_regressions() {
    use std::collections::BTreeSet;
    let c = Compiler::new().analyze(false);
    let base: Vec<_> = (0..10u64)
        .map(|s| {
            let card = c
                .compile(&ops_agent::run(s, &BTreeSet::new()).trace)
                .unwrap();
            (card.session_id.clone(), card)
        })
        .collect();
    // "Treated": the same sessions with their first tool call removed.
    let treated: Vec<_> = (0..10u64)
        .map(|s| {
            let t = ops_agent::run(s, &BTreeSet::from([3])).trace;
            let card = c.compile(&t).unwrap();
            (card.session_id.clone(), card)
        })
        .collect();
    let e = costcraft::evaluate::evaluate(&base, &treated);
    assert_eq!(e.pairs.len(), 10);
    assert!(e.unpaired.is_empty());
    let regress = e
        .pairs
        .iter()
        .filter(|p| {
            p.baseline_outcome == tracecard_core::OutcomeStatus::Success
                && p.treated_outcome != tracecard_core::OutcomeStatus::Success
        })
        .count();
    assert_eq!(e.regressions, regress);
    assert!(e.median_cost_change_ci_usd[0] <= e.median_cost_change_usd);
    assert!(e.median_cost_change_usd <= e.median_cost_change_ci_usd[1]);
    assert_eq!(e.baseline.sessions, 10);
}
