"""``k2matrix cells [--matrix PATH] [--profile NAME] [--format table|json]``: a profile's
cells, with their axes (json: also each cell's seed, whether it is slow, and its
targets)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k2matrix.commands.arguments import add_matrix, add_profile
from k2matrix.commands.base import Command

if TYPE_CHECKING:
    from k2matrix.cell import Cell


@dataclass(frozen=True)
class CellsValues:
    matrix: Path
    profile: str


@dataclass(frozen=True)
class CellsResult:
    matrix: Path
    profile: str
    cells: list[Cell]
    targets: dict[str, list[str]]  # cell id -> the names of its targets


class CellsCommand(Command[CellsValues, CellsResult]):
    name = "cells"
    help = "list the cells of a profile"
    formats = ("table", "json")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_matrix(parser)
        add_profile(parser)

    def values(self, args: argparse.Namespace) -> CellsValues:
        return CellsValues(Path(args.matrix), args.profile)

    def run(self, values: CellsValues) -> CellsResult:
        from k2matrix.matrix import load_matrix

        matrix = load_matrix(values.matrix)
        cells = matrix.cells(values.profile)
        return CellsResult(values.matrix, values.profile, cells,
                           {c.id: [t.name for t in matrix.targets_for(c)] for c in cells})

    def render(self, result: CellsResult, fmt: str) -> str:
        cells = result.cells
        if fmt == "json":
            out = []
            for c in cells:
                entry: dict[str, Any] = c.axes()
                entry["seed"] = c.seed
                entry["slow"] = c.slow
                entry["targets"] = result.targets[c.id]
                out.append(entry)
            return json.dumps(out, indent=2) + "\n"
        axes = sorted({k for c in cells for k in c.params if k != "schema"})
        header = ["id", "component", "case", "schema", *axes]
        rows = [[c.id, c.component, c.case, c.schema or "-",
                 *[str(c.params.get(a, "-")) for a in axes]] for c in cells]
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
        lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip()
                 for row in [header, *rows]]
        return "\n".join([*lines, "", f"{len(cells)} cells in profile {result.profile!r} of "
                                      f"{result.matrix}"]) + "\n"
