"""Bench helpers of the writer suite that do not depend on the writer under test: uniquely
named tables purged after the cell, timed rounds, commit figures, extreme decimals, and the
row pools and ceilings of the sustained cells (the writer itself: :mod:`.suite`)."""

from __future__ import annotations

import itertools
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from k2matrix.backends.faults import is_fault
from k2matrix.cell import Cell
from k2matrix.stats import median
from k2matrix.workload.generate import WorkloadSpec, generate_table
from k2matrix.writer.checksum import Checksum, table_checksum
from k2matrix.writer.iceberg import CommitRecord
from k2matrix.writer.verify import parquet_seconds

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pytest_benchmark.fixture import BenchmarkFixture

class Tables:
    """Fresh, unique table names for one cell; purges them afterwards."""

    def __init__(self, cell: Cell, catalog: Catalog, namespace: str) -> None:
        self.prefix = f"w_{cell.id}_{os.getpid()}_{time.time_ns() % 10**9}".replace("-", "_")
        self.catalog = catalog
        self.namespace = namespace
        self.names: list[str] = []
        self._count = itertools.count()

    def new(self, tag: str = "r") -> str:
        name = f"{self.prefix}_{tag}{next(self._count)}"
        self.names.append(name)
        return name

    def purge(self) -> None:
        """Best effort: a leftover table harms nothing. The first remote fault (a catalog or
        S3 endpoint that did not answer) ends it: each further table would wait as long."""
        for name in self.names:
            try:
                self.catalog.purge_table(f"{self.namespace}.{name}")
            except Exception as exc:
                if is_fault(exc):
                    return


def commit_info(commits: Sequence[CommitRecord]) -> dict[str, Any]:
    return {
        "commits": len(commits),
        "bytes": sum(c.bytes for c in commits),
        "files_added": sum(c.data_files for c in commits),
        "commit_latency_ms": round(median(c.total_ms for c in commits), 3),
        "commit_cpu_ms": round(median(c.cpu_ms for c in commits), 3),
        "commit_write_ms": round(median(c.write_ms for c in commits), 3),
        "commit_catalog_ms": round(median(c.commit_ms for c in commits), 3),
        "commit_retries": sum(c.attempts - 1 for c in commits),
    }


def timed_rounds(benchmark: BenchmarkFixture, rounds: int, setup: Callable[[], str],
                  body: Callable[[str], object],
                  reference: Callable[[], float] | None = None
                  ) -> tuple[list[float], list[float]]:
    """``rounds`` rounds of ``body(fresh table)``: the seconds of each round, and of the
    ``reference`` round (seconds it measured) run in the untimed setup before each, so each
    round is paired with a reference that ran just before it (the efficiency's ratio
    cancels the machine's drift: :func:`k2matrix.stats.paired_ceiling_info`)."""
    seconds: list[float] = []
    reference_seconds: list[float] = []

    def run(name: str) -> None:
        start = time.perf_counter()
        body(name)
        seconds.append(time.perf_counter() - start)

    def before() -> tuple[tuple[str], dict[str, Any]]:
        if reference is not None:
            reference_seconds.append(reference())
        return (setup(),), {}

    benchmark.pedantic(run, setup=before, rounds=rounds,  # type: ignore[no-untyped-call]
                       iterations=1)  # (pytest-benchmark ships no annotations)
    return seconds, reference_seconds


def extreme_decimals(records: list[dict[str, Any]], schema: str) -> list[dict[str, Any]]:
    """Records whose decimals sit at the limits of their type: all 18 digits, the smallest
    unit, zero, negatives."""
    from decimal import Decimal

    if schema == "v1":
        values = [Decimal("999999999999.999999"), Decimal("0.000001"), Decimal("0"),
                  Decimal("-999999999999.999999"), Decimal("123456789012.345678")]
        fields = ["price"]
    else:
        values = [Decimal("9999999999.99999999"), Decimal("0.00000001"), Decimal("0E-8"),
                  Decimal("-9999999999.99999999"), Decimal("1234567890.12345678")]
        fields = ["price", "quantity"]
    out = []
    for i, record in enumerate(records):
        copy = dict(record)
        for j, f in enumerate(fields):
            copy[f] = values[(i + j) % len(values)]
        out.append(copy)
    return out


def pool(cell: Cell, schema: str, rows: int, batch: int) -> tuple[list[pa.Table], list[Checksum]]:
    table = generate_table(WorkloadSpec.from_cell(cell, rows=rows, schema=schema))
    slices = [table.slice(i, batch) for i in range(0, rows, batch)]
    return slices, [table_checksum(s) for s in slices]


def ceiling_seconds(slices: list[pa.Table], flush: int, total: int) -> Callable[[], float]:
    """A reference round: pyarrow writing ``total`` rows as files of ``flush`` rows (one
    file written, its time scaled)."""
    sample = pa.concat_tables(slices).slice(0, flush).combine_chunks()
    return lambda: parquet_seconds(sample, repeats=1) * total / int(sample.num_rows)


def parquet_round(data: pa.Table) -> Callable[[], float]:
    """A reference round: pyarrow writing ``data`` to one Parquet file
    (:func:`k2matrix.writer.verify.parquet_seconds`, once)."""
    data = data.combine_chunks()
    return lambda: parquet_seconds(data, repeats=1)


def first_and_last_tenth(values: Sequence[float]) -> tuple[float, float]:
    """Mean of the first and of the last tenth of ``values`` (at least one value each)."""
    k = max(1, len(values) // 10)
    return statistics.mean(values[:k]), statistics.mean(values[-k:])


def tenths(commits: Sequence[CommitRecord]) -> dict[str, float]:
    """Mean commit latency (wall and CPU) of the first and last tenth of ``commits``."""
    out: dict[str, float] = {}
    for key, values in (("", [c.total_ms for c in commits]), ("cpu_", [c.cpu_ms for c in commits])):
        first, last = first_and_last_tenth(values)
        out[f"commit_{key}first_tenth_ms"] = round(first, 3)
        out[f"commit_{key}last_tenth_ms"] = round(last, 3)
        out[f"commit_{key}growth"] = round(last / first, 3) if first else 0.0
    return out
