// The guard wrapped around real AI SDK 6 tools, driven by its mock model: the
// repeated read is denied before `execute`, and the model sees the denial reason.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { generateText, stepCountIs, tool } from 'ai'
import { MockLanguageModelV3 } from 'ai/test'
import { z } from 'zod'

import { RECORDER, guardTools } from '../ai.js'
import { EXAMPLES, tc } from './helpers.mjs'

test('guardTools: a call a rule denies never runs; the tool returns the reason to the model', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tracecard-ai-guard-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  tc.distill(EXAMPLES, { policy: { allowBackfire: 'all', minPruneTasks: 1 } }).write(dir)
  const guard = tc.Guard.load(path.join(dir, 'rules.yaml'))

  const ran = []
  const tools = {
    read_file: tool({
      description: 'Read a file',
      inputSchema: z.object({ path: z.string() }),
      execute: async ({ path: p }) => {
        ran.push(p)
        return p === 'cfg.toml' ? 'port = 6432' : `no such file: ${p}`
      },
    }),
  }
  const decisions = []
  const guarded = guardTools(tools, guard, { onDecision: (name, input, d) => decisions.push([name, input.path, d.allowed]) })

  let turn = 0
  const usage = { inputTokens: { total: 100, noCache: 100, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 10, text: 10, reasoning: 0 } }
  const prompts = []
  const model = new MockLanguageModelV3({
    doGenerate: async (o) => {
      prompts.push(o.prompt)
      const i = turn++
      const read = (id) => ({ type: 'tool-call', toolCallId: id, toolName: 'read_file', input: '{"path":"cfg.toml"}' })
      if (i < 2) return { content: [read(`call_${i}`)], finishReason: { unified: 'tool-calls', raw: undefined }, usage, warnings: [] }
      return { content: [{ type: 'text', text: 'The port is 6432.' }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] }
    },
  })
  const r = await generateText({ model, tools: guarded, stopWhen: stepCountIs(5), prompt: 'Which port?' })
  assert.equal(r.text, 'The port is 6432.')
  assert.deepEqual(ran, ['cfg.toml'], 'the second, identical read must not run')
  assert.deepEqual(decisions, [['read_file', 'cfg.toml', true], ['read_file', 'cfg.toml', false]])
  // the third model call sees the denial as the second call's tool result
  const lastTool = prompts[2].filter((m) => m.role === 'tool').at(-1)
  assert.match(JSON.stringify(lastTool), /Denied by tracecard guard: prune-read-file-repeat-of-success-[0-9a-f]+: /)
  // the wrapper's recorder holds the call that ran, not the denied one
  const trace = guarded[RECORDER].trace
  assert.deepEqual(trace.steps.map((s) => [s.kind, s.tool]), [['tool_use', 'read_file']])
  assert.equal(trace.steps[0].output, 'port = 6432')
})

test('guardTools: a throwing tool is recorded as failed and the error comes back unchanged', async () => {
  const guard = { check: () => ({ allowed: true, reason: 'no rule names this tool' }) }
  const boom = new Error('disk on fire')
  const guarded = guardTools({ rm: { description: 'x', execute: async () => { throw boom } }, plain: { description: 'no execute' } }, guard)
  await assert.rejects(guarded.rm.execute({ path: 'a' }, { toolCallId: 'c1' }), (e) => e === boom)
  assert.equal(guarded.plain.description, 'no execute')
  const [step] = guarded[RECORDER].trace.steps
  assert.equal(step.status, 'error')
  assert.match(step.error, /disk on fire/)
})
