#!/usr/bin/env node
// Stage the Rust sources a source build of the addon needs into `rust/` (the
// package's "prepack" step), so that an `npm pack` tarball installs on a platform
// with no prebuilt addon by building it with cargo (scripts/install.js).
//
// What is staged: the crates the binding depends on (found with `cargo metadata`:
// the workspace's path packages reachable from tracecard-node through normal and
// build dependencies, so a new internal crate is picked up by itself), each at its
// path in the repository, without tests/, benches/, examples/ and without their
// [dev-dependencies]; a standalone workspace Cargo.toml (the repository's, with
// only those members); the repository's Cargo.lock pruned to them by cargo (the
// versions stay the locked ones; checked with --locked afterwards); and the
// repository README (the core's doc tests include it).
//
//   node scripts/stage-rust.js [OUT_DIR]     (default: <package>/rust)
//   node scripts/stage-rust.js --clean       (remove <package>/rust; "postpack")
'use strict'
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const here = path.resolve(__dirname, '..')
const root = path.resolve(here, '..', '..')
const cargo = process.env.CARGO || 'cargo'

/// Sub-directories of a crate a build never reads.
const SKIP_DIRS = new Set(['tests', 'benches', 'examples', 'target', 'fuzz', 'node_modules', '__test__'])

/// Manifest sections only tests, benches and examples use.
const SKIP_SECTION = /^\[(?:\[(?:bench|test|example)\]|dev-dependencies|target\.[^\]]+\.dev-dependencies)\]\s*$/

function metadata(manifest, extra = []) {
  const out = execFileSync(cargo, ['metadata', '--format-version', '1', '--manifest-path', manifest, ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 << 20,
  })
  return JSON.parse(out.toString())
}

/// The workspace's path packages tracecard-node needs to build, as
/// `{name, dir}` (dir relative to the workspace root).
function neededCrates() {
  // Not --offline: on a fresh checkout the crates of other members (pyo3, ...) may
  // not be downloaded yet; cargo fetches them (the versions are the locked ones).
  const meta = metadata(path.join(root, 'Cargo.toml'), ['--locked'])
  const byId = new Map(meta.packages.map((p) => [p.id, p]))
  const nodes = new Map(meta.resolve.nodes.map((n) => [n.id, n]))
  const start = meta.packages.find((p) => p.name === 'tracecard-node' && p.source === null)
  if (!start) throw new Error('tracecard-node is not a member of the workspace at ' + root)
  const seen = new Set([start.id])
  const todo = [start.id]
  while (todo.length) {
    const node = nodes.get(todo.pop())
    for (const dep of node.deps) {
      const kinds = dep.dep_kinds.map((k) => k.kind)
      if (!kinds.some((k) => k === null || k === 'build')) continue
      const pkg = byId.get(dep.pkg)
      if (pkg.source !== null || seen.has(pkg.id)) continue
      seen.add(pkg.id)
      todo.push(pkg.id)
    }
  }
  return [...seen]
    .map((id) => byId.get(id))
    .map((p) => ({ name: p.name, dir: path.relative(root, path.dirname(p.manifest_path)).split(path.sep).join('/') }))
    .sort((a, b) => a.dir.localeCompare(b.dir))
}

/// A member manifest without its test-only sections.
function stripManifest(text) {
  const out = []
  let skipping = false
  for (const line of text.split('\n')) {
    if (/^\s*\[/.test(line)) skipping = SKIP_SECTION.test(line.trim())
    if (!skipping) out.push(line)
  }
  return out.join('\n')
}

/// The repository's workspace manifest with `members` set to the staged crates and
/// no `default-members`.
function workspaceManifest(crates) {
  const text = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8')
  const members = `members = [\n${crates.map((c) => `    "${c.dir}",\n`).join('')}]`
  const array = (key) => new RegExp(`^${key} = \\[[^\\]]*\\]\\n?`, 'm')
  if (!array('members').test(text)) throw new Error('no `members = [...]` in the workspace Cargo.toml')
  return (
    '# Staged by bindings/node/scripts/stage-rust.js for a source build of the npm\n' +
    '# package: the repository workspace, reduced to the crates the addon needs.\n' +
    text.replace(array('default-members'), '').replace(array('members'), members + '\n')
  )
}

function copyCrate(src, dst, isBinding) {
  fs.mkdirSync(dst, { recursive: true })
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, entry.name)
    const to = path.join(dst, entry.name)
    if (entry.isDirectory()) {
      if (SKIP_DIRS.has(entry.name)) continue
      // The binding's own directory is the npm package: take its Rust part only.
      if (isBinding && entry.name !== 'src') continue
      fs.cpSync(from, to, { recursive: true })
    } else if (entry.isFile()) {
      if (entry.name === 'Cargo.toml') fs.writeFileSync(to, stripManifest(fs.readFileSync(from, 'utf8')))
      else if (!isBinding || entry.name === 'build.rs') fs.copyFileSync(from, to)
    }
  }
}

function stage(out) {
  const crates = neededCrates()
  fs.rmSync(out, { recursive: true, force: true })
  fs.mkdirSync(out, { recursive: true })
  for (const c of crates) copyCrate(path.join(root, c.dir), path.join(out, c.dir), c.name === 'tracecard-node')
  fs.writeFileSync(path.join(out, 'Cargo.toml'), workspaceManifest(crates))
  fs.copyFileSync(path.join(root, 'Cargo.lock'), path.join(out, 'Cargo.lock'))
  fs.copyFileSync(path.join(root, 'README.md'), path.join(out, 'README.md'))
  // Prune the lock file to the staged crates (cargo keeps the locked versions of
  // what remains), then prove it is complete.
  const manifest = path.join(out, 'Cargo.toml')
  metadata(manifest, ['--offline'])
  const meta = metadata(manifest, ['--locked', '--offline'])
  const members = meta.workspace_members.length
  if (members !== crates.length) throw new Error(`staged workspace has ${members} members, expected ${crates.length}`)
  return crates
}

function main() {
  const arg = process.argv[2]
  if (arg === '--clean') {
    fs.rmSync(path.join(here, 'rust'), { recursive: true, force: true })
    return
  }
  const out = path.resolve(arg || path.join(here, 'rust'))
  const crates = stage(out)
  console.error(`tracecard: staged ${crates.map((c) => c.name).join(', ')} into ${path.relative(process.cwd(), out) || '.'}`)
}

if (require.main === module) main()
module.exports = { stage, neededCrates }
