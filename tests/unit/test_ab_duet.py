"""``k2matrix ab --duet``: trial i of both sides at the same time, each pinned to its own
half of the CPUs, compared in pairs; refused where it cannot be done."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tiny_project import k2matrix, make_project

from k2matrix.ab import run as ab_run
from k2matrix.ab.spec import SpecError
from k2matrix.results.meta import affinity


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def test_duet_cpus_are_two_disjoint_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ab_run, "affinity", lambda: [3, 0, 2, 1])
    assert ab_run.duet_cpus() == ([0, 1], [2, 3])
    monkeypatch.setattr(ab_run, "affinity", lambda: [5])
    with pytest.raises(SpecError, match=r"--duet .* 1 CPU: leave --duet out"):
        ab_run.duet_cpus()


@pytest.mark.skipif(len(affinity()) < 2, reason="a duet needs two CPUs")
def test_duet_runs_each_pair_at_once_on_its_own_cpus(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = k2matrix(root, "ab", "--baseline", "set:", "--candidate",
                    "env:K2_TINY_SLOWDOWN=0.5", "--duet", "--trials", "3", "-k",
                    "convert and v1", "--run-id", "duet", "--format", "json")
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    doc = json.loads(done.stdout)
    assert doc["paired"] is True
    # 11x the work: clearly slower in every pair (3 trials are too few for a 99% verdict)
    assert all(c["change"] > 1.0 for c in doc["comparisons"]), doc["comparisons"]
    run = root / "results" / "duet"
    ab = _json(run / "ab.json")
    assert ab["duet"] is True and all(r["duet"] for r in ab["ran"])
    halves = {tuple(h) for h in ab_run.duet_cpus()}
    for k in (1, 2, 3):
        cpus = {}
        for side in ("baseline", "candidate"):
            pinned = next(tuple(r["cpus"]) for r in ab["ran"]
                          if r["trial"] == k and r["side"] == side)
            cpus[side] = pinned
            trial = _json(run / side / "trials" / f"t0{k}" / "benchmarks.json")
            k2s = [b["extra_info"]["k2"] for b in trial["benchmarks"]]
            assert {tuple(x["affinity"]) for x in k2s} == {pinned}, (side, k2s)
            assert {x["threads"] for x in k2s} == {len(pinned)}
        assert set(cpus.values()) == halves, cpus  # one half each
        base, cand = (next(r for r in ab["ran"] if r["trial"] == k and r["side"] == side)
                      for side in ("baseline", "candidate"))
        # launched together, each ended after the other had started: they ran side by side
        assert base["started"] < cand["ended"] and cand["started"] < base["ended"]


def test_duet_with_workers_is_refused_naming_the_fix(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = k2matrix(root, "ab", "--baseline", "set:", "--candidate", "set:", "--duet",
                    "-n", "2", "--trials", "2", "--run-id", "nope")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--duet with -n 2" in done.stderr and "leave out -n or --duet" in done.stderr
    assert not (root / "results" / "nope").exists()


def test_clock_cpu_times_every_round_with_the_process_cpu_time(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = k2matrix(root, "ab", "--baseline", "set:", "--candidate", "set:", "--clock", "cpu",
                    "--trials", "1", "-k", "convert and v1 and b200", "--run-id", "cpu")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run = root / "results" / "cpu"
    assert "--k2-clock=cpu" in _json(run / "ab.json")["pytest_args"]
    for side in ("baseline", "candidate"):
        trial = _json(run / side / "trials" / "t01" / "benchmarks.json")
        assert {b["options"]["timer"] for b in trial["benchmarks"]} == {"process_time"}
    bad = k2matrix(root, "ab", "--baseline", "set:", "--candidate", "set:", "--clock", "tsc")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "--clock: invalid choice: 'tsc'" in bad.stderr
