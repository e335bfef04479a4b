"""A property's space: the dimensions an example is drawn over, a drawn example as the
workloads it measures, and those workloads as real cells.

An example is a *position* on each dimension: a range's position ``0..RESOLUTION`` maps onto
``[low, high]`` (log-uniformly for integer ranges, linearly otherwise), a choice's position
is its index (the first listed is the simplest). Position 0 everywhere is the simplest
workload (smallest batch, fewest symbols, zero skew, the first layout), where shrinking goes.
Relational properties draw their moving axis twice (two points, the second under
:data:`SECOND`). :mod:`.sampler` draws positions, :mod:`.shrink` lowers them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from k2matrix.axes import in_cell_id, param_name
from k2matrix.cell import Cell, derive_seed, format_param
from k2matrix.matrix import Matrix
from k2matrix.matrix.properties import Choices, Dimension, Property, Range

RESOLUTION = 1_000_000
SECOND = "__second"  # the key of a relational property's second point on its axis

Positions = dict[str, int]


def position_to_value(dim: Range, position: int) -> float | int:
    """The value at ``position`` (0..RESOLUTION) of a range: monotonic in ``position``."""
    share = position / RESOLUTION
    if dim.log:
        value = math.exp(math.log(dim.low) + share * (math.log(dim.high) - math.log(dim.low)))
    else:
        value = dim.low + share * (dim.high - dim.low)
    if dim.integer:
        return int(min(dim.high, max(dim.low, round(value))))
    return round(min(dim.high, max(dim.low, value)), 6)


def dimensions(prop: Property) -> dict[str, Dimension]:
    """What an example is drawn over: the space, and the second point of a monotonic or
    scaling property's axis under :data:`SECOND`."""
    dims = dict(prop.space)
    if prop.kind in ("monotonic", "scaling") and prop.axis is not None:
        dims[SECOND] = prop.space[prop.axis]
    return dims


def top(dim: Dimension) -> int:
    """The highest position of a dimension."""
    return RESOLUTION if isinstance(dim, Range) else len(dim.values) - 1


def value_at(dim: Dimension, position: int) -> Any:
    if isinstance(dim, Choices):
        return dim.values[max(0, min(position, len(dim.values) - 1))]
    return position_to_value(dim, max(0, min(position, RESOLUTION)))


def example_at(prop: Property, positions: Mapping[str, int]) -> dict[str, Any]:
    """The example at ``positions``: ``{key: value}`` over :func:`dimensions`."""
    return {key: value_at(dim, positions.get(key, 0)) for key, dim in dimensions(prop).items()}


def params_of(example: Mapping[str, Any]) -> dict[str, Any]:
    """An example's parameters as reported (without the second point's key)."""
    return {k: v for k, v in example.items() if k != SECOND}


def simplest_positions(prop: Property) -> Positions:
    return dict.fromkeys(dimensions(prop), 0)


def simplest(prop: Property) -> dict[str, Any]:
    """The example shrinking aims at: every range at its low end, every first choice."""
    return params_of(example_at(prop, simplest_positions(prop)))


def finite_size(prop: Property) -> int | None:
    """How many examples a space of choices only holds (None: it has a range)."""
    dims = dimensions(prop).values()
    if any(isinstance(d, Range) for d in dims):
        return None
    return math.prod(len(d.values) for d in dims if isinstance(d, Choices))


def complexity(prop: Property, positions: Mapping[str, int]) -> float:
    """How far an example is from the simplest (0), each dimension's share summed."""
    return sum(positions.get(k, 0) / max(1, top(d)) for k, d in dimensions(prop).items())


def points(prop: Property, example: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The workloads one example measures: one for a bound, two for a relation (the axis
    at its lower and higher value, or the ratio's two variants)."""
    base = {k: v for k, v in example.items() if k != SECOND}
    if prop.kind == "bound" or prop.axis is None:
        return [base]
    if prop.kind == "ratio":
        assert prop.variants is not None
        return [{**base, prop.axis: prop.variants[0]}, {**base, prop.axis: prop.variants[1]}]
    a, b = base[prop.axis], example.get(SECOND, base[prop.axis])
    low, high = (a, b) if a <= b else (b, a)
    if prop.kind == "scaling":  # an exponent needs a span: at least twice the smaller value
        dim = prop.space[prop.axis]
        assert isinstance(dim, Range)
        if high < 2 * low:
            high = min(dim.high, 2 * low)
            low = min(low, high / 2)
            if isinstance(dim, Range) and dim.integer:
                low, high = max(int(dim.low), int(low)), int(high)
    return [{**base, prop.axis: low}, {**base, prop.axis: high}]


@dataclass(frozen=True)
class CellFactory:
    """Turns drawn parameters into the case's cell: axes the space leaves out take the
    first value the matrix gives the case, data and workload the matrix's values."""

    matrix: Matrix
    prop: Property

    def fixed(self) -> dict[str, Any]:
        case = self.matrix.cases[self.prop.case]
        out: dict[str, Any] = {}
        for axis in case.sweep:
            values = case.values.get(axis, self.matrix.axes.get(axis, []))
            if values:
                out[param_name(axis)] = values[0]
        return out

    def cell(self, params: Mapping[str, Any], tag: str = "x") -> Cell:
        case = self.matrix.cases[self.prop.case]
        settings: dict[str, Any] = {**self.matrix.data, **self.matrix.workload}
        axis_params = self.fixed()
        for key, value in params.items():
            if key in axis_params or key not in settings:
                axis_params[key] = value
            else:
                settings[key] = value
        drawn = {k: settings[k] for k in self.prop.settings_keys if k in settings}
        parts = [case.component, case.name]
        parts += [format_param(k, v) for k, v in axis_params.items() if in_cell_id(k, v)]
        digest = hashlib.sha256(json.dumps(drawn, sort_keys=True, default=str).encode())
        cell_id = "-".join(str(p) for p in parts) + f"-{tag}{digest.hexdigest()[:8]}"
        return Cell(id=cell_id, component=case.component, case=case.name,
                    params=axis_params, seed=derive_seed(self.matrix.seed, cell_id),
                    slow=case.slow, exclusive=case.exclusive, settings=settings)


def example_key(example: Mapping[str, Any]) -> str:
    """A stable key of an example (what the search memoizes measurements by)."""
    return json.dumps(dict(example), sort_keys=True, default=str)
