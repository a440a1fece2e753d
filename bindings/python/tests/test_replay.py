"""Counterfactual replay with a Python replayer that really re-runs a small agent."""

from __future__ import annotations

from typing import Any

import pytest

import tracecard
from agent_helpers import FILES, run_agent


class Calls:
    def __init__(self) -> None:
        self.seen: list[tuple[int, list[int]]] = []


def make_replayer(calls: Calls) -> Any:
    def replay_agent(trace: tracecard.Trace, removed: list[int]) -> str:
        assert isinstance(trace, tracecard.Trace)
        assert all(isinstance(i, int) for i in removed)
        calls.seen.append((len(trace), list(removed)))
        still_read = {p for s in trace.steps for p in s.reads}
        skipped = frozenset(p for p in FILES if p not in still_read)
        return run_agent(skip_paths=skipped).outcome

    return replay_agent


def _dev_read(card: tracecard.TraceCard) -> tracecard.CardStep:
    trace_steps = run_agent().steps
    sid = next(s.id for s in trace_steps if s.reads == ["config/dev.toml"])
    step = card.step(sid)
    assert step is not None
    return step


def test_replayer_confirms_the_unused_read() -> None:
    trace = run_agent()
    calls = Calls()
    card = trace.compile(replayer=make_replayer(calls))
    assert calls.seen, "the core never called the Python replayer"
    original = len(trace)
    for n, removed in calls.seen:
        assert n == original - len(removed)
    dev = _dev_read(card)
    assert dev.redundant, card.to_yaml()
    assert dev.reason
    assert dev.verdict == "redundant" and dev.evidence == "replay"
    assert dev.confirmed_by == "replay:replay_agent"
    assert card.replays_used is not None and 2 <= card.replays_used <= 32
    prod = next(s for s in card.steps if s.kind == "tool_use" and s.id != dev.id)
    assert not prod.redundant
    final = card.steps[-1]
    assert not final.redundant and final.confirmed_by is None


def test_without_replayer_the_unused_read_is_unproven() -> None:
    """Delivered to a model call and quoted nowhere: nothing proves it was ignored."""
    card = run_agent().compile()
    dev = _dev_read(card)
    assert dev.verdict == "unproven" and not dev.redundant, card.to_yaml()
    assert dev.reason and "nothing shows" in dev.reason
    assert dev in card.unproven_steps or dev.id in [s.id for s in card.unproven_steps]
    assert card.unproven_cost_usd > 0
    assert card.replays_used is None


def test_replay_budget_bounds_the_replays() -> None:
    calls = Calls()
    card = run_agent().compile(replayer=make_replayer(calls), replay_budget=2)
    assert card.replays_used is not None and card.replays_used <= 2
    assert len(calls.seen) <= 2


def test_replayer_that_rejects_every_removal_unflags() -> None:
    """Baseline success, failure whenever anything is removed: no flag survives."""

    def strict(trace: tracecard.Trace, removed: list[int]) -> bool:
        return not removed

    card = run_agent().compile(replayer=strict)
    assert not any(s.redundant for s in card.steps)
    tested = [s for s in card.steps if s.confirmed_by is not None]
    assert tested and all(s.confirmed_by == "replay:strict" for s in tested)
    assert all(s.verdict == "needed" and s.evidence == "replay" for s in tested)
    assert any(w["code"] == "replay_rejected" for w in card.warnings)


def test_replayer_outcome_shapes() -> None:
    class Verdict:
        status = "success"

    for answer in ("success", True, {"status": "success"}, Verdict()):
        card = run_agent().compile(replayer=lambda t, r, a=answer: a)
        assert card.outcome == "success"


class AgentCrashed(RuntimeError):
    pass


def test_replayer_exception_surfaces_unchanged() -> None:
    boom = AgentCrashed("sandbox died")

    def crashing(trace: tracecard.Trace, removed: list[int]) -> str:
        raise boom

    with pytest.raises(AgentCrashed) as ei:
        run_agent().compile(replayer=crashing)
    assert ei.value is boom


def test_replayer_exception_after_the_baseline_surfaces_unchanged() -> None:
    """The exception travels through the core (`Error::Host`), not beside it."""
    boom = AgentCrashed("died on a candidate")

    def crash_on_candidates(trace: tracecard.Trace, removed: list[int]) -> str:
        if removed:
            raise boom
        return "success"

    trace = run_agent()
    if not trace.compile().redundant_steps and not trace.compile().unproven_steps:
        pytest.skip("nothing to replay in this session")
    with pytest.raises(AgentCrashed) as ei:
        trace.compile(replayer=crash_on_candidates)
    assert ei.value is boom
    assert ei.value.__traceback__ is not None


def test_replayer_garbage_return_is_replay_error() -> None:
    with pytest.raises(tracecard.ReplayError, match="garbage"):
        run_agent().compile(replayer=lambda t, r: object.__new__(type("garbage", (), {})))
    with pytest.raises(tracecard.ReplayError):
        run_agent().compile(replayer=lambda t, r: "maybe")


def test_replayer_must_be_callable() -> None:
    with pytest.raises(TypeError):
        run_agent().compile(replayer=42)  # type: ignore[arg-type]
