// Shared test helpers: the package under test, and the real fixtures (read in
// place, never copied).
import { existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const HERE = path.dirname(fileURLToPath(import.meta.url))
export const PKG = path.resolve(HERE, '..')
export const REPO = path.resolve(PKG, '..', '..')
export const EXAMPLES = path.join(REPO, 'examples', 'traces')
export const require = createRequire(import.meta.url)
export const tc = require('../index.js')

const CI = ['true', '1'].includes((process.env.CI || '').toLowerCase())

/**
 * `$TRACECARD_FIXTURES`, else `<repo>/../shared/fixtures`. Outside CI a missing
 * folder skips the calling test (`t.skip`); with CI=true it throws (fails).
 * Returns null when skipped.
 */
export function fixturesRoot(t) {
  const root = process.env.TRACECARD_FIXTURES || path.resolve(REPO, '..', 'shared', 'fixtures')
  if (existsSync(root) && statSync(root).isDirectory()) return root
  const msg = `fixtures not found at ${root} (set TRACECARD_FIXTURES)`
  if (CI) throw new Error(`${msg}; CI=true: they must be present`)
  t.skip(msg)
  return null
}

/** The path of fixture `rel`; throws when it is missing (never skips). */
export function fixture(root, rel) {
  const p = path.join(root, rel)
  if (!existsSync(p)) throw new Error(`fixture ${p} is missing`)
  return p
}

/** Exact sum of decimal strings, in nano-dollars (BigInt). */
export function nanos(usd) {
  const neg = usd.startsWith('-')
  const [int, frac = ''] = (neg ? usd.slice(1) : usd).split('.')
  const v = BigInt(int) * 1_000_000_000n + BigInt((frac + '000000000').slice(0, 9))
  return neg ? -v : v
}

/** Fail (never skip) when an importer the test relies on is not built in. */
export function needFormat(name) {
  if (!tc.formats().includes(name)) {
    throw new Error(`importer ${name} is not in this build (formats: ${tc.formats()})`)
  }
}
