"""The merged run document (``benchmarks.json``): pytest-benchmark's JSON format, one
benchmark per passed cell, plus a top-level ``k2`` object (the run metadata, failed and
missing cells, k2matrix's own overhead).

``extra_info.k2.concurrent`` is decided here and only here (:func:`mark_concurrency`): it
needs every worker's records, which only the merge has.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from k2matrix.results.hosts import hosts_of, same_host
from k2matrix.results.record import NOT_APPLICABLE, NOT_RUN, CellRecord

MERGED_FILE = "benchmarks.json"


def mark_concurrency(records: Sequence[CellRecord]) -> None:
    """Set ``extra_info.k2.concurrent``, whether a cell overlapped another worker's cell on
    its host in wall-clock time (on 2 cores, concurrent cells contend), and ``overlap``, the
    share of the cell's time (setup to teardown) during which another worker on its host
    ran a cell. Cells on other hosts share no CPU with it and do not count
    (:mod:`k2matrix.results.hosts`). A record folded from trials (``k2.trials``) was marked
    within each trial already."""
    spans = [(r, r.benchmark) for r in records if r.benchmark
             and "trials" not in (r.benchmark.get("extra_info") or {}).get("k2", {})]
    everyone = [r for r in records if r.finished > r.started]
    for rec, bench in spans:
        others = [(max(o.started, rec.started), min(o.finished, rec.finished))
                  for o in everyone if o.worker != rec.worker and same_host(o, rec)
                  and o.started < rec.finished and rec.started < o.finished]
        k2 = bench.setdefault("extra_info", {}).setdefault("k2", {})
        k2["concurrent"] = bool(others)
        span = rec.finished - rec.started
        k2["overlap"] = round(_union(others) / span, 4) if span > 0 else 0.0


def _union(intervals: list[tuple[float, float]]) -> float:
    """The length of the union of ``intervals``."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        start = max(start, reach)
        if end > start:
            total += end - start
            reach = end
    return total


def overhead(records: Sequence[CellRecord]) -> dict[str, Any]:
    """k2matrix's own cost per cell (its report bookkeeping and journal line, ``overhead_s``)
    as a share of the cell's wall time (setup to teardown) and of its timed work (the sum of
    its rounds), over the cells whose time is 10 ms or more."""
    of_wall: list[float] = []
    of_timed: list[float] = []
    for rec in records:
        if rec.overhead_s is None:
            continue
        wall = rec.finished - rec.started
        data = ((rec.benchmark or {}).get("stats") or {}).get("data") or []
        timed = float(sum(data))
        if wall >= 0.010:
            of_wall.append(rec.overhead_s / wall)
        if timed >= 0.010:
            of_timed.append(rec.overhead_s / timed)

    def spread(values: list[float]) -> dict[str, float]:
        values = sorted(values)
        return {"median": values[len(values) // 2], "max": values[-1]} if values else {}

    return {"cells": len(of_wall), "of_wall": spread(of_wall), "of_timed": spread(of_timed)}


def _hosts(meta: dict[str, Any], records: Sequence[CellRecord]) -> dict[str, Any]:
    """Each host of the run: its machine as meta.json has it (the controller's, and each
    remote worker's as probed), and the workers and cells the records place on it."""
    known = meta.get("hosts")
    hosts = {str(h): dict(v) for h, v in known.items()} if isinstance(known, dict) else {}
    for host, placed in hosts_of(records).items():
        hosts.setdefault(host, {}).update(placed)
    return dict(sorted(hosts.items()))


def build_document(records: Sequence[CellRecord], meta: dict[str, Any]) -> dict[str, Any]:
    """The merged document: pytest-benchmark's format, one benchmark per passed cell."""
    mark_concurrency(records)
    passed = [r for r in records if r.passed and r.benchmark]
    not_passed = [
        {"nodeid": r.nodeid, "cell": r.cell_id, "status": r.status, "error": r.error}
        for r in records if not r.passed and r.status not in NOT_RUN
    ]
    outside = [{"cell": r.cell_id, "reason": (r.error or "").removeprefix(
        f"{NOT_APPLICABLE}: ")} for r in records if r.status == NOT_APPLICABLE]
    done = {r.cell_id for r in records if r.passed} | {o["cell"] for o in outside}
    k2 = {key: value for key, value in meta.items()
          if key not in ("machine_info", "commit_info")}
    k2["failed"] = not_passed
    k2["cells_passed"] = len(passed)
    k2["not_applicable"] = outside
    k2["cells_missing"] = [c for c in meta.get("cells_planned", []) if c not in done]
    k2["overhead"] = overhead(passed)
    k2["hosts"] = _hosts(meta, records)
    return {
        "machine_info": meta.get("machine_info", {}),
        "commit_info": meta.get("commit_info", {}),
        "benchmarks": [r.benchmark for r in passed],
        "datetime": datetime.now(UTC).isoformat(),
        "version": (meta.get("versions") or {}).get("pytest-benchmark"),
        "k2": k2,
    }


def measured(records: Sequence[CellRecord]) -> bool:
    """Whether any cell passed with a timing or failed: a run of only skipped (or no) cells
    measured nothing."""
    return any((r.passed and r.benchmark) or (not r.passed and r.status not in NOT_RUN)
               for r in records)
