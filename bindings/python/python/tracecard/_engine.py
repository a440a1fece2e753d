"""What the Spark and Ray jobs share: file rows in, table rows out.

A job reads every file as ``(path, bytes)``, keys each by :func:`tracecard.session_key`
(a Claude Code ``<session>/subagents/*`` or ``<session>/otel/*`` file is keyed by its
``<session>.jsonl``), brings each key's files to one worker (Spark: repartition by
key; Ray: group by key), and compiles them there with :func:`tracecard.compile_files`,
which groups them into sessions exactly as ``tracecard compile DIR`` does on disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal, Optional
from urllib.parse import unquote, urlparse

import pyarrow as pa  # type: ignore[import-untyped]

import tracecard

Table = Literal["steps", "sessions"]


def local_path(uri: str) -> str:
    """``file:/a%20b/x.jsonl`` -> ``/a b/x.jsonl``; an object-store URI keeps its
    path (``s3a://bucket/a/x.jsonl`` -> ``/a/x.jsonl``); a plain path is returned as is."""
    u = urlparse(uri)
    if not u.scheme or len(u.scheme) == 1:  # no scheme, or a Windows drive letter
        return uri
    return unquote(u.path)


def schema(table: Table) -> pa.Schema:
    """The Arrow schema of ``table`` (the committed one, from the native module)."""
    return pa.table(getattr(tracecard.compile_files([]), table)).schema


def add_keys(batch: pa.RecordBatch, path_col: str, content_col: str) -> pa.RecordBatch:
    """``(key, path, content)`` rows from a batch of file rows; paths made local."""
    paths = [local_path(p) for p in batch.column(path_col).to_pylist()]
    keys = [tracecard.session_key(p) for p in paths]
    return pa.RecordBatch.from_arrays(
        [pa.array(keys, pa.string()), pa.array(paths, pa.string()), batch.column(content_col)],
        names=["key", "path", "content"],
    )


def compile_rows(
    batches: Iterable[pa.RecordBatch],
    table: Table,
    *,
    threads: Optional[int] = 1,
    analyze: bool = True,
) -> Iterator[pa.RecordBatch]:
    """Compile the ``(path, content)`` rows of ``batches`` (all files of each of their
    sessions) and yield the rows of ``table``."""
    files: list[tuple[str, bytes]] = []
    for b in batches:
        files.extend(zip(b.column("path").to_pylist(), b.column("content").to_pylist()))
    if not files:
        return
    tables = tracecard.compile_files(files, threads, analyze=analyze)
    yield from pa.table(getattr(tables, table)).to_batches()
