// Release check of the npm tarball (`make -C bindings/node pack-check`; minutes, not
// part of `make test`):
//
// 1. `npm pack`: its "prepack" stages the Rust sources into rust/ and builds the
//    release addon, which the tarball carries; "postpack" removes rust/ again.
//    Prints the tarball's size and contents by directory.
// 2. Installs the tarball into a scratch project as is (the prebuilt addon), and
// 3. into a second one with TRACECARD_BUILD_FROM_SOURCE=1: the install script
//    builds the addon from the tarball's rust/ with cargo (what happens on a
//    platform with no prebuilt addon), timed.
// In both projects: CommonJS and ESM entry points, the tracecard/otel and
// tracecard/ai subpaths, and a real fixture compiled (same card in both).
//
// The scratch folder is <repo>/target/node-pack (removed first, and at the end
// unless KEEP=1). CARGO_TARGET_DIR, when set, is used for the source build (and
// kept); otherwise the build is cold, in the installed package, and deleted.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const REPO = path.resolve(PKG, '..', '..')
const WORK = path.join(REPO, 'target', 'node-pack')
const FIX = process.env.TRACECARD_FIXTURES || path.resolve(REPO, '..', 'shared', 'fixtures')
const FIXTURE = path.join(FIX, 'codex', 'rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl')

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts })
  if (r.status !== 0) {
    process.stderr.write(r.stdout || '')
    process.stderr.write(r.stderr || '')
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`)
  }
  return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') }
}

function check(ok, msg) {
  if (!ok) throw new Error(`pack-check: ${msg}`)
}

if (!existsSync(FIXTURE)) throw new Error(`fixture missing: ${FIXTURE} (set TRACECARD_FIXTURES)`)
rmSync(WORK, { recursive: true, force: true })
mkdirSync(WORK, { recursive: true })

// 1. pack
let t0 = Date.now()
const packed = JSON.parse(
  run('npm', ['pack', '--json', '--foreground-scripts', '--pack-destination', WORK], { cwd: PKG, stdio: ['ignore', 'pipe', 'inherit'] }).stdout,
)[0]
const tarball = path.join(WORK, packed.filename)
console.log(`packed ${packed.filename} in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${(packed.size / 1e6).toFixed(2)} MB compressed, ${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${packed.entryCount} files`)
const byDir = new Map()
for (const f of packed.files) {
  const parts = f.path.split('/')
  const depth = parts[0] === 'rust' ? 3 : 1
  const dir = parts.length > depth ? parts.slice(0, depth).join('/') + '/' : f.path
  const [n, s] = byDir.get(dir) || [0, 0]
  byDir.set(dir, [n + 1, s + f.size])
}
for (const [dir, [n, s]] of [...byDir].sort()) console.log(`  ${dir.padEnd(34)} ${String(n).padStart(3)} file(s) ${(s / 1e3).toFixed(1).padStart(9)} kB`)
const names = new Set(packed.files.map((f) => f.path))
for (const need of ['rust/Cargo.toml', 'rust/Cargo.lock', 'rust/bindings/node/Cargo.toml', 'rust/crates/tracecard-core/src/lib.rs', 'scripts/install.js', 'index.js', 'index.mjs']) {
  check(names.has(need), `${need} is not in the tarball`)
}
check([...names].some((n) => /^tracecard\..+\.node$/.test(n)), 'no prebuilt addon in the tarball')
check(!existsSync(path.join(PKG, 'rust')), 'postpack left rust/ behind')

// The smoke test run inside each scratch project.
const SMOKE_CJS = `
const t = require('tracecard')
const card = t.load(${JSON.stringify(FIXTURE)}).compile()
const o = require('tracecard/otel'), a = require('tracecard/ai')
if (typeof o.TracecardSpanProcessor !== 'function' || typeof a.guardTools !== 'function') throw new Error('subpaths')
console.log(JSON.stringify({ version: t.VERSION, steps: card.steps.length, total: card.totalCostUsd, yaml: card.toYaml().length }))
`
const SMOKE_ESM = `
import { load, VERSION, formats } from 'tracecard'
import { TracecardSpanExporter } from 'tracecard/otel'
if (typeof TracecardSpanExporter !== 'function' || !formats().includes('codex')) throw new Error('esm exports')
const card = load(${JSON.stringify(FIXTURE)}).compile()
console.log(JSON.stringify({ version: VERSION, steps: card.steps.length, total: card.totalCostUsd, yaml: card.toYaml().length }))
`

function install(name, env) {
  const app = path.join(WORK, name)
  mkdirSync(app)
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, version: '0.0.0', private: true }))
  const t = Date.now()
  const r = run('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', tarball], { cwd: app, env: { ...process.env, ...env } })
  const secs = (Date.now() - t) / 1000
  const cjs = JSON.parse(run(process.execPath, ['-e', SMOKE_CJS], { cwd: app }).stdout)
  const esm = JSON.parse(run(process.execPath, ['--input-type=module', '-e', SMOKE_ESM], { cwd: app }).stdout)
  check(JSON.stringify(cjs) === JSON.stringify(esm), `${name}: CJS and ESM differ: ${JSON.stringify(cjs)} vs ${JSON.stringify(esm)}`)
  check(cjs.steps > 0, `${name}: no steps`)
  return { app, secs, log: r.stderr + r.stdout, card: cjs }
}

// 2. the prebuilt addon
const pre = install('app-prebuilt', {})
check(!/building the native addon/.test(pre.log), 'the prebuilt install built from source')
console.log(`prebuilt install: ${pre.secs.toFixed(1)} s; CJS+ESM compile ${JSON.stringify(pre.card)}`)

// 3. a source build from the tarball's rust/
const src = install('app-source', { TRACECARD_BUILD_FROM_SOURCE: '1' })
check(/building from the sources in rust\//.test(src.log), `the source install did not build from rust/:\n${src.log}`)
check(/built tracecard\..+\.node in \d+ s/.test(src.log), `no addon built:\n${src.log}`)
const installed = path.join(src.app, 'node_modules', 'tracecard')
if (!process.env.CARGO_TARGET_DIR) check(!existsSync(path.join(installed, 'rust', 'target')), 'the build directory was left in the package')
check(JSON.stringify(src.card) === JSON.stringify(pre.card), 'the source-built addon gives another card than the prebuilt one')
const built = readdirSync(installed).filter((f) => f.endsWith('.node'))
console.log(
  `source-build install: ${src.secs.toFixed(0)} s (${process.env.CARGO_TARGET_DIR ? `CARGO_TARGET_DIR=${process.env.CARGO_TARGET_DIR}` : 'cold target dir'}); ` +
    `${built.join(', ')} ${(statSync(path.join(installed, built[0])).size / 1e6).toFixed(1)} MB; same card`,
)
if (process.env.KEEP !== '1') rmSync(WORK, { recursive: true, force: true })
console.log('pack-check OK')
