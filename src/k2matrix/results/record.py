"""One finished cell: :class:`CellRecord`, the line the journal holds for it.

The JSON form (``to_json``/``from_json``, which mirror each other) keeps the keys of format
version 1, so every run directory written so far still reads::

    {"format_version": 1, "nodeid", "cell", "status", "error", "worker", "pid",
     "started", "finished", "benchmark", "overhead_s", "host"}

``cell`` is ``Cell.to_dict()`` (null in a crash record), ``benchmark`` a pytest-benchmark
benchmark dict with its raw rounds (null for a cell without timings), ``overhead_s``
k2matrix's own cost for the cell (absent when not measured), ``host`` the host the cell ran
on (:mod:`k2matrix.results.hosts`; absent in a crash record and in lines written before
hosts were recorded). ``from_json`` checks the shape
of each key and raises :class:`ResultsError` naming where the line came from.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from k2matrix.errors import ResultsError
from k2matrix.results import FORMAT_VERSION

PASSED, FAILED, ERROR, SKIPPED, CRASHED = "passed", "failed", "error", "skipped", "crashed"
# outside what the implementation under test declares it supports: neither failed nor
# passed, never in the verdict (a skip whose reason starts with "not_applicable: ")
NOT_APPLICABLE = "not_applicable"
STATUSES = (PASSED, FAILED, ERROR, SKIPPED, CRASHED, NOT_APPLICABLE)
NOT_RUN = (SKIPPED, NOT_APPLICABLE)  # statuses of cells that neither passed nor failed


def check_version(version: Any, where: str, what: str) -> None:
    """Refuse a ``format_version`` this k2matrix does not read (``where`` names the file)."""
    if type(version) is not int or version != FORMAT_VERSION:
        raise ResultsError(
            f"{where}: {what} format_version {version!r} is not supported (this k2matrix "
            f"reads version {FORMAT_VERSION}); a newer k2matrix wrote it: upgrade k2matrix "
            "(pip install -U k2matrix) to read it")


@dataclass
class CellRecord:
    """A cell's outcome: its test id, cell, status, error text, who ran it, when, and its
    timing (a pytest-benchmark benchmark dict) when it passed."""

    nodeid: str
    status: str
    cell: dict[str, Any] | None = None
    error: str | None = None
    worker: str | None = None
    pid: int | None = None
    started: float = 0.0
    finished: float = 0.0
    benchmark: dict[str, Any] | None = None
    overhead_s: float | None = None
    host: str | None = None  # where it ran (k2matrix.results.hosts.host_name)

    @property
    def cell_id(self) -> str | None:
        """The cell's id (None for a crash record, which knows only the test id)."""
        value = (self.cell or {}).get("id")
        return str(value) if value is not None else None

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @classmethod
    def crashed(cls, nodeid: str, error: str, at: float | None = None) -> CellRecord:
        """The record of a test whose worker died running it (only its test id is known)."""
        when = time.time() if at is None else at
        return cls(nodeid=nodeid, status=CRASHED, error=error, started=when, finished=when)

    def to_json(self) -> dict[str, Any]:
        """The journal line's object (``from_json`` reads it back to an equal record)."""
        out: dict[str, Any] = {
            "format_version": FORMAT_VERSION, "nodeid": self.nodeid, "cell": self.cell,
            "status": self.status, "error": self.error, "worker": self.worker,
            "pid": self.pid, "started": self.started, "finished": self.finished,
            "benchmark": self.benchmark,
        }
        if self.overhead_s is not None:
            out["overhead_s"] = self.overhead_s
        if self.host is not None:
            out["host"] = self.host
        return out

    @classmethod
    def from_json(cls, data: Any, where: str) -> CellRecord:
        """A record from its JSON object; ``where`` (``file:line``) names it in errors."""
        if not isinstance(data, Mapping):
            _bad(where, f"a journal line must be a JSON object, found {type(data).__name__}")
        check_version(data.get("format_version"), where, "journal")
        nodeid = data.get("nodeid")
        if not isinstance(nodeid, str) or not nodeid:
            _bad(where, f"nodeid = {nodeid!r}: must be the test id (a non-empty string)")
        status = data.get("status")
        if status not in STATUSES:
            _bad(where, f"status = {status!r}: must be one of {', '.join(STATUSES)}")
        return cls(
            nodeid=nodeid, status=str(status),
            cell=_optional(data, "cell", dict, where),
            error=_optional(data, "error", str, where),
            worker=_optional(data, "worker", str, where),
            pid=_optional(data, "pid", int, where),
            started=_seconds(data, "started", where),
            finished=_seconds(data, "finished", where),
            benchmark=_benchmark(data.get("benchmark"), where),
            overhead_s=_seconds(data, "overhead_s", where) if data.get("overhead_s")
            is not None else None,
            host=_optional(data, "host", str, where),
        )


def _bad(where: str, problem: str) -> NoReturn:
    raise ResultsError(
        f"{where}: not a k2matrix journal record: {problem}; the line is damaged or was not "
        "written by k2matrix: delete it and resume the run (--k2-resume) to re-run its cell, "
        "or start a new run")


def _optional(data: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        _bad(where, f"{key} = {value!r}: must be a {_NAMES[kind]} or null")
    return value


_NAMES: dict[type, str] = {dict: "JSON object", str: "string", int: "whole number"}


def _seconds(data: Mapping[str, Any], key: str, where: str) -> float:
    value = data.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value):
        _bad(where, f"{key} = {value!r}: must be a number of seconds")
    return float(value)


def _benchmark(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        _bad(where, f"benchmark must be a pytest-benchmark benchmark object or null, found "
                    f"{type(value).__name__}")
    if not isinstance(value.get("stats"), dict):
        _bad(where, "benchmark has no \"stats\" object")
    if not isinstance(value.get("extra_info", {}), dict):
        _bad(where, "benchmark.extra_info must be an object")
    return value
