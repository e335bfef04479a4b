"""Read a run: a results directory (``benchmarks.json``, else its journals) or a
pytest-benchmark JSON file. Every problem becomes a :class:`ResultsError` that names the
file and the fix."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from k2matrix.errors import ResultsError
from k2matrix.matrix import METRICS, Target

FORMAT_VERSION = 1
BENCHMARKS_FILE = "benchmarks.json"


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
    def failed(self) -> list[str]:
        return [str(x) for x in self.k2.get("failed", []) or []]


def load_run(path: str | Path) -> Run:
    """Read ``path`` (a results directory or a pytest-benchmark JSON file)."""
    p = Path(path)
    if p.is_dir():
        file = p / BENCHMARKS_FILE
        if file.is_file():
            return _from_document(_read_json(file), str(file))
        journals = sorted(p.glob("journal-*.jsonl"))
        if journals:
            return _from_journals(journals, str(p))
        raise ResultsError(
            f"{p}: not a results directory: it holds neither {BENCHMARKS_FILE} nor "
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
    if isinstance(median, bool) or not isinstance(median, int | float) or median < 0:
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


def _from_journals(journals: list[Path], source: str) -> Run:
    """A run whose merge never happened: rebuild it from the per-worker journals."""
    benchmarks: list[dict[str, Any]] = []
    failed: list[str] = []
    for file in journals:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ResultsError(f"{file}: cannot read: {exc}") from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                if n == len(lines):  # a line cut short by a crash: skip it
                    continue
                raise ResultsError(f"{file}:{n}: not a journal line (invalid JSON)") from None
            if not isinstance(rec, dict):
                raise ResultsError(f"{file}:{n}: a journal line must be an object")
            cell = rec.get("cell") or {}
            cell_id = cell.get("id") if isinstance(cell, dict) else cell
            if rec.get("status") in ("failed", "error"):
                failed.append(str(cell_id or rec.get("nodeid")))
            bench = rec.get("benchmark")
            if rec.get("status") == "passed" and isinstance(bench, dict):
                _check_benchmark(bench, f"{file}:{n}")
                benchmarks.append(bench)
    note = (f"{source}: no {BENCHMARKS_FILE}; read {len(journals)} journal file(s) instead "
            "(targets and the matrix fingerprint are only in the merged file)")
    return Run(source=source, benchmarks=benchmarks, k2={"failed": failed}, notes=(note,))
