"""The values an axis takes, checked: :data:`AXIS_CHECKS` declares, beside the vocabulary of
:mod:`k2matrix.axes`, what each axis holds (whole numbers in a range, fractions, names from
the vocabulary, engines), and :func:`check_axis_values` applies it to every item of a list.
An axis not declared takes strings or numbers. Engines are any installed engine or import
path (:mod:`k2matrix.matrix.impl_specs`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from k2matrix.axes import CHOICES
from k2matrix.checks import Checker, join
from k2matrix.matrix.impl_specs import check_engine

__all__ = ["AXIS_CHECKS", "AxisCheck", "Engines", "Names", "Numbers", "Scalars",
           "check_axis_values"]


class AxisCheck(Protocol):
    """What an axis holds: ``listed`` completes "must be a list of …"; ``check`` is true for
    a good item and adds a problem at ``path`` for a bad one."""

    @property
    def listed(self) -> str: ...

    def check(self, ck: Checker, item: Any, path: str) -> bool: ...


@dataclass(frozen=True)
class Numbers:
    """Numbers from ``low`` to ``high`` (``low`` itself excluded when ``above``), whole ones
    when ``whole``; a bad item gets ``message``."""

    listed: str
    message: str
    low: float
    high: float = math.inf
    whole: bool = True
    above: bool = False

    def check(self, ck: Checker, item: Any, path: str) -> bool:
        kind = int if self.whole else int | float
        ok = (not isinstance(item, bool) and isinstance(item, kind)
              and (item > self.low if self.above else item >= self.low) and item <= self.high)
        if not ok:
            ck.add(path, item, self.message)
        return ok


@dataclass(frozen=True)
class Names:
    """Names from a fixed vocabulary."""

    choices: tuple[str, ...]

    @property
    def listed(self) -> str:
        return f"values from: {', '.join(self.choices)}"

    def check(self, ck: Checker, item: Any, path: str) -> bool:
        return ck.str_(item, path, self.choices) is not None


@dataclass(frozen=True)
class Engines:
    """Names of installed engines or import paths."""

    listed: str = "engine names or import paths 'package.module:Name'"

    def check(self, ck: Checker, item: Any, path: str) -> bool:
        return check_engine(ck, item, path) is not None


@dataclass(frozen=True)
class Scalars:
    """Any strings or numbers (an axis a case declares for itself)."""

    listed: str = "strings or numbers"

    def check(self, ck: Checker, item: Any, path: str) -> bool:
        ok = not isinstance(item, bool) and isinstance(item, str | int | float)
        if not ok:
            ck.add(path, item, "axis values must be strings or numbers")
        return ok


_POSITIVE = "positive integers"

# axis (as written in matrix.toml) -> what its values are
AXIS_CHECKS: dict[str, AxisCheck] = {
    "batch_sizes": Numbers(_POSITIVE, "batch sizes must be positive integers", 1),
    "dataset_sizes": Numbers(_POSITIVE, "dataset sizes must be positive integers", 1),
    "workers": Numbers(_POSITIVE, "workers must be positive integers (load processes)", 1),
    "commit_interval_ms": Numbers(
        _POSITIVE, "commit intervals must be positive integers (milliseconds)", 1),
    "commit_rows": Numbers(_POSITIVE, "commit row counts must be positive integers", 1),
    "s3_latency_ms": Numbers("milliseconds (integers from 0 to 1000)",
                             "a delay must be whole milliseconds from 0 to 1000", 0, 1000),
    "selectivity": Numbers("fractions in (0, 1]", "must be a fraction in (0, 1]", 0, 1,
                           whole=False, above=True),
    "engines": Engines(),
    **{axis: Names(choices) for axis, choices in CHOICES.items()},
}
_ANY = Scalars()


def check_axis_values(ck: Checker, axis: str, value: Any, path: str) -> list[Any] | None:
    """``value`` if it is a non-empty list of good values of ``axis``, else ``None`` with
    every problem added to ``ck``."""
    rule = AXIS_CHECKS.get(axis, _ANY)
    items = ck.list_(value, path, rule.listed)
    if items is None:
        return None
    good = [rule.check(ck, item, join(path, i)) for i, item in enumerate(items)]
    return items if all(good) else None
