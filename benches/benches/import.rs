//! Import throughput (MB/s) per format on the largest real fixtures, next to bare
//! `serde_json` parsing of the same bytes. Fixtures are read in place from
//! `$TRACECARD_FIXTURES` or `../shared/fixtures`; missing ones are skipped.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tracecard_core::import::{Input, load_input};

const FILES: &[&str] = &[
    "claude-code/spotter/fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl",
    "codex/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl",
    "inspect/2025-05-12T20-27-36-04-00_browser.json",
    "langfuse/beeai-2025-08-01.trace.json",
    "otlp-real/pydantic-ai/s2_duplicate_tool_call.otlp.json",
    "mini-swe-agent/django__django-12983.deepseek-chat.traj.json",
    "swe-agent/pydicom__pydicom-1458.gpt4.traj",
    "openhands/resolver-output.v0-legacy.jsonl",
];

fn root() -> PathBuf {
    std::env::var_os("TRACECARD_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"))
}

/// serde_json over the same bytes: one document, or one per line.
fn bare_json(text: &str) -> usize {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => v.is_object() as usize,
        Err(_) => text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .count(),
    }
}

fn import(c: &mut Criterion) {
    let mut g = c.benchmark_group("import");
    g.sample_size(10);
    for rel in FILES {
        let path = root().join(rel);
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("skipping {rel}: not found under {}", root().display());
            continue;
        };
        let name = rel.split('/').next().unwrap_or(rel);
        let input = Input::from_bytes(path.clone(), bytes.clone());
        if load_input(&input, None).is_err() {
            eprintln!("skipping {rel}: no importer for it in this build");
            continue;
        }
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("tracecard", name), &input, |b, i| {
            b.iter(|| load_input(black_box(i), None).expect("import"))
        });
        let text = String::from_utf8_lossy(&bytes).into_owned();
        g.bench_with_input(BenchmarkId::new("serde_json", name), &text, |b, t| {
            b.iter(|| bare_json(black_box(t)))
        });
    }
    g.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
