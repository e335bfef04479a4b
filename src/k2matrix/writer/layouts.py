"""Table layouts, a matrix axis: how an Iceberg table of trades is partitioned and sorted.

- ``unpartitioned``: one partition; files in arrival order.
- ``day_symbol``: partitioned by day of the event timestamp and by symbol (identity).
- ``day_bucket``: partitioned by day and by a 16-way hash bucket of symbol.
- ``sorted``: unpartitioned, with a table sort order (symbol, timestamp); writers sort each
  batch before appending (pyiceberg records the order but does not sort for you).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from k2matrix.axes import LAYOUTS
from k2matrix.schemas import get_schema
from k2matrix.writer.schema import iceberg_schema

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.table import Table
    from pyiceberg.table.sorting import SortOrder

SYMBOL_BUCKETS = 16
ROW_GROUP_ROWS = 100_000  # pyiceberg's default is one row group per file (see DESIGN.md)
TARGET_FILE_BYTES = 128 * 1024 * 1024


def time_column(schema_name: str) -> str:
    """The event-time column of a schema (``exchange_timestamp`` for v1, else ``timestamp``)."""
    return "exchange_timestamp" if schema_name == "v1" else "timestamp"


def check_layout(layout: str) -> None:
    """:class:`ValueError` naming the known layouts unless ``layout`` is one of them."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r}: unknown table layout; use one of "
                         f"{', '.join(LAYOUTS)}")


def partition_spec(schema_name: str, layout: str) -> PartitionSpec:
    from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC, PartitionField, PartitionSpec
    from pyiceberg.transforms import BucketTransform, DayTransform, IdentityTransform

    check_layout(layout)
    if layout in ("unpartitioned", "sorted"):
        return UNPARTITIONED_PARTITION_SPEC
    schema = get_schema(schema_name)
    ts_id = schema.names.index(time_column(schema_name)) + 1
    sym_id = schema.names.index("symbol") + 1
    symbol_field = (
        PartitionField(sym_id, 1001, IdentityTransform(), "symbol")
        if layout == "day_symbol"
        else PartitionField(sym_id, 1001, BucketTransform(SYMBOL_BUCKETS), "symbol_bucket")
    )
    return PartitionSpec(PartitionField(ts_id, 1000, DayTransform(), "day"), symbol_field)


def sort_order(schema_name: str, layout: str) -> SortOrder:
    from pyiceberg.table.sorting import UNSORTED_SORT_ORDER, SortField, SortOrder
    from pyiceberg.transforms import IdentityTransform

    check_layout(layout)
    if layout != "sorted":
        return UNSORTED_SORT_ORDER
    schema = get_schema(schema_name)
    sym_id = schema.names.index("symbol") + 1
    ts_id = schema.names.index(time_column(schema_name)) + 1
    return SortOrder(SortField(sym_id, IdentityTransform()), SortField(ts_id, IdentityTransform()))


def sort_keys(schema_name: str, layout: str) -> list[tuple[str, str]]:
    """Arrow ``sort_by`` keys a writer applies to each batch for this layout ([] if none)."""
    if layout != "sorted":
        return []
    return [("symbol", "ascending"), (time_column(schema_name), "ascending")]


def table_properties(extra: dict[str, str] | None = None) -> dict[str, str]:
    props = {
        "write.parquet.row-group-limit": str(ROW_GROUP_ROWS),
        "write.target-file-size-bytes": str(TARGET_FILE_BYTES),
        "write.parquet.compression-codec": "zstd",
    }
    props.update(extra or {})
    return props


def create_table(catalog: Catalog, identifier: str, schema_name: str, layout: str,
                 properties: dict[str, str] | None = None, replace: bool = False,
                 location: str | None = None) -> Table:
    """Create (or with ``replace``, drop and recreate) a table of ``schema_name`` laid out as
    ``layout`` (at ``location``, else the catalog's default); return the existing table when
    it is there and ``replace`` is false."""
    from pyiceberg.exceptions import NoSuchTableError

    check_layout(layout)
    if replace:
        with contextlib.suppress(NoSuchTableError):
            catalog.drop_table(identifier)
    kwargs: dict[str, Any] = {
        "schema": iceberg_schema(schema_name),
        "partition_spec": partition_spec(schema_name, layout),
        "sort_order": sort_order(schema_name, layout),
        "properties": table_properties(properties),
    }
    if location:
        kwargs["location"] = location
    return catalog.create_table_if_not_exists(identifier, **kwargs)
