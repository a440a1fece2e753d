"""The hand-written _tracecard.pyi matches the native module (mypy.stubtest)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tracecard

HERE = Path(__file__).resolve().parents[1]


def test_stubtest() -> None:
    try:
        import mypy  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail("mypy is not installed (requirements-dev.txt)")
        pytest.skip("mypy is not installed (it needs Python >= 3.10)")
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "tracecard._tracecard",
         "--allowlist", str(HERE / ".mypy-stubtest-allowlist")],
        capture_output=True, text=True, cwd=HERE / "tests",
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_stub_and_package_exports_agree() -> None:
    stub = (Path(tracecard.__file__).parent / "_tracecard.pyi").read_text()
    for name in tracecard.__all__:
        assert f'"{name}"' in stub, name
    assert (Path(tracecard.__file__).parent / "py.typed").exists()


def test_otel_and_costcraft_import() -> None:
    import tracecard.costcraft
    import tracecard.otel

    assert "distill" in tracecard.costcraft.__all__
    for name in tracecard.costcraft.__all__:
        assert hasattr(tracecard.costcraft, name), name
    assert hasattr(tracecard.otel, "TracecardSpanExporter")


def test_mypy_strict_on_package() -> None:
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed (it needs Python >= 3.10)")
    pkg = Path(tracecard.__file__).parent
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(pkg)],
        capture_output=True, text=True, cwd=HERE / "tests",
    )
    assert r.returncode == 0, r.stdout + r.stderr
