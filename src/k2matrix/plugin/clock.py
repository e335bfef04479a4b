"""``--k2-clock``: what the figure of a timed round is, and the counters of every round.

- ``wall`` (the default): pytest-benchmark's own timer (``time.perf_counter``, or the
  ``--benchmark-timer`` given);
- ``cpu``: the process's CPU time (``time.process_time``): time the hypervisor steals from
  the process is not counted;
- ``instructions``: the instructions the round executes, counted by callgrind
  (:mod:`k2matrix.counting`). The session re-runs itself under valgrind with the pinned
  environment (:func:`k2matrix.counting.launch.environment`); pytest-benchmark's timer is
  :func:`instruction_timer`, so what it stores and compares (``--benchmark-save``,
  ``--benchmark-compare-fail=mean:2%``) are instruction counts. Before every round the
  garbage is collected and the collector is off during it; cells whose work happens on
  other threads or in another process (``Cell.uncounted``) are skipped with their reason;
  a suite that does not say ``warmup_rounds`` gets one uninstrumented warm-up round
  (:func:`warm_up_first`) and, where it asks ``k2_rounds``, :data:`COUNTED_ROUNDS` round
  after it: after a warm-up a count
  repeats to a fraction of a percent (what an A/A of fresh processes measures), and a
  counted round is 50-700x slower than a timed one.

Every round of every clock is wrapped (pytest-benchmark's runner, the function it calls
once per round and per warm-up): the :mod:`k2matrix.counters` are read before and after it,
outside the timed region, and the cell records the mean over its timed rounds
(:func:`take_counters`). pytest-benchmark is pinned; its ``BenchmarkFixture._make_runner``
is the one internal this relies on.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_benchmark.fixture import BenchmarkFixture

from k2matrix import counters
from k2matrix.counting import callgrind
from k2matrix.counting.callgrind import InstructionClock
from k2matrix.sweep.command import SweepCommand
from k2matrix.sweep.launch import run_attached

TIMERS = {"cpu": "time.process_time", "instructions": "k2matrix.plugin.clock.instruction_timer"}
COUNTED_ROUNDS = 1


class Rounds:
    """This process's rounds: the counted region (under instructions) and the counters of
    the current cell's rounds."""

    def __init__(self) -> None:
        self.clock: InstructionClock | None = None
        self.armed = False
        self.total = 0  # instructions of every round counted so far (the timer's reading)
        self.deltas: list[dict[str, float]] = []
        self._before: dict[str, float] = {}
        self._after: dict[str, float] | None = None  # read before callgrind's dump
        self.warm_ups = 0  # runner calls still to come that are a pedantic's warm-ups

    def begin(self) -> None:
        if self.clock is not None:
            gc.collect()
            # a warm-up runs uninstrumented (at valgrind's base speed; its figure is dropped)
            self.armed = self.warm_ups == 0
            self.warm_ups = max(0, self.warm_ups - 1)
        self._after = None
        self._before = counters.snapshot()

    def end(self) -> None:
        if self.clock is not None:
            self.armed = False
            if self.clock.counting:  # the round raised between its two timer calls
                self.clock.stop()
        after = self._after if self._after is not None else counters.snapshot()
        self.deltas.append(counters.delta(self._before, after))

    def read(self) -> float:
        """The instruction timer: the first call of a round starts counting, the second
        stops it and adds the round's count; a call outside a round changes nothing."""
        clock = self.clock
        if clock is None:
            raise RuntimeError("the instruction timer is used only under --k2-clock "
                               "instructions")
        if clock.counting:
            self._after = counters.snapshot()  # the dump's own file I/O is not the round's
            self.total += clock.stop()
        elif self.armed:
            clock.start()
        return float(self.total)


ROUNDS = Rounds()


def instruction_timer() -> float:
    """pytest-benchmark's timer under ``--k2-clock instructions``."""
    return ROUNDS.read()


def start_counting() -> None:
    """In the process that times the cells, under valgrind: the instruction clock on."""
    ROUNDS.clock = callgrind.ACTIVE = InstructionClock()


def wrap_runner() -> None:
    """Wrap pytest-benchmark's per-round runner once per process (idempotent)."""
    original: Callable[..., Any] = BenchmarkFixture._make_runner
    if getattr(original, "_k2_wrapped", False):
        return

    def make_runner(self: Any, function: Any, args: Any, kwargs: Any) -> Any:
        runner = original(self, function, args, kwargs)

        def counted(loops_range: Any, timer: Any = self._timer) -> Any:
            ROUNDS.begin()
            try:
                return runner(loops_range, timer)
            finally:
                ROUNDS.end()
        return counted

    make_runner._k2_wrapped = True  # type: ignore[attr-defined]
    BenchmarkFixture._make_runner = make_runner  # type: ignore[method-assign]


def warm_up_first() -> None:
    """Under instructions: a ``benchmark.pedantic`` that does not say ``warmup_rounds``
    runs one warm-up round (its setup too), so its first counted round is not the region's
    first call (imports, caches and a table's first append cost more: +1% to +126% here).
    Warm-ups run uninstrumented: what they warm is the program's state, not callgrind's.
    Idempotent."""
    original: Callable[..., Any] = BenchmarkFixture.pedantic
    if getattr(original, "_k2_wrapped", False):
        return

    def pedantic(self: Any, *args: Any, **kwargs: Any) -> Any:
        if ROUNDS.clock is not None:
            # a suite that says warmup_rounds itself (0 included) keeps it: its setup may
            # hand out exactly ``rounds`` inputs
            kwargs.setdefault("warmup_rounds", 1)
            ROUNDS.warm_ups = int(kwargs["warmup_rounds"] or 0)
        try:
            return original(self, *args, **kwargs)
        finally:
            ROUNDS.warm_ups = 0

    pedantic._k2_wrapped = True  # type: ignore[attr-defined]
    BenchmarkFixture.pedantic = pedantic  # type: ignore[method-assign]


def reset_counters() -> None:
    """A cell starts: forget the previous cell's rounds."""
    ROUNDS.deltas = []


def take_counters(timed_rounds: int) -> dict[str, float]:
    """The per-round mean of each counter over the cell's last ``timed_rounds`` rounds
    (its warm-ups came first)."""
    rounds = ROUNDS.deltas[-timed_rounds:] if timed_rounds > 0 else []
    return {name: round(value, 3) for name, value in counters.per_round(rounds).items()}


def rerun_counted(config: Any) -> int:
    """Run this pytest session again under callgrind, with the pinned environment, and
    return its exit code. Its dumps go to a temporary folder, removed afterwards; valgrind's
    own log is shown when the session fails."""
    out_dir = Path(tempfile.mkdtemp(prefix="k2-callgrind-"))
    command = SweepCommand(session=tuple(str(a) for a in config.invocation_params.args),
                           callgrind_dir=out_dir)
    code: int | None = None  # None: interrupted (Ctrl-C or SIGTERM stop the counted session)
    try:
        code = run_attached(command.argv(), config.invocation_params.dir,
                            command.environment(os.environ))
    finally:
        if code not in (0, 1):
            for log in sorted(out_dir.glob("valgrind.*.log")):
                text = log.read_text(errors="replace").strip()
                if text:
                    print(f"k2matrix: valgrind's log ({log.name}):\n{text[-2000:]}",
                          file=sys.stderr)
        shutil.rmtree(out_dir, ignore_errors=True)
    return code
