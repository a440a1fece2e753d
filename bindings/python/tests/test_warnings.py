"""Warning codes: the `WarningCode` Literal of the stub, the runtime Literal and
`warning_codes()` (the core's list) agree."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import tracecard


def _stub_literal() -> list[str]:
    stub = Path(tracecard.__file__).parent / "_tracecard.pyi"
    for node in ast.parse(stub.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "WarningCode" for t in node.targets
        ):
            assert isinstance(node.value, ast.Subscript)
            elts = node.value.slice
            assert isinstance(elts, ast.Tuple)
            return [e.value for e in elts.elts if isinstance(e, ast.Constant)]
    raise AssertionError("no WarningCode in the stub")


def test_stub_literal_matches_the_core_list() -> None:
    core = list(tracecard.warning_codes())
    assert core == sorted(core) and len(core) == len(set(core))
    assert _stub_literal() == core
    assert list(typing.get_args(tracecard.WarningCode)) == core
    for merged in ("orphan_tool_result", "orphan_observation", "unknown_record_type", "missing_usage", "no_tokens"):
        assert merged not in core
    for new in ("replay_failed", "replay_rejected", "duplicate_record", "truncated_line", "suspicious_entry", "no_content"):
        assert new in core
    assert all(isinstance(d, str) and d for d in tracecard.warning_codes().values())


def test_card_warnings_carry_listed_codes() -> None:
    rec = tracecard.Recorder("w")
    with rec.llm_call("no-such-model-xyz") as c:
        c.set_tokens(input=10, output=1)
        c.set_output("hi")
    card = rec.finish("success").compile()
    codes = [w["code"] for w in card.warnings]
    assert "unknown_model" in codes
    assert set(codes) <= set(tracecard.warning_codes())
