// Real client, offline: the Vercel AI SDK 6 (`generateText` with its built-in
// telemetry) on its own mock language model (`MockLanguageModelV3` from `ai/test`)
// with real tools; spans go through tracecard/otel and the card is checked.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { generateText, stepCountIs, tool } from 'ai'
import { MockLanguageModelV3 } from 'ai/test'
import { z } from 'zod'

import { TracecardSpanExporter, TracecardSpanProcessor } from '../otel.js'
import { tc } from './helpers.mjs'

// What NodeTracerProvider.register() sets up: spans started inside a span's callback are its children.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())

const FILES = { 'Cargo.toml': '[package]\nname = "ledgerd"\nversion = "0.3.0"\n', 'src/main.rs': 'fn main() { ledgerd::run() }\n' }

// What the mock reports per model call: [fresh input, cache read, output].
const USAGE = [
  [900, 0, 40],
  [1000, 0, 35],
  [1100, 0, 30],
]

function usage([input, cacheRead, output]) {
  return {
    inputTokens: { total: input + cacheRead, noCache: input, cacheRead, cacheWrite: 0 },
    outputTokens: { total: output, text: output, reasoning: 0 },
  }
}

/** A scripted model: read Cargo.toml, read it again (the waste), then answer from it. */
function scriptedModel() {
  let turn = 0
  const call = (id, path) => ({ type: 'tool-call', toolCallId: id, toolName: 'read_file', input: JSON.stringify({ path }) })
  return new MockLanguageModelV3({
    provider: 'openai.chat',
    modelId: 'gpt-4.1-mini',
    doGenerate: async (options) => {
      const i = turn++
      const base = { finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage: usage(USAGE[i]), warnings: [], response: { id: `chatcmpl-${i}`, modelId: 'gpt-4.1-mini-2025-04-14', timestamp: new Date(0) } }
      if (i === 0) return { ...base, content: [call('call_aaaaaaaaaaaaaaaaaaaaaaa1', 'Cargo.toml')] }
      if (i === 1) return { ...base, content: [call('call_aaaaaaaaaaaaaaaaaaaaaaa2', 'Cargo.toml')] }
      // the answer quotes what the tool returned
      const last = JSON.stringify(options.prompt.at(-1))
      const version = /version = \\"([^\\]+)\\"/.exec(last)?.[1] ?? 'unknown'
      return { ...base, finishReason: { unified: 'stop', raw: 'stop' }, content: [{ type: 'text', text: `ledgerd is at version ${version}.` }] }
    },
  })
}

const readFile = tool({
  description: 'Read a file of the repository',
  inputSchema: z.object({ path: z.string() }),
  execute: async ({ path }) => FILES[path] ?? `no such file: ${path}`,
})

async function run(processor) {
  const provider = new BasicTracerProvider({ spanProcessors: [processor] })
  const tracer = provider.getTracer('repo-helper')
  const result = await generateText({
    model: scriptedModel(),
    tools: { read_file: readFile },
    stopWhen: stepCountIs(5),
    prompt: 'Which version is ledgerd at?',
    experimental_telemetry: { isEnabled: true, tracer, functionId: 'repo-helper', metadata: { sessionId: 'ai-sdk-6-dup' } },
  })
  await provider.forceFlush()
  return result
}

test('AI SDK 6 spans -> TracecardSpanProcessor -> one card: steps, exact tokens, the duplicate read flagged', async () => {
  const processor = new TracecardSpanProcessor()
  const result = await run(processor)
  assert.equal(result.text, 'ledgerd is at version 0.3.0.')
  const names = new Set(processor.exporter.spans().map((s) => s.name))
  for (const n of ['ai.generateText', 'ai.generateText.doGenerate', 'ai.toolCall']) assert.ok(names.has(n), `no ${n} span: ${[...names]}`)

  const traces = processor.traces()
  assert.equal(traces.length, 1)
  const [card] = processor.cards()
  assert.equal(card.format, 'otlp')
  const llm = card.steps.filter((s) => s.kind === 'llm_call')
  const tools = card.steps.filter((s) => s.kind === 'tool_use')
  // three model calls (the doGenerate leaves; the ai.generateText parent is not a fourth)
  assert.equal(llm.length, 3)
  assert.deepEqual(tools.map((s) => s.tool), ['read_file', 'read_file'])
  assert.ok(llm.every((s) => s.model.startsWith('gpt-4.1-mini')), llm.map((s) => s.model))
  // tokens: exactly what the mock reported, summed once (the parent span repeats the totals)
  const sum = (k) => USAGE.reduce((a, u) => a + u[k], 0)
  assert.equal(card.tokens.input, sum(0))
  assert.equal(card.tokens.cacheRead, sum(1))
  assert.equal(card.tokens.output, sum(2))
  assert.deepEqual(llm.map((s) => [s.tokens.input, s.tokens.output]), USAGE.map((u) => [u[0], u[2]]))
  // the second, identical read is the waste; the first one is needed
  assert.equal(tools[0].verdict, 'needed')
  assert.equal(tools[1].verdict, 'redundant', JSON.stringify(tools[1]))
  assert.ok(tools[1].reason)
  assert.deepEqual(card.redundantSteps.map((s) => s.id).filter((id) => tools.some((t) => t.id === id)), [tools[1].id])
  // priced with the bundled table, exactly: each step's cost is a decimal string
  assert.ok(llm.every((s) => /^\d+\.\d+$/.test(s.costUsd)))
})

test('the exporter through a SpanExporter contract gives the same card as the processor', async () => {
  const exporter = new TracecardSpanExporter()
  const forwarded = []
  // a minimal SimpleSpanProcessor stand-in calling export() the way the SDK does
  const processor = { onStart() {}, onEnd: (s) => exporter.export([s], (r) => forwarded.push(r.code)), forceFlush: () => exporter.forceFlush(), shutdown: () => exporter.shutdown() }
  await run(processor)
  assert.ok(forwarded.length > 0 && forwarded.every((c) => c === 0))
  const [card] = exporter.cards()
  const otlp = exporter.otlp()
  // the OTLP/JSON document is what `tracecard compile` reads: the same card from text
  const again = tc.loads(exporter.otlpJson(), { format: 'otlp' }).compile()
  assert.equal(again.totalCostUsd, card.totalCostUsd)
  assert.equal(otlp.resourceSpans[0].scopeSpans[0].scope.name, 'repo-helper')
  exporter.clear()
  assert.deepEqual(exporter.traces(), [])
  await exporter.shutdown()
  let code
  exporter.export([], (r) => { code = r.code })
  assert.equal(code, 1)
})
