"""Writer workload benchmarks: Iceberg appends by the writer the matrix names
(``[components.writer] impl``, the built-in IcebergWriter on pyiceberg by default; see
``k2matrix.writer.protocol``) on the matrix's catalog.

Every timed round writes to a fresh table (created in the untimed setup), and after the cell
every table is read back in full through the catalog: it must hold exactly the rows written
(count and a content checksum over all columns, decimals exact) and its snapshot summary must
count them. Only then are the figures stored. Each benchmark stores ``items``/``unit``/
``rows``, ``bytes`` and ``files_added`` (from the snapshot summaries), ``throughput``, commit
latency (where the writer records its commits), the ratio to a ceiling measured in the same
cell (pyarrow writing the same rows to one Parquet file), and ``impl``.

Tables are named after the cell, the process and the round, so xdist workers sharing one
catalog never collide; they are purged after the cell.

Object storage: a cell with ``storage = "s3"`` writes its tables to ``[backends.storage]`` (or
the embedded moto server), a cell with a ``catalog`` (the ``catalogs`` axis: sqlite,
postgresql, glue) commits through that catalog. Such cells store ``extra_info["s3"]``: the S3
requests by kind, bytes moved and Glue calls, counted by the server over ``ops`` commits (for
writer.append: one more, untimed append; for the sustained cells: the timed round itself),
and the same per round as ``s3.*`` counters in ``extra_info["counters"]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from writer_cells import on_s3

from k2matrix.backends.s3_session import S3Session, as_counters
from k2matrix.cell import Cell
from k2matrix.errors import WorkloadError
from k2matrix.stats import latency_summary, median, paired_ceiling_info, throughput
from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table
from k2matrix.writer.bench import (
    Tables,
    extreme_decimals,
    parquet_round,
    timed_rounds,
)
from k2matrix.writer.checksum import table_checksum
from k2matrix.writer.convert import records_to_table, records_to_table_naive
from k2matrix.writer.iceberg import conform
from k2matrix.writer.suite import WriterBench

THROUGHPUT_APPENDS = 10  # appends per round in writer.throughput


# ---------------------------------------------------------------------------- append latency


@pytest.mark.k2(component="writer", case="append")
class TestWriterLatency:
    """One append of a batch (Arrow, the cell's schema and layout) into a fresh table."""

    def test_append(self, k2_cell: Cell, benchmark: BenchmarkFixture, writers: WriterBench,
                    tables: Tables, k2_rounds: Callable[[int], int], k2_s3: S3Session) -> None:
        rows = int(k2_cell.params["batch_size"])
        layout = str(k2_cell.params["layout"])
        data = generate_table(WorkloadSpec.from_cell(k2_cell, rows=rows))
        writer = writers.make(layout=layout)
        warm_table = tables.new("warm")
        writers.ensure_table(writer, warm_table)
        writer.write_arrow(data, warm_table)  # imports, first-write costs
        warm = writers.mark(writer)

        timed: list[str] = []
        setup = writers.fresh_tables(writer, tables, timed)

        seconds, reference = timed_rounds(benchmark, k2_rounds(7), setup,
                                          lambda name: writer.write_arrow(data, name),
                                          parquet_round(data))
        verified = writers.verify_all(timed, table_checksum(data))
        info = writers.commit_info(writer, warm, timed)
        benchmark.extra_info.update(
            items=rows, unit="rows/s", rows=rows, layout=layout, verified=verified,
            **info, **latency_summary([s * 1e3 for s in seconds]),
            **paired_ceiling_info(rows, seconds, reference), **writers.info())
        benchmark.extra_info["bytes"] //= info["commits"]
        benchmark.extra_info["files_added"] /= info["commits"]
        if on_s3(k2_cell):  # what one commit costs on object storage: one more append
            extra = setup()
            _, cost = k2_s3.counted(lambda: writer.write_arrow(data, extra), 1, "commit")
            benchmark.extra_info["s3"] = cost
            benchmark.extra_info.setdefault("counters", {}).update(as_counters(cost))


# ---------------------------------------------------------------------------- throughput


@pytest.mark.k2(component="writer", case="throughput")
class TestWriterThroughput:
    """Several appends of dict records (K2's write_trades: check, convert, commit each)."""

    def test_throughput(self, k2_cell: Cell, benchmark: BenchmarkFixture, writers: WriterBench,
                        tables: Tables, k2_rounds: Callable[[int], int]) -> None:
        batch = int(k2_cell.params["batch_size"])
        rows = batch * THROUGHPUT_APPENDS
        spec = WorkloadSpec.from_cell(k2_cell, rows=rows)
        records = generate_records(spec)
        batches = [records[i:i + batch] for i in range(0, rows, batch)]
        writer = writers.make()
        warm_table = tables.new("warm")
        writers.ensure_table(writer, warm_table)
        writer.write_trades(batches[0], warm_table)
        warm = writers.mark(writer)

        timed: list[str] = []
        setup = writers.fresh_tables(writer, tables, timed)

        def body(name: str) -> None:
            for b in batches:
                writer.write_trades(b, name)

        data = generate_table(spec)
        seconds, reference = timed_rounds(benchmark, k2_rounds(3), setup, body,
                                          parquet_round(data))
        verified = writers.verify_all(timed, table_checksum(data))
        info = writers.commit_info(writer, warm, timed)
        info["bytes"] //= len(seconds)
        info["files_added"] //= len(seconds)
        benchmark.extra_info.update(
            items=rows, unit="rows/s", rows=rows, batch_size=batch, appends=len(batches),
            verified=verified, **info,
            **paired_ceiling_info(rows, seconds, reference), **writers.info())


# ---------------------------------------------------------------------------- conversion


@pytest.mark.k2(component="writer", case="arrow_conversion")
class TestArrowConversion:
    """Dict records to Arrow (checked, column-wise) against the naive dict-of-lists build
    and the Arrow-native path (no conversion)."""

    def test_conversion(self, k2_cell: Cell, benchmark: BenchmarkFixture,
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
            return median(wall), median(cpu)

        fast_ms, fast_cpu = median_ms(lambda: records_to_table(records, schema))
        naive_ms, naive_cpu = median_ms(lambda: records_to_table_naive(records, schema))
        native_ms, _ = median_ms(lambda: conform(expected, schema))
        benchmark.extra_info.update(
            items=rows, unit="rows/s", rows=rows, verified="equal to the generated table",
            conversion_ms=round(fast_ms, 4), naive_ms=round(naive_ms, 4),
            conversion_cpu_ms=round(fast_cpu, 4), naive_cpu_ms=round(naive_cpu, 4),
            speedup_vs_naive=round(naive_ms / fast_ms, 2) if fast_ms else 0.0,
            arrow_native_ms=round(native_ms, 4),
            throughput=round(throughput(rows, fast_ms / 1e3), 1))


# ---------------------------------------------------------------------------- decimals


@pytest.mark.k2(component="writer", case="decimal_precision")
class TestDecimalPrecision:
    """Append decimals at maximum precision and scale; read them back exactly; a decimal
    that does not fit is refused, naming row, field and value, with nothing committed."""

    def test_decimal_precision(self, k2_cell: Cell, benchmark: BenchmarkFixture,
                               writers: WriterBench, tables: Tables,
                               k2_rounds: Callable[[int], int]) -> None:
        from decimal import Decimal

        schema = k2_cell.schema or "v2"
        rows = 1000
        records = extreme_decimals(generate_records(WorkloadSpec.from_cell(k2_cell, rows)),
                                    schema)
        writer = writers.make()

        timed: list[str] = []
        setup = writers.fresh_tables(writer, tables, timed)

        data = records_to_table(records, schema)
        seconds, reference = timed_rounds(benchmark, k2_rounds(5), setup,
                                          lambda name: writer.write_trades(records, name),
                                          parquet_round(data))
        verified = writers.verify_all(timed, table_checksum(data))
        back = writers.table(timed[0]).scan().to_arrow()
        for field in ("price",) if schema == "v1" else ("price", "quantity"):
            assert sorted(back.column(field).to_pylist()) == sorted(r[field] for r in records)

        too_big = Decimal("99999999999.5") if schema == "v2" else Decimal("1000000000000.5")
        bad = [dict(r) for r in records[:10]]
        bad[7]["price"] = too_big
        before = writers.table(timed[0]).current_snapshot()
        with pytest.raises(WorkloadError, match=r"record 7: field 'price' = Decimal"):
            writer.write_trades(bad, timed[0])
        assert writers.table(timed[0]).current_snapshot() == before
        benchmark.extra_info.update(
            items=rows, unit="rows/s", rows=rows,
            verified=verified + "; extreme decimals equal; overflow refused, nothing committed",
            **writers.commit_info(writer, 0, timed),
            **paired_ceiling_info(rows, seconds, reference), **writers.info())


# ---------------------------------------------------------------------------- sustained
