"""An exploration's budget, split up front between the search, the shrinking and the
confirmation, and the ledger that spends it.

- ``--budget N`` counts *measurements*: one measurement runs an example's cells once (an
  example measured for the first time, or measured again because it violated). The search
  has the first 60% (at least one), shrinking the rest; confirmation is ``--trials`` more
  runs of the counterexample, each in a fresh process, outside N.
- ``--time S`` counts seconds of the whole run, from the start: the warm-up and the search
  until 55% of S, shrinking until 80%, confirmation until S (a trial still running at S is
  stopped; the trials finished count).
- Until a violation has repeated, the search goes on past its share: a search that finds
  nothing measures the whole budget (``--time``: up to the confirmation's share). A
  violation that repeats after the search's share leaves shrinking what remains.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Ledger", "Plan", "plan"]

SEARCH_SHARE = 0.6  # of --budget's measurements
TIME_SEARCH, TIME_SHRINK = 0.55, 0.80  # of --time, where the search and shrinking end


@dataclass(frozen=True)
class Plan:
    """The split of one budget: measurements (``units``) or seconds from the start."""

    units: int | None = None
    seconds: float | None = None
    trials: int = 0
    search_units: int = 0  # units: the search's share
    search_until: float = 0.0  # seconds: where the search's and shrinking's shares end
    shrink_until: float = 0.0

    def describe(self) -> str:
        trials = (f"then {self.trials} confirming trials in fresh processes"
                  if self.trials else "no confirmation")
        if self.units is not None:
            return (f"budget {self.units} measurements: the search {self.search_units} "
                    f"(and the rest while no violation has repeated), shrinking "
                    f"{self.units - self.search_units}; {trials} (outside the budget)")
        assert self.seconds is not None
        return (f"time {self.seconds:g} s in all: the search until {self.search_until:.0f} s "
                f"(and to {self.shrink_until:.0f} s while no violation has repeated), "
                f"shrinking until {self.shrink_until:.0f} s, {trials} until "
                f"{self.seconds:.0f} s")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"trials": self.trials, "split": self.describe()}
        if self.units is not None:
            out.update(measurements=self.units, search=self.search_units,
                       shrinking=self.units - self.search_units)
        else:
            out.update(seconds=self.seconds, search_until_s=round(self.search_until, 1),
                       shrinking_until_s=round(self.shrink_until, 1))
        return out


def plan(budget: int | None, seconds: float | None, trials: int = 0) -> Plan:
    if budget is None and seconds is None:
        raise ValueError("give a budget (measurements) or seconds")
    if budget is not None:
        if budget < 1:
            raise ValueError(f"budget {budget}: at least one measurement")
        search = max(1, math.ceil(SEARCH_SHARE * budget))
        return Plan(units=budget, trials=trials, search_units=min(budget, search))
    assert seconds is not None
    return Plan(seconds=seconds, trials=trials, search_until=TIME_SEARCH * seconds,
                shrink_until=TIME_SHRINK * seconds)


@dataclass
class Ledger:
    """What has been spent of a :class:`Plan`, the clock started at ``start``."""

    plan: Plan
    clock: Callable[[], float] = time.monotonic
    start: float = field(default=-1.0)
    units: int = 0  # measurements so far
    search_units: int = 0
    shrink_units: int = 0

    def __post_init__(self) -> None:
        if self.start < 0:
            self.start = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.start

    def spend(self, phase: str) -> None:
        self.units += 1
        if phase == "search":
            self.search_units += 1
        else:
            self.shrink_units += 1

    def search_share_spent(self) -> bool:
        if self.plan.units is not None:
            return self.units >= self.plan.search_units
        return self.elapsed() >= self.plan.search_until

    def all_spent(self) -> bool:
        """Nothing left for a measurement (``--time``: up to the confirmation's share)."""
        if self.plan.units is not None:
            return self.units >= self.plan.units
        return self.elapsed() >= self.plan.shrink_until

    def left(self) -> float | int:
        """Measurements, or seconds until shrinking's share ends."""
        if self.plan.units is not None:
            return self.plan.units - self.units
        return max(0.0, self.plan.shrink_until - self.elapsed())

    def confirmation_deadline(self) -> float | None:
        """Seconds left for confirmation (None: no time limit)."""
        if self.plan.seconds is None:
            return None
        return max(0.0, self.plan.seconds - self.elapsed())
