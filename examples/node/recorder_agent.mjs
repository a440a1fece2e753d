// A small agent loop recorded with tracecard's Node Recorder, then compiled into a
// card. The "model" is scripted (no network): it plans two file reads, one of which
// it never uses, and spawns a sub-agent whose answer it ignores. The card prices every
// step and flags what the answer did not need; a replayer (here: the scripted agent
// re-run without the removed steps) confirms the flags.
//
//   make -C bindings/node build && node examples/node/recorder_agent.mjs
import { Recorder } from '../../bindings/node/index.mjs'

const FILES = { 'config/prod.toml': 'port = 8443', 'README.md': '# demo service' }

function runAgent(rec) {
  rec.userInput('Which port does prod listen on?')
  const plan = rec.llmCall('gpt-4.1-mini', { provider: 'openai' })
  plan.setTokens({ input: 606, output: 22 })
  plan.setOutput('read_file(config/prod.toml); read_file(README.md); task(explorer)')
  plan.end()

  const reads = []
  for (const file of Object.keys(FILES)) {
    const t = rec.toolUse('read_file', { arguments: { path: file }, requestedBy: plan })
    t.reads(file)
    t.setResult(FILES[file])
    t.end()
    reads.push([file, t])
  }

  const sub = rec.subagent('task', 'explorer', { requestedBy: plan })
  const look = rec.llmCall('gpt-4.1-mini')
  look.setTokens({ input: 300, output: 12 })
  look.setOutput('nothing else relevant')
  look.end()
  sub.setResult('nothing else relevant', { from: look })
  sub.end()

  const answer = rec.llmCall('gpt-4.1-mini')
  for (const [, t] of reads) answer.inContext(t)
  answer.inContext(sub)
  answer.consumes(reads[0][1]) // the answer quotes the config file only
  answer.setTokens({ input: 720, output: 9 })
  answer.setOutput('8443')
  answer.end()
  return rec.finish({ outcome: 'success', evidence: [{ verifier: 'expected-answer', passed: true }] })
}

const trace = runAgent(new Recorder('recorder-agent'))
// The scripted agent only needs the config file's contents: any replay that keeps
// the config read (and the model calls around it) still answers 8443.
const card = await trace.compileAsync({
  replayer: function scriptedAgent(candidate) {
    return candidate.steps.some((s) => s.kind === 'tool_use' && s.reads.includes('config/prod.toml'))
  },
})

console.log(`total ${card.totalCostUsd} USD, redundant ${card.redundantCostUsd} USD, ${card.replaysUsed} replays`)
for (const s of card.steps) {
  console.log(`${String(s.id).padStart(2)} ${s.kind.padEnd(14)} ${(s.tool ?? s.model ?? '').padEnd(13)} ${(s.costUsd ?? '?').padStart(10)}  ${s.verdict}${s.reason ? ` (${s.reason})` : ''}`)
}
console.log()
console.log(card.toYaml())
