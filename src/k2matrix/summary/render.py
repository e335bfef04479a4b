"""The summary for people: aligned text tables or Markdown (the same sections as JSON).

The top says what to trust: the run, the verdict and the cells that decided it (worst
first, with figure and target), warnings (a high load), the environment the run measured
in, then notes; the tables follow, each cell's status with its target and headroom."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from k2matrix.compare.render import rows as comparison_rows
from k2matrix.summary import report_tables as tables
from k2matrix.summary.build import Summary
from k2matrix.summary.compare import run_shift
from k2matrix.summary.environment import environment_lines
from k2matrix.summary.units import finite, fmt_count, fmt_number, fmt_percent, fmt_seconds

__all__ = ["Section", "fmt_count", "fmt_number", "fmt_percent", "fmt_seconds", "headline",
           "render_markdown", "render_table", "sections", "storage_section"]

DECIDING_SHOWN = 5  # deciding cells listed under the verdict (JSON has them all)


@dataclass(frozen=True)
class Section:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str = ""


def _axes_text(row: dict[str, Any], axes: Sequence[str]) -> str:
    return " ".join(f"{a}={row[a]}" for a in axes if row.get(a) is not None)


def sections(summary: Summary) -> list[Section]:
    """The tables of a summary, formatted for people, in reading order."""
    out: list[Section] = []
    out.append(_section(tables.cells(summary)))  # counted runs: counts (tables._time)
    if summary.cells.failed:
        out.append(Section("Failed cells (no timing counted)", ("cell", "status", "error"),
                           [(f["id"], f["status"], _first_line(f["error"]))
                            for f in summary.cells.failed]))
    for built, shown in ((tables.scaling, summary.scaling.height),
                         (tables.ratios, summary.ratios.height),
                         (tables.drift, summary.drift.height)):
        if shown:
            out.append(_section(built(summary)))
    if summary.storage.height:
        out.append(storage_section(summary))
    if summary.stages.height:
        out.append(stages_section(summary))
    if summary.draws.height:
        out.append(Section("Across drawn data shapes (--k2-draws)",
                           ("grid cell", "draws", "grid median", "min", "max", "max/min",
                            "moved most"), [
            (r["id"], str(r["draws"]), fmt_seconds(r["grid_median_s"]),
             fmt_seconds(r["min_median_s"]), fmt_seconds(r["max_median_s"]),
             _fixed(r["spread"], 2), r["worst_draw"]) for r in summary.draws.to_dicts()],
            note="the grid cell and its drawn data shapes (symbols, skew, null ratio, "
                 "disorder, density) from its seed: how much the figure moved across them"))
    if summary.comparison is not None:
        doc = summary.comparison
        out.append(Section(
            f"Against baseline {summary.baseline.source if summary.baseline else ''}",
            ("cell", "verdict", "change", "interval", "noise floor", "trials", "baseline",
             "now"), [
                (r[0], r[1].upper() if r[1] == "regression" else r[1], *r[2:])
                for r in comparison_rows(doc)],
            note=f"over trials (t on log trial medians, {doc['confidence']:.0%}): a "
                 f"regression's interval lies above 0 and its change exceeds the "
                 f"{doc['threshold']:.0%} threshold and the noise floor"))
    return out


def storage_section(summary: Summary) -> Section:
    """What object storage costs per commit and per query (cells with ``extra_info.s3``)."""
    return Section(
        "Object storage cost (per commit / per query, S3 cells)",
        ("cell", "op", "median", "local", "S3/local", "delay", "GET", "PUT", "HEAD", "LIST",
         "DELETE", "bytes in", "bytes out", "Glue"),
        [(r["id"], r["op"], fmt_number(r["median_ms"]) + " ms",
          "-" if r["local_median_ms"] is None else fmt_number(r["local_median_ms"]) + " ms",
          _fixed(r["s3_vs_local"], 2), f"{r['latency_ms']:g} ms",
          *(fmt_number(r[f"{k}_per_op"]) for k in ("get", "put", "head", "list", "delete")),
          fmt_number(r["bytes_in_per_op"]), fmt_number(r["bytes_out_per_op"]),
          fmt_number(r["glue_calls_per_op"]))
         for r in summary.storage.to_dicts()],
        note="requests and bytes per operation as the S3 server counted them (one extra, "
             "untimed commit or query; sustained cells: their timed round); local: the same "
             "cell on the local disk in this run")


def stages_section(summary: Summary) -> Section:
    """Where each pipeline cell's time goes (cells with ``extra_info.stages``)."""
    def ms(value: Any) -> str:
        return "-" if value is None else fmt_number(value) + " ms"

    return Section(
        "Pipeline stages (where the time goes)",
        ("cell", "broker", "held", "rows/s", "producers", "produce", "consume", "decode",
         "commit", "broker p99", "consume p99", "commit p99", "probe p99", "busiest"),
        [(r["id"], r["broker"].split(" ")[0], "yes" if r["held"] else "FELL BEHIND",
          fmt_number(r["throughput"]), fmt_number(r["producer_rate"]),
          *("-" if r[f"{s}_us_per_row"] is None else fmt_number(r[f"{s}_us_per_row"]) + " µs"
            for s in ("produce", "consume", "decode", "commit")),
          *(ms(r[f"{s}_p99_ms"]) for s in ("broker", "consume", "commit", "probe")),
          r["busiest"] + ("" if r["busiest_share"] is None
                          else f" {r['busiest_share']:.0%}"))
         for r in summary.stages.to_dicts()],
        note="work per row of each thread (produce: the paced produce calls; consume: CPU of "
             "the sink's thread; decode and commit: wall time of their threads); p99 a row "
             "waited in each stage; busiest: the thread with the most busy seconds, as a "
             "share of the run (the stage that caps the rate). broker: mock (embedded) or "
             "bootstrap (e.g. Tansu)")


def _first_line(text: Any, width: int = 120) -> str:
    if not text:
        return "-"
    line = str(text).strip().splitlines()[0] if str(text).strip() else "-"
    return line if len(line) <= width else line[: width - 1] + "…"


def _section(table: tables.Table) -> Section:
    """One of the tables the HTML report shows too, as text and Markdown show it."""
    headers, rows = tables.as_rows(table)
    return Section(table.title, headers, rows, note=table.note)


def _fixed(value: Any, digits: int) -> str:
    if not finite(value):
        return "-"
    return f"{value:.{digits}f}"


def headline(summary: Summary) -> list[str]:
    run = summary.run
    lines = [f"Run: {run.source}"
             + (f" (run {run.k2['run_id']}, profile {run.k2.get('profile')})"
                if run.k2.get("run_id") else "")]
    verdict = summary.verdict
    lines.append(f"Verdict: {verdict.verdict}: {verdict.reason}")
    if verdict.deciding:
        width = max(len(d["id"]) for d in verdict.deciding[:DECIDING_SHOWN])
        lines.extend(f"  {d['id'].ljust(width)}  {d['text']}"
                     for d in verdict.deciding[:DECIDING_SHOWN])
        if len(verdict.deciding) > DECIDING_SHOWN:
            lines.append(f"  … and {len(verdict.deciding) - DECIDING_SHOWN} more "
                         "(--format json lists them all)")
    lines.extend(f"Warning: {w}" for w in summary.warnings)
    lines.extend(environment_lines(summary.environment))
    if summary.comparison is not None:
        shift = run_shift(summary.comparison)
        moved = ""
        if shift["cells"]:
            moved = (f"; median change {fmt_percent(shift['median_change'])}, "
                     f"{shift['slower_share']:.0%} of cells slower")
        lines.append(f"Regressions: {summary.regressions} of "
                     f"{len(summary.comparison['comparisons'])} compared cells (comparison "
                     f"verdict {summary.comparison['verdict']}){moved}")
    lines.extend(f"Note: {n}" for n in summary.notes)
    return lines


def _text_table(section: Section) -> list[str]:
    widths = [len(h) for h in section.headers]
    for row in section.rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [section.title, line(section.headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in section.rows)
    if section.note:
        out.append(f"({section.note})")
    return out


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown_table(section: Section) -> list[str]:
    out = [f"## {section.title}", ""]
    out.append("| " + " | ".join(section.headers) + " |")
    out.append("|" + "|".join(" --- " for _ in section.headers) + "|")
    out.extend("| " + " | ".join(_md_escape(c) for c in r) + " |" for r in section.rows)
    if section.note:
        out += ["", f"_{section.note}_"]
    return out


def _render(summary: Summary, head: Callable[[list[str]], list[str]],
            table: Callable[[Section], list[str]]) -> str:
    out = head(headline(summary))
    for section in sections(summary):
        out += ["", *table(section)]
    return "\n".join(out) + "\n"


def render_table(summary: Summary) -> str:
    return _render(summary, lambda lines: lines, _text_table)


def _markdown_head(lines: list[str]) -> list[str]:
    """The headline as a list; an indented line (a deciding cell, an environment line) is
    an item of the line above it."""
    return ["# k2matrix summary", "",
            *[f"  - {_md_escape(x.strip())}" if x.startswith("  ") else f"- {_md_escape(x)}"
              for x in lines]]


def render_markdown(summary: Summary) -> str:
    return _render(summary, _markdown_head, _markdown_table)
