"""A trial's progress files: what a running sweep process says about itself.

The process writes ``progress-<worker>.json`` in its run directory as each cell starts
(:func:`write_progress`: the cell, how many are done and planned); whoever launched it reads
them together once a second (:func:`read_progress`, through :mod:`k2matrix.sweep.launch`) to
show the trial, the cell, the time spent and an estimate of the time left.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

PROGRESS_GLOB = "progress-*.json"


def write_progress(run_dir: Path, worker: str, cell: str, done: int, planned: int) -> None:
    """Record that ``worker`` started ``cell`` having finished ``done`` cells of the
    ``planned`` ones of the run (best effort: progress must never fail a cell)."""
    with contextlib.suppress(OSError):
        run_dir.mkdir(parents=True, exist_ok=True)
        tmp = run_dir / f".progress-{worker}.{os.getpid()}"
        tmp.write_text(json.dumps({"cell": cell, "done": done, "planned": planned,
                                   "at": time.time()}))
        os.replace(tmp, run_dir / f"progress-{worker}.json")


def read_progress(run_dir: Path) -> dict[str, Any]:
    """Every worker's progress together: cells done (summed), planned, the newest cell."""
    merged: dict[str, Any] = {"done": 0, "planned": 0, "cell": None, "at": 0.0}
    for path in run_dir.glob(PROGRESS_GLOB):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        merged["done"] += int(data.get("done", 0))
        merged["planned"] = max(merged["planned"], int(data.get("planned", 0)))
        if float(data.get("at", 0.0)) >= merged["at"]:
            merged["cell"], merged["at"] = data.get("cell"), float(data.get("at", 0.0))
    return merged
