"""The whole pipeline under load: producers on Dask workers -> topic -> consumer sink ->
buffered Iceberg commits (offsets in the snapshot summary) <- a query probe.

Each cell runs the pipeline once at the offered rate ``[workload] pipeline_rate`` for
``pipeline_seconds`` (``k2matrix.pipeline.run``); ``pipeline.restart`` kills the consumer
``pipeline_restart_percent`` into the run and starts a new one, which resumes from the
offsets in the table's snapshot. Before the figures count, the table is read back through
the catalog and must hold every message id exactly once, nothing else, with the content
checksum of the generated rows. ``pipeline.rate_search`` searches the highest rate the
pipeline holds (``k2matrix.ratesearch``) within a freshness p99 of 2 s and a backlog of
5 s of the rate. Timing: one round, the whole run; ``throughput`` is the end-to-end rate
(rows acknowledged / first produce to last commit), set by the cell.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from k2matrix.backends.config import Backends
from k2matrix.cell import Cell
from k2matrix.errors import VerificationError
from k2matrix.pipeline.bench import PipelineSystem, extra_info
from k2matrix.pipeline.run import PipelineConfig, PipelineResult, run_pipeline
from k2matrix.ratesearch import SearchConfig, search


def _config(cell: Cell, restart: bool) -> PipelineConfig:
    s = cell.settings
    seconds = float(s["pipeline_seconds"])
    return PipelineConfig(
        schema=cell.schema or "v2", rate=float(s["pipeline_rate"]), seconds=seconds,
        workers=int(cell.params["workers"]),
        commit_interval_ms=int(cell.params["commit_interval_ms"]),
        commit_rows=int(cell.params.get("commit_rows", 100_000)),
        seed=cell.seed % 2**31,
        restart_at_s=seconds * float(s["pipeline_restart_percent"]) / 100 if restart else None)


def _check(result: PipelineResult) -> None:
    if not result.verified.ok:
        raise VerificationError(f"pipeline table: {result.verified.describe()}")


def _run_cell(cell: Cell, benchmark: BenchmarkFixture, backends: Backends,
              restart: bool) -> None:
    config = _config(cell, restart)
    result = benchmark.pedantic(run_pipeline, args=(config, backends), rounds=1,
                                iterations=1)
    _check(result)
    if restart and result.restarts != 1:
        raise VerificationError("the consumer was not restarted mid-run")
    benchmark.extra_info.update(extra_info(result))


@pytest.mark.k2(component="pipeline", case="end_to_end")
def test_end_to_end(k2_cell: Cell, benchmark: BenchmarkFixture, k2_backends: Backends
                    ) -> None:
    _run_cell(k2_cell, benchmark, k2_backends, restart=False)


@pytest.mark.k2(component="pipeline", case="restart")
def test_restart(k2_cell: Cell, benchmark: BenchmarkFixture, k2_backends: Backends) -> None:
    _run_cell(k2_cell, benchmark, k2_backends, restart=True)


@pytest.mark.k2(component="pipeline", case="rate_search")
def test_rate_search(k2_cell: Cell, benchmark: BenchmarkFixture, k2_backends: Backends
                     ) -> None:
    base = _config(k2_cell, restart=False)
    bounds = SearchConfig(start_rate=5_000, max_rate=base.rate * 2, step_s=8.0,
                          hold_s=float(k2_cell.settings["pipeline_seconds"]), tolerance=0.05,
                          max_p99_ms=2_000.0, max_backlog=5 * base.rate)
    system = PipelineSystem(base, k2_backends)
    found = benchmark.pedantic(search, args=(system, bounds), rounds=1, iterations=1)
    if not found.found:
        raise VerificationError(f"no rate held: {found.to_dict()['steps']}")
    held = system.runs[-1]
    _check(held)
    info = extra_info(held)
    info.update(sustainable_rate=found.rate, sustainable_p99_ms=found.p99_ms,
                throughput=round(found.achieved, 1), search=found.to_dict())
    benchmark.extra_info.update(info)
