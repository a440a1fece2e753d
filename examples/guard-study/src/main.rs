//! `guard-study [--train N] [--eval N] [--json] [--per-rule] [--ceiling]`: print
//! the transfer study table (`--per-rule`: each prune rule enforced alone;
//! `--ceiling`: how much a guard could save at most, per waste category).

use std::process::ExitCode;

use guard_study::{Config, render, study};

fn main() -> ExitCode {
    let mut cfg = Config {
        train: 24,
        eval: 100,
    };
    let mut json = false;
    let mut per_rule = false;
    let mut ceiling = false;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |what: &str| -> Option<usize> {
            let v = it.next()?.parse().ok();
            if v.is_none() {
                eprintln!("guard-study: {what} needs a number");
            }
            v
        };
        match a.as_str() {
            "--train" => match num("--train") {
                Some(n) => cfg.train = n,
                None => return ExitCode::from(2),
            },
            "--eval" => match num("--eval") {
                Some(n) => cfg.eval = n,
                None => return ExitCode::from(2),
            },
            "--json" => json = true,
            "--per-rule" => per_rule = true,
            "--ceiling" => ceiling = true,
            _ => {
                eprintln!(
                    "usage: guard-study [--train N] [--eval N] [--json] [--per-rule] [--ceiling]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let s = study(cfg);
    if json {
        println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
    } else {
        print!("{}", render(&s));
    }
    if per_rule {
        let rules = guard_study::distil(&s.train_seeds);
        for r in guard_study::per_rule(&s, &rules) {
            println!(
                "{:55} {:9} {:20} {:13} denies {:4} regressions {:3} saved ${:.4}",
                r.id,
                r.status,
                r.after,
                r.split,
                r.denies,
                r.regressions,
                r.saved_usd.to_f64()
            );
        }
    }
    if ceiling {
        let rules = guard_study::distil(&s.train_seeds);
        let g = costcraft::guard::Guard::new(&rules, &Default::default());
        let cs = [
            guard_study::ceiling("seen kinds", &s.seen_seeds, &g),
            guard_study::ceiling("unseen kinds", &s.unseen_seeds, &g),
        ];
        println!();
        print!("{}", guard_study::render_ceiling(&cs));
    }
    ExitCode::SUCCESS
}
