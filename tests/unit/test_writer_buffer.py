"""The buffered writer: few commits for many small batches, flush by rows or age, bad
batches refused at the call that brought them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import CatalogConfig
from k2matrix.errors import WorkloadError
from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table
from k2matrix.writer.buffer import BufferedWriter
from k2matrix.writer.checksum import table_checksum
from k2matrix.writer.iceberg import IcebergWriter
from k2matrix.writer.verify import verify_table

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


@pytest.fixture
def writer(tmp_path: Path) -> IcebergWriter:
    catalog: Catalog = open_catalog(CatalogConfig(warehouse=str(tmp_path / "wh")))
    return IcebergWriter(catalog)


def test_flush_by_rows(writer: IcebergWriter) -> None:
    data = generate_table(WorkloadSpec("v2", 2_050, 1))
    buffered = BufferedWriter(writer, flush_rows=500, flush_age_s=3600)
    for i in range(0, 2_050, 100):
        assert buffered.write_arrow(data.slice(i, 100), "t") == min(100, 2_050 - i)
    assert [c.rows for c in writer.commits] == [500, 500, 500, 500]
    assert buffered.pending_rows == 50
    buffered.close()
    assert writer.commits[-1].rows == 50
    assert writer.commits[0].data_files == 1  # 5 input batches, one file
    verify_table(writer.table("t"), table_checksum(data))


class Clock:
    """The buffer's clock, moved by the test alone."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_flush_by_age(writer: IcebergWriter) -> None:
    clock = Clock()
    records = generate_records(WorkloadSpec("v2", 30, 2))
    buffered = BufferedWriter(writer, flush_rows=10_000, flush_age_s=5.0, clock=clock)
    buffered.write_trades(records[:10], "t")
    clock.now += 4.5
    assert buffered.poll() == 0 and not writer.commits
    clock.now += 0.5  # the oldest row has waited flush_age_s
    assert buffered.poll() == 10
    buffered.write_trades(records[10:20], "t")
    clock.now += 5.0
    buffered.write_trades(records[20:], "t")  # the buffer is old: this write flushes it
    assert [c.rows for c in writer.commits] == [10, 20]
    verify_table(writer.table("t"), table_checksum(generate_table(WorkloadSpec("v2", 30, 2))))


def test_a_bad_batch_is_refused_and_the_buffer_kept(writer: IcebergWriter) -> None:
    good = generate_records(WorkloadSpec("v2", 20, 3))
    buffered = BufferedWriter(writer, flush_rows=1_000)
    buffered.write_trades(good[:10], "t")
    bad = [dict(r) for r in good[10:]]
    bad[4]["symbol"] = None
    with pytest.raises(WorkloadError, match="record 4: field 'symbol' = None"):
        buffered.write_trades(bad, "t")
    buffered.write_trades(good[10:], "t")
    assert buffered.flush() == 20
    verify_table(writer.table("t"), table_checksum(generate_table(WorkloadSpec("v2", 20, 3))))


def test_tables_buffer_separately(writer: IcebergWriter) -> None:
    buffered = BufferedWriter(writer, flush_rows=100)
    writer.ensure_table("old", schema="v1")
    buffered.write_trades(generate_records(WorkloadSpec("v1", 60, 1)), "old")
    buffered.write_trades(generate_records(WorkloadSpec("v2", 60, 1)), "new")
    assert not writer.commits
    assert buffered.flush() == 120
    assert sorted(c.table for c in writer.commits) == ["new", "old"]


@pytest.mark.parametrize(("rows", "age", "message"), [
    (0, 1.0, "flush_rows=0"), (10, 0.0, "flush_age_s=0.0"), (10, -1.0, "flush_age_s=-1.0")])
def test_arguments_are_checked(writer: IcebergWriter, rows: int, age: float,
                               message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BufferedWriter(writer, flush_rows=rows, flush_age_s=age)


def test_a_failed_flush_keeps_its_rows(writer: IcebergWriter) -> None:
    buffered = BufferedWriter(writer, flush_rows=1_000)
    buffered.write_arrow(generate_table(WorkloadSpec("v2", 30, 4)), "gone")
    writer.catalog.drop_table("k2.gone")  # the commit now has no table to land in
    with pytest.raises(Exception, match="gone"):
        buffered.flush()
    assert buffered.pending_rows == 30
    assert not writer.commits
