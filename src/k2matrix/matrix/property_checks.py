"""``[properties.*]`` checked into :class:`~k2matrix.matrix.properties.Property` s when the
matrix loads: every problem at once, each at its key path (the case, the metric, the space
each dimension of it is drawn from, and what the property's kind needs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from k2matrix.axes import param_name
from k2matrix.checks import Checker, did_you_mean, join
from k2matrix.errors import MISSING
from k2matrix.matrix.axis_checks import check_axis_values
from k2matrix.matrix.model import DATA_DEFAULTS, WORKLOAD_DEFAULTS, CaseDef, Target
from k2matrix.matrix.properties import (
    HIGHER_IS_BETTER,
    KINDS,
    PROPERTY_METRICS,
    Choices,
    Dimension,
    Property,
    Range,
)

__all__ = ["check_properties"]

# the keys only one kind takes: a property that sets another kind's key mixes kinds
_KIND_KEYS: dict[str, tuple[str, ...]] = {
    "bound": ("direction",), "monotonic": ("tolerance",), "scaling": ("max_exponent",),
    "ratio": ("variants",),
}
_KEYS = ("description", "case", "metric", "bound", "direction", "space", "kind", "axis",
         "max_exponent", "variants", "tolerance", "rounds")
# (low, high) allowed for a drawn data value
_DATA_LIMITS: dict[str, tuple[float, float]] = {
    "symbols": (1, 1_000_000), "skew": (0, 10), "null_ratio": (0, 1), "disorder": (0, 1),
    "edge_case_fraction": (0, 1), "rows_per_second": (1, 10**9),
}


def check_properties(ck: Checker, table: Mapping[str, Any], cases: Mapping[str, CaseDef],
                     targets: Mapping[str, Target], target_names: set[str] | None = None
                     ) -> dict[str, Property]:
    """``[properties.*]`` checked into :class:`Property` s (problems go to ``ck``).
    ``target_names``: every target defined, including ones that failed their own check."""
    names = set(targets) | (target_names or set())
    out: dict[str, Property] = {}
    for pname, raw in table.items():
        path = join("properties", pname)
        if not isinstance(raw, dict):
            ck.add(path, raw, "must be a table with case, metric, bound and space")
            continue
        before = len(ck.problems)
        prop = _check_one(ck, pname, raw, path, cases, targets, names)
        if prop is not None and len(ck.problems) == before:
            out[pname] = prop
    return out


def _check_one(ck: Checker, pname: str, raw: dict[str, Any], path: str,
               cases: Mapping[str, CaseDef], targets: Mapping[str, Target],
               target_names: set[str]) -> Property | None:
    ck.keys(raw, path, _KEYS)
    kind = ck.str_(raw.get("kind", "bound"), join(path, "kind"), KINDS) or "bound"
    for other, keys in _KIND_KEYS.items():
        for key in keys:
            if other != kind and key in raw and not (kind == "bound" and key == "direction"):
                ck.add(join(path, key), raw[key],
                       f"a {other} property's key in a {kind} property mixes kinds; remove "
                       f"it, or set kind = \"{other}\" (one kind per property: split it)")
    case_key = raw.get("case", MISSING)
    case: CaseDef | None = None
    if case_key is MISSING:
        ck.add(join(path, "case"), MISSING, 'missing: name the case, e.g. "writer.append"')
    elif not isinstance(case_key, str) or case_key not in cases:
        ck.add(join(path, "case"), case_key,
               f"unknown case{did_you_mean(str(case_key), cases)}; cases are "
               f"{', '.join(cases)}")
    else:
        case = cases[case_key]
    metric: str | None = None
    if "metric" not in raw:
        ck.add(join(path, "metric"), MISSING,
               f"missing: one of {', '.join(PROPERTY_METRICS)}")
    else:
        metric = ck.str_(raw["metric"], join(path, "metric"), PROPERTY_METRICS)
    space, settings = _check_space(ck, raw.get("space", MISSING), join(path, "space"), case)
    prop: dict[str, Any] = {"name": pname, "case": str(case_key), "metric": metric or "",
                            "kind": kind, "space": space, "settings_keys": settings,
                            "description": str(raw.get("description", ""))}
    if "rounds" in raw:
        prop["rounds"] = ck.int_(raw["rounds"], join(path, "rounds"), 1, 100,
                                 "a number of rounds from 1 to 100") or 3
    if kind == "bound":
        _check_bound(ck, raw, path, prop, targets, target_names)
    else:
        _check_relation(ck, raw, path, prop, case)
    if case is None or metric is None:
        return None
    return Property(**prop)


def _check_bound(ck: Checker, raw: dict[str, Any], path: str, prop: dict[str, Any],
                 targets: Mapping[str, Target], target_names: set[str]) -> None:
    bound = raw.get("bound", MISSING)
    where = join(path, "bound")
    if bound is MISSING:
        ck.add(where, MISSING, "missing: a [targets] name or a number (with direction)")
    elif isinstance(bound, str):
        if bound not in target_names:
            ck.add(where, bound, f"unknown target{did_you_mean(bound, target_names)}; "
                   f"targets are {', '.join(sorted(target_names))}, or give a number")
        elif bound in targets:
            tgt = targets[bound]
            prop.update(bound=tgt.target, direction=tgt.direction, target=bound)
            if prop["metric"] and prop["metric"] != tgt.metric:
                ck.add(join(path, "metric"), prop["metric"],
                       f"target {bound} is on {tgt.metric}; set metric = \"{tgt.metric}\" "
                       "or give the bound as a number")
            if "direction" in raw and raw["direction"] != tgt.direction:
                ck.add(join(path, "direction"), raw["direction"],
                       f"target {bound} says {tgt.direction}; leave direction out")
    else:
        prop["bound"] = ck.number(bound, where, 0, None, "a positive number or a target name")
        if "direction" not in raw:
            ck.add(join(path, "direction"), MISSING,
                   'missing: with a numeric bound say "higher" or "lower" (which side is good)')
        else:
            prop["direction"] = ck.str_(raw["direction"], join(path, "direction"),
                                        ("higher", "lower")) or "higher"


def _check_relation(ck: Checker, raw: dict[str, Any], path: str, prop: dict[str, Any],
                    case: CaseDef | None) -> None:
    kind, space = prop["kind"], prop["space"]
    axis_raw = raw.get("axis", MISSING)
    if axis_raw is MISSING:
        ck.add(join(path, "axis"), MISSING, f"missing: a {kind} property names the axis "
               "that moves, e.g. axis = \"batch_size\"")
        return
    axis = param_name(str(axis_raw))
    prop["axis"] = axis
    if kind in ("monotonic", "scaling"):
        if not isinstance(space.get(axis), Range):
            ck.add(join(path, "axis"), axis_raw,
                   f"a {kind} property needs a numeric range for {axis} in its space; add "
                   f"space.{axis} = [low, high]")
        if kind == "scaling":
            prop["max_exponent"] = ck.number(raw.get("max_exponent", MISSING),
                                             join(path, "max_exponent"), 0, 10,
                                             "a log-log exponent from 0 to 10 (1 = linear)")
            if prop["metric"] in HIGHER_IS_BETTER:
                ck.add(join(path, "metric"), prop["metric"],
                       "scaling is the growth of a cost: use median_ms, p99_ms or per_item_us")
        else:
            prop["tolerance"] = ck.number(raw.get("tolerance", 0.1), join(path, "tolerance"),
                                          0, 1, "a fraction such as 0.1") or 0.1
        return
    plural = _plural(axis, case)
    variants = raw.get("variants", MISSING)
    where = join(path, "variants")
    if not isinstance(variants, list) or len(variants) != 2 or variants[0] == variants[1]:
        ck.add(where, variants if variants is not MISSING else MISSING,
               "must be two different values of the axis: [baseline, candidate]")
    elif check_axis_values(ck, plural, list(variants), where) is not None:
        prop["variants"] = (variants[0], variants[1])
    if case is not None and plural not in case.sweep:
        ck.add(join(path, "axis"), axis_raw, f"case {case.key} does not sweep {plural}; it "
               f"sweeps {', '.join(case.sweep) or 'nothing'}")
    if axis in space:
        ck.add(join(join(path, "space"), axis), MISSING,
               "the ratio's axis takes its variants; remove it from the space")
    prop["bound"] = ck.number(raw.get("bound", MISSING), join(path, "bound"), 0, None,
                              "the largest ratio allowed, e.g. 1.2")
    if prop["metric"] in HIGHER_IS_BETTER:
        ck.add(join(path, "metric"), prop["metric"],
               "a ratio is of costs: use median_ms, p99_ms or per_item_us")


def _plural(param: str, case: CaseDef | None) -> str:
    if case is not None:
        for axis in (*case.sweep, *case.values):
            if param_name(axis) == param:
                return axis
    return param


def _check_space(ck: Checker, raw: Any, path: str, case: CaseDef | None
                 ) -> tuple[dict[str, Dimension], tuple[str, ...]]:
    if raw is MISSING:
        ck.add(path, MISSING, "missing: name what may be drawn, e.g. batch_size = [100, 10000]")
        return {}, ()
    if not isinstance(raw, dict) or not raw:
        ck.add(path, raw, "must be a non-empty table of axis = [low, high] or [choices]")
        return {}, ()
    swept = {param_name(a): a for a in case.sweep} if case is not None else {}
    known = [*swept, *DATA_DEFAULTS, *WORKLOAD_DEFAULTS]
    space: dict[str, Dimension] = {}
    settings: list[str] = []
    for key, value in raw.items():
        where = join(path, key)
        name = param_name(key)
        axis = swept.get(name)
        if axis is None and key not in DATA_DEFAULTS and key not in WORKLOAD_DEFAULTS:
            if case is not None:
                ck.add(where, MISSING, f"unknown axis{did_you_mean(name, known)}: case "
                       f"{case.key} sweeps {', '.join(swept) or 'nothing'}; data and workload "
                       f"keys: {', '.join([*DATA_DEFAULTS, *WORKLOAD_DEFAULTS])}")
                continue
            axis = key  # the case is unknown (reported): still check the values
        if name in space:
            ck.add(where, MISSING, f"{name} is named twice (as {key} and its other spelling)")
            continue
        dim = _dimension(ck, key, name, axis, value, where)
        if dim is not None:
            space[name] = dim
            if name not in swept and case is not None:
                settings.append(name)
    return space, tuple(settings)


def _dimension(ck: Checker, key: str, name: str, axis: str | None, value: Any, where: str
               ) -> Dimension | None:
    if isinstance(value, dict):  # {choices = [...]}: numbers as choices, not a range
        ck.keys(value, where, ["choices"])
        value = value.get("choices", MISSING)
        numeric = False
    else:
        numeric = (isinstance(value, list) and len(value) == 2
                   and all(isinstance(v, int | float) and not isinstance(v, bool)
                           for v in value))
    if not isinstance(value, list) or not value:
        ck.add(where, value if value is not MISSING else MISSING,
               "must be [low, high] (a range) or a non-empty list of choices")
        return None
    if not numeric:
        if axis is not None:
            checked = check_axis_values(ck, axis, value, where)
            return Choices(tuple(checked)) if checked is not None else None
        return Choices(tuple(value)) if ck.list_(value, where, "choices") else None
    low, high = value
    if low >= high:
        ck.add(where, value, "an empty or inverted range: write [low, high] with low < high "
               "(a single value needs no drawing: leave the key out)")
        return None
    limits = _DATA_LIMITS.get(name, (1, 10**12))
    if low < limits[0] or high > limits[1]:
        ck.add(where, value, f"{key} must lie within [{limits[0]}, {limits[1]}]")
        return None
    integer = isinstance(low, int) and isinstance(high, int) and name not in ("skew",
                                                                              "null_ratio")
    if name in ("null_ratio", "disorder", "edge_case_fraction", "skew"):
        integer = False
    return Range(float(low), float(high), integer=integer, log=integer and low > 0)
