// The panic guard of the Node package, run once by `panic.rs` when the addon loads.
//
// Every Rust entry point is `#[napi(catch_unwind)]`, so a panic (a tracecard bug)
// comes back as a plain `Error` with napi's code `GenericFailure` instead of
// aborting the process. This wraps every exported function, and every method,
// accessor and static method of every exported class, so that such an error is
// thrown as `TRACECARD_INTERNAL` (kind `internal`, the original as `cause`), like
// Python's `InternalError`. `takePanic()` returns (and clears) the message of the
// last panic on this thread, recorded by the Rust panic hook: an error is converted
// only when it is that panic, never another `GenericFailure`.
;(function installPanicGuard(exports, takePanic) {
  'use strict'
  const GUARDED = Symbol.for('tracecard.panicGuarded')
  const SKIP_STATIC = new Set(['length', 'name', 'prototype', 'caller', 'arguments'])

  function convert(e) {
    if (e instanceof Error && e.code === 'GenericFailure') {
      const panic = takePanic()
      if (typeof panic === 'string' && panic === e.message) {
        const err = new Error(`internal error in tracecard (a bug, please report it): ${panic}`, { cause: e })
        err.code = 'TRACECARD_INTERNAL'
        err.kind = 'internal'
        return err
      }
    }
    return e
  }

  function guard(fn) {
    if (typeof fn !== 'function' || fn[GUARDED]) return fn
    const guarded = {
      [fn.name](...args) {
        try {
          return fn.apply(this, args)
        } catch (e) {
          throw convert(e)
        }
      },
    }[fn.name]
    Object.defineProperty(guarded, 'length', { value: fn.length })
    Object.defineProperty(guarded, GUARDED, { value: true })
    return guarded
  }

  function guardProperties(target, skip) {
    for (const key of Reflect.ownKeys(target)) {
      if (skip.has(key) || typeof key === 'symbol') continue
      const d = Object.getOwnPropertyDescriptor(target, key)
      if (!d || !d.configurable) continue
      if (d.get || d.set) {
        Object.defineProperty(target, key, { ...d, get: d.get && guard(d.get), set: d.set && guard(d.set) })
      } else if (typeof d.value === 'function') {
        Object.defineProperty(target, key, { ...d, value: guard(d.value) })
      }
    }
  }

  // A class has its methods on its prototype; a plain function has none.
  const isClass = (f) =>
    typeof f.prototype === 'object' && f.prototype !== null && Reflect.ownKeys(f.prototype).some((k) => k !== 'constructor')

  for (const name of Object.getOwnPropertyNames(exports)) {
    const d = Object.getOwnPropertyDescriptor(exports, name)
    if (!d || typeof d.value !== 'function' || !d.configurable) continue
    const f = d.value
    if (isClass(f)) {
      guardProperties(f, SKIP_STATIC)
      guardProperties(f.prototype, new Set(['constructor']))
      Object.defineProperty(f, GUARDED, { value: true })
    } else {
      Object.defineProperty(exports, name, { ...d, value: guard(f) })
    }
  }
  // The test hooks are not API: out of `Object.keys` (and so of the ESM names).
  for (const hook of ['__panicForTests', '__panicInConstructorsForTests']) {
    const d = Object.getOwnPropertyDescriptor(exports, hook)
    if (d) Object.defineProperty(exports, hook, { ...d, enumerable: false })
  }
})
