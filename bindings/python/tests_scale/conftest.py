"""The engine tests (`make test-scale`): Spark and Ray in local mode on the fixtures."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[3]


def fixtures_root() -> Path:
    """`$TRACECARD_FIXTURES`, else `<repo>/../shared/fixtures`; missing fails under
    CI=true and skips otherwise (as in tests/conftest.py)."""
    env = os.environ.get("TRACECARD_FIXTURES")
    root = Path(env) if env else REPO.parent / "shared" / "fixtures"
    if root.is_dir():
        return root
    msg = f"fixtures not found at {root} (set TRACECARD_FIXTURES)"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(msg + "; CI=true: they must be present")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return fixtures_root()


@pytest.fixture(scope="session")
def cli_tables(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """`tracecard compile FIXTURES --format parquet -o DIR`, read back."""
    exe = Path(os.environ.get("TRACECARD_BIN", REPO / "target" / "debug" / "tracecard"))
    assert exe.is_file(), f"{exe} is missing: build the CLI first (cargo build -p tracecard-cli)"
    out = tmp_path_factory.mktemp("cli")
    r = subprocess.run(
        [str(exe), "compile", str(fixtures), "--format", "parquet", "-o", str(out)],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stderr
    return {t: pq.read_table(out / f"{t}.parquet") for t in ("steps", "sessions")}
