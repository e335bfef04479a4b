"""The pytest command of a sweep: the one place it is built.

A :class:`SweepCommand` holds the plain values of one run of the benchmark suites (the
suites, the matrix, the profile or cells, where the results go, the trial it is, the
workers, the clock …) and turns them into the arguments of ``pytest.main``
(:meth:`SweepCommand.main_args`, ``k2matrix run`` and explore's examples, in this process)
or the argv of a fresh process (:meth:`SweepCommand.argv`, a trial of ``--k2-trials``, a
side of ``k2matrix ab``, explore's confirming trials, and the session re-run under
callgrind for ``--k2-clock instructions``, :mod:`k2matrix.counting.launch`).

A sweep of the suites always runs with ``--benchmark-only``, without pytest's cache and
without the assertion-rewrite warning (:data:`FIXED`). A session run again (a trial, the
counted re-run) keeps its own arguments instead (``session``) and is given only what differs
(the trial's identity, callgrind in front).

The options come in one order: the suites or the session, what is measured, the fixed flags,
where the results go and which trial this is, how it is measured, the selection and the
workers, and last what the user passed through (so a value given there wins over one set
here).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from k2matrix.cell import derive_seed
from k2matrix.counting import launch as counting
from k2matrix.results.folding import trial_dir

__all__ = ["FIXED", "TRIAL_OPTIONS", "SweepCommand", "child_args", "order_seed"]

FIXED = ("--benchmark-only", "-p", "no:cacheprovider",
         # a process that imported k2matrix before pytest could rewrite its plugin's asserts
         "-W", "ignore::pytest.PytestAssertRewriteWarning")
# what the parent decides anew for each trial (with a value, as "--opt=V" or "--opt V")
TRIAL_OPTIONS = ("--k2-trials", "--k2-run-id", "--k2-results", "--k2-trial",
                 "--k2-order-seed")


def child_args(args: Sequence[str]) -> list[str]:
    """An invocation's arguments without the options each trial is given anew
    (:data:`TRIAL_OPTIONS`): the ``session`` of a trial's command."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in TRIAL_OPTIONS:
            skip = True
            continue
        if any(arg.startswith(f"{opt}=") for opt in TRIAL_OPTIONS):
            continue
        out.append(arg)
    return out


def order_seed(run_id: str, trial: int) -> int:
    """The shuffle seed of one trial: new for each trial, the same for each side of an A/B
    (so trial *i* of both sides runs its cells in one order)."""
    return derive_seed(trial, run_id)


@dataclass(frozen=True)
class SweepCommand:
    """One run of the benchmark suites through pytest, as plain values.

    Either a sweep of the suites (``suites`` and ``matrix``, with a ``profile`` or a
    ``cells`` file) or a ``session`` run again with its own arguments; the rest applies to
    both. ``None`` (and ``clock`` wall) adds nothing: pytest's or the plugin's default
    holds.
    """

    suites: Path | None = None  # the benchmark suites (a folder or a file)
    matrix: Path | None = None
    profile: str | None = None
    cells: Path | None = None  # a cells file (--k2-cells) instead of the profile's cells
    session: tuple[str, ...] | None = None  # a session's own arguments, run again
    python: str = sys.executable  # the interpreter of a fresh process
    quiet: bool = False  # -q
    results: Path | None = None  # the results folder (--k2-results)
    run_id: str | None = None  # the run directory's name in it (--k2-run-id)
    trials: int | None = None  # --k2-trials N: the session is run N times, fresh processes
    trial: tuple[int, int] | None = None  # (k, n): this process is trial k of n
    order_seed: int | None = None  # the cells run in an order shuffled by this seed
    workdir: Path | None = None  # the dataset cache (--k2-workdir)
    clock: str = "wall"  # --k2-clock
    min_rounds: int | None = None  # --benchmark-min-rounds
    keyword: str | None = None  # -k
    workers: str | None = None  # -n: pytest-xdist workers (a number or auto)
    pytest_args: tuple[str, ...] = ()  # passed through to pytest, last
    callgrind_dir: Path | None = None  # counted: run under callgrind, its files here

    def __post_init__(self) -> None:
        if self.session is None:
            if self.suites is None or self.matrix is None:
                raise ValueError("a sweep command needs the suites and the matrix (or a "
                                 "session to run again)")
        elif any(v is not None for v in (self.suites, self.matrix, self.profile,
                                          self.cells)) or self.quiet:
            raise ValueError("a session run again keeps its own suites, matrix, profile, "
                             "cells and verbosity; give them to it, not beside it")
        if self.trials is not None and self.trials < 1:
            raise ValueError(f"trials: {self.trials}; a run has 1 trial or more")

    def main_args(self) -> list[str]:
        """The arguments of ``pytest.main`` (those after ``python -m pytest``)."""
        out = list(self.session) if self.session is not None else self._sweep()
        if self.results is not None:
            out.append(f"--k2-results={self.results}")
        if self.run_id is not None:
            out.append(f"--k2-run-id={self.run_id}")
        if self.trials is not None:
            out.append(f"--k2-trials={self.trials}")
        if self.trial is not None:
            out.append(f"--k2-trial={self.trial[0]}/{self.trial[1]}")
        if self.order_seed is not None:
            out.append(f"--k2-order-seed={self.order_seed}")
        if self.workdir is not None:
            out.append(f"--k2-workdir={self.workdir}")
        if self.clock != "wall":  # the default; an older k2matrix may not know the option
            out.append(f"--k2-clock={self.clock}")
        if self.min_rounds is not None:
            out.append(f"--benchmark-min-rounds={self.min_rounds}")
        if self.keyword:
            out += ["-k", self.keyword]
        given_tx = any(a == "--tx" or a.startswith("--tx=") for a in self.pytest_args)
        if self.workers is not None or given_tx:  # --tx: workers on other hosts
            if self.workers is not None:
                out += ["-n", self.workers]
            if not any(a == "--dist" or a.startswith("--dist=") for a in self.pytest_args):
                # cells differ in length by 1000x: stealing keeps both workers busy to the
                # end (smoke -n 2: workers' busy time 51.7 s vs 56.6 s with load, 55.5 s
                # each here)
                out += ["--dist", "worksteal"]
        return out + list(self.pytest_args)

    def _sweep(self) -> list[str]:
        out = [str(self.suites), f"--k2-matrix={self.matrix}"]
        if self.profile is not None:
            out.append(f"--k2-profile={self.profile}")
        if self.cells is not None:
            out.append(f"--k2-cells={self.cells}")
        out += FIXED
        if self.quiet:
            out.append("-q")
        return out

    def argv(self) -> list[str]:
        """The argv of a fresh process: ``python -m pytest`` and :meth:`main_args`, under
        callgrind when counted (:func:`k2matrix.counting.launch.command`)."""
        cmd = [self.python, "-m", "pytest", *self.main_args()]
        return cmd if self.callgrind_dir is None else counting.command(cmd, self.callgrind_dir)

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """The environment of the fresh process: ``base``, and when counted the pinned
        settings and the dump folder (:func:`k2matrix.counting.launch.environment`)."""
        if self.callgrind_dir is None:
            return dict(base)
        return counting.environment(base, self.callgrind_dir)

    def for_trial(self, run_dir: Path, trial: int, trials: int,
                  seed_key: str | None = None) -> SweepCommand:
        """This command as trial ``trial`` of ``trials`` of the run in ``run_dir``: its
        results in the trial's directory (``run_dir/trials/tNN``), its cells in the trial's
        order (:func:`order_seed` of ``seed_key``, by default the run's name; an A/B gives
        both sides its own, so that trial *i* of each runs the cells in one order)."""
        folder = trial_dir(run_dir, trial)
        key = run_dir.name if seed_key is None else seed_key
        return replace(self, results=folder.parent, run_id=folder.name, trial=(trial, trials),
                       order_seed=order_seed(key, trial))
