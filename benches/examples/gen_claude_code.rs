//! Write a synthetic Claude Code session: `cargo run --release -p tracecard-benches
//! --example gen_claude_code -- STEPS OUT.jsonl` (100000 steps ≈ 150 MB).
fn main() {
    let mut args = std::env::args().skip(1);
    let steps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let out = args.next().unwrap_or_else(|| "session.jsonl".into());
    let text = tracecard_benches::claude_code_session(steps);
    std::fs::write(&out, &text).expect("write");
    eprintln!("{out}: {steps} steps, {} bytes", text.len());
}
