// Errors: a stable `code` per core error kind, plus path/line/field when known.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { EXAMPLES, PKG, fixture, fixturesRoot, tc } from './helpers.mjs'

const tmp = () => mkdtempSync(path.join(tmpdir(), 'tracecard-'))

/** assert.throws with a check of the error's fields. */
function throwsCode(fn, code, check = () => {}) {
  let caught
  assert.throws(fn, (e) => {
    caught = e
    return e instanceof Error && e.code === code
  })
  check(caught)
  return caught
}

test('TRACECARD_PARSE carries path, line and field', () => {
  const dir = tmp()
  const p = path.join(dir, 'bad.jsonl')
  writeFileSync(p, '{"type": "nope"}\n')
  throwsCode(
    () => tc.load(p, { format: 'native' }),
    'TRACECARD_PARSE',
    (e) => {
      assert.equal(e.kind, 'parse')
      assert.equal(e.path, p)
      assert.equal(e.line, 1)
      assert.equal(typeof e.field, 'string')
      assert.ok(e.message.includes(p))
    },
  )
  // A broken line in the middle of a real trace: the line number is that line.
  const lines = readFileSync(path.join(EXAMPLES, 'fix-test.jsonl'), 'utf8').split('\n')
  lines[2] = '{"type": "step", "id": '
  throwsCode(
    () => tc.loads(lines.join('\n'), { name: 'broken.jsonl', format: 'native' }),
    'TRACECARD_PARSE',
    (e) => {
      assert.equal(e.path, 'broken.jsonl')
      assert.equal(e.line, 3)
    },
  )
})

test('TRACECARD_UNKNOWN_FORMAT: unrecognised input, or a format name that does not exist', () => {
  throwsCode(() => tc.loads('hello, world\n'), 'TRACECARD_UNKNOWN_FORMAT', (e) => {
    assert.equal(e.path, '<memory>')
  })
  throwsCode(() => tc.load(path.join(EXAMPLES, 'fix-test.jsonl'), { format: 'nope' }), 'TRACECARD_UNKNOWN_FORMAT', (e) => {
    assert.match(e.message, /known formats: .*native/)
  })
})

test('TRACECARD_IO with the errno name; the empty file is a parse error', () => {
  throwsCode(() => tc.load('/nonexistent/trace.jsonl'), 'TRACECARD_IO', (e) => {
    assert.equal(e.ioCode, 'ENOENT')
    assert.equal(e.path, '/nonexistent/trace.jsonl')
  })
  const p = path.join(tmp(), 'empty.jsonl')
  writeFileSync(p, '')
  throwsCode(() => tc.load(p), 'TRACECARD_PARSE', (e) => assert.match(e.message, /empty/))
})

test('TRACECARD_PRICING for a bad price file; TRACECARD_IO for a missing one', () => {
  const trace = tc.load(path.join(EXAMPLES, 'fix-test.jsonl'))
  const p = path.join(tmp(), 'prices.json')
  writeFileSync(p, '{"gpt-4.1-mini": {"input_cost_per_token": "free"}}')
  throwsCode(() => trace.compile({ prices: p }), 'TRACECARD_PRICING', (e) => assert.equal(e.path, p))
  throwsCode(() => trace.compile({ prices: '/nonexistent/prices.json' }), 'TRACECARD_IO')
})

test('TRACECARD_MULTIPLE_SESSIONS: load() on a file with several sessions', (t) => {
  const root = fixturesRoot(t)
  if (!root) return
  const p = fixture(root, 'inspect/2025-05-12T20-28-26-04-00_security-guide.json')
  throwsCode(() => tc.load(p), 'TRACECARD_MULTIPLE_SESSIONS', (e) => {
    assert.equal(e.count, 3)
    assert.equal(e.path, p)
    assert.match(e.message, /loadAll/)
  })
  assert.equal(tc.loadAll(p).length, 3)
})

test('TRACECARD_PARSE for a card that is not a card', () => {
  throwsCode(() => tc.TraceCard.fromJson('{"schema_version": 3}'), 'TRACECARD_PARSE')
  throwsCode(() => tc.TraceCard.fromYaml('- just\n- a list\n'), 'TRACECARD_PARSE')
})

test('TRACECARD_INVALID_ARG for bad amounts; usdToNumber', () => {
  assert.equal(tc.usdToNumber('0.0143235'), 0.0143235)
  assert.equal(tc.usdToNumber('12'), 12)
  throwsCode(() => tc.usdToNumber('twelve'), 'TRACECARD_INVALID_ARG')
})

test('every code in index.d.ts is one the addon maps, and the list is complete', () => {
  const dts = readFileSync(path.join(PKG, 'index.d.ts'), 'utf8')
  const block = dts.slice(dts.indexOf('export type TracecardErrorCode'), dts.indexOf('export interface TracecardError'))
  const codes = [...block.matchAll(/'(TRACECARD_[A-Z_]+)'/g)].map((m) => m[1])
  const src = readFileSync(path.join(PKG, 'src', 'errors.rs'), 'utf8')
  const mapped = [...src.matchAll(/"(TRACECARD_[A-Z_]+)"/g)].map((m) => m[1])
  assert.deepEqual([...new Set(codes)].sort(), [...new Set(mapped)].sort())
})
