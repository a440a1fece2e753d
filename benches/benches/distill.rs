//! costcraft: distil 200 ops-agent sessions (~52 steps each, seeds 0..200) —
//! compile the cards, distil (patches, signatures, rules, counter-examples), render
//! rules.yaml + SKILL.md + patches.yaml. The target: < 5 s in all.
//! Under `cargo test` (no `--bench`) 20 sessions, once.

use std::collections::BTreeSet;
use std::hint::black_box;

use costcraft::{Policy, Session};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tracecard_core::{Compiler, Trace};

fn sessions() -> u64 {
    if std::env::args().any(|a| a == "--bench") {
        200
    } else {
        20
    }
}

fn policy() -> Policy {
    // a small test-mode corpus may trip a guard; the guards' cost is measured all the same
    Policy {
        allow_backfire: costcraft::backfire::Guard::ALL.into_iter().collect(),
        ..Policy::default()
    }
}

fn compile(traces: &[Trace]) -> Vec<Session> {
    let c = Compiler::new();
    traces
        .iter()
        .map(|t| Session::compile(t.clone(), &c).expect("compile"))
        .collect()
}

fn distill(c: &mut Criterion) {
    let n = sessions();
    let traces: Vec<Trace> = (0..n)
        .map(|s| ops_agent::run(s, &BTreeSet::new()).trace)
        .collect();
    let steps: usize = traces.iter().map(|t| t.steps.len()).sum();
    let policy = policy();
    let compiled = compile(&traces);

    let mut g = c.benchmark_group(format!("distill_{n}_sessions"));
    g.sample_size(10);
    g.throughput(Throughput::Elements(steps as u64));
    g.bench_function("compile", |b| b.iter(|| compile(black_box(&traces))));
    g.bench_function("distill", |b| {
        b.iter_batched(
            || compiled.clone(),
            |s| costcraft::distill(s, &policy).expect("distill"),
            BatchSize::LargeInput,
        )
    });
    let d = costcraft::distill(compiled.clone(), &policy).expect("distill");
    g.bench_function("render", |b| {
        b.iter(|| {
            (
                d.rules.to_yaml().expect("rules"),
                d.skill_md(),
                d.patches_yaml().expect("patches"),
                d.report_md(),
            )
        })
    });
    g.bench_function("compile+distill+render", |b| {
        b.iter(|| {
            let d = costcraft::distill(compile(black_box(&traces)), &policy).expect("distill");
            (
                d.rules.to_yaml().expect("rules"),
                d.skill_md(),
                d.patches_yaml().expect("patches"),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, distill);
criterion_main!(benches);
