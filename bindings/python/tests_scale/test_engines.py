"""Spark (PySpark local mode) and Ray Data (local) jobs of tracecard.spark and
tracecard.ray over the shared fixtures: the same rows as `tracecard compile
--format parquet` on the same folder, sub-agent files kept with their parent."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import canonical


def _same_rows(out: Path, cli: dict[str, pa.Table]) -> None:
    for table in ("steps", "sessions"):
        got = pq.read_table(out / table)
        want = cli[table]
        assert got.num_rows == want.num_rows, table
        assert canonical(got, want.schema).equals(canonical(want, want.schema)), table
    # the Claude Code session with sub-agents is one session, with its sub-agents' steps
    sessions = pq.read_table(out / "sessions").to_pylist()
    parent = [s for s in sessions if s["source_file"] == "fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl"]
    assert len(parent) == 1
    assert not [s for s in sessions if (s["source_file"] or "").startswith("agent-a")]
    steps = pq.read_table(out / "steps").to_pylist()
    agents = {s["agent"] for s in steps if s["source_file"] == parent[0]["source_file"]}
    assert len(agents - {None}) >= 2, agents


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    # the Python workers must be this venv's interpreter (the one with tracecard)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    s = (
        SparkSession.builder.master("local[2]")
        .appName("tracecard-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def test_spark_local(spark, fixtures: Path, cli_tables, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import tracecard.spark

    tracecard.spark.write_parquet(spark, str(fixtures), str(tmp_path / "out"), partitions=4)
    _same_rows(tmp_path / "out", cli_tables)


def test_ray_local(fixtures: Path, cli_tables, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import ray

    import tracecard.ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        tracecard.ray.write_parquet(str(fixtures), str(tmp_path / "out"))
    finally:
        ray.shutdown()
    _same_rows(tmp_path / "out", cli_tables)
