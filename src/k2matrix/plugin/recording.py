"""Recording finished cells, the pytest side: reading a cell's phase reports and its
pytest-benchmark timing into a :class:`CellRecord`, and handing the records to the results
store (:mod:`k2matrix.results.store`), which journals, merges and links them."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from k2matrix.cell import Cell
from k2matrix.counting.launch import pinned
from k2matrix.figures import derive, figure
from k2matrix.plugin import benchmarks
from k2matrix.plugin.cells import FIXTURE, cell_of
from k2matrix.plugin.clock import take_counters
from k2matrix.plugin.identity import Role, RunIdentity
from k2matrix.plugin.state import Progress, RunState, get_state
from k2matrix.plugin.threads import budget
from k2matrix.results import store
from k2matrix.results.document import MERGED_FILE
from k2matrix.results.hosts import host_name
from k2matrix.results.journal import Journal
from k2matrix.results.meta import affinity, run_meta, this_host
from k2matrix.results.progress import write_progress
from k2matrix.results.record import NOT_APPLICABLE, PASSED, CellRecord

PHASES = pytest.StashKey[dict[str, Any]]()
# the user property of a worker's teardown report that carries the cell's record (JSON form)
RECORD_PROPERTY = "k2_record"


def _status(phases: dict[str, Any]) -> str:
    setup, call, teardown = (phases.get(w) for w in ("setup", "call", "teardown"))
    if setup is not None and setup.failed:
        return "error"
    if call is not None and call.failed:
        return "failed"
    if teardown is not None and teardown.failed:
        return "error"
    if (setup is not None and setup.skipped) or (call is not None and call.skipped):
        reason = _error_text(phases) or ""
        return NOT_APPLICABLE if reason.startswith(f"{NOT_APPLICABLE}: ") else "skipped"
    return PASSED


def _error_text(phases: dict[str, Any]) -> str | None:
    for when in ("setup", "call", "teardown"):
        rep = phases.get(when)
        if rep is not None and rep.skipped and isinstance(rep.longrepr, tuple):
            # the reason, e.g. "not countable: ...", without pytest's "Skipped: "
            return str(rep.longrepr[2]).removeprefix("Skipped: ")
        if rep is not None and rep.failed:
            text = rep.longreprtext.strip().splitlines()
            lines = [line for line in text if line.startswith("E ")] or text[-3:]
            return "\n".join(lines)[-2000:]
    return None


def _enrich(identity: RunIdentity, cell: Cell, benches: list[Any]) -> None:
    """The cell's k2 facts and derived figures in each benchmark's extra_info (whether it
    ran concurrently with another cell is decided at the merge, from every worker's
    records: :func:`k2matrix.results.document.mark_concurrency`)."""
    for b in benches:
        info = b.extra_info
        info["k2"] = {
            "cell": cell.to_dict(),
            "run_id": identity.run_id,
            "worker": identity.worker,
            "host": host_name(),
            "workers": identity.workers,
            "host_workers": identity.host_workers,
            "affinity": affinity(),
            "pid": os.getpid(),
            # other load on the machine when the cell finished: noisy figures explain themselves
            "loadavg_1m": os.getloadavg()[0],
            "threads": budget(),
        }
        if identity.trial is not None:
            info["k2"]["trial"] = identity.trial[0]
        if cell.exclusive and identity.beside_other_workers:  # alone on its host, no more
            info["k2"]["exclusive"] = {"scope": "host", "host": info["k2"]["host"]}
        info["k2"]["clock"] = identity.clock
        rounds = len(b.stats.data) if b.stats and b.stats.data else 0
        info["counters"] = {**take_counters(rounds), **info.get("counters", {})}
        median = b.stats.median if b.stats and b.stats.data else 0.0
        if identity.clock == "instructions":
            _counted_figures(info, median)
            continue
        info.update(derive(info, median, identity.clock))


# keys a suite records from its round times that k2matrix.figures does not declare: under
# the instruction clock the rounds are counts, and the suite's own timings were not counted
_UNDECLARED_TIME = ("compare_on",)


def _timed(key: str) -> bool:
    """Whether ``extra_info[key]`` is a figure of time (declared as valid only under a
    timing clock, or an undeclared time)."""
    try:
        declared = figure(key)
    except KeyError:
        return key in _UNDECLARED_TIME or key.endswith(("_s", "_seconds"))
    return not declared.valid_under("instructions")


def _counted_figures(info: dict[str, Any], median: float) -> None:
    """Under ``--k2-clock instructions``: the cell's figure is its median count; figures
    derived from time are left out, the pinned settings recorded."""
    for key in [k for k in info if _timed(k)]:
        del info[key]
    info["instructions"] = int(median)
    info["k2"]["pinned"] = {**pinned(), "gc": "collected before, off during each round"}


def on_report(item: pytest.Item, report: pytest.TestReport) -> None:
    """Called for each phase report of a k2 cell; writes the journal line after teardown."""
    t0 = time.perf_counter()
    config = item.config
    state = get_state(config)
    identity, progress = state.identity, state.progress
    phases = item.stash.setdefault(PHASES, {"started": time.time()})
    phases[report.when] = report
    cell = cell_of(item)
    if cell is None:
        return
    benches = benchmarks.for_item(config, item.nodeid)
    for b in benches:  # plain data only: the params cross process boundaries
        if b.params and FIXTURE in b.params:
            b.params = {**b.params, FIXTURE: cell.id}
    if report.when == "call":
        if report.passed:
            _enrich(identity, cell, benches)
        else:
            benchmarks.drop(config, benches)
    if report.when != "teardown":
        phases["overhead_s"] = phases.get("overhead_s", 0.0) + time.perf_counter() - t0
        return
    status = _status(phases)
    timed = [b for b in benches if b]
    if status != PASSED:
        benchmarks.drop(config, benches)
    record = CellRecord(
        nodeid=item.nodeid, cell=cell.to_dict(), status=status, error=_error_text(phases),
        worker=identity.worker, host=host_name(), pid=os.getpid(), started=phases["started"],
        finished=time.time(),
        benchmark=timed[0].as_dict(include_data=True) if timed and status == PASSED
        else None,
    )
    if identity.role is Role.WORKER:
        # the controller journals it, in the run directory, wherever this worker runs
        record.overhead_s = phases.get("overhead_s", 0.0) + time.perf_counter() - t0
        _keep(record, progress)
        report.user_properties.append((RECORD_PROPERTY, record.to_json()))
        return
    journal, opened = _journal(config, state, identity.worker)
    if opened:
        t0 = time.perf_counter()  # once per run, not this cell's cost
    # k2matrix's own cost for this cell: bookkeeping of its reports and its journal line
    record.overhead_s = phases.get("overhead_s", 0.0) + time.perf_counter() - t0
    journal.append(record)
    # the in-memory record (what the run merges) also counts the journal write
    record.overhead_s = phases.get("overhead_s", 0.0) + time.perf_counter() - t0
    _keep(record, progress)


def _keep(record: CellRecord, progress: Progress) -> None:
    if record.benchmark is not None:
        record.benchmark["extra_info"]["k2"]["overhead_s"] = record.overhead_s
    progress.records.append(record.to_json())
    progress.done += 1


def _journal(config: pytest.Config, state: RunState, worker: str) -> tuple[Journal, bool]:
    """``worker``'s journal in the run directory, and whether it was opened now (the run's
    first record writes ``meta.json`` too)."""
    identity, progress = state.identity, state.progress
    journal = progress.journals.get(worker)
    if journal is not None:
        return journal, False
    journal = progress.journals[worker] = Journal(identity.run_dir, worker)
    store.ensure_meta(identity.run_dir, lambda: _meta(config, state, full=False))
    return journal, True


class WorkerRecords:
    """In xdist's controller (registered as a plugin): each worker's cell record, handed
    over with the cell's teardown report (:data:`RECORD_PROPERTY`), is journaled in the run
    directory as it arrives, so the controller's journals hold every finished cell of every
    host, and no worker writes to the run directory."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = [p for p in report.user_properties if p[0] == RECORD_PROPERTY]
        if not found:
            return
        report.user_properties[:] = [p for p in report.user_properties
                                     if p[0] != RECORD_PROPERTY]
        state = get_state(self._config)
        where = f"{report.nodeid}: the record a worker handed over"
        for _, data in found:
            record = CellRecord.from_json(data, where)
            _journal(self._config, state, record.worker or "worker")[0].append(record)


def on_setup(item: pytest.Item) -> None:
    """A cell starts when its setup starts (its fixtures are part of its wall time); a
    trial process says which cell it is at (:func:`k2matrix.results.progress.write_progress`)."""
    item.stash[PHASES] = {"started": time.time()}
    state = get_state(item.config)
    identity, progress = state.identity, state.progress
    if identity.trial is not None and not identity.remote:  # the launcher reads it here
        cell = cell_of(item)
        write_progress(identity.run_dir, identity.worker, cell.id if cell else item.name,
                       progress.done, progress.planned or 0)


def _meta(config: pytest.Config, state: RunState, full: bool = True) -> dict[str, Any]:
    """The run's metadata. ``full=False`` leaves out pytest-benchmark's machine_info, whose
    CPU probe costs about a second of CPU: not something to do while other workers time."""
    machine_info: dict[str, Any] = {}
    commit_info: dict[str, Any] = {}
    if full:
        machine_info = config.hook.pytest_benchmark_generate_machine_info(config=config)
        config.hook.pytest_benchmark_update_machine_info(config=config,
                                                         machine_info=machine_info)
        commit_info = config.hook.pytest_benchmark_generate_commit_info(config=config)
    identity = state.identity
    return run_meta(
        matrix=state.cells.matrix(), matrix_path=identity.matrix_path, run_id=identity.run_id,
        profile=identity.profile, cells_planned=[c.id for c in state.cells.cells()],
        workers=identity.workers, shard=identity.shard,
        include_slow=state.cells.include_slow(), started=state.progress.started,
        repo_dir=str(config.rootpath), machine_info=machine_info, commit_info=commit_info,
        clock=identity.clock, cells_file=identity.cells_file, hosts=_hosts(state))


def _hosts(state: RunState) -> dict[str, Any]:
    """The run's hosts: this one, and each remote worker gateway's as it was probed."""
    hosts: dict[str, Any] = {host_name(): this_host()}
    for gateway, facts in sorted(state.progress.gateways.items()):
        entry = hosts.setdefault(str(facts["host"]), {
            "machine_kind": facts["machine_kind"], "usable_cores": facts["usable_cores"]})
        entry.setdefault("gateways", []).append(gateway)
    return hosts


def finish(config: pytest.Config, state: RunState) -> None:
    """At session end: workers hand their records to the controller; the controller (or a
    run without xdist) has the results store finish the run, and gives pytest-benchmark
    every timing."""
    identity, progress = state.identity, state.progress
    for journal in progress.journals.values():
        journal.close()
    if identity.role is Role.WORKER:
        # JSON form: crosses to the controller
        config.workeroutput["k2_records"] = progress.records  # type: ignore[attr-defined]
        return
    run_dir = identity.run_dir
    records = [CellRecord.from_json(r, f"{run_dir}: a record handed over in memory")
               for r in progress.records]
    doc = store.finish_run(run_dir, records, progress.crashed,
                           lambda: _meta(config, state), link_latest=identity.trial is None)
    if doc is None:
        return  # no k2 cell ran in this session (e.g. a unit-test run)
    progress.merged_path = run_dir / MERGED_FILE
    _give_to_pytest_benchmark(config, doc)


def _give_to_pytest_benchmark(config: pytest.Config, doc: dict[str, Any]) -> None:
    """Every worker's timing into this session (the results table, --benchmark-json), and
    the merge's concurrency mark into the benchmarks this process timed itself."""
    bs = benchmarks.session(config)
    if bs is None:
        return
    merged = {entry["fullname"]: entry for entry in doc["benchmarks"]}
    for b in bs.benchmarks:
        entry = merged.pop(b.fullname, None)
        k2 = b.extra_info.get("k2") if entry is not None else None
        if isinstance(k2, dict):
            k2["concurrent"] = entry["extra_info"]["k2"].get("concurrent")
    for entry in merged.values():
        if entry.get("stats", {}).get("data"):
            bs.benchmarks.append(benchmarks.restore(entry))
