// Panics (tracecard bugs) never abort Node and never reach JS uncoded: they are
// thrown as `TRACECARD_INTERNAL`, like Python's `InternalError` (issue 14).
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { PKG, tc } from './helpers.mjs'

const GUARDED = Symbol.for('tracecard.panicGuarded')

/** Arguments of one valid `new` of every class that has a constructor. */
const CONSTRUCTOR_ARGS = { Recorder: ['panic-test', { keepContent: false }] }

const classes = () =>
  Object.entries(tc).filter(([, v]) => typeof v === 'function' && /^[A-Z]/.test(v.name))

test('a panic in the addon is TRACECARD_INTERNAL, and the process carries on', () => {
  let caught
  assert.throws(
    () => tc.__panicForTests('deliberate: a panic in the binding'),
    (e) => {
      caught = e
      return e instanceof Error && e.code === 'TRACECARD_INTERNAL'
    },
  )
  assert.equal(caught.kind, 'internal')
  assert.match(caught.message, /^internal error in tracecard \(a bug, please report it\): deliberate: a panic in the binding$/)
  // napi's own error (what catch_unwind made of the panic) is kept as the cause
  assert.equal(caught.cause.code, 'GenericFailure')
  // `catch (e)` is enough to survive it, and the addon still works
  try {
    tc.__panicForTests('again')
  } catch {}
  assert.ok(tc.formats().includes('native'))
  // other errors keep their own codes
  assert.throws(() => tc.loads('hello, world\n'), (e) => e.code === 'TRACECARD_UNKNOWN_FORMAT')
  // the test hooks are not API
  assert.ok(!Object.keys(tc).includes('__panicForTests'))
  assert.ok(!Object.keys(tc).includes('__panicInConstructorsForTests'))
})

test('every exported function, method, accessor and static method is guarded', () => {
  const unguarded = []
  let count = 0
  const check = (name, f) => {
    count += 1
    if (!f[GUARDED]) unguarded.push(name)
  }
  for (const [name, v] of Object.entries(tc)) {
    if (typeof v !== 'function') continue
    if (!/^[A-Z]/.test(v.name)) {
      check(name, v)
      continue
    }
    assert.ok(v[GUARDED], `class ${name} not visited by the guard`)
    for (const [owner, label] of [[v, `${name}.`], [v.prototype, `${name}.prototype.`]]) {
      for (const key of Object.getOwnPropertyNames(owner)) {
        if (['length', 'name', 'prototype', 'constructor'].includes(key)) continue
        const d = Object.getOwnPropertyDescriptor(owner, key)
        if (d.get) check(`${label}${key} (get)`, d.get)
        if (d.set) check(`${label}${key} (set)`, d.set)
        if (typeof d.value === 'function') check(`${label}${key}`, d.value)
      }
    }
  }
  assert.ok(count > 100, `only ${count} entry points found`)
  assert.deepEqual(unguarded, [])
  // the wrappers keep name and arity
  assert.equal(tc.load.name, 'load')
  assert.equal(tc.Recorder.prototype.finish.name, 'finish')
})

test('every constructor turns a panic into TRACECARD_INTERNAL', (t) => {
  t.after(() => tc.__panicInConstructorsForTests(false))
  for (const [name, C] of classes()) {
    const args = CONSTRUCTOR_ARGS[name]
    if (!args) {
      // a class without a constructor (a new one must be listed above)
      assert.throws(() => new C(), /no `constructor`/, `${name} has a constructor: add it to CONSTRUCTOR_ARGS`)
      continue
    }
    assert.ok(new C(...args) instanceof C)
    tc.__panicInConstructorsForTests(true)
    assert.throws(
      () => new C(...args),
      (e) => e.code === 'TRACECARD_INTERNAL' && /deliberate/.test(e.message),
      name,
    )
    tc.__panicInConstructorsForTests(false)
    assert.ok(new C(...args) instanceof C)
  }
})

test('every #[napi] function of the addon is catch_unwind (a panic would abort Node)', () => {
  const missing = []
  const dir = path.join(PKG, 'src')
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.rs'))) {
    const lines = readFileSync(path.join(dir, file), 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      if (!/^\s*#\[napi(\]|\()/.test(lines[i])) continue
      let attr = lines[i]
      let j = i
      while (!/\]\s*$/.test(lines[j])) attr += lines[++j]
      let k = j + 1
      while (/^\s*(#\[|\/\/)/.test(lines[k])) k++
      if (/^\s*(pub(\([a-z]+\))? )?(async )?fn /.test(lines[k]) && !/catch_unwind|module_exports/.test(attr)) {
        missing.push(`${file}:${i + 1}`)
      }
    }
  }
  assert.deepEqual(missing, [])
})
