"""The k2matrix pytest plugin (entry point ``pytest11: k2matrix``).

- Parametrizes every test marked ``@pytest.mark.k2(component=..., case=...)`` with the cells
  of the active profile (``--k2-matrix``, ``--k2-profile``); ``--k2-shard i/n`` keeps a
  deterministic slice; ``--k2-resume DIR`` skips the cells that already passed there.
- Times with pytest-benchmark, also under ``pytest -n`` (see :mod:`k2matrix.plugin.benchmarks`).
- Journals each finished cell (one fsynced JSON line) and merges the run into
  ``results/<run-id>/benchmarks.json`` (pytest-benchmark's format plus a ``k2`` object).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from k2matrix.backends.config import Backends
from k2matrix.cell import Cell
from k2matrix.counting import callgrind, launch
from k2matrix.matrix import Matrix
from k2matrix.plugin import benchmarks, clock, gateways, recording
from k2matrix.plugin.cells import FIXTURE, cell_of, is_k2_cell, wants_a_cell
from k2matrix.plugin.exclusive import cell_slot, lock_folder
from k2matrix.plugin.identity import Role, RunIdentity
from k2matrix.plugin.options import option_given, pytest_addoption
from k2matrix.plugin.order import run_order
from k2matrix.plugin.state import STATE, RunState, get_state
from k2matrix.plugin.threads import apply_budget
from k2matrix.plugin.trial_processes import launch_trials
from k2matrix.results.hosts import host_name

__all__ = ["pytest_addoption"]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "k2(component, case): parametrize with matrix cells")
    config.addinivalue_line("markers", "slow: long sustained or stress cells")
    benchmarks.hold_benchmark_only(config)
    benchmarks.resolve_compare(config)
    _configure_clock(config)
    identity = RunIdentity.from_config(config)
    if identity.role is Role.WORKER:  # before DuckDB, Arrow or Polars size their pools
        apply_budget(identity.host_workers)
    config.stash[STATE] = RunState.start(config, identity)
    if identity.role is not Role.WORKER and identity.has_matrix:
        gateways.check_specs(config)  # before xdist's session reads --max-worker-restart
    if identity.role is Role.CONTROLLER and identity.has_matrix:
        config.pluginmanager.register(gateways.GatewayChecks(config), "k2matrix-gateways")
    if identity.role is Role.CONTROLLER:  # the workers' records arrive with their reports
        config.pluginmanager.register(recording.WorkerRecords(config), "k2matrix-records")


def _configure_clock(config: pytest.Config) -> None:
    """``--k2-clock``: pytest-benchmark's timer (set before it configures), every round's
    counters, and under ``instructions`` the instruction clock in this process."""
    name = config.getoption("k2_clock")
    if name != "wall" and option_given(config, "--benchmark-timer"):
        raise pytest.UsageError(f"--k2-clock={name} sets pytest-benchmark's timer itself; "
                                "leave out --benchmark-timer (or use --k2-clock=wall)")
    if name in clock.TIMERS:
        config.option.benchmark_timer = clock.TIMERS[name]
    if name == "instructions":
        config.option.benchmark_disable_gc = True
        if callgrind.running():
            clock.start_counting()
            clock.warm_up_first()
    clock.wrap_runner()


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--k2-trials N`` (N > 1): run the session N times, each a fresh process, and fold
    the trials into one run (:mod:`k2matrix.plugin.trial_processes`). ``--k2-clock
    instructions``: run the session again under callgrind (:func:`clock.rerun_counted`)."""
    if Role.of(config) is Role.WORKER or config.option.help or config.option.version:
        return None
    if config.getoption("k2_trials") > 1 and config.getoption("k2_trial") is None:
        return launch_trials(config)
    if config.getoption("k2_clock") == "instructions" and not callgrind.running():
        try:
            launch.check_ready()
        except callgrind.CountingError as exc:
            raise pytest.UsageError(str(exc)) from None
        return clock.rerun_counted(config)
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    identity = get_state(session.config).identity
    benchmarks.enable_under_xdist(session.config, is_worker=identity.role is Role.WORKER)


# ---------------------------------------------------------------------------- xdist


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    state = get_state(node.config)
    specs = node.nodemanager.specs
    node.workerinput["k2"] = {
        "run_id": state.identity.run_id,
        "run_dir": str(state.identity.run_dir.resolve()),
        "resume_passed": sorted(state.progress.resume_passed),
        "matrix": str(state.identity.matrix_path.absolute()),
        "host": host_name(),
        "host_workers": gateways.host_workers(node.gateway.spec, specs,
                                              gateways.proxy_specs(node.config)),
    }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", {}) or {}
    get_state(node.config).progress.records.extend(output.get("k2_records", []))


# ---------------------------------------------------------------------------- collection


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if FIXTURE not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("k2")
    where = metafunc.definition.nodeid
    if marker is None:
        pytest.fail(f"{where}: uses k2_cell without @pytest.mark.k2(component=..., case=...)",
                    pytrace=False)
    component, case = marker.kwargs.get("component"), marker.kwargs.get("case")
    state = get_state(metafunc.config)
    matrix_path = state.identity.matrix_path
    if not matrix_path.is_file():
        pytest.fail(f"{where}: no matrix file at {matrix_path}; pass --k2-matrix PATH",
                    pytrace=False)
    matrix = state.cells.matrix()
    if f"{component}.{case}" not in matrix.cases:
        pytest.fail(f"{where}: the matrix has no case {component}.{case}; its cases are "
                    f"{', '.join(matrix.cases)}", pytrace=False)
    cells = [c for c in state.cells.cells() if c.component == component and c.case == case]
    params = [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else [])
              for c in cells]
    metafunc.parametrize(FIXTURE, params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect tests whose case has no cell in this profile (pytest would otherwise show
    an empty parameter set as a skipped ``[NOTSET]`` test), and cells a resumed run passed."""
    state = get_state(config)
    passed = state.progress.resume_passed
    keep: list[pytest.Item] = []
    done: list[pytest.Item] = []
    for item in items:
        no_cell = wants_a_cell(item) and not is_k2_cell(item)
        if no_cell or item.nodeid in passed:
            done.append(item)
        else:
            keep.append(item)
    if done:
        config.hook.pytest_deselected(items=done)
        items[:] = keep
    items[:] = run_order(state.identity, items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """How many tests the run has (what a trial's progress counts against)."""
    get_state(session.config).progress.planned = len(session.items)


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def k2_matrix(request: pytest.FixtureRequest) -> Matrix:
    """The loaded matrix."""
    return get_state(request.config).cells.matrix()


@pytest.fixture(scope="session")
def k2_backends(k2_matrix: Matrix) -> Backends:
    """The matrix's backends with the K2_* environment overrides applied."""
    return k2_matrix.backends.with_environment()


@pytest.fixture(scope="session")
def k2_workdir(request: pytest.FixtureRequest) -> Path:
    """A folder shared by the run (and by later runs) for caches: datasets, warehouses."""
    path = get_state(request.config).identity.workdir
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def k2_rounds(request: pytest.FixtureRequest) -> Callable[[int], int]:
    """``k2_rounds(default)``: ``--benchmark-min-rounds`` when given (on the command line,
    in ``addopts`` or in ``PYTEST_ADDOPTS``), else ``default``."""
    config = request.config
    if not option_given(config, "--benchmark-min-rounds"):
        if get_state(config).identity.clock == "instructions":  # counts repeat; a round is slow
            return lambda default: min(default, clock.COUNTED_ROUNDS)
        return lambda default: default
    value = int(config.getoption("benchmark_min_rounds"))
    return lambda default: value


@pytest.fixture
def k2_cell(request: pytest.FixtureRequest) -> Cell:  # pragma: no cover - parametrized
    cell: Cell = request.param
    return cell


# ---------------------------------------------------------------------------- recording


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if is_k2_cell(item):
        recording.on_report(item, report)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    cell = cell_of(item)
    if cell is None:
        return
    recording.on_setup(item)
    clock.reset_counters()
    if cell.uncounted and get_state(item.config).identity.clock == "instructions":
        pytest.skip(f"not countable: {cell.uncounted}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None
                            ) -> Generator[None, None, None]:
    """Under xdist each cell holds a slot from setup to teardown: shared, or for an
    ``exclusive`` case its whole host (:mod:`k2matrix.plugin.exclusive`)."""
    identity = get_state(item.config).identity
    cell = cell_of(item)
    if cell is None or not identity.beside_other_workers:
        yield
        return
    with cell_slot(lock_folder(identity), cell.exclusive):
        yield


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem: str, report: pytest.TestReport, sched: Any) -> None:
    """xdist's word that a worker died running ``crashitem``: the cell gets a crash record."""
    config = getattr(sched, "config", None)
    if config is not None:
        get_state(config).progress.crashed[crashitem] = str(report.longrepr)[:500]


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int
                         ) -> Generator[None, None, None]:
    config = session.config
    try:
        recording.finish(config, get_state(config))
    except Exception:  # never lose the run's results to a reporting bug: say it loudly
        tr = config.pluginmanager.getplugin("terminalreporter")
        message = "k2matrix: merging the results failed:\n" + traceback.format_exc()
        if tr is not None:
            tr.write_line(message, red=True)
        else:
            print(message)
    yield


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config
                            ) -> None:
    state = get_state(config)
    written = state.progress.merged_path
    if written:
        terminalreporter.write_line(f"k2matrix: run {state.identity.run_id}: {written}")
