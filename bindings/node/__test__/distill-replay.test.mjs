// distill / distillAsync with a replayer: a real one (the ops-agent re-runs its own
// session without the removed steps, speaking tracecard-replay/1) as a command, as a
// sync JS function and as an async one, all giving the CLI's rules and patches
// byte for byte; and the Python package's behaviour on the example traces
// (bindings/python/tests/test_costcraft.py: prunes confirmed by replay, the
// replayer's exception unchanged).
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { before, test } from 'node:test'

import { EXAMPLES, REPO, tc } from './helpers.mjs'

const BIN = path.join(REPO, 'target', 'debug')
const OPS = path.join(BIN, 'ops-agent')
const CLI = path.join(BIN, 'tracecard')
const POLICY = { allowBackfire: 'all' }
const BUDGET = 12
let dir

before(() => {
  // The real replayer and the CLI to compare with; the test profile (target/debug),
  // so that after `make test-rust` (cargo test --all-targets) this is a no-op.
  execFileSync(process.env.CARGO || 'cargo', ['build', '--locked', '-q', '--profile', 'test', '-p', 'ops-agent', '-p', 'tracecard-cli'], {
    cwd: REPO,
    stdio: 'inherit',
  })
  dir = mkdtempSync(path.join(os.tmpdir(), 'tracecard-distill-'))
  execFileSync(OPS, ['gen', '--seed-start', '10000', '--count', '3', '--out', path.join(dir, 'sessions')])
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
})

/** The tracecard-replay/1 request for a candidate (what the core's command replayer sends). */
const request = (candidate, removed) =>
  JSON.stringify({ protocol: 'tracecard-replay/1', session_id: candidate.sessionId, format: 'native', remove: removed.map((step) => ({ step })) })

function replayed(stdout) {
  const r = JSON.parse(stdout)
  assert.ok(['success', 'failure'].includes(r.status))
  return r
}

test('distill with the ops-agent as replayer: command, sync and async JS functions, and the CLI agree', async () => {
  const sessions = path.join(dir, 'sessions')
  const cliOut = path.join(dir, 'cli')
  execFileSync(CLI, ['distill', sessions, '-o', cliOut, '--replayer', `${OPS} replay`, '--replay-budget', String(BUDGET), '--allow-backfire', 'all'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })

  const byCommand = tc.distill(sessions, { replayer: { command: `${OPS} replay` }, replayBudget: BUDGET, policy: POLICY })
  assert.equal(byCommand.rulesYaml(), readFileSync(path.join(cliOut, 'rules.yaml'), 'utf8'))
  assert.equal(byCommand.patchesYaml(), readFileSync(path.join(cliOut, 'patches.yaml'), 'utf8'))
  const prunes = byCommand.patches.kept.filter((p) => p.patch_kind === 'prune')
  assert.ok(prunes.some((p) => p.confirmed_by.startsWith('replay:')), 'no prune confirmed by replay')
  const cards = byCommand.cards
  assert.equal(cards.length, 3)
  assert.ok(cards.every((c) => c.replaysUsed > 0 && c.replaysUsed <= BUDGET))

  // The same replayer as JS functions named like the command's replayer.
  const name = prunes.find((p) => p.confirmed_by.startsWith('replay:')).confirmed_by.slice('replay:'.length)
  let calls = 0
  const sync = {
    [name](candidate, removed) {
      calls++
      assert.ok(candidate instanceof tc.Trace)
      return replayed(execFileSync(OPS, ['replay'], { input: request(candidate, removed) }).toString())
    },
  }[name]
  const bySync = tc.distill(sessions, { replayer: sync, replayBudget: BUDGET, policy: POLICY })
  assert.equal(calls, cards.reduce((n, c) => n + c.replaysUsed, 0))
  assert.equal(bySync.rulesYaml(), byCommand.rulesYaml())
  assert.equal(bySync.patchesYaml(), byCommand.patchesYaml())

  const async = {
    [name](candidate, removed) {
      return new Promise((resolve, reject) => {
        const child = spawn(OPS, ['replay'])
        let out = ''
        child.stdout.on('data', (d) => (out += d))
        child.on('error', reject)
        child.on('close', (code) => (code === 0 ? resolve(replayed(out)) : reject(new Error(`ops-agent exit ${code}`))))
        child.stdin.end(request(candidate, removed))
      })
    },
  }[name]
  const byAsync = await tc.distillAsync(sessions, { replayer: async, replayBudget: BUDGET, policy: POLICY })
  assert.ok(byAsync instanceof tc.Distillation)
  assert.equal(byAsync.rulesYaml(), byCommand.rulesYaml())
  assert.equal(byAsync.patchesYaml(), byCommand.patchesYaml())

  // Without a replayer the prunes rest on dataflow only.
  const plain = tc.distill(sessions, { policy: POLICY })
  assert.ok(plain.patches.kept.filter((p) => p.patch_kind === 'prune').every((p) => p.confirmed_by === 'dataflow'))
})

test('as in Python: a replayer confirms the prunes requireReplay asks for', () => {
  const calls = []
  const d = tc.distill(path.join(EXAMPLES, 'todo-audit.jsonl'), {
    replayer: function harness(_trace, removed) {
      calls.push(removed)
      return 'success'
    },
    policy: { requireReplay: true, allowBackfire: 'all' },
  })
  assert.ok(calls.length > 0, 'the replayer was never called')
  assert.deepEqual(calls[0], [], 'the first call is the baseline')
  const prunes = d.patches.kept.filter((p) => p.patch_kind === 'prune')
  assert.ok(prunes.length > 0 && prunes.every((p) => p.confirmed_by === 'replay:harness'))
  // Without one, requireReplay refuses them.
  const refused = tc.distill(path.join(EXAMPLES, 'todo-audit.jsonl'), { policy: { requireReplay: true, allowBackfire: 'all' } })
  assert.equal(refused.patches.kept.filter((p) => p.patch_kind === 'prune').length, 0)
  assert.ok(refused.patches.refused.some((r) => r.refusal.reason === 'prune_not_replayed'))
})

test("as in Python: the replayer's exception comes back unchanged (distill and distillAsync)", async () => {
  class Boom extends Error {}
  const boom = new Boom('no sandbox')
  const file = path.join(EXAMPLES, 'todo-audit.jsonl')
  assert.throws(() => tc.distill(file, { replayer: () => { throw boom }, policy: POLICY }), (e) => e === boom)
  await assert.rejects(tc.distillAsync(file, { replayer: async () => { throw boom }, policy: POLICY }), (e) => e === boom)
  assert.throws(
    () => tc.distill(file, { replayer: async () => 'success', policy: POLICY }),
    (e) => e.code === 'TRACECARD_REPLAY' && /distillAsync/.test(e.message),
  )
  // Bad options reject the Promise, as compileAsync does; costcraft errors keep their codes.
  await assert.rejects(tc.distillAsync(file, { prices: '/nonexistent.json' }), (e) => e.code === 'TRACECARD_IO')
  const short = [path.join(EXAMPLES, 'agent-7.jsonl'), path.join(EXAMPLES, 'config-question.jsonl')]
  await assert.rejects(tc.distillAsync(short), (e) => e.code === 'TRACECARD_BACKFIRE' && e.guards.length > 0)
})
