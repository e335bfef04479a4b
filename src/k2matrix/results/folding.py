"""A run of several trials (``--k2-trials N``): each trial is a complete run directory of
its own under ``<run>/trials/tNN/``, run in a fresh process with the cells in a random order;
this module folds them into one record per cell for the run's ``benchmarks.json``.

The folded benchmark stays a valid pytest-benchmark entry: its ``stats`` are computed over
the rounds of every trial, and ``extra_info.k2.trials`` keeps each trial apart::

    [{"trial": 1, "median": seconds, "rounds": [seconds, ...], "worker", "pid",
      "started", "finished", "concurrent", "overlap", "clock", "throughput", "efficiency",
      "latency_p99_ms", "ceiling_throughput", "iceberg_vs_parquet", "instructions",
      "counters"}, ...]

(``clock`` as the trial recorded it, ``wall`` when it did not; the figures after it where
measured: under the instructions clock ``median`` and ``rounds`` are instruction counts
and ``instructions`` the trial's figure; ``counters`` the trial's per-round means).
Comparisons use the trials, never the pooled rounds (:mod:`k2matrix.compare`). A cell
that failed in any trial is failed, its error naming the trial; a cell no trial ran stays
missing.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from k2matrix import figures
from k2matrix.results.document import mark_concurrency
from k2matrix.results.journal import latest, read_run
from k2matrix.results.record import NOT_RUN, CellRecord
from k2matrix.stats import median

TRIALS_DIR = "trials"
TRIAL_FIGURES = ("throughput", "efficiency", "latency_p99_ms", "ceiling_throughput",
                 "iceberg_vs_parquet", "instructions", "counters")


def trial_dir(run_dir: Path, trial: int) -> Path:
    """Where trial ``trial`` (1-based) of a run keeps its own run directory."""
    return run_dir / TRIALS_DIR / f"t{trial:02d}"


def trial_dirs(run_dir: Path) -> list[Path]:
    """The trial directories of a run, in trial order (none for a run of one trial)."""
    folder = run_dir / TRIALS_DIR
    return sorted(p for p in folder.glob("t[0-9]*") if p.is_dir()) if folder.is_dir() else []


def _stats(rounds: Sequence[float]) -> dict[str, Any]:
    from pytest_benchmark.stats import Stats

    stats = Stats()  # type: ignore[no-untyped-call]
    for value in rounds:
        stats.update(value)  # type: ignore[no-untyped-call]
    out: dict[str, Any] = stats.as_dict()  # type: ignore[no-untyped-call]
    out["data"] = list(rounds)
    return out


def _trial_entry(number: int, record: CellRecord) -> dict[str, Any]:
    bench = record.benchmark or {}
    rounds = [float(v) for v in (bench.get("stats") or {}).get("data") or []]
    info = bench.get("extra_info") or {}
    k2 = info.get("k2") or {}
    entry: dict[str, Any] = {
        "trial": number, "median": median(rounds) if rounds else None, "rounds": rounds,
        "worker": record.worker, "pid": record.pid, "started": record.started,
        "finished": record.finished, "concurrent": k2.get("concurrent"),
        "overlap": k2.get("overlap"), "clock": figures.clock_of(info),
    }
    entry.update({key: info[key] for key in TRIAL_FIGURES if key in info})
    return entry


def fold(trials: Sequence[tuple[int, Sequence[CellRecord]]]) -> list[CellRecord]:
    """One record per test id from ``(trial number, that trial's records)`` pairs."""
    by_test: dict[str, list[tuple[int, CellRecord]]] = {}
    for number, records in trials:
        chosen = latest(records)
        mark_concurrency(chosen)  # within its own trial: trials never run at the same time
        for record in chosen:
            by_test.setdefault(record.nodeid, []).append((number, record))
    return [_fold_one(runs) for runs in by_test.values()]


def _fold_one(runs: list[tuple[int, CellRecord]]) -> CellRecord:
    bad = [(n, r) for n, r in runs if not r.passed and r.status not in NOT_RUN]
    if bad:
        number, record = bad[0]
        folded = copy.copy(record)
        folded.error = f"trial {number}: {record.error or record.status}"
        return folded
    timed = [(n, r) for n, r in runs if r.passed and r.benchmark]
    if not timed:
        return runs[0][1]
    first = timed[0][1]
    assert first.benchmark is not None
    bench = copy.deepcopy(first.benchmark)
    entries = [_trial_entry(n, r) for n, r in timed]
    rounds = [v for e in entries for v in e["rounds"]]
    if rounds:
        bench["stats"] = _stats(rounds)
    info = bench.setdefault("extra_info", {})
    medians = [e["median"] for e in entries if e["median"]]
    rate = figures.throughput_of(info.get("items"), median(medians) if medians else None,
                                 figures.clock_of(info))
    if rate is not None:
        info["throughput"] = rate
    effs = [float(e["efficiency"]) for e in entries if e.get("efficiency")]
    if effs and info.get("throughput"):  # the trials' median, and the ceiling it implies
        info["efficiency"] = median(effs)
        info["ceiling_throughput"] = float(info["throughput"]) / info["efficiency"]
    k2 = info.setdefault("k2", {})
    k2["trials"] = entries
    k2["concurrent"] = any(bool(e.get("concurrent")) for e in entries)
    overlaps = [float(e["overlap"]) for e in entries if e.get("overlap") is not None]
    if overlaps:
        k2["overlap"] = max(overlaps)
    return CellRecord(
        nodeid=first.nodeid, status=first.status, cell=first.cell, worker=first.worker,
        pid=first.pid, started=min(r.started for _, r in timed),
        finished=max(r.finished for _, r in timed), benchmark=bench,
        overhead_s=sum(r.overhead_s or 0.0 for _, r in timed),
    )


def read_trials(run_dir: Path) -> list[tuple[int, list[CellRecord]]]:
    """Every trial's records, numbered as their directories are (``t01`` is trial 1)."""
    return [(int(p.name[1:]), read_run(p)) for p in trial_dirs(run_dir)]
