"""The instruction clock: the instructions a region executes, counted by valgrind's
callgrind with collection switched on only inside the region.

The process must run under ``valgrind --tool=callgrind --instr-atstart=no`` with its dump
files in ``$K2_CALLGRIND_DIR`` (:mod:`k2matrix.counting.launch` starts it so). A region is
``start()`` ... ``stop()``: ``start`` zeroes callgrind's counts and switches instrumentation
on; ``stop`` switches it off, asks callgrind to dump the counts since the zero (the file
``cg.<pid>.<n>``, written at once) and returns the ``totals:`` line of that dump, then
deletes the file. Outside valgrind the client requests do nothing; :func:`running` says so,
and :class:`InstructionClock` refuses to count rather than return a figure that is not one.

Every thread of the process is counted (valgrind runs them one at a time): work spread over
thread pools makes counts vary, which is why the launcher pins them to one thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

from k2matrix.errors import K2Error

DIR_VARIABLE = "K2_CALLGRIND_DIR"
HELPER = "k2matrix.counting._callgrind"
INSTALL_STEP = "bash scripts/bootstrap.sh"
_TAIL_BYTES = 4096  # the end of a dump: its totals line


class CountingError(K2Error):
    """Instructions cannot be counted here: valgrind or the helper missing, or a dump that
    cannot be read. Names what to install or run."""


def helper() -> ModuleType | None:
    """The compiled client-request helper, or None when the install step did not build it."""
    try:
        from k2matrix.counting import _callgrind  # type: ignore[attr-defined]
    except ImportError:
        return None
    module: ModuleType = _callgrind
    return module


def running() -> bool:
    """Whether this process runs under valgrind (False without the helper)."""
    module = helper()
    return module is not None and bool(module.running())


def read_totals(path: Path) -> int:
    """The ``totals:`` figure of a callgrind dump (the first event: instructions).

    Only the dump's tail is read: the ``totals:`` line closes the dump, and a lap inside a
    region should allocate as little as it can (the region goes on after it)."""
    try:
        with path.open("rb") as dump:
            size = dump.seek(0, os.SEEK_END)
            dump.seek(max(0, size - _TAIL_BYTES))
            tail = dump.read()
    except OSError as exc:
        raise CountingError(f"{path}: cannot read the callgrind dump ({exc.strerror or exc})"
                            ) from None
    for line in reversed(tail.split(b"\n")):
        if line.startswith(b"totals:"):
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                return int(fields[1])
    raise CountingError(f"{path}: no totals line in the callgrind dump; was valgrind "
                        "started with --tool=callgrind?")


class InstructionClock:
    """Counts regions of this process. ``start()``/``stop()`` do not nest: a second
    ``start()`` while counting is refused. ``lap()`` reads the count so far without ending
    the region (what :mod:`k2matrix.tools.slowdown` sizes its extra work by)."""

    def __init__(self, out_dir: Path | None = None) -> None:
        module = helper()
        if module is None:
            raise CountingError(f"the counting helper {HELPER} is not built: run "
                                f"`{INSTALL_STEP}` (it compiles it against valgrind/"
                                "callgrind.h, from the valgrind package)")
        if not module.running():
            raise CountingError("instructions are counted only under valgrind: run through "
                                "`k2matrix run --clock instructions` or pytest --k2-clock "
                                "instructions, which start valgrind themselves")
        folder = out_dir or Path(os.environ.get(DIR_VARIABLE, ""))
        if not str(folder) or not folder.is_dir():
            raise CountingError(f"{DIR_VARIABLE} must name the folder of callgrind's dump "
                                "files (--callgrind-out-file=DIR/cg.%p); start the process "
                                "through k2matrix.counting.launch")
        self._module = module
        self._dir = folder
        self._pid = os.getpid()
        self._dumps = 0
        self._carried = 0  # the region's instructions before its last lap
        self.counting = False

    def start(self) -> None:
        if self.counting:
            raise CountingError("a counted region was started inside another one")
        self.counting = True
        self._carried = 0
        self._module.start()

    def stop(self) -> int:
        """Stop counting; the region's instructions."""
        self._module.stop()
        if not self.counting:
            return 0
        self.counting = False
        count = self._carried + self._dump()
        self._carried = 0
        return count

    def lap(self, keep: bool = True) -> int:
        """The instructions since the region's start or its last lap; counting goes on.
        With ``keep=False`` they are left out of the region's count (work of the harness,
        not of the region). 0 outside a region."""
        if not self.counting:
            return 0
        self._module.stop()
        count = self._dump()
        if keep:
            self._carried += count
        self._module.start()
        return count

    def _dump(self) -> int:
        self._dumps += 1
        self._module.dump(f"k2matrix-{self._dumps}")
        path = self._dir / f"cg.{self._pid}.{self._dumps}"
        count = read_totals(path)
        path.unlink(missing_ok=True)
        return count


ACTIVE: InstructionClock | None = None
"""The clock of this process's counted rounds (set by the pytest plugin under
``--k2-clock instructions``), for code that sizes work by counts."""
