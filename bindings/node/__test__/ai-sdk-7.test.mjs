// Real client, offline: the Vercel AI SDK 7 (`ai7` = npm:ai@7, which declares
// Node >= 22 but runs on the Node 20 here) with @ai-sdk/otel's OpenTelemetry
// integration (GenAI span names: `invoke_agent`, `chat`, `execute_tool`) and its
// mock language model; spans through tracecard/otel, card checked.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { OpenTelemetry } from '@ai-sdk/otel'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { generateText, registerTelemetry, stepCountIs, tool } from 'ai7'
import { MockLanguageModelV4 } from 'ai7/test'
import { z } from 'zod'

import { TracecardSpanProcessor } from '../otel.js'

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())

// [fresh input, cache read, output] per model call; the third call hits the cache
const USAGE = [
  [900, 0, 40],
  [1000, 0, 35],
  [76, 1024, 30],
]

test('AI SDK 7 + @ai-sdk/otel spans -> one card: GenAI names, exact tokens, the duplicate read flagged', async () => {
  const processor = new TracecardSpanProcessor()
  const provider = new BasicTracerProvider({ spanProcessors: [processor] })
  registerTelemetry(new OpenTelemetry({ tracer: provider.getTracer('repo-helper') }))
  let turn = 0
  const usage = ([i, c, o]) => ({ inputTokens: { total: i + c, noCache: i, cacheRead: c, cacheWrite: 0 }, outputTokens: { total: o, text: o, reasoning: 0 } })
  const call = (id) => ({ type: 'tool-call', toolCallId: id, toolName: 'read_file', input: '{"path":"Cargo.toml"}' })
  const model = new MockLanguageModelV4({
    provider: 'openai.chat',
    modelId: 'gpt-4.1-mini',
    doGenerate: async () => {
      const i = turn++
      const base = { finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage: usage(USAGE[i]), warnings: [], response: { id: `chatcmpl-${i}`, modelId: 'gpt-4.1-mini-2025-04-14', timestamp: new Date(0) } }
      if (i < 2) return { ...base, content: [call(`call_${i}`)] }
      return { ...base, finishReason: { unified: 'stop', raw: 'stop' }, content: [{ type: 'text', text: 'ledgerd is at 0.3.0.' }] }
    },
  })
  const ran = []
  const readFile = tool({
    description: 'Read a file',
    inputSchema: z.object({ path: z.string() }),
    execute: async ({ path }) => {
      ran.push(path)
      return '[package]\nname = "ledgerd"\nversion = "0.3.0"\n'
    },
  })
  const r = await generateText({ model, tools: { read_file: readFile }, stopWhen: stepCountIs(5), prompt: 'Which version is ledgerd at?', telemetry: { isEnabled: true, functionId: 'repo-helper' } })
  await provider.forceFlush()
  assert.equal(r.text, 'ledgerd is at 0.3.0.')
  assert.deepEqual(ran, ['Cargo.toml', 'Cargo.toml'])
  const names = processor.exporter.spans().map((s) => s.name)
  for (const p of ['invoke_agent', 'chat', 'execute_tool']) assert.ok(names.some((n) => n.startsWith(p)), `no ${p} span: ${names}`)

  assert.equal(processor.traces().length, 1)
  const [card] = processor.cards()
  const llm = card.steps.filter((s) => s.kind === 'llm_call')
  const tools = card.steps.filter((s) => s.kind === 'tool_use')
  assert.equal(llm.length, 3, 'invoke_agent and the step spans repeat usage; only the chat leaves count')
  assert.deepEqual(llm.map((s) => [s.tokens.input, s.tokens.cacheRead, s.tokens.output]), USAGE)
  assert.equal(card.tokens.input, 1976)
  assert.equal(card.tokens.cacheRead, 1024)
  assert.equal(card.tokens.output, 105)
  assert.deepEqual(tools.map((s) => [s.tool, s.verdict]), [['read_file', 'needed'], ['read_file', 'redundant']])
})
