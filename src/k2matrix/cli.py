"""The ``k2matrix`` command: its parser built from the commands (:mod:`k2matrix.commands`,
one module each, where each command's arguments and output are), then one way out of bad
input: a message on stderr starting ``k2matrix: `` that names the problem and the fix,
exit code 2, no traceback. Ctrl-C and SIGTERM stop the work and keep what was measured
(exit 130).

``k2matrix cells|run|merge|summary|compare|ab|noise|explore|doctor --help`` for each;
``k2matrix --version``.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from k2matrix import __version__
from k2matrix.commands import COMMANDS
from k2matrix.commands.arguments import PREFIX
from k2matrix.commands.base import EXIT_USAGE
from k2matrix.errors import K2Error

EXIT_INTERRUPTED = 130


def refuse(message: str) -> int:
    """The one way k2matrix reports bad input: the message on stderr; exit code 2."""
    print(f"{PREFIX}{message}", file=sys.stderr)
    return EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own errors: the same way out
        self.print_usage(sys.stderr)
        raise SystemExit(refuse(message))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="k2matrix", description="K2 workload matrix runner")
    parser.add_argument("--version", action="version", version=f"k2matrix {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.setup(sub.add_parser(command.name, help=command.help,
                                     description=command.description,
                                     epilog=command.epilog))
    return parser


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Inside, SIGTERM (``timeout``, a CI runner's limit, ``kill``) takes the way out of
    Ctrl-C: a running trial is stopped and what was measured is folded and kept (by default
    SIGTERM ends the process at once and leaves the trial's pytest running). Only in the
    main thread, where Python delivers signals; the earlier handler comes back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    named = {c.name: c for c in COMMANDS}
    if argv and argv[0] in named and named[argv[0]].passes_unknown:
        args, extra = parser.parse_known_args(argv)  # what k2matrix does not know: pytest's
        args.extra = extra
    else:
        args = parser.parse_args(argv)
    handler: Any = args.handler
    try:
        with terminate_as_interrupt():
            return int(handler(args))
    except K2Error as exc:
        return refuse(str(exc))
    except KeyboardInterrupt:
        print(f"{PREFIX}interrupted; finished cells are kept in the journal", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
