/* tracecard/otel: an OpenTelemetry SpanExporter / SpanProcessor for @opentelemetry/sdk-trace-base 2.x. */
import type { CompileOptions, Trace, TraceCard } from './index'

/** The part of an SDK `ReadableSpan` the exporter reads. */
export interface ReadableSpanLike {
  /** Span name. */
  readonly name: string
  /** API SpanKind (INTERNAL 0, SERVER 1, CLIENT 2, PRODUCER 3, CONSUMER 4). */
  readonly kind: number
  /** Trace and span ids. */
  spanContext(): { traceId: string; spanId: string; traceFlags: number; traceState?: { serialize(): string } }
  /** The parent (sdk-trace-base 2.x). */
  readonly parentSpanContext?: { spanId: string; isRemote?: boolean }
  /** `[seconds, nanoseconds]`. */
  readonly startTime: [number, number]
  /** `[seconds, nanoseconds]`. */
  readonly endTime: [number, number]
  /** Span attributes. */
  readonly attributes: Record<string, unknown>
  /** Status (UNSET 0, OK 1, ERROR 2). */
  readonly status: { code: number; message?: string }
  /** Events. */
  readonly events: Array<{ name: string; time: [number, number]; attributes?: Record<string, unknown> }>
  /** Links. */
  readonly links: Array<{ context: { traceId: string; spanId: string }; attributes?: Record<string, unknown> }>
  /** Resource. */
  readonly resource: { attributes: Record<string, unknown> }
  /** Instrumentation scope. */
  readonly instrumentationScope: { name: string; version?: string }
}

/** OTLP/JSON `ExportTraceServiceRequest` for `spans`, grouped by resource and scope. */
export declare function spansToOtlp(spans: ReadonlyArray<ReadableSpanLike>): { resourceSpans: unknown[] }

/**
 * A `SpanExporter` that keeps the finished spans: `traces()` imports them with
 * tracecard's OTLP importer (one Trace per OTel trace id; AI SDK 7 GenAI span names
 * and AI SDK 6 `ai.*` names; usage counted on leaf model calls only), `cards()`
 * compiles them.
 */
export declare class TracecardSpanExporter {
  /** `options` are the defaults of `cards()` (prices, replayer, ...). */
  constructor(options?: CompileOptions)
  /** SpanExporter: keep `spans` (`code` 0 = SUCCESS, 1 = FAILED after `shutdown()`). */
  export(spans: ReadonlyArray<ReadableSpanLike>, resultCallback: (result: { code: number; error?: Error }) => void): void
  /** SpanExporter: stop accepting spans. */
  shutdown(): Promise<void>
  /** SpanExporter: nothing is buffered. */
  forceFlush(): Promise<void>
  /** The spans collected so far, in the order they finished. */
  spans(): ReadableSpanLike[]
  /** Forget the collected spans. */
  clear(): void
  /** The collected spans as an OTLP/JSON document. */
  otlp(): { resourceSpans: unknown[] }
  /** `otlp()` as JSON text. */
  otlpJson(): string
  /** One Trace per OTel trace id. */
  traces(): Trace[]
  /** The card of every trace. */
  cards(options?: CompileOptions): TraceCard[]
}

/** A `SpanProcessor` handing every ended, sampled span to a {@link TracecardSpanExporter}. */
export declare class TracecardSpanProcessor {
  /** An exporter to feed, or the options of a new one. */
  constructor(exporterOrOptions?: TracecardSpanExporter | CompileOptions)
  /** The exporter. */
  readonly exporter: TracecardSpanExporter
  /** SpanProcessor. */
  onStart(span: unknown, parentContext: unknown): void
  /** SpanProcessor. */
  onEnd(span: ReadableSpanLike): void
  /** SpanProcessor. */
  forceFlush(): Promise<void>
  /** SpanProcessor. */
  shutdown(): Promise<void>
  /** The exporter's traces. */
  traces(): Trace[]
  /** The exporter's cards. */
  cards(options?: CompileOptions): TraceCard[]
}
