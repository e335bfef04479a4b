"""The writer under test as the writer suite calls it: :class:`GuardedWriter` wraps the
writer the matrix names so that a remote fault raised inside it (an S3, Glue or catalog
endpoint that did not answer or refused, as pyarrow's ``OSError``, botocore's or
SQLAlchemy's errors) reaches the cell as k2matrix's own
:class:`~k2matrix.backends.faults.ServiceUnavailable` naming the service and the endpoint
(:func:`k2matrix.backends.catalog.boundary`). A data error of the writer's own (pyarrow
refusing a value it converts) is handed to ``explain``, which names the column and the value
(:mod:`k2matrix.writer.fit`) where it can. Other errors pass through unchanged.

The wrapper is transparent otherwise: every other attribute (``ensure_table``,
``schema_of``, ``commits``…) is the writer's own, so the optional capabilities of
:mod:`k2matrix.writer.protocol` are present exactly when the writer has them. The two
timed methods are plain calls inside a ``try`` (free in CPython 3.11 unless it raises); the
others are wrapped once, on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import pyarrow as pa

from k2matrix.backends.catalog import faults
from k2matrix.errors import K2Error

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from k2matrix.writer.protocol import TradeWriter


# explain(error, what the writer was given, the table): a better error, or None
Explain: TypeAlias = Callable[[BaseException, Any, str], BaseException | None]


class GuardedWriter:
    """``writer`` with its remote faults translated (see the module docstring)."""

    def __init__(self, writer: TradeWriter, catalog: Catalog, explain: Explain | None = None
                 ) -> None:
        self.writer = writer
        self.catalog = catalog
        self.explain = explain

    def _translated(self, exc: Exception, given: Any, table_name: str) -> BaseException | None:
        if isinstance(exc, K2Error):
            return None
        fault = faults(self.catalog, exc)
        if fault is None and self.explain is not None:
            return self.explain(exc, given, table_name)
        return fault

    def _guarded(self, write: Callable[[Any, str], int], given: Any, table_name: str) -> int:
        """``write(given, table_name)``, its failure translated (:meth:`_translated`)."""
        try:
            return write(given, table_name)
        except Exception as exc:
            better = self._translated(exc, given, table_name)
            if better is None:
                raise
            raise better from None

    def write_trades(self, records: Sequence[Mapping[str, Any]], table_name: str) -> int:
        return self._guarded(self.writer.write_trades, records, table_name)

    def write_arrow(self, table: pa.Table, table_name: str) -> int:
        return self._guarded(self.writer.write_arrow, table, table_name)

    def close(self) -> None:
        self.__getattr__("close")()

    def __getattr__(self, name: str) -> Any:
        """The writer's own attribute; a method guarded like the timed ones, and kept, so a
        method called per batch (``schema_of``) is looked up here once."""
        found = getattr(self.writer, name)
        if not callable(found):
            return found

        @functools.wraps(found)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return found(*args, **kwargs)
            except Exception as exc:
                fault = None if isinstance(exc, K2Error) else faults(self.catalog, exc)
                if fault is None:
                    raise
                raise fault from None

        self.__dict__[name] = guarded
        return guarded
