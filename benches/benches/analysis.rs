//! Redundancy analysis time for 1k, 10k, 100k and 1M-step traces (linear scaling).
//! Under `cargo test` (no `--bench`) only the two small sizes run, once.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tracecard_core::PriceTable;
use tracecard_core::analysis::Analysis;

fn sizes() -> Vec<usize> {
    if std::env::args().any(|a| a == "--bench") {
        vec![1_000, 10_000, 100_000, 1_000_000]
    } else {
        vec![1_000, 10_000]
    }
}

fn analysis(c: &mut Criterion) {
    let mut g = c.benchmark_group("analysis");
    g.sample_size(10);
    for n in sizes() {
        let trace = tracecard_benches::synthetic_trace(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &trace, |b, t| {
            b.iter(|| Analysis::run(black_box(t), PriceTable::bundled()).expect("analysis"))
        });
    }
    g.finish();
}

criterion_group!(benches, analysis);
criterion_main!(benches);
