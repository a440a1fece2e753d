// ESM entry of tracecard/ai (the CommonJS module re-exported).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const m = require('./ai.js')

export default m
export const { guardTools, RECORDER } = m
