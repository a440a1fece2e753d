//! Compile a synthetic 100k-step native trace (parse + price + card + YAML).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tracecard_core::{Compiler, native};

fn compile_100k(c: &mut Criterion) {
    let trace = tracecard_benches::synthetic_trace(100_000);
    let jsonl = native::to_jsonl(&trace).expect("serialise");
    let path = std::path::Path::new("synthetic.jsonl");
    let mut g = c.benchmark_group("native_100k");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(jsonl.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| native::parse(path, black_box(&jsonl)).expect("parse"))
    });
    g.bench_function("price_card_no_analysis", |b| {
        let comp = Compiler::new().analyze(false);
        b.iter(|| comp.compile(black_box(&trace)).expect("compile"))
    });
    g.bench_function("parse_price_card_yaml", |b| {
        let comp = Compiler::new().analyze(false);
        b.iter(|| {
            let t = native::parse(path, black_box(&jsonl)).expect("parse");
            comp.compile(&t).expect("compile").to_yaml().expect("yaml")
        })
    });
    g.finish();
}

criterion_group!(benches, compile_100k);
criterion_main!(benches);
