"""Helpers of the engine tests."""

from __future__ import annotations

import pyarrow as pa


def canonical(t: pa.Table, schema: pa.Schema) -> pa.Table:
    """Rows in one order (every column a sort key), columns cast to `schema` (an
    engine's Parquet marks every column nullable)."""
    t = t.select(schema.names).cast(schema)
    return t.sort_by([(n, "ascending") for n in schema.names]).combine_chunks()
