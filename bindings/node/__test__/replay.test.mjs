// Counterfactual replay: JS functions (sync and async), the command protocol, and
// the user's own exceptions coming back unchanged.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { EXAMPLES, tc } from './helpers.mjs'

const trace = () => tc.load(path.join(EXAMPLES, 'config-question.jsonl'))

test('a sync replayer confirms the unproven steps as redundant', () => {
  const t = trace()
  const before = t.compile()
  const open = before.unprovenSteps.map((s) => s.id)
  assert.ok(open.length > 0)
  const calls = []
  const card = t.compile({
    replayer: function keepsWorking(candidate, removed) {
      assert.ok(candidate instanceof tc.Trace)
      assert.equal(candidate.length, t.length - removed.length)
      calls.push(removed)
      return 'success'
    },
  })
  assert.deepEqual(calls[0], [], 'the first call is the baseline')
  assert.equal(card.replaysUsed, calls.length)
  for (const id of open) {
    const s = card.step(id)
    assert.equal(s.verdict, 'redundant')
    assert.equal(s.confirmedBy, 'replay:keepsWorking')
  }
  assert.ok(tc.usdToNumber(card.redundantCostUsd) >= tc.usdToNumber(before.redundantCostUsd))
})

test('a replayer whose outcome changes makes the steps needed; every outcome shape is accepted', () => {
  const t = trace()
  const open = t.compile().unprovenSteps.length
  for (const fail of ['failure', false, { status: 'failure', evidence: [{ verifier: 'unit', passed: false }] }]) {
    const card = t.compile({ replayer: (_c, removed) => (removed.length === 0 ? { status: 'success' } : fail) })
    // every tested step is needed now; a leaf the plan only inferred to fail (its
    // unit failed and so did its other leaves) stays unproven, never redundant
    const rejected = card.steps.filter((s) => s.reason?.startsWith('replay_rejected'))
    assert.ok(rejected.length > 0)
    assert.ok(rejected.every((s) => s.verdict === 'needed'))
    assert.ok(card.unprovenSteps.length < open, `${card.unprovenSteps.length} of ${open} still unproven`)
    assert.equal(card.redundantSteps.filter((s) => s.confirmedBy?.startsWith('replay:')).length, 0)
  }
})

test('replayBudget limits the replays', () => {
  const t = trace()
  for (const budget of [0, 1, 2, 3, 32]) {
    let calls = 0
    const card = t.compile({ replayer: () => (calls++, true), replayBudget: budget })
    assert.ok(card.replaysUsed <= budget, `budget ${budget}: ${card.replaysUsed} replays`)
    assert.ok(calls <= budget)
  }
  const none = t.compile({ replayer: () => true, replayBudget: 0 })
  assert.equal(none.unprovenSteps.length, t.compile().unprovenSteps.length)
})

test("the user's own exception comes back unchanged (sync)", () => {
  class HarnessDown extends Error {}
  const boom = new HarnessDown('harness is down')
  assert.throws(
    () => trace().compile({ replayer: () => { throw boom } }),
    (e) => e === boom,
  )
  // Not an Error at all: still the same value.
  const token = { reason: 'custom' }
  assert.throws(() => trace().compile({ replayer: () => { throw token } }), (e) => e === token)
})

test('a bad answer is TRACECARD_REPLAY; a Promise from a sync compile points to compileAsync', () => {
  assert.throws(() => trace().compile({ replayer: () => 42 }), (e) => e.code === 'TRACECARD_REPLAY')
  assert.throws(() => trace().compile({ replayer: () => 'maybe' }), (e) => e.code === 'TRACECARD_REPLAY' && /maybe/.test(e.message))
  assert.throws(
    () => trace().compile({ replayer: async () => 'success' }),
    (e) => e.code === 'TRACECARD_REPLAY' && /compileAsync/.test(e.message),
  )
})

test('compileAsync: sync and promise-returning replayers, off the main thread', async () => {
  const t = trace()
  const sync = t.compile({ replayer: () => 'success' })
  let ticks = 0
  const timer = setInterval(() => ticks++, 0)
  const card = await t.compileAsync({
    replayer: async (_c, removed) => {
      await new Promise((r) => setTimeout(r, 5))
      return removed.length >= 0
    },
  })
  clearInterval(timer)
  assert.ok(ticks > 0, 'the event loop kept running while compiling')
  assert.deepEqual(
    card.steps.map((s) => s.verdict),
    sync.steps.map((s) => s.verdict),
  )
  const plain = await t.compileAsync({ replayer: () => 'success' })
  assert.equal(plain.replaysUsed, sync.replaysUsed)
  const none = await t.compileAsync()
  assert.ok(none.equals(t.compile()))
})

test("compileAsync: a throw or a rejection rejects with the user's value unchanged", async () => {
  const boom = new TypeError('nope')
  await assert.rejects(trace().compileAsync({ replayer: () => { throw boom } }), (e) => e === boom)
  await assert.rejects(trace().compileAsync({ replayer: async () => { throw boom } }), (e) => e === boom)
  await assert.rejects(trace().compileAsync({ replayer: () => Promise.reject('just a string') }), (e) => e === 'just a string')
  await assert.rejects(trace().compileAsync({ replayer: () => 42 }), (e) => e.code === 'TRACECARD_REPLAY')
  await assert.rejects(trace().compileAsync({ prices: '/nonexistent.json' }), (e) => e.code === 'TRACECARD_IO')
})

test('the tracecard-replay/1 command protocol', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tracecard-'))
  const script = path.join(dir, 'replay.cjs')
  writeFileSync(
    script,
    `let s = ''; process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => {
      const req = JSON.parse(s)
      if (req.protocol !== 'tracecard-replay/1') process.exit(3)
      process.stdout.write(JSON.stringify({ status: 'success', evidence: [{ verifier: 'script', passed: true }] }))
    })`,
  )
  const card = trace().compile({ replayer: { command: `${JSON.stringify(process.execPath)} ${script}`, name: 'script' } })
  assert.ok(card.replaysUsed > 0)
  assert.ok(card.redundantSteps.some((s) => s.confirmedBy === 'replay:script'))
  const broken = trace().compile({ replayer: { command: 'exit 7', timeoutMs: 10000 } })
  assert.ok(broken.warnings.some((w) => /exit|status|7/.test(JSON.stringify(w))), JSON.stringify(broken.warnings))
})
