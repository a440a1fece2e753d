//! Hostile-input campaign (issue 14): a deterministic **generator** of malformed
//! inputs derived from real fixture samples of every format (read in place) and
//! from price files, run through the library and the `tracecard` binary.
//!
//! Per case, one of: success (warnings allowed), or a typed error naming the file;
//! never a panic, an abort/signal, a hang (time budget) or memory above a cap
//! (`ulimit -v`). `make test` runs a small sample (`HOSTILE_SEEDS` unset: 1 seed,
//! one sample per format); `make hostile` runs every fixture with more seeds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tracecard_core::import;

/// One sample per format: small real files (`$TRACECARD_FIXTURES` or
/// `<workspace>/../shared/fixtures`); OpenClaw and native are generated.
const SAMPLES: &[&str] = &[
    "claude-code/spotter/short.jsonl",
    "codex/rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl",
    "inspect/log_read_sample.eval",
    "inspect/log_tool_call_error.json",
    "langfuse/vercel-aisdk-2025-11-17.trace.json",
    "mini-swe-agent/github_issue.v0-list.traj.json",
    "openhands/basic_interactions.json",
    "otlp-real/pydantic-ai/s4_clean.waste.json",
    "swe-agent/swe-agent__test-repo-i1.gpt4.traj",
];

const OPENCLAW: &str = r#"{"type":"session","version":3,"id":"7f3c2a10","timestamp":"2026-03-02T09:14:05.120Z","cwd":"/home/dev/shop-api"}
{"type":"model_change","id":"e1","parentId":null,"timestamp":"2026-03-02T09:14:05.130Z","provider":"anthropic","modelId":"claude-sonnet-4-5"}
{"type":"message","id":"m1","parentId":"e1","timestamp":"2026-03-02T09:14:11.002Z","message":{"role":"user","content":[{"type":"text","text":"Why does GET /orders return 500 — in staging?"}]}}
{"type":"message","id":"m2","parentId":"m1","timestamp":"2026-03-02T09:14:16.480Z","message":{"role":"assistant","content":[{"type":"toolCall","id":"toolu_01A","name":"read","arguments":{"path":"src/routes/orders.ts"}}],"model":"claude-sonnet-4-5","usage":{"input":2150,"output":180,"cacheRead":0,"cacheWrite":4800,"totalTokens":7130,"cost":{"total":0.02715}}}}
{"type":"message","id":"m3","parentId":"m2","timestamp":"2026-03-02T09:14:16.530Z","message":{"role":"toolResult","toolCallId":"toolu_01A","toolName":"read","content":[{"type":"text","text":"export async function listOrders() {}"}],"isError":false}}
"#;

const NATIVE: &str = "{\"record\":\"session\",\"version\":1,\"session_id\":\"n-1\"}\n\
{\"record\":\"step\",\"kind\":\"user_input\"}\n\
{\"record\":\"step\",\"kind\":\"llm_call\",\"model\":\"gpt-4.1-mini\",\"tokens\":{\"input\":606,\"output\":22}}\n\
{\"record\":\"outcome\",\"status\":\"success\",\"reported_cost_usd\":0.0003}\n";

const PRICES: &str = r#"{"gpt-4.1-mini": {"input_cost_per_token": 4e-07, "output_cost_per_token": 1.6e-06, "cache_read_input_token_cost": 1e-07, "litellm_provider": "openai"}}"#;

fn fixtures_root() -> Option<PathBuf> {
    let root = std::env::var_os("TRACECARD_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
        });
    root.is_dir().then_some(root)
}

/// Deterministic xorshift64*.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const EXTREMES: &[&str] = &[
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-1",
    "-0",
    "1e308",
    "1e2147483647",
    "\"1e2147483647\"",
    "99999999999999999999999999999999999999",
    "0.5",
    "\"NaN\"",
    "null",
    "true",
    "[]",
    "{}",
    "\"\"",
];

/// Byte offsets of the numbers that follow a `:` (JSON field values).
fn number_spans(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b':' {
            let mut s = i + 1;
            while s < b.len() && b[s] == b' ' {
                s += 1;
            }
            let mut e = s;
            while e < b.len() && (b[e].is_ascii_digit() || b"-.eE+".contains(&b[e])) {
                e += 1;
            }
            if e > s && b[s] != b'e' && b[s] != b'E' {
                out.push((s, e));
            }
            i = e.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The hostile variants of one sample: `(case name, bytes)`.
fn mutants(sample: &[u8], seed: u64) -> Vec<(String, Vec<u8>)> {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let n = sample.len();
    // truncations: anywhere, inside a multi-byte char, right after a number's `-`/`.`/`e`, before the final newline
    out.push(("trunc-any".into(), sample[..r.below(n)].to_vec()));
    if let Some(p) = (0..n).rev().find(|&i| sample[i] & 0xC0 == 0x80) {
        out.push(("trunc-in-char".into(), sample[..p].to_vec()));
    }
    if let Some(&(s, e)) = number_spans(sample).last() {
        out.push(("trunc-in-number".into(), sample[..(s + 1).min(e)].to_vec()));
    }
    out.push((
        "trunc-last-byte".into(),
        sample[..n.saturating_sub(1)].to_vec(),
    ));
    // flipped bytes
    for k in [1usize, 16] {
        let mut b = sample.to_vec();
        for _ in 0..k {
            let i = r.below(n);
            b[i] = (r.next() & 0xFF) as u8;
        }
        out.push((format!("flip-{k}"), b));
    }
    // wrong types / extreme numbers in place of field values
    let spans = number_spans(sample);
    for (j, x) in EXTREMES.iter().enumerate() {
        if spans.is_empty() {
            break;
        }
        let mut b = Vec::with_capacity(n + 64);
        let mut last = 0;
        // replace every number when j is even (all counts extreme), else one number
        let pick = r.below(spans.len());
        for (k, &(s, e)) in spans.iter().enumerate() {
            if j % 2 == 0 || k == pick {
                b.extend_from_slice(&sample[last..s]);
                b.extend_from_slice(x.as_bytes());
                last = e;
            }
        }
        b.extend_from_slice(&sample[last..]);
        out.push((format!("num-{j}"), b));
    }
    // nesting, huge line, duplicates, encodings, emptiness
    let mut b = "[".repeat(100_000).into_bytes();
    b.extend_from_slice(sample);
    out.push(("nest".into(), b));
    let mut b = sample.to_vec();
    b.extend_from_slice(format!("{{\"x\":\"{}\"}}\n", "y".repeat(2 << 20)).as_bytes());
    out.push(("huge-line".into(), b));
    let lines: Vec<&[u8]> = sample.split(|c| *c == b'\n').collect();
    let mut b = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        b.extend_from_slice(l);
        if i + 1 < lines.len() {
            b.push(b'\n');
            if i == lines.len() / 2 {
                b.extend_from_slice(l);
                b.push(b'\n');
            }
        }
    }
    out.push(("dup-line".into(), b));
    let mut b = b"\xEF\xBB\xBF".to_vec();
    b.extend_from_slice(sample);
    out.push(("bom".into(), b));
    let crlf: Vec<u8> = sample
        .iter()
        .flat_map(|&c| {
            if c == b'\n' {
                vec![b'\r', b'\n']
            } else {
                vec![c]
            }
        })
        .collect();
    out.push(("crlf".into(), crlf));
    if let Ok(s) = std::str::from_utf8(sample) {
        let mut b = vec![0xFF, 0xFE];
        for u in s.encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        out.push(("utf16".into(), b));
    }
    out.push(("empty".into(), Vec::new()));
    out.push(("blank".into(), b" \n\n\t\n".to_vec()));
    out.push(("brace".into(), b"{".to_vec()));
    out
}

fn seeds() -> u64 {
    std::env::var("HOSTILE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// Every sample: `(file name, bytes)`.
fn samples() -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        ("openclaw.jsonl".to_string(), OPENCLAW.as_bytes().to_vec()),
        ("native.jsonl".to_string(), NATIVE.as_bytes().to_vec()),
    ];
    let Some(root) = fixtures_root() else {
        eprintln!("fixtures not found: only generated samples");
        return out;
    };
    let rels: Vec<String> = if std::env::var("HOSTILE_ALL").is_ok() {
        let mut v = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p
                    .extension()
                    .is_some_and(|x| ["json", "jsonl", "traj", "eval"].iter().any(|y| x == *y))
                    && std::fs::metadata(&p).unwrap().len() < 4 << 20
                {
                    v.push(p.strip_prefix(&root).unwrap().display().to_string());
                }
            }
        }
        v.sort();
        v
    } else {
        SAMPLES.iter().map(|s| s.to_string()).collect()
    };
    for rel in rels {
        let p = root.join(&rel);
        let name = rel.replace('/', "__");
        out.push((name, std::fs::read(&p).unwrap()));
    }
    out
}

fn case_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tracecard-campaign-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run the binary under a memory cap and a time budget; `(exit code or None for a signal, stderr)`.
fn run_capped(args: &[&std::ffi::OsStr], budget: Duration) -> (Option<i32>, String) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 3000000 2>/dev/null; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_tracecard"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // drain stderr on a thread: a full pipe would block the child (a false "hang")
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut err = String::new();
        use std::io::Read;
        let _ = pipe.read_to_string(&mut err);
        err
    });
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), reader.join().unwrap());
        }
        if start.elapsed() > budget {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hang: {args:?} ran over {budget:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn check_lib(path: &Path) -> Result<(), String> {
    let start = Instant::now();
    let r = import::load(path, None);
    if start.elapsed() > Duration::from_secs(20) {
        return Err(format!("{}: took {:?}", path.display(), start.elapsed()));
    }
    match r {
        Ok(_) => Ok(()),
        Err(e) => {
            let msg = e.to_string();
            let names_file = e.path().is_some_and(|p| p == path)
                || msg.contains(&*path.file_name().unwrap().to_string_lossy());
            if !names_file {
                return Err(format!("error does not name the file: {msg}"));
            }
            if msg.contains("internal error") {
                return Err(format!("panic caught: {msg}"));
            }
            Ok(())
        }
    }
}

fn check_bin(args: &[&std::ffi::OsStr], name: &str) -> Result<(), String> {
    let (code, err) = run_capped(args, Duration::from_secs(30));
    match code {
        Some(0) => Ok(()),
        Some(1 | 2) if err.contains(name) => Ok(()),
        Some(1 | 2) => Err(format!("{args:?}: error names no file: {err}")),
        Some(c) => Err(format!("{args:?}: exit {c} (101 = panic): {err}")),
        None => Err(format!(
            "{args:?}: killed by a signal (abort / memory cap): {err}"
        )),
    }
}

#[test]
fn hostile_corpus_gives_typed_errors_or_warned_success() {
    let dir = case_dir("corpus");
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, sample) in samples() {
        for seed in 0..seeds() {
            for (case, bytes) in mutants(&sample, seed + 1) {
                let file = format!("{case}-s{seed}-{name}");
                let p = dir.join(&file);
                std::fs::write(&p, &bytes).unwrap();
                count += 1;
                if let Err(e) = check_lib(&p) {
                    failures.push(format!("lib {file}: {e}"));
                }
                if let Err(e) = check_bin(
                    &["compile".as_ref(), p.as_os_str(), "--summary".as_ref()],
                    &file,
                ) {
                    failures.push(format!("cli {file}: {e}"));
                }
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    // price files
    for seed in 0..seeds() {
        for (case, bytes) in mutants(PRICES.as_bytes(), seed + 7) {
            let file = format!("prices-{case}-s{seed}.json");
            let p = dir.join(&file);
            std::fs::write(&p, &bytes).unwrap();
            count += 1;
            if let Err(e) = check_bin(
                &[
                    "price".as_ref(),
                    "gpt-4.1-mini".as_ref(),
                    "--prices".as_ref(),
                    p.as_os_str(),
                ],
                &file,
            ) {
                failures.push(format!("price {file}: {e}"));
            }
        }
    }
    eprintln!("{count} hostile cases");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn hostile_files_and_directories() {
    let dir = case_dir("tree").join("tree");
    std::fs::create_dir_all(dir.join("flood")).unwrap();
    // a directory flood, a symlink loop, a FIFO and a device link inside a walked directory
    for i in 0..2000 {
        std::fs::write(
            dir.join("flood").join(format!("f{i}.json")),
            if i % 2 == 0 { "{}" } else { "" },
        )
        .unwrap();
    }
    std::fs::write(dir.join("n.jsonl"), NATIVE).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("loop")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.jsonl")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(dir.join("pipe.jsonl"))
            .status()
            .unwrap()
            .success()
    );
    let start = Instant::now();
    let (code, err) = run_capped(
        &["compile".as_ref(), dir.as_os_str(), "--summary".as_ref()],
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("loop") && err.contains("pipe.jsonl") && err.contains("zero.jsonl"),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(60));
    for special in [
        dir.join("pipe.jsonl"),
        dir.join("zero.jsonl"),
        PathBuf::from("/dev/null"),
    ] {
        let (code, err) = run_capped(
            &["compile".as_ref(), special.as_os_str()],
            Duration::from_secs(20),
        );
        assert!(matches!(code, Some(1 | 2)), "{special:?}: {code:?} {err}");
        assert!(
            err.contains(&*special.file_name().unwrap().to_string_lossy()),
            "{err}"
        );
    }
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}
