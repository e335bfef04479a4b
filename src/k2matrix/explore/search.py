"""The search: examples drawn over a property's space (:mod:`.sampler`), each measured,
a violation measured again before it counts, the search kept going until its share of the
budget is spent (:mod:`.budget`), then the simplest violation shrunk (:mod:`.shrink`).

- **Measuring.** ``measure(points) -> [Outcome]`` runs an example's workloads once (real
  cells in ``k2matrix explore``, deterministic or synthetic functions in the unit tests).
  Measurements are memoized by example: a draw or a shrink candidate seen before costs
  nothing and gets the same answer.
- **Repeats.** An example whose figure violates is measured again, up to ``rechecks``
  times (2; one during shrinking, from a violation that already repeated), each in a fresh
  pytest session. It counts as a violation only if every measurement violates; otherwise
  it is recorded as noise and the search goes on. Its figure is the median of its
  measurements.
- **The search** measures the simplest example first (after known counterexamples from the
  example database), then exploring draws; from half its share on, every other draw is a
  step from one of the best-scoring examples (once a violation has repeated, from the best
  that hold: the steering moves on to other regions). It stops when its share is spent and
  a violation has repeated, or when the whole budget is spent, or when a finite space has
  been measured once each.
- **Shrinking** starts from the strongest violation (the highest score; of equals, the
  one nearest the simplest), with what the budget has left: a marginal violation may not
  confirm, and under load a second, marginal region can appear beside the real one.

Hypothesis is no longer the engine here: its generation spends its first ~50 calls on
examples zero-extended from a short prefix (the simplest values on most dimensions), mixes
in mutations, draws a bounded integer from a distribution concentrated near the low end,
and ends the search at the first failure; its shrinker needs ~65 measurements for one cliff.
Those are the right choices for a cheap test, not for a 1 s noisy measurement on a budget
of 100. What stays is its example database: the counterexamples of earlier explorations are
kept there (their positions as a Hypothesis choice sequence) and measured first.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis.database import ExampleDatabase, choices_from_bytes, choices_to_bytes

from k2matrix.explore.budget import Ledger, Plan, plan
from k2matrix.explore.relation import Evaluation, evaluate
from k2matrix.explore.sampler import Sampler
from k2matrix.explore.shrink import BISECT, shrink
from k2matrix.explore.space import (
    Positions,
    complexity,
    dimensions,
    example_at,
    example_key,
    params_of,
    points,
    simplest_positions,
    top,
)
from k2matrix.matrix.properties import Property

__all__ = ["Example", "Outcome", "SearchResult", "search"]

HOLDS, VIOLATES, NOISE, FAILED, UNREPEATED = "holds", "violates", "noise", "failed", \
    "unrepeated"
_MISSES = 200  # draws in a row that repeat a measured example: no new example to draw


@dataclass(frozen=True)
class Outcome:
    """One point measured: its metric, or why not (``status`` failed: verification)."""

    value: float | None
    status: str = "passed"
    error: str | None = None
    cell_id: str = ""


Measure = Callable[[list[dict[str, Any]]], list[Outcome]]


@dataclass
class Example:
    number: int
    params: dict[str, Any]
    points: list[dict[str, Any]]
    outcomes: list[Outcome]  # the first measurement
    evaluation: Evaluation | None  # of the median of its measurements; None: a point failed
    elapsed_s: float
    positions: Positions = field(default_factory=dict)
    phase: str = "search"  # search, shrink
    again: list[list[Outcome]] = field(default_factory=list)  # measured again
    status: str = HOLDS  # holds, violates (repeated), noise, failed, unrepeated

    @property
    def violated(self) -> bool:
        return self.status == VIOLATES

    @property
    def measurements(self) -> list[list[float | None]]:
        """The metric per measurement, per point."""
        return [[o.value for o in m] for m in [self.outcomes, *self.again]]

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "params": self.params, "points": self.points,
                "positions": self.positions, "phase": self.phase, "status": self.status,
                "cells": [o.cell_id for o in self.outcomes],
                "values": [o.value for o in self.outcomes],
                "measurements": self.measurements,
                "statuses": [o.status for o in self.outcomes],
                "errors": [o.error for o in self.outcomes if o.error],
                "evaluation": self.evaluation.to_dict() if self.evaluation else None,
                "elapsed_s": round(self.elapsed_s, 3)}


@dataclass
class SearchResult:
    examples: list[Example] = field(default_factory=list)
    first_violation: Example | None = None
    shrink_from: Example | None = None
    shrunk: Example | None = None
    stopped: str = ""
    search_stopped: str = ""
    shrink_stopped: str = ""
    shrink_steps: int = 0
    shrink_complete: bool = False
    resumed: int = 0  # examples the search measured after shrinking
    seconds: float = 0.0
    interrupted: bool = False
    plan: Plan | None = None
    measurements: int = 0
    search_measurements: int = 0
    shrink_measurements: int = 0

    @property
    def worst(self) -> Example | None:
        scored = [e for e in self.examples if e.evaluation is not None]
        return max(scored, key=lambda e: (e.violated, e.evaluation.score if e.evaluation
                                          else 0.0), default=None)

    @property
    def failures(self) -> int:
        return sum(1 for e in self.examples if e.evaluation is None)

    @property
    def region(self) -> list[Example]:
        """The examples whose violation repeated."""
        return [e for e in self.examples if e.violated]

    @property
    def noise(self) -> list[Example]:
        """The examples that violated once and not when measured again."""
        return [e for e in self.examples if e.status == NOISE]


Progress = Callable[[SearchResult, str, "float | int"], None]


def database_key(prop: Property) -> bytes:
    """Where a property's counterexamples are kept (its space in the key: a changed space
    does not replay positions that meant something else)."""
    dims = repr(sorted((k, repr(d)) for k, d in dimensions(prop).items()))
    digest = hashlib.sha256(dims.encode()).hexdigest()[:16]
    return f"k2matrix-explore:{prop.name}:{digest}".encode()


def known_positions(prop: Property, database: ExampleDatabase | None) -> list[Positions]:
    """Counterexamples of earlier explorations, simplest first."""
    if database is None:
        return []
    dims = dimensions(prop)
    out: list[Positions] = []
    for blob in database.fetch(database_key(prop)):
        choices = choices_from_bytes(blob)
        if choices is None or len(choices) != len(dims):
            continue
        if all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= top(d)
               for c, d in zip(choices, dims.values(), strict=True)):
            out.append({k: int(c) for k, c in zip(dims, choices, strict=True)})
    return sorted(out, key=lambda p: complexity(prop, p))


class _Explorer:
    def __init__(self, prop: Property, measure: Measure, ledger: Ledger, rechecks: int,
                 progress: Progress | None) -> None:
        self.prop, self.measure, self.ledger = prop, measure, ledger
        self.rechecks, self.progress = rechecks, progress
        self.memo: dict[str, Example] = {}
        self.result = SearchResult(plan=ledger.plan)
        self.phase = "search"

    def _once(self, pts: list[dict[str, Any]]) -> list[Outcome]:
        self.ledger.spend(self.phase)
        unique = {example_key(p): p for p in pts}
        measured = dict(zip(unique, self.measure(list(unique.values())), strict=True))
        return [measured[example_key(p)] for p in pts]

    def _evaluate(self, pts: list[dict[str, Any]], runs: Sequence[list[Outcome]]
                  ) -> Evaluation | None:
        medians = []
        for i in range(len(pts)):
            values = [v for r in runs if (v := r[i].value) is not None]
            if not values:
                return None
            medians.append(statistics.median(values))
        xs = [p.get(self.prop.axis) for p in pts] if self.prop.axis else []
        return evaluate(self.prop, medians, xs)

    def example(self, positions: Positions) -> tuple[Example | None, bool]:
        """The example at ``positions`` and whether it was measured now (None: the budget
        is spent)."""
        drawn = example_at(self.prop, positions)
        key = example_key(drawn)
        if key in self.memo:
            return self.memo[key], False
        if self.ledger.all_spent():
            return None, False
        pts = points(self.prop, drawn)
        begun = self.ledger.clock()
        first = self._once(pts)
        runs = [first]
        evaluation = self._evaluate(pts, runs)
        status = FAILED if evaluation is None else HOLDS
        if evaluation is not None and evaluation.violated:
            status = VIOLATES
            for _ in range(self.rechecks if self.phase == "search" else
                           min(1, self.rechecks)):
                if self.ledger.all_spent():
                    status = UNREPEATED
                    break
                runs.append(self._once(pts))
                again = self._evaluate(pts, runs[-1:])
                if again is None or not again.violated:
                    status = NOISE
                    break
            evaluation = self._evaluate(pts, runs)
        done = Example(len(self.result.examples) + 1, params_of(drawn), pts, first,
                       evaluation, self.ledger.clock() - begun, dict(positions), self.phase,
                       runs[1:], status)
        self.memo[key] = done
        self.result.examples.append(done)
        if done.violated and self.result.first_violation is None:
            self.result.first_violation = done
        if self.progress is not None:
            self.progress(self.result, self.phase, self.ledger.left())
        return done, True

    def _parents(self) -> list[Positions]:
        scored = [e for e in self.result.examples if e.evaluation is not None]
        if self.result.region:
            scored = [e for e in scored if not e.violated]
        scored.sort(key=lambda e: -(e.evaluation.score if e.evaluation else 0.0))
        return [e.positions for e in scored]

    def _stepping(self, draws: int) -> bool:
        plan_ = self.ledger.plan
        half = (self.ledger.units >= plan_.search_units / 2 if plan_.units is not None
                else self.ledger.elapsed() >= plan_.search_until / 2)
        return half and draws % 2 == 1 and len(self._parents()) >= 4

    def search(self, sampler: Sampler, known: list[Positions], to_end: bool = False) -> str:
        """Measure draws until the search's share is spent (``to_end``: the budget)."""
        self.phase = "search"
        queue = [*known, simplest_positions(self.prop)]
        misses = draws = 0
        while True:
            if self.ledger.all_spent():
                if to_end:
                    return "until the budget was spent"
                return ("the whole budget spent by the search, its violation repeated late"
                        if self.result.region else
                        "the whole budget spent, no violation repeated")
            if self.result.region and self.ledger.search_share_spent() and not to_end:
                return "the search's share of the budget spent"
            positions: Positions | None
            if queue:
                positions = queue.pop(0)
            elif sampler.finite or not self._stepping(draws):
                positions = sampler.explore()
            else:
                positions = sampler.step(sampler.choose(self._parents()))
            draws += 1
            if positions is None:
                return "every example of the finite space measured"
            example, fresh = self.example(positions)
            if example is None:
                continue
            misses = 0 if fresh else misses + 1
            if misses >= _MISSES:
                return "no new example to draw"

    def shrink(self) -> None:
        result = self.result
        if not result.region:
            result.shrink_stopped = "nothing to shrink"
            return
        # the strongest violation (a marginal one may not confirm), the simplest of equals
        start = min(result.region, key=lambda e: (-round(e.evaluation.score, 6) if
                                                   e.evaluation else 0.0,
                                                   complexity(self.prop, e.positions),
                                                   e.number))
        result.shrink_from = result.shrunk = start
        self.phase = "shrink"
        before = len(result.examples)

        def attempt(positions: Positions) -> bool | None:
            example, _ = self.example(positions)
            return None if example is None else example.violated

        done = shrink(dimensions(self.prop), start.positions, attempt)
        key = example_key(example_at(self.prop, done.positions))
        result.shrunk = self.memo.get(key, start)
        result.shrink_steps = steps = len(result.examples) - before
        result.shrink_complete = done.complete
        if done.simplest:
            result.shrink_stopped = "nothing to shrink: the violation is the simplest example"
        elif done.complete:
            result.shrink_stopped = (f"shrunk in {steps} steps: every dimension at its "
                                     f"simplest or within 1/{BISECT} of its range of where "
                                     f"the violation stops")
        else:
            result.shrink_stopped = (f"shrinking cut short by the budget after {steps} "
                                     f"steps")


def search(prop: Property, measure: Measure, *, budget: int | None = None,
           seconds: float | None = None, seed: int = 0, rechecks: int = 2,
           database: ExampleDatabase | None = None, progress: Progress | None = None,
           clock: Callable[[], float] = time.monotonic, budget_plan: Plan | None = None,
           start: float | None = None) -> SearchResult:
    """Explore ``prop`` within ``budget`` measurements or ``seconds`` (or ``budget_plan``;
    ``start``: when the run's clock started), then shrink the simplest violation."""
    the_plan = budget_plan or plan(budget, seconds)
    ledger = Ledger(the_plan, clock, -1.0 if start is None else start)
    explorer = _Explorer(prop, measure, ledger, rechecks, progress)
    result = explorer.result
    began = clock()
    try:
        sampler = Sampler(prop, seed)
        result.search_stopped = explorer.search(sampler, known_positions(prop, database))
        explorer.shrink()
        if result.shrink_complete and not ledger.all_spent():
            before = len(result.examples)
            why = explorer.search(sampler, [], to_end=True)
            result.resumed = len(result.examples) - before
            result.shrink_stopped += (f"; then the search went on over {result.resumed} more "
                                      f"examples ({why})")
    except KeyboardInterrupt:  # keep what was measured: the caller writes it down
        result.interrupted = True
        result.search_stopped = result.search_stopped or "interrupted"
        result.shrink_stopped = "interrupted" if result.search_stopped != "interrupted" \
            else ""
    if database is not None:
        for example in (result.shrink_from, result.shrunk):
            if example is not None and example.violated:
                values = [example.positions[k] for k in dimensions(prop)]
                database.save(database_key(prop), choices_to_bytes(values))
    result.stopped = "; ".join(s for s in (result.search_stopped, result.shrink_stopped) if s)
    result.measurements = ledger.units
    result.search_measurements = ledger.search_units
    result.shrink_measurements = ledger.shrink_units
    result.seconds = clock() - began
    return result
