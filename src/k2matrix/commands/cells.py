"""``k2matrix cells [--matrix PATH] [--profile NAME] [-k EXPR] [--format table|json]``: a
profile's cells, with their axes (json: also each cell's seed, whether it is slow, and its
targets). ``-k`` keeps the cells whose id matches EXPR: pytest's -k syntax over the id's
dash-separated words (:func:`k2matrix.options.keyword_matcher`), so ``-k b100`` keeps
``…-b100`` and not ``…-b10000``."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k2matrix.commands.arguments import add_matrix, add_profile
from k2matrix.commands.base import Command
from k2matrix.options import keyword, keyword_matcher

if TYPE_CHECKING:
    from k2matrix.cell import Cell


@dataclass(frozen=True)
class CellsValues:
    matrix: Path
    profile: str
    keyword: str | None = None


@dataclass(frozen=True)
class CellsResult:
    matrix: Path
    profile: str
    cells: list[Cell]
    targets: dict[str, list[str]]  # cell id -> the names of its targets
    keyword: str | None = None
    in_profile: int = 0  # the profile's cells before -k
    # (cell id, why): the cells that can never run on the configured backends (not planned)
    unplanned: list[tuple[str, str]] = field(default_factory=list)


class CellsCommand(Command[CellsValues, CellsResult]):
    name = "cells"
    help = "list the cells of a profile"
    formats = ("table", "json")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_matrix(parser)
        add_profile(parser)
        parser.add_argument("-k", dest="keyword", type=keyword, default=None, metavar="EXPR",
                            help="only the cells whose id matches EXPR: pytest's -k syntax "
                                 "(and, or, not, parentheses), each name matching whole "
                                 "dash-separated words of the id (-k b100 matches "
                                 "writer-append-v2-b100, not …-b10000; -k append-v2 works)")

    def values(self, args: argparse.Namespace) -> CellsValues:
        return CellsValues(Path(args.matrix), args.profile, args.keyword)

    def run(self, values: CellsValues) -> CellsResult:
        from k2matrix.matrix import load_matrix

        matrix = load_matrix(values.matrix)
        every = matrix.cells(values.profile)
        cells = every
        unplanned = [(c.id, why) for c, why in matrix.unplanned(values.profile)]
        if values.keyword is not None:
            matches = keyword_matcher(values.keyword)
            cells = [c for c in every if matches(c.id)]
            unplanned = [(i, why) for i, why in unplanned if matches(i)]
        return CellsResult(values.matrix, values.profile, cells,
                           {c.id: [t.name for t in matrix.targets_for(c)] for c in cells},
                           values.keyword, len(every), unplanned)

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
        selected = (f" matching -k {result.keyword!r} (of {result.in_profile})"
                    if result.keyword is not None else "")
        not_planned = ([f"{len(result.unplanned)} cells not planned: they can never run on "
                        "the configured backends"] +
                       [f"  {cell_id}: {why}" for cell_id, why in result.unplanned]
                       if result.unplanned else [])
        return "\n".join([*lines, "", f"{len(cells)} cells{selected} in profile "
                                      f"{result.profile!r} of {result.matrix}",
                           *not_planned]) + "\n"
