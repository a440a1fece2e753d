"""Trace.compile and TraceCard: costs as Decimal, steps, serialisation, prices."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import tracecard
from agent_helpers import run_agent


def test_card_fields_and_exact_money() -> None:
    card = run_agent().compile()
    assert card.schema_version == tracecard.CARD_SCHEMA_VERSION == "tracecard/1"
    assert card.session_id == "ledgerd-s1" and card.outcome == "success"
    assert isinstance(card.total_cost_usd, Decimal)
    steps = card.steps
    assert len(card) == len(steps) == 6
    for s in steps:
        assert isinstance(s.id, int) and s.kind in ("user_input", "llm_call", "tool_use")
        assert s.cost_usd is None or isinstance(s.cost_usd, Decimal)
        assert isinstance(s.redundant, bool)
        assert s.reason is None or isinstance(s.reason, str)
        assert s.source_ref is None or isinstance(s.source_ref, str)
        assert isinstance(s.tokens, tracecard.TokenUsage)
    # exact: the total is the sum of the steps, to the nano-dollar
    assert card.total_cost_usd == sum((s.cost_usd or Decimal(0)) for s in steps)
    llm = [s for s in steps if s.kind == "llm_call"]
    table = tracecard.PriceTable.bundled()
    for s in llm:
        assert s.cost_source == "computed" and s.priced_as == "gpt-4.1-mini"
        assert s.cost_usd == table.cost("gpt-4.1-mini", s.tokens)
    assert all(s.cost_usd == 0 and s.cost_source == "free" for s in steps if s.kind == "tool_use")
    assert card.tokens.input == sum(s.tokens.input for s in steps)
    assert card.prices.startswith("bundled ")
    assert card.redundant_cost_usd == sum((s.cost_usd or 0) for s in card.redundant_steps)
    assert card.rollups["by_model"]["gpt-4.1-mini"]["steps"] == 3


def test_serialisation_roundtrips() -> None:
    card = run_agent().compile()
    y, j, d = card.to_yaml(), card.to_json(), card.to_dict()
    assert y.startswith("schema_version: tracecard/1\n")
    assert json.loads(j)["session_id"] == "ledgerd-s1"
    assert isinstance(d["total_cost_usd"], Decimal) and d["total_cost_usd"] == card.total_cost_usd
    assert d["steps"][1]["cost_usd"] == card.steps[1].cost_usd
    assert tracecard.TraceCard.from_json(j) == card
    assert tracecard.TraceCard.from_yaml(y) == card
    assert card.steps[1].to_dict()["kind"] == "llm_call"
    assert "TraceCard" in tracecard.TraceCard.json_schema()
    # deterministic
    assert run_agent().compile().to_dict()["total_cost_usd"] == d["total_cost_usd"]


def test_prices_path_litellm_and_own_format_and_object(tmp_path: Path) -> None:
    trace = run_agent()
    lite = tmp_path / "litellm.json"
    lite.write_text(json.dumps({
        "gpt-4.1-mini": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "openai"}
    }))
    card = trace.compile(prices=lite)
    first = card.steps[1]
    assert first.cost_usd == Decimal(first.tokens.input) * Decimal("0.000001") + Decimal(first.tokens.output) * Decimal("0.000002")
    assert str(lite) in card.prices
    assert trace.compile(prices=str(lite)).total_cost_usd == card.total_cost_usd
    table = tracecard.PriceTable.load(lite)
    assert len(table) == 1 and trace.compile(prices=table).total_cost_usd == card.total_cost_usd
    assert tracecard.PriceTable.from_litellm_json(lite.read_text()).priced_as("gpt-4.1-mini") == "gpt-4.1-mini"
    own = tmp_path / "own.json"
    own.write_text(json.dumps({"as_of": "2026-01-01", "models": [
        {"id": "gpt-4.1-mini", "provider": "openai", "input": "1", "output": "2"}]}))
    t2 = tracecard.PriceTable.load(own)
    assert trace.compile(prices=t2).total_cost_usd == card.total_cost_usd
    assert trace.compile(prices=own).total_cost_usd == card.total_cost_usd
    assert tracecard.PriceTable.from_json(own.read_text()).priced_as("gpt-4.1-mini") == "gpt-4.1-mini"
    ov = tracecard.PriceTable.with_override(lite)
    assert len(ov) == 1 and "over bundled" in ov.name
    assert tracecard.PriceTable.bundled_as_of() in tracecard.PriceTable.bundled().name


def test_unknown_model_cost_is_none_with_warning() -> None:
    rec = tracecard.Recorder("unk")
    with rec.llm_call("my-private-model-7b") as c:
        c.set_tokens(input=10, output=10)
    card = rec.finish().compile()
    assert card.steps[0].cost_usd is None and card.steps[0].cost_source == "unknown"
    assert card.unpriced_steps == 1
    assert any(w["code"] == "unknown_model" for w in card.warnings)


def test_bad_prices_argument() -> None:
    trace = run_agent()
    with pytest.raises(TypeError):
        trace.compile(prices=42)  # type: ignore[arg-type]
    with pytest.raises(tracecard.NotFoundError):
        trace.compile(prices="/nonexistent/prices.json")


def test_analyze_off_and_trace_helpers() -> None:
    trace = run_agent()
    card = trace.compile(analyze=False)
    assert not any(s.redundant for s in card.steps)
    smaller = trace.without([3])
    assert len(smaller) == len(trace) - 1
    assert [s.id for s in smaller.steps] == list(range(1, len(trace)))
    smaller.validate()
    red = trace.redacted()
    assert all(s.output is None for s in red.steps)
    assert trace.step(1) is not None and trace.step(99) is None
    d = trace.to_dict()
    assert d["session_id"] == "ledgerd-s1"
    assert "Trace" in repr(trace) and "TraceCard" in repr(card)
