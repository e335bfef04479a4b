"""Polars analysis of a run (the only package that imports polars): per-cell status against
the targets, scaling fits, the K2 verdict, baseline comparison, tables, plots and reports.

Modules: ``rows`` (the frame; a run is read by :mod:`k2matrix.results.load`), ``latency``
(what a cell's latency percentiles measure), ``status`` (targets), ``applies``, ``verdict``,
``scaling`` and ``fit``, ``drift``, ``draws``, ``compare`` (baseline), ``noise``,
``storage``, ``build`` (all together), ``render`` (text and Markdown), ``canvas``,
``plots``, ``latency_plots``, ``compare_plot``, ``report_tables``, ``html``, ``export``
(github-action-benchmark); the command is :mod:`k2matrix.commands.summary` (also
``python -m k2matrix.summary``).
"""

from typing import Any

__all__ = ["Summary", "build_summary"]


def __getattr__(name: str) -> Any:
    # Lazy: the CLI builds its parser without loading Polars.
    if name in ("Summary", "build_summary"):
        from k2matrix.summary import build

        return getattr(build, name)
    raise AttributeError(name)
