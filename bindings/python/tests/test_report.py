"""tracecard.report and TraceCard.to_html: the self-contained HTML report."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

import tracecard
from agent_helpers import run_agent

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "traces"


def _data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="tracecard-data">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


def test_report_of_a_directory(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    html = tracecard.report(EXAMPLES, out)
    assert out.read_text(encoding="utf-8") == html
    assert html.startswith("<!DOCTYPE html>")
    assert "http://" not in html and "https://" not in html
    data = _data(html)
    ids = {s["id"] for s in data["sessions"]}
    assert {"config-question", "fix-test", "todo-audit"} <= ids
    # same input, same bytes (the CLI writes the same page)
    assert tracecard.report([EXAMPLES]) == html


def test_report_of_traces_matches_their_cards() -> None:
    trace = run_agent()
    card = trace.compile()
    data = _data(tracecard.report(trace))
    (s,) = data["sessions"]
    assert s["id"] == card.session_id
    assert Decimal(s["total"]) == card.total_cost_usd
    assert len(s["steps"]) == len(card)
    assert sum(1 for r in s["steps"] if r[9] == 1) == len(card.redundant_steps)


def test_card_to_html_has_no_content() -> None:
    trace = run_agent()
    html = trace.compile().to_html(title="</title><script>alert(1)</script>")
    assert "<script>alert(1)" not in html
    assert "<title>&lt;/title&gt;&lt;script&gt;" in html
    data = _data(html)
    assert data["sessions"][0]["timed"] is False and data["sessions"][0]["edges"] == []
    for step in trace.steps:
        for text in (step.output, step.input):
            if text and len(text) > 12:
                assert text not in html


def test_report_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError):
        tracecard.report(42)  # type: ignore[arg-type]
