//! Panics never abort the process and never reach JS uncoded.
//!
//! Every exported function, method and accessor is `#[napi(catch_unwind)]`
//! (`__test__/panic.test.mjs` checks the sources): napi turns a panic into a
//! `GenericFailure` error instead of unwinding into Node (an abort). At load,
//! [`init`] installs a panic hook that records the panic's message per thread,
//! and runs `panic_guard.js` on the exports: it wraps every function, method and
//! accessor so that the error of a recorded panic is thrown as
//! `TRACECARD_INTERNAL`. The one constructor (`Recorder`) converts in Rust
//! ([`guard`]); panics on other threads end as `Failure::Panic` in `replay.rs`,
//! also `TRACECARD_INTERNAL`. See DESIGN.md, "The Node binding".

use std::cell::RefCell;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{self, Props};

thread_local! {
    /// The message of the last panic on this thread, until `takePanic()` reads it.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Test hook: while set, the constructors panic before their body.
static PANIC_IN_CONSTRUCTORS: AtomicBool = AtomicBool::new(false);

static HOOK: Once = Once::new();

/// `takePanic()`: the last panic's message on this thread, if any.
type TakePanic<'a> = Function<'a, (), Option<String>>;
/// `panic_guard.js`: `(exports, takePanic) => void`.
type Install<'a> = Function<'a, FnArgs<(Object<'a>, TakePanic<'a>)>, ()>;

/// The message of a panic payload, as napi's `panic_to_error` makes it.
fn message(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
}

/// The `TRACECARD_INTERNAL` error of a panic.
pub fn internal(env: &Env, what: &str) -> napi::Error {
    errors::js_error(
        env,
        errors::INTERNAL,
        format!("internal error in tracecard (a bug, please report it): {what}"),
        Props {
            kind: Some("internal"),
            ..Props::default()
        },
    )
}

/// Runs a constructor body: a panic becomes `TRACECARD_INTERNAL`.
pub fn guard<T>(env: &Env, body: impl FnOnce() -> Result<T>) -> Result<T> {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if PANIC_IN_CONSTRUCTORS.load(Ordering::Relaxed) {
            panic!("deliberate: a panic in a constructor (test hook)");
        }
        body()
    }));
    match run {
        Ok(r) => r,
        Err(payload) => {
            // recorded by the hook: consumed here, so it cannot match a later error
            LAST_PANIC.with(|l| l.borrow_mut().take());
            Err(internal(
                env,
                message(payload.as_ref())
                    .as_deref()
                    .unwrap_or("a panic without a message"),
            ))
        }
    }
}

/// Module init: the panic hook (once per process; the previous hook still
/// prints the panic) and the JS guard on these exports (once per environment).
#[napi(module_exports)]
pub fn init(exports: Object, env: Env) -> Result<()> {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let m = message(info.payload());
            LAST_PANIC.with(|l| *l.borrow_mut() = m);
            previous(info);
        }));
    });
    let install: Install<'_> = env.run_script(include_str!("panic_guard.js"))?;
    let take = env.create_function_from_closure("takePanic", |_ctx| {
        Ok(LAST_PANIC.with(|l| l.borrow_mut().take()))
    })?;
    install.call(FnArgs::from((exports, take)))
}

/// Panics on purpose: what the panic guard turns into `TRACECARD_INTERNAL`
/// (its test, `__test__/panic.test.mjs`). Not API (not enumerable, not typed).
#[napi(catch_unwind, js_name = "__panicForTests", skip_typescript)]
pub fn panic_for_tests(message: String) {
    panic!("{message}")
}

/// Test hook: while `on`, every constructor panics before its body. Not API.
#[napi(
    catch_unwind,
    js_name = "__panicInConstructorsForTests",
    skip_typescript
)]
pub fn panic_in_constructors_for_tests(on: bool) {
    PANIC_IN_CONSTRUCTORS.store(on, Ordering::Relaxed);
}
