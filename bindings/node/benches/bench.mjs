// Benchmarks of the Node package (figures for BENCHMARKS.md): `load` + `compile` of
// the largest fixture from Node, against the Rust CLI (`tracecard compile FILE -o
// /dev/null`, which includes process start-up) on the same file.
//
// Run with `make -C bindings/node bench` (release addon and release CLI).
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const tc = require('../index.js')
const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..', '..', '..')
const CLI = path.join(ROOT, 'target', 'release', 'tracecard')
const FIX = process.env.TRACECARD_FIXTURES || path.resolve(ROOT, '..', 'shared', 'fixtures')
const FILES = [
  ['Claude Code fa812bfe…jsonl', 'claude-code/spotter/fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl'],
  ['Codex rollout 12-54-34', 'codex/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl'],
]

function best(fn, repeat = 9) {
  const times = []
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint()
    fn()
    times.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  times.sort((a, b) => a - b)
  return { min: times[0], median: times[Math.floor(times.length / 2)] }
}

const ms = (t) => `${t.min.toFixed(1)} ms (median ${t.median.toFixed(1)})`

for (const [label, rel] of FILES) {
  const file = path.join(FIX, rel)
  if (!existsSync(file)) {
    console.log(`${label}: missing (${file})`)
    continue
  }
  const trace = tc.load(file)
  const size = (statSync(file).size / 1e6).toFixed(2)
  const loadCompile = best(() => tc.load(file).compile())
  const compileOnly = best(() => trace.compile())
  const compileYaml = best(() => trace.compile().toYaml())
  const cli = existsSync(CLI) ? best(() => execFileSync(CLI, ['compile', file, '-o', '/dev/null'])) : null
  console.log(
    `${label} (${size} MB, ${trace.length} steps): node load+compile ${ms(loadCompile)}; ` +
      `compile ${ms(compileOnly)}; compile+YAML ${ms(compileYaml)}; ` +
      `CLI ${cli ? ms(cli) : 'not built'}; ratio load+compile / CLI ${cli ? (loadCompile.min / cli.min).toFixed(2) : '-'}`,
  )
}
