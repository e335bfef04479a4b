"""The cells of this run: the matrix, loaded once; the cells the run selects from it (the
profile's, or a ``--k2-cells`` file's, with ``--k2-draws`` and ``--k2-shard`` applied); and
which of pytest's test items is a cell (:func:`is_k2_cell`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from k2matrix.cell import Cell
from k2matrix.errors import K2Error, MatrixError
from k2matrix.matrix import Matrix, load_matrix
from k2matrix.plugin.identity import RunIdentity
from k2matrix.plugin.options import slow_selection
from k2matrix.results.cell_files import read_cells
from k2matrix.workload.draws import with_draws

FIXTURE = "k2_cell"  # the fixture a suite asks for its cell by


def cell_of(item: pytest.Item) -> Cell | None:
    """The cell a test item runs, or None for an item that is not a k2 cell."""
    callspec = getattr(item, "callspec", None)
    cell = callspec.params.get(FIXTURE) if callspec is not None else None
    return cell if isinstance(cell, Cell) else None


def is_k2_cell(item: pytest.Item) -> bool:
    """Whether a test item runs a cell of the matrix."""
    return cell_of(item) is not None


def wants_a_cell(item: pytest.Item) -> bool:
    """Whether a test item asks for a cell (a k2 test), whether or not it got one."""
    return FIXTURE in getattr(item, "fixturenames", ())


class RunCells:
    """The matrix and the run's cells, each found once; a bad matrix, or a bad cells file,
    stops the run with a usage error listing its problems (every time it is asked)."""

    def __init__(self, identity: RunIdentity, markexpr: str | None) -> None:
        self._identity = identity
        self._markexpr = markexpr  # -m: what it says about the slow cells
        self._matrix: Matrix | None = None
        self._error: str | None = None
        self._cells: list[Cell] | None = None

    def matrix(self) -> Matrix:
        if self._matrix is None:
            if self._error is not None:
                raise pytest.UsageError(self._error)
            try:
                self._matrix = load_matrix(self._identity.matrix_path)
            except MatrixError as exc:
                self._error = str(exc)
                raise pytest.UsageError(self._error) from None
        return self._matrix

    def include_slow(self) -> bool | None:
        """Whether the slow cells join the run, or None for the profile to decide (what
        ``-m`` says of them: :func:`k2matrix.plugin.options.slow_selection`)."""
        return slow_selection(self._markexpr, self.matrix().cases.values())

    def cells(self) -> list[Cell]:
        if self._cells is None:
            self._cells = self._select()
        return self._cells

    def _select(self) -> list[Cell]:
        identity = self._identity
        matrix = self.matrix()
        if identity.cells_file is not None:
            cells = listed_cells(identity.cells_file)
        else:
            cells = matrix.cells(identity.profile, include_slow=self.include_slow())
            if identity.draws:
                cells = with_draws(matrix, cells, identity.draws)
        if identity.shard is not None:
            index, count = identity.shard
            cells = [c for i, c in enumerate(cells) if i % count == index - 1]
        return cells


def listed_cells(path: Path) -> list[Cell]:
    """The cells of a ``--k2-cells`` file; a bad file stops the run naming it."""
    try:
        return list(read_cells(path))
    except K2Error as exc:
        raise pytest.UsageError(f"--k2-cells={path}: {exc}") from None
