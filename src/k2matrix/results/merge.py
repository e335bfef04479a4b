"""Merge journals into one run: pytest-benchmark's JSON format plus a ``k2`` object.

Merging refuses runs that cannot be compared (a different matrix, machine kind or format)
unless forced, and names the key that differs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from k2matrix.errors import ResultsError
from k2matrix.results import FORMAT_VERSION
from k2matrix.results.journal import PASSED, latest, read_run

META_FILE = "meta.json"
MERGED_FILE = "benchmarks.json"
# Keys of meta.json that must be equal for runs to merge (machine_kind compared per subkey).
COMPATIBLE_KEYS = ("format_version", "matrix_fingerprint", "profile")


def write_json_atomic(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_meta(run_dir: Path) -> dict[str, Any]:
    path = run_dir / META_FILE
    if not path.is_file():
        raise ResultsError(f"{run_dir}: not a k2matrix run directory (no {META_FILE}); "
                           "give a directory made by a k2matrix sweep")
    try:
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: cannot be read ({exc})") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise ResultsError(f"{path}: format_version {meta.get('format_version')!r} is not "
                           f"supported (this k2matrix reads {FORMAT_VERSION})")
    return meta


def check_compatible(metas: Sequence[tuple[str, dict[str, Any]]], force: bool = False) -> None:
    """Raise :class:`ResultsError` naming the first key on which two runs differ."""
    if force or len(metas) < 2:
        return
    first_name, first = metas[0]
    for name, meta in metas[1:]:
        for key in COMPATIBLE_KEYS:
            if meta.get(key) != first.get(key):
                raise ResultsError(
                    f"cannot merge {name} with {first_name}: {key} differs "
                    f"({meta.get(key)!r} vs {first.get(key)!r}); merge runs of the same matrix "
                    "and profile, or pass --force")
        kind_a, kind_b = first.get("machine_kind", {}), meta.get("machine_kind", {})
        for key in sorted(set(kind_a) | set(kind_b)):
            if kind_a.get(key) != kind_b.get(key):
                raise ResultsError(
                    f"cannot merge {name} with {first_name}: machine_kind.{key} differs "
                    f"({kind_b.get(key)!r} vs {kind_a.get(key)!r}); timings from different "
                    "kinds of machine do not compare — pass --force to merge anyway")


def mark_concurrency(records: list[dict[str, Any]]) -> None:
    """Set ``extra_info.k2.concurrent``: whether a cell's timing overlapped another worker's
    cell in wall-clock time (on 2 cores, concurrent cells contend)."""
    spans = [(r.get("worker"), float(r.get("started", 0)), float(r.get("finished", 0)), r)
             for r in records if r.get("benchmark")]
    for worker, start, end, rec in spans:
        overlap = any(w != worker and s < end and start < e for w, s, e, _ in spans)
        k2 = rec["benchmark"].setdefault("extra_info", {}).setdefault("k2", {})
        k2["concurrent"] = overlap


def overhead(records: list[dict[str, Any]]) -> dict[str, Any]:
    """k2matrix's own cost per cell (its report bookkeeping and journal line, ``overhead_s``)
    as a share of the cell's wall time (setup to teardown) and of its timed work (the sum of
    its rounds), over the cells whose time is 10 ms or more."""
    of_wall: list[float] = []
    of_timed: list[float] = []
    for rec in records:
        cost = rec.get("overhead_s")
        if cost is None:
            continue
        wall = float(rec.get("finished", 0)) - float(rec.get("started", 0))
        data = ((rec.get("benchmark") or {}).get("stats") or {}).get("data") or []
        timed = float(sum(data))
        if wall >= 0.010:
            of_wall.append(float(cost) / wall)
        if timed >= 0.010:
            of_timed.append(float(cost) / timed)

    def spread(values: list[float]) -> dict[str, float]:
        values = sorted(values)
        return {"median": values[len(values) // 2], "max": values[-1]} if values else {}

    return {"cells": len(of_wall), "of_wall": spread(of_wall), "of_timed": spread(of_timed)}


def build_document(records: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """The merged document: pytest-benchmark's format, one benchmark per passed cell."""
    mark_concurrency(records)
    passed = [r for r in records if r["status"] == PASSED and r.get("benchmark")]
    not_passed = [
        {"nodeid": r["nodeid"], "cell": (r.get("cell") or {}).get("id"), "status": r["status"],
         "error": r.get("error")}
        for r in records if r["status"] != PASSED and r["status"] != "skipped"
    ]
    done = {(r.get("cell") or {}).get("id") for r in records if r["status"] == PASSED}
    k2 = {key: value for key, value in meta.items()
          if key not in ("machine_info", "commit_info")}
    k2["failed"] = not_passed
    k2["cells_passed"] = len(passed)
    k2["cells_missing"] = [c for c in meta.get("cells_planned", []) if c not in done]
    k2["overhead"] = overhead(passed)
    return {
        "machine_info": meta.get("machine_info", {}),
        "commit_info": meta.get("commit_info", {}),
        "benchmarks": [r["benchmark"] for r in passed],
        "datetime": datetime.now(UTC).isoformat(),
        "version": meta.get("versions", {}).get("pytest-benchmark"),
        "k2": k2,
    }


def merge_run(run_dir: Path) -> dict[str, Any]:
    """Rebuild ``benchmarks.json`` of one run directory from its journals."""
    meta = read_meta(run_dir)
    doc = build_document(read_run(run_dir), meta)
    write_json_atomic(run_dir / MERGED_FILE, doc)
    return doc


def merge_dirs(run_dirs: Iterable[Path], out: Path, force: bool = False) -> dict[str, Any]:
    """Combine shards (or separate runs) into one run directory ``out``."""
    dirs = [Path(d) for d in run_dirs]
    if not dirs:
        raise ResultsError("nothing to merge: name at least one run directory")
    for d in dirs:
        if not d.is_dir():
            raise ResultsError(f"{d}: no such run directory")
    metas = [(str(d), read_meta(d)) for d in dirs]
    check_compatible(metas, force)
    records = latest(r for d in dirs for r in read_run(d))
    meta = dict(metas[0][1])
    meta["run_id"] = out.name
    meta["merged_from"] = [name for name, _ in metas]
    planned: list[str] = []
    for _, m in metas:
        planned += [c for c in m.get("cells_planned", []) if c not in planned]
    meta["cells_planned"] = planned
    meta["shard"] = None
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / META_FILE, meta)
    with open(out / "journal-merged.jsonl", "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, default=str, separators=(",", ":")) + "\n")
    doc = build_document(records, meta)
    write_json_atomic(out / MERGED_FILE, doc)
    return doc
