// ESM entry of tracecard/otel (the CommonJS module re-exported).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const m = require('./otel.js')

export default m
export const { TracecardSpanExporter, TracecardSpanProcessor, spansToOtlp } = m
