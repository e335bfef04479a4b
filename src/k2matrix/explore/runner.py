"""Running drawn workloads as real cells through the suites.

- :class:`CellRunner` measures an example's cells with ``pytest.main`` in this process, once
  per example, with ``--k2-cells`` (the cells instead of a profile's) and
  ``--benchmark-min-rounds`` (fewer rounds than a sweep). The suites verify each cell as in
  any sweep; a cell that fails its verification is an outcome with ``status`` failed, never
  a figure. Running in-process pays pytest's and the client libraries' imports once, not
  per example (a fresh ``pytest`` here takes 3-5 s before its first cell).
- :func:`measure_trial` re-measures cells in a fresh process (one trial: its cells shuffled,
  the suite's own rounds): confirmation runs one per trial and compares them.

Every example keeps its own run directory (journal, meta.json, benchmarks.json) under
``<run>/examples/``, so nothing measured is lost.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from k2matrix.cell import Cell
from k2matrix.errors import K2Error
from k2matrix.explore.relation import metric_value
from k2matrix.explore.search import Outcome
from k2matrix.results.cell_files import write_cells
from k2matrix.results.journal import read_run
from k2matrix.sweep.command import SweepCommand
from k2matrix.sweep.launch import run_logged

__all__ = ["CellRunner", "example_command", "measure_trial", "suites_for"]

# an example's output is its log; the collector stays out of its rounds
_EXAMPLE_ARGS = ("--no-header", "--benchmark-disable-gc")


def suites_for(matrix_path: Path, tests: Path | None = None) -> Path:
    """The benchmark suites: ``tests`` or tests/performance beside the matrix."""
    suites = tests or matrix_path.resolve().parent / "tests" / "performance"
    if not suites.exists():
        raise K2Error(f"no benchmark suites at {suites}; pass --tests PATH (the folder of "
                      "the suites, tests/performance in the repository)")
    return suites


def example_command(suites: Path, matrix_path: Path, cells_file: Path, folder: Path,
                    run_id: str, rounds: int | None, trials: int | None = None
                    ) -> SweepCommand:
    """The command that measures the cells of ``cells_file`` into ``folder/run_id`` (with
    ``trials``: in that many fresh processes; ``rounds`` None: the suite's own rounds)."""
    return SweepCommand(suites=suites, matrix=matrix_path, cells=cells_file, quiet=True,
                        results=folder, run_id=run_id, trials=trials, min_rounds=rounds,
                        pytest_args=_EXAMPLE_ARGS)


@dataclass
class CellRunner:
    matrix_path: Path
    suites: Path
    folder: Path  # <run>/examples
    metric: str
    rounds: int = 3
    count: int = 0

    def measure(self, cells: Sequence[Cell], run_id: str | None = None) -> list[Outcome]:
        """Run ``cells`` once (``run_id``: the run directory's name; default eNNNN)."""
        import pytest

        if run_id is None:
            self.count += 1
            run_id = f"e{self.count:04d}"
        self.folder.mkdir(parents=True, exist_ok=True)
        listed = write_cells(self.folder / f"{run_id}.cells.json", cells)
        args = example_command(self.suites, self.matrix_path, listed, self.folder, run_id,
                               self.rounds).main_args()
        log = self.folder / f"{run_id}.log"
        with log.open("w", encoding="utf-8") as out, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(out):
            code = int(pytest.main(args))
        if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR,
                    pytest.ExitCode.INTERRUPTED, pytest.ExitCode.NO_TESTS_COLLECTED):
            tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-6:]
            raise K2Error(f"the suites did not run the example's cells (pytest exit {code}; "
                          f"{log}):\n  " + "\n  ".join(tail))
        return outcomes(self.folder / run_id, cells, self.metric, log)


def outcomes(run_dir: Path, cells: Sequence[Cell], metric: str, log: Path) -> list[Outcome]:
    """Each cell's metric from a run's journal (failed: its error; absent: not run)."""
    records = {r.cell_id: r for r in read_run(run_dir)} if run_dir.is_dir() else {}
    out = []
    for cell in cells:
        rec = records.get(cell.id)
        if rec is None:
            out.append(Outcome(None, "missing", f"the cell did not run; see {log}", cell.id))
        elif not rec.passed:
            error = (rec.error or rec.status).strip().splitlines()
            out.append(Outcome(None, rec.status, error[-1][:300] if error else rec.status,
                               cell.id))
        else:
            value = metric_value(rec.benchmark, metric)
            out.append(Outcome(value, "passed" if value is not None else "no_metric",
                               None if value is not None else f"no {metric} recorded",
                               cell.id))
    return out


def measure_trial(cells: Sequence[Cell], *, matrix_path: Path, suites: Path, folder: Path,
                  run_id: str, order_seed: int, metric: str, timeout_s: float = 1800
                  ) -> list[Outcome] | None:
    """One trial: ``cells`` run once in a fresh process, in an order shuffled by
    ``order_seed``, at the suite's own rounds; each cell's outcome (None: the trial ran
    longer than ``timeout_s`` and was stopped)."""
    folder.mkdir(parents=True, exist_ok=True)
    listed = write_cells(folder / f"{run_id}.cells.json", cells)
    command = replace(example_command(suites, matrix_path, listed, folder, run_id, None),
                      order_seed=order_seed)
    log = folder / f"{run_id}.log"
    with log.open("w", encoding="utf-8") as out:
        if run_logged(command.argv(), Path.cwd(), None, out, max(1.0, timeout_s)) is None:
            out.write(f"\nk2matrix explore: the trial stopped after {timeout_s:.0f} s\n")
            return None
    return outcomes(folder / run_id, cells, metric, log)
