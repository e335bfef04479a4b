"""Read and validate ``matrix.toml``; expand a profile into cells.

Every problem in a bad matrix is reported at once (:class:`~k2matrix.errors.MatrixError`),
each with its key path, the bad value and what is allowed.

Which values an axis takes in a case, most specific first: the profile's
``case_values."component.case"``, the case's own ``values``, the profile's axis override,
the global ``[axes]``.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from k2matrix.axes import COMPONENTS, GLOBAL_AXES, OPTIONAL_AXES
from k2matrix.backends.config import parse_backends
from k2matrix.checks import Checker, did_you_mean, join
from k2matrix.errors import MISSING, MatrixError, Problem
from k2matrix.matrix.axis_checks import check_axis_values
from k2matrix.matrix.impl_specs import check_impls
from k2matrix.matrix.model import (
    DATA_DEFAULTS,
    METRICS,
    WORKLOAD_DEFAULTS,
    CaseDef,
    Matrix,
    Profile,
    Target,
)
from k2matrix.matrix.property_checks import check_properties

__all__ = ["load_matrix", "parse_matrix"]


# ---------------------------------------------------------------------------- loading


def load_matrix(path: str | Path) -> Matrix:
    """Load and validate a matrix file; raise :class:`MatrixError` listing every problem."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MatrixError(source, [Problem(
            "<file>", source, "no such file; pass --matrix PATH or create matrix.toml "
            "(a copy of the repository's matrix.toml is a good start)")]) from None
    except IsADirectoryError:
        raise MatrixError(source, [Problem(
            "<file>", source, "is a directory; pass the matrix file itself, e.g. "
            f"--matrix {path / 'matrix.toml'}")]) from None
    except UnicodeDecodeError as exc:
        raise MatrixError(source, [Problem(
            "<file>", source, f"is not UTF-8 text (byte {exc.start}: {exc.reason}); a matrix "
            "is a TOML file: save it as UTF-8")]) from None
    except OSError as exc:
        raise MatrixError(source, [Problem(
            "<file>", source, f"cannot read: {exc.strerror or exc}; check the path and its "
            "permissions")]) from None
    return parse_matrix(text, source)


def parse_matrix(text: str, source: str = "<matrix>") -> Matrix:
    if not text.strip():
        raise MatrixError(source, [Problem(
            "<file>", MISSING, "the file is empty; start from a copy of the repository's "
            "matrix.toml")])
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MatrixError(source, [Problem(
            "<toml>", MISSING, f"TOML syntax error: {exc}; fix the syntax there")]) from None
    return _build(raw, source)


def _build(raw: dict[str, Any], source: str) -> Matrix:
    ck = Checker()
    ck.keys(raw, "", ["matrix", "axes", "data", "workload", "components", "profiles",
                      "targets", "backends", "properties"])

    meta = ck.table(raw, "matrix", "", required=True) or {}
    ck.keys(meta, "matrix", ["name", "seed", "description"])
    name = ck.str_(meta.get("name", "k2"), "matrix.name") or "k2"
    seed = ck.int_(meta.get("seed", 0), "matrix.seed", 0, 2**63 - 1,
                   "a non-negative integer") or 0

    axes_raw = ck.table(raw, "axes", "", required=True) or {}
    ck.keys(axes_raw, "axes", (*GLOBAL_AXES, *OPTIONAL_AXES))
    axes: dict[str, list[Any]] = {a: list(v) for a, v in OPTIONAL_AXES.items()}
    for axis in OPTIONAL_AXES:
        if axis in axes_raw:
            checked = check_axis_values(ck, axis, axes_raw[axis], join("axes", axis))
            if checked is not None:
                axes[axis] = checked
    for axis in GLOBAL_AXES:
        if axis not in axes_raw:
            if isinstance(raw.get("axes"), dict):  # a missing table is reported once
                ck.add(join("axes", axis), MISSING, "missing: every axis needs a list of values")
            continue
        checked = check_axis_values(ck, axis, axes_raw[axis], join("axes", axis))
        if checked is not None:
            axes[axis] = checked

    data = dict(DATA_DEFAULTS)
    data.update(_check_data(ck, ck.table(raw, "data", "") or {}, "data"))
    workload = dict(WORKLOAD_DEFAULTS)
    workload.update(_check_workload(ck, ck.table(raw, "workload", "") or {}, "workload"))

    components = ck.table(raw, "components", "", required=True) or {}
    cases = _check_cases(ck, components)
    impl_lists = check_impls(ck, components)
    profiles = _check_profiles(ck, ck.table(raw, "profiles", "", required=True) or {}, cases)
    target_table = ck.table(raw, "targets", "") or {}
    targets = _check_targets(ck, target_table, cases)
    properties = check_properties(ck, ck.table(raw, "properties", "") or {}, cases, targets,
                                  set(target_table))
    backends = parse_backends(ck, ck.table(raw, "backends", "") or {}, "backends")

    if ck.problems:
        raise MatrixError(source, ck.problems)
    for axis in GLOBAL_AXES:
        axes.setdefault(axis, [])
    return Matrix(source=source, name=name, seed=seed, axes=axes, data=data, workload=workload,
                  cases=cases, profiles=profiles, targets=targets, backends=backends,
                  impls={c: specs[0] for c, specs in impl_lists.items()},
                  impl_lists=impl_lists, properties=properties, raw=raw)


def _check_data(ck: Checker, table: dict[str, Any], path: str) -> dict[str, Any]:
    ck.keys(table, path, DATA_DEFAULTS)
    out: dict[str, Any] = {}
    for key, value in table.items():
        where = join(path, key)
        if key == "symbols":
            got: Any = ck.int_(value, where, 1, 1_000_000, "an integer from 1 to 1000000")
        elif key == "skew":
            got = ck.number(value, where, 0, 10, "a Zipf exponent from 0 to 10")
        elif key in ("null_ratio", "disorder", "edge_case_fraction"):
            got = ck.number(value, where, 0, 1, "a fraction from 0 to 1")
        elif key == "rows_per_second":
            got = ck.int_(value, where, 1, None, "a positive integer")
        elif key == "start":
            got = _check_start(ck, value, where)
        else:
            continue
        if got is not None:
            out[key] = value
    return out


def _check_start(ck: Checker, value: Any, where: str) -> str | None:
    from datetime import datetime

    text = ck.str_(value, where, what="an ISO 8601 UTC time such as 2026-01-05T14:30:00Z")
    if text is None:
        return None
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        ck.add(where, value, "must be an ISO 8601 UTC time such as 2026-01-05T14:30:00Z")
        return None
    return text


def _check_workload(ck: Checker, table: dict[str, Any], path: str) -> dict[str, int]:
    ck.keys(table, path, WORKLOAD_DEFAULTS)
    out: dict[str, int] = {}
    for key, value in table.items():
        if key in WORKLOAD_DEFAULTS:
            got = ck.int_(value, join(path, key), 1, None, "a positive integer")
            if got is not None:
                out[key] = got
    return out


def _check_cases(ck: Checker, table: dict[str, Any]) -> dict[str, CaseDef]:
    ck.keys(table, "components", COMPONENTS)
    out: dict[str, CaseDef] = {}
    for component in COMPONENTS:
        comp = ck.table(table, component, "components")
        if comp is None:
            continue
        cpath = join("components", component)
        ck.keys(comp, cpath, ["cases", "impl"])  # impl: see check_impls
        cases = ck.table(comp, "cases", cpath, required=True) or {}
        for case_name, case in cases.items():
            path = join(join(cpath, "cases"), case_name)
            if not isinstance(case, dict):
                ck.add(path, case, "must be a table with sweep = [...]")
                continue
            ck.keys(case, path, ["sweep", "values", "slow", "exclusive", "description",
                                 "not_countable"])
            values_raw = case.get("values", {})
            values: dict[str, list[Any]] = {}
            if not isinstance(values_raw, dict):
                ck.add(join(path, "values"), values_raw, "must be a table of axis = [values]")
                values_raw = {}
            for axis, vals in values_raw.items():
                checked = check_axis_values(ck, axis, vals, join(join(path, "values"), axis))
                if checked is not None:
                    values[axis] = checked
            sweep = case.get("sweep", MISSING)
            if sweep is MISSING:
                ck.add(join(path, "sweep"), MISSING, "missing: list the axes this case sweeps")
                sweep = []
            elif not isinstance(sweep, list) or not all(isinstance(s, str) for s in sweep):
                ck.add(join(path, "sweep"), sweep, "must be a list of axis names")
                sweep = []
            for i, axis in enumerate(sweep):
                if axis == "components":
                    ck.add(join(join(path, "sweep"), i), axis,
                           "a case belongs to one component; do not sweep components")
                elif axis not in GLOBAL_AXES and axis not in OPTIONAL_AXES and axis not in values:
                    known = [a for a in (*GLOBAL_AXES, *OPTIONAL_AXES) if a != "components"]
                    ck.add(join(join(path, "sweep"), i), axis,
                           f"unknown axis{did_you_mean(axis, known)}; use one of "
                           f"{', '.join(known)} or declare its values in values.{axis}")
            slow = ck.bool_(case.get("slow", False), join(path, "slow")) or False
            exclusive = ck.bool_(case.get("exclusive", False), join(path, "exclusive"),
                                 "true: under pytest -n no other cell runs beside this one"
                                 ) or False
            not_countable = case.get("not_countable", "")
            if not isinstance(not_countable, str) or (
                    "not_countable" in case and not not_countable.strip()):
                ck.add(join(path, "not_countable"), not_countable,
                       "must be a non-empty string saying why the case's work cannot be "
                       "counted in instructions (e.g. \"librdkafka delivers on its own "
                       "threads\"); leave it out for a countable case")
                not_countable = ""
            out[f"{component}.{case_name}"] = CaseDef(
                component=component, name=str(case_name), sweep=tuple(sweep), values=values,
                slow=slow, exclusive=exclusive, description=str(case.get("description", "")),
                not_countable=not_countable.strip(),
            )
    return out


def _check_profiles(ck: Checker, table: dict[str, Any], cases: Mapping[str, CaseDef]
                    ) -> dict[str, Profile]:
    out: dict[str, Profile] = {}
    if not table:
        ck.add("profiles", MISSING, "missing: define at least [profiles.smoke]")
    allowed = ["description", "include_slow", "cases", "case_values", "workload", "data",
               *GLOBAL_AXES, *OPTIONAL_AXES]
    for pname, prof in table.items():
        path = join("profiles", pname)
        if not isinstance(prof, dict):
            ck.add(path, prof, "must be a table")
            continue
        ck.keys(prof, path, allowed)
        include_slow = ck.bool_(prof.get("include_slow", False), join(path, "include_slow"))
        patterns: tuple[str, ...] | None = None
        if "cases" in prof:
            plist = ck.list_(prof["cases"], join(path, "cases"),
                             'case patterns such as "writer.*"')
            if plist is not None:
                for i, pat in enumerate(plist):
                    if not isinstance(pat, str) or not any(
                        fnmatch.fnmatchcase(k, pat) for k in cases
                    ):
                        ck.add(join(join(path, "cases"), i), pat,
                               f"matches no case{did_you_mean(str(pat), cases)}; cases are "
                               f"{', '.join(cases)}")
                patterns = tuple(str(p) for p in plist)
        axes: dict[str, list[Any]] = {}
        for axis in (*GLOBAL_AXES, *OPTIONAL_AXES):
            if axis in prof:
                checked = check_axis_values(ck, axis, prof[axis], join(path, axis))
                if checked is not None:
                    axes[axis] = checked
        case_values: dict[str, dict[str, list[Any]]] = {}
        cv = prof.get("case_values", {})
        if not isinstance(cv, dict):
            ck.add(join(path, "case_values"), cv, 'must be a table of "component.case" tables')
            cv = {}
        for key, overrides in cv.items():
            cpath = join(join(path, "case_values"), key)
            if key not in cases:
                ck.add(cpath, MISSING, f"unknown case{did_you_mean(key, cases)}")
                continue
            if not isinstance(overrides, dict):
                ck.add(cpath, overrides, "must be a table of axis = [values]")
                continue
            for axis, vals in overrides.items():
                if axis not in cases[key].sweep:
                    ck.add(join(cpath, axis), MISSING,
                           f"case {key} does not sweep this axis; it sweeps "
                           f"{', '.join(cases[key].sweep) or 'nothing'}")
                    continue
                checked = check_axis_values(ck, axis, vals, join(cpath, axis))
                if checked is not None:
                    case_values.setdefault(key, {})[axis] = checked
        workload = _check_workload(ck, ck.table(prof, "workload", path) or {},
                                   join(path, "workload"))
        data = _check_data(ck, ck.table(prof, "data", path) or {}, join(path, "data"))
        out[pname] = Profile(
            name=pname, description=str(prof.get("description", "")),
            include_slow=include_slow is True, cases=patterns, axes=axes,
            case_values=case_values, workload=workload, data=data,
        )
    return out


def _check_targets(ck: Checker, table: dict[str, Any], cases: Mapping[str, CaseDef]
                   ) -> dict[str, Target]:
    out: dict[str, Target] = {}
    for tname, tgt in table.items():
        path = join("targets", tname)
        if not isinstance(tgt, dict):
            ck.add(path, tgt, "must be a table with metric, direction, target, critical")
            continue
        ck.keys(tgt, path, ["metric", "direction", "target", "critical", "applies_to",
                            "where", "unit", "sustained", "description"])
        for key in ("metric", "direction", "target", "critical", "applies_to"):
            if key not in tgt:
                ck.add(join(path, key), MISSING, "missing: every target needs it")
        metric = ck.str_(tgt.get("metric", "throughput"), join(path, "metric"), METRICS)
        direction = ck.str_(tgt.get("direction", "higher"), join(path, "direction"),
                            ("higher", "lower"))
        level = ck.number(tgt.get("target", 1), join(path, "target"), 0, None,
                          "a positive number")
        critical = ck.number(tgt.get("critical", 1), join(path, "critical"), 0, None,
                             "a positive number")
        if level is not None and critical is not None and direction is not None:
            if direction == "higher" and level < critical:
                ck.add(join(path, "target"), tgt.get("target"),
                       f"higher is better here, so the target must be at least the critical "
                       f"level ({tgt.get('critical')}); swap them or set direction = \"lower\"")
            if direction == "lower" and level > critical:
                ck.add(join(path, "target"), tgt.get("target"),
                       f"lower is better here, so the target must be at most the critical "
                       f"level ({tgt.get('critical')}); swap them or set direction = \"higher\"")
        applies = ck.list_(tgt.get("applies_to", ["*"]), join(path, "applies_to"),
                           'case patterns such as "producer.batch"') or []
        for i, pat in enumerate(applies):
            if not isinstance(pat, str) or not any(fnmatch.fnmatchcase(k, pat) for k in cases):
                ck.add(join(join(path, "applies_to"), i), pat,
                       f"matches no case{did_you_mean(str(pat), cases)}")
        where: dict[str, list[Any]] = {}
        where_raw = tgt.get("where", {})
        if not isinstance(where_raw, dict):
            ck.add(join(path, "where"), where_raw, "must be a table of axis = [values]")
            where_raw = {}
        for axis, vals in where_raw.items():
            known_axes = ({*GLOBAL_AXES, *OPTIONAL_AXES}
                          | {a for c in cases.values() for a in c.values})
            if axis not in known_axes:
                ck.add(join(join(path, "where"), axis), MISSING,
                       f"unknown axis{did_you_mean(axis, known_axes)}")
                continue
            checked = check_axis_values(ck, axis, vals, join(join(path, "where"), axis))
            if checked is not None:
                where[axis] = checked
        unit = tgt.get("unit", "")
        if not isinstance(unit, str):
            ck.add(join(path, "unit"), unit, "must be a string such as \"msg/s\"")
            unit = ""
        sustained = ck.bool_(tgt.get("sustained", False), join(path, "sustained")) or False
        if metric and direction and level is not None and critical is not None:
            out[tname] = Target(
                name=tname, metric=metric, direction=direction, target=level,
                critical=critical, applies_to=tuple(str(a) for a in applies), where=where,
                unit=unit, sustained=sustained,
            )
    return out
