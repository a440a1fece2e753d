//! costcraft for Node: `distill` / `distillAsync` → {@link Distillation},
//! `checkRules`, `evaluate`. Each converts its arguments, calls the costcraft crate once, and maps
//! errors in `errors.rs` (`costcraft_to_js`). The JS shapes mirror Python's
//! `tracecard.costcraft`: the check report and the evaluation are camelCased objects
//! typed in `header.d.ts`, `rules` / `patches` are the `rules.yaml` / `patches.yaml`
//! documents as they are written (snake_case keys); money is an exact decimal string.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tracecard_core::{Compiler, Format, Replayer, Trace as CoreTrace, import};

use crate::card::TraceCard;
use crate::convert::to_js_value;
use crate::errors::{CoreResultExt, invalid_arg, to_js};
use crate::model::Trace;
use crate::prices::{Prices, PricesArg, prices_arg};
use crate::replay::{Failure, ReplayWork, ReplayerArg, run_sync, spawn};

/// One item of a `paths` argument: a file or directory to import, or a loaded trace.
pub type Item<'a> = Either<String, &'a Trace>;

/// A `paths` argument: one item or an array of them.
pub type Items<'a> = Either<Item<'a>, Vec<Item<'a>>>;

/// The items as a flat list of paths and shared traces.
pub enum Source {
    /// A file or directory.
    Path(PathBuf),
    /// A loaded trace.
    Trace(Arc<CoreTrace>),
}

/// Flatten a `paths` argument.
pub fn sources(items: Items<'_>) -> Vec<Source> {
    let one = |i: Item<'_>| match i {
        Either::A(p) => Source::Path(PathBuf::from(p)),
        Either::B(t) => Source::Trace(Arc::clone(&t.inner)),
    };
    match items {
        Either::A(i) => vec![one(i)],
        Either::B(v) => v.into_iter().map(one).collect(),
    }
}

/// Import a file, or every importable file under a directory (files no importer
/// recognises are skipped, as `tracecard compile DIR` does).
pub fn load_path(path: &Path, format: Option<Format>) -> tracecard_core::Result<Vec<CoreTrace>> {
    import::load_tree(path, format)
}

/// Every trace of `sources` (paths imported, traces shared).
pub fn load_sources(
    sources: Vec<Source>,
    format: Option<Format>,
) -> tracecard_core::Result<Vec<Arc<CoreTrace>>> {
    let mut out = Vec::new();
    for s in sources {
        match s {
            Source::Trace(t) => out.push(t),
            Source::Path(p) => out.extend(load_path(&p, format)?.into_iter().map(Arc::new)),
        }
    }
    Ok(out)
}

/// A `format` option.
pub fn format_opt(env: &Env, format: Option<&str>) -> Result<Option<Format>> {
    match format {
        None => Ok(None),
        Some(name) => Format::parse(name).map(Some).ok_or_else(|| {
            let known: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
            to_js(
                env,
                tracecard_core::Error::UnknownFormat {
                    path: PathBuf::from("<format option>"),
                    hint: Some(format!(
                        "no format named {name:?}; known formats: {}",
                        known.join(", ")
                    )),
                },
            )
        }),
    }
}

/// An outcome record of `outcomes`: which session succeeded, with what evidence.
#[napi(object)]
pub struct OutcomeRecord {
    /// The session it judges.
    pub session_id: String,
    /// `success` or `failure`.
    pub status: String,
    /// Verifier verdicts: `{verifier, passed, message?}`.
    #[napi(ts_type = "Array<{ verifier: string; passed: boolean; message?: string }>")]
    pub evidence: Option<serde_json::Value>,
}

/// `outcomes`: a JSONL file, or records of the same shape.
enum Outcomes {
    File(PathBuf),
    Records(String),
}

fn outcomes_arg(o: Option<Either<String, Vec<OutcomeRecord>>>) -> Option<Outcomes> {
    match o {
        None => None,
        Some(Either::A(p)) => Some(Outcomes::File(PathBuf::from(p))),
        Some(Either::B(recs)) => {
            let mut text = String::new();
            for r in recs {
                let v = serde_json::json!({
                    "session_id": r.session_id,
                    "status": r.status,
                    "evidence": r.evidence.unwrap_or(serde_json::Value::Array(Vec::new())),
                });
                text.push_str(&v.to_string());
                text.push('\n');
            }
            Some(Outcomes::Records(text))
        }
    }
}

/// Apply outcomes; returns the notes for records naming no loaded session.
fn apply(traces: &mut [CoreTrace], outcomes: Option<&Outcomes>) -> costcraft::Result<Vec<String>> {
    let (records, name) = match outcomes {
        None => return Ok(Vec::new()),
        Some(Outcomes::File(p)) => (
            costcraft::outcomes::read_outcomes(p)?,
            p.display().to_string(),
        ),
        Some(Outcomes::Records(text)) => (
            costcraft::outcomes::parse_outcomes(text, Path::new("<outcomes>"))?,
            "<outcomes>".to_owned(),
        ),
    };
    let rep = costcraft::outcomes::apply_outcomes(traces, &records);
    Ok(rep
        .unmatched
        .iter()
        .map(|(line, sid)| {
            format!(
                "{name}:{line}: outcome for session {sid:?}, which is not among the loaded sessions"
            )
        })
        .collect())
}

fn owned(traces: Vec<Arc<CoreTrace>>) -> Vec<CoreTrace> {
    traces
        .into_iter()
        .map(|t| Arc::try_unwrap(t).unwrap_or_else(|a| (*a).clone()))
        .collect()
}

fn json<T: serde::Serialize>(
    env: &Env,
    v: &T,
    what: &str,
    camel: bool,
) -> Result<serde_json::Value> {
    to_js_value(v, camel).map_err(|e| to_js(env, tracecard_core::Error::serialize(what, e)))
}

/// Options of {@link distill}.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct DistillOptions<'a> {
    /// Outcomes: a JSONL file (`{session_id, status, evidence}` per line, the
    /// CLI's `--outcomes`) or an array of such records.
    #[napi(ts_type = "string | OutcomeRecord[]")]
    pub outcomes: Option<Either<String, Vec<OutcomeRecord>>>,
    /// Overrides of costcraft's policy (rules.yaml's `policy`), by field name in
    /// snake_case or camelCase (`minSavingsUsd`, `requireReplay`, `skillName`, ...);
    /// `allowBackfire` takes guard names (`short-sessions`, ...) or `'all'`.
    #[napi(ts_type = "Record<string, unknown>")]
    pub policy: Option<serde_json::Value>,
    /// A price file or a {@link PriceTable}.
    #[napi(ts_type = "string | PriceTable")]
    pub prices: Option<PricesArg<'a>>,
    /// The format of the files (auto-detected per file by default).
    pub format: Option<String>,
    /// Counterfactual replayer for each session's compile, as in
    /// {@link CompileOptions}: a function `(traceWithoutCandidates, removedIds) =>
    /// outcome` (a Promise of one with {@link distillAsync} only) or `{command}`
    /// (`tracecard-replay/1`, like `tracecard distill --replayer`). Prunes it
    /// confirms carry `confirmed_by: "replay:<name>"`, which `policy.requireReplay`
    /// asks for.
    #[napi(ts_type = "Replayer | CommandReplayerOptions")]
    pub replayer: Option<ReplayerArg<'a>>,
    /// Most replays per session, the baseline included (default 32).
    pub replay_budget: Option<u32>,
}

/// `Policy::default()` with the fields of `over` replaced.
fn policy_arg(env: &Env, over: Option<serde_json::Value>) -> Result<costcraft::Policy> {
    let Some(over) = over else {
        return Ok(costcraft::Policy::default());
    };
    let serde_json::Value::Object(over) = over else {
        return Err(invalid_arg(
            env,
            "policy must be an object of Policy fields",
        ));
    };
    let mut base = serde_json::to_value(costcraft::Policy::default())
        .map_err(|e| invalid_arg(env, format!("policy: {e}")))?;
    for (k, mut v) in over {
        let snake = snake_case(&k);
        // `allowBackfire: 'all'`: every backfire guard (as in Python).
        if snake == "allow_backfire" && v.as_str() == Some("all") {
            v = serde_json::to_value(costcraft::backfire::Guard::ALL)
                .map_err(|e| invalid_arg(env, format!("policy: {e}")))?;
        }
        match base.get_mut(&snake) {
            Some(slot) => *slot = v,
            None => return Err(invalid_arg(env, format!("policy: unknown field {k:?}"))),
        }
    }
    let p: costcraft::Policy =
        serde_json::from_value(base).map_err(|e| invalid_arg(env, format!("policy: {e}")))?;
    costcraft::skill::validate_name(&p.skill_name)
        .map_err(|e| invalid_arg(env, format!("policy.skillName: {e}")))?;
    Ok(p)
}

fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The result of {@link distill}: rules, patches, the skill and the report.
#[napi]
pub struct Distillation {
    inner: Arc<costcraft::Distillation>,
}

#[napi]
impl Distillation {
    /// The `rules.yaml` document (`schema_version`, `corpus`, `policy`, `tools`,
    /// `backfire`, `rules`; snake_case keys as in the file, money as decimal strings).
    #[napi(catch_unwind, getter, ts_return_type = "Record<string, unknown>")]
    pub fn rules(&self, env: Env) -> Result<serde_json::Value> {
        json(&env, &self.inner.rules, "rules", false)
    }

    /// Every patch: `{kept: [...], refused: [{refusal, patch}]}` (as `patches.yaml`).
    #[napi(catch_unwind, getter, ts_return_type = "Record<string, unknown>")]
    pub fn patches(&self, env: Env) -> Result<serde_json::Value> {
        json(&env, &self.inner.patches, "patches", false)
    }

    /// Number of rules distilled.
    #[napi(catch_unwind, getter)]
    pub fn rule_count(&self) -> u32 {
        u32::try_from(self.inner.rules.rules.len()).unwrap_or(u32::MAX)
    }

    /// The ids of the rules, in `rules.yaml` order.
    #[napi(catch_unwind, getter)]
    pub fn rule_ids(&self) -> Vec<String> {
        self.inner
            .rules
            .rules
            .iter()
            .map(|r| r.id.clone())
            .collect()
    }

    /// `SKILL.md` text.
    #[napi(catch_unwind, getter)]
    pub fn skill_md(&self) -> String {
        self.inner.skill_md()
    }

    /// The skill's name (its directory under the output directory).
    #[napi(catch_unwind, getter)]
    pub fn skill_name(&self) -> String {
        self.inner.rules.policy.skill_name.clone()
    }

    /// `REPORT.md` text.
    #[napi(catch_unwind, getter)]
    pub fn report_md(&self) -> String {
        self.inner.report_md()
    }

    /// `rules.yaml` text.
    #[napi(catch_unwind)]
    pub fn rules_yaml(&self, env: Env) -> Result<String> {
        self.inner.rules.to_yaml().js(&env)
    }

    /// `patches.yaml` text.
    #[napi(catch_unwind)]
    pub fn patches_yaml(&self, env: Env) -> Result<String> {
        self.inner.patches_yaml().js(&env)
    }

    /// Notes (outcome records naming no loaded session, ...), also in `REPORT.md`.
    #[napi(catch_unwind, getter)]
    pub fn notes(&self) -> Vec<String> {
        self.inner.notes.clone()
    }

    /// The sessions' cards, with the `backfire_<guard>` warnings.
    #[napi(catch_unwind, getter)]
    pub fn cards(&self) -> Vec<TraceCard> {
        self.inner
            .sessions
            .iter()
            .map(|s| TraceCard::new(s.card.clone()))
            .collect()
    }

    /// Write `rules.yaml`, `<skillName>/SKILL.md`, `patches.yaml` and `REPORT.md`
    /// into `dir` (created when missing); what `tracecard distill -o DIR` writes.
    #[napi(catch_unwind)]
    pub fn write(&self, env: Env, dir: String) -> Result<()> {
        self.inner.write(Path::new(&dir)).js(&env)
    }
}

/// A distillation's inputs, checked on the JS thread; run on any thread.
struct DistillWork {
    src: Vec<Source>,
    format: Option<Format>,
    table: Prices,
    outcomes: Option<Outcomes>,
    policy: costcraft::Policy,
    budget: usize,
}

impl DistillWork {
    fn new(env: &Env, paths: Items<'_>, o: &mut DistillOptions<'_>) -> Result<Self> {
        Ok(DistillWork {
            format: format_opt(env, o.format.as_deref())?,
            table: prices_arg(env, o.prices.as_ref())?,
            outcomes: outcomes_arg(o.outcomes.take()),
            policy: policy_arg(env, o.policy.take())?,
            budget: o
                .replay_budget
                .map(|b| b as usize)
                .unwrap_or(tracecard_core::analysis::DEFAULT_REPLAY_BUDGET),
            src: sources(paths),
        })
    }
}

impl ReplayWork for DistillWork {
    type Output = costcraft::Distillation;
    type Js = Distillation;

    fn run(
        &mut self,
        replayer: Option<&dyn Replayer>,
    ) -> std::result::Result<Self::Output, Failure> {
        let mut run = || -> costcraft::Result<costcraft::Distillation> {
            let mut traces = owned(load_sources(std::mem::take(&mut self.src), self.format)?);
            let notes = apply(&mut traces, self.outcomes.as_ref())?;
            let c = Compiler::new()
                .prices(self.table.get())
                .replay_budget(self.budget);
            let c = match replayer {
                Some(r) => c.replayer(r),
                None => c,
            };
            let sessions = traces
                .into_iter()
                .map(|t| costcraft::Session::compile(t, &c))
                .collect::<costcraft::Result<Vec<_>>>()?;
            let mut d = costcraft::distill(sessions, &self.policy)?;
            d.notes = notes;
            Ok(d)
        };
        run().map_err(Failure::Costcraft)
    }

    fn into_js(output: Self::Output) -> Distillation {
        Distillation {
            inner: Arc::new(output),
        }
    }
}

/// Distil sessions (paths of files or directories, or {@link Trace}s) into
/// patches and rules, like `tracecard distill`. Throws `TRACECARD_BACKFIRE` (with
/// `guards`) when a backfire guard holds for the corpus and `policy.allowBackfire`
/// does not name it.
///
/// A function `replayer` is called synchronously on this thread and must not return
/// a Promise (use {@link distillAsync} for that); an exception it throws is rethrown
/// from `distill` unchanged.
#[napi(
    catch_unwind,
    ts_args_type = "paths: string | Trace | Array<string | Trace>, options?: DistillOptions"
)]
pub fn distill(
    env: Env,
    paths: Items<'_>,
    options: Option<DistillOptions<'_>>,
) -> Result<Distillation> {
    let mut o = options.unwrap_or_default();
    let mut work = DistillWork::new(&env, paths, &mut o)?;
    run_sync(&env, o.replayer, move |r| work.run(r)).map(DistillWork::into_js)
}

/// Like {@link distill}, but the work runs on the libuv thread pool and the result
/// is a Promise. A function replayer may return a Promise; one that throws (or
/// rejects) rejects this Promise with the very same value.
#[napi(
    catch_unwind,
    ts_args_type = "paths: string | Trace | Array<string | Trace>, options?: DistillOptions",
    ts_return_type = "Promise<Distillation>"
)]
pub fn distill_async<'env>(
    env: &'env Env,
    paths: Items<'_>,
    options: Option<DistillOptions<'_>>,
) -> Result<Unknown<'env>> {
    let mut o = options.unwrap_or_default();
    let work = DistillWork::new(env, paths, &mut o);
    spawn(env, o.replayer, work)
}

/// Options of {@link checkRules} and {@link evaluate}.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct CostcraftOptions<'a> {
    /// Outcomes ({@link evaluate} only): a JSONL file or an array of records.
    #[napi(ts_type = "string | OutcomeRecord[]")]
    pub outcomes: Option<Either<String, Vec<OutcomeRecord>>>,
    /// A price file or a {@link PriceTable}.
    #[napi(ts_type = "string | PriceTable")]
    pub prices: Option<PricesArg<'a>>,
    /// The format of the files (auto-detected per file by default).
    pub format: Option<String>,
}

/// Where each rule of the `rules.yaml` at `rulesPath` would fire in `paths`, and
/// whether the cost it targets shrank: `tracecard check-rules --json`, camelCased.
#[napi(
    catch_unwind,
    ts_args_type = "rulesPath: string, paths: string | Trace | Array<string | Trace>, options?: CostcraftOptions",
    ts_return_type = "CheckReport"
)]
pub fn check_rules(
    env: Env,
    rules_path: String,
    paths: Items<'_>,
    options: Option<CostcraftOptions<'_>>,
) -> Result<serde_json::Value> {
    let o = options.unwrap_or_default();
    let format = format_opt(&env, o.format.as_deref())?;
    let table = prices_arg(&env, o.prices.as_ref())?;
    let src = sources(paths);
    let run = || -> costcraft::Result<costcraft::check::CheckReport> {
        let rules = costcraft::RuleSet::read(Path::new(&rules_path))?;
        let c = Compiler::new().prices(table.get());
        let sessions = owned(load_sources(src, format)?)
            .into_iter()
            .map(|t| costcraft::Session::compile(t, &c))
            .collect::<costcraft::Result<Vec<_>>>()?;
        Ok(costcraft::check::check(&rules, &sessions))
    };
    let report = run().js(&env)?;
    json(&env, &report, "check report", true)
}

/// Pair `baseline` and `treated` runs of the same tasks (by `task_id` metadata,
/// else session id): regressions, recoveries, the median cost change with its
/// bootstrap interval, and the per-lane ablation: `tracecard evaluate --json`,
/// camelCased.
#[napi(
    catch_unwind,
    ts_args_type = "baseline: string | Trace | Array<string | Trace>, treated: string | Trace | Array<string | Trace>, options?: CostcraftOptions",
    ts_return_type = "Evaluation"
)]
pub fn evaluate(
    env: Env,
    baseline: Items<'_>,
    treated: Items<'_>,
    options: Option<CostcraftOptions<'_>>,
) -> Result<serde_json::Value> {
    let o = options.unwrap_or_default();
    let format = format_opt(&env, o.format.as_deref())?;
    let table = prices_arg(&env, o.prices.as_ref())?;
    let outcomes = outcomes_arg(o.outcomes);
    let (b, t) = (sources(baseline), sources(treated));
    let run = || -> costcraft::Result<costcraft::evaluate::Evaluation> {
        let c = Compiler::new().prices(table.get()).analyze(false);
        let side = |src: Vec<Source>| -> costcraft::Result<Vec<costcraft::evaluate::Run>> {
            let mut traces = owned(load_sources(src, format)?);
            apply(&mut traces, outcomes.as_ref())?;
            traces
                .into_iter()
                .map(|t| costcraft::evaluate::Run::compile(t, &c))
                .collect()
        };
        Ok(costcraft::evaluate::evaluate_runs(&side(b)?, &side(t)?))
    };
    let e = run().js(&env)?;
    json(&env, &e, "evaluation", true)
}
