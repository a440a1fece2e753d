//! `tracecard`: compile agent traces into TraceCards.
//!
//! ```text
//! tracecard compile <PATH>... [--format yaml|json|parquet] [-o OUT] [--prices FILE] [--from FORMAT] [--summary]
//!                   [--replayer CMD [--replay-budget N] [--replay-timeout SECS]]
//!                   [--outcomes FILE] [--backfire]
//! tracecard report <PATH>... [-o OUT.html] [--prices FILE] [--from FORMAT] [--include-content]
//!                  [--patches FILE] [--rules FILE] [--distill]
//!                  [--replayer CMD [--replay-budget N] [--replay-timeout SECS]]
//! ```
//!
//! Exit status: 0 ok, 1 an input could not be read or compiled (or an
//! `--outcomes` line names no loaded session), 2 usage or fatal
//! error (bad flag, bad price file, output not writable), 3 a counterfactual replay
//! failed (the cards are still written).

/// mimalloc instead of glibc's allocator: an import makes millions of small,
/// short-lived allocations, and glibc's free-list consolidation was a third of the
/// CPU time of a large Claude Code import (see BENCHMARKS.md, issue 13).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use tracecard_core::{
    Compiler, Format, InputRoot, PriceTable, TraceCard, Usd, WarningCode, import,
};

mod costcraft_cmd;
mod guard_cmd;

/// Where an agent session's money went, which steps were wasted, and why.
#[derive(Parser)]
#[command(name = "tracecard", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile traces into TraceCards (per-step cost, tokens, redundancy flags).
    ///
    /// PATH may be a file or a directory; a directory compiles every session in it
    /// (Claude Code sub-agent files are read with their parent session). Cards go to
    /// stdout (YAML documents separated by `---`, or a JSON array when there are
    /// several), or to OUT: a file, or a directory when OUT ends with `/` or already
    /// is one (one `<session>.card.<ext>` per session). `--format parquet -o DIR`
    /// writes the `steps` and `sessions` tables as `DIR/steps.parquet` and
    /// `DIR/sessions.parquet` (zstd; docs/arrow.md).
    ///
    /// With `--replayer CMD`, the redundancy flags are confirmed by really replaying
    /// the session without them: CMD runs through `sh -c` once per replay and speaks
    /// the `tracecard-replay/1` protocol (docs/replay-protocol.md).
    #[command(after_help = EXIT_CODES)]
    Compile {
        /// Trace files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutFormat::Yaml)]
        format: OutFormat,
        /// Write cards here instead of stdout.
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: Option<PathBuf>,
        /// Price file overriding the bundled table: LiteLLM's
        /// `model_prices_and_context_window.json` or tracecard's own format.
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
        /// Force the input format instead of detecting it.
        #[arg(long = "from", value_name = "FORMAT")]
        from: Option<String>,
        /// Print a per-session table (steps, cost, reported cost, delta, warnings) to
        /// stderr instead of the cards.
        #[arg(long)]
        summary: bool,
        /// Skip the redundancy analysis (prices and tokens only). Step content is
        /// then not kept at all (not even hashed): the cost-only path.
        #[arg(long)]
        no_analysis: bool,
        /// Keep at most BYTES of each piece of step content (tool arguments and
        /// results, model outputs) for the analysis; bounds memory on huge sessions.
        /// Hashes and lengths stay those of the whole text.
        #[arg(long, value_name = "BYTES")]
        max_content: Option<usize>,
        /// Print the evidence chain of one step (by card id) to stdout instead of
        /// the cards: what consumed its output, its path to the outcome, or why it is
        /// redundant. Needs a single session.
        #[arg(long, value_name = "STEP")]
        explain: Option<u32>,
        /// Confirm the redundancy flags by counterfactual replay through CMD, run by
        /// `sh -c` once per replay: it reads one `tracecard-replay/1` JSON request on
        /// stdin and prints one JSON outcome on stdout (docs/replay-protocol.md).
        #[arg(long, value_name = "CMD")]
        replayer: Option<String>,
        /// At most N replays per session (with --replayer).
        #[arg(long, value_name = "N", default_value_t = 32)]
        replay_budget: usize,
        /// Kill a replay (its whole process group) that has not answered after SECS
        /// seconds (with --replayer).
        #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
        replay_timeout: u64,
        /// Session outcomes, JSONL, one line per session: {"session_id", "status":
        /// "success"|"failure", "evidence": [{"verifier", "passed", "message"}]}. They
        /// replace the outcome the importer found; a line naming no loaded session is
        /// reported on stderr and makes the exit status 1.
        #[arg(long, value_name = "FILE")]
        outcomes: Option<PathBuf>,
        /// Evaluate costcraft's backfire guards over the compiled sessions and put a
        /// `backfire_<guard>` warning on the cards they concern (docs/costcraft.md).
        #[arg(long)]
        backfire: bool,
    },
    /// Write a self-contained HTML report: a waterfall per session (one lane per
    /// agent and sub-agent, bars coloured by verdict), cost curve, step details with
    /// their evidence, rollups and warnings; several sessions get an overview page.
    ///
    /// One file, inline CSS/JS, no network access; it carries no prompt or tool
    /// content (evidence that quotes content is hashed unless --include-content).
    ///
    /// Costcraft's patches and rules can be shown on the steps they cite
    /// (--patches, --rules, or --distill to compute them here). Exit status as for
    /// `compile` (3: a counterfactual replay failed; the report is still written).
    Report {
        /// Trace files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The HTML file to write (`-` for stdout).
        #[arg(
            short = 'o',
            long = "output",
            value_name = "OUT",
            default_value = "report.html"
        )]
        output: PathBuf,
        /// Price file overriding the bundled table.
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
        /// Force the input format instead of detecting it.
        #[arg(long = "from", value_name = "FORMAT")]
        from: Option<String>,
        /// Skip the redundancy analysis (prices and tokens only; no evidence edges).
        #[arg(long)]
        no_analysis: bool,
        /// Show the trace content that evidence edges quote (reappearing tokens,
        /// artifact names) instead of short hashes.
        #[arg(long)]
        include_content: bool,
        /// Page title.
        #[arg(long)]
        title: Option<String>,
        /// Show on each step the patches of this `patches.yaml` (written by
        /// `tracecard distill`) that cite it, matched by session id and
        /// source_ref.
        #[arg(long, value_name = "FILE", conflicts_with = "distill")]
        patches: Option<PathBuf>,
        /// Show on each step the rules of this `rules.yaml` whose evidence cites it
        /// (as support or counter-example), and the rules on the overview.
        #[arg(long, value_name = "FILE", conflicts_with = "distill")]
        rules: Option<PathBuf>,
        /// Distil the reported sessions with costcraft (default policy, every
        /// backfire guard allowed) and show the patches and rules on the steps.
        #[arg(long, conflicts_with = "no_analysis")]
        distill: bool,
        /// Confirm the redundancy flags by counterfactual replay through CMD, as
        /// `compile --replayer` does (docs/replay-protocol.md); the report shows
        /// `confirmed_by: replay:<name>`.
        #[arg(long, value_name = "CMD", conflicts_with = "no_analysis")]
        replayer: Option<String>,
        /// At most N replays per session (with --replayer).
        #[arg(long, value_name = "N", default_value_t = 32)]
        replay_budget: usize,
        /// Kill a replay (its whole process group) that has not answered after SECS
        /// seconds (with --replayer).
        #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
        replay_timeout: u64,
    },
    /// Distil traces into prune / repair / preserve patches and a skill library:
    /// DIR/rules.yaml, DIR/<skill-name>/SKILL.md, DIR/patches.yaml, DIR/REPORT.md
    /// (docs/costcraft.md). Exit 1 when a backfire guard refuses (see
    /// --allow-backfire).
    Distill(costcraft_cmd::DistillArgs),
    /// Where each rule of a rules.yaml would fire in new traces (session, step,
    /// source_ref), and whether the cost it targets shrank against the
    /// distillation baseline.
    CheckRules(costcraft_cmd::CheckRulesArgs),
    /// Pair baseline and treated runs of the same tasks: regressions, recoveries,
    /// median cost change with a bootstrap interval, cost per successful task.
    Evaluate(costcraft_cmd::EvaluateArgs),
    /// Tokens and cost only, like ccusage: one row per session, then per day and
    /// model, then the total. No analysis and no content is kept.
    ///
    /// Session columns: session, last activity (UTC), models, input, output,
    /// cache_create (5m + 1h writes), cache_read, total_tokens, cost_usd. Daily
    /// columns: date (UTC, from each step's start), model, the same token columns
    /// and cost_usd. Steps of unknown price count as $0 and are marked `+?`.
    Cost {
        /// Trace files or directories (e.g. `~/.claude/projects`).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Price file overriding the bundled table.
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
        /// Force the input format instead of detecting it.
        #[arg(long = "from", value_name = "FORMAT")]
        from: Option<String>,
        /// Print JSON (`{sessions, daily, totals}`) instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Claude Code `PreToolUse` hook: deny a pending tool call that an active
    /// prune rule of rules.yaml matches (docs/guard.md). Reads the hook's JSON on
    /// stdin; prints the deny JSON (exit 0) or nothing (exit 0, allowed). Fails
    /// open: any error exits 1 with one line on stderr, never 2.
    Guard(guard_cmd::GuardArgs),
    /// Queries straight on traces, without building cards.
    #[command(subcommand)]
    Query(Query),
    /// List the formats `compile --from` accepts.
    Formats,
    /// Print the JSON Schema of the TraceCard format, or with `--table` the Arrow
    /// schema of the `steps` or `sessions` table (`compile --format parquet`).
    Schema {
        /// `steps` or `sessions`: print that table's Arrow schema instead.
        #[arg(long, value_enum, value_name = "TABLE")]
        table: Option<TableName>,
    },
    /// List every warning code cards and traces can carry, with what it means.
    Warnings,
    /// Look a model up in the price table and print its prices ($ per million tokens).
    Price {
        /// Model name as traces write it (`anthropic/claude-sonnet-4-5-20250929`).
        model: String,
        /// Price file overriding the bundled table.
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum Query {
    /// Tool calls whose output no later step read (the trace-query-layer check for
    /// OTel users): step, tool, span/call id, carried-context cost and reason.
    ///
    /// A file that cannot be read is reported on stderr and the others are still
    /// read (exit 1 at the end); lines a reader skipped (cut, repeated) are noted.
    UnreadTools {
        /// Trace files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Force the input format instead of detecting it.
        #[arg(long = "from", value_name = "FORMAT")]
        from: Option<String>,
        /// Price file overriding the bundled table.
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
    },
}

/// Exit statuses of `compile`, shown in its `--help`.
const EXIT_CODES: &str = "\
Exit status:
  0  every input compiled (and every replay answered)
  1  an input could not be read or compiled (the other cards are still written)
  2  usage or fatal error: bad flag, unreadable price file, output not writable
  1  also: a line of --outcomes names no loaded session (reported on stderr)
  3  a counterfactual replay failed (--replayer): the cards are still written,
     with a `replay_failed` warning; 1 wins when both happen";

/// Exit status when a counterfactual replay failed.
const EXIT_REPLAY_FAILED: u8 = 3;

/// The tables of `compile --format parquet`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum TableName {
    Steps,
    Sessions,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum OutFormat {
    Yaml,
    Json,
    /// `steps.parquet` and `sessions.parquet` (zstd) in the `-o` directory.
    Parquet,
}

impl OutFormat {
    fn ext(self) -> &'static str {
        match self {
            OutFormat::Yaml => "yaml",
            OutFormat::Json => "json",
            OutFormat::Parquet => "parquet",
        }
    }
}

fn main() -> ExitCode {
    // A panic is a bug; its default message can quote a trace file's content, so
    // print only where it happened (the importer turns it into an error naming the file).
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("internal error{at} (a tracecard bug, please report it)");
    }));
    // The hook must never exit 2 (Claude Code would block the tool): usage errors
    // of `guard` exit 1.
    if std::env::args().nth(1).as_deref() == Some("guard") {
        return match Cli::try_parse() {
            Ok(Cli {
                command: Command::Guard(a),
            }) => guard_cmd::guard(a),
            Ok(_) => guard_cmd::fail("unexpected command"),
            Err(e) if !e.use_stderr() => {
                let _ = e.print();
                ExitCode::SUCCESS
            }
            Err(e) => guard_cmd::fail(e.to_string().lines().next().unwrap_or("bad arguments")),
        };
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

type Failure = Box<dyn std::error::Error>;

fn load_prices(prices: Option<&Path>) -> Result<PriceTable, Failure> {
    Ok(match prices {
        Some(p) => PriceTable::bundled_with_override(p)?,
        None => PriceTable::bundled().clone(),
    })
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Formats => {
            let mut out = std::io::stdout().lock();
            for f in Format::ALL {
                writeln!(out, "{f}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { table } => {
            match table {
                None => print!("{}", TraceCard::json_schema()),
                Some(TableName::Steps) => {
                    print!(
                        "{}",
                        tracecard_arrow::schema_text(&tracecard_arrow::steps_schema())
                    )
                }
                Some(TableName::Sessions) => print!(
                    "{}",
                    tracecard_arrow::schema_text(&tracecard_arrow::sessions_schema())
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Warnings => {
            let mut out = std::io::stdout().lock();
            let width = WarningCode::ALL
                .iter()
                .map(|c| c.as_str().len())
                .max()
                .unwrap_or(0);
            for c in WarningCode::ALL {
                writeln!(out, "{:width$}  {}", c.as_str(), c.description())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Price { model, prices } => {
            let table = load_prices(prices.as_deref())?;
            match table.resolve(&model, None) {
                None => {
                    eprintln!(
                        "error: model `{model}` is not in the price table ({})",
                        table.name()
                    );
                    Ok(ExitCode::FAILURE)
                }
                Some(m) => {
                    let r = &m.rates;
                    println!(
                        "model: {}\nprovider: {}\nsource: {}",
                        m.id, m.provider, m.origin
                    );
                    println!(
                        "input: {}\noutput: {}\ncache_read: {}\ncache_write_5m: {}\ncache_write_1h: {}",
                        r.input.per_million(),
                        r.output.per_million(),
                        r.cache_read.per_million(),
                        r.cache_write_5m.per_million(),
                        r.cache_write_1h.per_million()
                    );
                    if let Some((above, lr)) = &m.long_context {
                        println!(
                            "long_context_above_prompt_tokens: {above}\nlong_context_input: {}\nlong_context_output: {}",
                            lr.input.per_million(),
                            lr.output.per_million()
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Command::Compile {
            paths,
            format,
            output,
            prices,
            from,
            summary,
            no_analysis,
            max_content,
            explain,
            replayer,
            replay_budget,
            replay_timeout,
            outcomes,
            backfire,
        } => {
            let from = parse_from(from)?;
            let table = load_prices(prices.as_deref())?;
            let replay = replayer.map(|command| ReplayOptions {
                command,
                budget: replay_budget,
                timeout: std::time::Duration::from_secs(replay_timeout),
            });
            match explain {
                Some(step) => explain_step(&paths, from, &table, step),
                None => {
                    let replayer = command_replayer(replay.as_ref())?;
                    let compiler = Compiler::new().prices(&table).analyze(!no_analysis);
                    let compiler = match &replayer {
                        Some(r) => compiler.replayer(r).replay_budget(
                            replay
                                .as_ref()
                                .map_or(tracecard_core::analysis::DEFAULT_REPLAY_BUDGET, |o| {
                                    o.budget
                                }),
                        ),
                        None => compiler,
                    };
                    let content = import::ContentOptions {
                        skip: no_analysis,
                        max_bytes: max_content,
                    };
                    let outcomes = match &outcomes {
                        Some(f) => Some((f.clone(), costcraft::outcomes::read_outcomes(f)?)),
                        None => None,
                    };
                    let opts = CompileOptions {
                        format,
                        output: output.as_deref(),
                        from,
                        summary,
                        outcomes,
                        backfire,
                    };
                    compile(&paths, &opts, &compiler, content)
                }
            }
        }
        Command::Report {
            paths,
            output,
            prices,
            from,
            no_analysis,
            include_content,
            title,
            patches,
            rules,
            distill,
            replayer,
            replay_budget,
            replay_timeout,
        } => {
            let from = parse_from(from)?;
            let table = load_prices(prices.as_deref())?;
            let opts = tracecard_report::Options {
                include_content,
                title,
            };
            let cc = match distill {
                true => CostcraftSource::Distill,
                false => CostcraftSource::Files {
                    patches: patches
                        .as_deref()
                        .map(tracecard_report::read_patches)
                        .transpose()?,
                    rules: rules
                        .as_deref()
                        .map(tracecard_report::read_rules)
                        .transpose()?
                        .map(Box::new),
                },
            };
            let replay = replayer.map(|command| ReplayOptions {
                command,
                budget: replay_budget,
                timeout: std::time::Duration::from_secs(replay_timeout),
            });
            report(
                &paths,
                &output,
                from,
                &table,
                !no_analysis,
                replay.as_ref(),
                &cc,
                &opts,
            )
        }
        Command::Distill(a) => costcraft_cmd::distill(a),
        Command::CheckRules(a) => costcraft_cmd::check_rules(a),
        Command::Evaluate(a) => costcraft_cmd::evaluate(a),
        Command::Cost {
            paths,
            prices,
            from,
            json,
        } => {
            let from = parse_from(from)?;
            let table = load_prices(prices.as_deref())?;
            cost(&paths, from, &table, json)
        }
        Command::Guard(a) => Ok(guard_cmd::guard(a)),
        Command::Query(Query::UnreadTools {
            paths,
            from,
            prices,
        }) => {
            let from = parse_from(from)?;
            let table = load_prices(prices.as_deref())?;
            unread_tools(&paths, from, &table)
        }
    }
}

fn parse_from(from: Option<String>) -> Result<Option<Format>, Failure> {
    match from {
        Some(f) => Ok(Some(Format::from_name(&f, "--from")?)),
        None => Ok(None),
    }
}

/// Every trace under `paths` (files named explicitly must be traces; files found in
/// directories are skipped when no importer recognises them).
fn load_all(
    paths: &[PathBuf],
    from: Option<Format>,
) -> Result<Vec<tracecard_core::Trace>, Failure> {
    let mut out = Vec::new();
    for p in paths {
        let root = InputRoot::of(p);
        if p.is_dir() {
            let (found, notes) = import::discover_noting(p)?;
            for n in notes {
                eprintln!("note: {n}");
            }
            for f in found {
                let fmt = match from {
                    Some(x) => Some(x),
                    None => import::detect(&f)?,
                };
                if fmt.is_some() {
                    out.extend(import::load_under(&root, &f, fmt, Default::default())?);
                }
            }
        } else {
            out.extend(import::load_under(&root, p, from, Default::default())?);
        }
    }
    // Claude Code telemetry loaded next to its transcript: one trace per session
    import::claude_code_otel::join_loaded(&mut out);
    Ok(out)
}

fn explain_step(
    paths: &[PathBuf],
    from: Option<Format>,
    table: &PriceTable,
    step: u32,
) -> Result<ExitCode, Failure> {
    let traces = load_all(paths, from)?;
    let [trace] = traces.as_slice() else {
        return Err(format!(
            "--explain needs exactly one session, found {}",
            traces.len()
        )
        .into());
    };
    let analysis = tracecard_core::analysis::Analysis::run(trace, table)?;
    match analysis.explain(trace, tracecard_core::StepId(step)) {
        Some(text) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        None => Err(format!(
            "session {} has no step {step} (it has {})",
            trace.session_id,
            trace.steps.len()
        )
        .into()),
    }
}

/// Where the costcraft annotations of a report come from.
enum CostcraftSource {
    /// `--patches` / `--rules` files (either may be absent).
    Files {
        patches: Option<costcraft::PatchSet>,
        rules: Option<Box<costcraft::RuleSet>>,
    },
    /// `--distill`: distil the reported sessions here.
    Distill,
}

#[allow(clippy::too_many_arguments)]
fn report(
    paths: &[PathBuf],
    output: &Path,
    from: Option<Format>,
    table: &PriceTable,
    analyze: bool,
    replay: Option<&ReplayOptions>,
    cc: &CostcraftSource,
    opts: &tracecard_report::Options,
) -> Result<ExitCode, Failure> {
    // like `compile`: a file that cannot be read is reported, the others still go in
    let (traces, mut failed) = load_each(paths, from)?;
    if traces.is_empty() {
        return Err("no trace to report".into());
    }
    let replayer = command_replayer(replay)?;
    let compiler = Compiler::new().prices(table).analyze(analyze);
    let compiler = match (&replayer, replay) {
        (Some(r), Some(o)) => compiler.replayer(r).replay_budget(o.budget),
        _ => compiler,
    };
    // the card and the analysis it rests on (after any replay), compiled once
    let compiled: Vec<Result<costcraft::Session, tracecard_core::Error>> = traces
        .into_par_iter()
        .map(|t| {
            let (card, analysis) = compiler.compile_with_analysis(&t)?;
            let mut s = costcraft::Session::new(t, card);
            s.analysis = analysis;
            Ok(s)
        })
        .collect();
    let mut sessions = Vec::with_capacity(compiled.len());
    let mut replay_failed = 0usize;
    for r in compiled {
        match r {
            Ok(s) => sessions.push(s),
            Err(e) if e.kind() == tracecard_core::ErrorKind::Replay => {
                replay_failed += 1;
                eprintln!("error: {e}");
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if sessions.is_empty() {
        return Err("no session could be compiled".into());
    }
    let distilled = match cc {
        CostcraftSource::Distill => {
            let policy = costcraft::Policy {
                allow_backfire: costcraft::backfire::Guard::ALL.into_iter().collect(),
                ..costcraft::Policy::default()
            };
            let d = costcraft::distill(std::mem::take(&mut sessions), &policy)?;
            eprintln!(
                "distilled: {} patch(es) kept, {} refused, {} rule(s)",
                d.patches.kept.len(),
                d.patches.refused.len(),
                d.rules.rules.len()
            );
            Some(d)
        }
        CostcraftSource::Files { .. } => None,
    };
    let (sessions, patches, rules): (&[costcraft::Session], _, _) = match (&distilled, cc) {
        (Some(d), _) => (&d.sessions, Some(&d.patches), Some(&d.rules)),
        (None, CostcraftSource::Files { patches, rules }) => {
            (&sessions, patches.as_ref(), rules.as_deref())
        }
        (None, CostcraftSource::Distill) => (&sessions, None, None),
    };
    for s in sessions {
        for w in &s.card.warnings {
            if w.code == WarningCode::ReplayFailed {
                replay_failed += 1;
                eprintln!("error: {}: replay failed: {}", s.card.session_id, w.message);
            }
        }
    }
    let views: Vec<tracecard_report::Session> = sessions
        .iter()
        .map(|s| tracecard_report::Session {
            trace: Some(&s.trace),
            card: &s.card,
            analysis: s.analysis.as_ref(),
        })
        .collect();
    let html = tracecard_report::render_with(
        &views,
        opts,
        &tracecard_report::Costcraft { patches, rules },
    );
    if output == Path::new("-") {
        std::io::stdout().lock().write_all(html.as_bytes())?;
    } else {
        std::fs::write(output, &html)?;
        let steps: usize = sessions.iter().map(|s| s.card.steps.len()).sum();
        eprintln!(
            "wrote {} ({} session(s), {} step(s), {} KB)",
            output.display(),
            sessions.len(),
            steps,
            html.len().div_ceil(1024)
        );
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else if replay_failed > 0 {
        ExitCode::from(EXIT_REPLAY_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

fn unread_tools(
    paths: &[PathBuf],
    from: Option<Format>,
    table: &PriceTable,
) -> Result<ExitCode, Failure> {
    use tracecard_core::Verdict;
    let mut out = std::io::stdout().lock();
    let header = format!(
        "{:<36} {:>5} {:<20} {:<34} {:>12}  reason",
        "session", "step", "tool", "source_ref", "carried_usd"
    );
    let mut unread = Vec::new();
    let mut unproven = Vec::new();
    // like `compile`: a bad file is reported and the others still go in (exit 1 at
    // the end); lines a reader skipped are named, not dropped silently
    let (traces, failed) = load_each(paths, from)?;
    for trace in &traces {
        for w in trace.warnings.iter().filter(|w| {
            use tracecard_core::WarningCode as C;
            matches!(
                w.code,
                C::TruncatedLine | C::DuplicateRecord | C::SkippedRecords | C::EmptySession
            )
        }) {
            let at = match (&w.file, w.line) {
                (Some(f), Some(l)) => format!("{f}:{l}: "),
                (Some(f), None) => format!("{f}: "),
                _ => String::new(),
            };
            eprintln!("note: {at}{} ({})", w.message, w.code);
        }
    }
    for trace in traces {
        let analysis = tracecard_core::analysis::Analysis::run(&trace, table)?;
        for row in analysis.unread_tools(&trace) {
            let Some(s) = trace.step(row.step) else {
                continue;
            };
            let line = format!(
                "{:<36} {:>5} {:<20} {:<34} {:>12}  {}",
                trace.session_id.chars().take(36).collect::<String>(),
                s.id.0,
                s.tool.as_deref().unwrap_or("-"),
                s.source_ref.as_deref().unwrap_or("-"),
                analysis.carried(row.step).to_string(),
                row.reason
            );
            match row.verdict {
                Verdict::Unproven => unproven.push(line),
                _ => unread.push(line),
            }
        }
    }
    writeln!(out, "{header}")?;
    for line in &unread {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{} unread tool call(s)", unread.len())?;
    if !unproven.is_empty() {
        writeln!(
            out,
            "\nunproven: delivered to a model call, nothing shows whether it was used (a replay decides)"
        )?;
        writeln!(out, "{header}")?;
        for line in &unproven {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "{} unproven tool call(s)", unproven.len())?;
    }
    if failed > 0 {
        eprintln!("{failed} file(s) could not be read (see the errors above)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Every trace under `paths`, reading on past a file that fails: its error is
/// printed and counted. Files named explicitly must be traces; files found in
/// directories are skipped when no importer recognises them.
fn load_each(
    paths: &[PathBuf],
    from: Option<Format>,
) -> Result<(Vec<tracecard_core::Trace>, usize), Failure> {
    let mut out = Vec::new();
    let mut failed = 0usize;
    for p in paths {
        let root = InputRoot::of(p);
        let files = if p.is_dir() {
            let (found, notes) = import::discover_noting(p)?;
            for n in notes {
                eprintln!("note: {n}");
            }
            found.into_iter().map(|f| (f, false)).collect()
        } else {
            vec![(p.clone(), true)]
        };
        for (f, explicit) in files {
            let fmt = match from {
                Some(x) => Ok(Some(x)),
                None => import::detect(&f),
            };
            match fmt.and_then(|fmt| match fmt {
                None if !explicit => Ok(Vec::new()),
                _ => import::load_under(&root, &f, fmt, Default::default()),
            }) {
                Ok(ts) => out.extend(ts),
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {e}");
                }
            }
        }
    }
    Ok((out, failed))
}

/// `--replayer` and its options.
struct ReplayOptions {
    command: String,
    budget: usize,
    timeout: std::time::Duration,
}

#[cfg(unix)]
fn command_replayer(
    opts: Option<&ReplayOptions>,
) -> Result<Option<tracecard_core::CommandReplayer>, Failure> {
    Ok(opts.map(|o| tracecard_core::CommandReplayer::new(o.command.clone()).timeout(o.timeout)))
}

#[cfg(not(unix))]
fn command_replayer(
    opts: Option<&ReplayOptions>,
) -> Result<Option<tracecard_core::DataflowReplayer>, Failure> {
    // Never `Some`: the type only has to be a `Replayer`.
    match opts {
        Some(_) => {
            Err("--replayer needs a Unix shell (`sh`); not supported on this platform".into())
        }
        None => Ok(None),
    }
}

struct FileResult {
    path: PathBuf,
    /// The file's traces (with `--outcomes` applied), then compiled.
    traces: Result<Vec<tracecard_core::Trace>, tracecard_core::Error>,
    cards: Result<Vec<TraceCard>, tracecard_core::Error>,
    /// Telemetry traces of this file joined into their sessions' transcripts.
    joined: usize,
}

/// Claude Code telemetry loaded as traces of its own (`claude_code_otel`) whose
/// session also has a transcript among the loaded files is joined into that
/// transcript (`compile TRANSCRIPT TELEMETRY`, or a folder holding both): one card
/// per session.
fn join_telemetry(results: &mut [FileResult]) {
    let mut pos = Vec::new();
    for (i, r) in results.iter().enumerate() {
        if let Ok(ts) = &r.traces {
            for j in 0..ts.len() {
                pos.push((i, j));
            }
        }
    }
    let all = results
        .iter()
        .filter_map(|r| r.traces.as_ref().ok())
        .flatten();
    let pairs = import::claude_code_otel::pairs(all);
    if pairs.is_empty() {
        return;
    }
    let mut drop = std::collections::BTreeSet::new();
    for (tel, tr) in pairs {
        let (ti, tj) = pos[tel];
        let (ri, rj) = pos[tr];
        let Ok(ts) = &results[ti].traces else {
            continue;
        };
        let telemetry = ts[tj].clone();
        if let Ok(ts) = &mut results[ri].traces {
            import::claude_code_otel::join_trace(&mut ts[rj], &telemetry);
        }
        drop.insert((ti, tj));
    }
    for (ti, tj) in drop.into_iter().rev() {
        if let Ok(ts) = &mut results[ti].traces {
            ts.remove(tj);
        }
        results[ti].joined += 1;
    }
}

/// The files to read for the input arguments `paths` (directories walked), each
/// with the argument it was found under (cards name files relative to it), and the
/// files named explicitly (which must be traces). `notes`: print what a walk
/// passed over.
#[allow(clippy::type_complexity)]
fn input_files(
    paths: &[PathBuf],
    notes: bool,
) -> Result<
    (
        Vec<PathBuf>,
        Vec<InputRoot>,
        std::collections::HashSet<PathBuf>,
    ),
    Failure,
> {
    let mut files = Vec::new();
    let mut roots = Vec::new();
    let mut explicit = std::collections::HashSet::new();
    for p in paths {
        let root = InputRoot::of(p);
        if p.is_dir() {
            let (found, skipped) = import::discover_noting(p)?;
            if notes {
                for n in skipped {
                    eprintln!("note: {n}");
                }
            }
            roots.extend(std::iter::repeat_n(root, found.len()));
            files.extend(found);
        } else {
            explicit.insert(p.clone());
            files.push(p.clone());
            roots.push(root);
        }
    }
    Ok((files, roots, explicit))
}

/// What `compile` writes and how.
struct CompileOptions<'a> {
    format: OutFormat,
    output: Option<&'a Path>,
    from: Option<Format>,
    summary: bool,
    /// `--outcomes`: the file and its parsed lines.
    outcomes: Option<(PathBuf, Vec<costcraft::outcomes::OutcomeRecord>)>,
    /// `--backfire`: annotate the cards with costcraft's backfire guards.
    backfire: bool,
}

fn compile(
    paths: &[PathBuf],
    opts: &CompileOptions<'_>,
    compiler: &Compiler,
    content: import::ContentOptions,
) -> Result<ExitCode, Failure> {
    let from = opts.from;
    let (files, roots, explicit) = input_files(paths, true)?;
    let bar = if files.len() > 1 {
        let b = ProgressBar::new(files.len() as u64);
        b.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    // Files found by walking a directory that no importer recognises are skipped
    // (and listed); files named explicitly must be traces.
    let formats: Vec<_> = files
        .par_iter()
        .map(|path| match from {
            Some(f) => Ok(Some(f)),
            None => import::detect(path),
        })
        .collect();
    // An outcomes line may name a session of any file, Claude Code telemetry joins
    // the transcript of another file and `--backfire` reads every trace: then
    // every file is loaded first. Otherwise each file is compiled as soon as it is
    // loaded and its traces (with their content) dropped, so memory holds the
    // content of the files in flight, not the corpus's (DESIGN.md, "Analysis
    // memory").
    let together = opts.outcomes.is_some()
        || opts.backfire
        || formats
            .iter()
            .any(|f| matches!(f, Ok(Some(Format::ClaudeCodeOtel))));
    let mut results: Vec<FileResult> = files
        .par_iter()
        .zip(formats)
        .zip(&roots)
        .map(|((path, fmt), root)| {
            let traces = fmt.and_then(|fmt| match fmt {
                None if !explicit.contains(path) => Ok(Vec::new()),
                _ => import::load_under(root, path, fmt, content),
            });
            let mut r = FileResult {
                path: path.clone(),
                traces,
                cards: Ok(Vec::new()),
                joined: 0,
            };
            if !together {
                r.cards = match std::mem::replace(&mut r.traces, Ok(Vec::new())) {
                    Ok(ts) => ts.iter().map(|t| compiler.compile(t)).collect(),
                    Err(e) => Err(e),
                };
                bar.inc(1);
            }
            r
        })
        .collect();
    if together {
        join_telemetry(&mut results);
    }
    let mut unmatched_outcomes = 0usize;
    if let Some((file, records)) = &opts.outcomes {
        let mut all: Vec<tracecard_core::Trace> = Vec::new();
        let mut counts = Vec::with_capacity(results.len());
        for r in results.iter_mut() {
            let ts = match &mut r.traces {
                Ok(ts) => std::mem::take(ts),
                Err(_) => Vec::new(),
            };
            counts.push(ts.len());
            all.extend(ts);
        }
        let rep = costcraft::outcomes::apply_outcomes(&mut all, records);
        for (line, sid) in &rep.unmatched {
            unmatched_outcomes += 1;
            eprintln!(
                "error: {}:{line}: outcome for session {sid:?}, which is not among the loaded sessions",
                file.display()
            );
        }
        let mut rest = all.into_iter();
        for (r, n) in results.iter_mut().zip(counts) {
            if let Ok(ts) = &mut r.traces {
                ts.extend(rest.by_ref().take(n));
            }
        }
    }
    if together {
        results.par_iter_mut().for_each(|r| {
            r.cards = match std::mem::replace(&mut r.traces, Ok(Vec::new())) {
                Ok(ts) => {
                    let cards = ts.iter().map(|t| compiler.compile(t)).collect();
                    r.traces = Ok(ts);
                    cards
                }
                Err(e) => Err(e),
            };
            bar.inc(1);
        });
    }
    bar.finish_and_clear();

    let mut cards = Vec::new();
    let mut traces = Vec::new();
    let mut failed = 0usize;
    let mut replay_failed = 0usize;
    let mut skipped = Vec::new();
    for r in results {
        match r.cards {
            Ok(c) if c.is_empty() && r.joined > 0 => eprintln!(
                "note: {}: Claude Code telemetry joined into the transcript of its session",
                r.path.display()
            ),
            Ok(c) if c.is_empty() => skipped.push(r.path),
            Ok(c) => {
                cards.extend(c);
                traces.extend(r.traces.unwrap_or_default());
            }
            // A strategy that still propagates replay errors loses the card; the
            // status is the replay's all the same.
            Err(e) if e.kind() == tracecard_core::ErrorKind::Replay => {
                replay_failed += 1;
                eprintln!("error: {}: {e}", r.path.display());
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    for p in &skipped {
        eprintln!("note: skipped {} (not a recognised trace)", p.display());
    }
    if opts.backfire && !cards.is_empty() {
        cards = annotate_backfire(traces, cards);
    }
    if opts.summary {
        print_summary(&cards)?;
    } else {
        write_cards(&cards, opts.format, opts.output)?;
    }
    for c in &cards {
        for w in &c.warnings {
            if matches!(
                w.code,
                WarningCode::UnknownModel | WarningCode::NoUsage | WarningCode::TruncatedLine
            ) {
                eprintln!("warning: {}: {}", c.session_id, w.message);
            } else if w.code == WarningCode::ReplayFailed {
                replay_failed += 1;
                eprintln!("error: {}: replay failed: {}", c.session_id, w.message);
            }
        }
    }
    Ok(if failed > 0 || unmatched_outcomes > 0 {
        ExitCode::FAILURE
    } else if replay_failed > 0 {
        ExitCode::from(EXIT_REPLAY_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// `compile --backfire`: costcraft's backfire guards over the corpus, as
/// `backfire_<guard>` warnings on the cards they concern (and one line each on
/// stderr). `traces` and `cards` are aligned.
fn annotate_backfire(traces: Vec<tracecard_core::Trace>, cards: Vec<TraceCard>) -> Vec<TraceCard> {
    let mut sessions: Vec<costcraft::Session> = traces
        .into_iter()
        .zip(cards)
        .map(|(t, c)| costcraft::Session::new(t, c))
        .collect();
    costcraft::prepare(&mut sessions);
    let warnings = costcraft::backfire::check(&sessions, &costcraft::Policy::default());
    costcraft::backfire::annotate(&mut sessions, &warnings);
    for w in &warnings {
        eprintln!(
            "warning: backfire guard {} {}: {} ({} session(s))",
            w.guard.as_str(),
            if w.holds {
                "holds for the corpus"
            } else {
                "concerns some sessions"
            },
            w.message,
            w.sessions.len()
        );
    }
    sessions.into_iter().map(|s| s.card).collect()
}

fn render(card: &TraceCard, format: OutFormat) -> Result<String, Failure> {
    Ok(match format {
        OutFormat::Yaml => card.to_yaml()?,
        OutFormat::Json => card.to_json()?,
        OutFormat::Parquet => return Err("Parquet is written as tables, not per card".into()),
    })
}

fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn write_cards(
    cards: &[TraceCard],
    format: OutFormat,
    output: Option<&Path>,
) -> Result<(), Failure> {
    if format == OutFormat::Parquet {
        let dir = output.ok_or(
            "--format parquet needs -o DIR (it writes steps.parquet and sessions.parquet there)",
        )?;
        if dir.is_file() {
            return Err(format!(
                "{}: --format parquet writes a directory, and this is a file",
                dir.display()
            )
            .into());
        }
        tracecard_arrow::Tables::from_cards(cards)?.write_parquet(dir)?;
        return Ok(());
    }
    let to_dir = output.is_some_and(|o| o.is_dir() || o.to_string_lossy().ends_with('/'));
    if let (Some(dir), true) = (output, to_dir) {
        std::fs::create_dir_all(dir)?;
        // Two sessions with one id (or ids equal after `safe_name`) must not
        // overwrite each other's card: the later ones get `-2`, `-3`, … and a note.
        let mut used = std::collections::HashSet::new();
        for c in cards {
            let base = safe_name(&c.session_id);
            let mut name = format!("{base}.card.{}", format.ext());
            let mut k = 1;
            while !used.insert(name.clone()) {
                k += 1;
                name = format!("{base}-{k}.card.{}", format.ext());
            }
            if k > 1 {
                eprintln!(
                    "note: session id {:?} appears more than once; this card is {name}",
                    c.session_id
                );
            }
            std::fs::write(dir.join(&name), render(c, format)?)?;
        }
        return Ok(());
    }
    let mut text = String::new();
    match format {
        OutFormat::Yaml => {
            for (i, c) in cards.iter().enumerate() {
                if i > 0 {
                    text.push_str("---\n");
                }
                text.push_str(&c.to_yaml()?);
            }
        }
        OutFormat::Parquet => return Err("Parquet is written as tables, not as text".into()),
        OutFormat::Json if cards.len() == 1 => text = cards[0].to_json()?,
        OutFormat::Json => {
            text = serde_json::to_string_pretty(cards)?;
            text.push('\n');
        }
    }
    match output {
        Some(p) => std::fs::write(p, text)?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

fn print_summary(cards: &[TraceCard]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<40} {:<12} {:>6} {:>12} {:>12} {:>10} {:>10} {:>9} {:>5}",
        "session",
        "format",
        "steps",
        "cost_usd",
        "reported",
        "delta",
        "redundant",
        "unproven",
        "warn"
    )?;
    let mut total = Usd::ZERO;
    let mut steps = 0usize;
    for c in cards {
        let id: String = c.session_id.chars().take(40).collect();
        let rep = c
            .reported_cost_usd
            .map(|r| format!("{:.6}", r.to_f64()))
            .unwrap_or_else(|| "-".into());
        let delta = c
            .cost_delta_usd
            .map(|d| format!("{:+.6}", d.to_f64()))
            .unwrap_or_else(|| "-".into());
        let unknown = if c.unpriced_steps > 0 { "+?" } else { "" };
        writeln!(
            out,
            "{:<40} {:<12} {:>6} {:>10.6}{:<2} {:>12} {:>10} {:>10} {:>9} {:>5}",
            id,
            c.source.format,
            c.steps.len(),
            c.total_cost_usd.to_f64(),
            unknown,
            rep,
            delta,
            c.steps.iter().filter(|s| s.redundant).count(),
            c.steps
                .iter()
                .filter(|s| s.verdict == tracecard_core::Verdict::Unproven)
                .count(),
            c.warnings.len()
        )?;
        total += c.total_cost_usd;
        steps += c.steps.len();
    }
    writeln!(
        out,
        "{} session(s), {} step(s), total ${}",
        cards.len(),
        steps,
        total
    )?;
    Ok(())
}

/// One session's totals for `tracecard cost`.
struct SessionCost {
    id: String,
    last: Option<String>,
    models: std::collections::BTreeSet<String>,
    tokens: tracecard_core::TokenUsage,
    cost: Usd,
    unpriced: u64,
    /// (UTC date, model) → tokens, cost, unpriced steps.
    days: std::collections::BTreeMap<(String, String), (tracecard_core::TokenUsage, Usd, u64)>,
}

fn session_cost(trace: &tracecard_core::Trace, card: &TraceCard) -> SessionCost {
    let mut s = SessionCost {
        id: card.session_id.clone(),
        last: None,
        models: Default::default(),
        tokens: card.tokens,
        cost: card.total_cost_usd,
        unpriced: card.unpriced_steps,
        days: Default::default(),
    };
    let mut last = None;
    for (st, cs) in trace.steps.iter().zip(&card.steps) {
        let at = st.ended_at.or(st.started_at);
        if at.is_some() && at > last {
            last = at;
        }
        if st.tokens.is_empty() && cs.cost_usd.unwrap_or(Usd::ZERO) == Usd::ZERO {
            continue;
        }
        let model = st.model.clone().unwrap_or_else(|| "-".into());
        s.models.insert(model.clone());
        let day = st
            .started_at
            .or(st.ended_at)
            .or(trace.started_at)
            .map(|t| t.to_string().chars().take(10).collect())
            .unwrap_or_else(|| "unknown".into());
        let e = s.days.entry((day, model)).or_default();
        e.0 = e.0.add(&st.tokens);
        e.1 += cs.cost_usd.unwrap_or(Usd::ZERO);
        e.2 += u64::from(cs.cost_usd.is_none());
    }
    s.last = last.map(|t| t.to_string());
    s
}

fn cost(
    paths: &[PathBuf],
    from: Option<Format>,
    table: &PriceTable,
    json: bool,
) -> Result<ExitCode, Failure> {
    let (files, roots, explicit) = input_files(paths, false)?;
    let compiler = Compiler::new().prices(table).analyze(false);
    let content = import::ContentOptions {
        skip: true,
        max_bytes: None,
    };
    let results: Vec<Result<Vec<SessionCost>, tracecard_core::Error>> = files
        .par_iter()
        .zip(&roots)
        .map(|(path, root)| {
            let fmt = match from {
                Some(f) => Some(f),
                None => import::detect(path)?,
            };
            if fmt.is_none() && !explicit.contains(path) {
                return Ok(Vec::new());
            }
            import::load_under(root, path, fmt, content)?
                .iter()
                .map(|t| Ok(session_cost(t, &compiler.compile(t)?)))
                .collect()
        })
        .collect();
    let mut sessions = Vec::new();
    let mut failed = 0usize;
    for r in results {
        match r {
            Ok(s) => sessions.extend(s),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    let mut daily: std::collections::BTreeMap<
        (String, String),
        (tracecard_core::TokenUsage, Usd, u64),
    > = Default::default();
    for s in &sessions {
        for (k, v) in &s.days {
            let e = daily.entry(k.clone()).or_default();
            e.0 = e.0.add(&v.0);
            e.1 += v.1;
            e.2 += v.2;
        }
    }
    let total_tokens = sessions
        .iter()
        .fold(tracecard_core::TokenUsage::default(), |a, s| {
            a.add(&s.tokens)
        });
    let total_cost: Usd = sessions.iter().map(|s| s.cost).sum();
    let total_unpriced: u64 = sessions.iter().map(|s| s.unpriced).sum();
    let cw = |t: &tracecard_core::TokenUsage| t.cache_write_5m.saturating_add(t.cache_write_1h);
    let mut out = std::io::stdout().lock();
    if json {
        let tok = |t: &tracecard_core::TokenUsage| {
            serde_json::json!({
                "inputTokens": t.input,
                "outputTokens": t.output,
                "cacheCreationTokens": cw(t),
                "cacheReadTokens": t.cache_read,
                "totalTokens": t.total(),
            })
        };
        let with = |mut v: serde_json::Value, extra: serde_json::Value| {
            if let (Some(o), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
                o.extend(e);
            }
            v
        };
        let doc = serde_json::json!({
            "sessions": sessions.iter().map(|s| with(tok(&s.tokens), serde_json::json!({
                "session": s.id,
                "lastActivity": s.last,
                "models": s.models,
                "totalCost": s.cost.to_f64(),
                "unpricedSteps": s.unpriced,
            }))).collect::<Vec<_>>(),
            "daily": daily.iter().map(|((d, m), (t, c, u))| with(tok(t), serde_json::json!({
                "date": d,
                "model": m,
                "totalCost": c.to_f64(),
                "unpricedSteps": u,
            }))).collect::<Vec<_>>(),
            "totals": with(tok(&total_tokens), serde_json::json!({
                "totalCost": total_cost.to_f64(),
                "unpricedSteps": total_unpriced,
            })),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        let unk = |n: u64| if n > 0 { "+?" } else { "" };
        writeln!(
            out,
            "{:<38} {:<24} {:<28} {:>10} {:>10} {:>12} {:>14} {:>14} {:>12}",
            "session",
            "last_activity",
            "models",
            "input",
            "output",
            "cache_create",
            "cache_read",
            "total_tokens",
            "cost_usd"
        )?;
        for s in &sessions {
            let models = s.models.iter().cloned().collect::<Vec<_>>().join(",");
            writeln!(
                out,
                "{:<38} {:<24} {:<28} {:>10} {:>10} {:>12} {:>14} {:>14} {:>10.4}{:<2}",
                s.id.chars().take(38).collect::<String>(),
                s.last.as_deref().unwrap_or("-"),
                models.chars().take(28).collect::<String>(),
                s.tokens.input,
                s.tokens.output,
                cw(&s.tokens),
                s.tokens.cache_read,
                s.tokens.total(),
                s.cost.to_f64(),
                unk(s.unpriced)
            )?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "{:<10} {:<32} {:>10} {:>10} {:>12} {:>14} {:>14} {:>12}",
            "date",
            "model",
            "input",
            "output",
            "cache_create",
            "cache_read",
            "total_tokens",
            "cost_usd"
        )?;
        for ((d, m), (t, c, u)) in &daily {
            writeln!(
                out,
                "{:<10} {:<32} {:>10} {:>10} {:>12} {:>14} {:>14} {:>10.4}{:<2}",
                d,
                m.chars().take(32).collect::<String>(),
                t.input,
                t.output,
                cw(t),
                t.cache_read,
                t.total(),
                c.to_f64(),
                unk(*u)
            )?;
        }
        writeln!(
            out,
            "\ntotal: {} session(s), {} tokens (input {}, output {}, cache_create {}, cache_read {}), ${:.4}{}",
            sessions.len(),
            total_tokens.total(),
            total_tokens.input,
            total_tokens.output,
            cw(&total_tokens),
            total_tokens.cache_read,
            total_cost.to_f64(),
            unk(total_unpriced)
        )?;
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
