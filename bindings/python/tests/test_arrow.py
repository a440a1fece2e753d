"""Arrow out of Python: compile_many / compile_files / card.to_arrow() read by
pyarrow, polars and DuckDB through the Arrow PyCapsule interface, on the real fixtures."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.compute as pc
import polars as pl
import pytest

import tracecard

REPO = Path(__file__).resolve().parents[3]


def _committed(table: str) -> str:
    return (REPO / "schema" / f"{table}.arrow.txt").read_text()


def _schema_text(schema: pa.Schema) -> str:
    names = {
        pa.string(): "Utf8",
        pa.int64(): "Int64",
        pa.bool_(): "Boolean",
        pa.decimal128(20, 9): "Decimal128(20, 9)",
    }
    return "".join(
        f"{f.name}: {names[f.type]}{'' if f.nullable else ' not null'}\n" for f in schema
    )


def test_compile_many_matches_the_cards(fixtures: Path) -> None:
    tables = tracecard.compile_many([fixtures])
    steps = pa.table(tables.steps)
    sessions = pa.table(tables.sessions)
    assert _schema_text(steps.schema) == _committed("steps")
    assert _schema_text(sessions.schema) == _committed("sessions")
    # the same sessions, one by one through the card API
    cards = [
        t.compile()
        for p in tracecard.discover(fixtures)
        if tracecard.detect(p) is not None
        for t in tracecard.load_all(p)
    ]
    assert sessions.num_rows == len(cards) >= 60
    assert steps.num_rows == sum(len(c) for c in cards)
    assert sessions.column("session_id").to_pylist() == [c.session_id for c in cards]
    # money is exact Decimal, equal to the card's
    assert sessions.column("total_cost_usd").to_pylist() == [c.total_cost_usd for c in cards]
    assert all(isinstance(v, Decimal) for v in sessions.column("total_cost_usd").to_pylist())
    flagged = [(c.session_id, s.id) for c in cards for s in c.steps if s.redundant]
    got = steps.filter(pc.field("redundant"))
    assert list(zip(got.column("session_id").to_pylist(), got.column("step_id").to_pylist())) == flagged
    # card.to_arrow() gives the same rows, card by card
    one = pa.concat_tables([pa.table(c.to_arrow().steps) for c in cards])
    assert one.equals(steps)


def test_polars_reads_the_capsule(fixtures: Path) -> None:
    tables = tracecard.compile_many([fixtures / "claude-code"], threads=2)
    df = pl.DataFrame(tables.steps)
    assert df.height == tables.steps.num_rows > 0
    by_session = df.group_by("session_id").agg(pl.col("cost_usd").sum()).sort("session_id")
    sessions = pl.DataFrame(tables.sessions).sort("session_id")
    # the steps add up to each session's total, exactly (decimal, not float)
    assert by_session["cost_usd"].to_list() == sessions["total_cost_usd"].to_list()
    assert df.schema["cost_usd"] == pl.Decimal(20, 9)


def test_capsule_is_a_stream_and_can_be_read_twice(fixtures: Path) -> None:
    t = tracecard.compile_many([fixtures / "langfuse"]).sessions
    cap = t.__arrow_c_stream__()
    assert type(cap).__name__ == "PyCapsule"
    r = pa.RecordBatchReader._import_from_c_capsule(cap)
    first = r.read_all()
    assert pa.table(t).equals(first)  # a fresh stream each time
    assert len(t) == t.num_rows == first.num_rows == 12
    assert t.column_names == first.column_names


def test_in_memory_files_group_subagents_with_their_parent(fixtures: Path) -> None:
    root = fixtures / "claude-code" / "spotter"
    files = [(str(p), p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()]
    assert any("/subagents/" in p for p, _ in files)
    mem = tracecard.compile_files(files)
    disk = tracecard.compile_many([root])
    assert pa.table(mem.steps).equals(pa.table(disk.steps))
    assert pa.table(mem.sessions).equals(pa.table(disk.sessions))
    parent = next(p for p, _ in files if p.endswith("fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl"))
    sub = next(p for p, _ in files if "/subagents/" in p)
    assert tracecard.session_key(sub) == parent
    assert tracecard.session_key(parent) == parent


def test_write_parquet_round_trip(fixtures: Path, tmp_path: Path) -> None:
    tables = tracecard.compile_many([fixtures / "swe-agent"], analyze=False)
    tables.write_parquet(tmp_path / "out")
    steps = pq.read_table(tmp_path / "out" / "steps.parquet")
    assert steps.equals(pa.table(tables.steps))
    meta = pq.ParquetFile(tmp_path / "out" / "sessions.parquet").metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    # analysis off: every step needed
    assert set(steps.column("verdict").to_pylist()) == {"needed"}


def test_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "s.jsonl"
    bad.write_text('{"parentUuid":null,"sessionId":"x","type":"user"}\n{not json\n')
    with pytest.raises(tracecard.ParseError) as e:
        tracecard.compile_many([bad])
    assert e.value.path == str(bad) and e.value.line == 2
    with pytest.raises(tracecard.NotFoundError):
        tracecard.compile_many([tmp_path / "missing.jsonl"])
    with pytest.raises(ValueError):
        tracecard.compile_many([tmp_path], threads=0)
    # unknown files found in memory are skipped, as in a directory walk
    assert tracecard.compile_files([("notes.md", b"# hi\n")]).sessions.num_rows == 0


@pytest.mark.skipif(sys.version_info < (3, 11), reason="duckdb 2 needs Python >= 3.11")
def test_duckdb_queries_the_capsule(fixtures: Path) -> None:
    import duckdb

    tables = tracecard.compile_many([fixtures / "langfuse", fixtures / "claude-code"], threads=2)
    steps, sessions = tables.steps, tables.sessions  # DuckDB finds them by name (replacement scan)
    con = duckdb.connect()
    types = dict(con.sql("select column_name, column_type from (describe select * from steps)").fetchall())
    assert types["cost_usd"] == "DECIMAL(20,9)"
    assert types["tokens_input"] == "BIGINT"
    [(n,)] = con.sql("select count(*) from steps").fetchall()
    assert n == steps.num_rows > 0
    # the steps add up to each session's total, exactly, in SQL
    mismatched = con.sql(
        "select s.session_id from sessions s join "
        "(select session_id, sum(cost_usd) c from steps group by 1) t using (session_id) "
        "where t.c is distinct from s.total_cost_usd"
    ).fetchall()
    assert mismatched == []
    [(m,)] = con.sql("select count(distinct session_id) from steps").fetchall()
    assert m == sessions.num_rows
