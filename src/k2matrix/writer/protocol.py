"""What a writer implements to be swept by the writer suite (K2's API shape).

A factory (a class or a function) named in the matrix by import path,
``[components.writer] impl = "package.module:Factory"``, is called with the catalog and the
writer's options and returns an object satisfying :class:`TradeWriter`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa


@runtime_checkable
class TradeWriter(Protocol):
    """What the writer suites need from a writer (K2's API shape)."""

    def write_trades(self, records: Sequence[Mapping[str, Any]], table_name: str) -> int:
        """Append dict records to ``table_name``; return the rows written."""
        ...

    def write_arrow(self, table: pa.Table, table_name: str) -> int:
        """Append an Arrow table of the trade schema to ``table_name``; return its rows."""
        ...

    def close(self) -> None:
        """Write anything pending and release resources."""
        ...
