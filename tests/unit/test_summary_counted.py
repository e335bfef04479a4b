"""The summary of a counted run (--clock instructions): medians shown as instruction counts,
and the time targets never judged against a count."""

from __future__ import annotations

from pathlib import Path

from counted import counted_bench, counted_doc, write

from k2matrix.summary import build_summary
from k2matrix.summary.render import render_table


def test_a_counted_run_shows_counts_and_judges_no_time_target(tmp_path: Path) -> None:
    doc = counted_doc([counted_bench("append", [45_580_529.0, 45_608_582.0])])
    doc["k2"]["targets"] = [{"name": "append", "metric": "median_ms", "direction": "lower",
                             "target": 50, "critical": 100, "applies_to": ["writer.append"],
                             "where": {}, "unit": "", "sustained": False}]
    run = write(tmp_path / "run", doc)
    summary = build_summary(run)
    assert set(summary.frame["status"].to_list()) == {"no_target"}
    assert any("instruction count, not a time" in n for n in summary.notes)
    text = render_table(summary)
    assert "45.59M instr" in text  # the median, 45,594,555.5, to four figures
    assert " s " not in text.split("Cells", 1)[1].splitlines()[3]  # no seconds in the row
