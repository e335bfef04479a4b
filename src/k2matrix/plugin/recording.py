"""Recording finished cells: the journal line of each cell, and the merge at the end."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from k2matrix.cell import Cell
from k2matrix.plugin import benchmarks as bench
from k2matrix.plugin.state import RunState, get_state
from k2matrix.plugin.threads import budget
from k2matrix.results import FORMAT_VERSION
from k2matrix.results.journal import PASSED, Journal, latest, read_run
from k2matrix.results.merge import MERGED_FILE, META_FILE, build_document, write_json_atomic
from k2matrix.results.meta import (
    affinity,
    git_commit,
    library_versions,
    load_average,
    machine_kind,
)
from k2matrix.stats import efficiency, throughput

PHASES = pytest.StashKey[dict[str, Any]]()


def passed_nodeids(run_dir: Any) -> set[str]:
    return {r["nodeid"] for r in read_run(run_dir) if r["status"] == PASSED}


def _status(phases: dict[str, Any]) -> str:
    setup, call, teardown = (phases.get(w) for w in ("setup", "call", "teardown"))
    if setup is not None and setup.failed:
        return "error"
    if call is not None and call.failed:
        return "failed"
    if teardown is not None and teardown.failed:
        return "error"
    if (setup is not None and setup.skipped) or (call is not None and call.skipped):
        return "skipped"
    return PASSED


def _error_text(phases: dict[str, Any]) -> str | None:
    for when in ("setup", "call", "teardown"):
        rep = phases.get(when)
        if rep is not None and rep.failed:
            text = rep.longreprtext.strip().splitlines()
            lines = [line for line in text if line.startswith("E ")] or text[-3:]
            return "\n".join(lines)[-2000:]
    return None


def _enrich(config: pytest.Config, state: RunState, cell: Cell, benches: list[Any]) -> None:
    for b in benches:
        info = b.extra_info
        info["k2"] = {
            "cell": cell.to_dict(),
            "run_id": state.run_id,
            "worker": state.worker,
            "workers": state.workers,
            "concurrent": state.workers > 1,
            "affinity": affinity(),
            "pid": os.getpid(),
            # other load on the machine when the cell finished: noisy figures explain themselves
            "loadavg_1m": os.getloadavg()[0],
            "threads": budget(),
        }
        median = b.stats.median if b.stats and b.stats.data else 0.0
        if "items" in info and "throughput" not in info and median > 0:
            info["throughput"] = throughput(float(info["items"]), median)
        if "throughput" in info and info.get("ceiling_throughput") and "efficiency" not in info:
            info["efficiency"] = efficiency(float(info["throughput"]),
                                            float(info["ceiling_throughput"]))


def on_report(item: pytest.Item, report: pytest.TestReport) -> None:
    """Called for each phase report of a k2 cell; writes the journal line after teardown."""
    t0 = time.perf_counter()
    config = item.config
    state = get_state(config)
    phases = item.stash.setdefault(PHASES, {"started": time.time()})
    phases[report.when] = report
    callspec = getattr(item, "callspec", None)
    cell: Cell | None = callspec.params.get("k2_cell") if callspec is not None else None
    if cell is None:
        return
    benches = bench.for_item(config, item.nodeid)
    for b in benches:  # plain data only: the params cross process boundaries
        if b.params and isinstance(b.params.get("k2_cell"), Cell):
            b.params = {**b.params, "k2_cell": cell.id}
    if report.when == "call":
        if report.passed:
            _enrich(config, state, cell, benches)
        else:
            bench.drop(config, benches)
    if report.when != "teardown":
        phases["overhead_s"] = phases.get("overhead_s", 0.0) + time.perf_counter() - t0
        return
    status = _status(phases)
    timed = [b for b in benches if b]
    if status != PASSED:
        bench.drop(config, benches)
    record = {
        "format_version": FORMAT_VERSION,
        "nodeid": item.nodeid,
        "cell": cell.to_dict(),
        "status": status,
        "error": _error_text(phases),
        "worker": state.worker,
        "pid": os.getpid(),
        "started": phases["started"],
        "finished": time.time(),
        "benchmark": timed[0].as_dict(include_data=True) if timed and status == PASSED
        else None,
    }
    if state.journal is None:
        state.journal = Journal(state.run_dir, state.worker)
        _write_meta_once(config, state)  # once per run, not per cell
        t0 = time.perf_counter()
    # k2matrix's own cost for this cell: bookkeeping of its reports and its journal line
    record["overhead_s"] = phases.get("overhead_s", 0.0) + time.perf_counter() - t0
    state.journal.append(record)
    # the in-memory record (what the controller merges) also counts the journal write
    record["overhead_s"] = phases.get("overhead_s", 0.0) + time.perf_counter() - t0
    if record["benchmark"] is not None:
        record["benchmark"]["extra_info"]["k2"]["overhead_s"] = record["overhead_s"]
    state.records.append(record)


def on_setup(item: pytest.Item) -> None:
    """A cell starts when its setup starts (its fixtures are part of its wall time)."""
    item.stash[PHASES] = {"started": time.time()}


def _meta(config: pytest.Config, state: RunState, full: bool = True) -> dict[str, Any]:
    """The run's metadata. ``full=False`` leaves out pytest-benchmark's machine_info, whose
    CPU probe costs about a second of CPU: not something to do while other workers time."""
    matrix = state.load()
    planned = [c.id for c in state.cells()]
    machine_info: dict[str, Any] = {}
    commit_info: dict[str, Any] = {}
    if full:
        machine_info = config.hook.pytest_benchmark_generate_machine_info(config=config)
        config.hook.pytest_benchmark_update_machine_info(config=config,
                                                         machine_info=machine_info)
        commit_info = config.hook.pytest_benchmark_generate_commit_info(config=config)
    return {
        "format_version": FORMAT_VERSION,
        "run_id": state.run_id,
        "profile": state.profile,
        "matrix": str(state.matrix_path),
        "matrix_name": matrix.name,
        "matrix_fingerprint": matrix.fingerprint(),
        "targets": [t.to_dict() for t in matrix.targets.values()],
        "versions": library_versions(),
        "backends": matrix.backends.with_environment().describe(),
        "machine_kind": machine_kind(),
        "machine_info": machine_info,
        "commit_info": commit_info,
        "git": git_commit(str(config.rootpath)),
        "workers": state.workers,
        "shard": list(state.shard) if state.shard else None,
        "include_slow": state.include_slow,
        "cells_planned": planned,
        "started": state.started,
        "loadavg": load_average(),
    }


def _write_meta_once(config: pytest.Config, state: RunState) -> None:
    path = state.run_dir / META_FILE
    if path.exists():
        return
    write_json_atomic(path, _meta(config, state, full=False))


def finish(config: pytest.Config, state: RunState) -> None:
    """At session end: workers hand their records to the controller; the controller (or a
    run without xdist) merges the run and gives pytest-benchmark every timing."""
    if state.journal is not None:
        state.journal.close()
    workeroutput = getattr(config, "workeroutput", None)
    if state.worker.startswith("gw") and workeroutput is not None:
        workeroutput["k2_records"] = state.records
        return
    on_disk = read_run(state.run_dir) if state.run_dir.is_dir() else []
    if not state.records and not on_disk and not state.crashed:
        return  # no k2 cell ran in this session (e.g. a unit-test run)
    records = latest([*on_disk, *state.records])
    seen = {r["nodeid"] for r in records}
    crashed = [
        _crash_record(state, nodeid, text)
        for nodeid, text in state.crashed.items() if nodeid not in seen
    ]
    if crashed:
        journal = Journal(state.run_dir, "controller")
        for rec in crashed:
            journal.append(rec)
        journal.close()
        records = latest([*records, *crashed])
    meta = _meta(config, state)
    write_json_atomic(state.run_dir / META_FILE, meta)
    doc = build_document(records, meta)
    write_json_atomic(state.run_dir / MERGED_FILE, doc)
    state.merged_path = state.run_dir / MERGED_FILE
    _point_latest(state)
    _give_to_pytest_benchmark(config, doc)


def _crash_record(state: RunState, nodeid: str, text: str) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION, "nodeid": nodeid, "cell": None, "status": "crashed",
        "error": text, "worker": None, "pid": None, "started": time.time(),
        "finished": time.time(), "benchmark": None,
    }


def _give_to_pytest_benchmark(config: pytest.Config, doc: dict[str, Any]) -> None:
    bs = bench.session(config)
    if bs is None:
        return
    present = {b.fullname for b in bs.benchmarks}
    for entry in doc["benchmarks"]:
        if entry["fullname"] not in present and entry.get("stats", {}).get("data"):
            bs.benchmarks.append(bench.restore(entry))


def _point_latest(state: RunState) -> None:
    """``<results>/latest`` -> this run (a symlink; best effort)."""
    link = state.run_dir.parent / "latest"
    try:
        if link.is_symlink() or link.exists():
            if not link.is_symlink():
                return
            link.unlink()
        link.symlink_to(state.run_dir.name, target_is_directory=True)
    except OSError:
        pass
