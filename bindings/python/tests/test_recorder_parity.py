"""The same session recorded from Python (here) and from Rust
(`crates/tracecard-core/tests/it/recorder_parity.rs`) gives the same trace: both
compare against the committed `recorded-session.json` (native JSON, no timestamps)."""

from __future__ import annotations

import json
from typing import Any

import tracecard
from conftest import REPO

SHARED = REPO / "crates" / "tracecard-core" / "tests" / "data" / "recorded-session.json"


def _record() -> tracecard.Trace:
    rec = tracecard.Recorder("parity")
    q = rec.user_input("what port does the service use?")
    with rec.llm_call("claude-sonnet-4-5", input="what port?", provider="anthropic") as call:
        call.set_tokens(input=1200, output=80, cache_read=100, cache_write_5m=50)
        call.set_output("read cfg.toml")
        call.requests(["toolu_1", "toolu_2"])
        call.consumes(q)
    with rec.tool_use("read_file", '{"path":"cfg.toml"}', requested_by=call, tool_call_id="toolu_1") as t:
        t.reads("cfg.toml")
        t.set_result("port = 6432")
        t.set_attribute("exit_code", "0")
    with rec.tool_use("bash", "ls /nope", requested_by=call, tool_call_id="toolu_2") as bad:
        bad.set_output("ls: cannot access '/nope'")
        bad.error("exit code 2")
    with rec.subagent("Task", "researcher", requested_by=call) as sub:
        with rec.llm_call("claude-haiku-4-5") as inner:
            inner.set_tokens(input=300, output=30)
            inner.set_output("6432 confirmed")
        sub.set_result("6432 confirmed", result_from=inner)
    with rec.llm_call("claude-sonnet-4-5") as ans:
        ans.set_model("claude-sonnet-4-5-20250929")
        ans.set_tokens(tracecard.TokenUsage.from_inclusive(input_total=1500, output=20, cache_read=1000, reasoning=5))
        ans.set_output("The port is 6432.")
        ans.consumes(t)
        ans.in_context(bad)
        ans.consumes(sub)
        ans.reported_cost("0.0123")
    rec.writes(ans, "answer.md")
    # no final_step: the core's policy picks it, as for Rust callers
    return rec.finish("passed", evidence=[{"verifier": "pytest", "passed": True, "message": "1 passed"}])


def _strip(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if k not in ("started_at", "ended_at")}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


def test_python_recorder_matches_the_rust_recorder() -> None:
    trace = _record()
    assert trace.final_step == 7
    got = _strip(json.loads(trace.to_json()))
    want = json.loads(SHARED.read_text())
    assert got == want
