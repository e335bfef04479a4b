"""The plugin's per-process state, kept in ``config.stash``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from k2matrix.errors import K2Error, MatrixError
from k2matrix.matrix import Matrix, load_matrix
from k2matrix.results.cell_files import read_cells
from k2matrix.results.journal import Journal
from k2matrix.workload.draws import with_draws


@dataclass
class RunState:
    matrix_path: Path
    profile: str
    run_id: str
    run_dir: Path
    workdir: Path
    worker: str = "main"  # "main" without xdist, "gwN" in a worker, "controller"
    workers: int = 1
    shard: tuple[int, int] | None = None
    resume_passed: set[str] = field(default_factory=set)
    include_slow: bool | None = None
    trial: tuple[int, int] | None = None  # (k, n) in a trial process of --k2-trials n
    order_seed: int | None = None  # the cells run in an order shuffled by this seed
    cells_file: Path | None = None  # --k2-cells: these cells instead of the profile's
    draws: int = 0  # --k2-draws: drawn data shapes per grid cell
    clock: str = "wall"  # --k2-clock: wall, cpu or instructions
    done: int = 0  # cells this process has finished
    planned: int | None = None  # cells of the run (a trial's progress counts against it)
    matrix: Matrix | None = None
    matrix_error: str | None = None
    journal: Journal | None = None
    # this process's finished cells as CellRecord.to_json() objects: plain data, because a
    # worker hands them to the controller (pytest-xdist's workeroutput) at the session's end
    records: list[dict[str, Any]] = field(default_factory=list)
    crashed: dict[str, str] = field(default_factory=dict)
    merged_path: Path | None = None
    started: float = field(default_factory=time.time)

    def load(self) -> Matrix:
        """The matrix, loaded once; a bad matrix stops the run with its problems listed."""
        if self.matrix is None:
            if self.matrix_error is not None:
                raise pytest.UsageError(self.matrix_error)
            try:
                self.matrix = load_matrix(self.matrix_path)
            except MatrixError as exc:
                self.matrix_error = str(exc)
                raise pytest.UsageError(self.matrix_error) from None
        return self.matrix

    def cells(self) -> list[Any]:
        matrix = self.load()
        if self.cells_file is not None:
            cells = listed_cells(self.cells_file)
        else:
            cells = matrix.cells(self.profile, include_slow=self.include_slow)
            if self.draws:
                cells = with_draws(matrix, cells, self.draws)
        if self.shard is not None:
            index, count = self.shard
            cells = [c for i, c in enumerate(cells) if i % count == index - 1]
        return cells


def listed_cells(path: Path) -> list[Any]:
    """The cells of a ``--k2-cells`` file; a bad file stops the run naming it."""
    try:
        return list(read_cells(path))
    except K2Error as exc:
        raise pytest.UsageError(f"--k2-cells={path}: {exc}") from None


STATE = pytest.StashKey[RunState]()


def get_state(config: pytest.Config) -> RunState:
    return config.stash[STATE]
