"""The Hypothesis strategies: records fit their schema exactly and cover the edge cases real
feeds have; matrix strategies draw only what the matrix holds; bad arguments fail at once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from schema_checks import PROPERTY, ROOT, Record, assert_fits_schema

from k2matrix.errors import K2Error, MatrixError
from k2matrix.matrix import Matrix, load_matrix
from k2matrix.workload import edge_values as ev
from k2matrix.workload import strategies as ks

# Coverage runs: generate only (no shrinking), derandomized. Hypothesis' stream also depends on
# the constants of the loaded modules, so the budgets hold a margin: over 40 seeds the last
# edge case appeared by draw 130 (edge_case_records) and 310 (trade_records).
COVERAGE_EXAMPLES = {"edge_case_records": 400, "trade_records": 800}



@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return load_matrix(ROOT / "matrix.toml")


# ---------------------------------------------------------------------------- records


@pytest.mark.parametrize(
    ("name", "strategy"),
    [
        ("v1", ks.trade_records("v1")),
        ("v2", ks.trade_records("v2")),
        ("quote_v2", ks.quote_records()),
        ("v1", ks.edge_case_records("v1")),
        ("v2", ks.edge_case_records("v2")),
        ("quote_v2", ks.edge_case_records("quote_v2")),
    ],
    ids=["trade-v1", "trade-v2", "quote", "edge-v1", "edge-v2", "edge-quote"],
)
def test_every_drawn_record_fits_its_schema(name: str, strategy: st.SearchStrategy[Record]
                                            ) -> None:
    @PROPERTY
    @given(strategy)
    def check(record: Record) -> None:
        assert_fits_schema(record, name)

    check()


@PROPERTY
@given(ks.trade_records("v1"))
def test_v1_ingestion_is_never_before_the_exchange_time(record: Record) -> None:
    assert record["ingestion_timestamp"] >= record["exchange_timestamp"]


@PROPERTY
@given(ks.quote_records())
def test_a_quote_ask_is_never_below_its_bid(record: Record) -> None:
    assert record["ask_price"] >= record["bid_price"]


@PROPERTY
@given(ks.record_batches("v2", min_size=2, max_size=6))
def test_batches_hold_valid_records(batch: list[Record]) -> None:
    assert 2 <= len(batch) <= 6
    for record in batch:
        assert_fits_schema(record, "v2")


# Each edge case real feeds have, as a predicate: every one must be found by both the
# edge-case strategy and the general trade strategy.
EDGE_CASES: dict[str, tuple[str, Callable[[Record], bool]]] = {
    "v1-max-price": ("v1", lambda r: r["price"] == Decimal("999999999999.999999")),
    "v1-tiny-price": ("v1", lambda r: r["price"] == Decimal("0.000001")),
    "v1-full-precision": ("v1", lambda r: len(r["price"].as_tuple().digits) == 18
                          and r["price"].as_tuple().digits[-1] != 0),
    "v1-equal-timestamps": ("v1", lambda r: r["exchange_timestamp"] == r["ingestion_timestamp"]),
    "v1-null-sequence": ("v1", lambda r: r["sequence_number"] is None),
    "v1-null-buyer": ("v1", lambda r: r["buyer_id"] is None),
    "v1-non-ascii": ("v1", lambda r: not r["venue"].isascii()),
    "v1-max-int32": ("v1", lambda r: r["company_id"] == 2**31 - 1),
    "v1-epoch": ("v1", lambda r: r["exchange_timestamp"] == datetime(1970, 1, 1, tzinfo=UTC)),
    "v2-max-price": ("v2", lambda r: r["price"] == Decimal("9999999999.99999999")),
    "v2-tiny-price": ("v2", lambda r: r["price"] == Decimal("0.00000001")),
    "v2-tiny-quantity": ("v2", lambda r: r["quantity"] == Decimal("0.00000001")),
    "v2-empty-conditions": ("v2", lambda r: r["trade_conditions"] == []),
    "v2-null-vendor-data": ("v2", lambda r: r["vendor_data"] is None),
    "v2-empty-vendor-data": ("v2", lambda r: r["vendor_data"] == {}),
    "v2-non-ascii-vendor": ("v2", lambda r: bool(r["vendor_data"]) and not all(
        (k + v).isascii() for k, v in r["vendor_data"].items())),
    "v2-equal-timestamps": ("v2", lambda r: r["timestamp"] == r["ingestion_timestamp"]),
    "v2-null-sequences": ("v2", lambda r: r["source_sequence"] is None
                          and r["platform_sequence"] is None),
    "v2-max-sequence": ("v2", lambda r: r["source_sequence"] == 2**63 - 1),
    "v2-microseconds": ("v2", lambda r: r["timestamp"].microsecond % 1000 != 0),
    "v2-side-unknown": ("v2", lambda r: r["side"] == "UNKNOWN"),
}


@pytest.mark.parametrize("name", ["v1", "v2"])
@pytest.mark.parametrize("source", ["edge_case_records", "trade_records"])
def test_strategies_reach_every_edge_case(name: str, source: str) -> None:
    wanted = {case: predicate for case, (schema, predicate) in EDGE_CASES.items()
              if schema == name}
    seen: set[str] = set()
    draws = [0]

    @settings(max_examples=COVERAGE_EXAMPLES[source], deadline=None, database=None,
              derandomize=True, phases=[Phase.generate])
    @given(getattr(ks, source)(name))
    def look(record: Record) -> None:
        draws[0] += 1
        seen.update(case for case, predicate in wanted.items() if predicate(record))

    look()
    assert sorted(set(wanted) - seen) == [], f"not seen in {draws[0]} draws"


@pytest.mark.parametrize("name", ["v1", "v2"])
def test_seeded_edge_rows_reach_every_edge_case(name: str) -> None:
    rows = ev.edge_case_rows(name, 2000, seed=1)
    missing = [case for case, (schema, predicate) in EDGE_CASES.items()
               if schema == name and not any(predicate(r) for r in rows)]
    assert missing == []


@pytest.mark.parametrize("name", ["v1", "v2", "quote_v2"])
def test_seeded_edge_rows_fit_their_schema_and_repeat_for_a_seed(name: str) -> None:
    rows = ev.edge_case_rows(name, 300, seed=42)
    for record in rows:
        assert_fits_schema(record, name)
    assert rows == ev.edge_case_rows(name, 300, seed=42)
    assert rows != ev.edge_case_rows(name, 300, seed=43)
    assert ev.edge_case_rows(name, 0, seed=1) == []


_ROWS_DIGEST = """
import hashlib, sys
{imports}
from k2matrix.workload.generate import WorkloadSpec, generate_table
from k2matrix.workload.edge_values import edge_case_rows
rows = edge_case_rows("v2", 200, seed=5)
table = generate_table(WorkloadSpec(schema="v2", rows=400, seed=5, edge_case_fraction=0.1))
print(hashlib.sha256(repr(rows).encode()).hexdigest(),
      hashlib.sha256(repr(table.to_pylist()).encode()).hexdigest())
"""


@pytest.fixture(scope="module")
def digests_in_two_processes() -> list[list[str]]:
    """Edge rows and a generated table with edge rows, from a process that loaded few modules
    and one that loaded many more (Hypothesis mixes the loaded modules' constants into its
    draws)."""
    out = []
    for imports in ("", "import k2matrix.cli, k2matrix.matrix, k2matrix.summary.build"):
        done = subprocess.run([sys.executable, "-c", _ROWS_DIGEST.format(imports=imports)],
                              capture_output=True, text=True, timeout=300, check=True)
        out.append(done.stdout.split())
    return out


def test_seeded_edge_rows_are_the_same_in_every_process(digests_in_two_processes: list[list[str]]
                                                       ) -> None:
    few, many = digests_in_two_processes
    assert few[0] == many[0]


def test_generated_edge_rows_are_the_same_in_every_process(
    digests_in_two_processes: list[list[str]]
) -> None:
    few, many = digests_in_two_processes
    assert few[1] == many[1]


def test_edge_case_records_hold_an_edge_value_in_most_draws() -> None:
    # A draw always carries at least one edge field; spot-check the cheap-to-see ones.
    def is_edgy(r: Record) -> bool:
        return (
            r["timestamp"] == r["ingestion_timestamp"]
            or r["vendor_data"] in (None, {})
            or r["trade_conditions"] in ([], [""])
            or any(len(r[d].as_tuple().digits) in (1, 18) for d in ("price", "quantity"))
        )

    seen: list[bool] = []

    @settings(max_examples=60, deadline=None, database=None)
    @given(ks.edge_case_records("v2"))
    def check(record: Record) -> None:
        seen.append(is_edgy(record))

    check()
    assert sum(seen) >= len(seen) // 3


def test_trade_records_tell_where_quotes_are() -> None:
    with pytest.raises(ValueError, match=r"schema='quote_v2'.*quote_records\(\)"):
        ks.trade_records("quote_v2")


# ---------------------------------------------------------------------------- bad arguments


def _bad_arguments(m: Matrix) -> list[tuple[Callable[[], object], type[Exception], str]]:
    return [
        (lambda: ks.trade_records("v3"), ValueError, r"schema='v3': unknown schema; use one of"),
        (lambda: ks.trade_records(2), ValueError, r"schema=2"),  # type: ignore[arg-type]
        (lambda: ks.records("trades"), ValueError, r"schema='trades'"),
        (lambda: ks.edge_case_records("V2"), ValueError, r"schema='V2'.*'v2'"),
        (lambda: ks.record_batches("v1", max_size=1000), ValueError,
         r"max_size=1000: must be an integer from 1 to 50.*workload_specs"),
        (lambda: ks.record_batches("v1", min_size=-1), ValueError, r"min_size=-1"),
        (lambda: ks.record_batches("v1", min_size=5, max_size=2), ValueError, r"max_size=2"),
        (lambda: ks.batch_sizes("matrix.toml"), ValueError,  # type: ignore[arg-type]
         r"matrix='matrix.toml': must be a Matrix; load one with"),
        (lambda: ks.batch_sizes(m, "smok"), MatrixError, r"did you mean 'smoke'"),
        (lambda: ks.query_shapes(m, "nope"), MatrixError, r"profile = 'nope': no such profile"),
        (lambda: ks.cells(m, None), ValueError, r"profile=None: must be a profile name"),  # type: ignore[arg-type]
        (lambda: ks.cells(m, "smoke", component="broker"), ValueError,
         r"component='broker': profile 'smoke' has no cells of it"),
        (lambda: ks.workload_specs(m, "smoke", max_rows=0), ValueError, r"max_rows=0"),
        (lambda: ks.workload_specs(m, "smoke", max_rows=True), ValueError, r"max_rows=True"),
        (lambda: ev.edge_case_rows("v3", 10, 0), ValueError, r"schema='v3'"),
        (lambda: ev.edge_case_rows("v2", -1, 0), ValueError, r"count=-1"),
        (lambda: ev.edge_case_rows("v2", 1, -3), ValueError, r"seed=-3: must be a non-negative"),
    ]


def test_bad_arguments_fail_when_the_strategy_is_built(matrix: Matrix) -> None:
    cases = _bad_arguments(matrix)
    assert len(cases) >= 12
    for build, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            build()  # no draw: the check is eager


def test_matrix_errors_are_k2_errors(matrix: Matrix) -> None:
    with pytest.raises(K2Error):
        ks.cells(matrix, "smok")
