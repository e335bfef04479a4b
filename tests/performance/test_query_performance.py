"""Query workload benchmarks: the engines of the matrix's ``engines`` axis (the built-ins:
DuckDB iceberg_scan, DuckDB read_parquet over pyiceberg-planned files, Polars; or any engine
named by entry point or import path, see ``k2matrix.query.protocol``) over Iceberg
trades/quotes tables, every result checked against a reference computed from the generated
rows before its time counts.

Datasets are built once per (size, layout, seed) under ``k2_workdir`` (see
``k2matrix.query.datasets``); building is never timed. Each benchmark stores rows returned, files
planned/pruned/read and DuckDB's scan counters where the engine reports them, and latency
percentiles (``latency_p50_ms``, ``latency_p99_ms``…) of the individual queries.

A cell with ``storage = "s3"`` queries the same rows written to ``[backends.storage]`` (or
the embedded moto server): DuckDB through httpfs with a secret built from the environment,
Polars with storage options, pyiceberg through its S3 FileIO. Such cells store
``extra_info["s3"]``: the S3 requests by kind and bytes moved of one more, untimed query,
counted by the server, and the same as ``s3.*`` counters per query in
``extra_info["counters"]``. ``s3_latency_ms`` holds every S3 request that long (query.caching).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from applicable import require_support
from pytest_benchmark.fixture import BenchmarkFixture

from k2matrix.backends.s3_session import S3Session, as_counters
from k2matrix.cell import Cell
from k2matrix.implementations import resolve
from k2matrix.matrix import Matrix
from k2matrix.query.engine import open_engine
from k2matrix.query.protocol import QueryEngine, QueryResult
from k2matrix.query.rounds import RoundChecks
from k2matrix.query.shapes import selectivity_params
from k2matrix.query.workload import (
    DEFAULT_ENGINE,
    MIXED_SHAPES,
    QueryWorkload,
    distinct,
    rounds_for,
)
from k2matrix.stats import latency_summary, paired_efficiency, significant

CELL_BUDGET_S = 0.75  # timed seconds a latency cell aims for; rounds shrink for slow queries
THROUGHPUT_BUDGET_S = 10.0  # rounds of a throughput cell shrink to fit (at least one)
CACHE_SHAPE = "filtered"
SEQUENTIAL_SHAPE = "filtered"
STRESS_VARIANTS = 10
DIRECT_ENGINE = "duckdb_parquet"  # iceberg_scan's reference: its plan/run_planned, same files

Rounds = Callable[[int], int]  # the k2_rounds fixture: a suite's default -> the rounds


def _shapes(cell: Cell) -> tuple[str, ...]:
    """The query shapes a cell runs."""
    if "query_shape" in cell.params:
        return (str(cell.params["query_shape"]),)
    if cell.case == "caching" or cell.params.get("pattern") == "sequential":
        return (CACHE_SHAPE if cell.case == "caching" else SEQUENTIAL_SHAPE,)
    if cell.case == "scaling":
        return ("time_range",)
    return MIXED_SHAPES  # throughput (mixed), stress


def _workload(cell: Cell, matrix: Matrix, workdir: Path, s3: S3Session | None = None
              ) -> QueryWorkload:
    """The cell's workload; ``not_applicable`` (before any dataset is built) when the engine
    does not serve the cell's shapes."""
    require_support(resolve("engine", str(cell.get("engine", DEFAULT_ENGINE))), cell,
                    _shapes(cell))
    storage = s3.storage() if s3 is not None and cell.params.get("storage") == "s3" else None
    return QueryWorkload.for_cell(cell, matrix.seed, workdir, storage=storage)


def _s3_cost(wl: QueryWorkload, s3: S3Session | None, query: Callable[[], object],
             benchmark: BenchmarkFixture) -> None:
    """What one query costs on object storage: one more, untimed ``query()``, counted (it
    must be the cell's query: a cold cell's on a fresh engine, or the counts are warm)."""
    if s3 is not None and wl.cell.params.get("storage") == "s3":
        _, cost = s3.counted(query, 1, "query")
        benchmark.extra_info["s3"] = cost
        benchmark.extra_info.setdefault("counters", {}).update(as_counters(cost))


def _timed(engine: QueryEngine, shape: str, params: dict[str, Any], latencies: list[float]
           ) -> QueryResult:
    started = time.perf_counter()
    result = engine.run(shape, params)
    latencies.append((time.perf_counter() - started) * 1e3)
    return result


def _scan_info(result: QueryResult, profile: dict[str, Any]) -> dict[str, Any]:
    info = {k: round(v, 3) if isinstance(v, float) else v for k, v in result.stats.items()}
    info.update(profile)
    info["rows_returned"] = result.rows_returned
    return info


def _profile(engine: QueryEngine, first: QueryResult, shape: str, params: dict[str, Any]
             ) -> dict[str, Any]:
    """The engine's scan counters from one more (untimed) run, unless the engine already
    reported the files it read (duckdb_parquet reads exactly the files pyiceberg planned)."""
    if "files_planned" in first.stats:
        return {"files_read": first.stats["files_planned"]}
    profile: dict[str, Any] = engine.profile(shape, params)
    return profile


def _measure_shape(wl: QueryWorkload, benchmark: BenchmarkFixture, k2_rounds: Rounds,
                   s3: S3Session | None = None) -> None:
    """One shape on one engine: verify, time single queries, record scan and latency stats."""
    shape = str(wl.cell.params["query_shape"])
    params = wl.params(shape)
    with closing(wl.open()) as engine:
        started = time.perf_counter()
        first = engine.run(shape, params)  # also the warm-up
        first_s = time.perf_counter() - started
        checks = RoundChecks(wl)
        checks.verified(first, shape, params)
        latencies: list[float] = []
        last: list[QueryResult] = []

        phases: dict[str, list[float]] = {}

        def run() -> None:
            last[:] = [checks.keep(_timed(engine, shape, params, latencies), shape, params)]
            for phase in ("plan_ms", "exec_ms"):
                if phase in last[0].stats:
                    phases.setdefault(phase, []).append(last[0].stats[phase])

        rounds = k2_rounds(rounds_for(first_s, CELL_BUDGET_S, 20))
        # For iceberg_scan, an in-run reference (not a ceiling: read_parquet over every planned
        # file can be slower than iceberg_scan's own pruning): DuckDB reading the same Parquet
        # files directly (planned once by pyiceberg; DuckDB time only), one untimed run before
        # each round, so the ratio pairs rounds that ran side by side.
        direct: Any = (open_engine(DIRECT_ENGINE, wl.dataset.metadata_locations())
                       if engine.name == "duckdb_iceberg_scan" else None)
        planned = direct.plan(shape, params) if direct is not None else None
        direct_ms: list[float] = []

        def setup() -> None:
            checks.check()
            if direct is not None and planned is not None:
                direct_ms.append(direct.run_planned(planned).stats["exec_ms"])

        try:
            benchmark.pedantic(run, setup=setup, rounds=rounds, iterations=1)
        finally:
            if direct is not None:
                direct.close()
        checks.check()
        profile = _profile(engine, first, shape, params)
        _s3_cost(wl, s3, lambda: engine.run(shape, params), benchmark)
    if direct_ms:  # the goal: iceberg_scan within 1.2x of read_parquet on the same files
        benchmark.extra_info["parquet_direct_p50_ms"] = (
            latency_summary(direct_ms)["latency_p50_ms"])
        ratio = paired_efficiency(direct_ms, latencies)  # median of latency / direct, by round
        if ratio is not None:
            benchmark.extra_info["iceberg_vs_parquet"] = significant(ratio)
    for phase, values in phases.items():  # e.g. exec_p50_ms: DuckDB time without planning
        benchmark.extra_info[phase.replace("_ms", "_p50_ms")] = (
            latency_summary(values)["latency_p50_ms"])
    benchmark.extra_info.update(
        items=1, unit="queries/s", query_shape=shape, engine=engine.name, impl=wl.engine_name,
        layout=wl.dataset.key.layout, dataset=wl.dataset.describe(),
        verified=f"{shape}: equal to the reference (floats rel 1e-9, order checked); "
                 f"{checks.summary()}", **checks.conversion_info(),
        **_scan_info(last[0], profile), **latency_summary(latencies))


@pytest.mark.k2(component="query", case="latency")
class TestQueryLatency:
    """simple scan, filtered (symbol + hour), aggregation, time range."""

    def test_latency(self, k2_cell: Cell, benchmark: BenchmarkFixture, k2_matrix: Matrix,
                     k2_workdir: Path, k2_rounds: Rounds, k2_s3: S3Session) -> None:
        _measure_shape(_workload(k2_cell, k2_matrix, k2_workdir, k2_s3), benchmark, k2_rounds,
                       k2_s3)


@pytest.mark.k2(component="query", case="complexity")
class TestQueryComplexity:
    """as-of join with quotes, window function, subquery."""

    def test_complexity(self, k2_cell: Cell, benchmark: BenchmarkFixture, k2_matrix: Matrix,
                        k2_workdir: Path, k2_rounds: Rounds, k2_s3: S3Session) -> None:
        _measure_shape(_workload(k2_cell, k2_matrix, k2_workdir, k2_s3), benchmark, k2_rounds,
                       k2_s3)


def _verify_all(checks: RoundChecks, engine: QueryEngine,
                queries: list[tuple[str, dict[str, Any]]]) -> int:
    """Run and verify each distinct query once, for the timed runs' checks; how many."""
    for shape, params in distinct(queries):
        checks.verified(engine.run(shape, params), shape, params)
    return len(checks.first)


def _run_queries(wl: QueryWorkload, benchmark: BenchmarkFixture, k2_rounds: Rounds,
                 default_rounds: int, queries: list[tuple[str, dict[str, Any]]]
                 ) -> dict[str, Any]:
    """Verify, then time rounds of the query list; per-query latency stats. Rounds shrink
    (to one) when a round would take long: the distinct queries' run time estimates it."""
    with closing(wl.open()) as engine:
        started = time.perf_counter()
        checks = RoundChecks(wl)
        verified = _verify_all(checks, engine, queries)
        per_query = (time.perf_counter() - started) / max(verified, 1)
        rounds = k2_rounds(rounds_for(per_query * len(queries), THROUGHPUT_BUDGET_S,
                                      default_rounds, minimum=1))
        latencies: list[float] = []
        by_shape: dict[str, list[float]] = {}

        def run() -> None:
            for shape, params in queries:
                checks.keep(_timed(engine, shape, params, latencies), shape, params)
                by_shape.setdefault(shape, []).append(latencies[-1])

        benchmark.pedantic(run, setup=checks.check, rounds=rounds, iterations=1)
        checks.check()
    return {
        "items": len(queries), "unit": "queries/s", "engine": wl.engine_name,
        "impl": wl.engine_name,
        "layout": wl.dataset.key.layout, "dataset": wl.dataset.describe(),
        "distinct_queries": verified,
        "verified": f"{verified} distinct queries equal to their references; "
                    f"{checks.summary()}",
        "shape_p50_ms": {s: latency_summary(v)["latency_p50_ms"] for s, v in by_shape.items()},
        "series": {"latency_ms": [round(x, 3) for x in latencies]},
        **checks.conversion_info(), **latency_summary(latencies),
    }


@pytest.mark.k2(component="query", case="throughput")
class TestQueryThroughput:
    """queries/s: one shape with varying parameters (sequential) or every shape (mixed)."""

    def test_throughput(self, k2_cell: Cell, benchmark: BenchmarkFixture, k2_matrix: Matrix,
                        k2_workdir: Path, k2_rounds: Rounds) -> None:
        wl = _workload(k2_cell, k2_matrix, k2_workdir)
        count = int(k2_cell.settings.get("throughput_queries", 50))
        if k2_cell.params["pattern"] == "sequential":
            queries = [(SEQUENTIAL_SHAPE, wl.params(SEQUENTIAL_SHAPE, i)) for i in range(count)]
        else:
            queries = wl.mixed_queries(count)
        info = _run_queries(wl, benchmark, k2_rounds, 3, queries)
        info["pattern"] = k2_cell.params["pattern"]
        benchmark.extra_info.update(info)


def _cold_query(wl: QueryWorkload, params: dict[str, Any]) -> QueryResult:
    """The cold cell's query: a fresh engine opened and queried once."""
    with closing(wl.open()) as fresh:
        return fresh.run(CACHE_SHAPE, params)


@pytest.mark.k2(component="query", case="caching")
class TestQueryCaching:
    """cold: a fresh engine (new connection, no metadata or manifests cached, extensions
    loaded) opened and queried once, both timed; warm: the same query on a used engine.
    The OS page cache is warm in both: this measures the engine's caches, not the disk."""

    def test_caching(self, k2_cell: Cell, benchmark: BenchmarkFixture, k2_matrix: Matrix,
                     k2_workdir: Path, k2_rounds: Rounds, k2_s3: S3Session) -> None:
        delay = int(k2_cell.params.get("s3_latency_ms", 0))
        if delay and k2_cell.params.get("storage") != "s3":
            pytest.skip("s3_latency_ms applies to S3 cells; this cell reads the local disk")
        wl = _workload(k2_cell, k2_matrix, k2_workdir, k2_s3)
        with k2_s3.latency(delay):
            self._measure(wl, k2_cell, benchmark, k2_rounds, k2_s3)

    @staticmethod
    def _measure(wl: QueryWorkload, k2_cell: Cell, benchmark: BenchmarkFixture, k2_rounds: Rounds,
                 k2_s3: S3Session) -> None:
        params = wl.params(CACHE_SHAPE)
        latencies: list[float] = []
        open_ms: list[float] = []
        cold = k2_cell.params["cache"] == "cold"
        with closing(wl.open()) as engine:
            checks = RoundChecks(wl)
            first = checks.verified(engine.run(CACHE_SHAPE, params), CACHE_SHAPE, params)
            if cold:
                def run() -> None:
                    started = time.perf_counter()
                    with closing(wl.open()) as fresh:
                        open_ms.append((time.perf_counter() - started) * 1e3)
                        result = fresh.run(CACHE_SHAPE, params)
                    latencies.append((time.perf_counter() - started) * 1e3)
                    checks.keep(result, CACHE_SHAPE, params)
            else:
                def run() -> None:
                    checks.keep(_timed(engine, CACHE_SHAPE, params, latencies), CACHE_SHAPE,
                                params)

            benchmark.pedantic(run, setup=checks.check, rounds=k2_rounds(5 if cold else 10),
                               iterations=1)
            checks.check()
            _s3_cost(wl, k2_s3, (lambda: _cold_query(wl, params)) if cold
                     else (lambda: engine.run(CACHE_SHAPE, params)), benchmark)
        benchmark.extra_info.update(
            items=1, unit="queries/s", cache=k2_cell.params["cache"], query_shape=CACHE_SHAPE,
            engine=wl.engine_name, impl=wl.engine_name, layout=wl.dataset.key.layout,
            dataset=wl.dataset.describe(), rows_returned=first.rows_returned,
            verified=f"{CACHE_SHAPE}: equal to the reference; {checks.summary()}",
            **checks.conversion_info(), **latency_summary(latencies))
        if open_ms:
            benchmark.extra_info["open_p50_ms"] = latency_summary(open_ms)["latency_p50_ms"]


@pytest.mark.k2(component="query", case="scaling")
class TestQueryScaling:
    """latency of a time-range query against its selectivity (fraction of rows returned)."""

    def test_scaling(self, k2_cell: Cell, benchmark: BenchmarkFixture, k2_matrix: Matrix,
                     k2_workdir: Path, k2_rounds: Rounds) -> None:
        wl = _workload(k2_cell, k2_matrix, k2_workdir)
        selectivity = float(k2_cell.params["selectivity"])
        params = selectivity_params(wl.window, selectivity)
        with closing(wl.open()) as engine:
            started = time.perf_counter()
            first = engine.run("time_range", params)
            first_s = time.perf_counter() - started
            checks = RoundChecks(wl)
            checks.verified(first, "time_range", params)
            latencies: list[float] = []
            benchmark.pedantic(lambda: checks.keep(_timed(engine, "time_range", params,
                                                          latencies), "time_range", params),
                               setup=checks.check,
                               rounds=k2_rounds(rounds_for(first_s, CELL_BUDGET_S, 15)),
                               iterations=1)
            checks.check()
            profile = _profile(engine, first, "time_range", params)
        benchmark.extra_info.update(
            items=first.rows_returned, unit="rows/s", selectivity=selectivity,
            selected_fraction=round(first.rows_returned / wl.dataset.key.size, 5),
            query_shape="time_range", engine=wl.engine_name, impl=wl.engine_name,
            layout=wl.dataset.key.layout, dataset=wl.dataset.describe(),
            verified=f"time_range: equal to the reference (order checked); {checks.summary()}",
            **checks.conversion_info(), **_scan_info(first, profile),
            **latency_summary(latencies))


@pytest.mark.slow
@pytest.mark.k2(component="query", case="stress")
class TestQueryStress:
    """stress_queries (1,000) mixed queries back to back on one engine."""

    def test_stress(self, k2_cell: Cell, benchmark: BenchmarkFixture, k2_matrix: Matrix,
                    k2_workdir: Path, k2_rounds: Rounds) -> None:
        wl = _workload(k2_cell, k2_matrix, k2_workdir)
        count = int(k2_cell.settings.get("stress_queries", 1000))
        queries = wl.mixed_queries(count, variants=STRESS_VARIANTS)
        info = _run_queries(wl, benchmark, k2_rounds, 1, queries)
        info["pattern"] = "mixed"
        benchmark.extra_info.update(info)
