"""Errors: the exception hierarchy, structured fields, garbage input never crashes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import tracecard

SUBCLASSES = [
    tracecard.ParseError,
    tracecard.UnknownFormatError,
    tracecard.PricingError,
    tracecard.ValidationError,
    tracecard.ReplayError,
    tracecard.SerializeError,
    tracecard.IoError,
    tracecard.NotFoundError,
    tracecard.MultipleSessionsError,
]


def test_hierarchy() -> None:
    for cls in SUBCLASSES:
        assert issubclass(cls, tracecard.TracecardError) and cls.__module__ == "tracecard"
    assert issubclass(tracecard.TracecardError, Exception)
    assert issubclass(tracecard.IoError, OSError)
    assert issubclass(tracecard.NotFoundError, FileNotFoundError)
    for cls in (tracecard.ParseError, tracecard.UnknownFormatError, tracecard.PricingError, tracecard.ValidationError):
        assert issubclass(cls, ValueError)


def test_missing_file_is_file_not_found() -> None:
    with pytest.raises(FileNotFoundError) as ei:
        tracecard.load("/nonexistent/trace.jsonl")
    e = ei.value
    assert isinstance(e, tracecard.NotFoundError) and e.kind == "io"
    assert e.path == "/nonexistent/trace.jsonl" and e.filename == e.path and e.errno == 2


def test_directory_is_io_error(tmp_path: Path) -> None:
    with pytest.raises(tracecard.IoError) as ei:
        tracecard.load(tmp_path)
    assert not isinstance(ei.value, tracecard.NotFoundError)


def test_parse_error_names_file_line_and_field(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text(
        '{"record":"session","version":1,"session_id":"x"}\n'
        '{"record":"step","kind":"llm_call"}\n'
        '{"record":"step","kind":"teleport"}\n'
    )
    with pytest.raises(tracecard.ParseError) as ei:
        tracecard.load(p)
    e = ei.value
    assert e.path == str(p) and e.line == 3 and e.field == "kind" and e.kind == "parse"
    assert f"{p}:3" in str(e)


def test_broken_json_line(tmp_path: Path) -> None:
    p = tmp_path / "broken.jsonl"
    p.write_text('{"record":"session","version":1,"session_id":"x"}\n{"record":"step", nope}\n{}\n')
    with pytest.raises(tracecard.ParseError) as ei:
        tracecard.load(p)
    assert ei.value.line == 2


def test_unknown_format_and_bad_format_name(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("just some text\n")
    with pytest.raises(tracecard.UnknownFormatError):
        tracecard.load(p)
    assert tracecard.detect(p) is None
    with pytest.raises(tracecard.UnknownFormatError, match="no format named"):
        tracecard.load(p, format="no-such-format")


def test_empty_file_is_parse_error(tmp_path: Path) -> None:
    p = tmp_path / "empty.jsonl"
    p.write_text("\n\n")
    with pytest.raises(tracecard.TracecardError):
        tracecard.load(p, format="native")


def test_validation_error_on_dangling_link(tmp_path: Path) -> None:
    p = tmp_path / "dangling.jsonl"
    p.write_text(
        '{"record":"session","version":1,"session_id":"x"}\n'
        '{"record":"step","kind":"llm_call","links":{"consumes":[7]}}\n'
    )
    with pytest.raises(tracecard.ValidationError):
        tracecard.load(p)


def test_bad_price_file(tmp_path: Path) -> None:
    p = tmp_path / "prices.json"
    p.write_text("{ not json")
    with pytest.raises(tracecard.PricingError) as ei:
        tracecard.PriceTable.load(p)
    assert ei.value.path == str(p)


def test_garbage_never_crashes(tmp_path: Path) -> None:
    rng = random.Random(1234)
    seeds = [
        b"", b"\x00" * 100, b"\xff\xfe\xfd", b"{", b"[", b"null", b'{"record":"session"}',
        b'{"record":"session","version":1,"session_id":"x"}\n{"record":"step"}',
        b'{"tracecard_trace":1,"session_id":"x","steps":[{"id":5,"kind":"llm_call"}]}',
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}',
    ]
    blobs = seeds + [rng.randbytes(rng.randint(1, 2000)) for _ in range(150)]
    # valid-looking prefixes with random tails
    blobs += [b'{"record":"session","version":1,"session_id":"x"}\n' + rng.randbytes(200) for _ in range(50)]
    for i, blob in enumerate(blobs):
        try:
            tracecard.loads_all(blob)
        except tracecard.TracecardError:
            pass
        p = tmp_path / f"g{i}.jsonl"
        p.write_bytes(blob)
        try:
            for t in tracecard.load_all(p):
                t.compile()
        except tracecard.TracecardError:
            pass
        for fmt in tracecard.formats():
            try:
                tracecard.loads_all(blob, format=fmt)
            except tracecard.TracecardError:
                pass


def test_invalid_utf8_names_line(tmp_path: Path) -> None:
    p = tmp_path / "bin.jsonl"
    p.write_bytes(b'{"record":"session","version":1,"session_id":"x"}\n\xff\xfe\n')
    with pytest.raises(tracecard.ParseError) as ei:
        tracecard.load(p, format="native")
    assert ei.value.line == 2


def test_loads_type_error() -> None:
    with pytest.raises(TypeError):
        tracecard.loads(12)  # type: ignore[arg-type]


def test_core_causes_become_dunder_cause() -> None:
    """The parser's own error behind a ParseError is chained as `__cause__`."""
    with pytest.raises(tracecard.ParseError) as ei:
        tracecard.TraceCard.from_json('{\n  "schema_version": ')
    cause = ei.value.__cause__
    assert isinstance(cause, ValueError) and "EOF" in str(cause), repr(cause)
    assert ei.value.line == 2
