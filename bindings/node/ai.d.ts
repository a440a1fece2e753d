/* tracecard/ai: ask a tracecard Guard before each Vercel AI SDK tool runs. */
import type { Guard, GuardDecision, Recorder, Trace } from './index'

/** Options of {@link guardTools}. */
export interface GuardToolsOptions {
  /** Fed with every tool call that ran (a new one when absent). */
  recorder?: Recorder
  /** Session id of the recorder created when `recorder` is absent. */
  sessionId?: string
  /** Decide from this history instead of the recorder (a Trace, a Recorder or a transcript path). */
  history?: Trace | Recorder | string
  /** Called for every decision. */
  onDecision?: (toolName: string, input: unknown, decision: GuardDecision) => void
  /** What a denied tool returns to the model (default: `"Denied by tracecard guard: <reason>"`). */
  denied?: (decision: GuardDecision) => unknown
}

/** The key under which {@link guardTools} exposes its Recorder. */
export declare const RECORDER: unique symbol

/**
 * The same tools with `execute` wrapped: each call asks `guard` first; a denied
 * call does not run and the tool returns the denial reason instead.
 */
export declare function guardTools<T extends Record<string, unknown>>(
  tools: T,
  guard: Pick<Guard, 'check'>,
  options?: GuardToolsOptions,
): T & { readonly [RECORDER]: Recorder }
