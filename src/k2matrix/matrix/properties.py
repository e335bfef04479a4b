"""Performance properties (``[properties.*]``): what must hold everywhere in a workload space,
as data: checked when the matrix loads (:mod:`k2matrix.matrix.property_checks`: every problem
at once, each at its key path) and explored by ``k2matrix explore`` (:mod:`k2matrix.explore`).

A property names a case (``component.case``), a metric, and a space: the axis values and data
shape Hypothesis may draw (an integer range ``[low, high]`` drawn log-uniformly, a float
range, or a list of choices, the first the simplest). Anything the space does not name is
fixed at the matrix's value. Its kind says what must hold:

- ``bound`` (the default): the metric meets a bound, a ``[targets]`` name (its target level,
  metric and direction) or a number with ``direction``;
- ``monotonic``: the metric does not get worse as ``axis`` grows, beyond ``tolerance``;
- ``scaling``: the log-log exponent of the metric over ``axis`` is at most ``max_exponent``;
- ``ratio``: the metric of ``variants[1]`` over that of ``variants[0]`` (two values of
  ``axis``; cost, so lower is better) is at most ``bound``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HIGHER_IS_BETTER", "KINDS", "PROPERTY_METRICS", "Choices", "Dimension", "Property",
           "Range"]

PROPERTY_METRICS = ("throughput", "median_ms", "p99_ms", "per_item_us", "efficiency")
HIGHER_IS_BETTER = ("throughput", "efficiency")
KINDS = ("bound", "monotonic", "scaling", "ratio")


@dataclass(frozen=True)
class Range:
    """A numeric range to draw from: integers log-uniformly when ``log``."""

    low: float
    high: float
    integer: bool
    log: bool


@dataclass(frozen=True)
class Choices:
    """Values to draw from; the first is the simplest (where shrinking goes)."""

    values: tuple[Any, ...]


Dimension = Range | Choices


@dataclass(frozen=True)
class Property:
    name: str
    case: str  # component.case
    metric: str
    kind: str
    space: Mapping[str, Dimension]  # keyed by cell parameter or data/workload setting
    description: str = ""
    bound: float | None = None  # bound: the level; ratio: the largest ratio
    direction: str = "higher"  # bound: which side of the level is good
    target: str | None = None  # the [targets] name the bound came from
    axis: str | None = None  # monotonic, scaling, ratio: the parameter that moves
    max_exponent: float | None = None
    variants: tuple[Any, Any] | None = None
    tolerance: float = 0.1
    rounds: int = 3  # timed rounds per example (a sweep uses the suite's default, 3-100)
    settings_keys: tuple[str, ...] = field(default=())  # space keys that are not parameters

    @property
    def component(self) -> str:
        return self.case.split(".", 1)[0]

    @property
    def case_name(self) -> str:
        return self.case.split(".", 1)[1]

    def better_higher(self) -> bool:
        """Whether a larger metric is better (throughput, efficiency; not times)."""
        if self.kind == "bound":
            return self.direction == "higher"
        return self.metric in HIGHER_IS_BETTER

    def to_dict(self) -> dict[str, Any]:
        space: dict[str, Any] = {}
        for key, dim in self.space.items():
            space[key] = ([dim.low, dim.high] if isinstance(dim, Range)
                          else list(dim.values))
        return {"name": self.name, "case": self.case, "metric": self.metric, "kind": self.kind,
                "bound": self.bound, "direction": self.direction, "target": self.target,
                "axis": self.axis, "max_exponent": self.max_exponent,
                "variants": list(self.variants) if self.variants else None,
                "tolerance": self.tolerance, "space": space, "description": self.description}
