"""Synthetic runs with a known truth for the counted comparisons: instruction counts (the
instructions clock) and counters, in the results format the plugin writes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from synthetic import benchmark, cell_dict, document, with_trials

from k2matrix.results.load import Run, load_run

Counters = Mapping[str, float]


def counted_bench(case: str, counts: Sequence[float], counters: Sequence[Counters] = (),
                  clock: str | None = "instructions") -> dict[str, Any]:
    """One cell measured in ``len(counts)`` trials: each trial's rounds hold its count
    (an instruction count, or seconds under a timing clock) and its per-round counters."""
    cell = cell_dict("writer", case, batch_size=1000)
    bench = with_trials(benchmark(cell, [counts[0]], {"items": 1000}),
                        [[value, value] for value in counts])
    extra = bench["extra_info"]
    if clock is not None:
        extra["k2"]["clock"] = clock
    if clock == "instructions":
        extra.pop("throughput", None)
        extra["instructions"] = counts[0]
    for i, trial in enumerate(extra["k2"]["trials"]):
        if clock is not None:
            trial["clock"] = clock
        if clock == "instructions":
            trial["instructions"] = counts[i]
        if counters:
            trial["counters"] = dict(counters[i])
    if counters:
        extra["counters"] = dict(counters[0])
    return bench


def counted_doc(benches: Sequence[dict[str, Any]], clock: str | None = "instructions"
                ) -> dict[str, Any]:
    doc = document(benches)
    if clock is not None:
        doc["k2"]["clock"] = clock
    return doc


def write(path: Path, doc: Mapping[str, Any]) -> Run:
    path.write_text(json.dumps(doc))
    return load_run(path)
