"""The journal: one JSON line per finished cell (a :class:`CellRecord`), appended, flushed and
fsynced, so that every finished cell survives a killed worker or an interrupted sweep.

Files: ``<run-dir>/journal-<worker>.jsonl``. Reading gives CellRecords; a torn last line (a
killed writer) is skipped, any other bad line is a :class:`ResultsError` naming file and line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from k2matrix.errors import ResultsError
from k2matrix.results.jsonfile import denied
from k2matrix.results.record import CellRecord

JOURNAL_GLOB = "journal-*.jsonl"


class Journal:
    """Appends records to one worker's journal file."""

    def __init__(self, run_dir: Path, worker: str) -> None:
        self.path = run_dir / f"journal-{worker}.jsonl"
        self._fh: IO[str] | None = None

    def append(self, record: CellRecord) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        line = json.dumps(record.to_json(), default=str, separators=(",", ":"))
        self._fh.write(line + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def write_journal(path: Path, records: Iterable[CellRecord]) -> None:
    """Write ``records`` as a whole journal file (a merged run's ``journal-merged.jsonl``)."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(json.dumps(rec.to_json(), default=str, separators=(",", ":")) + "\n")
    except OSError as exc:
        raise ResultsError(f"{path}: cannot write: {exc.strerror or exc}; check that its "
                           "folder is writable and the disk has room") from None


def _lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except PermissionError:
        raise denied(path) from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read the journal: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise ResultsError(
            f"{path}: not a k2matrix journal: it is not UTF-8 text (byte {exc.start}); a "
            "journal holds one JSON line per cell: remove the file from the run directory "
            "and resume the run (--k2-resume) to re-run its cells, or start a new run") from None


def read_journal(path: Path) -> Iterator[CellRecord]:
    """The records of one journal file; a torn last line (a killed writer) is skipped."""
    lines = _lines(path)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            if number >= len(lines) - 1:
                continue  # the line a killed worker was writing
            raise ResultsError(
                f"{path}:{number}: not a JSON line; the journal is damaged: delete the line "
                "and resume the run (--k2-resume) to re-run its cell, or start a new run"
            ) from None
        yield CellRecord.from_json(data, f"{path}:{number}")


def read_run(run_dir: Path) -> list[CellRecord]:
    """Every record of a run directory, the latest per test id (resume re-runs replace)."""
    paths = sorted(run_dir.glob(JOURNAL_GLOB))
    return latest(rec for path in paths for rec in read_journal(path))


def latest(records: Iterable[CellRecord]) -> list[CellRecord]:
    """The last-finished record of each test id (ties: the later one), ordered by cell id."""
    by_id: dict[str, CellRecord] = {}
    for rec in records:
        old = by_id.get(rec.nodeid)
        if old is None or rec.finished >= old.finished:
            by_id[rec.nodeid] = rec
    return sorted(by_id.values(), key=lambda r: r.cell_id or r.nodeid)
