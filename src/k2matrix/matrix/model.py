"""The matrix as data: cases, profiles, targets and the Matrix that expands a profile into
cells. :mod:`k2matrix.matrix` reads and validates ``matrix.toml`` into these."""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from k2matrix.axes import DEFAULT_IMPLS, IMPL_KINDS, OWN_CODE, OWN_CODE_CASES, in_cell_id
from k2matrix.backends.config import Backends
from k2matrix.cell import Cell, derive_seed, format_param, param_name
from k2matrix.checks import did_you_mean
from k2matrix.errors import MISSING, MatrixError, Problem
from k2matrix.matrix.backend_fit import never_runs
from k2matrix.matrix.properties import Property

METRICS = ("throughput", "median_ms", "p99_ms")

DATA_DEFAULTS: dict[str, Any] = {
    "symbols": 500,
    "skew": 1.1,
    "null_ratio": 0.05,
    "disorder": 0.0,
    "edge_case_fraction": 0.0,
    "start": "2026-01-05T14:30:00Z",
    "rows_per_second": 2000,
}
WORKLOAD_DEFAULTS: dict[str, int] = {
    "sustained_messages": 200_000,
    "memory_messages": 1_000_000,
    "paced_rate": 10_000,
    "paced_messages": 20_000,
    "sustained_rows": 1_000_000,
    "sustained_input_batch": 100,
    "writer_flush_rows": 50_000,
    "stress_rows": 500_000,
    "stress_queries": 1_000,
    "throughput_queries": 50,
    "commit_history": 300,  # commits into one table in writer.commits (growth over history)
    # offered rows/s end to end, all workers together; matrix.toml's value (docs/pipeline.md)
    "pipeline_rate": 50_000,
    "pipeline_seconds": 60,  # how long the producers offer it
    "pipeline_restart_percent": 50,  # the restart case kills the consumer this far in
}


# The built-in implementations' import paths (as matrix.toml may spell them).
_DEFAULT_TARGETS = {"producer": "k2matrix.producer.k2producer:K2Producer",
                    "writer": "k2matrix.writer.iceberg:IcebergWriter"}


def impl_token(spec: str) -> str:
    """How an implementation appears in a cell id: its name (``k2_adapters:K2Producer`` ->
    ``K2Producer``; an installed name as it is)."""
    return spec.rpartition(":")[2].rpartition(".")[2] or spec


def is_default(component: str, spec: str) -> bool:
    """Whether ``spec`` names the built-in implementation of ``component``."""
    return spec in (DEFAULT_IMPLS.get(component), _DEFAULT_TARGETS.get(component))


def _own_code_case(case: CaseDef) -> bool:
    return any(fnmatch.fnmatchcase(case.key, p) for p in OWN_CODE_CASES)


@dataclass(frozen=True)
class CaseDef:
    component: str
    name: str
    sweep: tuple[str, ...]
    values: Mapping[str, list[Any]]
    slow: bool = False
    exclusive: bool = False  # under xdist: no other cell runs beside this one
    description: str = ""
    not_countable: str = ""  # why its instructions cannot be counted ("" = countable)

    @property
    def key(self) -> str:
        return f"{self.component}.{self.name}"


@dataclass(frozen=True)
class Profile:
    name: str
    description: str = ""
    include_slow: bool = False
    cases: tuple[str, ...] | None = None
    axes: Mapping[str, list[Any]] = field(default_factory=dict)
    case_values: Mapping[str, Mapping[str, list[Any]]] = field(default_factory=dict)
    workload: Mapping[str, int] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A performance target from the K2 table: ``target`` and ``critical`` levels."""

    name: str
    metric: str
    direction: str
    target: float
    critical: float
    applies_to: tuple[str, ...]
    where: Mapping[str, list[Any]] = field(default_factory=dict)
    unit: str = ""
    sustained: bool = False

    def applies(self, cell: Cell) -> bool:
        if not any(fnmatch.fnmatchcase(cell.key, p) for p in self.applies_to):
            return False
        for axis, allowed in self.where.items():
            value = cell.params.get(param_name(axis), MISSING)
            if value is MISSING or value not in allowed:
                return False
        return True

    def status(self, value: float) -> str:
        """``pass``, ``below_target`` or ``below_critical`` for a measured value."""
        if self.direction == "higher":
            if value >= self.target:
                return "pass"
            return "below_target" if value >= self.critical else "below_critical"
        if value <= self.target:
            return "pass"
        return "below_target" if value <= self.critical else "below_critical"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "metric": self.metric, "direction": self.direction,
            "target": self.target, "critical": self.critical,
            "applies_to": list(self.applies_to), "where": dict(self.where),
            "unit": self.unit, "sustained": self.sustained,
        }


@dataclass(frozen=True)
class Matrix:
    source: str
    name: str
    seed: int
    axes: Mapping[str, list[Any]]
    data: Mapping[str, Any]
    workload: Mapping[str, int]
    cases: Mapping[str, CaseDef]
    profiles: Mapping[str, Profile]
    targets: Mapping[str, Target]
    backends: Backends
    # {component: implementation spec}: [components.producer|writer] impl (k2matrix.implementations)
    impls: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_IMPLS))
    # {component: every spec named}: several are measured side by side (the cell's ``impl``)
    impl_lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    properties: Mapping[str, Property] = field(default_factory=dict)  # [properties.*]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            hint = did_you_mean(name, self.profiles)
            raise MatrixError(
                self.source,
                [Problem("profile", name, f"no such profile{hint}; defined: "
                         f"{', '.join(self.profiles)}")],
            ) from None

    def cells(self, profile: str = "smoke", include_slow: bool | None = None) -> list[Cell]:
        """Every cell of ``profile`` that can run, in matrix order, with stable readable ids
        (:meth:`unplanned` lists the others and why).

        ``include_slow`` overrides the profile's ``include_slow`` (``-m slow`` sets it)."""
        return [c for c in self._grid(profile, include_slow) if never_runs(c) is None]

    def unplanned(self, profile: str = "smoke", include_slow: bool | None = None
                  ) -> list[tuple[Cell, str]]:
        """The cells of ``profile`` that can never run on the configured backends, each with
        the reason (:mod:`k2matrix.matrix.backend_fit`)."""
        out = []
        for cell in self._grid(profile, include_slow):
            reason = never_runs(cell)
            if reason is not None:
                out.append((cell, reason))
        return out

    def _grid(self, profile: str, include_slow: bool | None) -> list[Cell]:
        prof = self.profile(profile)
        with_slow = prof.include_slow if include_slow is None else include_slow
        components = prof.axes.get("components", self.axes["components"])
        data = {**self.data, **prof.data}
        workload = {**self.workload, **prof.workload}
        out: list[Cell] = []
        for case in self.cases.values():
            if case.component not in components:
                continue
            if prof.cases is not None:
                if not any(fnmatch.fnmatchcase(case.key, p) for p in prof.cases):
                    continue
            elif case.slow and not with_slow:
                continue
            value_lists = [self._values(prof, case, axis) for axis in case.sweep]
            impl_axis = self._impl_axis(case)
            for combo in product(*value_lists, *([impl_axis] if impl_axis else [])):
                params = {param_name(a): v for a, v in zip(case.sweep, combo, strict=False)}
                parts = [case.component, case.name]
                parts += [format_param(k, v) for k, v in params.items() if in_cell_id(k, v)]
                if impl_axis:  # several side by side: each but the built-in in the id
                    params["impl"] = combo[-1]
                    if not is_default(case.component, combo[-1]):
                        parts.append(impl_token(combo[-1]))
                elif self._own_code(case):
                    params["times"] = OWN_CODE
                    parts.append(OWN_CODE)
                cell_id = "-".join(parts)
                out.append(Cell(
                    id=cell_id, component=case.component, case=case.name, params=params,
                    seed=derive_seed(self.seed, cell_id), slow=case.slow,
                    exclusive=case.exclusive, not_countable=case.not_countable,
                    settings={**data, **workload},
                ))
        return out

    def impl_record(self) -> dict[str, list[str]]:
        """What a run records of the implementations named (``k2.impls``)."""
        return {c: list(self.specs(c)) for c in IMPL_KINDS}

    def specs(self, component: str) -> tuple[str, ...]:
        """Every implementation the matrix names for ``component`` (the first is ``impls``)."""
        if component in self.impl_lists:
            return tuple(self.impl_lists[component])
        return (self.impls[component],) if component in self.impls else ()

    def _impl_axis(self, case: CaseDef) -> list[str]:
        """The implementations a case's cells multiply by: those of its component when the
        matrix names several and the case times the implementation, else none."""
        specs = self.specs(case.component)
        if case.component not in IMPL_KINDS or len(specs) < 2 or _own_code_case(case):
            return []
        return list(specs)

    def _own_code(self, case: CaseDef) -> bool:
        """Whether the case times k2matrix's own code while the matrix names another
        implementation of its component (the pipeline: of the producer or the writer)."""
        if not _own_code_case(case):
            return False
        components = IMPL_KINDS if case.component not in IMPL_KINDS else (case.component,)
        return any(not is_default(c, spec) for c in components for spec in self.specs(c))

    def _values(self, prof: Profile, case: CaseDef, axis: str) -> list[Any]:
        if axis in prof.case_values.get(case.key, {}):
            return list(prof.case_values[case.key][axis])
        if axis in case.values:
            return list(case.values[axis])
        if axis in prof.axes:
            return list(prof.axes[axis])
        return list(self.axes[axis])

    def targets_for(self, cell: Cell) -> list[Target]:
        return [t for t in self.targets.values() if t.applies(cell)]

    def fingerprint(self, without_impls: bool = False) -> str:
        """A digest of everything that decides which cells exist and what they do (not the
        backends, which may differ between machines): runs merge only with equal ones.
        ``without_impls``: leaving out the producer and writer implementations named, so
        that two runs of the same matrix with other implementations compare (the
        implementation is then what is compared)."""
        keep = {k: v for k, v in self.raw.items() if k != "backends"}
        if without_impls and isinstance(keep.get("components"), dict):
            keep["components"] = {c: ({k: v for k, v in t.items() if k != "impl"}
                                      if isinstance(t, dict) else t)
                                  for c, t in keep["components"].items()}
        text = json.dumps(keep, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
