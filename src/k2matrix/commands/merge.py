"""``k2matrix merge DIR… --results DIR [--force]``: shards or runs combined into one run
directory (``--out DIR``, the old spelling, still works for one release, with a note)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from k2matrix.commands.arguments import add_results, given_folder
from k2matrix.commands.base import Command
from k2matrix.errors import K2Error
from k2matrix.options import check_writable


@dataclass(frozen=True)
class MergeValues:
    dirs: list[Path]
    folder: Path  # the merged run directory
    option: str  # how it was given: --results (or the deprecated --out)
    text: str  # the folder as written
    force: bool = False


@dataclass(frozen=True)
class MergeResult:
    values: MergeValues
    document: dict[str, Any]  # the merged benchmarks.json


class MergeCommand(Command[MergeValues, MergeResult]):
    name = "merge"
    help = "combine shards or runs into one run directory"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("dirs", nargs="+", help="run directories")
        add_results(parser, help="the merged run directory to write (required)",
                    folder_alias=True)
        parser.add_argument("--force", action="store_true",
                            help="merge even if the matrix, the profile, the kind of machine "
                                 "or the backends' modes differ (the output says so)")

    def values(self, args: argparse.Namespace) -> MergeValues:
        given = given_folder(args)
        if given is None:
            raise K2Error("merge: the following arguments are required: --results DIR (the "
                          "merged run directory to write)")
        option, folder = given
        check_writable(option, folder, folder=True)
        return MergeValues([Path(d) for d in args.dirs], Path(folder), option, folder,
                           args.force)

    def run(self, values: MergeValues) -> MergeResult:
        from k2matrix.results.merge import merge_dirs

        return MergeResult(values, merge_dirs(values.dirs, values.folder, force=values.force,
                                              option=values.option))

    def render(self, result: MergeResult, fmt: str) -> str:
        k2, values = result.document["k2"], result.values
        trials = k2.get("trials") or {}
        kept = f" (each cell keeps its {trials['run']} trials)" if trials.get("run") else ""
        notes = "".join(f"note: {n}\n" for n in k2.get("merge_notes") or [])
        return (f"merged {len(values.dirs)} runs into {values.text}: {k2['cells_passed']} "
                f"cells passed, {len(k2['failed'])} failed, {len(k2['cells_missing'])} "
                f"missing{kept}\n{notes}")
