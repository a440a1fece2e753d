"""TraceCards on Spark: compile a folder (or bucket) of traces into the ``steps`` and
``sessions`` tables with PySpark, without a new scheduler.

The job::

    files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(src)
    keyed = files.mapInArrow(add_keys)          # (key, path, content)
    keyed = keyed.repartition(n, "key")          # a session's files on one executor
    steps = keyed.mapInArrow(compile_rows, steps_schema)
    steps.write.parquet(out + "/steps")

Grouping: ``key`` is :func:`tracecard.session_key` of the file's path. A Claude Code
session keeps its sub-agents in ``<session>/subagents/agent-*.jsonl`` and its
telemetry in ``<session>/otel/``; those files are keyed by ``<session>.jsonl``, so
repartitioning by key puts them in the parent's partition, and
:func:`tracecard.compile_files` reads them with the parent, as ``tracecard compile``
does on disk. Every other file is its own key. Files that no importer recognises are
skipped, as in a directory walk.

Each table is its own pass over the (cached) files: ``write_parquet`` writes
``OUT/steps/`` and ``OUT/sessions/`` (Spark's part files, zstd), with the same rows as
``tracecard compile SRC --format parquet -o DIR``, in another order.

Run the example: ``python -m tracecard.spark SRC OUT`` (local mode, all cores). On a
cluster, tracecard must be installed in the executors' Python (``PYSPARK_PYTHON``).
"""

# mypy: disable-error-code="import-not-found,unused-ignore"
# (pyspark / ray are optional: installed only by `make test-scale`)
from __future__ import annotations

import os
import sys
from functools import partial
from typing import TYPE_CHECKING, Optional

from tracecard import _engine

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["compile_traces", "keyed_files", "spark_schema", "write_parquet"]


def spark_schema(table: _engine.Table) -> "object":
    """The Spark ``StructType`` of ``table`` (from the Arrow schema)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(_engine.schema(table))


def keyed_files(spark: "SparkSession", src: str, partitions: Optional[int] = None) -> "DataFrame":
    """Every file under ``src`` as ``(key, path, content)``, repartitioned by key."""

    def add(batches):  # type: ignore[no-untyped-def]
        for b in batches:
            yield _engine.add_keys(b, "path", "content")

    files = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(src)
        .select("path", "content")
    )
    keyed = files.mapInArrow(add, "key string, path string, content binary")
    n = partitions or spark.sparkContext.defaultParallelism
    return keyed.repartition(n, "key")


def compile_traces(
    keyed: "DataFrame",
    table: _engine.Table = "steps",
    *,
    analyze: bool = True,
    threads: Optional[int] = 1,
) -> "DataFrame":
    """The ``table`` rows of the sessions in ``keyed`` (from :func:`keyed_files`).
    ``threads`` is per Spark task (1: Spark already runs one task per core)."""
    fn = partial(_engine.compile_rows, table=table, threads=threads, analyze=analyze)
    return keyed.mapInArrow(fn, spark_schema(table))  # type: ignore[arg-type]


def write_parquet(
    spark: "SparkSession",
    src: str,
    out: str,
    *,
    partitions: Optional[int] = None,
    analyze: bool = True,
) -> None:
    """Compile every trace under ``src`` and write ``out/steps`` and ``out/sessions``
    as Parquet (zstd)."""
    keyed = keyed_files(spark, src, partitions).cache()
    try:
        for table in ("steps", "sessions"):
            (
                compile_traces(keyed, table, analyze=analyze)
                .write.mode("overwrite")
                .option("compression", "zstd")
                .parquet(f"{out}/{table}")
            )
    finally:
        keyed.unpersist()


def main(argv: list[str]) -> int:
    """``python -m tracecard.spark SRC OUT [PARTITIONS]``: local mode, all cores."""
    from pyspark.sql import SparkSession

    if len(argv) < 2:
        print("usage: python -m tracecard.spark SRC OUT [PARTITIONS]", file=sys.stderr)
        return 2
    # local workers run this interpreter (the one tracecard is installed in)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = SparkSession.builder.master("local[*]").appName("tracecard").getOrCreate()
    try:
        write_parquet(spark, argv[0], argv[1], partitions=int(argv[2]) if len(argv) > 2 else None)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
