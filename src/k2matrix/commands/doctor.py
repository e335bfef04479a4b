"""``k2matrix doctor [--matrix PATH] [--profile NAME]``: the preflight of the backends a
profile's cells need (:mod:`k2matrix.tools.doctor`), one line per check, the skipped ones
with the reason; exit 2 naming the first failed service and its fix."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from k2matrix.commands.arguments import add_matrix, add_profile
from k2matrix.commands.base import Command
from k2matrix.errors import K2Error

if TYPE_CHECKING:
    from k2matrix.tools.doctor import Check


@dataclass(frozen=True)
class DoctorValues:
    matrix: Path
    profile: str


class DoctorCommand(Command[DoctorValues, "list[Check]"]):
    name = "doctor"
    help = "preflight: check the backends a profile's cells need"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_matrix(parser)
        add_profile(parser)

    def values(self, args: argparse.Namespace) -> DoctorValues:
        return DoctorValues(Path(args.matrix), args.profile)

    def run(self, values: DoctorValues) -> list[Check]:
        from k2matrix.tools.doctor import check_matrix

        return check_matrix(values.matrix, values.profile)

    def render(self, result: list[Check], fmt: str) -> str:
        lines = [check.line() for check in result]
        ran = [c for c in result if not c.skipped]
        skipped = [c.service for c in result if c.skipped]
        if all(check.ok for check in ran):
            note = f" ({len(skipped)} skipped: {', '.join(skipped)})" if skipped else ""
            lines.append(f"doctor: all {len(ran)} checks passed{note}")
        return "".join(f"{line}\n" for line in lines)

    def finish(self, result: list[Check], values: DoctorValues) -> int:
        from k2matrix.tools.doctor import failure

        problem = failure(result)
        if problem is not None:
            raise K2Error(problem)
        return 0
