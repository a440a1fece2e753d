"""Real fixtures from the shared corpus, through the Python API (importers of the core)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import tracecard
from conftest import fixture, fixtures_root, need_format

LARGEST = "claude-code/spotter/fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl"

NAMED = [
    ("claude_code", LARGEST),
    ("claude_code", "claude-code/spotter/short.jsonl"),
    ("otlp", "otlp-real/pydantic-ai/s1_unused_file_read.otlp.json"),
    ("otlp", "otlp-real/vercel-ai-sdk-v7/s4_clean.otlp.json"),
    ("langfuse", "langfuse/pydantic-ai-tools-2025-12-04.trace.json"),
    ("codex", "codex/rollout-2026-02-23T12-40-23-019c8a4c-ed82-79a1-aa28-7738fc5ab61a.jsonl"),
    ("inspect", "inspect/log_read_sample.eval"),
    ("inspect", "inspect/log_tool_call_error.json"),
    ("chat_log", "mini-swe-agent/django__django-12983.deepseek-chat.traj.json"),
    ("swe_agent", "swe-agent/pydicom__pydicom-1458.gpt4.traj"),
    ("openhands", "openhands/basic.json"),
]


def _check_card(trace: tracecard.Trace) -> tracecard.TraceCard:
    card = trace.compile()
    assert len(card) == len(trace)  # an OTel trace may hold no GenAI step at all
    assert card.total_cost_usd == sum((s.cost_usd or Decimal(0)) for s in card.steps)
    assert card.to_dict()["session_id"] == trace.session_id
    return card


@pytest.mark.parametrize("fmt,rel", NAMED, ids=[r for _, r in NAMED])
def test_named_importers(fmt: str, rel: str) -> None:
    p = fixture(rel)
    need_format(fmt)
    assert tracecard.detect(p) == fmt
    traces = tracecard.load_all(p)
    assert traces and all(t.format == fmt for t in traces)
    for t in traces:
        _check_card(t)
    if len(traces) == 1:
        assert tracecard.load(p, format=fmt).session_id == traces[0].session_id


def test_largest_fixture_subagents_and_cost() -> None:
    need_format("claude_code")
    trace = tracecard.load(fixture(LARGEST))
    card = _check_card(trace)
    assert card.total_cost_usd > 0
    spawns = [s for s in trace.steps if s.kind == "subagent_spawn"]
    assert spawns, "the spotter session runs sub-agents"
    assert any(s.parent == spawns[0].id for s in trace.steps)
    assert any(s.source_ref for s in card.steps)


def test_every_recognised_fixture_loads_and_compiles() -> None:
    root = fixtures_root()
    recognised = 0
    for p in sorted(root.rglob("*")):
        if not p.is_file() or "subagents" in p.parts:
            continue
        fmt = tracecard.detect(p)
        if fmt is None:
            continue
        recognised += 1
        for t in tracecard.load_all(p):
            _check_card(t)
    assert recognised >= 10, f"only {recognised} fixture files recognised (formats: {tracecard.formats()})"


def test_several_sessions_in_one_file() -> None:
    """An OTLP export holding ten traces: load() refuses, load_all() returns them."""
    need_format("otlp")
    p = fixture("otel-genai/vercel-ai-sdk-v6/all-spans.json")
    traces = tracecard.load_all(p)
    assert len(traces) == 10
    assert len({t.session_id for t in traces}) == 10
    with pytest.raises(tracecard.MultipleSessionsError) as ei:
        tracecard.load(p)
    assert ei.value.count == 10 and "load_all" in str(ei.value) and ei.value.path == str(p)
    assert isinstance(ei.value, ValueError)
    one = tracecard.load(fixture("otlp-real/pydantic-ai/s4_clean.otlp.json"))
    assert len(one) == 6


@pytest.mark.parametrize("fmt,rel,n", [
    ("inspect", "inspect/2025-05-12T20-28-26-04-00_security-guide.json", 3),
    ("openhands", "openhands/resolver-output.v0-legacy.jsonl", 2),
])
def test_several_sessions_other_formats(fmt: str, rel: str, n: int) -> None:
    p = fixture(rel)
    need_format(fmt)
    assert len(tracecard.load_all(p)) == n
    with pytest.raises(tracecard.MultipleSessionsError) as ei:
        tracecard.load(p, format=fmt)
    assert ei.value.count == n


def _sidecar_cases() -> list[str]:
    try:
        root = fixtures_root()
    except BaseException:  # skipped/failed outside a test: let the test report it
        return ["otlp-real/pydantic-ai/s1_unused_file_read.otlp.json"]
    return sorted(str(p.relative_to(root)) for p in root.glob("otlp-real/*/*.otlp.json"))


@pytest.mark.parametrize("rel", _sidecar_cases())
def test_otlp_redundancy_matches_ground_truth(rel: str) -> None:
    """The `.waste.json` sidecars say which tool calls were wasted; the card agrees."""
    need_format("otlp")
    p = fixture(rel)
    truth = json.loads(p.with_name(p.name.replace(".otlp.json", ".waste.json")).read_text())
    trace = tracecard.load(p)
    card = trace.compile()

    def card_step(call: dict) -> tracecard.CardStep:
        ids = {call["tool_call_id"], call["tool_span_id"]}
        for s in trace.steps:
            if s.kind == "tool_use" and (s.tool_call_id in ids or s.source_ref in ids):
                cs = card.step(s.id)
                assert cs is not None
                return cs
        raise AssertionError(f"no tool step for {call['tool_call_id']} in {rel}")

    wasted = {w["tool_call_id"] for w in truth["wasted"]}
    for w in truth["wasted"]:
        cs = card_step(w)
        # a duplicate is proven waste; an unused read delivered to the model is
        # left open (`unproven`) until a replay decides
        want = "unproven" if "unused" in rel else "redundant"
        assert cs.verdict == want and cs.reason, f"{rel}: {w['tool_name']} {w['arguments']} should be {want}"
    for call in truth["tool_calls"]:
        if call["tool_call_id"] not in wasted:
            assert not card_step(call).redundant, f"{rel}: {call['tool_name']} {call['arguments']} is used"
    llm = [s for s in card.steps if s.kind == "llm_call"]
    assert len(llm) == len(truth["llm_calls"])
    assert [s.tokens.prompt_total for s in llm] == [c["usage_in_span"]["input_tokens"] for c in truth["llm_calls"]]
    assert all(s.cost_usd is not None and s.cost_usd > 0 for s in llm)


def test_pydantic_ai_fixture_cost_is_exact() -> None:
    need_format("otlp")
    card = tracecard.load(fixture("otlp-real/pydantic-ai/s1_unused_file_read.otlp.json")).compile()
    # gpt-4.1-mini: $0.40/M input, $1.60/M output; 2224 input + 69 output tokens
    assert card.total_cost_usd == Decimal("0.001")
    assert [s.kind for s in card.steps].count("tool_use") == 2


def test_bad_fixture_copy_reports_line(tmp_path: Path) -> None:
    """A real Claude Code transcript with one corrupted line in the middle."""
    need_format("claude_code")
    src = fixture("claude-code/spotter/short.jsonl").read_text().splitlines(keepends=True)
    assert len(src) > 3
    src[2] = '{"type": "assistant", "message": \n'
    p = tmp_path / "corrupt.jsonl"
    p.write_text("".join(src))
    with pytest.raises(tracecard.ParseError) as ei:
        tracecard.load(p, format="claude_code")
    assert ei.value.line == 3 and ei.value.path == str(p)


def test_discover_skips_pulled_in_subagent_files() -> None:
    root = fixture("claude-code/spotter")
    files = tracecard.discover(root)
    assert files == sorted(files)
    assert any(f.endswith("fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl") for f in files)
    assert not any("/subagents/" in f for f in files)
    assert tracecard.discover(root / "short.jsonl") == [str(root / "short.jsonl")]
