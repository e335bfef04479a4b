"""A property's space as Hypothesis strategies, and a drawn example as a real cell.

Each dimension is drawn so that Hypothesis's shrinking moves toward the simplest workload:
a range is drawn as a position ``0..RESOLUTION`` (a coarse and a fine step) mapped onto
``[low, high]``
(log-uniformly for integer ranges), so shrinking the position is a binary search toward
``low`` (smaller batch, fewer symbols, zero skew); choices shrink toward the first listed
(the simplest layout). Relational properties draw their moving axis twice (two points).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from k2matrix.axes import in_cell_id, param_name
from k2matrix.cell import Cell, derive_seed, format_param
from k2matrix.matrix import Matrix
from k2matrix.matrix.properties import Choices, Property, Range

RESOLUTION = 1_000_000
_STEPS = 1000  # RESOLUTION = _STEPS ** 2
SECOND = "__second"  # the key of a relational property's second point on its axis


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


def _dimension(dim: Range | Choices) -> SearchStrategy[Any]:
    if isinstance(dim, Choices):
        return st.sampled_from(list(dim.values))
    # a coarse and a fine step rather than one integer: Hypothesis draws a wide integer
    # range mostly near its low end (bit-size sampling), a range of 1001 nearly evenly
    position = st.tuples(st.integers(0, _STEPS), st.integers(0, _STEPS - 1)).map(
        lambda t: min(RESOLUTION, t[0] * _STEPS + t[1]))
    return position.map(lambda p: position_to_value(dim, p))


def simplest(prop: Property) -> dict[str, Any]:
    """The example shrinking aims at: every range at its low end, every first choice."""
    return {key: (position_to_value(dim, 0) if isinstance(dim, Range) else dim.values[0])
            for key, dim in prop.space.items()}


def params_strategy(prop: Property) -> SearchStrategy[dict[str, Any]]:
    """Whole examples: ``{key: value}`` for every key of the space (plus the second point of
    a monotonic or scaling property's axis under :data:`SECOND`)."""
    fields = {key: _dimension(dim) for key, dim in prop.space.items()}
    if prop.kind in ("monotonic", "scaling") and prop.axis is not None:
        fields[SECOND] = _dimension(prop.space[prop.axis])
    return st.fixed_dictionaries(fields)


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
