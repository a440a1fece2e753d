"""TraceCards on Ray Data: compile a folder (or bucket) of traces into the ``steps``
and ``sessions`` tables, without a new scheduler.

The job::

    ds = ray.data.read_binary_files(src, include_paths=True)        # (bytes, path)
    ds = ds.map_batches(add_keys, batch_format="pyarrow")           # (key, path, content)
    steps = ds.groupby("key").map_groups(compile, batch_format="pyarrow")
    steps.write_parquet(out + "/steps")

Grouping is the Spark job's (see :mod:`tracecard.spark`): files are keyed by
:func:`tracecard.session_key`, so a Claude Code session's ``subagents/`` and ``otel/``
files are compiled with their parent. The rows equal those of ``tracecard compile SRC
--format parquet``, in another order.

Run the example: ``python -m tracecard.ray SRC OUT`` (a local Ray, all cores).
"""

# mypy: disable-error-code="import-not-found,unused-ignore"
# (pyspark / ray are optional: installed only by `make test-scale`)
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Optional

import pyarrow as pa  # type: ignore[import-untyped]

from tracecard import _engine

if TYPE_CHECKING:
    import ray.data

__all__ = ["compile_traces", "keyed_files", "write_parquet"]


def keyed_files(src: str) -> "ray.data.Dataset":
    """Every file under ``src`` as ``(key, path, content)``."""
    import ray.data

    ds = ray.data.read_binary_files(src, include_paths=True)
    return ds.map_batches(_add_keys, batch_format="pyarrow")


def _add_keys(t: pa.Table) -> pa.Table:
    return pa.Table.from_batches(
        [_engine.add_keys(b, "path", "bytes") for b in t.to_batches()],
        schema=pa.schema([("key", pa.string()), ("path", pa.string()), ("content", pa.binary())]),
    )


def compile_traces(
    keyed: "ray.data.Dataset",
    table: _engine.Table = "steps",
    *,
    analyze: bool = True,
) -> "ray.data.Dataset":
    """The ``table`` rows of the sessions in ``keyed`` (from :func:`keyed_files`)."""
    target = _engine.schema(table)

    def compile_group(group: pa.Table) -> pa.Table:
        batches = list(_engine.compile_rows(group.to_batches(), table, analyze=analyze))
        return pa.Table.from_batches(batches, schema=target)

    return keyed.groupby("key").map_groups(compile_group, batch_format="pyarrow")


def write_parquet(src: str, out: str, *, analyze: bool = True) -> None:
    """Compile every trace under ``src`` and write ``out/steps`` and ``out/sessions``
    as Parquet."""
    keyed = keyed_files(src).materialize()
    for table in ("steps", "sessions"):
        compile_traces(keyed, table, analyze=analyze).write_parquet(f"{out}/{table}")


def main(argv: list[str], num_cpus: Optional[int] = None) -> int:
    """``python -m tracecard.ray SRC OUT``: a local Ray with all cores."""
    import ray

    if len(argv) < 2:
        print("usage: python -m tracecard.ray SRC OUT", file=sys.stderr)
        return 2
    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    try:
        write_parquet(argv[0], argv[1])
    finally:
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
