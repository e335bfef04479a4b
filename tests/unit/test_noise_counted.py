"""noise.json version 2 (k2matrix.compare.noise, .spreads): the counted spreads of an A/A
(instructions, counters) and its exact counters round-trip; version 1 files still read; a
noise file of another clock does not apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from counted import counted_bench, counted_doc, write

from k2matrix.compare import noise
from k2matrix.compare.runs import compare_runs
from k2matrix.compare.statistics import NoiseModel
from k2matrix.errors import ResultsError

ID = "writer-append-b1000"


def _aa_sides(run_dir: Path) -> None:
    """An A/A of the instructions clock in ``run_dir``'s baseline/ and candidate/."""
    for side, counts in (("baseline", [1e7, 1.0002e7]), ("candidate", [1.0001e7, 1e7])):
        bench = counted_bench("append", counts,
                              [{"s3.put": 12.0, "process.read_bytes": 4096.0 + 100 * i}
                               for i in range(2)])
        (run_dir / side).mkdir(parents=True)
        (run_dir / side / "benchmarks.json").write_text(json.dumps(counted_doc([bench])))


def test_the_counted_spreads_round_trip(tmp_path: Path) -> None:
    run_dir = tmp_path / "results" / "aa"
    _aa_sides(run_dir)
    header = {"profile": "synthetic", "matrix_fingerprint": "0" * 16, "clock": "instructions"}
    time_model = {ID: NoiseModel(sigma=0.001, trials=2)}
    path = noise.write_noise(run_dir, time_model, 0.99, header)  # sides found in run_dir
    doc = noise.read_noise(path.parent)
    assert doc["format_version"] == 2 and doc["clock"] == "instructions"
    cell = doc["cells"][ID]
    assert cell["sigma"] == 0.001
    assert cell["instructions"]["spread"] == pytest.approx(0.0002, rel=1e-3)
    assert cell["instructions"]["trials"] == 4
    assert cell["counters"]["s3.put"] == {"spread": 0.0, "trials": 4, "exact": True}
    assert cell["counters"]["process.read_bytes"]["exact"] is False
    assert doc["exact_counters"] == {"cells": {ID: ["s3.put"]}, "everywhere": ["s3.put"],
                                     "noisy": {"process.read_bytes": 1}}
    models = noise.models(doc)
    assert models[f"{ID}@instructions"].spread == pytest.approx(0.0002, rel=1e-3)
    assert models[f"{ID}@counter:s3.put"].spread == 0.0
    assert models[ID].spread is None and models[ID].sigma == 0.001
    assert (tmp_path / "results" / noise.NOISE_LATEST).resolve() == run_dir.resolve()
    # the models decide a one-trial comparison of the same clock: +1% beyond 0.02%
    base = write(tmp_path / "a.json", counted_doc([counted_bench(
        "append", [1e7], [{"s3.put": 12.0}])]))
    cand = write(tmp_path / "b.json", counted_doc([counted_bench(
        "append", [1.01e7], [{"s3.put": 13.0}])]))
    cmp = compare_runs(base, cand, threshold=0.005, noise=models)
    assert cmp["comparisons"][0]["verdict"] == "regression"
    assert cmp["counter_comparisons"][0]["verdict"] == "regression"


def test_explicit_sides_and_a_wall_clock_aa_keeps_only_counter_spreads(tmp_path: Path) -> None:
    docs = [counted_doc([counted_bench("append", [0.01, 0.012], [{"parquet.files": 1.0}] * 2,
                                       clock="wall")], clock="wall") for _ in range(2)]
    sides = [write(tmp_path / f"{i}.json", d) for i, d in enumerate(docs)]
    run_dir = tmp_path / "aa"
    run_dir.mkdir()
    doc = noise.read_noise(noise.write_noise(run_dir, {}, 0.99, {}, sides=sides))
    assert doc["clock"] == "wall"
    assert "instructions" not in doc["cells"][ID]
    assert doc["cells"][ID]["counters"]["parquet.files"]["exact"] is True


def test_a_version_1_noise_file_still_reads(tmp_path: Path) -> None:
    old = {"format_version": 1, "kind": "k2matrix-noise", "run_id": "old", "created": 0.0,
           "confidence": 0.99, "trials": 5, "profile": "smoke", "matrix_fingerprint": "f",
           "machine_kind": {}, "workers": None,
           "cells": {ID: {"sigma": 0.2, "trials": 5, "noise_floor": 0.5,
                          "relative": {"sigma": 0.05, "trials": 5, "noise_floor": 0.1}}}}
    (tmp_path / "noise.json").write_text(json.dumps(old))
    doc = noise.read_noise(tmp_path)
    models = noise.models(doc)
    assert set(models) == {ID, f"{ID}@relative"}
    assert models[ID] == NoiseModel(sigma=0.2, trials=5, source="noise run old")
    # it was measured with the wall clock: it does not apply to a counted run
    assert noise.mismatch(doc, {"profile": "smoke"}) == []
    assert noise.mismatch(doc, {"clock": "instructions"}) == [
        "clock: noise 'wall', run 'instructions'"]


def test_an_unknown_noise_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "noise.json").write_text(json.dumps(
        {"format_version": 3, "kind": "k2matrix-noise", "cells": {}}))
    with pytest.raises(ResultsError, match="reads 1 and 2"):
        noise.read_noise(tmp_path)
