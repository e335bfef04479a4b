"""The injected slowdown (k2matrix.tools.slowdown) that k2matrix's own comparisons are
measured with: how its fraction is read, what it wraps, and that it plugs in like any
implementation. No wall-clock assertion: the spin is counted, not timed."""

from __future__ import annotations

import pytest

from k2matrix import implementations
from k2matrix.errors import K2Error
from k2matrix.tools import slowdown


def test_fractions_per_component() -> None:
    assert slowdown.fractions("writer=0.10, query=0.05") == {"writer": 0.1, "query": 0.05}
    assert slowdown.fractions("") == {}


@pytest.mark.parametrize("bad", ["writer", "writer=x", "disk=0.1", "writer=-1", "query=11"])
def test_a_bad_fraction_names_the_variable_and_the_form(bad: str) -> None:
    with pytest.raises(K2Error, match=r"K2_SLOWDOWN=.*COMPONENT=FRACTION"):
        slowdown.fractions(bad)


def test_the_outermost_call_spins_its_fraction_of_its_own_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    spins: list[float] = []
    monkeypatch.setattr(slowdown, "spin", spins.append)
    clock = iter([10.0, 12.0, 100.0])  # perf_counter: outer start, inner start, outer end
    monkeypatch.setattr(slowdown, "clock", lambda: next(clock))
    monkeypatch.setenv("K2_SLOWDOWN", "writer=0.25")

    def outer() -> str:
        return slowdown.slowed("writer", lambda: "inner")  # nested: not slowed twice

    assert slowdown.slowed("writer", outer) == "inner"
    assert spins == [pytest.approx(0.25 * (100.0 - 10.0))]
    spins.clear()
    monkeypatch.setattr(slowdown, "clock", lambda: 0.0)
    monkeypatch.setenv("K2_SLOWDOWN", "query=0.5")  # another component: no spin
    assert slowdown.slowed("writer", lambda: 3) == 3
    assert spins == []


@pytest.mark.parametrize(("kind", "name"), [
    ("producer", "SlowProducer"), ("writer", "SlowWriter"), ("engine", "SlowIcebergScan"),
    ("engine", "SlowParquet")])
def test_each_plugs_in_by_import_path(kind: str, name: str) -> None:
    plugin = implementations.resolve(kind, f"k2matrix.tools.slowdown:{name}")
    assert plugin.factory is getattr(slowdown, name)


def test_detection_counts_affected_regressions_and_unaffected_flags() -> None:
    from k2matrix.tools.detection import slowed_matrix, summarize

    cells = {"w1": {"component": "writer", "case": "append"},
             "w2": {"component": "writer", "case": "throughput"},
             "wc": {"component": "writer", "case": "arrow_conversion"},
             "q1": {"component": "query", "case": "latency"}}
    doc = {"comparisons": [{"id": "w1", "verdict": "regression", "change": 0.1},
                           {"id": "w2", "verdict": "inconclusive", "change": 0.08},
                           {"id": "wc", "verdict": "unchanged", "change": 0.0},
                           {"id": "q1", "verdict": "improvement", "change": -0.2}],
           }
    out = summarize(doc, cells, "writer")
    assert out["affected"] == {"cells": 2, "regression": 1, "share": 0.5}
    assert out["unaffected"] == {"cells": 2, "flagged": 1}
    spec = slowed_matrix("smoke")
    assert spec.startswith("set:components.producer.impl=k2matrix.tools.slowdown:SlowProducer")
    assert "profiles.smoke.engines=[" in spec
