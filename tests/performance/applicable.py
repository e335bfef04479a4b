"""Cells outside what the implementation under test supports: ``not_applicable``."""

from __future__ import annotations

import pytest

from k2matrix.cell import Cell
from k2matrix.implementations import Plugin
from k2matrix.results.record import NOT_APPLICABLE


def require_support(plugin: Plugin, cell: Cell, shapes: tuple[str, ...] = ()) -> None:
    """Skip the cell as ``not_applicable`` (with the reason) when it is outside what the
    implementation declares it supports (schemas, query shapes, catalogs): neither failed
    nor passed."""
    reason = plugin.not_applicable(cell.schema, shapes, str(cell.params.get("catalog", "")))
    if reason is not None:
        pytest.skip(f"{NOT_APPLICABLE}: {reason}")
