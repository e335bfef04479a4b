"""The journal: one JSON line per finished cell, appended, flushed and fsynced, so that every
finished cell survives a killed worker or an interrupted sweep.

Files: ``<run-dir>/journal-<worker>.jsonl``. A line:
``{"format_version", "nodeid", "cell", "status", "error", "worker", "pid", "started",
"finished", "benchmark"}`` where ``benchmark`` is a pytest-benchmark benchmark dict with its
raw rounds (or null for a cell that did not produce timings).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from k2matrix.errors import ResultsError
from k2matrix.results import FORMAT_VERSION

PASSED = "passed"
STATUSES = ("passed", "failed", "error", "skipped", "crashed")


class Journal:
    """Appends records to one worker's journal file."""

    def __init__(self, run_dir: Path, worker: str) -> None:
        self.path = run_dir / f"journal-{worker}.jsonl"
        self._fh: Any = None

    def append(self, record: dict[str, Any]) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        line = json.dumps(record, default=str, separators=(",", ":"))
        self._fh.write(line + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """The records of one journal file; a torn last line (a killed writer) is skipped."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number >= len(lines) - 1:
                continue  # the line a killed worker was writing
            raise ResultsError(
                f"{path}:{number}: not a JSON line; the journal is damaged") from None
        version = record.get("format_version")
        if version != FORMAT_VERSION:
            raise ResultsError(
                f"{path}:{number}: journal format_version {version!r} is not supported "
                f"(this k2matrix reads version {FORMAT_VERSION}); upgrade k2matrix")
        yield record


def read_run(run_dir: Path) -> list[dict[str, Any]]:
    """Every record of a run directory, the latest per test id (resume re-runs replace)."""
    return latest(r for path in sorted(run_dir.glob("journal-*.jsonl")) for r in read_journal(path))


def latest(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id: dict[str, dict[str, Any]] = {}
    for rec in records:
        old = by_id.get(rec["nodeid"])
        if old is None or float(rec.get("finished", 0)) >= float(old.get("finished", 0)):
            by_id[rec["nodeid"]] = rec
    return sorted(by_id.values(), key=lambda r: (r.get("cell") or {}).get("id", r["nodeid"]))
