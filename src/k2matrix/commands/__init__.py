"""The ``k2matrix`` commands, one module each, all of one shape (:class:`.base.Command`),
their shared options defined once (:mod:`.arguments`). ``k2matrix.cli`` builds its parser
from :data:`COMMANDS`, in this order."""

from __future__ import annotations

from typing import Any

from k2matrix.commands.ab import AbCommand
from k2matrix.commands.base import Command
from k2matrix.commands.cells import CellsCommand
from k2matrix.commands.compare import CompareCommand
from k2matrix.commands.doctor import DoctorCommand
from k2matrix.commands.explore import ExploreCommand
from k2matrix.commands.merge import MergeCommand
from k2matrix.commands.noise import NoiseCommand
from k2matrix.commands.run import RunCommand
from k2matrix.commands.summary import SummaryCommand

COMMANDS: tuple[Command[Any, Any], ...] = (
    CellsCommand(), RunCommand(), MergeCommand(), SummaryCommand(), CompareCommand(),
    AbCommand(), NoiseCommand(), ExploreCommand(), DoctorCommand(),
)

__all__ = ["COMMANDS", "Command"]
