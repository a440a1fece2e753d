//! A synthetic 100k-step Claude Code session (≈150 MB, `claude_code_session`):
//! import, cost-only compile (no content kept) and full compile with analysis.
//! Under `cargo test` (no `--bench`) a 2k-step session runs once. Peak RSS is not a
//! criterion figure: `cargo run --release -p tracecard-benches --example peak_rss`
//! measures it in a fresh process (VmHWM).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tracecard_core::Compiler;
use tracecard_core::import::{ContentOptions, Format, Input, load_input};

fn steps() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        100_000
    } else {
        2_000
    }
}

fn claude_code(c: &mut Criterion) {
    let n = steps();
    let text = tracecard_benches::claude_code_session(n);
    let mut g = c.benchmark_group(format!("claude_code_{n}"));
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    let input = |skip: bool| {
        let mut i = Input::from_bytes("session.jsonl", text.as_bytes());
        i.content = ContentOptions {
            skip,
            max_bytes: None,
        };
        i
    };
    let cost_input = input(true);
    let full_input = input(false);
    g.bench_function("import", |b| {
        b.iter(|| load_input(black_box(&full_input), Some(Format::ClaudeCode)).expect("import"))
    });
    g.bench_function("cost_only", |b| {
        let comp = Compiler::new().analyze(false);
        b.iter(|| {
            let t = load_input(black_box(&cost_input), Some(Format::ClaudeCode)).expect("import");
            comp.compile(&t[0]).expect("compile")
        })
    });
    g.bench_function("compile_full", |b| {
        let comp = Compiler::new();
        b.iter(|| {
            let t = load_input(black_box(&full_input), Some(Format::ClaudeCode)).expect("import");
            comp.compile(&t[0]).expect("compile")
        })
    });
    g.finish();
}

criterion_group!(benches, claude_code);
criterion_main!(benches);
