"""A self-contained HTML report: inline CSS, PNGs embedded as base64, no scripts, no CDN;
it opens offline."""

from __future__ import annotations

import base64
from html import escape

from k2matrix.summary.build import Summary
from k2matrix.summary.plots import all_plots
from k2matrix.summary.render import Section, headline, sections

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.85em}
th,td{border:1px solid #ccc;padding:0.2em 0.6em;text-align:left}
th{background:#f0f0f0}
.pass{color:#11772e}.below_target{color:#a66300}.below_critical,.REGRESSION{color:#b00020;
font-weight:bold}.verdict{font-size:1.3em}.Good{color:#11772e}.Acceptable{color:#a66300}
.Needs{color:#b00020}.Blocking{color:#fff;background:#b00020;padding:0 0.3em}
img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}.note{color:#666;font-size:0.85em}
"""


def _cell(text: str) -> str:
    word = text.split(" ", 1)[0]
    return f'<td class="{escape(word)}">{escape(text)}</td>'


def _table(section: Section) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in section.headers)
    body = "\n".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in section.rows)
    note = f'<p class="note">{escape(section.note)}</p>' if section.note else ""
    return (f"<h2>{escape(section.title)}</h2>\n<table><thead><tr>{head}</tr></thead>"
            f"<tbody>\n{body}\n</tbody></table>{note}")


def render_html(summary: Summary, with_plots: bool = True) -> str:
    verdict = summary.verdict.verdict
    lines = headline(summary)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>k2matrix summary</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>k2matrix summary</h1>",
             f'<p class="verdict">Verdict: <span class="{escape(verdict.split()[0])}">'
             f"{escape(verdict)}</span></p>"]
    parts += [f"<p>{escape(line)}</p>" for line in lines if not line.startswith("Verdict:")]
    parts.append(f"<p>{escape(summary.verdict.reason)}</p>")
    if with_plots:
        for name, png in all_plots(summary).items():
            data = base64.b64encode(png).decode("ascii")
            parts.append(f'<h2>{escape(name.removesuffix(".png").replace("_", " "))}</h2>'
                         f'<img alt="{escape(name)}" src="data:image/png;base64,{data}">')
    parts += [_table(s) for s in sections(summary)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
