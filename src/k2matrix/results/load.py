"""Read a run: a results directory (``benchmarks.json``, else its journals) or a
pytest-benchmark JSON file. Every problem becomes a :class:`ResultsError` that names the
file and the fix, a file in which no cell was measured included (a sweep that selected
nothing must not pass a CI job); a run whose cells all failed is read (its verdict lists
the failures)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from k2matrix import figures
from k2matrix.errors import ResultsError
from k2matrix.matrix import METRICS, Target
from k2matrix.results import FORMAT_VERSION
from k2matrix.results.document import MERGED_FILE, build_document
from k2matrix.results.journal import JOURNAL_GLOB, read_run
from k2matrix.results.jsonfile import path_kind, read_json
from k2matrix.results.merge import NO_CELL_FIX
from k2matrix.results.meta import read_meta

FILE_FIX = ("pass a results directory (results/<run-id>) or a pytest-benchmark JSON file "
            "(pytest --benchmark-json=PATH)")
MERGED_FIX = (f"rebuild {MERGED_FILE} from the run's journals with "
              "`k2matrix merge RUN_DIR --out NEW_DIR`, or remove it to read the journals")
# keys of the k2 object and the JSON type they must have
K2_SHAPES: dict[str, type] = {"failed": list, "not_applicable": list, "cells_missing": list,
                              "cells_planned": list, "targets": list, "machine_kind": dict}


@dataclass(frozen=True)
class Run:
    """One run as read from disk: pytest-benchmark entries plus the k2 header, if any."""

    source: str
    benchmarks: list[dict[str, Any]]
    k2: Mapping[str, Any] = field(default_factory=dict)
    targets: tuple[Target, ...] = ()
    machine: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str | None:
        value = self.k2.get("matrix_fingerprint")
        return str(value) if value else None

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Cells that failed their check or errored: ``{"id", "status", "error"}``."""
        out = []
        for item in self.k2.get("failed", []) or []:
            if isinstance(item, dict):
                out.append({"id": str(item.get("cell") or item.get("nodeid") or "?"),
                            "status": str(item.get("status") or "failed"),
                            "error": item.get("error")})
            else:
                out.append({"id": str(item), "status": "failed", "error": None})
        return out

    @property
    def not_applicable(self) -> list[dict[str, str]]:
        """Cells outside what the implementation supports: ``{"cell", "reason"}``."""
        return [{"cell": str(i.get("cell")), "reason": str(i.get("reason", ""))}
                for i in self.k2.get("not_applicable", []) or [] if isinstance(i, dict)]

    def cell_ids(self) -> list[str]:
        """Each benchmark's cell id, in order: the k2 cell's id, else the test name (the
        full test id where two tests share a name, as in a plain pytest-benchmark file)."""
        names = [str(b.get("name")) for b in self.benchmarks]
        use_fullname = len(set(names)) < len(names)
        out = []
        for bench in self.benchmarks:
            extra = bench.get("extra_info")
            k2 = extra.get("k2") if isinstance(extra, dict) else None
            cell = k2.get("cell") if isinstance(k2, dict) else None
            if isinstance(cell, dict) and "id" in cell:
                out.append(str(cell["id"]))
            else:
                out.append(str(bench.get("fullname") if use_fullname else bench.get("name")))
        return out

    @property
    def missing(self) -> list[str]:
        """Planned cells without a result (skipped, not reached, or crashed)."""
        return [str(x) for x in self.k2.get("cells_missing", []) or []]


def load_run(path: str | Path) -> Run:
    """Read ``path`` (a results directory or a pytest-benchmark JSON file)."""
    p = Path(path)
    found = path_kind(p)
    if found == "dir":
        file = p / MERGED_FILE
        if path_kind(file) != "missing":
            return _from_document(read_json(file, MERGED_FIX), str(file))
        if any(p.glob(JOURNAL_GLOB)):
            return _from_journals(p)
        raise ResultsError(
            f"{p}: not a results directory: it holds neither {MERGED_FILE} nor "
            "journal-*.jsonl; pass results/<run-id> or a pytest-benchmark JSON file")
    if found == "missing":
        raise ResultsError(
            f"{p}: no such file or directory; pass a results directory (results/<run-id>) "
            "or a pytest-benchmark JSON file (--benchmark-json)")
    return _from_document(read_json(p, FILE_FIX), str(p))


def _from_document(doc: Any, source: str) -> Run:
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        if not isinstance(doc, dict):
            found = f"the file holds a JSON {_json_type(doc)}"
        elif "benchmarks" in doc:
            found = f"\"benchmarks\" is a JSON {_json_type(doc['benchmarks'])}"
        else:
            found = "the object's keys are " + (", ".join(map(repr, list(doc)[:5])) or "none")
        raise ResultsError(
            f"{source}: not a pytest-benchmark results file: it has no \"benchmarks\" list "
            f"({found}); write one with pytest --benchmark-json=PATH or `k2matrix run`")
    k2 = doc.get("k2") or {}
    if not isinstance(k2, dict):
        raise ResultsError(f"{source}: \"k2\" must be an object, found a JSON "
                           f"{_json_type(k2)}; {MERGED_FIX}")
    version = k2.get("format_version", FORMAT_VERSION)
    if type(version) is not int or version != FORMAT_VERSION:
        raise ResultsError(
            f"{source}: k2.format_version = {version!r}: this k2matrix reads format "
            f"{FORMAT_VERSION}; a newer k2matrix wrote this file: upgrade k2matrix "
            "(pip install -U k2matrix) to read it")
    for key, kind in K2_SHAPES.items():
        if k2.get(key) is not None and not isinstance(k2[key], kind):
            noun = "list" if kind is list else "object"
            raise ResultsError(f"{source}: k2.{key} must be a JSON {noun}, found a JSON "
                               f"{_json_type(k2[key])}; the file is damaged: {MERGED_FIX}")
    figures.check_clock(k2.get("clock"), f"{source}: k2")
    benchmarks = doc["benchmarks"]
    for i, bench in enumerate(benchmarks):
        _check_benchmark(bench, f"{source}: benchmarks[{i}]")
    targets = tuple(_target(t, f"{source}: k2.targets[{i}]")
                    for i, t in enumerate(k2.get("targets", []) or []))
    machine = doc.get("machine_info") or {}
    run = Run(source=source, benchmarks=benchmarks, k2=k2, targets=targets,
              machine=machine if isinstance(machine, dict) else {})
    if not benchmarks and not run.failed:
        planned = k2.get("cells_planned") or []
        which = (f"none of its {len(planned)} planned cell(s) has a result" if planned
                 else "its benchmarks list is empty")
        raise ResultsError(f"{source}: no cell was measured ({which}); {NO_CELL_FIX}")
    return run


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", int: "number",
             float: "number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _check_benchmark(bench: Any, where: str) -> None:
    if not isinstance(bench, dict):
        raise ResultsError(f"{where}: must be an object, found {type(bench).__name__}")
    stats = bench.get("stats")
    if not isinstance(stats, dict):
        raise ResultsError(f"{where} ({bench.get('name', '?')}): no \"stats\" object")
    extra = bench.get("extra_info")
    k2 = extra.get("k2") if isinstance(extra, dict) else None
    clock = figures.check_clock(k2.get("clock") if isinstance(k2, dict) else None,
                                f"{where} ({bench.get('name', '?')}): extra_info.k2")
    median = figures.number(stats.get("median"))
    if median is None or not 0 <= median < math.inf:
        unit = figures.figure(figures.round_figure(clock)).unit
        raise ResultsError(
            f"{where} ({bench.get('name', '?')}): stats.median = {stats.get('median')!r}: "
            f"must be a non-negative number of {'seconds' if unit == 's' else unit}")
    if not isinstance(bench.get("name", ""), str):
        raise ResultsError(f"{where}: name must be a string")


def _target(raw: Any, where: str) -> Target:
    if not isinstance(raw, dict):
        raise ResultsError(f"{where}: must be an object (Target.to_dict())")
    try:
        target = Target(
            name=str(raw["name"]), metric=str(raw["metric"]),
            direction=str(raw["direction"]), target=float(raw["target"]),
            critical=float(raw["critical"]),
            applies_to=tuple(str(p) for p in raw.get("applies_to", ["*"])),
            where={str(k): list(v) for k, v in (raw.get("where") or {}).items()},
            unit=str(raw.get("unit", "")), sustained=bool(raw.get("sustained", False)),
        )
    except KeyError as exc:
        raise ResultsError(f"{where}: missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ResultsError(f"{where}: malformed target: {exc}") from None
    if target.metric not in METRICS or target.direction not in ("higher", "lower"):
        raise ResultsError(
            f"{where}: metric = {target.metric!r}, direction = {target.direction!r}: "
            f"metric must be one of {', '.join(METRICS)} and direction higher or lower")
    return target


def _from_journals(run_dir: Path) -> Run:
    """A run whose merge never happened (interrupted): merge its journals in memory."""
    doc = build_document(read_run(run_dir), read_meta(run_dir))
    run = _from_document(doc, str(run_dir))
    note = (f"{run_dir}: no {MERGED_FILE} (the run was not merged); read its journals "
            "(`k2matrix merge` writes the file)")
    return Run(source=run.source, benchmarks=run.benchmarks, k2=run.k2, targets=run.targets,
               machine=run.machine, notes=(note,))
