"""The Python example in examples/python runs and prints a card."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "python" / "recorder_agent.py"


def test_recorder_agent_example() -> None:
    r = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("schema_version: tracecard/1")
    assert "total $0.0010024, redundant $0, unproven $0.0002912" in r.stdout
