"""docs/architecture.md's layout is the map of the source tree: every module is on it, and it
names no module that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "k2matrix"
MAP = ROOT / "docs" / "architecture.md"
_ENTRY = re.compile(r"^  (\S+)", re.MULTILINE)  # a top-level entry of the layout block
_MODULE = re.compile(r"(?<![\w/.])([A-Za-z_][\w]*\.py)\b")


def layout_entries() -> dict[str, str]:
    """The layout block's entries under ``src/k2matrix/``: name -> its text."""
    text = MAP.read_text()
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    tree = block.split("src/k2matrix/", 1)[1]
    tree = re.split(r"^\S", tree, maxsplit=1, flags=re.MULTILINE)[0]  # up to tests/ etc.
    starts = list(_ENTRY.finditer(tree))
    return {m.group(1): tree[m.start():(starts[i + 1].start() if i + 1 < len(starts)
                                        else len(tree))]
            for i, m in enumerate(starts)}


def source_modules() -> dict[str, set[str]]:
    """Top-level modules (key "") and each package's modules, without dunder files."""
    out: dict[str, set[str]] = {"": set()}
    for path in PACKAGE.rglob("*.py"):
        if path.name.startswith("__"):
            continue
        parts = path.relative_to(PACKAGE).parts
        key = "" if len(parts) == 1 else "/".join(parts[:-1]) + "/"
        out.setdefault(key, set()).add(path.name)
    return out


def test_every_module_is_on_the_map() -> None:
    entries = layout_entries()
    missing: list[str] = []
    for package, modules in source_modules().items():
        if not package:
            missing += [m for m in modules if m not in entries]
            continue
        entry = entries.get(package)
        if entry is None:
            missing.append(package)
            continue
        named = set(_MODULE.findall(entry))
        missing += [package + m for m in sorted(modules - named)]
    assert not missing, f"not on the map in docs/architecture.md: {sorted(missing)}"


def test_the_map_names_only_modules_that_exist() -> None:
    modules = source_modules()
    # an entry may point at a module elsewhere (``values.py (checked against axes.py)``), a
    # package's dunder file or a file of the repository's root (``setup.py``)
    anywhere = set().union(*modules.values()) | {p.name for p in ROOT.glob("*.py")}
    stale: list[str] = []
    for name, entry in layout_entries().items():
        if name.endswith("/"):
            if name not in modules:
                stale.append(name)
                continue
            stale += [name + m for m in sorted(set(_MODULE.findall(entry)) - modules[name])
                      if m not in anywhere and not m.startswith("__")]
        elif name.endswith(".py") and name not in modules[""]:
            stale.append(name)
    assert not stale, f"docs/architecture.md names modules that do not exist: {stale}"
