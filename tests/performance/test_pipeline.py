"""The whole pipeline under load: producers on Dask workers -> topic -> consumer sink ->
buffered Iceberg commits (offsets in the snapshot summary) <- a query probe.

Each cell runs the pipeline once at the offered rate ``[workload] pipeline_rate`` for
``pipeline_seconds`` (``k2matrix.pipeline.run``); ``pipeline.restart`` kills the consumer
``pipeline_restart_percent`` into the run and starts a new one, which resumes from the
offsets in the table's snapshot. Before the figures count, the table is read back through
the catalog and must hold every message id exactly once, nothing else, with the content
checksum of the generated rows. A sink that falls behind its broker's retention is a
measured outcome, not a failure (``held`` false, ``fell_behind_at_s``, ``backlog_at_fall``,
``sustainable_rate_so_far``; the rows it committed verified the same way); a row lost or
duplicated fails the cell. ``pipeline.rate_search`` searches the highest rate the pipeline
holds (``k2matrix.ratesearch``) within a freshness p99 of the commit interval plus
``k2matrix.pipeline.bench.FRESHNESS_MARGIN_MS``, a backlog of 5 s of the rate and no fall
behind retention, in steps of ``STEP_S``; its steps are in ``search``. Timing: one round,
the whole run; ``throughput`` is the end-to-end rate (rows committed / first produce to
last commit), set by the cell.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from k2matrix.backends.config import Backends
from k2matrix.cell import Cell
from k2matrix.errors import VerificationError
from k2matrix.pipeline.bench import PipelineSystem, extra_info, freshness_bound_ms
from k2matrix.pipeline.run import PipelineConfig, PipelineResult, run_pipeline
from k2matrix.ratesearch import SearchConfig, search

STEP_S = 20.0  # a search step: long enough that its freshness p99 is not one commit's noise


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
    if result.verified is None or not result.verified.ok:
        what = result.verified.describe() if result.verified else "not checked"
        raise VerificationError(f"pipeline table: {what}")


def _run_cell(cell: Cell, benchmark: BenchmarkFixture, backends: Backends,
              restart: bool) -> None:
    config = _config(cell, restart)
    result = benchmark.pedantic(run_pipeline, args=(config, backends), rounds=1,
                                iterations=1)
    _check(result)
    if restart and result.restarts != 1 and result.fell_behind is None:
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
    bounds = SearchConfig(start_rate=5_000, max_rate=base.rate * 2, step_s=STEP_S,
                          hold_s=float(k2_cell.settings["pipeline_seconds"]), tolerance=0.05,
                          max_p99_ms=freshness_bound_ms(base.commit_interval_ms),
                          max_backlog=5 * base.rate)
    system = PipelineSystem(base, k2_backends)
    found = benchmark.pedantic(search, args=(system, bounds), rounds=1, iterations=1)
    if not found.found:
        raise VerificationError(f"no rate held: {found.to_dict()['steps']}")
    held = system.runs[-1]
    _check(held)
    info = extra_info(held)
    info.update(sustainable_rate=found.rate, sustainable_p99_ms=found.p99_ms,
                search_max_p99_ms=bounds.max_p99_ms, search_step_s=bounds.step_s,
                throughput=round(found.achieved, 1), search=found.to_dict())
    benchmark.extra_info.update(info)
