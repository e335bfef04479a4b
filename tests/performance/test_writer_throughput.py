"""Writer workload benchmarks: Iceberg appends through pyiceberg on the matrix's catalog.

Every timed round writes to a fresh table (created in the untimed setup), and after the cell
every table is read back in full: it must hold exactly the rows written (count and a content
checksum over all columns, decimals exact) and its snapshot summary must count them. Only then
are the figures stored. Each benchmark stores ``items``/``unit``/``rows``, ``bytes`` and
``files_added`` (from the snapshot summaries), ``throughput``, commit latency, and the ratio
to a ceiling measured in the same cell: pyarrow writing the same rows to one Parquet file.

Tables are named after the cell, the process and the round, so xdist workers sharing one
catalog never collide; they are purged after the cell.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest

from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import Backends
from k2matrix.cell import Cell
from k2matrix.components.writer import CommitRecord, IcebergWriter, conform
from k2matrix.components.writer_buffer import BufferedWriter
from k2matrix.components.writer_checksum import Checksum, table_checksum
from k2matrix.components.writer_convert import records_to_table, records_to_table_naive
from k2matrix.components.writer_verify import ceiling_info, parquet_seconds, verify_table
from k2matrix.errors import WorkloadError
from k2matrix.generate import WorkloadSpec, generate_records, generate_table

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

THROUGHPUT_APPENDS = 10  # appends per round in writer.throughput
POOL_ROWS = 20_000  # distinct generated rows that sustained cells cycle through
DICT_SUSTAINED_ROWS = 100_000  # rows of the dict-input variant of writer.buffered
STRESS_INPUT_BATCH = 1_000


@pytest.fixture(scope="module")
def catalog(k2_backends: Backends) -> Catalog:
    opened: Catalog = open_catalog(k2_backends.catalog)
    return opened


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
        for name in self.names:  # best effort: a leftover table harms nothing
            with contextlib.suppress(Exception):
                self.catalog.purge_table(f"{self.namespace}.{name}")


@pytest.fixture
def tables(k2_cell: Cell, catalog: Catalog, k2_backends: Backends) -> Iterator[Tables]:
    t = Tables(k2_cell, catalog, k2_backends.catalog.namespace)
    yield t
    t.purge()


def _writer(catalog: Catalog, backends: Backends, cell: Cell, **kwargs: Any) -> IcebergWriter:
    return IcebergWriter(catalog, namespace=backends.catalog.namespace,
                         schema=cell.schema or "v2", **kwargs)


def _ms_stats(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)

    return {"latency_p50_ms": round(statistics.median(ordered), 3), "latency_p99_ms": pct(0.99),
            "latency_max_ms": round(ordered[-1], 3)}


def _commit_info(commits: Sequence[CommitRecord]) -> dict[str, Any]:
    return {
        "commits": len(commits),
        "bytes": sum(c.bytes for c in commits),
        "files_added": sum(c.data_files for c in commits),
        "commit_latency_ms": round(statistics.median(c.total_ms for c in commits), 3),
        "commit_cpu_ms": round(statistics.median(c.cpu_ms for c in commits), 3),
        "commit_write_ms": round(statistics.median(c.write_ms for c in commits), 3),
        "commit_catalog_ms": round(statistics.median(c.commit_ms for c in commits), 3),
        "commit_retries": sum(c.attempts - 1 for c in commits),
    }


def _verify_all(writer: IcebergWriter, names: Sequence[str], expected: Checksum) -> str:
    for name in names:
        verify_table(writer.table(name), expected)
    return f"{len(names)} tables: count+checksum over all columns and snapshot total-records equal"


def _fresh(writer: IcebergWriter, tables: Tables, names: list[str]) -> Callable[[], str]:
    """A setup: a fresh table per round, its name kept in ``names``."""

    def setup() -> str:
        name = tables.new()
        writer.ensure_table(name)
        names.append(name)
        return name

    return setup


def _timed_rounds(benchmark: Any, rounds: int, setup: Callable[[], str],
                  body: Callable[[str], object]) -> list[float]:
    """``rounds`` rounds of ``body(fresh table)``; the seconds of each round."""
    seconds: list[float] = []

    def run(name: str) -> None:
        start = time.perf_counter()
        body(name)
        seconds.append(time.perf_counter() - start)

    benchmark.pedantic(run, setup=lambda: ((setup(),), {}), rounds=rounds, iterations=1)
    return seconds


# ---------------------------------------------------------------------------- append latency


@pytest.mark.k2(component="writer", case="append")
class TestWriterLatency:
    """One append of a batch (Arrow, the cell's schema and layout) into a fresh table."""

    def test_append(self, k2_cell: Cell, benchmark: Any, catalog: Catalog, tables: Tables,
                    k2_backends: Backends, k2_rounds: Callable[[int], int]) -> None:
        rows = int(k2_cell.params["batch_size"])
        layout = str(k2_cell.params["layout"])
        data = generate_table(WorkloadSpec.from_cell(k2_cell, rows=rows))
        writer = _writer(catalog, k2_backends, k2_cell, layout=layout)
        writer.write_arrow(data, tables.new("warm"))  # imports, first-write costs
        warm = len(writer.commits)

        timed: list[str] = []
        setup = _fresh(writer, tables, timed)

        seconds = _timed_rounds(benchmark, k2_rounds(7), setup,
                                lambda name: writer.write_arrow(data, name))
        verified = _verify_all(writer, timed, table_checksum(data))
        commits = writer.commits[warm:]
        benchmark.extra_info.update(
            items=rows, unit="rows/s", rows=rows, layout=layout, verified=verified,
            **_commit_info(commits), **_ms_stats([s * 1e3 for s in seconds]),
            **ceiling_info(rows, statistics.median(seconds), parquet_seconds(data)))
        benchmark.extra_info["bytes"] //= len(commits)
        benchmark.extra_info["files_added"] /= len(commits)


# ---------------------------------------------------------------------------- throughput


@pytest.mark.k2(component="writer", case="throughput")
class TestWriterThroughput:
    """Several appends of dict records (K2's write_trades: check, convert, commit each)."""

    def test_throughput(self, k2_cell: Cell, benchmark: Any, catalog: Catalog,
                        tables: Tables, k2_backends: Backends,
                        k2_rounds: Callable[[int], int]) -> None:
        batch = int(k2_cell.params["batch_size"])
        rows = batch * THROUGHPUT_APPENDS
        spec = WorkloadSpec.from_cell(k2_cell, rows=rows)
        records = generate_records(spec)
        batches = [records[i:i + batch] for i in range(0, rows, batch)]
        writer = _writer(catalog, k2_backends, k2_cell)
        writer.write_trades(batches[0], tables.new("warm"))
        warm = len(writer.commits)

        timed: list[str] = []
        setup = _fresh(writer, tables, timed)

        def body(name: str) -> None:
            for b in batches:
                writer.write_trades(b, name)

        seconds = _timed_rounds(benchmark, k2_rounds(3), setup, body)
        data = generate_table(spec)
        verified = _verify_all(writer, timed, table_checksum(data))
        commits = writer.commits[warm:]
        info = _commit_info(commits)
        info["bytes"] //= len(seconds)
        info["files_added"] //= len(seconds)
        benchmark.extra_info.update(
            items=rows, unit="rows/s", rows=rows, batch_size=batch, appends=len(batches),
            verified=verified, **info,
            **ceiling_info(rows, statistics.median(seconds), parquet_seconds(data)))


# ---------------------------------------------------------------------------- conversion


@pytest.mark.k2(component="writer", case="arrow_conversion")
class TestArrowConversion:
    """Dict records to Arrow (checked, column-wise) against the naive dict-of-lists build
    and the Arrow-native path (no conversion)."""

    def test_conversion(self, k2_cell: Cell, benchmark: Any,
                        k2_rounds: Callable[[int], int]) -> None:
        rows = int(k2_cell.params["batch_size"])
        spec = WorkloadSpec.from_cell(k2_cell, rows=rows)
        expected = generate_table(spec)
        records = generate_records(spec)
        schema = spec.schema
        rounds = k2_rounds(100 if rows <= 1000 else 20)
        result = benchmark.pedantic(records_to_table, args=(records, schema), rounds=rounds,
                                    iterations=1, warmup_rounds=3)
        assert result.equals(expected), "converted records differ from the generated table"

        def median_ms(fn: Callable[[], object]) -> tuple[float, float]:
            """Median wall and CPU milliseconds (CPU time is what other load on the
            machine does not inflate)."""
            wall, cpu = [], []
            for _ in range(rounds):
                start, cpu_start = time.perf_counter(), time.process_time()
                fn()
                cpu.append((time.process_time() - cpu_start) * 1e3)
                wall.append((time.perf_counter() - start) * 1e3)
            return statistics.median(wall), statistics.median(cpu)

        fast_ms, fast_cpu = median_ms(lambda: records_to_table(records, schema))
        naive_ms, naive_cpu = median_ms(lambda: records_to_table_naive(records, schema))
        native_ms, _ = median_ms(lambda: conform(expected, schema))
        benchmark.extra_info.update(
            items=rows, unit="rows/s", rows=rows, verified="equal to the generated table",
            conversion_ms=round(fast_ms, 4), naive_ms=round(naive_ms, 4),
            conversion_cpu_ms=round(fast_cpu, 4), naive_cpu_ms=round(naive_cpu, 4),
            speedup_vs_naive=round(naive_ms / fast_ms, 2) if fast_ms else 0.0,
            arrow_native_ms=round(native_ms, 4),
            throughput=round(rows / (fast_ms / 1e3), 1) if fast_ms else 0.0)


# ---------------------------------------------------------------------------- decimals


def _extreme_decimals(records: list[dict[str, Any]], schema: str) -> list[dict[str, Any]]:
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


@pytest.mark.k2(component="writer", case="decimal_precision")
class TestDecimalPrecision:
    """Append decimals at maximum precision and scale; read them back exactly; a decimal
    that does not fit is refused, naming row, field and value, with nothing committed."""

    def test_decimal_precision(self, k2_cell: Cell, benchmark: Any, catalog: Catalog,
                               tables: Tables, k2_backends: Backends,
                               k2_rounds: Callable[[int], int]) -> None:
        from decimal import Decimal

        schema = k2_cell.schema or "v2"
        rows = 1000
        records = _extreme_decimals(generate_records(WorkloadSpec.from_cell(k2_cell, rows)),
                                    schema)
        writer = _writer(catalog, k2_backends, k2_cell)

        timed: list[str] = []
        setup = _fresh(writer, tables, timed)

        seconds = _timed_rounds(benchmark, k2_rounds(5), setup,
                                lambda name: writer.write_trades(records, name))
        data = records_to_table(records, schema)
        verified = _verify_all(writer, timed, table_checksum(data))
        back = writer.table(timed[0]).scan().to_arrow()
        for field in ("price",) if schema == "v1" else ("price", "quantity"):
            assert sorted(back.column(field).to_pylist()) == sorted(r[field] for r in records)

        too_big = Decimal("99999999999.5") if schema == "v2" else Decimal("1000000000000.5")
        bad = [dict(r) for r in records[:10]]
        bad[7]["price"] = too_big
        before = writer.table(timed[0]).current_snapshot()
        with pytest.raises(WorkloadError, match=r"record 7: field 'price' = Decimal"):
            writer.write_trades(bad, timed[0])
        writer.table(timed[0]).refresh()
        assert writer.table(timed[0]).current_snapshot() == before
        benchmark.extra_info.update(
            items=rows, unit="rows/s", rows=rows,
            verified=verified + "; extreme decimals equal; overflow refused, nothing committed",
            **_commit_info(writer.commits),
            **ceiling_info(rows, statistics.median(seconds), parquet_seconds(data)))


# ---------------------------------------------------------------------------- sustained


def _pool(cell: Cell, schema: str, rows: int, batch: int) -> tuple[list[pa.Table], list[Checksum]]:
    table = generate_table(WorkloadSpec.from_cell(cell, rows=rows, schema=schema))
    slices = [table.slice(i, batch) for i in range(0, rows, batch)]
    return slices, [table_checksum(s) for s in slices]


def _ceiling_seconds(slices: list[pa.Table], flush: int, total: int) -> float:
    """pyarrow writing ``total`` rows as files of ``flush`` rows (one file measured, scaled)."""
    sample = pa.concat_tables(slices).slice(0, flush)
    seconds: float = parquet_seconds(sample) * total / int(sample.num_rows)
    return seconds


def _tenths(commits: Sequence[CommitRecord]) -> dict[str, float]:
    """Mean commit latency (wall and CPU) of the first and last tenth of ``commits``."""
    out: dict[str, float] = {}
    for key, values in (("", [c.total_ms for c in commits]), ("cpu_", [c.cpu_ms for c in commits])):
        k = max(1, len(values) // 10)
        first, last = statistics.mean(values[:k]), statistics.mean(values[-k:])
        out[f"commit_{key}first_tenth_ms"] = round(first, 3)
        out[f"commit_{key}last_tenth_ms"] = round(last, 3)
        out[f"commit_{key}growth"] = round(last / first, 3) if first else 0.0
    return out


@pytest.mark.k2(component="writer", case="buffered")
class TestBufferedSustained:
    """Sustained ingestion from small input batches through the buffered writer: batches of
    ``sustained_input_batch`` rows, a commit per ``writer_flush_rows``, ``sustained_rows`` in
    all. Per-commit latency against commit number goes in ``series``."""

    def test_buffered(self, k2_cell: Cell, benchmark: Any, catalog: Catalog, tables: Tables,
                      k2_backends: Backends, k2_rounds: Callable[[int], int]) -> None:
        total = int(k2_cell.settings["sustained_rows"])
        batch = int(k2_cell.settings["sustained_input_batch"])
        flush = int(k2_cell.settings["writer_flush_rows"])
        schema = k2_cell.schema or "v2"
        slices, sums = _pool(k2_cell, schema, min(total, max(POOL_ROWS, flush)), batch)
        writer = _writer(catalog, k2_backends, k2_cell)
        buffered = BufferedWriter(writer, flush_rows=flush, flush_age_s=60.0)
        expected = Checksum()
        for i in range(-(-total // batch)):
            expected += sums[i % len(slices)]
        timed: list[str] = []
        fresh = _fresh(writer, tables, timed)
        starts: list[int] = []

        def setup() -> str:
            starts.append(len(writer.commits))
            return fresh()

        def body(name: str) -> None:
            for i in range(-(-total // batch)):
                buffered.write_arrow(slices[i % len(slices)], name)
            buffered.flush()

        seconds = _timed_rounds(benchmark, k2_rounds(1), setup, body)
        verified = _verify_all(writer, timed, expected)
        last_round = writer.commits[starts[-1]:]
        series = [round(c.total_ms, 3) for c in last_round]

        dict_info = self._dict_input(k2_cell, writer, tables, batch, flush, schema)
        benchmark.extra_info.update(
            items=expected.rows, unit="rows/s", rows=expected.rows, input_batch=batch,
            flush_rows=flush, verified=verified, **_commit_info(last_round),
            **_tenths(last_round),
            series={"commit_latency_ms": series,
                    "commit_cpu_ms": [round(c.cpu_ms, 3) for c in last_round]},
            **ceiling_info(expected.rows, statistics.median(seconds),
                           _ceiling_seconds(slices, flush, expected.rows)),
            **dict_info)

    @staticmethod
    def _dict_input(cell: Cell, writer: IcebergWriter, tables: Tables, batch: int, flush: int,
                    schema: str) -> dict[str, Any]:
        """The same through write_trades from dict records (smaller: dicts are big)."""
        rows = min(DICT_SUSTAINED_ROWS, int(cell.settings["sustained_rows"]))
        records = generate_records(WorkloadSpec.from_cell(cell, rows=rows, schema=schema))
        buffered = BufferedWriter(writer, flush_rows=flush, flush_age_s=60.0)
        name = tables.new("dict")
        writer.ensure_table(name)
        start = time.perf_counter()
        for i in range(0, rows, batch):
            buffered.write_trades(records[i:i + batch], name)
        buffered.flush()
        seconds = time.perf_counter() - start
        verify_table(writer.table(name), table_checksum(records_to_table(records, schema)))
        return {"dict_input_rows": rows, "dict_input_throughput": round(rows / seconds, 1)}


# ---------------------------------------------------------------------------- stress


@pytest.mark.slow
@pytest.mark.k2(component="writer", case="stress")
class TestWriterStress:
    """Sustained mixed V1/V2 dict appends (``stress_rows`` in all) through one buffered
    writer into a V1 and a V2 table, interleaved batch by batch."""

    def test_stress(self, k2_cell: Cell, benchmark: Any, catalog: Catalog, tables: Tables,
                    k2_backends: Backends, k2_rounds: Callable[[int], int]) -> None:
        total = int(k2_cell.settings["stress_rows"])
        flush = int(k2_cell.settings["writer_flush_rows"])
        batch = STRESS_INPUT_BATCH
        pool_rows = min(POOL_ROWS, total // 2)
        pools = {s: generate_records(WorkloadSpec.from_cell(k2_cell, pool_rows, schema=s))
                 for s in ("v1", "v2")}
        batches = {s: [p[i:i + batch] for i in range(0, pool_rows, batch)]
                   for s, p in pools.items()}
        sums = {s: [table_checksum(records_to_table(b, s)) for b in bs]
                for s, bs in batches.items()}
        steps = total // (2 * batch)
        expected = {s: sum((sums[s][i % len(sums[s])] for i in range(steps)), Checksum())
                    for s in ("v1", "v2")}
        writer = _writer(catalog, k2_backends, k2_cell)
        buffered = BufferedWriter(writer, flush_rows=flush, flush_age_s=60.0)
        rounds_tables: list[dict[str, str]] = []

        def setup() -> str:
            names = {s: tables.new(s) for s in ("v1", "v2")}
            for s, name in names.items():
                writer.ensure_table(name, schema=s)
            rounds_tables.append(names)
            return names["v1"]

        def body(_: str) -> None:
            names = rounds_tables[-1]
            for i in range(steps):
                for s in ("v1", "v2"):
                    buffered.write_trades(batches[s][i % len(batches[s])], names[s])
            buffered.flush()

        seconds = _timed_rounds(benchmark, k2_rounds(1), setup, body)
        for names in rounds_tables:
            for s, name in names.items():
                verify_table(writer.table(name), expected[s])
        rows = expected["v1"].rows + expected["v2"].rows
        by_schema = {s: [c for c in writer.commits
                         if c.table in {names[s] for names in rounds_tables}] for s in expected}
        # Growth per table (V1 and V2 commits interleave and differ in size); the worse one.
        tenths = {s: _tenths(commits) for s, commits in by_schema.items()}
        growth = {f"{k}_{s}": v for s, t in tenths.items() for k, v in t.items()}
        worst = max(tenths.values(), key=lambda t: t["commit_growth"])
        benchmark.extra_info.update(
            items=rows, unit="rows/s", rows=rows, input_batch=batch, flush_rows=flush,
            verified="v1 and v2 tables: count+checksum and snapshot total-records equal",
            **_commit_info(writer.commits), **worst, **growth,
            series={"commit_latency_ms": [round(c.total_ms, 3) for c in writer.commits],
                    **{f"commit_latency_ms_{s}": [round(c.total_ms, 3) for c in v]
                       for s, v in by_schema.items()}},
            **ceiling_info(rows, statistics.median(seconds),
                           sum(parquet_seconds(records_to_table(pools[s], s)) for s in pools)
                           * rows / (2 * pool_rows)))
