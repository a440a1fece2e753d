"""tracecard.costcraft on the bundled example traces: distill, check_rules, evaluate."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import tracecard
from tracecard import costcraft

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "traces"


def _front_matter(md: str) -> dict[str, str]:
    m = re.match(r"---\n(.*?)\n---\n", md, re.S)
    assert m, md[:200]
    out = {}
    for line in m.group(1).splitlines():
        k, _, v = line.partition(":")
        out[k.strip()] = v.strip().strip('"')
    return out


def test_distill_examples_writes_valid_outputs(tmp_path: Path) -> None:
    d = costcraft.distill(EXAMPLES, allow_backfire="all", skill_name="example-rules")
    assert isinstance(d, costcraft.Distillation)
    rules = d.rules
    assert rules["schema_version"] == costcraft.RULES_SCHEMA_VERSION
    assert rules["corpus"]["sessions"] == 6
    assert rules["rules"], "no rule"
    for r in rules["rules"]:
        assert r["action"] in ("prune", "repair", "preserve")
        assert isinstance(r["savings"]["total_usd"], (Decimal, int))
        for e in r["evidence"]["supporting"]:
            assert (EXAMPLES / f"{e['session_id']}.jsonl").is_file()
    kept = d.patches["kept"]
    assert {p["patch_kind"] for p in kept} <= {"prune", "repair", "preserve"}
    assert all(p.get("confirmed_by") == "dataflow" for p in kept if p["patch_kind"] == "prune")
    fm = _front_matter(d.skill_md)
    assert fm["name"] == "example-rules" == d.skill_name
    assert 1 <= len(fm["description"]) <= 1024
    assert len(d.skill_md.splitlines()) < 500
    assert "Distillation report" in d.report_md
    assert d.rules_yaml().startswith("schema_version: costcraft-rules/1")
    assert "kept:" in d.patches_yaml()
    assert len(d.cards) == 6
    assert "session(s)" in repr(d)

    out = tmp_path / "out"
    d.write(out)
    for f in ("rules.yaml", "patches.yaml", "REPORT.md", "example-rules/SKILL.md"):
        assert (out / f).is_file(), f
    assert (out / "example-rules" / "SKILL.md").read_text() == d.skill_md


def test_distill_takes_traces_and_outcome_records() -> None:
    traces = [t for p in sorted(EXAMPLES.glob("*.jsonl")) for t in tracecard.load_all(p)]
    records: list[dict[str, Any]] = [
        {"session_id": "fix-test", "status": "failure",
         "evidence": [{"verifier": "pytest", "passed": False, "message": "test_add failed"}]},
        {"session_id": "ghost", "status": "success"},
    ]
    with pytest.warns(UserWarning, match="ghost"):
        d = costcraft.distill(traces, outcomes=records, allow_backfire="all")
    assert any("ghost" in n for n in d.notes)
    assert d.rules["corpus"]["outcomes"].get("failure", 0) >= 1
    repairs = [p for p in d.patches["kept"] if p["patch_kind"] == "repair"]
    assert any(p["session_id"] == "fix-test" and "test_add failed" in p.get("fix", "")
               for p in repairs), repairs


def test_distill_outcomes_file(tmp_path: Path) -> None:
    f = tmp_path / "outcomes.jsonl"
    f.write_text(json.dumps({"session_id": "agent-7", "status": "success"}) + "\n")
    d = costcraft.distill(EXAMPLES, outcomes=f, allow_backfire="all")
    assert d.notes == []
    f.write_text('{"session_id": "agent-7", "status": "maybe"}\n')
    with pytest.raises(costcraft.CostcraftError) as ei:
        costcraft.distill(EXAMPLES, outcomes=f, allow_backfire="all")
    assert ei.value.kind == "parse"
    assert ei.value.line == 1
    assert ei.value.path == str(f)


def test_backfire_refusal_and_override() -> None:
    short = [EXAMPLES / "agent-7.jsonl", EXAMPLES / "config-question.jsonl"]
    with pytest.raises(costcraft.BackfireError) as ei:
        costcraft.distill(short)
    assert isinstance(ei.value, costcraft.CostcraftError)
    assert isinstance(ei.value, tracecard.TracecardError)
    assert ei.value.kind == "backfire"
    assert any("short-sessions" in g for g in ei.value.guards)
    d = costcraft.distill(short, allow_backfire=["short-sessions", "no-oracle"])
    guards = {w["guard"] for w in d.rules["backfire"]}
    assert "short-sessions" in guards
    codes = {w["code"] for c in d.cards for w in c.warnings}
    assert "backfire_short_sessions" in codes
    with pytest.raises(ValueError, match="unknown guard"):
        costcraft.distill(short, allow_backfire=["nope"])  # type: ignore[list-item]


def test_require_replay_refuses_dataflow_prunes() -> None:
    d = costcraft.distill(EXAMPLES, allow_backfire="all", require_replay=True)
    reasons = {r["refusal"]["reason"] for r in d.patches["refused"]}
    assert "prune_not_replayed" in reasons
    assert not [p for p in d.patches["kept"] if p["patch_kind"] == "prune"]


def test_replayer_confirms_prunes() -> None:
    calls: list[list[int]] = []

    def replayer(trace: tracecard.Trace, removed: list[int]) -> str:
        calls.append(removed)
        return "success"

    d = costcraft.distill(EXAMPLES / "todo-audit.jsonl", replayer=replayer,
                          require_replay=True, allow_backfire="all")
    assert calls, "the replayer was never called"
    prunes = [p for p in d.patches["kept"] if p["patch_kind"] == "prune"]
    assert prunes and all(p["confirmed_by"].startswith("replay:") for p in prunes)


def test_replayer_exception_comes_back_unchanged() -> None:
    class Boom(Exception):
        pass

    def replayer(trace: tracecard.Trace, removed: list[int]) -> str:
        raise Boom("no sandbox")

    with pytest.raises(Boom, match="no sandbox"):
        costcraft.distill(EXAMPLES / "todo-audit.jsonl", replayer=replayer, allow_backfire="all")


def test_check_rules(tmp_path: Path) -> None:
    d = costcraft.distill(EXAMPLES, allow_backfire="all")
    d.write(tmp_path)
    report = costcraft.check_rules(tmp_path / "rules.yaml", EXAMPLES)
    assert report["sessions"] == 6
    assert [r["id"] for r in report["rules"]] == [r["id"] for r in d.rules["rules"]]
    with pytest.raises(tracecard.NotFoundError):
        costcraft.check_rules(tmp_path / "none.yaml", EXAMPLES)
    (tmp_path / "bad.yaml").write_text("schema_version: costcraft-rules/0\n")
    with pytest.raises(costcraft.CostcraftError) as ei:
        costcraft.check_rules(tmp_path / "bad.yaml", EXAMPLES)
    assert ei.value.kind == "parse"


def test_evaluate_same_runs_and_ablation() -> None:
    e = costcraft.evaluate(EXAMPLES, EXAMPLES)
    assert len(e["pairs"]) == 6
    assert e["regressions"] == 0 and e["recoveries"] == 0
    assert e["median_cost_change_usd"] == 0
    assert "ablation" not in e
    # outcomes apply to both sides
    e = costcraft.evaluate(EXAMPLES, EXAMPLES,
                           outcomes=[{"session_id": "agent-7", "status": "failure"}])
    assert e["regressions"] == 0 and e["baseline"]["successes"] == e["treated"]["successes"]
    # treated runs that say which rules were active get a lane each
    base = tracecard.load(EXAMPLES / "fix-test.jsonl")
    doc = json.loads(base.to_json())
    lanes = []
    for i, rules in enumerate(["prune-a,repair-b", "repair-b"]):
        d = dict(doc)
        d["session_id"] = f"fix-test-{i}"
        d["metadata"] = {**doc.get("metadata", {}), "task_id": "fix-test",
                         costcraft.ACTIVE_RULES_KEY: rules}
        lanes.append(tracecard.loads(json.dumps(d)))
    base_doc = dict(doc)
    base_doc["metadata"] = {**doc.get("metadata", {}), "task_id": "fix-test"}
    e = costcraft.evaluate(tracecard.loads(json.dumps(base_doc)), lanes)
    names = [lane["lane"] for lane in e.get("ablation", [])]
    assert names == ["all rules", "without prune"], e
