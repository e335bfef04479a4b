"""Checks and references for writer benchmarks: what a table holds after a cell, and how fast
pyarrow alone writes the same rows (the ceiling the writer is compared with)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from k2matrix.errors import VerificationError
from k2matrix.stats import median
from k2matrix.writer.checksum import Checksum, table_checksum
from k2matrix.writer.layouts import ROW_GROUP_ROWS

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


def read_state(table: Table) -> TableState:
    """Refresh ``table`` and read all of it back."""
    table.refresh()
    snapshot = table.current_snapshot()
    props = dict(snapshot.summary.additional_properties) if snapshot and snapshot.summary else {}
    data = table.scan().to_arrow()
    return TableState(
        checksum=table_checksum(data),
        summary_records=int(props.get("total-records", 0)),
        data_files=int(props.get("total-data-files", 0)),
        files_bytes=int(props.get("total-files-size", 0)),
        snapshots=len(table.metadata.snapshots),
    )


def verify_table(table: Table, expected: Checksum) -> TableState:
    """Raise :class:`VerificationError` unless ``table`` holds exactly the rows of
    ``expected`` (count and content checksum) and its snapshot summary counts them too."""
    state = read_state(table)
    problems = []
    if state.checksum.rows != expected.rows:
        problems.append(f"holds {state.checksum.rows} rows, {expected.rows} were written")
    elif state.checksum != expected:
        problems.append(f"content differs: read back {state.checksum}, wrote {expected}")
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

