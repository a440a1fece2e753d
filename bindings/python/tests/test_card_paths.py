"""Card paths (issue 14, item 5): the Python loaders name files as the CLI does,
relative to the parent of the input argument (`tests/card_paths.rs` of the CLI
asserts the same paths for the same arguments). Real Claude Code transcripts are
copied into a temp dir; nothing of that dir may reach a card."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import tracecard
from tracecard import costcraft

SESSION = "fa812bfe-b295-4cca-9c2f-fdf01028cb46"
AGENTS = ["agent-a93ccab", "agent-aa84377", "agent-acompact-70d8e7"]


def _tree(spotter: Path, top: Path) -> Path:
    logs = top / "b" / "logs"
    (logs / "proj" / "sub").mkdir(parents=True)
    shutil.copy(spotter / "short.jsonl", logs / "proj")
    shutil.copy(spotter / "tool_heavy.jsonl", logs / "proj" / "sub")
    shutil.copy(spotter / f"{SESSION}.jsonl", logs / "proj")
    shutil.copytree(spotter / SESSION, logs / "proj" / SESSION)
    return logs


def test_a_file_argument_names_the_file_and_its_companions(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = _tree(fixtures / "claude-code" / "spotter", tmp_path)
    by_abs = tracecard.load(logs / "proj" / f"{SESSION}.jsonl").compile()
    monkeypatch.chdir(logs)
    by_rel = tracecard.load(f"proj/{SESSION}.jsonl").compile()
    assert by_abs.to_json() == by_rel.to_json()
    card = by_abs.to_dict()
    assert card["source"]["files"] == [f"{SESSION}.jsonl"] + [
        f"{SESSION}/subagents/{a}.jsonl" for a in AGENTS
    ]
    assert all(w.get("file") in (None, *card["source"]["files"]) for w in card["warnings"])
    assert str(tmp_path) not in by_abs.to_json()


def test_a_directory_argument_names_files_from_the_directory(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spotter = fixtures / "claude-code" / "spotter"
    logs = tmp_path / "b" / "logs"
    (logs / "proj" / "sub").mkdir(parents=True)
    shutil.copy(spotter / "short.jsonl", logs / "proj")
    shutil.copy(spotter / "tool_heavy.jsonl", logs / "proj" / "sub")
    seen = []
    for cwd, arg in [(tmp_path, logs), (tmp_path / "b", "logs"), (logs, "."), (logs / "proj", "..")]:
        monkeypatch.chdir(cwd)
        d = costcraft.distill([arg], allow_backfire="all")
        cards = sorted((c.to_dict() for c in d.cards), key=lambda c: c["session_id"])
        assert [c["source"]["files"] for c in cards] == [
            ["logs/proj/short.jsonl"],
            ["logs/proj/sub/tool_heavy.jsonl"],
        ], arg
        text = "".join(c.to_json() for c in d.cards)
        assert str(tmp_path) not in text
        seen.append(text)
    assert all(s == seen[0] for s in seen)
