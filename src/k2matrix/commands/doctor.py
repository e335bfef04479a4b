"""``k2matrix doctor [--matrix PATH]``: the preflight of every backend the matrix
configures (:mod:`k2matrix.tools.doctor`), one line per check; exit 2 naming the first
failed service and its fix."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from k2matrix.commands.arguments import add_matrix
from k2matrix.commands.base import Command
from k2matrix.errors import K2Error

if TYPE_CHECKING:
    from k2matrix.tools.doctor import Check


class DoctorCommand(Command[Path, "list[Check]"]):
    name = "doctor"
    help = "preflight: check every configured backend"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_matrix(parser)

    def values(self, args: argparse.Namespace) -> Path:
        return Path(args.matrix)

    def run(self, values: Path) -> list[Check]:
        from k2matrix.tools.doctor import check_matrix

        return check_matrix(values)

    def render(self, result: list[Check], fmt: str) -> str:
        lines = [check.line() for check in result]
        if all(check.ok for check in result):
            lines.append(f"doctor: all {len(result)} checks passed")
        return "".join(f"{line}\n" for line in lines)

    def finish(self, result: list[Check], values: Path) -> int:
        from k2matrix.tools.doctor import failure

        problem = failure(result)
        if problem is not None:
            raise K2Error(problem)
        return 0
