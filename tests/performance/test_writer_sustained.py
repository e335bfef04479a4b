"""Writer suite, the sustained cases: buffered ingestion from small batches, commit latency
over a table's history across catalogs, and mixed V1/V2 stress. The one-append, throughput,
conversion and decimal cases are in test_writer_throughput.py; both use conftest.py's writer
fixtures."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from writer_cells import on_s3

from k2matrix.backends.s3_session import S3Session, as_counters
from k2matrix.cell import Cell
from k2matrix.stats import latency_summary, median, paired_ceiling_info, throughput
from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table
from k2matrix.writer.bench import (
    Tables,
    ceiling_seconds,
    first_and_last_tenth,
    pool,
    timed_rounds,
)
from k2matrix.writer.buffer import BufferedWriter
from k2matrix.writer.checksum import Checksum, table_checksum
from k2matrix.writer.convert import records_to_table
from k2matrix.writer.protocol import TradeWriter
from k2matrix.writer.suite import WriterBench
from k2matrix.writer.verify import parquet_seconds, verify_table

if TYPE_CHECKING:
    pass

POOL_ROWS = 20_000  # distinct generated rows that sustained cells cycle through
DICT_SUSTAINED_ROWS = 100_000  # rows of the dict-input variant of writer.buffered
STRESS_INPUT_BATCH = 1_000


@pytest.mark.k2(component="writer", case="buffered")
class TestBufferedSustained:
    """Sustained ingestion from small input batches through the buffered writer: batches of
    ``sustained_input_batch`` rows, a commit per ``writer_flush_rows``, ``sustained_rows`` in
    all. Per-commit latency against commit number goes in ``series``."""

    def test_buffered(self, k2_cell: Cell, benchmark: BenchmarkFixture, writers: WriterBench,
                      tables: Tables, k2_rounds: Callable[[int], int],
                      k2_s3: S3Session) -> None:
        total = int(k2_cell.settings["sustained_rows"])
        batch = int(k2_cell.settings["sustained_input_batch"])
        flush = int(k2_cell.settings["writer_flush_rows"])
        schema = k2_cell.schema or "v2"
        slices, sums = pool(k2_cell, schema, min(total, max(POOL_ROWS, flush)), batch)
        writer = writers.make()
        buffered = BufferedWriter(writers.bufferable(writer), flush_rows=flush, flush_age_s=60.0)
        expected = Checksum()
        for i in range(-(-total // batch)):
            expected += sums[i % len(slices)]
        timed: list[str] = []
        fresh = writers.fresh_tables(writer, tables, timed)
        starts: list[int] = []

        def setup() -> str:
            starts.append(writers.mark(writer))
            return fresh()

        def body(name: str) -> None:
            for i in range(-(-total // batch)):
                buffered.write_arrow(slices[i % len(slices)], name)
            buffered.flush()

        rounds = k2_rounds(1)
        reference_round = ceiling_seconds(slices, flush, expected.rows)
        if on_s3(k2_cell):
            (seconds, reference), cost = k2_s3.counted(
                lambda: timed_rounds(benchmark, rounds, setup, body, reference_round),
                rounds * -(-expected.rows // flush), "commit")
            benchmark.extra_info["s3"] = cost
            benchmark.extra_info.setdefault("counters", {}).update(as_counters(cost, rounds))
        else:
            seconds, reference = timed_rounds(benchmark, rounds, setup, body,
                                              reference_round)
        verified = writers.verify_all(timed, expected)
        info = writers.sustained_info(writer, starts[-1], timed[-1])

        dict_info = self._dict_input(k2_cell, writers, writer, tables, batch, flush, schema)
        benchmark.extra_info.update(
            items=expected.rows, unit="rows/s", rows=expected.rows, input_batch=batch,
            flush_rows=flush, verified=verified, **info,
            **paired_ceiling_info(expected.rows, seconds, reference),
            **dict_info, **writers.info())

    @staticmethod
    def _dict_input(cell: Cell, writers: WriterBench, writer: TradeWriter, tables: Tables,
                    batch: int, flush: int, schema: str) -> dict[str, Any]:
        """The same through write_trades from dict records (smaller: dicts are big)."""
        rows = min(DICT_SUSTAINED_ROWS, int(cell.settings["sustained_rows"]))
        records = generate_records(WorkloadSpec.from_cell(cell, rows=rows, schema=schema))
        buffered = BufferedWriter(writers.bufferable(writer), flush_rows=flush,
                                  flush_age_s=60.0)
        name = tables.new("dict")
        writers.ensure_table(writer, name)
        start = time.perf_counter()
        for i in range(0, rows, batch):
            buffered.write_trades(records[i:i + batch], name)
        buffered.flush()
        seconds = time.perf_counter() - start
        verify_table(writers.table(name), table_checksum(records_to_table(records, schema)))
        return {"dict_input_rows": rows,
                "dict_input_throughput": round(throughput(rows, seconds), 1)}


# ---------------------------------------------------------------------------- commit history


@pytest.mark.k2(component="writer", case="commits")
class TestCommitHistory:
    """``commit_history`` small appends into one table through the cell's catalog (the
    ``catalogs`` axis) on the cell's storage, each commit timed: commit latency and how it
    grows with the table's history, side by side across catalogs, storages and S3 delays."""

    def test_commits(self, k2_cell: Cell, benchmark: BenchmarkFixture, writers: WriterBench,
                     tables: Tables, k2_s3: S3Session) -> None:
        commits = int(k2_cell.settings["commit_history"])
        rows = 100
        delay = int(k2_cell.params.get("s3_latency_ms", 0))
        if delay and not on_s3(k2_cell):
            pytest.skip("s3_latency_ms applies to S3 cells; this cell writes to the local disk")
        if k2_cell.params.get("catalog") == "glue" and k2_cell.params.get("storage") == "local":
            pytest.skip("Glue keeps its tables on S3: the glue-s3 cell measures it")
        data = generate_table(WorkloadSpec.from_cell(k2_cell, rows=rows))
        writer = writers.make()
        warm = tables.new("warm")
        writers.ensure_table(writer, warm)
        writer.write_arrow(data, warm)
        name = tables.new("history")
        writers.ensure_table(writer, name)
        latencies: list[float] = []

        def body() -> None:
            for _ in range(commits):
                start = time.perf_counter()
                writer.write_arrow(data, name)
                latencies.append((time.perf_counter() - start) * 1e3)

        def run() -> None:
            benchmark.pedantic(body, rounds=1, iterations=1)

        if on_s3(k2_cell):
            with k2_s3.latency(delay):  # counted inside: the cost records the delay
                _, cost = k2_s3.counted(run, commits, "commit")
            benchmark.extra_info["s3"] = cost
            benchmark.extra_info.setdefault("counters", {}).update(as_counters(cost))
        else:
            run()
        verify_table(writers.table(name), table_checksum(pa_concat([data] * commits)))
        first, last = first_and_last_tenth(latencies)
        benchmark.extra_info.update(
            items=commits * rows, unit="rows/s", rows=commits * rows, commits=commits,
            catalog=k2_cell.params.get("catalog", "matrix"),
            storage=k2_cell.params.get("storage", "local"), s3_latency_ms=delay,
            commit_latency_ms=round(median(latencies), 3),
            commit_first_tenth_ms=round(first, 3), commit_last_tenth_ms=round(last, 3),
            commit_growth=round(last / first, 3) if first else 0.0,
            series={"commit_latency_ms": [round(v, 3) for v in latencies]},
            verified=f"{commits} commits: count+checksum and snapshot total-records equal",
            **latency_summary(latencies), **writers.info())


def pa_concat(parts: list[Any]) -> Any:
    import pyarrow as pa

    return pa.concat_tables(parts)


# ---------------------------------------------------------------------------- stress


@pytest.mark.slow
@pytest.mark.k2(component="writer", case="stress")
class TestWriterStress:
    """Sustained mixed V1/V2 dict appends (``stress_rows`` in all) through one buffered
    writer into a V1 and a V2 table, interleaved batch by batch."""

    def test_stress(self, k2_cell: Cell, benchmark: BenchmarkFixture, writers: WriterBench,
                    tables: Tables, k2_rounds: Callable[[int], int]) -> None:
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
        writer = writers.make()
        buffered = BufferedWriter(writers.bufferable(writer), flush_rows=flush, flush_age_s=60.0)
        rounds_tables: list[dict[str, str]] = []

        def setup() -> str:
            names = {s: tables.new(s) for s in ("v1", "v2")}
            for s, name in names.items():
                writers.ensure_table(writer, name, schema=s)
            rounds_tables.append(names)
            return names["v1"]

        def body(_: str) -> None:
            names = rounds_tables[-1]
            for i in range(steps):
                for s in ("v1", "v2"):
                    buffered.write_trades(batches[s][i % len(batches[s])], names[s])
            buffered.flush()

        tables_of = {s: records_to_table(pools[s], s).combine_chunks() for s in pools}
        scale = (expected["v1"].rows + expected["v2"].rows) / (2 * pool_rows)

        def reference() -> float:
            return sum(parquet_seconds(t, repeats=1) for t in tables_of.values()) * scale

        seconds, ref_seconds = timed_rounds(benchmark, k2_rounds(1), setup, body, reference)
        for names in rounds_tables:
            for s, name in names.items():
                verify_table(writers.table(name), expected[s])
        rows = expected["v1"].rows + expected["v2"].rows
        benchmark.extra_info.update(
            items=rows, unit="rows/s", rows=rows, input_batch=batch, flush_rows=flush,
            verified="v1 and v2 tables: count+checksum and snapshot total-records equal",
            **writers.stress_info(writer, rounds_tables),
            **paired_ceiling_info(rows, seconds, ref_seconds), **writers.info())
