#!/usr/bin/env node
// npm "install" script: make sure a loadable native addon sits next to index.js.
//
// - Inside the tracecard repository (the Cargo workspace is two levels up), build it
//   from source with cargo (release; quick when nothing changed) and copy it to the
//   file name index.js loads. This is what `npm install ./bindings/node` from another
//   project runs, and what "prepack" runs before the tarball is made.
// - Outside the repository (an installed `npm pack` tarball): use the prebuilt addon
//   shipped for this platform when it loads; otherwise build from the Rust sources
//   the tarball carries in rust/ (staged by scripts/stage-rust.js), with cargo
//   (Rust >= 1.89), and delete the build directory afterwards.
//
// Environment:
//   TRACECARD_SKIP_BUILD=1     do nothing (the Makefile builds debug with napi itself)
//   TRACECARD_BUILD_FROM_SOURCE=1   build from source even when a prebuilt addon loads
//   TRACECARD_DEBUG=1          a debug build instead of release
//   CARGO, CARGO_TARGET_DIR    as for cargo (a given target dir is kept)
'use strict'
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const here = path.resolve(__dirname, '..')
const root = path.resolve(here, '..', '..')
const platform = platformName()
const addon = path.join(here, `tracecard.${platform}.node`)

/// The suffix napi's generated index.js looks for on this platform.
function platformName() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${libc()}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function libc() {
  const report = process.report && process.report.getReport ? process.report.getReport() : null
  const glibc = report && report.header && report.header.glibcVersionRuntime
  return glibc ? 'gnu' : 'musl'
}

function inWorkspace() {
  try {
    const manifest = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8')
    return manifest.includes('"bindings/node"') && fs.existsSync(path.join(root, 'crates', 'tracecard-core'))
  } catch {
    return false
  }
}

/// Why the prebuilt addon cannot be used here (null: it loads).
function prebuiltProblem() {
  if (!fs.existsSync(addon)) return `no prebuilt addon for ${platform} in this package`
  try {
    require(addon)
    return null
  } catch (e) {
    return `the prebuilt addon for ${platform} does not load (${e.message.split('\n')[0]})`
  }
}

/// `cargo build -p tracecard-node` in `workspace`; copies the library to `addon`.
function build(workspace, { cleanTarget }) {
  const cargo = process.env.CARGO || 'cargo'
  const release = process.env.TRACECARD_DEBUG === '1' ? [] : ['--release']
  console.error(`tracecard: building the native addon from source (cargo build -p tracecard-node ${release.join(' ')})`)
  const t0 = Date.now()
  let out
  try {
    out = execFileSync(
      cargo,
      ['build', '--locked', '-p', 'tracecard-node', '--message-format=json-render-diagnostics', ...release],
      { cwd: workspace, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 << 20 },
    ).toString()
  } catch (e) {
    if (e.code === 'ENOENT') {
      console.error(`tracecard: cannot run ${cargo}: install Rust >= 1.89 (https://rustup.rs) to build the addon`)
      process.exit(1)
    }
    console.error(`tracecard: cargo build failed (${e.status === null ? e.signal : `exit ${e.status}`})`)
    process.exit(1)
  }
  let built = null
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue
    const msg = JSON.parse(line)
    if (msg.reason === 'compiler-artifact' && msg.target && msg.target.name === 'tracecard_node') {
      built = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) || built
    }
  }
  if (!built) {
    console.error('tracecard: cargo did not report the tracecard_node library')
    process.exit(1)
  }
  // Copy to a temporary name, then rename: a running process keeps its mapping.
  const tmp = `${addon}.${process.pid}.tmp`
  fs.copyFileSync(built, tmp)
  fs.renameSync(tmp, addon)
  if (cleanTarget) fs.rmSync(path.join(workspace, 'target'), { recursive: true, force: true })
  console.error(`tracecard: built ${path.basename(addon)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
}

function main() {
  if (process.env.TRACECARD_SKIP_BUILD === '1') return
  if (inWorkspace()) return build(root, { cleanTarget: false })
  const sources = path.join(here, 'rust')
  const forced = process.env.TRACECARD_BUILD_FROM_SOURCE === '1'
  const problem = forced ? 'TRACECARD_BUILD_FROM_SOURCE=1' : prebuiltProblem()
  if (problem === null) return
  if (!fs.existsSync(path.join(sources, 'Cargo.toml'))) {
    console.error(`tracecard: ${problem}, and the package carries no Rust sources to build one.`)
    process.exit(1)
  }
  console.error(`tracecard: ${problem}: building from the sources in rust/`)
  build(sources, { cleanTarget: !process.env.CARGO_TARGET_DIR })
}

main()
