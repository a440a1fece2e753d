//! Determinism, replay semantics, ground truth and category coverage of the scripted
//! ops agent.

use std::collections::{BTreeMap, BTreeSet};

use ops_agent::{ContentLevel, Role, Status, keeps_outcome, run, run_with, strict_truth};
use tracecard_core::{ContentCapture, StepKind};

const SEEDS: std::ops::Range<u64> = 0..40;

fn none() -> BTreeSet<u32> {
    BTreeSet::new()
}

#[test]
fn same_seed_same_bytes() {
    for seed in [0, 1, 17, 99, 12345] {
        for level in [ContentLevel::Full, ContentLevel::Partial] {
            let a = run_with(seed, &none(), level).to_jsonl();
            let b = run_with(seed, &none(), level).to_jsonl();
            assert_eq!(a, b, "seed {seed}");
        }
    }
}

#[test]
fn traces_parse_back_and_validate() {
    for seed in 0..5 {
        let s = run(seed, &none());
        s.trace.validate().unwrap();
        let back =
            tracecard_core::native::parse(std::path::Path::new("x.jsonl"), &s.to_jsonl()).unwrap();
        assert_eq!(back.steps.len(), s.trace.steps.len());
        assert_eq!(back.session_id, format!("ops-{seed}"));
    }
}

#[test]
fn partial_content_hides_messages_keeps_tools() {
    let s = run_with(3, &none(), ContentLevel::Partial);
    assert_eq!(s.trace.source.content, ContentCapture::Hashed);
    assert_eq!(
        s.trace.metadata.get("content_level").map(String::as_str),
        Some("partial")
    );
    for st in &s.trace.steps {
        match st.kind {
            StepKind::LlmCall | StepKind::UserInput | StepKind::Compaction => {
                assert!(
                    st.output.as_ref().is_none_or(|c| c.text.is_none()),
                    "step {}",
                    st.id
                )
            }
            StepKind::ToolUse => {
                assert!(
                    st.input.as_ref().is_some_and(|c| c.text.is_some()),
                    "step {}",
                    st.id
                );
                assert!(
                    st.output.as_ref().is_some_and(|c| c.text.is_some()),
                    "step {}",
                    st.id
                );
            }
            _ => {}
        }
    }
    let full = run_with(3, &none(), ContentLevel::Full);
    assert_eq!(full.outcome, s.outcome);
    assert_eq!(full.trace.steps.len(), s.trace.steps.len());
}

#[test]
fn empty_removal_reproduces_the_baseline() {
    for seed in SEEDS {
        assert!(keeps_outcome(seed, &none()), "seed {seed}");
    }
}

#[test]
fn design_roles_agree_with_single_step_replay() {
    for seed in 0..30 {
        let base = run(seed, &none());
        let truth = strict_truth(seed);
        assert_eq!(truth.len(), base.trace.steps.len());
        for (i, t) in truth.iter().enumerate() {
            let role = base.roles[i];
            if role == Role::InFailedTask {
                continue;
            }
            assert_eq!(
                role.removable(),
                *t,
                "seed {seed} step {} ({role:?}, {:?} {:?})",
                i + 1,
                base.trace.steps[i].kind,
                base.trace.steps[i].tool
            );
        }
    }
}

fn find(seed: u64, pred: impl Fn(&ops_agent::Session, usize) -> bool) -> Option<u32> {
    let s = run(seed, &none());
    (0..s.trace.steps.len())
        .find(|&i| pred(&s, i))
        .map(|i| i as u32 + 1)
}

#[test]
fn removing_a_flag_read_breaks_and_a_dead_store_does_not() {
    let mut flag_cases = 0;
    let mut dead_cases = 0;
    for seed in SEEDS {
        let flag = find(seed, |s, i| {
            let st = &s.trace.steps[i];
            s.roles[i] == Role::Decision
                && st.agent.as_deref() == Some("main")
                && st.links.reads.iter().any(|r| r.starts_with("flags/"))
        });
        if let Some(id) = flag {
            assert!(
                !keeps_outcome(seed, &BTreeSet::from([id])),
                "seed {seed} flag read {id}"
            );
            flag_cases += 1;
        }
        let dead = find(seed, |s, i| s.roles[i] == Role::DeadStore);
        if let Some(id) = dead {
            assert!(
                keeps_outcome(seed, &BTreeSet::from([id])),
                "seed {seed} dead store {id}"
            );
            dead_cases += 1;
        }
    }
    assert!(
        flag_cases >= 5 && dead_cases >= 5,
        "{flag_cases} {dead_cases}"
    );
}

#[test]
fn every_category_is_common() {
    let wanted = [
        Role::Decision,
        Role::EmptyCheck,
        Role::NumericCheck,
        Role::SimilarNeeded,
        Role::RereadAfterCompaction,
        Role::RereadAfterWrite,
        Role::RereadOtherAgent,
        Role::SubagentUsed,
        Role::Compaction,
        Role::CoincidentDefault,
        Role::DeadStore,
        Role::UnusedExplore,
        Role::RedundantRecheck,
        Role::FailedAttempt,
        Role::IgnoredSubagent,
        Role::UnusedSubResult,
        Role::WastedCall,
    ];
    let mut sessions_with: BTreeMap<String, u32> = BTreeMap::new();
    let n = SEEDS.end - SEEDS.start;
    for seed in SEEDS {
        let s = run(seed, &none());
        let present: BTreeSet<String> = s.roles.iter().map(|r| format!("{r:?}")).collect();
        for p in present {
            *sessions_with.entry(p).or_default() += 1;
        }
    }
    for r in wanted {
        let k = sessions_with.get(&format!("{r:?}")).copied().unwrap_or(0);
        assert!(
            k * 100 >= 12 * n as u32,
            "{r:?} in only {k}/{n} sessions: {sessions_with:?}"
        );
    }
}

#[test]
fn sizes_and_failures_are_realistic() {
    let mut failures = 0;
    let mut subagents = 0;
    for seed in 0..60 {
        let s = run(seed, &none());
        let n = s.trace.steps.len();
        assert!((20..=90).contains(&n), "seed {seed}: {n} steps");
        let users = s
            .trace
            .steps
            .iter()
            .filter(|st| st.kind == StepKind::UserInput)
            .count();
        assert!(users >= 3, "seed {seed}");
        if s.trace
            .steps
            .iter()
            .any(|st| st.kind == StepKind::SubagentSpawn)
        {
            subagents += 1;
        }
        if s.outcome.status == Status::Failure {
            failures += 1;
        }
    }
    assert!(
        (4..=16).contains(&failures),
        "{failures}/60 failing sessions"
    );
    assert!(subagents >= 30, "{subagents}/60 sessions with sub-agents");
}

#[test]
fn any_subset_is_removable_and_ids_stay_aligned() {
    for seed in 0..12u64 {
        let base = run(seed, &none());
        let n = base.trace.steps.len() as u32;
        let all: BTreeSet<u32> = (1..=n).collect();
        let odd: BTreeSet<u32> = (1..=n).filter(|i| i % 2 == 1).collect();
        let mut r = ops_agent::rng::SplitMix64::new(seed);
        let random: BTreeSet<u32> = (1..=n).filter(|_| r.chance(30)).collect();
        let beyond: BTreeSet<u32> = BTreeSet::from([n + 5, 10_000]);
        for set in [all, odd, random, beyond] {
            let s = run(seed, &set);
            assert_eq!(s.trace.steps.len(), base.trace.steps.len(), "seed {seed}");
            for id in set.iter().filter(|&&i| i <= n) {
                let st = &s.trace.steps[*id as usize - 1];
                assert_eq!(st.kind, base.trace.steps[*id as usize - 1].kind);
                assert!(
                    st.attributes.contains_key("replay"),
                    "seed {seed} step {id}"
                );
            }
            s.trace.validate().unwrap();
        }
        assert_eq!(
            run(seed, &(1..=n).collect()).outcome.status,
            Status::Failure
        );
    }
}

#[test]
fn every_step_is_priced() {
    for seed in [0, 1, 2, 3] {
        let s = run(seed, &none());
        let card = tracecard_core::Compiler::new().compile(&s.trace).unwrap();
        assert_eq!(card.unpriced_steps, 0, "seed {seed}: {:?}", card.warnings);
        assert!(card.total_cost_usd.to_string() != "0", "seed {seed}");
    }
}

#[test]
fn removing_all_designed_waste_together_keeps_the_outcome() {
    for seed in SEEDS {
        let base = run(seed, &none());
        let waste: BTreeSet<u32> = base
            .roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.removable() && **r != Role::CoincidentDefault)
            .map(|(i, _)| i as u32 + 1)
            .collect();
        assert!(!waste.is_empty(), "seed {seed}");
        assert!(keeps_outcome(seed, &waste), "seed {seed}: {waste:?}");
    }
}

#[test]
fn every_session_mixes_waste_and_hard_needed_steps() {
    let mut without_hard = 0;
    for seed in 0..100 {
        let s = run(seed, &none());
        let ok_roles: Vec<Role> = s
            .roles
            .iter()
            .copied()
            .filter(|r| *r != Role::InFailedTask)
            .collect();
        assert!(
            ok_roles
                .iter()
                .any(|r| r.removable() && *r != Role::CoincidentDefault),
            "seed {seed}: no waste"
        );
        if !ok_roles.iter().any(|r| r.hard_needed()) {
            without_hard += 1;
        }
    }
    assert!(
        without_hard <= 3,
        "{without_hard}/100 sessions without a hard-to-see needed step"
    );
}
