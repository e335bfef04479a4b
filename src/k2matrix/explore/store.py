"""What an exploration leaves in ``results/<run-id>/``:

- ``explore.json``: the report (what ``--format json`` prints);
- ``counterexamples.json``: every violating workload as a replayable cell (a cells file,
  :mod:`k2matrix.results.cell_files`: id, axis values, data shape and seed, with the property,
  the metric, the bound and whether it was confirmed), which ``k2matrix run --cell ID``
  re-measures;
- ``hypothesis/``: the Hypothesis example database of the search. A new exploration of the
  same property copies the databases of earlier ones into its own, so Hypothesis replays
  known counterexamples first;
- ``examples/``: one run directory per measured example; ``confirm/``: the trials;
- ``explore.png``: the metric over the two axes that moved it most.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from hypothesis.database import DirectoryBasedExampleDatabase

from k2matrix.cell import Cell
from k2matrix.errors import K2Error, ResultsError
from k2matrix.results.cell_files import read_entries, write_cells
from k2matrix.results.jsonfile import read_json, write_json_atomic

__all__ = ["COUNTEREXAMPLES", "REPORT", "find_cell", "new_run_dir", "open_database",
           "write_counterexamples", "write_report"]

REPORT, COUNTEREXAMPLES, DATABASE = "explore.json", "counterexamples.json", "hypothesis"


def new_run_dir(results: Path, prop: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = results / f"{stamp}-explore-{prop}"
    n = 1
    while run_dir.exists():
        n += 1
        run_dir = results / f"{stamp}-explore-{prop}-{n}"
    run_dir.mkdir(parents=True)
    return run_dir


def earlier_runs(results: Path, prop: str, exclude: Path | None = None) -> list[Path]:
    """Earlier explorations of ``prop`` under ``results`` (oldest first)."""
    found = []
    for report in sorted(results.glob(f"*/{REPORT}")):
        if exclude is not None and report.parent == exclude:
            continue
        try:
            doc = read_json(report, "")
        except ResultsError:
            continue  # a damaged report is not a reason to refuse a new exploration
        if isinstance(doc, dict) and doc.get("property") == prop:
            found.append(report.parent)
    return found


def open_database(run_dir: Path, earlier: list[Path]) -> DirectoryBasedExampleDatabase:
    """This run's example database, seeded with the databases of ``earlier`` runs."""
    target = run_dir / DATABASE
    for prior in earlier:
        if (prior / DATABASE).is_dir():
            shutil.copytree(prior / DATABASE, target, dirs_exist_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    return DirectoryBasedExampleDatabase(str(target))


def write_counterexamples(run_dir: Path, cells: list[Cell],
                          extra: dict[str, dict[str, Any]]) -> Path:
    return write_cells(run_dir / COUNTEREXAMPLES, cells, extra)


def write_report(run_dir: Path, report: dict[str, Any]) -> Path:
    path = run_dir / REPORT
    write_json_atomic(path, report)
    return path


def find_cell(results: Path, cell_id: str) -> tuple[Cell, Path]:
    """A written counterexample by id, the newest first, and the file it came from."""
    files = sorted(results.glob(f"*/{COUNTEREXAMPLES}"), key=lambda p: p.stat().st_mtime,
                   reverse=True)
    known: list[str] = []
    for path in files:
        try:
            entries = read_entries(path)
        except ResultsError:
            continue
        for entry in entries:
            if entry["cell"]["id"] == cell_id:
                return Cell.from_dict(entry["cell"]), path
            known.append(str(entry["cell"]["id"]))
    hint = f"; known: {', '.join(known[:8])}" if known else ""
    raise K2Error(f"--cell {cell_id}: no counterexample with this id in {results}/*/"
                  f"{COUNTEREXAMPLES}{hint}; run k2matrix explore first, or pass --results "
                  "DIR where it wrote them")
