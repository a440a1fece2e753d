#!/usr/bin/env node
// npm "install" script: make sure the native addon next to index.js exists.
//
// - Inside the tracecard repository (the Cargo workspace is two levels up), build it
//   from source with cargo (release; incremental, so quick when nothing changed)
//   and copy it to the file name index.js loads. This is what
//   `npm install ./bindings/node` from another project runs.
// - Outside the repository (an installed `npm pack` tarball), use the prebuilt
//   addon shipped in the tarball; fail with a clear message when there is none.
//
// Set TRACECARD_SKIP_BUILD=1 to skip (the Makefile builds debug with napi itself).
'use strict'
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const here = path.resolve(__dirname, '..')
const root = path.resolve(here, '..', '..')
const platform = `${process.platform}-${process.arch}${process.platform === 'linux' ? '-' + libc() : ''}`
const addon = path.join(here, `tracecard.${platform}.node`)

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

function main() {
  if (process.env.TRACECARD_SKIP_BUILD === '1') return
  if (!inWorkspace()) {
    if (fs.existsSync(addon)) return
    console.error(
      `tracecard: no prebuilt addon for ${platform} in this package, and the Rust sources ` +
        `are not here to build one. Install from a checkout of the repository ` +
        `(npm install <repo>/bindings/node) with Rust >= 1.89.`,
    )
    process.exit(1)
  }
  const cargo = process.env.CARGO || 'cargo'
  const release = process.env.TRACECARD_DEBUG === '1' ? [] : ['--release']
  console.error(`tracecard: building the native addon from source (cargo build -p tracecard-node ${release.join(' ')})`)
  const out = execFileSync(
    cargo,
    ['build', '--locked', '-p', 'tracecard-node', '--message-format=json-render-diagnostics', ...release],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 << 20 },
  ).toString()
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
}

main()
