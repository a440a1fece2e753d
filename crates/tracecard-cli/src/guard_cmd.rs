//! `tracecard guard`: the Claude Code `PreToolUse` hook enforcing distilled prune
//! rules (docs/guard.md).
//!
//! Contract: one JSON object on stdin; to deny, print the `hookSpecificOutput`
//! deny JSON and exit 0; to allow, print nothing and exit 0. It fails open: bad
//! arguments, a bad rules file, bad stdin, an unreadable transcript or an internal
//! error exit 1 with one line on stderr (Claude Code logs it and runs the tool).
//! It never exits 2 (that would block the tool).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use costcraft::RuleSet;
use costcraft::guard::{Guard, GuardOptions, hook};

/// Options of `tracecard guard`.
#[derive(Args, Debug)]
pub struct GuardArgs {
    /// The rules file (`tracecard distill -o DIR` writes DIR/rules.yaml).
    #[arg(long, value_name = "FILE", required = true)]
    pub rules: PathBuf,
    /// Rules with support in fewer distinct sessions never deny.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_support: usize,
    /// Also enforce `after: repeat_after_change` rules (off by default: an
    /// intervening change may have changed the result; see docs/guard.md).
    #[arg(long)]
    pub allow_repeat_after_change: bool,
    /// Allow everything; log what would have been denied (see --log).
    #[arg(long)]
    pub dry_run: bool,
    /// Append one JSON line per decision to FILE.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// Run the hook. Every failure is exit 1 with one stderr line.
pub fn guard(a: GuardArgs) -> ExitCode {
    match run(&a) {
        Ok(out) => {
            if let Some(o) = out {
                let mut so = std::io::stdout().lock();
                if writeln!(so, "{o}").and_then(|_| so.flush()).is_err() {
                    return fail("cannot write to stdout");
                }
            }
            ExitCode::SUCCESS
        }
        Err(m) => fail(&m),
    }
}

/// One line on stderr, exit 1 (Claude Code runs the tool).
pub fn fail(m: &str) -> ExitCode {
    let line = m.replace('\n', " ");
    eprintln!("tracecard guard: {line} (allowing the call)");
    ExitCode::from(1)
}

fn run(a: &GuardArgs) -> Result<Option<String>, String> {
    let rules = RuleSet::read(&a.rules).map_err(|e| e.to_string())?;
    let guard = Guard::new(
        &rules,
        &GuardOptions {
            min_support: a.min_support,
            include_held_back: false,
            repeat_after_change: a.allow_repeat_after_change,
        },
    );
    let mut stdin = String::new();
    std::io::stdin()
        .read_to_string(&mut stdin)
        .map_err(|e| format!("reading stdin: {e}"))?;
    let out = hook(&guard, &stdin, a.dry_run)?;
    if let Some(path) = &a.log {
        // one write of one line with O_APPEND: concurrent hooks do not interleave
        let line = format!("{}\n", out.log);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(|e| format!("log {}: {e}", path.display()))?;
    }
    Ok(out.stdout)
}
