'use strict'
// tracecard/ai: ask a tracecard Guard before each Vercel AI SDK tool runs.
//
// guardTools(tools, guard) returns the same tools with `execute` wrapped: the
// guard decides from what ran before in this run (a Recorder the wrapper feeds with
// every tool call that ran, or the history you pass); a denied call does not run
// and the tool returns the denial reason to the model instead. The decision is
// costcraft's (Guard.check); this file only wires it into the AI SDK tool shape.

const { Recorder } = require('./index.js')

/**
 * Wrap AI SDK `tool()`s (an object of tools, as passed to `generateText({tools})`)
 * so that each call asks `guard` first.
 *
 * Options: `recorder` (a Recorder fed with every call that ran; one is created
 * when absent and exposed as `guarded[RECORDER]`), `history` (a Trace, Recorder or
 * transcript path used instead of the recorder for the decision), `onDecision`
 * (called with `(toolName, input, decision)` for every call), `denied` (turns a
 * decision into what the tool returns; default: `"Denied by tracecard guard: <reason>"`).
 */
function guardTools(tools, guard, options = {}) {
  const recorder = options.recorder || new Recorder(options.sessionId || 'ai-sdk-guarded')
  const denied = options.denied || ((d) => `Denied by tracecard guard: ${d.reason}`)
  const out = {}
  for (const [name, t] of Object.entries(tools)) {
    if (!t || typeof t.execute !== 'function') {
      out[name] = t
      continue
    }
    const execute = t.execute
    out[name] = {
      ...t,
      execute: async (input, ctx) => {
        const decision = guard.check(name, input ?? {}, options.history || recorder)
        if (options.onDecision) options.onDecision(name, input, decision)
        if (!decision.allowed) return denied(decision)
        const step = recorder.toolUse(name, { arguments: input ?? {}, toolCallId: ctx && ctx.toolCallId })
        try {
          const result = await execute(input, ctx)
          step.setOutput(typeof result === 'string' ? result : JSON.stringify(result ?? null))
          step.end()
          return result
        } catch (e) {
          step.fail(e)
          throw e
        }
      },
    }
  }
  Object.defineProperty(out, RECORDER, { value: recorder, enumerable: false })
  return out
}

/** The key under which `guardTools` exposes its Recorder. */
const RECORDER = Symbol.for('tracecard.guardTools.recorder')

module.exports = { guardTools, RECORDER }
