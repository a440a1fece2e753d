// Card paths (issue 14, item 5): the Node loaders name files as the CLI does,
// relative to the parent of the input argument (the CLI's tests/card_paths.rs
// asserts the same paths for the same arguments). Real Claude Code transcripts are
// copied into a temp dir; nothing of that dir may reach a card.
import assert from 'node:assert/strict'
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { fixture, fixturesRoot, tc } from './helpers.mjs'

const SESSION = 'fa812bfe-b295-4cca-9c2f-fdf01028cb46'
const AGENTS = ['agent-a93ccab', 'agent-aa84377', 'agent-acompact-70d8e7']

test('file and directory arguments give the CLI paths, on any machine', (t) => {
  const root = fixturesRoot(t)
  if (!root) return
  const spotter = fixture(root, 'claude-code/spotter')
  const top = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'tracecard-node-paths-')))
  const cwd = process.cwd()
  try {
    const logs = path.join(top, 'b', 'logs')
    mkdirSync(path.join(logs, 'proj', 'sub'), { recursive: true })
    copyFileSync(path.join(spotter, 'short.jsonl'), path.join(logs, 'proj', 'short.jsonl'))
    copyFileSync(path.join(spotter, 'tool_heavy.jsonl'), path.join(logs, 'proj', 'sub', 'tool_heavy.jsonl'))
    copyFileSync(path.join(spotter, `${SESSION}.jsonl`), path.join(top, `${SESSION}.jsonl`))
    cpSync(path.join(spotter, SESSION), path.join(top, SESSION), { recursive: true })

    // a file argument: its name, and its sub-agent companions beside it
    const byAbs = tc.load(path.join(top, `${SESSION}.jsonl`)).compile()
    process.chdir(path.join(top, 'b'))
    const byRel = tc.load(`../${SESSION}.jsonl`).compile()
    assert.equal(byRel.toJson(), byAbs.toJson())
    const card = JSON.parse(byAbs.toJson())
    assert.deepEqual(card.source.files, [
      `${SESSION}.jsonl`,
      ...AGENTS.map((a) => `${SESSION}/subagents/${a}.jsonl`),
    ])
    assert.ok(!byAbs.toJson().includes(top))

    // a directory argument, named four ways: the directory's name leads
    const seen = []
    for (const [dir, arg] of [
      [top, logs],
      [path.join(top, 'b'), 'logs'],
      [logs, '.'],
      [path.join(logs, 'proj'), '..'],
    ]) {
      process.chdir(dir)
      const d = tc.distill(arg, { policy: { allowBackfire: 'all' } })
      const cards = d.cards.map((c) => JSON.parse(c.toJson()))
      cards.sort((a, b) => a.session_id.localeCompare(b.session_id))
      assert.deepEqual(
        cards.map((c) => c.source.files),
        [['logs/proj/short.jsonl'], ['logs/proj/sub/tool_heavy.jsonl']],
        arg,
      )
      const text = d.cards.map((c) => c.toJson()).join('')
      assert.ok(!text.includes(top), arg)
      seen.push(text)
    }
    for (const s of seen) assert.equal(s, seen[0])
  } finally {
    process.chdir(cwd)
    rmSync(top, { recursive: true, force: true })
  }
})
