"""A pyiceberg transaction that computes its staged metadata once per change, not per read.

pyiceberg 0.12's ``Transaction.table_metadata`` applies the staged updates to the table's
metadata and returns ``model_copy(deep=True)`` of the result on every access. One append
reads it about 36 times (snapshot producer, manifest writers, summaries, the commit), so a
10K-row append spent about half its CPU time deep-copying metadata, more as the history
grows (DESIGN.md: "90% of it in deep-copying table metadata").

The result depends only on the base metadata and the staged updates, both immutable values
that are replaced, never changed, when the transaction moves on (pyiceberg's models are
frozen; updates are a tuple). :class:`CachingTransaction` keeps the last result with the
identities of the two and returns it while both are still the same objects.
"""

from __future__ import annotations

from typing import Any

from pyiceberg.table import Transaction
from pyiceberg.table.metadata import TableMetadata


class CachingTransaction(Transaction):
    """``Transaction`` whose ``table_metadata`` is computed once per (base, updates)."""

    _k2_cached: tuple[Any, Any, TableMetadata] | None = None

    @property
    def table_metadata(self) -> TableMetadata:
        base, updates = self._table.metadata, self._updates
        cached = self._k2_cached
        if cached is not None and cached[0] is base and cached[1] is updates:
            return cached[2]
        result: TableMetadata = super().table_metadata
        self._k2_cached = (base, updates, result)
        return result
