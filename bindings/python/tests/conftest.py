"""Shared helpers: locating the real-trace fixtures (read in place, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import tracecard

REPO = Path(__file__).resolve().parents[3]


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def fixtures_root() -> Path:
    """`$TRACECARD_FIXTURES`, else `<repo>/../shared/fixtures`. Outside CI a missing
    folder skips the test; with CI=true it fails."""
    env = os.environ.get("TRACECARD_FIXTURES")
    root = Path(env) if env else REPO.parent / "shared" / "fixtures"
    if root.is_dir():
        return root
    msg = f"fixtures not found at {root} (set TRACECARD_FIXTURES)"
    if _ci():
        pytest.fail(msg + "; CI=true: they must be present")
    pytest.skip(msg)


def fixture(rel: str) -> Path:
    p = fixtures_root() / rel
    assert p.exists(), f"fixture {p} is missing"
    return p


def need_format(name: str) -> None:
    """Fail (never skip) when an importer the test relies on is not built in."""
    assert name in tracecard.formats(), (
        f"importer {name!r} is not in this build (formats: {tracecard.formats()})"
    )


@pytest.fixture
def fixtures() -> Path:
    return fixtures_root()
