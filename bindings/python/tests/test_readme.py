"""The Python snippets of the READMEs run as written (in a temporary directory
holding the `session.jsonl` they load)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import tracecard
from conftest import REPO

READMES = [REPO / "README.md", REPO / "bindings" / "python" / "README.md"]


def _snippets() -> list[tuple[str, str]]:
    out = []
    for readme in READMES:
        text = readme.read_text()
        for i, m in enumerate(re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)):
            out.append((f"{readme.relative_to(REPO)}#{i + 1}", m.group(1)))
    return out


def _session(path: Path) -> None:
    rec = tracecard.Recorder("readme")
    with rec.llm_call("claude-sonnet-4-5") as call:
        call.set_tokens(input=1200, output=80)
        call.set_output("read cfg.toml")
    with rec.tool_use("read_file", '{"path": "cfg.toml"}', requested_by=call) as t:
        t.reads("cfg.toml")
        t.set_result("port = 6432")
    with rec.tool_use("list_dir", '{"path": "."}', requested_by=call) as unused:
        unused.set_result("cfg.toml README.md")
    with rec.llm_call("claude-sonnet-4-5") as ans:
        ans.set_tokens(input=1300, output=20)
        ans.set_output("The port is 6432.")
        ans.consumes(t)
    rec.finish("success").save(str(path))


SNIPPETS = _snippets()


def test_readmes_have_python_snippets() -> None:
    assert len(SNIPPETS) >= 2


@pytest.mark.parametrize("name,code", SNIPPETS, ids=[n for n, _ in SNIPPETS])
def test_readme_snippet_runs(name: str, code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _session(tmp_path / "session.jsonl")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, name, "exec"), {"__name__": "__readme__"})
    finally:
        os.chdir(cwd)
    assert capsys.readouterr().out, f"{name} printed nothing"
