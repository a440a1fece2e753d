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


# `rules/rules.yaml` beside the session, for the guard snippet (costcraft-rules/1,
# the shape `tracecard distill` writes)
RULES = """schema_version: costcraft-rules/1
generated_by: test_readme
corpus: {sessions: 3, tasks: 2, steps: 40, total_cost_usd: 0.5, replayed_sessions: 3, outcomes: {}}
policy: {min_savings_usd: 0.001, min_session_share: 0.01, require_replay: false, min_prune_tasks: 2, max_counter_example_rate: 0.1, min_preserve_sessions: 2, min_steps: 10, max_tool_time_share: 0.5, allow_backfire: [], include_quarantined: false, skill_name: cost-rules}
tools: {read_only: [read_file, list_dir], readers: [read_file, list_dir]}
rules:
- id: prune-read_file-repeat-of-success-main
  action: prune
  status: active
  enforce: pre_tool_use
  match: {kind: tool_use, tool: read_file, scope: main, after: repeat_of_success}
  reason: read_file of a file already read successfully in this context with nothing but reads since
  support: {sessions: 3, tasks: 2, steps: 5}
  counter_examples: {sessions: 0, steps: 0, rate: 0.0}
  savings: {total_usd: 0.02, median_usd: 0.004}
  transfer_score: 0.6667
  confirmed_by: {"replay:test": 5}
  evidence: {supporting: []}
"""


def _session(path: Path) -> None:
    (path.parent / "rules").mkdir(exist_ok=True)
    (path.parent / "rules" / "rules.yaml").write_text(RULES)
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
