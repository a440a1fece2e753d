"""tracecard.Recorder: context managers, errors, timing, sub-agents, save/load."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

import tracecard
from agent_helpers import run_agent


def test_context_managers_record_tokens_outputs_links_and_timing() -> None:
    rec = tracecard.Recorder("s")
    q = rec.user_input("what port?")
    with rec.llm_call("claude-sonnet-4-5", provider="anthropic") as call:
        call.set_tokens(input=1200, output=80, cache_read=10)
        call.set_output("read cfg.toml")
        call.requests(["toolu_1"])
    with rec.tool_use("read_file", {"path": "cfg.toml"}, requested_by=call, tool_call_id="toolu_1") as t:
        time.sleep(0.02)
        t.reads("cfg.toml")
        t.writes("notes.md")
        t.set_result("port = 6432")
        t.set_attribute("exit_code", "0")
    with rec.llm_call("claude-sonnet-4-5") as ans:
        ans.set_tokens(tracecard.TokenUsage(input=1300, output=20))
        ans.set_output("The port is 6432.")
        ans.consumes(t)
        ans.in_context(t.id)
    assert len(rec) == 4 and not rec.finished
    trace = rec.finish("success")
    assert rec.finished
    s = trace.steps
    assert [x.kind for x in s] == ["user_input", "llm_call", "tool_use", "llm_call"]
    assert q == 1 and s[0].output == "what port?"
    assert s[1].model == "claude-sonnet-4-5" and s[1].provider == "anthropic"
    assert s[1].tokens == tracecard.TokenUsage(input=1200, output=80, cache_read=10)
    assert s[2].tool == "read_file" and s[2].input == '{"path": "cfg.toml"}'
    assert s[2].output == "port = 6432" and s[2].reads == ["cfg.toml"] and s[2].writes == ["notes.md"]
    assert s[2].consumes == [2] and s[2].tool_call_id == "toolu_1"
    assert s[2].attributes == {"exit_code": "0"}
    assert s[2].duration_ms is not None and s[2].duration_ms >= 15
    assert s[3].consumes == [3] and s[3].context == [3]
    assert trace.final_step == 4 and trace.answer == "The port is 6432."
    assert trace.outcome == "success" and trace.format == "native"
    assert trace.total_tokens.input == 2500


def test_exception_in_block_marks_error_and_reraises() -> None:
    rec = tracecard.Recorder("err")
    with rec.llm_call("gpt-4.1-mini") as call:
        call.set_tokens(input=10, output=1)
    with pytest.raises(KeyError, match="missing.txt"):
        with rec.tool_use("read_file", "missing.txt", requested_by=call):
            raise KeyError("missing.txt")
    trace = rec.finish("failure")
    tool = trace.steps[1]
    assert tool.status == "error"
    assert tool.error == "KeyError: 'missing.txt'"
    assert tool.ended_at is not None
    card = trace.compile()
    assert card.steps[1].status == "error"
    assert card.outcome == "failure"


def test_subagent_children_and_result() -> None:
    rec = tracecard.Recorder("sub")
    with rec.llm_call("claude-sonnet-4-5") as lead:
        lead.set_tokens(input=100, output=10)
    with rec.subagent("Task", "explorer", requested_by=lead) as sub:
        with rec.llm_call("claude-haiku-4-5") as inner:
            inner.set_tokens(input=50, output=5)
            inner.set_output("found it")
        sub.set_result("found it", result_from=inner)
    with rec.llm_call("claude-sonnet-4-5") as after:
        after.set_tokens(input=120, output=10)
    trace = rec.finish()
    spawn, child, last = trace.steps[1], trace.steps[2], trace.steps[3]
    assert spawn.kind == "subagent_spawn" and spawn.tool == "Task" and spawn.agent == "explorer"
    assert child.parent == spawn.id and last.parent is None
    assert spawn.output == "found it" and spawn.consumes == [lead.id, inner.id]
    card = trace.compile()
    sc = card.step(spawn.id)
    assert sc is not None and sc.subtree_cost_usd == card.step(child.id).cost_usd  # type: ignore[union-attr]
    assert trace.final_step == after.id  # last successful top-level model call


def test_finish_options_and_finished_state(tmp_path: Path) -> None:
    rec = tracecard.Recorder("opts", keep_content=False)
    with rec.llm_call("gpt-4.1-mini") as a:
        a.set_tokens(tracecard.TokenUsage.from_inclusive(input_total=1000, cache_read=400, output=10))
        a.set_output("secret answer")
        a.reported_cost(Decimal("0.0004"))
    rec.reads(a, "x.txt")
    rec.writes(a.id, "y.txt")
    rec.error(a, "rate limited")
    rec.reported_cost(a, "0.0005")
    trace = rec.finish(
        "failure",
        evidence=[{"verifier": "pytest", "passed": False, "message": "1 failed", "artifacts": ["y.txt"]}],
        final_step=a,
    )
    assert trace.content == "hashed"
    s = trace.steps[0]
    assert s.output is None and s.tokens.input == 600 and s.tokens.cache_read == 400
    assert s.reported_cost_usd == Decimal("0.0005")
    assert s.status == "error" and s.error == "rate limited"
    assert trace.evidence == [{"verifier": "pytest", "passed": False, "message": "1 failed", "artifacts": ["y.txt"]}]
    with pytest.raises(tracecard.TracecardError, match="finished"):
        rec.user_input("more")
    with pytest.raises(tracecard.TracecardError):
        rec.finish()
    # save still works after finish
    p = tmp_path / "t.jsonl"
    rec.save(p)
    assert tracecard.load(p).outcome == "failure"
    with pytest.raises(ValueError, match="outcome"):
        tracecard.Recorder("x").finish("maybe")
    with pytest.raises(TypeError):
        tracecard.Recorder("x").consumes("a", 1)  # type: ignore[arg-type]


def test_save_load_roundtrip_native(tmp_path: Path) -> None:
    trace = run_agent()
    p = tmp_path / "run.jsonl"
    trace.save(p)
    assert p.read_text().startswith('{"record":"session"')
    again = tracecard.load(p)
    assert tracecard.detect(p) == "native"
    assert again.session_id == trace.session_id and len(again) == len(trace)
    assert [s.to_dict() for s in again.steps] == [s.to_dict() for s in trace.steps]
    assert again.compile().to_dict()["steps"] == trace.compile().to_dict()["steps"]
    # the JSON (single document) shape loads too
    j = tmp_path / "run.json"
    j.write_text(trace.to_json())
    assert len(tracecard.load(j)) == len(trace)
    assert len(tracecard.loads(trace.to_jsonl())) == len(trace)
    assert len(tracecard.loads(trace.to_jsonl().encode(), format="native")) == len(trace)


def test_save_before_finish_writes_trace_so_far(tmp_path: Path) -> None:
    rec = tracecard.Recorder("partial")
    with rec.llm_call("gpt-4.1-mini") as c:
        c.set_tokens(input=5, output=5)
    p = tmp_path / "partial.jsonl"
    rec.save(p)
    t = tracecard.load(p)
    assert len(t) == 1 and t.outcome == "unknown"


def test_handle_without_with_block() -> None:
    rec = tracecard.Recorder("manual")
    h = rec.tool_use("bash", "ls")
    h.set_output("a b")
    h.end()
    assert int(h) == 1 and h.kind == "tool_use"
    t = rec.finish()
    assert t.steps[0].ended_at is not None and t.final_step is None
