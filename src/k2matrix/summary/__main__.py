"""``python -m k2matrix.summary RUN [--baseline RUN] [--format ...]``: ``k2matrix summary``
(:mod:`k2matrix.commands.summary`) without the console script."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from k2matrix.cli import main as k2matrix

    return k2matrix(["summary", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
