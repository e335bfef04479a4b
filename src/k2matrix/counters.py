"""Counters of the work a cell does besides its time: requests, batches, files, bytes.

Time and instruction counts cannot see work done in another process (a broker, an S3
server) or in the kernel; counting what was asked of them can. A component adds to a
counter where the work happens (``add("parquet.files")``); the plugin takes a
:func:`snapshot` before and after every timed round and records, per cell, the mean over
its timed rounds of each counter that moved (``extra_info.counters``: "per round", which is
"per commit" for an append and "per query" for a query).

Besides the counters components add, every snapshot holds the process's own I/O as the
kernel counts it (``/proc/self/io``, all threads): ``process.read_chars`` and
``process.write_chars`` (bytes passed to read/write calls, page cache included),
``process.read_syscalls`` and ``process.write_syscalls``, ``process.read_bytes`` and
``process.write_bytes`` (what reached the storage layer). Reading the file costs one read
call of its own in every snapshot, the same in every round.

Names are ``area.what`` in lower case; the unit is the last word (``*_bytes``, or a count).
Counters are process-wide and thread-safe; they only grow.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

_PROC_IO = Path("/proc/self/io")
_PROC_NAMES = {"rchar": "process.read_chars", "wchar": "process.write_chars",
               "syscr": "process.read_syscalls", "syscw": "process.write_syscalls",
               "read_bytes": "process.read_bytes", "write_bytes": "process.write_bytes"}
_totals: dict[str, float] = {}
_lock = threading.Lock()


def add(name: str, amount: float = 1.0) -> None:
    """Count ``amount`` more of ``name`` in this process."""
    with _lock:
        _totals[name] = _totals.get(name, 0.0) + amount


def process_io() -> dict[str, float]:
    """This process's I/O counters from ``/proc/self/io`` (empty where the kernel has none)."""
    try:
        text = _PROC_IO.read_text()
    except OSError:
        return {}
    out: dict[str, float] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        name = _PROC_NAMES.get(key.strip())
        if name is not None and value.strip().isdigit():
            out[name] = float(value)
    return out


def snapshot() -> dict[str, float]:
    """Every counter's total so far, the process's I/O included."""
    with _lock:
        out = dict(_totals)
    out.update(process_io())
    return out


def delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """What each counter added between two snapshots (a counter absent before started at
    0)."""
    return {name: value - before.get(name, 0.0) for name, value in after.items()}


def per_round(rounds: list[dict[str, float]]) -> dict[str, float]:
    """The mean of each counter over ``rounds`` (each a :func:`delta`), for the counters
    that moved in any of them; a counter missing from a round counts 0 there."""
    if not rounds:
        return {}
    names = sorted({n for r in rounds for n, v in r.items() if v})
    return {n: sum(r.get(n, 0.0) for r in rounds) / len(rounds) for n in names}
