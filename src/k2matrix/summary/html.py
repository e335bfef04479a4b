"""A self-contained HTML report: inline CSS, the charts as embedded PNGs, a few lines of
inline JavaScript that sort a table by a clicked column; no CDN, nothing fetched: it opens
offline.

The page opens on the verdict and what decided it (or, for a Good verdict, the tightest
margins), with the contents beside it; then the comparison with the baseline, the run's
environment, the cells, scaling, latency by what it measures, the run over time, and the
tables it shares with the text report (object storage, drawn data shapes, failed cells).
The environment is ``summary.environment`` where the summary carries one (backends,
library versions, machine, load, git commit).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Mapping
from html import escape
from typing import Any

from k2matrix.summary import report_tables as tables
from k2matrix.summary.build import Summary
from k2matrix.summary.canvas import Chart, screen_width
from k2matrix.summary.render import Section, headline, sections

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;
line-height:1.4;background:#fff}
.layout{display:grid;grid-template-columns:15em minmax(0,1fr);gap:2em;max-width:1500px;
margin:0 auto;padding:1.2em 2em}
nav.contents{position:sticky;top:1em;align-self:start;font-size:0.9em;
border-right:1px solid #e1e4e8;padding-right:1em}
nav.contents ol{padding-left:1.2em;margin:0.3em 0}nav.contents a{color:#0550ae;
text-decoration:none}nav.contents a:hover{text-decoration:underline}
@media (max-width:900px){.layout{grid-template-columns:1fr}nav.contents{position:static;
border:0}}
h1{font-size:1.5em;margin:0 0 0.3em}h2{font-size:1.2em;margin:1.6em 0 0.4em;
border-bottom:1px solid #e1e4e8;padding-bottom:0.2em}h3{font-size:1em;margin:1.2em 0 0.3em}
.verdict-box{border:2px solid #d0d7de;border-radius:6px;padding:0.8em 1.2em;
margin:0.5em 0 1em}.verdict{font-size:1.35em;font-weight:600;margin:0 0 0.3em}
.Good{color:#1a7f37}.Acceptable{color:#9a6700}.Needs{color:#cf222e}
.Blocking{color:#fff;background:#cf222e;padding:0 0.3em}
.box-Good{border-color:#1a7f37}.box-Acceptable{border-color:#d4a72c}
.box-Needs,.box-Blocking{border-color:#cf222e}
.Incomplete{color:#9a6700}.box-Incomplete{border-color:#d4a72c}
.Counted{color:#0550ae}.box-Counted{border-color:#0550ae}
table{border-collapse:collapse;margin:0.4em 0 0.6em;font-size:0.82em}
th,td{border:1px solid #d0d7de;padding:0.2em 0.55em;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0;z-index:1}
td{white-space:nowrap}td.wrap{white-space:normal}td.id{min-width:16em;max-width:30em;
overflow-wrap:anywhere}
.scroll{max-height:34em;overflow:auto;border-bottom:1px solid #d0d7de;max-width:100%}
.scroll table{margin:0}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th::after{content:" \\2195";color:#8c959f;font-size:0.8em}
.pass{color:#1a7f37}.below_target,.inconclusive{color:#9a6700}
.below_critical,.REGRESSION,.failed,.error{color:#cf222e;font-weight:600}
.improvement{color:#1a7f37}
figure{margin:0.6em 0 1.2em}img{max-width:100%;height:auto;border:1px solid #e1e4e8}
figcaption,.note{color:#57606a;font-size:0.85em;max-width:75em}
details.env summary{cursor:pointer;font-weight:600}
.env table td:first-child{white-space:nowrap;color:#57606a}
"""

SCROLL_ROWS = 20
_JS = """
document.querySelectorAll("table.sortable").forEach(function(t){
  t.querySelectorAll("th").forEach(function(th,i){th.addEventListener("click",function(){
    var body=t.tBodies[0],rows=Array.from(body.rows),dir=th.dataset.dir==="asc"?-1:1;
    th.dataset.dir=dir>0?"asc":"desc";
    function key(r){var c=r.cells[i];if(!c)return"";var v=c.dataset.v;
      return v!==undefined&&v!==""&&!isNaN(Number(v))?Number(v):c.textContent;}
    rows.sort(function(a,b){var x=key(a),y=key(b);
      var d=(typeof x==="number"&&typeof y==="number")?x-y:String(x).localeCompare(String(y));
      return d*dir;});
    rows.forEach(function(r){body.appendChild(r);});});});});
"""


def _td(cell: tables.Cell) -> str:
    sort = "" if cell.sort is None else f' data-v="{escape(str(cell.sort))}"'
    css = f' class="{escape(cell.css)}"' if cell.css else ""
    return f"<td{css}{sort}>{escape(cell.text)}</td>"


def table_html(table: tables.Table, heading: str | None = "h3") -> str:
    """The table with a sortable header; ``heading`` None: its title only as the table's
    label (the section's heading says it)."""
    head = "".join(f'<th title="{escape(tip)}">{escape(name)}</th>' if tip else
                   f"<th>{escape(name)}</th>" for name, tip in table.headers)
    body = "\n".join("<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in table.rows)
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    title = (f'<{heading} id="{escape(table.key)}">{escape(table.title)}</{heading}>\n'
             if heading else "")
    label = "" if heading else f' id="{escape(table.key)}" aria-label="{escape(table.title)}"'
    html = (f'<table class="sortable"{label}><thead><tr>{head}</tr></thead><tbody>\n'
            f"{body}\n</tbody></table>")
    if len(table.rows) > SCROLL_ROWS:  # long tables scroll in place, their header sticks
        html = f'<div class="scroll">{html}</div>'
    return f"{title}{html}{note}"


def _from_section(section: Section, key: str) -> tables.Table:
    """A render.Section (the tables this report shares with text and Markdown) as a Table."""
    return tables.Table(key, section.title, [(h, "") for h in section.headers],
                        [[tables.Cell(c, tables.sort_key(c), c.split(" ", 1)[0])
                          for c in row] for row in section.rows], section.note)


def chart_html(chart: Chart) -> str:
    data = base64.b64encode(chart.png).decode("ascii")
    return (f'<figure id="chart-{escape(chart.name.removesuffix(".png"))}">'
            f'<img alt="{escape(chart.title)}" width="{screen_width(chart.png)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{escape(chart.caption)}'
            f"</figcaption></figure>")


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
    else:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        yield prefix, text if len(text) <= 300 else text[:299] + "…"


def environment_html(summary: Summary) -> str:
    env = getattr(summary, "environment", None)
    if not isinstance(env, Mapping) or not env:
        return ""
    rows = "\n".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>"
                     for k, v in _flatten(env))
    return (f'<h2 id="environment">Environment</h2><details class="env" open><summary>'
            f"backends, versions, machine, load, commit</summary><table><tbody>\n{rows}\n"
            f"</tbody></table></details>")


def _verdict_html(summary: Summary) -> str:
    verdict = summary.verdict.verdict
    word = re.sub(r"\W", "", verdict.split()[0])  # Good, Incomplete, Counted, Needs, …
    lines = [line for line in headline(summary) if not line.startswith("Verdict:")]
    notes = [line for line in lines if line.startswith("Note: ")]
    facts = [line for line in lines if not line.startswith("Note: ")]
    out = [f'<section class="verdict-box box-{word}" id="verdict">',
           f'<p class="verdict">Verdict: <span class="{word}">{escape(verdict)}</span></p>',
           f"<p>{escape(summary.verdict.reason)}</p>"]
    causes = tables.causes(summary)
    if causes.rows:
        out.append(table_html(causes))
    out += [f"<p>{escape(line)}</p>" for line in facts]
    if notes:
        out.append("<ul class=\"note\">" + "".join(
            f"<li>{escape(n.removeprefix('Note: '))}</li>" for n in notes) + "</ul>")
    out.append("</section>")
    return "\n".join(out)


_SHARED_TITLES = ("Cells", "Scaling", "V2/V1", "Drift")  # this page renders its own


def _shared(summary: Summary) -> list[tuple[str, str, str]]:
    """(anchor, title, html) of the render sections this page does not redo."""
    out = []
    for i, section in enumerate(sections(summary)):
        if section.title.startswith(_SHARED_TITLES):
            continue
        key = "comparison-table" if section.title.startswith("Against baseline") else (
            f"section-{i}")
        out.append((key, section.title, table_html(_from_section(section, key),
                                                   None)))
    return out


def render_html(summary: Summary, with_plots: bool = True) -> str:
    from k2matrix.summary.plots import charts

    drawn = charts(summary) if with_plots else []

    def charts_of(section: str) -> str:
        return "\n".join(chart_html(c) for c in drawn if c.section == section)

    shared = _shared(summary)
    blocks: list[tuple[str, str, str]] = []  # (anchor, contents entry, html)
    comparison = [s for s in shared if s[0] == "comparison-table"]
    if summary.comparison is not None:
        blocks.append(("comparison", "Against the baseline",
                       "".join(f'<p class="note">{escape(s[1])}</p>' for s in comparison)
                       + charts_of("comparison") + "".join(s[2] for s in comparison)))
    env = environment_html(summary)
    if env:
        blocks.append(("environment", "Environment", env))
    blocks.append(("cells", "Cells", table_html(tables.cells(summary), None)))
    if summary.scaling.height or summary.ratios.height:
        body = charts_of("scaling")
        body += table_html(tables.scaling(summary)) if summary.scaling.height else ""
        body += table_html(tables.ratios(summary)) if summary.ratios.height else ""
        blocks.append(("scaling", "Scaling", body))
    kinds = tables.kinds(summary)
    if kinds:
        by_name = {c.name: c for c in drawn}
        body = "".join((chart_html(by_name[f"latency_{k}.png"])
                        if f"latency_{k}.png" in by_name else "")
                       + table_html(tables.latency(summary, k)) for k in kinds)
        blocks.append(("latency", "Latency, by what it measures", body))
    if summary.drift.height or charts_of("over the run"):
        body = charts_of("over the run")
        body += table_html(tables.drift(summary)) if summary.drift.height else ""
        blocks.append(("over-run", "Over the run", body))
    for key, title, html in shared:
        if key != "comparison-table":
            blocks.append((key + "-block", title, html))
    title = "k2matrix report"
    run_id = summary.run.k2.get("run_id")
    if run_id:
        title += f": {run_id}"
    contents = "".join(f'<li><a href="#{escape(k)}">{escape(t)}</a></li>'
                       for k, t, _ in [("verdict", "Verdict", ""), *blocks])
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
             '<div class="layout"><nav class="contents" aria-label="Contents">'
             f"<strong>Contents</strong><ol>{contents}</ol></nav><main>",
             f"<h1>{escape(title)}</h1>", _verdict_html(summary)]
    for key, entry, html in blocks:
        if key == "environment":
            parts.append(html)
            continue
        parts.append(f'<h2 id="{escape(key)}">{escape(entry)}</h2>\n{html}')
    parts.append(f"</main></div><script>{_JS}</script></body></html>")
    return "\n".join(parts) + "\n"
