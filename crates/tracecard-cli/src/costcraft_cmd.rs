//! `tracecard distill`, `check-rules` and `evaluate`: the costcraft commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use rayon::prelude::*;
use tracecard_core::{Compiler, Format, PriceTable, Usd};

use crate::{Failure, ReplayOptions, command_replayer, load_all, load_prices, parse_from};

/// Options of `tracecard distill`.
#[derive(Args)]
pub struct DistillArgs {
    /// Trace files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output directory: rules.yaml, <skill-name>/SKILL.md, patches.yaml, REPORT.md.
    #[arg(short = 'o', long = "output", value_name = "DIR", required = true)]
    pub output: PathBuf,
    /// Session outcomes, JSONL: {"session_id", "status", "evidence": [{"verifier", "passed", "message"}]}.
    #[arg(long, value_name = "FILE")]
    pub outcomes: Option<PathBuf>,
    /// Confirm redundancy by counterfactual replay through CMD (tracecard-replay/1).
    #[arg(long, value_name = "CMD")]
    pub replayer: Option<String>,
    /// At most N replays per session (with --replayer).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub replay_budget: usize,
    /// Kill a replay after SECS seconds (with --replayer).
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub replay_timeout: u64,
    /// Refuse prune patches confirmed by dataflow only.
    #[arg(long)]
    pub require_replay: bool,
    /// Minimum savings of a prune, in USD.
    #[arg(long, value_name = "USD", default_value = "0.001")]
    pub min_savings: String,
    /// Minimum savings of a prune as a share of its session's cost (0.01 = 1%).
    #[arg(long, value_name = "SHARE", default_value_t = 0.01)]
    pub min_share: f64,
    /// Prune rules need support in at least N distinct tasks.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub min_tasks: usize,
    /// Prune rules are held back above this counter-example rate.
    #[arg(long, value_name = "RATE", default_value_t = 0.1)]
    pub max_counter_rate: f64,
    /// Backfire guards that may hold without refusing: short-sessions,
    /// latency-bound, stochastic-subagents, no-oracle, or all.
    #[arg(long, value_name = "GUARD")]
    pub allow_backfire: Vec<String>,
    /// Put quarantined (preserve) rules in SKILL.md too.
    #[arg(long)]
    pub include_quarantined: bool,
    /// Skill name (its directory and front-matter `name`).
    #[arg(long, value_name = "NAME", default_value = "cost-rules")]
    pub skill_name: String,
    /// Price file overriding the bundled table.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Force the input format instead of detecting it.
    #[arg(long = "from", value_name = "FORMAT")]
    pub from: Option<String>,
}

/// Traces under `paths` with `--outcomes` applied; unmatched lines on stderr and
/// returned as notes.
fn load_with_outcomes(
    paths: &[PathBuf],
    from: Option<Format>,
    outcomes: Option<&Path>,
) -> Result<(Vec<tracecard_core::Trace>, Vec<String>), Failure> {
    let mut traces = load_all(paths, from)?;
    let mut notes = Vec::new();
    if let Some(f) = outcomes {
        let records = costcraft::outcomes::read_outcomes(f)?;
        let rep = costcraft::outcomes::apply_outcomes(&mut traces, &records);
        for (line, sid) in &rep.unmatched {
            let n = format!(
                "{}:{line}: outcome for session {sid:?}, which is not among the loaded sessions",
                f.display()
            );
            eprintln!("warning: {n}");
            notes.push(n);
        }
    }
    Ok((traces, notes))
}

fn compile_all(
    traces: Vec<tracecard_core::Trace>,
    compiler: &Compiler,
) -> Result<Vec<costcraft::Session>, Failure> {
    let out: Vec<Result<costcraft::Session, costcraft::Error>> = traces
        .into_par_iter()
        .map(|t| costcraft::Session::compile(t, compiler))
        .collect();
    Ok(out.into_iter().collect::<Result<Vec<_>, _>>()?)
}

/// `tracecard distill`.
pub fn distill(a: DistillArgs) -> Result<ExitCode, Failure> {
    let from = parse_from(a.from.clone())?;
    let table: PriceTable = load_prices(a.prices.as_deref())?;
    let mut policy = costcraft::Policy {
        min_savings_usd: a
            .min_savings
            .parse::<Usd>()
            .map_err(|e| format!("--min-savings: {e}"))?,
        min_session_share: a.min_share,
        require_replay: a.require_replay,
        min_prune_tasks: a.min_tasks,
        max_counter_example_rate: a.max_counter_rate,
        include_quarantined: a.include_quarantined,
        skill_name: a.skill_name.clone(),
        ..costcraft::Policy::default()
    };
    costcraft::skill::validate_name(&a.skill_name).map_err(|e| format!("--skill-name: {e}"))?;
    for g in &a.allow_backfire {
        if g == "all" {
            policy.allow_backfire = costcraft::backfire::Guard::ALL.into_iter().collect();
        } else {
            policy.allow_backfire.insert(
                costcraft::backfire::Guard::parse(g)
                    .ok_or_else(|| format!("--allow-backfire: unknown guard `{g}`"))?,
            );
        }
    }
    let (traces, notes) = load_with_outcomes(&a.paths, from, a.outcomes.as_deref())?;
    let replay = a.replayer.clone().map(|command| ReplayOptions {
        command,
        budget: a.replay_budget,
        timeout: std::time::Duration::from_secs(a.replay_timeout),
    });
    let replayer = command_replayer(replay.as_ref())?;
    let compiler = Compiler::new().prices(&table);
    let compiler = match &replayer {
        Some(r) => compiler.replayer(r).replay_budget(a.replay_budget),
        None => compiler,
    };
    let sessions = compile_all(traces, &compiler)?;
    let mut d = match costcraft::distill(sessions, &policy) {
        Ok(d) => d,
        Err(e) if e.kind() == costcraft::ErrorKind::Backfire => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    d.notes = notes;
    d.write(&a.output)?;
    let r = &d.rules;
    let count = |act: costcraft::Action, st: costcraft::RuleStatus| {
        r.rules
            .iter()
            .filter(|x| x.action == act && x.status == st)
            .count()
    };
    eprintln!(
        "{} session(s): {} patch(es) kept, {} refused; rules: {} active prune, {} held back, {} repair, {} quarantined preserve -> {}",
        r.corpus.sessions,
        d.patches.kept.len(),
        d.patches.refused.len(),
        count(costcraft::Action::Prune, costcraft::RuleStatus::Active),
        count(costcraft::Action::Prune, costcraft::RuleStatus::HeldBack),
        count(costcraft::Action::Repair, costcraft::RuleStatus::Active),
        count(
            costcraft::Action::Preserve,
            costcraft::RuleStatus::Quarantined
        ),
        a.output.display()
    );
    for w in &r.backfire {
        eprintln!(
            "warning: backfire guard {}: {}{}",
            w.guard.as_str(),
            w.message,
            if w.allowed { " (allowed)" } else { "" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Options of `tracecard check-rules`.
#[derive(Args)]
pub struct CheckRulesArgs {
    /// The rules.yaml written by `tracecard distill`.
    pub rules: PathBuf,
    /// New trace files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Price file overriding the bundled table.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Force the input format instead of detecting it.
    #[arg(long = "from", value_name = "FORMAT")]
    pub from: Option<String>,
}

/// `tracecard check-rules`.
pub fn check_rules(a: CheckRulesArgs) -> Result<ExitCode, Failure> {
    let rules = costcraft::RuleSet::read(&a.rules)?;
    let from = parse_from(a.from.clone())?;
    let table = load_prices(a.prices.as_deref())?;
    let compiler = Compiler::new().prices(&table);
    let sessions = compile_all(load_all(&a.paths, from)?, &compiler)?;
    let report = costcraft::check::check(&rules, &sessions);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} session(s) checked against {} rule(s)",
        report.sessions,
        report.rules.len()
    );
    for r in &report.rules {
        println!(
            "{} [{:?}]: fired {} time(s), {} on needed steps; targeted cost/session ${} (baseline ${}){}",
            r.id,
            r.status,
            r.fired.len(),
            r.fired_on_needed,
            r.now_per_session_usd,
            r.baseline_per_session_usd,
            if r.shrank { ", shrank" } else { "" }
        );
        for f in &r.fired {
            println!(
                "  {} step {} {} {} ${}",
                f.session_id,
                f.step,
                f.source_ref.as_deref().unwrap_or("-"),
                f.verdict.as_str(),
                f.cost_usd
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Options of `tracecard evaluate`.
#[derive(Args)]
pub struct EvaluateArgs {
    /// Baseline runs (files or directories).
    #[arg(long, value_name = "DIR", required = true)]
    pub baseline: Vec<PathBuf>,
    /// Treated runs of the same tasks (paired by `task_id` metadata, else session
    /// id). Runs carrying `costcraft.active_rules` metadata (the rule ids active
    /// in them) are also grouped into lanes for the ablation.
    #[arg(long, value_name = "DIR", required = true)]
    pub treated: Vec<PathBuf>,
    /// Outcomes (JSONL) for either side.
    #[arg(long, value_name = "FILE")]
    pub outcomes: Option<PathBuf>,
    /// A `tracecard guard --log` file (repeatable): each treated session gets
    /// `costcraft.active_rules` from its lines (by `session_id`); a treated
    /// session without any line ran without the guard (the `no rules` lane).
    #[arg(long = "guard-log", value_name = "FILE")]
    pub guard_log: Vec<PathBuf>,
    /// Print the evaluation as JSON.
    #[arg(long)]
    pub json: bool,
    /// Price file overriding the bundled table.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
}

/// `tracecard evaluate`.
pub fn evaluate(a: EvaluateArgs) -> Result<ExitCode, Failure> {
    let table = load_prices(a.prices.as_deref())?;
    let compiler = Compiler::new().prices(&table).analyze(false);
    let mut logs: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for f in &a.guard_log {
        for (sid, ids) in costcraft::evaluate::read_guard_log(f)? {
            logs.entry(sid).or_default().extend(ids);
        }
    }
    let side =
        |paths: &[PathBuf], treated: bool| -> Result<Vec<costcraft::evaluate::Run>, Failure> {
            let mut traces = load_all(paths, None)?;
            if let Some(f) = &a.outcomes {
                let records = costcraft::outcomes::read_outcomes(f)?;
                costcraft::outcomes::apply_outcomes(&mut traces, &records);
            }
            if treated && !a.guard_log.is_empty() {
                costcraft::evaluate::attach_guard_logs(&mut traces, &logs);
            }
            let out: Result<Vec<_>, costcraft::Error> = traces
                .into_par_iter()
                .map(|t| costcraft::evaluate::Run::compile(t, &compiler))
                .collect();
            Ok(out?)
        };
    let e =
        costcraft::evaluate::evaluate_runs(&side(&a.baseline, false)?, &side(&a.treated, true)?);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&e)?);
        return Ok(ExitCode::SUCCESS);
    }
    let per = |x: Option<Usd>| x.map(|u| format!("${u}")).unwrap_or_else(|| "-".into());
    println!(
        "pairs: {}  unpaired: {}\nregressions: {}  recoveries: {}\nmedian cost change: ${} (95% CI ${} .. ${})\nbaseline: {} session(s), {} success(es), ${}, {} per success\ntreated:  {} session(s), {} success(es), ${}, {} per success",
        e.pairs.len(),
        e.unpaired.len(),
        e.regressions,
        e.recoveries,
        e.median_cost_change_usd,
        e.median_cost_change_ci_usd[0],
        e.median_cost_change_ci_usd[1],
        e.baseline.sessions,
        e.baseline.successes,
        e.baseline.total_cost_usd,
        per(e.baseline.cost_per_success_usd),
        e.treated.sessions,
        e.treated.successes,
        e.treated.total_cost_usd,
        per(e.treated.cost_per_success_usd),
    );
    if !e.ablation.is_empty() {
        println!(
            "\nablation (treated runs by the rules active in them, {}):",
            costcraft::evaluate::ACTIVE_RULES_KEY
        );
        println!(
            "{:<20} {:>6} {:>6} {:>6} {:>11} {:>11}  {:<44} {:>12}",
            "lane",
            "rules",
            "pairs",
            "regr",
            "recoveries",
            "successes",
            "median cost change (95% CI)",
            "per success"
        );
        for l in &e.ablation {
            println!(
                "{:<20} {:>6} {:>6} {:>6} {:>11} {:>11}  {:<44} {:>12}",
                l.lane,
                l.rules,
                l.pairs,
                l.regressions,
                l.recoveries,
                l.treated.successes,
                format!(
                    "${} (${} .. ${})",
                    l.median_cost_change_usd,
                    l.median_cost_change_ci_usd[0],
                    l.median_cost_change_ci_usd[1]
                ),
                per(l.treated.cost_per_success_usd)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
