"""Cells written to a file and read back: the replayable cells of ``k2matrix explore``
(counterexamples, with their axis values, data shape and seed) and any list of cells that
``--k2-cells FILE`` runs instead of a profile's.

The file: ``{"format_version": 1, "kind": "k2matrix-cells", "cells": [Cell.to_dict(), ...]}``
plus whatever a writer adds beside each cell (``property``, ``metric``, ``bound``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from k2matrix.cell import Cell
from k2matrix.errors import ResultsError
from k2matrix.results.jsonfile import read_json, write_json_atomic

KIND = "k2matrix-cells"
FORMAT_VERSION = 1
_FIX = "write it with k2matrix explore, or as {\"kind\": \"k2matrix-cells\", \"cells\": [...]}"


def write_cells(path: Path, cells: Iterable[Cell],
                extra: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Write ``cells`` (with ``extra[cell.id]`` beside each) atomically to ``path``."""
    entries = []
    for cell in cells:
        entry = {"cell": cell.to_dict()}
        entry.update((extra or {}).get(cell.id, {}))
        entries.append(entry)
    write_json_atomic(path, {"format_version": FORMAT_VERSION, "kind": KIND, "cells": entries})
    return path


def read_entries(path: Path) -> list[dict[str, Any]]:
    """The entries of a cells file (``{"cell": {...}, ...}``), strictly checked."""
    doc = read_json(path, _FIX)
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise ResultsError(f"{path}: not a cells file (no \"kind\": \"{KIND}\"); {_FIX}")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ResultsError(f"{path}: format_version {doc.get('format_version')!r} is not "
                           f"{FORMAT_VERSION}; write it again with this k2matrix")
    entries = doc.get("cells")
    if not isinstance(entries, list):
        raise ResultsError(f"{path}: \"cells\" must be a list; {_FIX}")
    out = []
    for i, entry in enumerate(entries):
        cell = entry.get("cell") if isinstance(entry, dict) else None
        if not isinstance(cell, dict) or not {"id", "component", "case", "seed"} <= set(cell):
            raise ResultsError(f"{path}: cells[{i}] has no cell with id, component, case and "
                               f"seed; {_FIX}")
        out.append(entry)
    return out


def read_cells(path: Path) -> list[Cell]:
    """The cells of a cells file."""
    return [Cell.from_dict(e["cell"]) for e in read_entries(path)]
