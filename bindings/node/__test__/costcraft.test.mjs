// costcraft from Node on the bundled example traces: distill, checkRules, evaluate,
// and their errors (mirrors bindings/python/tests/test_costcraft.py).
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { EXAMPLES, nanos, tc } from './helpers.mjs'

const scratch = (t) => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tracecard-node-'))
  t.after(() => rmSync(d, { recursive: true, force: true }))
  return d
}

test('distill the example traces: rules, patches, skill, report, files', (t) => {
  const d = tc.distill(EXAMPLES, { policy: { allowBackfire: 'all', skillName: 'example-rules' } })
  assert.ok(d instanceof tc.Distillation)
  const rules = d.rules
  assert.equal(rules.schema_version, 'costcraft-rules/1')
  assert.equal(rules.corpus.sessions, 6)
  assert.equal(d.ruleCount, rules.rules.length)
  assert.ok(d.ruleCount > 0)
  assert.deepEqual(d.ruleIds, rules.rules.map((r) => r.id))
  for (const r of rules.rules) {
    assert.ok(['prune', 'repair', 'preserve'].includes(r.action), r.action)
    // money is an exact decimal string, and a rule's total is the sum of its evidence
    assert.match(r.savings.total_usd, /^\d+(\.\d+)?$/)
    for (const e of r.evidence.supporting) assert.ok(existsSync(path.join(EXAMPLES, `${e.session_id}.jsonl`)))
  }
  const kept = d.patches.kept
  assert.ok(kept.length > 0)
  assert.ok(kept.filter((p) => p.patch_kind === 'prune').every((p) => p.confirmed_by === 'dataflow'))
  assert.equal(d.skillName, 'example-rules')
  assert.match(d.skillMd, /^---\nname: example-rules\n/)
  assert.match(d.reportMd, /Distillation report/)
  assert.match(d.rulesYaml(), /^schema_version: costcraft-rules\/1/)
  assert.match(d.patchesYaml(), /kept:/)
  assert.equal(d.cards.length, 6)
  assert.ok(d.cards.every((c) => c instanceof tc.TraceCard))

  const out = path.join(scratch(t), 'out')
  d.write(out)
  for (const f of ['rules.yaml', 'patches.yaml', 'REPORT.md', 'example-rules/SKILL.md']) {
    assert.ok(existsSync(path.join(out, f)), f)
  }
  assert.equal(readFileSync(path.join(out, 'example-rules', 'SKILL.md'), 'utf8'), d.skillMd)
  assert.equal(readFileSync(path.join(out, 'rules.yaml'), 'utf8'), d.rulesYaml())
})

test('distill takes Traces and outcome records; unknown sessions become notes', () => {
  const traces = ['fix-test', 'todo-audit', 'agent-7', 'agent-3', 'agent-11', 'config-question']
    .flatMap((n) => tc.loadAll(path.join(EXAMPLES, `${n}.jsonl`)))
  const d = tc.distill(traces, {
    outcomes: [
      { sessionId: 'fix-test', status: 'failure', evidence: [{ verifier: 'pytest', passed: false, message: 'test_add failed' }] },
      { sessionId: 'ghost', status: 'success' },
    ],
    policy: { allow_backfire: 'all' },
  })
  assert.ok(d.notes.some((n) => n.includes('ghost')), d.notes)
  assert.ok((d.rules.corpus.outcomes.failure ?? 0) >= 1)
  const repairs = d.patches.kept.filter((p) => p.patch_kind === 'repair')
  assert.ok(repairs.some((p) => p.session_id === 'fix-test' && (p.fix ?? '').includes('test_add failed')), JSON.stringify(repairs))
})

test('a bad outcomes line is TRACECARD_COSTCRAFT_PARSE with path and line', (t) => {
  const f = path.join(scratch(t), 'outcomes.jsonl')
  writeFileSync(f, '{"session_id": "agent-7", "status": "success"}\n{"session_id": "agent-7", "status": "maybe"}\n')
  assert.throws(() => tc.distill(EXAMPLES, { outcomes: f, policy: { allowBackfire: 'all' } }), (e) => {
    assert.equal(e.code, 'TRACECARD_COSTCRAFT_PARSE')
    assert.equal(e.kind, 'parse')
    assert.equal(e.path, f)
    assert.equal(e.line, 2)
    return true
  })
})

test('a backfire guard refuses to distil (TRACECARD_BACKFIRE, guards) unless allowed', () => {
  const short = [path.join(EXAMPLES, 'agent-7.jsonl'), path.join(EXAMPLES, 'config-question.jsonl')]
  assert.throws(() => tc.distill(short), (e) => {
    assert.equal(e.code, 'TRACECARD_BACKFIRE')
    assert.ok(e.guards.some((g) => g.includes('short-sessions')), e.guards)
    return true
  })
  const d = tc.distill(short, { policy: { allowBackfire: ['short-sessions', 'no-oracle'] } })
  assert.ok(d.rules.backfire.some((w) => w.guard === 'short-sessions'))
  assert.ok(d.cards.some((c) => c.warnings.some((w) => w.code === 'backfire_short_sessions')))
  assert.throws(() => tc.distill(short, { policy: { allowBackfire: ['nope'] } }), { code: 'TRACECARD_INVALID_ARG' })
  assert.throws(() => tc.distill(short, { policy: { noSuchField: 1 } }), { code: 'TRACECARD_INVALID_ARG' })
})

test('requireReplay refuses dataflow-only prunes', () => {
  const d = tc.distill(EXAMPLES, { policy: { allowBackfire: 'all', requireReplay: true } })
  assert.ok(d.patches.refused.some((r) => r.refusal.reason === 'prune_not_replayed'))
  assert.equal(d.patches.kept.filter((p) => p.patch_kind === 'prune').length, 0)
})

test('checkRules: every rule, in order, with exact money; errors name the file', (t) => {
  const dir = scratch(t)
  const d = tc.distill(EXAMPLES, { policy: { allowBackfire: 'all' } })
  d.write(dir)
  const report = tc.checkRules(path.join(dir, 'rules.yaml'), EXAMPLES)
  assert.equal(report.sessions, 6)
  assert.deepEqual(report.rules.map((r) => r.id), d.ruleIds)
  for (const r of report.rules) {
    assert.equal(typeof r.firedOnNeeded, 'number')
    assert.equal(r.shrank, nanos(r.nowPerSessionUsd) < nanos(r.baselinePerSessionUsd))
    for (const f of r.fired) {
      assert.equal(typeof f.sessionId, 'string')
      assert.match(f.costUsd, /^\d+(\.\d+)?$/)
    }
  }
  assert.ok(report.rules.some((r) => r.fired.length > 0))
  assert.throws(() => tc.checkRules(path.join(dir, 'none.yaml'), EXAMPLES), { code: 'TRACECARD_IO', ioCode: 'ENOENT' })
  writeFileSync(path.join(dir, 'bad.yaml'), 'schema_version: costcraft-rules/0\n')
  assert.throws(() => tc.checkRules(path.join(dir, 'bad.yaml'), EXAMPLES), (e) => {
    assert.equal(e.code, 'TRACECARD_COSTCRAFT_PARSE')
    assert.equal(e.path, path.join(dir, 'bad.yaml'))
    return true
  })
})

test('evaluate: the same runs pair up with no change; lanes from active rules', () => {
  const e = tc.evaluate(EXAMPLES, EXAMPLES)
  assert.equal(e.pairs.length, 6)
  assert.equal(e.regressions, 0)
  assert.equal(e.recoveries, 0)
  assert.equal(e.medianCostChangeUsd, '0')
  assert.deepEqual(e.medianCostChangeCiUsd, ['0', '0'])
  assert.equal(e.baseline.totalCostUsd, e.treated.totalCostUsd)
  assert.equal(e.ablation, undefined)
  // the baseline arm's total is the sum of the cards' totals, exactly
  const sum = ['agent-11', 'agent-3', 'agent-7', 'config-question', 'fix-test', 'todo-audit']
    .map((n) => nanos(tc.load(path.join(EXAMPLES, `${n}.jsonl`)).compile().totalCostUsd))
    .reduce((a, b) => a + b, 0n)
  assert.equal(nanos(e.baseline.totalCostUsd), sum)

  const base = JSON.parse(tc.load(path.join(EXAMPLES, 'fix-test.jsonl')).toJson())
  const lanes = ['prune-a,repair-b', 'repair-b'].map((rules, i) =>
    tc.loads(JSON.stringify({ ...base, session_id: `fix-test-${i}`, metadata: { ...(base.metadata ?? {}), task_id: 'fix-test', 'costcraft.active_rules': rules } })),
  )
  const b = tc.loads(JSON.stringify({ ...base, metadata: { ...(base.metadata ?? {}), task_id: 'fix-test' } }))
  const e2 = tc.evaluate(b, lanes)
  assert.deepEqual((e2.ablation ?? []).map((l) => l.lane), ['all rules', 'without prune'], JSON.stringify(e2))
})
