"""The implementations a matrix names, checked when it loads: ``[components.producer] impl``
and ``[components.writer] impl`` (a factory), and each value of the ``engines`` axis (an
engine). Each is a name of an installed implementation (entry point group
``k2matrix.<kind>``) or an import path ``"package.module:Name"``; :mod:`k2matrix.implementations`
imports it and checks it has the methods of its Protocol. A problem names the key path.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from k2matrix import implementations
from k2matrix.axes import (
    CATALOGS,
    COMPONENTS,
    DEFAULT_IMPLS,
    ENGINE_KIND,
    IMPL_KINDS,
    QUERY_SHAPES,
    SCHEMAS,
)
from k2matrix.checks import Checker, join

__all__ = ["check_engine", "check_impls"]

# What a spec resolved to, per validation pass (a Checker): each spec is imported once.
_SEEN: WeakKeyDictionary[Checker, dict[tuple[str, str], str | None]] = WeakKeyDictionary()


def _problem(ck: Checker, kind: str, spec: str) -> str | None:
    seen = _SEEN.setdefault(ck, {})
    if (kind, spec) not in seen:
        try:
            seen[kind, spec] = _unknown_support(implementations.resolve(kind, spec).supports)
        except implementations.UnknownName as exc:
            listed = ", ".join(exc.names) or "none installed"
            seen[kind, spec] = (f"unknown value{exc.hint}; allowed: {listed} (installed, entry "
                                f"point group {implementations.group(kind)}) or an import path "
                                f"{implementations.FORM}")
        except implementations.PluginError as exc:
            seen[kind, spec] = exc.problem
    return seen[kind, spec]


def _unknown_support(declared: dict[str, tuple[str, ...]]) -> str | None:
    """A problem with the names a ``supports`` declaration lists, or None."""
    for key, known in (("schemas", SCHEMAS), ("query_shapes", QUERY_SHAPES),
                       ("catalogs", CATALOGS)):
        unknown = [n for n in declared.get(key, ()) if n not in known]
        if unknown:
            return (f"supports[{key!r}] lists {', '.join(map(repr, unknown))}: not one of "
                    f"{', '.join(known)}")
    return None


def check_spec(ck: Checker, kind: str, value: Any, path: str) -> str | None:
    """``value`` if it names a usable implementation of ``kind``, else a problem at
    ``path`` and ``None``."""
    spec = ck.str_(value, path, what=f"a name of an installed {kind} or an import path "
                   f"{implementations.FORM}")
    if spec is None:
        return None
    problem = _problem(ck, kind, spec)
    if problem is not None:
        ck.add(path, value, problem)
        return None
    return spec


def check_engine(ck: Checker, value: Any, path: str) -> str | None:
    """One value of the ``engines`` axis (see :func:`check_spec`)."""
    return check_spec(ck, ENGINE_KIND, value, path)


def check_impls(ck: Checker, components: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """``{component: specs}`` from ``[components.<c>] impl`` (one spec, or a list of specs
    measured side by side), the built-in where absent."""
    impls: dict[str, tuple[str, ...]] = {c: (spec,) for c, spec in DEFAULT_IMPLS.items()}
    for component in COMPONENTS:
        table = components.get(component)
        if not isinstance(table, dict) or "impl" not in table:
            continue
        path = join(join("components", component), "impl")
        if component not in IMPL_KINDS:
            if component != "query":
                ck.add(path, table["impl"], f"the {component} component has no impl: it "
                       "composes the producer and writer the matrix names")
                continue
            ck.add(path, table["impl"], "the query component has no impl: name its engines "
                   "in the engines axis (an installed engine's name or "
                   f"{implementations.FORM})")
            continue
        given = table["impl"]
        if isinstance(given, list):
            if not given:
                ck.add(path, given, "an empty list: name at least one implementation")
                continue
            specs = [check_spec(ck, IMPL_KINDS[component], v, f"{path}[{i}]")
                     for i, v in enumerate(given)]
            if len(set(given)) < len(given):
                ck.add(path, given, "an implementation is named twice: name each once")
            elif all(s is not None for s in specs):
                impls[component] = tuple(s for s in specs if s is not None)
            continue
        spec = check_spec(ck, IMPL_KINDS[component], given, path)
        if spec is not None:
            impls[component] = (spec,)
    return impls
