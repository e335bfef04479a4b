"""The search: Hypothesis draws whole examples from a property's space, each is measured,
``hypothesis.target()`` on the evaluation's score steers generation toward violations, and
Hypothesis's shrinking reduces a violation to the simplest example that still violates.

Measurements are memoized by example, so Hypothesis sees one answer per example (a noisy
re-measurement cannot make it "flaky") and a repeated draw costs nothing. The budget counts
measured examples (``budget``) or wall-clock seconds (``seconds``); once it is spent, a new
example is not measured and counts as holding, so shrinking ends with the simplest example
measured so far. The measurement is a function, so the search runs on deterministic
components in the unit tests and on real cells in ``k2matrix explore``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
from hypothesis import seed as hypothesis_seed
from hypothesis.database import ExampleDatabase
from hypothesis.errors import Flaky, HypothesisException

from k2matrix.explore.relation import Evaluation, evaluate
from k2matrix.explore.space import SECOND, example_key, params_strategy, points
from k2matrix.matrix.properties import Property

__all__ = ["Example", "Outcome", "SearchResult", "search"]


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
    outcomes: list[Outcome]
    evaluation: Evaluation | None  # None: a point failed its verification
    elapsed_s: float

    @property
    def violated(self) -> bool:
        return self.evaluation is not None and self.evaluation.violated

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "params": self.params, "points": self.points,
                "cells": [o.cell_id for o in self.outcomes],
                "values": [o.value for o in self.outcomes],
                "statuses": [o.status for o in self.outcomes],
                "errors": [o.error for o in self.outcomes if o.error],
                "evaluation": self.evaluation.to_dict() if self.evaluation else None,
                "elapsed_s": round(self.elapsed_s, 3)}


@dataclass
class SearchResult:
    examples: list[Example] = field(default_factory=list)
    first_violation: Example | None = None
    shrunk: Example | None = None
    stopped: str = ""
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def worst(self) -> Example | None:
        scored = [e for e in self.examples if e.evaluation is not None]
        return max(scored, key=lambda e: e.evaluation.score if e.evaluation else 0.0,
                   default=None)

    @property
    def failures(self) -> int:
        return sum(1 for e in self.examples if e.evaluation is None)


class _Violation(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _Stop(BaseException):  # not an Exception: Hypothesis lets it through
    pass


def _xs(prop: Property, pts: Sequence[Mapping[str, Any]]) -> list[Any]:
    return [p.get(prop.axis) for p in pts] if prop.axis else []


def search(prop: Property, measure: Measure, *, budget: int | None = None,
           seconds: float | None = None, seed: int = 0,
           database: ExampleDatabase | None = None,
           progress: Callable[[SearchResult, float | None], None] | None = None,
           clock: Callable[[], float] = time.monotonic) -> SearchResult:
    """Explore ``prop``: at most ``budget`` measured examples or ``seconds`` of search."""
    if budget is None and seconds is None:
        raise ValueError("give a budget (examples) or seconds")
    result = SearchResult()
    memo: dict[str, Example] = {}
    raised: list[str] = []
    start = clock()

    def left() -> float | None:
        return None if seconds is None else seconds - (clock() - start)

    def spent() -> bool:
        if budget is not None and len(result.examples) >= budget:
            return True
        remaining = left()
        return remaining is not None and remaining <= 0

    def run(example: dict[str, Any]) -> None:
        key = example_key(example)
        done = memo.get(key)
        if done is None:
            if spent():
                if result.first_violation is None:
                    raise _Stop()  # nothing to shrink: the search is over
                return  # not measured: counts as holding
            pts = points(prop, example)
            begun = clock()
            unique = {example_key(p): p for p in pts}
            measured = dict(zip(unique, measure(list(unique.values())), strict=True))
            outcomes = [measured[example_key(p)] for p in pts]
            evaluation = None
            if all(o.value is not None for o in outcomes):
                values = [float(o.value) for o in outcomes if o.value is not None]
                evaluation = evaluate(prop, values, _xs(prop, pts))
            params = {k: v for k, v in example.items() if k != SECOND}
            done = Example(len(result.examples) + 1, params, pts, outcomes, evaluation,
                           clock() - begun)
            memo[key] = done
            result.examples.append(done)
            if done.violated and result.first_violation is None:
                result.first_violation = done
            if progress is not None:
                progress(result, left())
        if done.evaluation is None:
            return
        target(done.evaluation.score, label=f"{prop.metric} beyond the bound")
        if done.violated:
            raised.append(key)
            raise _Violation(key)

    # duplicates and unmeasured draws cost nothing: the budget is ours, not max_examples
    max_examples = budget * 10 if budget is not None else 1_000_000
    runner = settings(
        max_examples=max(1, max_examples), database=database, deadline=None,
        suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
        report_multiple_bugs=False, print_blob=False,
    )(hypothesis_seed(seed)(given(params_strategy(prop))(run)))
    try:
        runner()
        result.stopped = "the space held for every example measured"
        if budget is None or len(result.examples) < budget:
            result.stopped += " (Hypothesis had no new example to draw: a finite space)"
    except _Violation:
        result.stopped = "violation found and shrunk"
    except _Stop:
        result.stopped = "budget spent without a violation"
    except (Flaky, HypothesisException) as exc:  # e.g. an unsatisfiable space
        result.stopped = f"hypothesis stopped: {type(exc).__name__}: {exc}"
    except KeyboardInterrupt:  # keep what was measured: the caller writes it down
        result.stopped = "interrupted"
        result.interrupted = True
    if raised:
        result.shrunk = memo[raised[-1]]  # Hypothesis replays the minimal example last
    result.seconds = clock() - start
    return result
