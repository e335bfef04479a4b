"""Whatever a results file holds, the summary either works or raises ResultsError (exit 2
with a message): never another exception, never NaN in its JSON."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic import benchmark, cell_dict, document

from k2matrix.errors import ResultsError
from k2matrix.results.load import _from_document
from k2matrix.summary.build import build_summary
from k2matrix.summary.render import render_markdown, render_table

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**7),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8)

# paths into one benchmark entry that a damaged or foreign file might change
PATHS = [
    ("stats", "median"), ("stats", "iqr"), ("stats", "q1"), ("stats", "rounds"),
    ("stats", "data"), ("extra_info",), ("extra_info", "items"), ("extra_info", "unit"),
    ("extra_info", "throughput"), ("extra_info", "latency_p99_ms"), ("extra_info", "series"),
    ("extra_info", "efficiency"), ("extra_info", "k2"), ("extra_info", "k2", "cell"),
    ("extra_info", "k2", "cell", "batch_size"), ("extra_info", "k2", "cell", "schema"),
    ("extra_info", "k2", "cell", "id"), ("params",), ("name",), ("fullname",), ("group",),
]


def base_doc() -> dict[str, Any]:
    benches = [benchmark(cell_dict("writer", "throughput", schema=s, batch_size=n),
                         [0.01 * n / 100] * 4, {"items": n, "unit": "rows/s"})
               for s in ("v1", "v2") for n in (100, 1000, 10000)]
    target = {"name": "t", "metric": "throughput", "direction": "higher", "target": 1e4,
              "critical": 5e3, "applies_to": ["writer.*"], "where": {"batch_sizes": [1000]}}
    return document(benches, [target])


BASE = base_doc()


def _set(entry: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node: Any = entry
    for key in path[:-1]:
        if not isinstance(node, dict):
            return
        node = node.setdefault(key, {})
    if isinstance(node, dict):
        node[path[-1]] = value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(PATHS), VALUES), max_size=4))
def test_damaged_files_work_or_raise_results_error(edits: list[tuple[int, Any, Any]]) -> None:
    doc = copy.deepcopy(BASE)
    for index, path, value in edits:
        _set(doc["benchmarks"][index], path, value)
    try:
        run = _from_document(json.loads(json.dumps(doc)), "fuzz.json")
        summary = build_summary(run, run)
    except ResultsError:
        return
    json.dumps(summary.to_dict(), allow_nan=False)
    render_table(summary)
    render_markdown(summary)
