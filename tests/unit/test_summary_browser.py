"""The HTML report in a real browser: headless Chromium loads the report of a real smoke run
(``data/summary/smoke-2026-12-05.json``) and of a ``--baseline`` comparison, offline. The
test fails on any console message (an error, a failed load: the report logs nothing), on a
chart that did not render (an <img> without natural width), on a contents link without its
target, when the verdict is not in the first screen, or when a click on a header does not
sort its column. Skipped where Chromium is not installed (Debian: ``apt-get install
chromium``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from synthetic import trials_document

from k2matrix.summary import build_summary
from k2matrix.summary.html import render_html

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser",
                                               "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                "(Debian: apt-get install chromium): the report is not "
                                "checked in a browser")
SMOKE = Path(__file__).resolve().parent / "data" / "summary" / "smoke-2026-12-05.json"
WIDTH, HEIGHT = 1400, 1000
FLAGS = ("--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
         "--disable-extensions", "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}")

# Appended to a copy of the report: what the page looks like once loaded, into the DOM.
PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.from(document.images);
  var table = document.getElementById("cells-table");
  var sorted = "no table";
  if (table) {
    table.querySelectorAll("th")[2].click();
    var values = Array.from(table.tBodies[0].rows).map(function (r) {
      return r.cells[2].dataset.v; }).filter(function (v) { return v; }).map(Number);
    sorted = values.every(function (v, i) { return i === 0 || values[i - 1] <= v; })
      ? "ascending" : "unsorted";
  }
  var verdict = document.getElementById("verdict");
  var probe = document.createElement("pre");
  probe.id = "k2-probe";
  probe.textContent = JSON.stringify({
    images: images.length,
    broken: images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
      .map(function (i) { return i.alt; }),
    wider: images.filter(function (i) {
      return i.getBoundingClientRect().right > window.innerWidth + 1; })
      .map(function (i) { return i.alt; }),
    dangling: Array.from(document.querySelectorAll("nav.contents a")).filter(function (a) {
      return !document.getElementById(a.getAttribute("href").slice(1)); }).length,
    verdictTop: verdict ? verdict.getBoundingClientRect().top : -1,
    sorted: sorted});
  document.body.appendChild(probe);
});
</script>"""


def load(page: Path) -> tuple[dict[str, Any], list[str]]:
    """(the probe's findings, the console messages) of ``page`` in headless Chromium."""
    probed = page.with_name(page.stem + "-probed.html")
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *FLAGS, "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=10000", "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=180, check=False)
    found = re.search(r'<pre id="k2-probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the page did not finish loading: {done.stderr[-2000:]}"
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    text = found.group(1).replace("&quot;", '"').replace("&amp;", "&")
    return json.loads(text), console


def screenshot(page: Path, out: Path) -> bytes:
    assert CHROMIUM is not None
    subprocess.run([CHROMIUM, *FLAGS, f"--screenshot={out}", page.as_uri()],
                   capture_output=True, timeout=180, check=False)
    return out.read_bytes()


def test_smoke_report_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(build_summary(SMOKE)))
    probe, console = load(page)
    assert console == [], console
    assert probe["images"] == 10 and probe["broken"] == [], probe
    assert probe["wider"] == [], probe
    assert probe["dangling"] == 0
    assert 0 <= probe["verdictTop"] < HEIGHT / 2  # the page opens on the verdict
    assert probe["sorted"] == "ascending"
    shot = screenshot(page, tmp_path / "report.png")
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000  # something was drawn


def test_baseline_report_in_chromium(tmp_path: Path) -> None:
    base, slow = tmp_path / "base.json", tmp_path / "slow.json"
    base.write_text(json.dumps(trials_document(8, trials=3)))
    slow.write_text(json.dumps(trials_document(8, trials=3, slowdown=1.3, seed=1)))
    page = tmp_path / "compare.html"
    page.write_text(render_html(build_summary(slow, baseline=base)))
    probe, console = load(page)
    assert console == [], console
    assert probe["broken"] == [] and probe["images"] >= 2  # the comparison and scaling
    assert probe["dangling"] == 0 and probe["sorted"] == "ascending"
