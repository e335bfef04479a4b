"""Checks and references for writer benchmarks: what a table holds after a cell, and how fast
pyarrow alone writes the same rows (the ceiling the writer is compared with).

A table is read back in full and compared with what was written by a checksum over every
column the rows were written with (the table may hold more columns: they are not compared).
A real writer's table need not hold the rows in the trade schema's own types: the writer
declares its storage schema (the written rows are compared in that form,
:func:`k2matrix.writer.fit.stored_form`) or a normalizer (the table read back is turned into
the trade schema's form first). A difference names the column and the first differing value
(:mod:`k2matrix.writer.diff`)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from k2matrix.errors import VerificationError
from k2matrix.stats import median
from k2matrix.writer.checksum import Checksum, table_checksum
from k2matrix.writer.diff import describe_difference
from k2matrix.writer.fit import stored_form
from k2matrix.writer.layouts import ROW_GROUP_ROWS

Normalizer = Callable[[pa.Table], pa.Table]

if TYPE_CHECKING:
    from pyiceberg.table import Table


@dataclass(frozen=True)
class TableState:
    """What a table holds, read back through a full scan, and what its snapshot says."""

    checksum: Checksum
    summary_records: int
    data_files: int
    files_bytes: int
    snapshots: int


def read_state(table: Table, normalize: Normalizer | None = None,
               columns: list[str] | None = None) -> tuple[TableState, pa.Table]:
    """Refresh ``table`` and read all of it back (through ``normalize`` if given; only
    ``columns`` if given, in that order: a column the table lacks is a VerificationError)."""
    table.refresh()
    snapshot = table.current_snapshot()
    props = dict(snapshot.summary.additional_properties) if snapshot and snapshot.summary else {}
    data = table.scan().to_arrow()
    if normalize is not None:
        data = normalize(data)
    if columns:
        lacking = [c for c in columns if c not in data.column_names]
        if lacking:
            raise VerificationError(f"table {table.name()}: no column {lacking[0]!r} to compare "
                                    f"with the rows written (it has "
                                    f"{', '.join(data.column_names)}); a writer that stores "
                                    "other columns declares normalize()")
        data = data.select(columns)
    state = TableState(
        checksum=table_checksum(data),
        summary_records=int(props.get("total-records", 0)),
        data_files=int(props.get("total-data-files", 0)),
        files_bytes=int(props.get("total-files-size", 0)),
        snapshots=len(table.metadata.snapshots),
    )
    return state, data


def expected_form(expected: Checksum, storage: pa.Schema | None) -> Checksum:
    """``expected`` recomputed with its rows in the writer's storage form (unchanged without
    a storage schema, or without the rows)."""
    if storage is None or not expected.sources:
        return expected
    total = Checksum()
    for source in expected.sources:
        total = total + table_checksum(stored_form(source, storage))
    return total


def verify_table(table: Table, expected: Checksum, normalize: Normalizer | None = None,
                 storage: pa.Schema | None = None) -> TableState:
    """Raise :class:`VerificationError` unless ``table`` holds exactly the rows of
    ``expected`` (count and content checksum over the columns written, in the writer's
    ``storage`` form if it declares one, the table read through ``normalize`` if given) and
    its snapshot summary counts them too. A content difference names the column and its
    first differing value."""
    expected = expected_form(expected, storage)
    state, data = read_state(table, normalize, [name for name, _ in expected.columns])
    problems = []
    if state.checksum.rows != expected.rows:
        problems.append(f"holds {state.checksum.rows} rows, {expected.rows} were written")
    elif state.checksum != expected:
        problems.append(f"content differs: {describe_difference(expected, data)} (read back "
                        f"{state.checksum}, wrote {expected})")
    if state.summary_records != expected.rows:
        problems.append(f"snapshot summary says total-records={state.summary_records}, "
                        f"{expected.rows} were written")
    if problems:
        raise VerificationError(f"table {table.name()}: " + "; ".join(problems))
    return state


def parquet_seconds(data: pa.Table, repeats: int = 3) -> float:
    """Median seconds for pyarrow to write ``data`` to one local Parquet file with the
    writer's settings (zstd, 100K-row groups): the ceiling for an Iceberg append of it."""
    data = data.combine_chunks()
    times = []
    with tempfile.TemporaryDirectory(prefix="k2-ceiling-") as folder:
        path = Path(folder) / "ceiling.parquet"
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            pq.write_table(data, path, compression="zstd", row_group_size=ROW_GROUP_ROWS)
            times.append(time.perf_counter() - start)
    return median(times)

