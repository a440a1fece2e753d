// Loading and compiling: the bundled examples and the real fixtures.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { EXAMPLES, fixture, fixturesRoot, nanos, needFormat, tc } from './helpers.mjs'

const LARGEST = 'claude-code/spotter/fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl'

const NAMED = [
  ['claude_code', LARGEST],
  ['claude_code', 'claude-code/spotter/short.jsonl'],
  ['otlp', 'otlp-real/pydantic-ai/s1_unused_file_read.otlp.json'],
  ['otlp', 'otlp-real/vercel-ai-sdk-v7/s4_clean.otlp.json'],
  ['langfuse', 'langfuse/pydantic-ai-tools-2025-12-04.trace.json'],
  ['codex', 'codex/rollout-2026-02-23T12-40-23-019c8a4c-ed82-79a1-aa28-7738fc5ab61a.jsonl'],
  ['inspect', 'inspect/log_read_sample.eval'],
  ['inspect', 'inspect/log_tool_call_error.json'],
  ['chat_log', 'mini-swe-agent/django__django-12983.deepseek-chat.traj.json'],
  ['swe_agent', 'swe-agent/pydicom__pydicom-1458.gpt4.traj'],
  ['openhands', 'openhands/basic.json'],
]

/** Compile and check the card's invariants; money is exact decimal strings. */
function checkCard(trace) {
  const card = trace.compile()
  assert.equal(card.length, trace.length)
  assert.equal(card.sessionId, trace.sessionId)
  assert.match(card.totalCostUsd, /^-?\d+(\.\d+)?$/)
  const sum = card.steps.reduce((acc, s) => acc + (s.costUsd == null ? 0n : nanos(s.costUsd)), 0n)
  assert.equal(nanos(card.totalCostUsd), sum)
  assert.equal(card.totalCostUsdNumber, tc.usdToNumber(card.totalCostUsd))
  for (const s of card.steps) {
    assert.ok(['needed', 'redundant', 'unproven'].includes(s.verdict), s.verdict)
    assert.equal(s.redundant, s.verdict === 'redundant')
    if (s.verdict !== 'needed') assert.ok(s.reason, `step ${s.id} (${s.verdict}) has a reason`)
  }
  const json = JSON.parse(card.toJson())
  assert.equal(json.session_id, trace.sessionId)
  assert.ok(tc.TraceCard.fromYaml(card.toYaml()).equals(card))
  assert.ok(tc.TraceCard.fromJson(card.toJson()).equals(card))
  return card
}

test('every bundled example trace loads and compiles', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.jsonl'))
  assert.ok(files.length >= 3)
  for (const f of files) {
    const trace = tc.load(path.join(EXAMPLES, f))
    assert.equal(trace.format, 'native')
    assert.ok(trace.length > 0)
    checkCard(trace)
  }
})

test('examples: config-question flags the unused read as unproven, replay decides', () => {
  const trace = tc.load(path.join(EXAMPLES, 'config-question.jsonl'))
  const card = trace.compile()
  assert.ok(card.unprovenSteps.length > 0)
  assert.equal(card.replaysUsed, null)
})

test('loads() takes a string or a Buffer and matches load()', () => {
  const p = path.join(EXAMPLES, 'fix-test.jsonl')
  const a = tc.load(p)
  const b = tc.loads(readFileSync(p, 'utf8'))
  const c = tc.loads(readFileSync(p), { format: 'native', name: 'fix-test.jsonl' })
  assert.equal(b.sessionId, a.sessionId)
  assert.equal(c.sessionId, a.sessionId)
  // Same card but for the source file names.
  const [ca, cb] = [a.compile(), b.compile()]
  assert.equal(cb.totalCostUsd, ca.totalCostUsd)
  assert.deepEqual(cb.steps, ca.steps)
  assert.equal(tc.loadsAll(readFileSync(p)).length, 1)
})

test('trace accessors', () => {
  const trace = tc.load(path.join(EXAMPLES, 'agent-3.jsonl'))
  const steps = trace.steps
  assert.equal(steps.length, trace.length)
  assert.deepEqual(trace.step(steps[0].id).id, steps[0].id)
  assert.equal(trace.step(999999), null)
  assert.ok(trace.totalTokens.total >= 0)
  assert.ok(Array.isArray(trace.warnings))
  const jsonl = trace.toJsonl()
  assert.equal(tc.loads(jsonl).sessionId, trace.sessionId)
  assert.equal(trace.without([steps[steps.length - 1].id]).length, trace.length - 1)
  trace.validate()
  assert.equal(trace.redacted().steps.every((s) => s.output == null), true)
})

test('formats, detect, discover', () => {
  const formats = tc.formats()
  for (const f of ['native', 'claude_code', 'otlp']) assert.ok(formats.includes(f), f)
  assert.equal(tc.detect(path.join(EXAMPLES, 'fix-test.jsonl')), 'native')
  const found = tc.discover(EXAMPLES)
  assert.ok(found.length >= 3)
  assert.deepEqual([...found].sort(), found)
})

test('prices: a LiteLLM price file layered over the bundled table', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tracecard-'))
  const lite = path.join(dir, 'litellm.json')
  writeFileSync(
    lite,
    JSON.stringify({
      'gpt-4.1-mini': { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, litellm_provider: 'openai' },
    }),
  )
  const rec = new tc.Recorder('prices')
  const c = rec.llmCall('gpt-4.1-mini')
  c.setTokens({ input: 1000, output: 10 })
  c.end()
  const trace = rec.finish()
  assert.match(trace.compile().prices, /^bundled /)
  const card = trace.compile({ prices: lite })
  assert.ok(card.prices.includes(lite))
  assert.equal(card.steps[0].costUsd, '0.00102')
  assert.equal(card.totalCostUsd, '0.00102')
})

for (const [fmt, rel] of NAMED) {
  test(`fixture ${rel} (${fmt})`, (t) => {
    const root = fixturesRoot(t)
    if (!root) return
    const p = fixture(root, rel)
    needFormat(fmt)
    assert.equal(tc.detect(p), fmt)
    const traces = tc.loadAll(p)
    assert.ok(traces.length > 0)
    for (const trace of traces) {
      assert.equal(trace.format, fmt)
      checkCard(trace)
    }
    if (traces.length === 1) {
      assert.equal(tc.load(p, { format: fmt }).sessionId, traces[0].sessionId)
    }
  })
}

test('largest fixture: sub-agents and a positive cost; compileAsync gives the same card', async (t) => {
  const root = fixturesRoot(t)
  if (!root) return
  needFormat('claude_code')
  const trace = tc.load(fixture(root, LARGEST))
  const card = checkCard(trace)
  assert.ok(nanos(card.totalCostUsd) > 0n)
  const spawns = trace.steps.filter((s) => s.kind === 'subagent_spawn')
  assert.ok(spawns.length > 0, 'the spotter session runs sub-agents')
  assert.ok(trace.steps.some((s) => s.parent === spawns[0].id))
  const again = await trace.compileAsync()
  assert.ok(again.equals(card))
})
