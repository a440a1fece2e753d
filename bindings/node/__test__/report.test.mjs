// PriceTable, report() and card.toHtml().
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { EXAMPLES, REPO, nanos, tc } from './helpers.mjs'

const FIX = path.join(EXAMPLES, 'fix-test.jsonl')

test('PriceTable: bundled, from text, a file; compile takes a table or a path alike', (t) => {
  const b = tc.PriceTable.bundled()
  assert.match(b.name, /^bundled \d{4}-\d{2}-\d{2}$/)
  assert.equal(b.name, `bundled ${tc.PriceTable.bundledAsOf()}`)
  assert.ok(b.length > 10)
  const trace = tc.load(FIX)
  const card = trace.compile({ prices: b })
  assert.ok(card.equals(trace.compile()))
  const model = card.steps.find((s) => s.model).model
  assert.ok(b.pricedAs(model))
  assert.equal(b.pricedAs('no-such-model-xyz'), null)
  assert.equal(b.cost('no-such-model-xyz', { input: 1 }), null)

  // a LiteLLM file that prices the model at $10 / $20 per million tokens
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tracecard-prices-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'prices.json')
  writeFileSync(file, JSON.stringify({ [model]: { input_cost_per_token: 0.00001, output_cost_per_token: 0.00002, litellm_provider: 'openai', mode: 'chat' } }))
  const own = tc.PriceTable.load(file)
  assert.equal(own.length, 1)
  assert.equal(own.cost(model, { input: 3, output: 5 }), '0.00013')
  const viaTable = trace.compile({ prices: tc.PriceTable.withOverride(file) })
  const viaPath = trace.compile({ prices: file })
  assert.equal(viaTable.totalCostUsd, viaPath.totalCostUsd)
  assert.notEqual(viaPath.totalCostUsd, card.totalCostUsd)
  const rec = new tc.Recorder('priced')
  rec.llmCall(model).setTokens({ input: 1234, output: 56 })
  const priced = rec.finish().compile({ prices: own })
  assert.equal(priced.totalCostUsd, '0.01346') // 1234 × 10 + 56 × 20 micro-dollars, exactly
  assert.equal(priced.prices, own.name)
  assert.equal(tc.PriceTable.fromLitellmJson(readFileSync(file, 'utf8')).length, 1)

  writeFileSync(file, '{"m": {"input_cost_per_token": "lots"}}')
  assert.throws(() => tc.PriceTable.load(file), (e) => e.code === 'TRACECARD_PRICING' && e.path === file)
  assert.throws(() => tc.PriceTable.load(path.join(dir, 'none.json')), { code: 'TRACECARD_IO' })
})

test('report(): one session page, an overview for several, written with out', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tracecard-report-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const one = tc.report(FIX)
  assert.match(one, /^<!doctype html>/i)
  assert.match(one, /<title>tracecard report: fix-test<\/title>/)
  assert.equal(tc.report(tc.load(FIX)), one)
  const out = path.join(dir, 'r.html')
  const all = tc.report(EXAMPLES, { out, title: 'six' })
  assert.equal(readFileSync(out, 'utf8'), all)
  assert.match(all, /<title>six<\/title>/)
  assert.ok(!all.includes(REPO), 'no absolute machine paths in the page')
  assert.throws(() => tc.report(path.join(dir, 'none.jsonl')), { code: 'TRACECARD_IO' })
})

test('card.toHtml(): the card as a page, deterministic', () => {
  const card = tc.load(FIX).compile()
  const html = card.toHtml()
  assert.match(html, /^<!doctype html>/i)
  assert.ok(html.includes('fix-test'))
  assert.equal(card.toHtml(), html)
  assert.match(card.toHtml({ title: 'mine' }), /<title>mine<\/title>/)
})
