// The tracecard guard wrapped around Vercel AI SDK tools. Rules are distilled from
// the bundled example traces (costcraft), then an AI SDK agent loop runs on the
// SDK's own mock model (no network) with its tools wrapped by `guardTools`: the
// model reads cfg.toml twice; the guard denies the second, identical read before
// `execute` runs, and the model gets the denial reason as the tool result.
//
//   make -C bindings/node build && node examples/node/guard_ai_sdk.mjs
// (needs the dev dependencies of bindings/node: `ai`, `zod`; `make -C bindings/node setup`)
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { Guard, distill } from '../../bindings/node/index.mjs'
import { guardTools } from '../../bindings/node/ai.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(path.join(HERE, '../../bindings/node/package.json'))
const { generateText, stepCountIs, tool } = require('ai')
const { MockLanguageModelV3 } = require('ai/test')
const { z } = require('zod')

// 1. rules: costcraft on the example traces (one task per rule there, so minPruneTasks 1)
const dir = mkdtempSync(path.join(os.tmpdir(), 'tracecard-guard-example-'))
try {
  distill(path.join(HERE, '../traces'), { policy: { allowBackfire: 'all', minPruneTasks: 1 } }).write(dir)
  const guard = Guard.load(path.join(dir, 'rules.yaml'))
  console.log(`guard: ${guard.ruleIds.length} enforceable rule(s): ${guard.ruleIds.join(', ')}`)

  // 2. real AI SDK tools, wrapped
  const tools = guardTools(
    {
      read_file: tool({
        description: 'Read a file',
        inputSchema: z.object({ path: z.string() }),
        execute: async ({ path: p }) => {
          console.log(`  execute read_file(${p})`)
          return p === 'cfg.toml' ? 'port = 6432' : `no such file: ${p}`
        },
      }),
    },
    guard,
    { onDecision: (name, input, d) => console.log(`  guard ${name}(${input.path}): ${d.allowed ? 'allow' : 'DENY'} (${d.reason.slice(0, 90)}…)`) },
  )

  // 3. a scripted model: read cfg.toml, read it again, answer
  let turn = 0
  const usage = { inputTokens: { total: 500, noCache: 500, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 20, text: 20, reasoning: 0 } }
  const model = new MockLanguageModelV3({
    doGenerate: async () => {
      const i = turn++
      if (i < 2) return { content: [{ type: 'tool-call', toolCallId: `call_${i}`, toolName: 'read_file', input: '{"path":"cfg.toml"}' }], finishReason: { unified: 'tool-calls', raw: undefined }, usage, warnings: [] }
      return { content: [{ type: 'text', text: 'The port is 6432.' }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] }
    },
  })
  const r = await generateText({ model, tools, stopWhen: stepCountIs(5), prompt: 'Which port?' })
  const denied = r.steps.flatMap((s) => s.toolResults).filter((t) => String(t.output).startsWith('Denied'))
  console.log(`answer: ${r.text}`)
  console.log(`tool calls: ${r.steps.flatMap((s) => s.toolCalls).length}, denied: ${denied.length}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
