"""The values an axis takes, checked: positive sizes, names from the vocabulary of
:mod:`k2matrix.axes`, fractions, and engines (any installed engine or import path, see
:mod:`k2matrix.matrix.impl_specs`)."""

from __future__ import annotations

from typing import Any

from k2matrix.axes import CHOICES
from k2matrix.checks import Checker, join
from k2matrix.matrix.impl_specs import check_engine

__all__ = ["check_axis_values"]

_POSITIVE_INTS: dict[str, str] = {
    "batch_sizes": "batch sizes must be positive integers",
    "dataset_sizes": "dataset sizes must be positive integers",
    "workers": "workers must be positive integers (load processes)",
    "commit_interval_ms": "commit intervals must be positive integers (milliseconds)",
    "commit_rows": "commit row counts must be positive integers",
}


def check_axis_values(ck: Checker, axis: str, value: Any, path: str) -> list[Any] | None:
    if axis in _POSITIVE_INTS:
        items = ck.list_(value, path, "positive integers")
        if items is None:
            return None
        ok = True
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
                ck.add(join(path, i), item, _POSITIVE_INTS[axis])
                ok = False
        return items if ok else None
    if axis == "s3_latency_ms":
        items = ck.list_(value, path, "milliseconds (integers from 0 to 1000)")
        if items is None:
            return None
        bad = [i for i, item in enumerate(items) if isinstance(item, bool)
               or not isinstance(item, int) or not 0 <= item <= 1000]
        for i in bad:
            ck.add(join(path, i), items[i], "a delay must be whole milliseconds from 0 to 1000")
        return None if bad else items
    if axis == "engines":
        items = ck.list_(value, path, "engine names or import paths 'package.module:Name'")
        if items is None:
            return None
        checked = [check_engine(ck, item, join(path, i)) for i, item in enumerate(items)]
        return items if all(c is not None for c in checked) else None
    if axis in CHOICES:
        choices = CHOICES[axis]
        items = ck.list_(value, path, f"values from: {', '.join(choices)}")
        if items is None:
            return None
        ok = True
        for i, item in enumerate(items):
            if ck.str_(item, join(path, i), choices) is None:
                ok = False
        return items if ok else None
    if axis == "selectivity":
        items = ck.list_(value, path, "fractions in (0, 1]")
        if items is None:
            return None
        ok = True
        for i, item in enumerate(items):
            if ck.number(item, join(path, i), what="a fraction in (0, 1]") is None or not (
                0 < item <= 1
            ):
                if not any(p.path == join(path, i) for p in ck.problems):
                    ck.add(join(path, i), item, "must be a fraction in (0, 1]")
                ok = False
        return items if ok else None
    items = ck.list_(value, path, "strings or numbers")
    if items is None:
        return None
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            ck.add(join(path, i), item, "axis values must be strings or numbers")
            return None
    return items
