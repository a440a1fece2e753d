// The package itself: CommonJS and ESM entry points, the committed generated glue,
// and TSDoc on every export.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import * as esm from '../index.mjs'
import esmDefault from '../index.mjs'
import { PKG, REPO, tc } from './helpers.mjs'

test('CommonJS and ESM expose the same names', () => {
  const cjs = Object.keys(tc).sort()
  const named = Object.keys(esm).filter((k) => k !== 'default').sort()
  assert.deepEqual(named, cjs)
  assert.equal(esmDefault, tc)
  assert.equal(esm.load, tc.load)
})

test('the package version is the Cargo workspace version', () => {
  const pkg = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8'))
  const cargo = readFileSync(path.join(REPO, 'Cargo.toml'), 'utf8')
  const version = /\[workspace\.package\][^[]*?\nversion = "([^"]+)"/.exec(cargo)[1]
  assert.equal(pkg.version, version)
  assert.equal(tc.VERSION, version)
})

test('every export in index.d.ts has TSDoc', () => {
  const lines = readFileSync(path.join(PKG, 'index.d.ts'), 'utf8').split('\n')
  const missing = []
  lines.forEach((line, i) => {
    const m = /^export (?:declare )?(?:class|function|const|interface|type) (\w+)/.exec(line)
    if (m && m[1] !== '__napiBindingTarget' && !/\*\/\s*$/.test(lines[i - 1] || '')) missing.push(m[1])
    // Members of classes and interfaces: every method, getter and field.
    const member = /^ {2}(?:static )?(?:get )?(\w+)\??[(:]/.exec(line)
    if (member && member[1] !== 'constructor' && !/\*\/\s*$/.test(lines[i - 1] || '')) missing.push(`.${member[1]} (line ${i + 1})`)
  })
  assert.deepEqual(missing, [])
})

test('a build leaves the committed index.js and index.d.ts unchanged', (t) => {
  // `make test-node` builds right before the tests, so a change in the Rust API that
  // was not committed with its regenerated glue shows up here.
  let inRepo = true
  try {
    execFileSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: PKG, stdio: 'ignore' })
  } catch {
    inRepo = false
  }
  if (!inRepo) {
    t.skip('not a git checkout (an installed package)')
    return
  }
  const tracked = execFileSync('git', ['ls-files', 'index.js', 'index.d.ts', 'index.mjs'], { cwd: PKG }).toString().trim().split('\n')
  assert.deepEqual(tracked.sort(), ['index.d.ts', 'index.js', 'index.mjs'])
  const diff = execFileSync('git', ['diff', '--stat', '--', 'index.js', 'index.d.ts'], { cwd: PKG }).toString()
  assert.equal(diff, '', `the generated glue differs from the committed one; commit it:\n${diff}`)
})

test('examples/node/recorder_agent.mjs runs and flags the unused steps', () => {
  const out = execFileSync(process.execPath, [path.join(REPO, 'examples', 'node', 'recorder_agent.mjs')]).toString()
  assert.match(out, /^total [\d.]+ USD, redundant [\d.]+ USD, \d+ replays/)
  assert.match(out, /redundant \(removing it kept the outcome under replay\)/)
  assert.match(out, /schema_version: tracecard\/1/)
})

test('examples/node/guard_ai_sdk.mjs: the guard denies the repeated read of a real AI SDK tool', () => {
  const out = execFileSync(process.execPath, [path.join(REPO, 'examples', 'node', 'guard_ai_sdk.mjs')]).toString()
  assert.match(out, /guard read_file\(cfg\.toml\): allow/)
  assert.match(out, /guard read_file\(cfg\.toml\): DENY \(prune-read-file-repeat-of-success-/)
  assert.equal((out.match(/execute read_file/g) || []).length, 1)
  assert.match(out, /tool calls: 2, denied: 1/)
})
