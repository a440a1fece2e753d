'use strict'
// tracecard/otel: an OpenTelemetry SpanExporter (and SpanProcessor) for
// @opentelemetry/sdk-trace-base 2.x that turns an instrumented run's spans into
// Traces and TraceCards.
//
// The finished spans are kept in memory, converted to OTLP/JSON (the
// ExportTraceServiceRequest JSON mapping: hex ids, int64 as decimal strings) and
// handed to tracecard's OTLP importer, so a live run and a captured .otlp.json file
// give the same Trace. The importer knows the AI SDK 7 `@ai-sdk/otel` GenAI span
// names (`invoke_agent`, `chat`, `execute_tool`) and the AI SDK 6 / legacy ones
// (`ai.generateText`, `ai.generateText.doGenerate`, `ai.toolCall`), and counts
// usage on leaf model-call spans only (never the totals repeated on the parents).
// No dependency: the exporter and processor implement the SDK's interfaces.

const { loadsAll } = require('./index.js')

// @opentelemetry/core ExportResultCode
const SUCCESS = 0
const FAILED = 1

function hrToNanos(t) {
  if (Array.isArray(t)) return (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString()
  if (typeof t === 'number') return BigInt(Math.round(t * 1e6)).toString() // milliseconds
  return '0'
}

function anyValue(v) {
  if (typeof v === 'boolean') return { boolValue: v }
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }
  if (typeof v === 'bigint') return { intValue: v.toString() }
  if (typeof v === 'string') return { stringValue: v }
  if (v instanceof Uint8Array) return { bytesValue: Buffer.from(v).toString('base64') }
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } }
  if (v && typeof v === 'object') return { kvlistValue: { values: attributes(v) } }
  return { stringValue: String(v) }
}

function attributes(attrs) {
  return Object.entries(attrs || {})
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([key, v]) => ({ key, value: anyValue(v) }))
}

function spanJson(span) {
  const ctx = span.spanContext()
  // sdk-trace-base 2.x: parentSpanContext; 1.x: parentSpanId
  const parent = span.parentSpanContext ?? (span.parentSpanId ? { spanId: span.parentSpanId, isRemote: false } : undefined)
  const out = { traceId: ctx.traceId, spanId: ctx.spanId }
  if (parent && parent.spanId) out.parentSpanId = parent.spanId
  out.name = span.name
  out.kind = (span.kind ?? 0) + 1 // OTLP's SpanKind is the API's plus one (0 = UNSPECIFIED)
  out.startTimeUnixNano = hrToNanos(span.startTime)
  out.endTimeUnixNano = hrToNanos(span.endTime ?? span.startTime)
  out.attributes = attributes(span.attributes)
  // as the official exporters: bit 8 = "is_remote is known", bit 9 = remote parent
  out.flags = 0x100 | (ctx.traceFlags & 0xff) | (parent && parent.isRemote ? 0x200 : 0)
  const ts = ctx.traceState && ctx.traceState.serialize ? ctx.traceState.serialize() : ''
  if (ts) out.traceState = ts
  if (span.events && span.events.length) {
    out.events = span.events.map((e) => ({ timeUnixNano: hrToNanos(e.time), name: e.name, attributes: attributes(e.attributes) }))
  }
  if (span.links && span.links.length) {
    out.links = span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId, attributes: attributes(l.attributes) }))
  }
  out.status = {}
  if (span.status && span.status.code) out.status.code = span.status.code // UNSET 0, OK 1, ERROR 2: same as OTLP
  if (span.status && span.status.message) out.status.message = span.status.message
  return out
}

/**
 * OTLP/JSON `ExportTraceServiceRequest` for `spans` (ReadableSpans), grouped by
 * resource and instrumentation scope, spans in the order given.
 */
function spansToOtlp(spans) {
  const resources = new Map()
  for (const s of spans) {
    const rattrs = (s.resource && s.resource.attributes) || {}
    const rkey = JSON.stringify(Object.entries(rattrs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    if (!resources.has(rkey)) resources.set(rkey, { attrs: rattrs, scopes: new Map() })
    const sc = s.instrumentationScope || s.instrumentationLibrary || { name: '' }
    const skey = `${sc.name}\u0000${sc.version || ''}`
    const scopes = resources.get(rkey).scopes
    if (!scopes.has(skey)) scopes.set(skey, { scope: sc, spans: [] })
    scopes.get(skey).spans.push(spanJson(s))
  }
  return {
    resourceSpans: [...resources.values()].map((r) => ({
      resource: { attributes: attributes(r.attrs) },
      scopeSpans: [...r.scopes.values()].map(({ scope, spans: items }) => ({
        scope: scope.version ? { name: scope.name, version: scope.version } : { name: scope.name },
        spans: items,
      })),
    })),
  }
}

/**
 * A `SpanExporter` that keeps the finished spans and compiles them: `traces()`
 * imports them with tracecard's OTLP importer (one Trace per OTel trace id),
 * `cards()` compiles them. `clear()` forgets the spans (e.g. between runs).
 */
class TracecardSpanExporter {
  /** @param {{prices?: string | import('./index').PriceTable, replayer?: unknown}} [options] */
  constructor(options = {}) {
    this._spans = []
    this._options = options
    this._shutdown = false
  }

  /** SpanExporter: keep `spans`; answers SUCCESS (FAILED after `shutdown()`). */
  export(spans, resultCallback) {
    if (this._shutdown) {
      resultCallback({ code: FAILED, error: new Error('TracecardSpanExporter is shut down') })
      return
    }
    for (const s of spans) this._spans.push(s)
    resultCallback({ code: SUCCESS })
  }

  /** SpanExporter: stop accepting spans (the collected ones stay readable). */
  shutdown() {
    this._shutdown = true
    return Promise.resolve()
  }

  /** SpanExporter: nothing is buffered. */
  forceFlush() {
    return Promise.resolve()
  }

  /** The spans collected so far, in the order they finished. */
  spans() {
    return this._spans.slice()
  }

  /** Forget the collected spans. */
  clear() {
    this._spans.length = 0
  }

  /** The collected spans as an OTLP/JSON `ExportTraceServiceRequest` object. */
  otlp() {
    return spansToOtlp(this._spans)
  }

  /** `otlp()` as JSON text (what `tracecard compile` reads from a `.otlp.json` file). */
  otlpJson() {
    return JSON.stringify(this.otlp())
  }

  /** One Trace per OTel trace id in the collected spans. */
  traces() {
    if (this._spans.length === 0) return []
    return loadsAll(this.otlpJson(), { format: 'otlp', name: 'otel-spans.otlp.json' })
  }

  /** The TraceCard of every collected trace (`options` default to the exporter's). */
  cards(options) {
    const o = { ...this._options, ...(options || {}) }
    return this.traces().map((t) => t.compile(o))
  }
}

/**
 * A `SpanProcessor` that hands every ended span to a {@link TracecardSpanExporter}
 * (as `SimpleSpanProcessor` would, without the export queue): add it with
 * `new BasicTracerProvider({ spanProcessors: [processor] })`, run the agent, then
 * `processor.cards()`.
 */
class TracecardSpanProcessor {
  /** @param {TracecardSpanExporter | {prices?: unknown, replayer?: unknown}} [exporterOrOptions] */
  constructor(exporterOrOptions) {
    this.exporter = exporterOrOptions instanceof TracecardSpanExporter ? exporterOrOptions : new TracecardSpanExporter(exporterOrOptions)
  }

  /** SpanProcessor: nothing to do when a span starts. */
  onStart() {}

  /** SpanProcessor: export the ended span (sampled spans only). */
  onEnd(span) {
    if ((span.spanContext().traceFlags & 1) === 0) return
    this.exporter.export([span], () => {})
  }

  /** SpanProcessor. */
  forceFlush() {
    return this.exporter.forceFlush()
  }

  /** SpanProcessor. */
  shutdown() {
    return this.exporter.shutdown()
  }

  /** The exporter's traces. */
  traces() {
    return this.exporter.traces()
  }

  /** The exporter's cards. */
  cards(options) {
    return this.exporter.cards(options)
  }
}

module.exports = { TracecardSpanExporter, TracecardSpanProcessor, spansToOtlp }
