// Guard from Node: rules distilled here, history as a Recorder, a Trace or a real
// Claude Code transcript (the fixtures), and the errors.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { EXAMPLES, fixture, fixturesRoot, tc } from './helpers.mjs'

function rulesFrom(t, paths, policy) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tracecard-guard-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  tc.distill(paths, { policy: { allowBackfire: 'all', ...policy } }).write(dir)
  return path.join(dir, 'rules.yaml')
}

test('Guard on a Recorder: a repeated read is denied with its rule; a new read is not', (t) => {
  // minPruneTasks 1: the example corpus has one task per rule, so the rules become active
  const g = tc.Guard.load(rulesFrom(t, EXAMPLES, { minPruneTasks: 1 }))
  assert.ok(g.ruleIds.includes('prune-read-file-repeat-of-success-cfaa1b0b'), g.ruleIds)
  assert.ok(g.rulesInFile >= g.ruleIds.length)

  const rec = new tc.Recorder('guarded')
  const call = rec.llmCall('claude-sonnet-4-5')
  assert.equal(g.check('read_file', { path: 'cfg.toml' }, rec).allowed, true)
  const read = rec.toolUse('read_file', { arguments: { path: 'cfg.toml' }, requestedBy: call })
  read.setOutput('port = 6432')
  read.end()

  const again = g.check('read_file', { path: 'cfg.toml' }, rec)
  assert.equal(again.allowed, false)
  assert.equal(again.ruleId, 'prune-read-file-repeat-of-success-cfaa1b0b')
  assert.equal(again.after, 'repeat_of_success')
  assert.match(again.reason, /^prune-read-file-repeat-of-success-cfaa1b0b: .*proven waste in 1 step\(s\)/)
  // same history as a finished Trace: same decision
  assert.deepEqual(g.check('read_file', { path: 'cfg.toml' }, rec.trace), again)

  const other = g.check('read_file', { path: 'other.toml' }, rec)
  assert.deepEqual([other.allowed, other.ruleId], [true, undefined])
  assert.equal(g.check('list_dir', { path: '.' }, rec).reason, 'no rule names this tool')
})

test('held-back rules deny only with includeHeldBack', (t) => {
  const rules = rulesFrom(t, EXAMPLES, {})
  const strict = tc.Guard.load(rules)
  assert.deepEqual(strict.ruleIds, [])
  assert.equal(strict.check('bash', { cmd: 'pytest -q' }).allowed, true)
  const loose = tc.Guard.load(rules, { includeHeldBack: true })
  const d = loose.check('bash', { cmd: 'pytest -q' })
  assert.equal(d.allowed, false)
  assert.equal(d.after, 'before_any_read')
})

test('Guard on a real Claude Code transcript equals Guard on its Trace', (t) => {
  const root = fixturesRoot(t)
  if (!root) return
  const cc = path.join(root, 'claude-code')
  const rules = rulesFrom(t, [path.join(cc, 'sniffly'), path.join(cc, 'claude-code-viewer'), path.join(cc, 'spotter')], { minPruneTasks: 1 })
  const g = tc.Guard.load(rules, { includeHeldBack: true })
  assert.ok(g.ruleIds.length > 0)
  const transcript = fixture(cc, 'sniffly/d3ad4cdc-5657-435d-98fa-0035d53e383d.jsonl')
  const input = { command: 'python run.py', description: 'run it', timeout: 60000 }
  const byPath = g.check('Bash', input, transcript)
  assert.equal(byPath.allowed, false)
  assert.ok(g.ruleIds.includes(byPath.ruleId))
  assert.deepEqual(g.check('Bash', input, tc.load(transcript)), byPath)
  assert.equal(g.check('Bash', { command: 'ls', description: 'list' }, transcript).allowed, true)
})

test('Guard errors: missing rules file, bad rules, unreadable transcript', (t) => {
  assert.throws(() => tc.Guard.load(path.join(EXAMPLES, 'none.yaml')), { code: 'TRACECARD_IO', ioCode: 'ENOENT' })
  assert.throws(() => tc.Guard.load(path.join(EXAMPLES, 'fix-test.jsonl')), { code: 'TRACECARD_COSTCRAFT_PARSE' })
  const g = tc.Guard.load(rulesFrom(t, EXAMPLES, { minPruneTasks: 1 }))
  const missing = path.join(os.tmpdir(), 'tracecard-no-such-transcript.jsonl')
  assert.throws(() => g.check('read_file', { path: 'a.toml' }, missing), (e) => {
    assert.equal(e.code, 'TRACECARD_GUARD_TRANSCRIPT')
    assert.equal(e.path, missing)
    return true
  })
})
