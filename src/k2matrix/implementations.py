"""The one loader of implementations: producers, writers and query engines.

An implementation is named by a *spec*, either

- an import path ``"package.module:Name"`` (``Name`` may be dotted: ``Class.factory``), or
- a name registered in the entry point group ``k2matrix.<kind>`` (kinds: ``producer``,
  ``writer``, ``engine``) by an installed package; k2matrix registers its own built-ins
  there (``pyproject.toml``), so ``"polars"`` or ``"iceberg"`` resolve like any plug-in.

:func:`resolve` imports the factory and checks it: it must be callable, and a class (or a
function whose return annotation is a class) must have the methods of the kind's Protocol.
:meth:`Plugin.build` calls the factory and checks the object it returns against the whole
Protocol (methods and attributes). Every failure is a :class:`PluginError` naming the spec,
what is wrong and the fix.

This module sits low in the layers: it reaches the Protocols (in the component packages)
only by import path, at run time, never by a static import.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from k2matrix.errors import K2Error

__all__ = [
    "KINDS", "SUPPORT_KEYS", "Capabilities", "Plugin", "PluginError", "UnknownName", "group",
    "installed", "load", "missing_members", "protocol", "protocol_members", "resolve",
]

# The Protocol each kind of implementation satisfies (by import path: see the module doc).
KINDS: dict[str, str] = {
    "producer": "k2matrix.producer.protocol:TradeProducer",
    "writer": "k2matrix.writer.protocol:TradeWriter",
    "engine": "k2matrix.query.protocol:QueryEngine",
}
FORM = "'package.module:Name'"
# What a factory's ``supports`` may declare (each a list of names; absent: everything).
SUPPORT_KEYS = ("schemas", "query_shapes", "catalogs", "capabilities")


class PluginError(K2Error):
    """An implementation that cannot be loaded or used; names the spec and the fix."""

    def __init__(self, kind: str, spec: object, problem: str) -> None:
        self.kind = kind
        self.spec = spec
        self.problem = problem
        super().__init__(f"{kind} {spec!r}: {problem}")


class UnknownName(PluginError):
    """A name (no colon) that no installed package registers for the kind."""

    def __init__(self, kind: str, spec: str, names: list[str], hint: str) -> None:
        self.names = names
        self.hint = hint
        listed = ", ".join(names) or "none"
        super().__init__(kind, spec, f"no {kind} of that name{hint}; installed (entry point "
                         f"group {group(kind)}): {listed}; or give an import path {FORM} "
                         "(reinstall k2matrix, pip install -e ., if a built-in is missing)")


def group(kind: str) -> str:
    """The entry point group of a kind: ``k2matrix.<kind>``."""
    return f"k2matrix.{kind}"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}: use one of {', '.join(KINDS)}")


def installed(kind: str) -> dict[str, str]:
    """``{name: "module:attr"}`` of every installed entry point of ``kind``, by name."""
    _check_kind(kind)
    found: dict[str, str] = {}
    for ep in metadata.entry_points(group=group(kind)):
        found.setdefault(ep.name, ep.value)
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class Plugin:
    """A resolved implementation: the factory and where it came from."""

    kind: str
    spec: str  # as the user wrote it
    target: str  # "module:attr"
    factory: Callable[..., Any]

    @property
    def name(self) -> str:
        """A short label: the attribute's name (``K2Producer``)."""
        return self.target.rpartition(":")[2].rpartition(".")[2]

    def accepts(self, keyword: str) -> bool:
        """Whether the factory names ``keyword`` as a parameter (``**kwargs`` does not
        count: an optional option is passed only to a factory that declares it)."""
        try:
            params = inspect.signature(self.factory).parameters
        except (TypeError, ValueError):
            return False
        param = params.get(keyword)
        return param is not None and param.kind in (
            inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)

    @property
    def supports(self) -> dict[str, tuple[str, ...]]:
        """What the factory declares it supports (its ``supports`` attribute: a mapping of
        :data:`SUPPORT_KEYS` to names); a key it leaves out means everything."""
        return declared_support(self.kind, self.spec, self.factory)

    def not_applicable(self, schema: str = "", query_shapes: tuple[str, ...] = (),
                       catalog: str = "") -> str | None:
        """Why a cell of ``schema`` running ``query_shapes`` on a ``catalog`` (a value of
        the ``catalogs`` axis) is outside what the implementation supports, or None."""
        declared = self.supports
        catalogs = declared.get("catalogs")
        if catalog and catalogs is not None and catalog not in catalogs:
            return (f"{self.spec} supports catalog(s) {', '.join(catalogs) or 'none'}; this "
                    f"cell's is {catalog}")
        schemas = declared.get("schemas")
        if schema and schemas is not None and schema not in schemas:
            return (f"{self.spec} supports schema(s) {', '.join(schemas) or 'none'}; this cell "
                    f"is {schema}")
        shapes = declared.get("query_shapes")
        if shapes is not None:
            outside = [q for q in query_shapes if q not in shapes]
            if outside:
                return (f"{self.spec} does not serve query shape(s) {', '.join(outside)} "
                        f"(it serves {', '.join(shapes) or 'none'})")
        return None

    def build(self, *args: Any, **kwargs: Any) -> Any:
        """Call the factory; :class:`PluginError` unless the result satisfies the Protocol."""
        made = self.factory(*args, **kwargs)
        missing = missing_members(self.kind, made)
        if missing:
            raise PluginError(self.kind, self.spec, _lacks(self.kind, type(made).__name__,
                                                           missing))
        return made


def protocol(kind: str) -> type:
    """The Protocol class of ``kind``."""
    _check_kind(kind)
    module, _, attr = KINDS[kind].partition(":")
    proto: type = getattr(importlib.import_module(module), attr)
    return proto


def protocol_members(kind: str) -> tuple[list[str], list[str]]:
    """(methods, attributes) that the Protocol of ``kind`` declares, in declaration order."""
    proto = protocol(kind)
    methods: list[str] = []
    attributes: list[str] = []
    for klass in reversed(proto.__mro__):
        if klass in (object, typing.Protocol, typing.Generic):
            continue
        for name in getattr(klass, "__annotations__", {}):
            if not name.startswith("_") and name not in attributes:
                attributes.append(name)
        for name, value in vars(klass).items():
            if not name.startswith("_") and callable(value) and name not in methods:
                methods.append(name)
    return methods, [a for a in attributes if a not in methods]


def missing_members(kind: str, obj: Any) -> list[str]:
    """The Protocol members ``obj`` lacks. For a class only the methods are checked (the
    attributes may be set by ``__init__``); for an instance, methods and attributes."""
    methods, attributes = protocol_members(kind)
    missing = [m for m in methods if not callable(getattr(obj, m, None))]
    if not isinstance(obj, type):
        missing += [a for a in attributes if not hasattr(obj, a)]
    return missing


def _lacks(kind: str, what: str, missing: list[str]) -> str:
    proto = KINDS[kind]
    return (f"{what} lacks {', '.join(missing)} of the {proto.rpartition(':')[2]} Protocol "
            f"({proto.replace(':', '.')}); add them")


def resolve(kind: str, spec: object) -> Plugin:
    """Import and check the factory ``spec`` names (see the module doc)."""
    _check_kind(kind)
    if not isinstance(spec, str) or not spec.strip():
        raise PluginError(kind, spec, f"must be a name of an installed {kind} or an import "
                          f"path {FORM}")
    if ":" not in spec:
        names = installed(kind)
        if spec not in names:
            close = difflib.get_close_matches(spec, list(names), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            if not close and "." in spec:
                hint = f" (an import path needs a colon: {spec.rpartition('.')[0]}:"\
                       f"{spec.rpartition('.')[2]}?)"
            raise UnknownName(kind, spec, list(names), hint)
        target = names[spec]
    else:
        target = spec
    module_name, _, attr = target.partition(":")
    module_name, attr = module_name.strip(), attr.strip()
    if not module_name or not attr:
        raise PluginError(kind, spec, f"an import path needs a module and a name: {FORM}")
    factory = _import(kind, spec, module_name, attr)
    if not callable(factory):
        raise PluginError(kind, spec, f"{target} is a {type(factory).__name__}, not a class "
                          f"or a function; name the factory that builds the {kind}")
    checked = factory if isinstance(factory, type) else _return_class(factory)
    if checked is not None:
        missing = missing_members(kind, checked)
        if missing:
            raise PluginError(kind, spec, _lacks(kind, checked.__name__, missing))
    return Plugin(kind=kind, spec=spec, target=f"{module_name}:{attr}", factory=factory)


def load(kind: str, spec: object, *args: Any, **kwargs: Any) -> Any:
    """:func:`resolve` ``spec`` and build it with ``args`` and ``kwargs``."""
    return resolve(kind, spec).build(*args, **kwargs)


def _import(kind: str, spec: str, module_name: str, attr: str) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise PluginError(kind, spec, f"no module named {module_name!r}: install the "
                              "package that provides it, or put its folder on PYTHONPATH"
                              ) from None
        raise PluginError(kind, spec, f"importing {module_name} failed: {exc}; install what "
                          "it imports") from None
    except Exception as exc:
        raise PluginError(kind, spec, f"importing {module_name} failed: "
                          f"{type(exc).__name__}: {exc}; fix the module") from None
    value: Any = module
    for i, part in enumerate(attr.split(".")):
        if not hasattr(value, part):
            where = module_name + "".join(f".{p}" for p in attr.split(".")[:i])
            public = [n for n in dir(value) if not n.startswith("_")]
            close = difflib.get_close_matches(part, public, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PluginError(kind, spec, f"{where} has no attribute {part!r}{hint}; name a "
                              "class or function defined there")
        value = getattr(value, part)
    return value


def declared_support(kind: str, spec: str, factory: Any) -> dict[str, tuple[str, ...]]:
    """A factory's ``supports`` declaration, checked: :class:`PluginError` naming the bad key
    or value and the fix."""
    raw = getattr(factory, "supports", None)
    if raw is None:
        return {}
    if callable(raw):
        raw = raw()
    if not isinstance(raw, dict):
        raise PluginError(kind, spec, f"supports is a {type(raw).__name__}; make it a dict of "
                          f"{', '.join(SUPPORT_KEYS)} to lists of names")
    out: dict[str, tuple[str, ...]] = {}
    for key, names in raw.items():
        if key not in SUPPORT_KEYS:
            raise PluginError(kind, spec, f"supports[{key!r}]: unknown key; use "
                              f"{', '.join(SUPPORT_KEYS)}")
        if isinstance(names, str) or not all(isinstance(n, str) for n in names):
            raise PluginError(kind, spec, f"supports[{key!r}] = {names!r}: give a list of "
                              "names")
        out[key] = tuple(names)
    return out


def _return_class(factory: Callable[..., Any]) -> type | None:
    """The class a factory function's return annotation names, if it resolves to one."""
    try:
        hints = typing.get_type_hints(factory)
    except Exception:  # unresolvable annotations: the instance is checked at build time
        return None
    returned = hints.get("return")
    return returned if isinstance(returned, type) else None


class Capabilities:
    """An implementation as a suite drives it: resolved from its spec, plus the optional
    capabilities it lacked in a cell. :meth:`info` is what every cell records (``impl`` and,
    when something was missing, ``capabilities_missing``). The component suites' helpers
    (``producer/suite.py``, ``writer/suite.py``) build on it."""

    def __init__(self, kind: str, spec: str) -> None:
        self.plugin = resolve(kind, spec)
        self.missing: list[str] = []
        self.unjudged: list[str] = []  # missing capabilities the cell's figure needs
        self.configured: dict[str, Any] | None = None  # ComponentConfig.describe() given

    def lacks(self, capability: str, needed: bool = False) -> None:
        """Note an optional capability the implementation does not have (once); ``needed``:
        the cell's figure depends on it, so the figure is flagged and not judged."""
        if capability not in self.missing:
            self.missing.append(capability)
        if needed and capability not in self.unjudged:
            self.unjudged.append(capability)

    def info(self) -> dict[str, Any]:
        """What every cell records about the implementation."""
        out: dict[str, Any] = {"impl": self.plugin.spec}
        if self.missing:
            out["capabilities_missing"] = list(self.missing)
        if self.unjudged:
            out["not_judged"] = "; ".join(self.unjudged)
        if self.configured is not None:
            out["component_config"] = self.configured
        return out
