"""The one shape of a ``k2matrix`` command (asv's ``Command``): a name and a help line, its
arguments (:meth:`Command.add_arguments`, from the shared groups of :mod:`.arguments`),
the parsed namespace turned into plain typed values (:meth:`Command.values`), the work on
those values returning a result object (:meth:`Command.run`), the result rendered in the
``--format`` asked for and written to stdout or the ``--out`` file (:meth:`Command.render`,
:meth:`Command.headline`), and what follows the output: side files, notes, the exit code
(:meth:`Command.finish`). Bad input anywhere is a K2Error, which ``k2matrix.cli`` turns
into its one message and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from k2matrix.commands.arguments import add_format, add_out
from k2matrix.options import check_writable, write_text

V = TypeVar("V")  # a command's plain values
R = TypeVar("R")  # what its run returns

EXIT_OK, EXIT_USAGE = 0, 2


@dataclass(frozen=True)
class Output:
    """Where a command's output goes: its format, and stdout or the ``--out`` file."""

    format: str = "table"
    out: Path | None = None
    out_text: str = ""  # --out as written


class Command(ABC, Generic[V, R]):
    """A subcommand. Subclasses set ``name`` and ``help`` (and ``description``, ``epilog``,
    ``formats`` for ``--format``, ``writes_out`` for ``--out FILE``, ``passes_unknown``
    when the arguments k2matrix does not know go on to pytest)."""

    name: ClassVar[str]
    help: ClassVar[str]
    description: ClassVar[str | None] = None
    epilog: ClassVar[str | None] = None  # shown at the end of --help
    formats: ClassVar[tuple[str, ...]] = ()  # --format's choices, the first the default
    writes_out: ClassVar[bool] = False  # --out FILE
    passes_unknown: ClassVar[bool] = False  # unknown arguments land in the values' extra

    def setup(self, parser: argparse.ArgumentParser) -> None:
        """Every argument of the command on its parser."""
        self.add_arguments(parser)
        if self.formats:
            add_format(parser, self.formats)
        if self.writes_out:
            add_out(parser)
        parser.set_defaults(handler=self, extra=[])

    @abstractmethod
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The command's own arguments (``--format`` and ``--out`` come from the class)."""

    @abstractmethod
    def values(self, args: argparse.Namespace) -> V:
        """The parsed namespace as the plain values :meth:`run` takes; bad combinations
        and paths that cannot be written are refused here, before any work."""

    @abstractmethod
    def run(self, values: V) -> R:
        """The work; its result."""

    def render(self, result: R, fmt: str) -> str:
        """The result as text in ``fmt`` (ending in a newline; empty for none)."""
        return ""

    def headline(self, result: R, fmt: str, text: str) -> str:
        """What stdout gets when ``--out`` takes the rendered ``text``."""
        return text.removesuffix("\n")

    def finish(self, result: R, values: V) -> int:
        """After the output: side files, notes on stderr, the exit code (a K2Error for a
        failure that has a fix)."""
        return EXIT_OK

    def output(self, args: argparse.Namespace) -> Output:
        fmt: str = args.format if self.formats else "table"
        if not (self.writes_out and args.out):
            return Output(fmt)
        return Output(fmt, check_writable("--out", args.out), args.out)

    def __call__(self, args: argparse.Namespace) -> int:
        output = self.output(args)
        values = self.values(args)
        result = self.run(values)
        text = self.render(result, output.format)
        if output.out is None:
            sys.stdout.write(text)
        else:
            write_text(output.out, text)
            print(self.headline(result, output.format, text))
            print(f"Wrote {output.out_text}")
        sys.stdout.flush()
        return self.finish(result, values)
