//! Profile helper: `cargo run --release -p tracecard-benches --example analyze_big -- 1000000`.
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let t = tracecard_benches::synthetic_trace(n);
    let start = std::time::Instant::now();
    let a = tracecard_core::analysis::Analysis::run(&t, tracecard_core::PriceTable::bundled())
        .expect("analysis");
    eprintln!(
        "{n} steps: {:?}, {} edges, {} flagged",
        start.elapsed(),
        a.edges.len(),
        a.findings()
            .filter(|(_, f)| f.verdict == tracecard_core::Verdict::Redundant)
            .count()
    );
}
