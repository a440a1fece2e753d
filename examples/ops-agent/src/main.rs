//! `ops-agent`: generate native traces of the scripted ops agent, or replay one
//! under the `tracecard-replay/1` protocol.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use ops_agent::{ContentLevel, run_with, session_id};

const USAGE: &str = "usage:
  ops-agent gen --seed-start S --count N --out DIR [--content full|partial]
  ops-agent replay   < request.json   (tracecard-replay/1)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("gen") => gen_cmd(&args[1..]),
        Some("replay") => replay_cmd(),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(m) => {
            eprintln!("ops-agent: {m}");
            ExitCode::from(2)
        }
    }
}

fn gen_cmd(args: &[String]) -> Result<(), String> {
    let (mut start, mut count, mut out, mut content) = (None, None, None, ContentLevel::Full);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seed-start" => {
                start = Some(
                    val()?
                        .parse::<u64>()
                        .map_err(|e| format!("--seed-start: {e}"))?,
                )
            }
            "--count" => count = Some(val()?.parse::<u64>().map_err(|e| format!("--count: {e}"))?),
            "--out" => out = Some(PathBuf::from(val()?)),
            "--content" => {
                let v = val()?;
                content = ContentLevel::parse(v)
                    .ok_or_else(|| format!("--content: {v:?} is not full|partial"))?;
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let (start, count, out) = match (start, count, out) {
        (Some(s), Some(c), Some(o)) => (s, c, o),
        _ => {
            return Err(format!(
                "gen needs --seed-start, --count and --out\n{USAGE}"
            ));
        }
    };
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    for seed in start..start.saturating_add(count) {
        let s = run_with(seed, &BTreeSet::new(), content);
        let path = out.join(format!("{}.jsonl", session_id(seed)));
        std::fs::write(&path, s.to_jsonl()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn replay_cmd() -> Result<(), String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("reading stdin: {e}"))?;
    let out = ops_agent::protocol::handle(&input)?;
    println!("{out}");
    Ok(())
}
