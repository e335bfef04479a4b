"""The k2matrix pytest plugin (entry point ``pytest11: k2matrix``).

- Parametrizes every test marked ``@pytest.mark.k2(component=..., case=...)`` with the cells
  of the active profile (``--k2-matrix``, ``--k2-profile``); ``--k2-shard i/n`` keeps a
  deterministic slice; ``--k2-resume DIR`` skips the cells that already passed there.
- Times with pytest-benchmark, also under ``pytest -n`` (see :mod:`k2matrix.plugin.benchmarks`).
- Journals each finished cell (one fsynced JSON line) and merges the run into
  ``results/<run-id>/benchmarks.json`` (pytest-benchmark's format plus a ``k2`` object).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from k2matrix.backends.config import Backends
from k2matrix.cell import Cell, derive_seed
from k2matrix.counting import callgrind, launch
from k2matrix.errors import ResultsError
from k2matrix.matrix import Matrix
from k2matrix.plugin import benchmarks, clock, order, recording
from k2matrix.plugin.exclusive import cell_slot
from k2matrix.plugin.options import option_given, parse_shard, pytest_addoption, slow_selection
from k2matrix.plugin.state import STATE, RunState, get_state
from k2matrix.plugin.threads import apply_budget
from k2matrix.plugin.trial_processes import launch_trials
from k2matrix.results import store

__all__ = ["STATE", "RunState", "option_given", "pytest_addoption", "slow_selection"]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "k2(component, case): parametrize with matrix cells")
    config.addinivalue_line("markers", "slow: long sustained or stress cells")
    benchmarks.hold_benchmark_only(config)
    benchmarks.resolve_compare(config)
    _configure_clock(config)
    root = config.rootpath
    explicit = config.getoption("k2_matrix") is not None
    matrix_path = Path(config.getoption("k2_matrix") or root / "matrix.toml")
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    resume = config.getoption("k2_resume")
    results = Path(config.getoption("k2_results") or root / "results")
    profile = config.getoption("k2_profile")
    if workerinput is not None and "k2" in workerinput:
        shared = workerinput["k2"]
        run_id, run_dir = shared["run_id"], Path(shared["run_dir"])
        worker, workers = workerinput.get("workerid", "gw?"), int(shared["workers"])
        resume_passed = set(shared["resume_passed"])
        apply_budget(workers)  # before DuckDB, Arrow or Polars size their thread pools
    else:
        if resume:
            run_dir = Path(resume)
            if not run_dir.is_dir():
                raise pytest.UsageError(f"--k2-resume={resume}: no such run directory")
            run_id = run_dir.name
            resume_passed = recording.passed_nodeids(run_dir)
        else:
            run_id = config.getoption("k2_run_id") or (
                time.strftime("%Y%m%d-%H%M%S") + f"-{profile}")
            run_dir = results / run_id
            resume_passed = set()
        worker = "controller" if benchmarks.xdist_active(config) else "main"
        workers = 1
    state = RunState(
        matrix_path=matrix_path, profile=profile, run_id=run_id,
        run_dir=run_dir, workdir=Path(config.getoption("k2_workdir") or root / ".k2matrix"),
        worker=worker, workers=workers, shard=parse_shard(config.getoption("k2_shard")),
        resume_passed=resume_passed,
        trial=parse_shard(config.getoption("k2_trial"), "--k2-trial"),
        order_seed=config.getoption("k2_order_seed"),
        cells_file=Path(config.getoption("k2_cells")) if config.getoption("k2_cells") else None,
        draws=int(config.getoption("k2_draws") or 0),
        clock=str(config.getoption("k2_clock")),
    )
    config.stash[STATE] = state
    if explicit or matrix_path.is_file():
        matrix = state.load()  # a bad matrix stops the run here, with every problem listed
        state.include_slow = slow_selection(config.getoption("markexpr"),
                                            matrix.cases.values())
        if resume and workerinput is None:
            _check_resumable(run_dir, profile, matrix.fingerprint())


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


def _check_resumable(run_dir: Path, profile: str, fingerprint: str) -> None:
    """A run resumes only under the one compatibility rule (results.merge.check_compatible):
    the matrix and profile it was started with, on the same kind of machine."""
    try:
        store.check_resumable(run_dir, profile, fingerprint)
    except ResultsError as exc:
        raise pytest.UsageError(f"--k2-resume={run_dir}: {exc}") from None


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--k2-trials N`` (N > 1): run the session N times, each a fresh process, and fold
    the trials into one run (:mod:`k2matrix.plugin.trial_processes`)."""
    if (config.getoption("k2_trials") > 1 and config.getoption("k2_trial") is None
            and not hasattr(config, "workerinput") and not config.option.help
            and not config.option.version):
        return launch_trials(config)
    if (config.getoption("k2_clock") == "instructions" and not hasattr(config, "workerinput")
            and not config.option.help and not config.option.version
            and not callgrind.running()):
        try:
            launch.check_ready()
        except callgrind.CountingError as exc:
            raise pytest.UsageError(str(exc)) from None
        return clock.rerun_counted(config)
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    state = get_state(session.config)
    benchmarks.enable_under_xdist(session.config, is_worker=state.worker.startswith("gw"))


# ---------------------------------------------------------------------------- xdist


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: list[Any]) -> None:
    get_state(config).workers = len(specs)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    state = get_state(node.config)
    node.workerinput["k2"] = {
        "run_id": state.run_id,
        "run_dir": str(state.run_dir.resolve()),
        "workers": state.workers,
        "resume_passed": sorted(state.resume_passed),
    }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    state = get_state(node.config)
    output = getattr(node, "workeroutput", {}) or {}
    state.records.extend(output.get("k2_records", []))


# ---------------------------------------------------------------------------- collection


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "k2_cell" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("k2")
    where = metafunc.definition.nodeid
    if marker is None:
        pytest.fail(f"{where}: uses k2_cell without @pytest.mark.k2(component=..., case=...)",
                    pytrace=False)
    component, case = marker.kwargs.get("component"), marker.kwargs.get("case")
    state = get_state(metafunc.config)
    if not state.matrix_path.is_file():
        pytest.fail(f"{where}: no matrix file at {state.matrix_path}; pass --k2-matrix PATH",
                    pytrace=False)
    matrix = state.load()
    if f"{component}.{case}" not in matrix.cases:
        pytest.fail(f"{where}: the matrix has no case {component}.{case}; its cases are "
                    f"{', '.join(matrix.cases)}", pytrace=False)
    cells = [c for c in state.cells() if c.component == component and c.case == case]
    params = [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else [])
              for c in cells]
    metafunc.parametrize("k2_cell", params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect tests whose case has no cell in this profile (pytest would otherwise show
    an empty parameter set as a skipped ``[NOTSET]`` test), and cells a resumed run passed."""
    state = get_state(config)
    keep: list[pytest.Item] = []
    done: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        no_cell = ("k2_cell" in getattr(item, "fixturenames", ())
                   and not isinstance(callspec.params.get("k2_cell") if callspec else None,
                                      Cell))
        if no_cell or item.nodeid in state.resume_passed:
            done.append(item)
        else:
            keep.append(item)
    if done:
        config.hook.pytest_deselected(items=done)
        items[:] = keep
    items[:] = _ordered(state, items)


def _ordered(state: RunState, items: list[pytest.Item]) -> list[pytest.Item]:
    """The run's order (k2matrix.plugin.order): other tests as collected, then the cells."""
    cells = [it for it in items if _cell(it) is not None]
    if not cells:
        return items
    others = [it for it in items if _cell(it) is None]
    if state.order_seed is not None:  # the same seed gives every xdist worker one order
        cells = order.shuffled(cells, _nodeid, _module, state.order_seed)
    elif state.worker.startswith("gw") and state.workers > 1:
        cells = order.spread(cells, _nodeid, _module, _exclusive, derive_seed(0, state.run_id))
    return [*others, *cells]


def _nodeid(item: pytest.Item) -> str:
    return item.nodeid


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _cell(item: pytest.Item) -> Cell | None:
    callspec = getattr(item, "callspec", None)
    cell = callspec.params.get("k2_cell") if callspec is not None else None
    return cell if isinstance(cell, Cell) else None


def _exclusive(item: pytest.Item) -> bool:
    cell = _cell(item)
    return cell is not None and cell.exclusive


def pytest_collection_finish(session: pytest.Session) -> None:
    """How many tests the run has (what a trial's progress counts against)."""
    get_state(session.config).planned = len(session.items)


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def k2_matrix(request: pytest.FixtureRequest) -> Matrix:
    """The loaded matrix."""
    return get_state(request.config).load()


@pytest.fixture(scope="session")
def k2_backends(k2_matrix: Matrix) -> Backends:
    """The matrix's backends with the K2_* environment overrides applied."""
    return k2_matrix.backends.with_environment()


@pytest.fixture(scope="session")
def k2_workdir(request: pytest.FixtureRequest) -> Path:
    """A folder shared by the run (and by later runs) for caches: datasets, warehouses."""
    path = get_state(request.config).workdir
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def k2_rounds(request: pytest.FixtureRequest) -> Callable[[int], int]:
    """``k2_rounds(default)``: ``--benchmark-min-rounds`` when given (on the command line,
    in ``addopts`` or in ``PYTEST_ADDOPTS``), else ``default``."""
    config = request.config
    if not option_given(config, "--benchmark-min-rounds"):
        if get_state(config).clock == "instructions":  # counts repeat; a round is slow
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
    if "k2_cell" in getattr(item, "fixturenames", ()):
        recording.on_report(item, report)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if "k2_cell" in getattr(item, "fixturenames", ()):
        recording.on_setup(item)
        clock.reset_counters()
        cell = _cell(item)
        why = cell.uncounted if cell is not None else None
        if why and get_state(item.config).clock == "instructions":
            pytest.skip(f"not countable: {why}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None
                            ) -> Generator[None, None, None]:
    """Under xdist each cell holds a slot from setup to teardown: shared, or for an
    ``exclusive`` case the whole machine (:mod:`k2matrix.plugin.exclusive`)."""
    state = get_state(item.config)
    callspec = getattr(item, "callspec", None)
    cell = callspec.params.get("k2_cell") if callspec is not None else None
    if not isinstance(cell, Cell) or not state.worker.startswith("gw") or state.workers < 2:
        yield
        return
    with cell_slot(state.run_dir, cell.exclusive):
        yield


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem: str, report: pytest.TestReport, sched: Any) -> None:
    """xdist's word that a worker died running ``crashitem``: the cell gets a crash record."""
    config = getattr(sched, "config", None)
    if config is not None:
        get_state(config).crashed[crashitem] = str(report.longrepr)[:500]


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int
                         ) -> Generator[None, None, None]:
    config = session.config
    state = get_state(config)
    try:
        recording.finish(config, state)
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
    written = state.merged_path
    if written:
        terminalreporter.write_line(f"k2matrix: run {state.run_id}: {written}")
