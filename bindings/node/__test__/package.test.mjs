// The package itself: CommonJS and ESM entry points, the committed generated glue,
// and TSDoc on every export.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import * as esm from '../index.mjs'
import esmDefault from '../index.mjs'
import { PKG, REPO, require, tc } from './helpers.mjs'

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

test('the npm tarball carries the Rust sources a source build needs (staged by prepack)', (t) => {
  // What `npm pack` runs as "prepack" (minus the release build), then npm's own
  // file list of the tarball. The full pack + source build is `make -C bindings/node
  // pack-check` (minutes).
  const stage = path.join(PKG, 'rust')
  t.after(() => rmSync(stage, { recursive: true, force: true }))
  const pkg = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8'))
  assert.match(pkg.scripts.prepack, /stage-rust\.js/)
  assert.match(pkg.scripts.postpack, /stage-rust\.js --clean/)
  const { stage: doStage } = require('../scripts/stage-rust.js')
  const crates = doStage(stage).map((c) => c.name).sort()
  // The binding's path dependencies, found from cargo metadata (checked --locked).
  assert.deepEqual(crates, ['costcraft', 'tracecard-core', 'tracecard-node', 'tracecard-report'])
  const listed = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PKG, stdio: ['ignore', 'pipe', 'ignore'] }).toString(),
  )[0].files.map((f) => f.path)
  const staged = readdirSync(stage, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(PKG, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
  assert.deepEqual(listed.filter((f) => f.startsWith('rust/')).sort(), staged.sort())
  for (const need of [
    'rust/Cargo.toml',
    'rust/Cargo.lock',
    'rust/bindings/node/Cargo.toml',
    'rust/bindings/node/build.rs',
    'rust/bindings/node/src/lib.rs',
    'rust/crates/tracecard-core/src/lib.rs',
    'rust/crates/costcraft/src/lib.rs',
    'rust/crates/tracecard-report/src/lib.rs',
    'scripts/install.js',
  ]) {
    assert.ok(listed.includes(need), `${need} is not in the tarball`)
  }
  assert.ok(!staged.some((f) => /\/(tests|benches|examples)\//.test(f)), 'test-only files staged')
  const manifests = staged.filter((f) => f.endsWith('/Cargo.toml') && f !== 'rust/Cargo.toml')
  for (const m of manifests) {
    assert.doesNotMatch(readFileSync(path.join(PKG, m), 'utf8'), /dev-dependencies|\.\.\/\.\.\/examples/, m)
  }
  // Every file the sources include at compile time is staged.
  for (const f of staged.filter((f) => f.endsWith('.rs'))) {
    const text = readFileSync(path.join(PKG, f), 'utf8')
    for (const m of text.matchAll(/include_(?:str|bytes)!\("([^"]+)"\)/g)) {
      const target = path.resolve(path.dirname(path.join(PKG, f)), m[1])
      assert.ok(existsSync(target), `${f} includes ${m[1]}, which is not staged`)
    }
  }
  const size = staged.reduce((n, f) => n + statSync(path.join(PKG, f)).size, 0)
  assert.ok(size < 3e6, `staged sources are ${size} bytes`)
})

test('the install script of an installed package: a clear error without a loadable addon or sources', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tracecard-install-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const pkg = path.join(dir, 'node_modules', 'tracecard')
  mkdirSync(path.join(pkg, 'scripts'), { recursive: true })
  copyFileSync(path.join(PKG, 'scripts', 'install.js'), path.join(pkg, 'scripts', 'install.js'))
  const install = (env = {}) =>
    spawnSync(process.execPath, [path.join(pkg, 'scripts', 'install.js')], { env: { ...process.env, ...env }, encoding: 'utf8' })
  const addon = readdirSync(PKG).find((f) => /^tracecard\..+\.node$/.test(f))
  assert.ok(addon, 'the addon is built')
  let r = install()
  assert.equal(r.status, 1)
  assert.match(r.stderr, /no prebuilt addon for .+ in this package, and the package carries no Rust sources/)
  writeFileSync(path.join(pkg, addon), 'not a shared library')
  r = install()
  assert.equal(r.status, 1)
  assert.match(r.stderr, /the prebuilt addon for .+ does not load/)
  rmSync(path.join(pkg, addon))
  symlinkSync(path.join(PKG, addon), path.join(pkg, addon))
  r = install()
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, '')
  r = install({ TRACECARD_BUILD_FROM_SOURCE: '1' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /TRACECARD_BUILD_FROM_SOURCE=1, and the package carries no Rust sources/)
})
