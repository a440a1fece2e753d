//! `compile` / `compileAsync` and the replayers they accept.
//!
//! The core calls a [`Replayer`] from whatever thread runs the analysis, but a JS
//! function can only be called on the JS thread. So:
//!
//! - `compile` (sync) runs the analysis on a scoped worker thread while the JS
//!   thread serves the worker's replay requests over a channel, calling the user's
//!   function directly. A Promise returned there cannot be awaited (the JS thread
//!   is busy), so it is a `TRACECARD_REPLAY` error pointing at `compileAsync`.
//! - `compileAsync` runs the analysis on the libuv pool ([`AsyncTask`]) and reaches
//!   the function through a thread-safe function; a returned Promise is awaited
//!   (`then` is attached on the JS thread).
//!
//! In both, the first exception the user's function throws (or the first rejection)
//! is kept as the original JS value and thrown from `compile` / rejects
//! `compileAsync` unchanged, even when the core carried on without that replay.
//! `{command}` replayers run the `tracecard-replay/1` protocol in the core
//! ([`CommandReplayer`]).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, JsValue, UnknownRef, ValueType};
use napi_derive::napi;
use tracecard_core::model::{Outcome, StepId, Trace as CoreTrace};
use tracecard_core::{CommandReplayer, Compiler, Replayer};

use crate::card::TraceCard;
use crate::convert::outcome_from_str;
use crate::errors::{costcraft_to_js, invalid_arg, to_js};
use crate::model::Trace;
use crate::prices::{Prices, PricesArg, prices_arg};

/// The `tracecard-replay/1` command protocol as a replayer: the command runs once
/// per replay through `sh -c`, gets a JSON request on stdin and answers with a JSON
/// outcome on stdout (see `docs/replay-protocol.md`).
#[napi(object)]
pub struct CommandReplayerOptions {
    /// The shell command.
    pub command: String,
    /// Kill a run (its whole process group) after this many milliseconds
    /// (default 300000).
    pub timeout_ms: Option<u32>,
    /// Name recorded on cards (`confirmed_by: "replay:<name>"`); derived from the
    /// command by default.
    pub name: Option<String>,
}

/// The JS function type of a replayer.
// (`Unknown<'static>`: a thread-safe function needs a `'static` return type.)
type ReplayFn<'a> = Function<'a, FnArgs<(Trace, Vec<u32>)>, Unknown<'static>>;

/// A `replayer` option: a JS function, or `{command}` for the `tracecard-replay/1`
/// protocol.
pub type ReplayerArg<'a> = Either<ReplayFn<'a>, CommandReplayerOptions>;

/// Options of {@link Trace.compile} and {@link Trace.compileAsync}.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct CompileOptions<'a> {
    /// A price file (LiteLLM's `model_prices_and_context_window.json` or tracecard's
    /// own format) layered over the bundled table, or a {@link PriceTable}.
    #[napi(ts_type = "string | PriceTable")]
    pub prices: Option<PricesArg<'a>>,
    /// Counterfactual replayer: a function `(traceWithoutCandidates, removedIds) =>
    /// outcome` (first called with `removedIds = []` for the baseline), or
    /// `{command}` for the `tracecard-replay/1` protocol. An outcome is `"success"`,
    /// `"failure"`, `"unknown"`, a boolean (`true` = success) or
    /// `{status, evidence?}`; with `compileAsync`, or a Promise of one.
    #[napi(ts_type = "Replayer | CommandReplayerOptions")]
    pub replayer: Option<ReplayerArg<'a>>,
    /// Most replays the replayer may run, the baseline included (default 32).
    pub replay_budget: Option<u32>,
    /// Run the redundancy analysis (default `true`); `false` only prices the steps.
    pub analyze: Option<bool>,
}

struct Settings {
    prices: Prices,
    analyze: bool,
    budget: usize,
}

impl Settings {
    fn new(env: &Env, o: &CompileOptions<'_>) -> Result<Self> {
        Ok(Settings {
            prices: prices_arg(env, o.prices.as_ref())?,
            analyze: o.analyze.unwrap_or(true),
            budget: o
                .replay_budget
                .map(|b| b as usize)
                .unwrap_or(tracecard_core::analysis::DEFAULT_REPLAY_BUDGET),
        })
    }

    fn run(
        &self,
        trace: &CoreTrace,
        replayer: Option<&dyn Replayer>,
    ) -> tracecard_core::Result<tracecard_core::TraceCard> {
        let c = Compiler::new()
            .prices(self.prices.get())
            .analyze(self.analyze)
            .replay_budget(self.budget);
        match replayer {
            Some(r) => c.replayer(r).compile(trace),
            None => c.compile(trace),
        }
    }
}

fn command_replayer(o: CommandReplayerOptions) -> CommandReplayer {
    let mut r = CommandReplayer::new(o.command);
    if let Some(ms) = o.timeout_ms {
        r = r.timeout(Duration::from_millis(u64::from(ms)));
    }
    if let Some(n) = o.name {
        r = r.with_name(n);
    }
    r
}

/// Why a compile failed, kept until a JS env is at hand to build the error.
pub enum Failure {
    /// The user's own exception or rejection: a reference to the holder object
    /// `{tracecardThrown: true, value}` (a holder, so that primitives work too).
    Js(ObjectRef<false>),
    /// A core error.
    Core(tracecard_core::Error),
    /// A costcraft error (`distill`).
    Costcraft(costcraft::Error),
    /// The analysis panicked (a bug): reported, never propagated into Node.
    Panic,
    /// `compileAsync`: the user's exception is kept in the shared slot.
    Kept,
}

impl Failure {
    /// The error to return from a sync call. The user's own value is thrown as is
    /// (`napi_throw`) and the returned error only says an exception is pending.
    fn into_js(self, env: &Env) -> napi::Error {
        match self {
            Failure::Js(r) => match rethrow(env, r) {
                Ok(()) => napi::Error::new(Status::PendingException, "the replayer threw"),
                Err(e) => e,
            },
            Failure::Core(e) => to_js(env, e),
            Failure::Costcraft(e) => costcraft_to_js(env, e),
            Failure::Kept => napi::Error::new(Status::GenericFailure, "the replayer threw"),
            Failure::Panic => crate::panic::internal(env, "a panic in the analysis"),
        }
    }
}

/// What the JS side answered to one replay.
enum Answer {
    Outcome(Outcome),
    Threw(ObjectRef<false>),
    Bad(String),
}

/// One replay request: the candidate trace and the removed ids, and where to answer.
struct Request {
    trace: CoreTrace,
    removed: Vec<u32>,
    reply: mpsc::Sender<Answer>,
}

type Tsfn = ThreadsafeFunction<
    (CoreTrace, Vec<u32>),
    Unknown<'static>,
    FnArgs<(Trace, Vec<u32>)>,
    Status,
    false,
>;

enum Transport {
    /// Requests served by the JS thread's loop in `compile_sync`.
    Main(Mutex<mpsc::Sender<Request>>),
    /// Requests sent through a thread-safe function (`compileAsync`).
    Tsfn(Tsfn),
}

/// A JS function as a [`Replayer`].
struct JsReplayer {
    name: String,
    transport: Transport,
    failure: Arc<Mutex<Option<Failure>>>,
}

impl JsReplayer {
    fn keep(&self, f: Failure) {
        if let Ok(mut slot) = self.failure.lock() {
            if slot.is_none() {
                *slot = Some(f);
            }
        }
    }

    fn fail(&self, message: String) -> tracecard_core::Error {
        tracecard_core::Error::Replay {
            replayer: self.name.clone(),
            message,
            source: None,
        }
    }
}

impl Replayer for JsReplayer {
    fn name(&self) -> &str {
        &self.name
    }

    fn replay(&self, trace: &CoreTrace, removed: &[StepId]) -> tracecard_core::Result<Outcome> {
        // After the first failure the compile is going to throw anyway: no more
        // calls into JS.
        if self.failure.lock().map(|f| f.is_some()).unwrap_or(true) {
            return Err(self.fail("an earlier replay failed".into()));
        }
        let (reply, answer) = mpsc::channel();
        let candidate = trace.without(removed);
        let ids: Vec<u32> = removed.iter().map(|s| s.0).collect();
        let sent = match &self.transport {
            Transport::Main(tx) => tx.lock().map_err(|_| ()).and_then(|tx| {
                tx.send(Request {
                    trace: candidate,
                    removed: ids,
                    reply,
                })
                .map_err(|_| ())
            }),
            Transport::Tsfn(f) => {
                let status = f.call_with_return_value(
                    (candidate, ids),
                    ThreadsafeFunctionCallMode::Blocking,
                    move |ret, env| {
                        settle(&env, ret, reply, true);
                        Ok(())
                    },
                );
                if status == Status::Ok {
                    Ok(())
                } else {
                    Err(())
                }
            }
        };
        if sent.is_err() {
            return Err(self.fail("the JS replayer could not be called".into()));
        }
        match answer.recv() {
            Ok(Answer::Outcome(o)) => Ok(o),
            Ok(Answer::Threw(r)) => {
                self.keep(Failure::Js(r));
                Err(self.fail("the replayer threw".into()))
            }
            Ok(Answer::Bad(msg)) => {
                // A wrong answer is an error of `compile`, like the user's own
                // exceptions (the core alone would only keep it as a warning).
                self.keep(Failure::Core(self.fail(msg.clone())));
                Err(self.fail(msg))
            }
            Err(_) => Err(self.fail("the JS replayer did not answer".into())),
        }
    }
}

/// An outcome from what a replayer returned (already plain JSON).
fn outcome_from_json(v: serde_json::Value) -> std::result::Result<Outcome, String> {
    use serde_json::Value;
    let status = |s: &str| {
        outcome_from_str(s)
            .ok_or_else(|| format!("outcome must be 'success', 'failure' or 'unknown', not {s:?}"))
    };
    match v {
        Value::Bool(b) => Ok(Outcome {
            status: status(if b { "success" } else { "failure" })?,
            ..Outcome::default()
        }),
        Value::String(s) => Ok(Outcome {
            status: status(&s)?,
            ..Outcome::default()
        }),
        Value::Object(mut m) => {
            // Accept the JS spellings of the outcome record's fields too.
            if let Some(Value::String(s)) = m.get("status").cloned() {
                let st = status(&s)?;
                m.insert(
                    "status".into(),
                    serde_json::to_value(st).unwrap_or(Value::Null),
                );
            }
            if let Some(f) = m.remove("finalStep") {
                m.insert("final_step".into(), f);
            }
            serde_json::from_value::<Outcome>(Value::Object(m))
                .map_err(|e| format!("not an outcome: {e}"))
        }
        other => Err(format!(
            "a replayer must return 'success', 'failure', 'unknown', a boolean or {{status, evidence?}}; got {other}"
        )),
    }
}

fn send(reply: &mpsc::Sender<Answer>, a: Answer) {
    // The worker may have given up (it never does before an answer); ignore.
    let _ = reply.send(a);
}

/// Turn what the user's function did (returned or threw) into an [`Answer`], on the
/// JS thread. A thenable is awaited when `allow_promise` (`compileAsync`).
fn settle(env: &Env, ret: Result<Unknown<'_>>, reply: mpsc::Sender<Answer>, allow_promise: bool) {
    let value = match ret.and_then(|record| unwrap_record(env, record)) {
        Ok(Ok(v)) => v,
        Ok(Err(thrown)) => return send(&reply, thrown),
        Err(e) => {
            return send(
                &reply,
                Answer::Bad(format!("the replayer could not be called: {e}")),
            );
        }
    };
    match thenable(&value) {
        Ok(Some((obj, then))) => {
            if !allow_promise {
                return send(
                    &reply,
                    Answer::Bad(
                        "the replayer returned a Promise: compile() and distill() cannot wait for it; use compileAsync() or distillAsync()"
                            .into(),
                    ),
                );
            }
            if let Err(e) = attach(env, obj, then, reply.clone()) {
                send(
                    &reply,
                    Answer::Bad(format!("could not wait for the replayer's Promise: {e}")),
                );
            }
        }
        Ok(None) => send(&reply, plain(env, value)),
        Err(e) => send(&reply, Answer::Bad(e.to_string())),
    }
}

/// The trampoline's `{ok, value}` / `{ok: false, error}` record: the returned value,
/// or the kept exception.
fn unwrap_record<'a>(
    env: &Env,
    record: Unknown<'a>,
) -> Result<std::result::Result<Unknown<'a>, Answer>> {
    let obj = record.coerce_to_object()?;
    let ok: bool = obj.get_named_property("ok")?;
    if ok {
        Ok(Ok(obj.get_named_property("value")?))
    } else {
        let error: Unknown<'_> = obj.get_named_property("error")?;
        Ok(Err(thrown(env, error)))
    }
}

/// Keep a thrown value alive (any value: a holder object is what is referenced)
/// until it is thrown again on the JS thread.
fn thrown(env: &Env, value: Unknown<'_>) -> Answer {
    let keep = || -> Result<ObjectRef<false>> {
        let mut holder = Object::new(env)?;
        holder.set_named_property("value", value)?;
        holder.create_ref::<false>()
    };
    match keep() {
        Ok(r) => Answer::Threw(r),
        Err(e) => Answer::Bad(format!(
            "the replayer threw, and keeping its exception failed: {e}"
        )),
    }
}

/// Throw the kept value (`napi_throw`) and release the reference.
fn rethrow(env: &Env, r: ObjectRef<false>) -> Result<()> {
    let holder = r.get_value(env)?;
    let value: Unknown<'_> = holder.get_named_property("value")?;
    r.unref(env)?;
    env.throw(value)
}

fn plain(env: &Env, value: Unknown<'_>) -> Answer {
    match env.from_js_value::<serde_json::Value, _>(value) {
        Ok(v) => match outcome_from_json(v) {
            Ok(o) => Answer::Outcome(o),
            Err(m) => Answer::Bad(m),
        },
        Err(e) => Answer::Bad(format!("the replayer's answer is not plain data: {e}")),
    }
}

type ThenFn<'a> = Function<
    'a,
    FnArgs<(Function<'a, Unknown<'a>, ()>, Function<'a, Unknown<'a>, ()>)>,
    Unknown<'a>,
>;

fn thenable<'a>(value: &Unknown<'a>) -> Result<Option<(Object<'a>, ThenFn<'a>)>> {
    if !matches!(value.get_type()?, ValueType::Object | ValueType::Function) {
        return Ok(None);
    }
    let obj = value.coerce_to_object()?;
    let then: Unknown<'_> = obj.get_named_property("then")?;
    if then.get_type()? != ValueType::Function {
        return Ok(None);
    }
    let then: ThenFn<'a> = obj.get_named_property("then")?;
    Ok(Some((obj, then)))
}

fn attach<'a>(
    env: &'a Env,
    obj: Object<'a>,
    then: ThenFn<'a>,
    reply: mpsc::Sender<Answer>,
) -> Result<()> {
    let ok_reply = reply.clone();
    let on_ok =
        env.create_function_from_closure::<Unknown<'_>, (), _>("onReplayed", move |ctx| {
            let v: Unknown<'_> = ctx.get(0)?;
            send(&ok_reply, plain(ctx.env, v));
            Ok(())
        })?;
    let on_err =
        env.create_function_from_closure::<Unknown<'_>, (), _>("onReplayFailed", move |ctx| {
            let v: Unknown<'_> = ctx.get(0)?;
            send(&reply, thrown(ctx.env, v));
            Ok(())
        })?;
    then.apply(obj, FnArgs::from((on_ok, on_err)))?;
    Ok(())
}

/// JS helpers, compiled per call (tiny): `wrap` turns the user's function into one
/// that never throws but returns `{ok, value}` or `{ok: false, error}` (so any
/// thrown value, primitives included, is caught as is); `then` chains a callback;
/// `reject` makes a rejected Promise (bad options reject `compileAsync`, not throw).
const HELPERS: &str = r#"({
  wrap(f) {
    return function tracecardReplay(trace, removed) {
      try { return { ok: true, value: f(trace, removed) } } catch (error) { return { ok: false, error } }
    }
  },
  then(p, f) { return p.then(f) },
  reject(e) { return Promise.reject(e) },
})"#;

fn helper<'a, Args: JsValuesTupleIntoVec, Ret: FromNapiValue>(
    env: &'a Env,
    name: &str,
) -> Result<Function<'a, Args, Ret>> {
    let helpers: Object<'a> = env.run_script(HELPERS)?;
    helpers.get_named_property(name)
}

/// The user's replayer behind the `wrap` helper.
fn wrap<'a>(env: &'a Env, f: ReplayFn<'_>) -> Result<ReplayFn<'a>> {
    helper::<ReplayFn<'_>, ReplayFn<'a>>(env, "wrap")?.call(f)
}

fn js_name(f: &ReplayFn<'_>) -> String {
    match f.name() {
        Ok(n) if !n.is_empty() => n,
        _ => "js".into(),
    }
}

/// Run `work` with the replayer of a sync call (`compile`, `distill`). A JS
/// function is served on this (the JS) thread while `work` runs on a scoped worker
/// thread; the user's first exception wins over whatever `work` returned.
pub fn run_sync<T: Send>(
    env: &Env,
    replayer: Option<ReplayerArg<'_>>,
    work: impl FnOnce(Option<&dyn Replayer>) -> std::result::Result<T, Failure> + Send,
) -> Result<T> {
    let func = match replayer {
        None => return work(None).map_err(|f| f.into_js(env)),
        Some(Either::B(cmd)) => {
            let r = command_replayer(cmd);
            return work(Some(&r)).map_err(|f| f.into_js(env));
        }
        Some(Either::A(f)) => f,
    };
    let name = js_name(&func);
    let func = wrap(env, func)?;
    let (tx, rx) = mpsc::channel::<Request>();
    let failure = Arc::new(Mutex::new(None));
    let adapter = JsReplayer {
        name,
        transport: Transport::Main(Mutex::new(tx)),
        failure: Arc::clone(&failure),
    };
    let joined = std::thread::scope(|s| {
        // The adapter (and so the only sender) moves into the worker: when the
        // work ends or panics, `rx` closes and the loop below stops.
        let worker = s.spawn(move || work(Some(&adapter)));
        for req in rx.iter() {
            let ret = func.call(FnArgs::from((Trace::new(req.trace), req.removed)));
            settle(env, ret, req.reply, false);
        }
        worker.join()
    });
    let failure = failure.lock().ok().and_then(|mut f| f.take());
    let result = match (joined, failure) {
        (_, Some(f)) => Err(f),
        (Ok(r), None) => r,
        (Err(_), None) => Err(Failure::Panic),
    };
    result.map_err(|f| f.into_js(env))
}

/// `trace.compile(options)`.
pub fn compile_sync(
    env: &Env,
    trace: Arc<CoreTrace>,
    options: CompileOptions<'_>,
) -> Result<TraceCard> {
    let settings = Settings::new(env, &options)?;
    run_sync(env, options.replayer, move |r| {
        settings.run(&trace, r).map_err(Failure::Core)
    })
    .map(TraceCard::new)
}

/// What an async call (`compileAsync`, `distillAsync`) runs on the libuv pool with
/// its replayer.
pub trait ReplayWork: Send + 'static {
    /// The Rust result.
    type Output: Send;
    /// Its JS object.
    type Js: ToNapiValue + TypeName;
    /// Do the work (on a pool thread).
    fn run(
        &mut self,
        replayer: Option<&dyn Replayer>,
    ) -> std::result::Result<Self::Output, Failure>;
    /// The JS object of the result (on the JS thread).
    fn into_js(output: Self::Output) -> Self::Js;
}

/// The compile behind `compileAsync`.
struct CompileWork {
    trace: Arc<CoreTrace>,
    settings: Settings,
}

impl ReplayWork for CompileWork {
    type Output = tracecard_core::TraceCard;
    type Js = TraceCard;

    fn run(
        &mut self,
        replayer: Option<&dyn Replayer>,
    ) -> std::result::Result<Self::Output, Failure> {
        self.settings
            .run(&self.trace, replayer)
            .map_err(Failure::Core)
    }

    fn into_js(output: Self::Output) -> TraceCard {
        TraceCard::new(output)
    }
}

enum TaskReplayer {
    None,
    Command(CommandReplayer),
    Js(JsReplayer),
}

/// An async call's work and replayer (runs on the libuv pool).
pub struct ReplayTask<W: ReplayWork> {
    work: W,
    replayer: TaskReplayer,
    failure: Arc<Mutex<Option<Failure>>>,
}

impl<W: ReplayWork> ReplayTask<W> {
    /// Set up the replayer on the JS thread.
    fn new(env: &Env, replayer: Option<ReplayerArg<'_>>, work: W) -> Result<Self> {
        let failure = Arc::new(Mutex::new(None));
        let replayer = match replayer {
            None => TaskReplayer::None,
            Some(Either::B(cmd)) => TaskReplayer::Command(command_replayer(cmd)),
            Some(Either::A(f)) => {
                let name = js_name(&f);
                let tsfn: Tsfn = wrap(env, f)?
                    .build_threadsafe_function::<(CoreTrace, Vec<u32>)>()
                    .callee_handled::<false>()
                    .build_callback(|ctx| {
                        let (trace, ids) = ctx.value;
                        Ok(FnArgs::from((Trace::new(trace), ids)))
                    })
                    .map_err(|e| invalid_arg(env, format!("replayer: {e}")))?;
                TaskReplayer::Js(JsReplayer {
                    name,
                    transport: Transport::Tsfn(tsfn),
                    failure: Arc::clone(&failure),
                })
            }
        };
        Ok(ReplayTask {
            work,
            replayer,
            failure,
        })
    }
}

/// `trace.compileAsync(options)`.
pub fn compile_async<'a>(
    env: &'a Env,
    trace: Arc<CoreTrace>,
    options: CompileOptions<'_>,
) -> Result<Unknown<'a>> {
    let work = Settings::new(env, &options).map(|settings| CompileWork { trace, settings });
    spawn(env, options.replayer, work)
}

/// Start `work` on the libuv pool: the task's Promise, chained to a callback that
/// rethrows the user's kept exception (a throw inside `then` rejects the returned
/// Promise with exactly that value) or passes the result through. An error setting
/// it up rejects the Promise too (bad options reject, not throw).
pub fn spawn<'a, W: ReplayWork>(
    env: &'a Env,
    replayer: Option<ReplayerArg<'_>>,
    work: Result<W>,
) -> Result<Unknown<'a>> {
    let task = match work.and_then(|w| ReplayTask::new(env, replayer, w)) {
        Ok(t) => t,
        Err(e) => {
            let reason = napi::JsError::from(e).into_unknown(*env);
            return helper::<Unknown<'_>, Unknown<'a>>(env, "reject")?.call(reason);
        }
    };
    let failure = Arc::clone(&task.failure);
    let promise = env.spawn(task)?.promise_object();
    let settle = env.create_function_from_closure::<UnknownRef<false>, UnknownRef<false>, _>(
        "tracecardSettle",
        move |ctx| {
            let kept = failure.lock().ok().and_then(|mut f| f.take());
            if let Some(Failure::Js(r)) = kept {
                rethrow(ctx.env, r)?;
                return Err(napi::Error::new(
                    Status::PendingException,
                    "the replayer threw",
                ));
            }
            ctx.get::<UnknownRef<false>>(0)
        },
    )?;
    type Then<'a, 'p, 'f, T> = Function<
        'a,
        FnArgs<(
            PromiseRaw<'p, Option<T>>,
            Function<'f, UnknownRef<false>, UnknownRef<false>>,
        )>,
        Unknown<'a>,
    >;
    helper::<_, Unknown<'a>>(env, "then")
        .and_then(|f: Then<'a, '_, '_, W::Js>| f.call(FnArgs::from((promise, settle))))
}

impl<W: ReplayWork> Task for ReplayTask<W> {
    type Output = std::result::Result<W::Output, Failure>;
    /// The result; `null` when the user's exception is kept in `failure` (rethrown
    /// by the callback chained in [`spawn`]).
    type JsValue = Option<W::Js>;

    fn compute(&mut self) -> Result<Self::Output> {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let r: Option<&dyn Replayer> = match &self.replayer {
                TaskReplayer::None => None,
                TaskReplayer::Command(c) => Some(c),
                TaskReplayer::Js(j) => Some(j),
            };
            self.work.run(r)
        }));
        // The thread-safe function is no longer needed: let the loop exit.
        self.replayer = TaskReplayer::None;
        let mut slot = self
            .failure
            .lock()
            .map_err(|_| napi::Error::from_reason("tracecard: a lock is poisoned"))?;
        Ok(match (run, slot.take()) {
            // The user's exception stays in the slot for the JS thread to rethrow.
            (_, Some(Failure::Js(r))) => {
                *slot = Some(Failure::Js(r));
                Err(Failure::Kept)
            }
            (_, Some(f)) => Err(f),
            (Ok(r), None) => r,
            (Err(_), None) => Err(Failure::Panic),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        match output {
            Ok(out) => Ok(Some(W::into_js(out))),
            Err(Failure::Kept) => Ok(None),
            Err(f) => Err(f.into_js(&env)),
        }
    }
}
