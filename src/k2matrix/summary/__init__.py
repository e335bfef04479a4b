"""Polars analysis of a run (the only package that imports polars): per-cell status against
the targets, scaling fits, the K2 verdict, baseline comparison, tables, plots and reports.

Modules: ``load`` (read a run), ``cells`` (the frame), ``status`` (targets), ``verdict``,
``scaling``, ``drift``, ``compare`` (baseline), ``build`` (all together), ``render`` (text
and Markdown), ``plots``, ``html``, ``export`` (github-action-benchmark), ``command`` (CLI),
``synthetic`` (synthetic results documents for tests and timing).
"""

from k2matrix.summary.build import Summary, build_summary, summarize
from k2matrix.summary.command import add_summary_parser, run_summary

__all__ = ["Summary", "add_summary_parser", "build_summary", "run_summary", "summarize"]
