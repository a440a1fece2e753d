// Recorder: model calls, tool uses and sub-agents recorded from JS, then compiled.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { tc } from './helpers.mjs'

/** A small agent run: one wasted read, one sub-agent whose result is never used. */
function run() {
  const rec = new tc.Recorder('demo')
  rec.userInput('what port does prod use?')
  const plan = rec.llmCall('gpt-4.1-mini', { provider: 'openai' })
  plan.setTokens({ input: 606, output: 22 })
  plan.setOutput('read_file(config/prod.toml); read_file(README.md)')
  plan.end()
  const cfg = rec.toolUse('read_file', { arguments: { path: 'config/prod.toml' }, requestedBy: plan, toolCallId: 'call_1' })
  cfg.reads('config/prod.toml')
  cfg.setResult('port = 8443')
  cfg.end()
  const readme = rec.toolUse('read_file', { arguments: '{"path": "README.md"}', requestedBy: plan.id })
  readme.reads('README.md')
  readme.setResult('hello')
  readme.end()
  const sub = rec.subagent('task', 'explorer', { requestedBy: plan })
  const inner = rec.llmCall('gpt-4.1-mini')
  inner.setTokens({ inputTotal: 100, cacheRead: 50, output: 5 })
  inner.setOutput('nothing')
  inner.end()
  sub.setResult('nothing found', { from: inner })
  sub.end()
  const answer = rec.llmCall('gpt-4.1-mini')
  answer.inContext(cfg)
  answer.inContext(readme)
  answer.consumes(cfg)
  answer.setTokens({ input: 700, output: 10 })
  answer.setOutput('8443')
  answer.end()
  return { rec, plan, cfg, readme, sub, inner, answer }
}

test('record, finish, compile', () => {
  const { rec, plan, cfg, sub, inner, answer } = run()
  assert.equal(rec.length, 7)
  assert.equal(rec.finished, false)
  const trace = rec.finish({ evidence: [{ verifier: 'unit', passed: true }] })
  assert.equal(rec.finished, true)
  assert.equal(trace.outcome, 'success')
  assert.equal(trace.finalStep, answer.id, 'by default the last top-level model call')
  const steps = trace.steps
  assert.equal(steps.find((s) => s.id === cfg.id).toolCallId, 'call_1')
  assert.deepEqual(steps.find((s) => s.id === cfg.id).consumes, [plan.id])
  assert.equal(steps.find((s) => s.id === inner.id).parent, sub.id)
  assert.equal(steps.find((s) => s.id === plan.id).provider, 'openai')
  // Inclusive counts are normalised: 100 in total of which 50 cached.
  assert.equal(steps.find((s) => s.id === inner.id).tokens.input, 50)
  assert.equal(steps.find((s) => s.id === inner.id).tokens.cacheRead, 50)
  assert.equal(steps.find((s) => s.id === cfg.id).input, '{"path":"config/prod.toml"}')

  const card = trace.compile()
  assert.equal(card.step(sub.id).verdict, 'redundant')
  assert.ok(card.step(sub.id).reason)
  assert.equal(card.step(answer.id).verdict, 'needed')
  assert.equal(card.step(plan.id).costUsd, '0.0002776')
  assert.equal(card.tokens.input + card.tokens.cacheRead, 606 + 100 + 700)
  assert.match(card.toYaml(), /verifier: unit/)
})

test('a finished recorder throws TRACECARD_RECORDER_FINISHED', () => {
  const { rec, plan } = run()
  rec.finish({ outcome: 'failure' })
  assert.throws(() => rec.userInput('more'), (e) => e.code === 'TRACECARD_RECORDER_FINISHED')
  assert.throws(() => plan.setOutput('late'), (e) => e.code === 'TRACECARD_RECORDER_FINISHED')
  assert.throws(() => rec.finish(), (e) => e.code === 'TRACECARD_RECORDER_FINISHED')
  assert.equal(rec.trace.outcome, 'failure')
})

test('fail() marks a step failed with the error, and ends it', () => {
  const rec = new tc.Recorder('fails')
  const t = rec.toolUse('bash')
  t.fail(new RangeError('exit 2'))
  const t2 = rec.toolUse('bash')
  t2.fail('just text')
  const steps = rec.finish({ outcome: 'unknown' }).steps
  assert.equal(steps[0].status, 'error')
  assert.equal(steps[0].error, 'RangeError: exit 2')
  assert.equal(steps[1].error, 'just text')
})

test('bad arguments are TRACECARD_INVALID_ARG', () => {
  const rec = new tc.Recorder('bad')
  const c = rec.llmCall('gpt-4.1-mini')
  assert.throws(() => c.setTokens({ input: -1 }), (e) => e.code === 'TRACECARD_INVALID_ARG')
  assert.throws(() => c.setTokens({ output: 1.5 }), (e) => e.code === 'TRACECARD_INVALID_ARG')
  assert.throws(() => c.reportedCost('ten dollars'), (e) => e.code === 'TRACECARD_INVALID_ARG')
  assert.throws(() => rec.finish({ outcome: 'great' }), (e) => e.code === 'TRACECARD_INVALID_ARG')
  assert.throws(() => rec.finish({ evidence: [{ passed: true }] }), (e) => e.code === 'TRACECARD_INVALID_ARG')
})

test('reported costs, attributes, hashing, save and reload', () => {
  const rec = new tc.Recorder('saved', { keepContent: false })
  const c = rec.llmCall('gpt-4.1-mini', { input: 'secret prompt' })
  c.setTokens({ input: 10, output: 1 })
  c.setOutput('secret answer')
  c.reportedCost('0.000123')
  c.setAttribute('team', 'search')
  c.requests(['call_9'])
  c.end()
  rec.reportedCost(c, 0.000124)
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tracecard-')), 'saved.jsonl')
  rec.save(file)
  const back = tc.load(file)
  assert.equal(back.sessionId, 'saved')
  assert.equal(back.steps[0].output ?? null, null, 'keepContent: false keeps hashes only')
  assert.equal(back.steps[0].reportedCostUsd, '0.000124')
  const card = back.compile()
  assert.equal(card.steps[0].reportedCostUsd, '0.000124')
})
