"""Read a run: a results directory (``benchmarks.json``, else its journals) or a
pytest-benchmark JSON file. Every problem becomes a :class:`ResultsError` that names the
file and the fix."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from k2matrix.errors import ResultsError
from k2matrix.matrix import METRICS, Target
from k2matrix.results import FORMAT_VERSION
from k2matrix.results.journal import read_run
from k2matrix.results.merge import MERGED_FILE, build_document, read_meta


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
    def missing(self) -> list[str]:
        """Planned cells without a result (skipped, not reached, or crashed)."""
        return [str(x) for x in self.k2.get("cells_missing", []) or []]


def load_run(path: str | Path) -> Run:
    """Read ``path`` (a results directory or a pytest-benchmark JSON file)."""
    p = Path(path)
    if p.is_dir():
        file = p / MERGED_FILE
        if file.is_file():
            return _from_document(_read_json(file), str(file))
        if any(p.glob("journal-*.jsonl")):
            return _from_journals(p)
        raise ResultsError(
            f"{p}: not a results directory: it holds neither {MERGED_FILE} nor "
            "journal-*.jsonl; pass results/<run-id> or a pytest-benchmark JSON file")
    if not p.exists():
        raise ResultsError(
            f"{p}: no such file or directory; pass a results directory (results/<run-id>) "
            "or a pytest-benchmark JSON file (--benchmark-json)")
    return _from_document(_read_json(p), str(p))


def _read_json(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResultsError(f"{file}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{file}: not a results file: it is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{file}: not a results file: invalid JSON at line {exc.lineno} column "
            f"{exc.colno} ({exc.msg})") from None


def _from_document(doc: Any, source: str) -> Run:
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise ResultsError(
            f"{source}: not a pytest-benchmark results file: it has no \"benchmarks\" list "
            "(write one with pytest --benchmark-json=PATH or `k2matrix run`)")
    k2 = doc.get("k2") or {}
    if not isinstance(k2, dict):
        raise ResultsError(f"{source}: \"k2\" must be an object, found {type(k2).__name__}")
    version = k2.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ResultsError(
            f"{source}: k2.format_version = {version!r}: this k2matrix reads format "
            f"{FORMAT_VERSION} and older; upgrade k2matrix to read this file")
    benchmarks = doc["benchmarks"]
    for i, bench in enumerate(benchmarks):
        _check_benchmark(bench, f"{source}: benchmarks[{i}]")
    targets = tuple(_target(t, f"{source}: k2.targets[{i}]")
                    for i, t in enumerate(k2.get("targets", []) or []))
    machine = doc.get("machine_info") or {}
    return Run(source=source, benchmarks=benchmarks, k2=k2, targets=targets,
               machine=machine if isinstance(machine, dict) else {})


def _check_benchmark(bench: Any, where: str) -> None:
    if not isinstance(bench, dict):
        raise ResultsError(f"{where}: must be an object, found {type(bench).__name__}")
    stats = bench.get("stats")
    if not isinstance(stats, dict):
        raise ResultsError(f"{where} ({bench.get('name', '?')}): no \"stats\" object")
    median = stats.get("median")
    if isinstance(median, bool) or not isinstance(median, int | float) or \
            not 0 <= median < math.inf:
        raise ResultsError(
            f"{where} ({bench.get('name', '?')}): stats.median = {median!r}: must be a "
            "non-negative number of seconds")
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
    try:
        doc = build_document(read_run(run_dir), read_meta(run_dir))
    except OSError as exc:
        raise ResultsError(f"{run_dir}: cannot read the journals: {exc}") from None
    run = _from_document(doc, str(run_dir))
    note = (f"{run_dir}: no {MERGED_FILE} (the run was not merged); read its journals "
            "(`k2matrix merge` writes the file)")
    return Run(source=run.source, benchmarks=run.benchmarks, k2=run.k2, targets=run.targets,
               machine=run.machine, notes=(note,))
