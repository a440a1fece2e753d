//! Timing: distilling 200 ops-agent sessions (~55 steps each) must take < 5 s in
//! release. `cargo test --release -p costcraft --test bench -- --ignored --nocapture`
//! (figure in BENCHMARKS.md).

use std::collections::BTreeSet;
use std::time::Instant;

use costcraft::{Policy, Session};
use tracecard_core::Compiler;

#[test]
#[ignore = "timing; run in release"]
fn distil_200_sessions_under_5s() {
    let traces: Vec<_> = (0..200u64)
        .map(|s| ops_agent::run(s, &BTreeSet::new()).trace)
        .collect();
    let steps: usize = traces.iter().map(|t| t.steps.len()).sum();
    let t0 = Instant::now();
    let c = Compiler::new();
    let sessions: Vec<Session> = traces
        .into_iter()
        .map(|t| Session::compile(t, &c).unwrap())
        .collect();
    let compiled = t0.elapsed();
    let d = costcraft::distill(sessions, &Policy::default()).unwrap();
    let rules = d.rules.to_yaml().unwrap();
    let skill = d.skill_md();
    let patches = d.patches_yaml().unwrap();
    let all = t0.elapsed();
    eprintln!(
        "200 sessions, {steps} steps: compile {:.0} ms, compile+distill+render {:.0} ms ({} rules, {} patches, {} + {} + {} bytes)",
        compiled.as_secs_f64() * 1e3,
        all.as_secs_f64() * 1e3,
        d.rules.rules.len(),
        d.patches.kept.len() + d.patches.refused.len(),
        rules.len(),
        skill.len(),
        patches.len()
    );
    assert!(all.as_secs_f64() < 5.0, "took {all:?}");
}
