//! Peak resident memory of one compile, in a fresh process:
//! `cargo run --release -p tracecard-benches --example peak_rss -- FILE [full|cost]`.
//! Prints the file size, wall time, peak RSS (`VmHWM` of /proc/self/status) and
//! the RSS / file-size ratio (issue 13's target: ≤ 2×).
use tracecard_core::Compiler;

/// The allocator of the `tracecard` binary, so the figure is the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use tracecard_core::import::{ContentOptions, load_with};

fn vm_hwm_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = std::path::PathBuf::from(args.next().expect("usage: peak_rss FILE [full|cost]"));
    let full = args.next().as_deref() != Some("cost");
    let size = std::fs::metadata(&path).expect("stat").len();
    let start = std::time::Instant::now();
    let content = ContentOptions {
        skip: !full,
        max_bytes: None,
    };
    let traces = load_with(&path, None, content).expect("load");
    let comp = Compiler::new().analyze(full);
    let steps: usize = traces
        .iter()
        .map(|t| comp.compile(t).expect("compile").steps.len())
        .sum();
    let wall = start.elapsed();
    let hwm = vm_hwm_kb().unwrap_or(0) * 1024;
    println!(
        "{}: {} bytes, {steps} steps, mode {}, wall {:.2} s, peak RSS {} MB = {:.2}x the file",
        path.display(),
        size,
        if full { "full" } else { "cost" },
        wall.as_secs_f64(),
        hwm / 1_000_000,
        hwm as f64 / size.max(1) as f64
    );
}
