"""tracecard.costcraft.Guard (issue 17): the decision on a pending tool call from a
Recorder, a Trace or a Claude Code transcript, and the pydantic-ai wrapper run
offline with its FunctionModel."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import tracecard
from tracecard import costcraft
from tracecard.costcraft import CostcraftError, Guard

RULES = """schema_version: costcraft-rules/1
generated_by: test
corpus: {sessions: 3, tasks: 2, steps: 40, total_cost_usd: 0.5, replayed_sessions: 3, outcomes: {}}
policy: {min_savings_usd: 0.001, min_session_share: 0.01, require_replay: false, min_prune_tasks: 2, max_counter_example_rate: 0.1, min_preserve_sessions: 2, min_steps: 10, max_tool_time_share: 0.5, allow_backfire: [], include_quarantined: false, skill_name: cost-rules}
tools: {read_only: [read_file, list_dir, Read, Grep], readers: [read_file, list_dir, Read, Grep]}
rules:
- id: prune-read_file-repeat-of-success-main
  action: prune
  status: active
  enforce: pre_tool_use
  match: {kind: tool_use, tool: read_file, scope: main, after: repeat_of_success}
  reason: read_file of a file already read successfully in this context with nothing but reads since
  support: {sessions: 3, tasks: 2, steps: 5}
  counter_examples: {sessions: 0, steps: 0, rate: 0.0}
  savings: {total_usd: 0.02, median_usd: 0.004}
  transfer_score: 0.6667
  confirmed_by: {"replay:test": 5}
  evidence: {supporting: []}
- id: prune-read-repeat-of-success-main
  action: prune
  status: active
  enforce: pre_tool_use
  match: {kind: tool_use, tool: Read, scope: main, after: repeat_of_success}
  reason: Read of a file already read successfully with nothing but reads since
  support: {sessions: 3, tasks: 2, steps: 4}
  counter_examples: {sessions: 0, steps: 0, rate: 0.0}
  savings: {total_usd: 0.02, median_usd: 0.005}
  transfer_score: 0.6667
  confirmed_by: {"replay:test": 4}
  evidence: {supporting: []}
- id: prune-read_file-repeat-after-change-main
  action: prune
  status: active
  enforce: pre_tool_use
  match: {kind: tool_use, tool: read_file, scope: main, after: repeat_after_change}
  reason: read_file again after a change
  support: {sessions: 2, tasks: 2, steps: 2}
  counter_examples: {sessions: 0, steps: 0, rate: 0.0}
  savings: {total_usd: 0.01, median_usd: 0.005}
  transfer_score: 0.5
  confirmed_by: {"replay:test": 2}
  evidence: {supporting: []}
- id: prune-list_dir-repeat-of-success-held
  action: prune
  status: held_back
  enforce: pre_tool_use
  match: {kind: tool_use, tool: list_dir, scope: main, after: repeat_of_success}
  reason: held back, never denies
  support: {sessions: 1, tasks: 1, steps: 1}
  counter_examples: {sessions: 0, steps: 0, rate: 0.0}
  savings: {total_usd: 0.01, median_usd: 0.01}
  transfer_score: 0.5
  confirmed_by: {dataflow: 1}
  held_back: [support in 1 task]
  evidence: {supporting: []}
"""


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    p = tmp_path / "rules.yaml"
    p.write_text(RULES)
    return p


def _read(rec: tracecard.Recorder, path: str, ok: bool = True) -> None:
    with rec.tool_use("read_file", {"path": path}) as t:
        if ok:
            t.set_result(f"contents of {path}")
        else:
            t.error("no such file")


def test_load_active_rules_and_repeat_after_change(rules: Path) -> None:
    g = Guard.load(rules)
    # held-back rules never deny; repeat_after_change rules only when allowed
    assert g.active_rules == ["prune-read_file-repeat-of-success-main", "prune-read-repeat-of-success-main"]
    assert [r["id"] for r in g.rules] == g.active_rules
    g2 = Guard.load(str(rules), allow_repeat_after_change=True)
    assert g2.active_rules[-1] == "prune-read_file-repeat-after-change-main"
    assert Guard.load(rules, min_support=4).active_rules == []
    assert repr(g) == "<Guard 2 active rule(s)>"


def test_duplicate_read_denied_from_recorder_and_trace(rules: Path) -> None:
    g = Guard.load(rules)
    rec = tracecard.Recorder("s1")
    rec.user_input("summarise a.txt")
    assert g.check("read_file", {"path": "a.txt"}, rec).allowed  # nothing read yet
    _read(rec, "a.txt")
    with rec.tool_use("list_dir", {"path": "."}) as t:  # a read-only tool in between
        t.set_result("a.txt b.txt")
    for history in (rec, rec.trace):
        d = g.check("read_file", {"path": "a.txt"}, history)
        assert not d and not d.allowed
        assert d.rule_id == "prune-read_file-repeat-of-success-main"
        assert d.reason.startswith("prune-read_file-repeat-of-success-main: read_file of a file already read")
        assert "proven waste in 5 step(s) of 3 session(s) across 2 task(s); 0 counter-example(s)" in d.reason
        assert d.after == "repeat_of_success"
    # another file, another tool, or no history: allowed
    assert g.check("read_file", {"path": "b.txt"}, rec).after == "any"
    assert g.check("write_file", {"path": "a.txt"}, rec).reason == "no rule names this tool"
    assert g.check("read_file", {"path": "a.txt"}).allowed
    # the same read in a sub-agent: its context never read it
    with rec.subagent("Task", "general-purpose") as sa:
        d = g.check("read_file", {"path": "a.txt"}, rec, subagent=sa)
        assert d.allowed, d
    # a write since: the file may have changed (repeat_after_change rules are off)
    with rec.tool_use("write_file", {"path": "a.txt", "text": "new"}) as t:
        t.set_result("ok")
    d = g.check("read_file", {"path": "a.txt"}, rec)
    assert d.allowed and d.after == "repeat_after_change"
    d = Guard.load(rules, allow_repeat_after_change=True).check("read_file", {"path": "a.txt"}, rec)
    assert d.rule_id == "prune-read_file-repeat-after-change-main"
    # a failed read is retried, not repeated; a denied call never ran
    rec2 = tracecard.Recorder("s2")
    _read(rec2, "c.txt", ok=False)
    assert g.check("read_file", {"path": "c.txt"}, rec2).after == "retry_of_failure"
    rec3 = tracecard.Recorder("s3")
    with rec3.tool_use("read_file", {"path": "d.txt"}) as t:
        t.deny("prune-x: no")
    assert g.check("read_file", {"path": "d.txt"}, rec3).allowed
    # deterministic
    assert [g.check("read_file", {"path": "a.txt"}, rec.trace).reason for _ in range(3)] == [
        g.check("read_file", {"path": "a.txt"}, rec.trace).reason
    ] * 3


def test_bad_subagent_and_bad_history(rules: Path) -> None:
    g = Guard.load(rules)
    rec = tracecard.Recorder("s")
    _read(rec, "a.txt")
    with pytest.raises(CostcraftError) as ei:
        g.check("read_file", {"path": "a.txt"}, rec, subagent=1)  # a tool step, not a spawn
    assert ei.value.kind == "input" and "not a sub-agent spawn" in str(ei.value)
    with pytest.raises(TypeError):
        g.check("read_file", {"path": "a.txt"}, 42)  # type: ignore[arg-type]
    with pytest.raises(CostcraftError) as ei:
        g.check("read_file", {"path": "a.txt"}, "/nonexistent/session.jsonl")
    assert "/nonexistent/session.jsonl" in str(ei.value)


def test_bad_rules_file_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    text = RULES.replace("tool: Read, scope: main,", "tool: Read, scope: mian,")
    bad.write_text(text)
    with pytest.raises(CostcraftError) as ei:
        Guard.load(bad)
    e = ei.value
    line = 1 + text.splitlines().index(next(s for s in text.splitlines() if "mian" in s))
    assert (e.kind, e.path, e.line) == ("parse", str(bad), line)
    assert f"{bad}:{line}: field rules[1].match.scope: unknown variant `mian`" in str(e)
    with pytest.raises(tracecard.NotFoundError):
        Guard.load(tmp_path / "missing.yaml")


def _transcript(dir: Path) -> Path:
    """A Claude Code transcript as the hook sees it: a read done, the next call pending."""
    recs = [
        {"type": "user", "timestamp": "2026-01-01T00:00:00.000Z", "message": {"role": "user", "content": "read a.txt"}},
        {"type": "assistant", "timestamp": "2026-01-01T00:00:01.000Z", "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/r/a.txt"}}]}},
        {"type": "user", "timestamp": "2026-01-01T00:00:02.000Z", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "alpha"}]}},
    ]
    p = dir / "s1.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return p


def test_claude_code_transcript_history(rules: Path, tmp_path: Path) -> None:
    g = Guard.load(rules)
    t = _transcript(tmp_path)
    d = g.check("Read", {"file_path": "/r/a.txt"}, t)
    assert (d.allowed, d.rule_id) == (False, "prune-read-repeat-of-success-main")
    assert g.check("Read", {"file_path": "/r/a.txt"}, str(t), agent_id="ab12", agent_type="general-purpose").reason.startswith(
        "state unavailable"
    )
    assert g.check("Read", {"file_path": "/r/b.txt"}, t).allowed


def test_real_claude_code_transcript(rules: Path) -> None:
    from conftest import fixture

    main = fixture("claude-code/spotter/fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl")
    g = Guard.load(rules)
    reads = []
    for line in main.read_text().splitlines():
        v = json.loads(line)
        if v.get("type") == "assistant":
            for b in v["message"].get("content") or []:
                if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("name") == "Read":
                    reads.append(b["input"])
    assert reads
    # at the end of the session: a Read denied only as a repeat of a success
    decisions = [g.check("Read", inp, main) for inp in reads]
    assert all(d.after is not None for d in decisions)
    assert all(d.allowed == (d.after != "repeat_of_success") for d in decisions)


pydantic = pytest.mark.skipif(sys.version_info < (3, 10), reason="pydantic-ai needs Python >= 3.10")


@pydantic
def test_pydantic_ai_guarded_toolset(rules: Path) -> None:
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel
    from pydantic_ai.toolsets import FunctionToolset

    from tracecard.costcraft.pydantic_ai import GuardedToolset

    files = {"a.txt": "alpha\nTODO one\n", "b.txt": "beta\n"}
    ran: list[str] = []

    def read_file(path: str) -> str:
        """Read a text file."""
        ran.append(path)
        return files[path]

    def count_todos(text: str) -> int:
        """Count TODO markers in a text."""
        return text.count("TODO")

    plan = [
        ("read_file", {"path": "a.txt"}),
        ("read_file", {"path": "b.txt"}),
        ("read_file", {"path": "a.txt"}),  # the duplicate: denied
        ("count_todos", {"text": "alpha\nTODO one\n"}),
    ]
    seen: list[list[object]] = []

    def script(messages: list, info: AgentInfo) -> ModelResponse:
        turn = sum(1 for m in messages if isinstance(m, ModelResponse))
        seen.append([p for m in messages if isinstance(m, ModelRequest) for p in m.parts])
        if turn < len(plan):
            name, args = plan[turn]
            return ModelResponse(parts=[ToolCallPart(name, args, tool_call_id=f"call_{turn}")])
        return ModelResponse(parts=[TextPart("a.txt has 1 TODO.")])

    rec = tracecard.Recorder("guarded")
    guard = Guard.load(rules)
    tools = GuardedToolset(FunctionToolset([read_file, count_todos]), guard, rec)
    result = Agent(FunctionModel(script), toolsets=[tools]).run_sync("How many TODOs in a.txt?")
    assert result.output == "a.txt has 1 TODO."
    # the duplicate never ran; everything else did
    assert ran == ["a.txt", "b.txt"]
    # the model got the denial as the failed result of call_2, with the reason
    returns = {p.tool_call_id: p for p in seen[-1] if isinstance(p, ToolReturnPart)}
    denied = returns["call_2"]
    assert denied.outcome == "failed", denied
    assert "prune-read_file-repeat-of-success-main: " in denied.model_response_str()
    assert returns["call_3"].content == 1 and returns["call_0"].content == files["a.txt"]
    # the decisions were recorded
    assert [(r.tool_call_id, r.tool_name, r.decision.allowed) for r in tools.decisions] == [
        ("call_0", "read_file", True),
        ("call_1", "read_file", True),
        ("call_2", "read_file", False),
        ("call_3", "count_todos", True),
    ]
    assert tools.decisions[2].decision.rule_id == "prune-read_file-repeat-of-success-main"
    trace = rec.finish()
    assert trace.metadata[costcraft.ACTIVE_RULES_KEY] == ",".join(guard.active_rules)
    steps = [s for s in trace.steps if s.kind == "tool_use"]
    assert [s.status for s in steps] == ["ok", "ok", "denied", "ok"]
    assert steps[2].error == tools.decisions[2].decision.reason
    raw = [s for s in trace.to_dict()["steps"] if s["kind"] == "tool_use"]
    assert raw[2]["attributes"]["costcraft.rule_id"] == "prune-read_file-repeat-of-success-main"
    card = trace.compile()
    assert [s.status for s in card.steps if s.kind == "tool_use"] == ["ok", "ok", "denied", "ok"]
