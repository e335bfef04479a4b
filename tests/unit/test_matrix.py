"""The real matrix.toml and the rules of a matrix: which cells a profile has, their ids and
seeds, which values an axis takes (most specific wins), targets, fingerprint, backends."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
from matrices import matrix_toml

from k2matrix.axes import CHOICES, GLOBAL_AXES, OPTIONAL_AXES, PIPELINE_AXES
from k2matrix.backends.config import Backends
from k2matrix.cell import Cell, derive_seed, param_name
from k2matrix.errors import MatrixError
from k2matrix.matrix import Matrix, load_matrix, parse_matrix
from k2matrix.matrix.axis_checks import AXIS_CHECKS, Names

ROOT = Path(__file__).resolve().parents[2]
MATRIX_TOML = ROOT / "matrix.toml"
REAL = MATRIX_TOML.read_text(encoding="utf-8")
RAW: dict[str, Any] = tomllib.loads(REAL)


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return load_matrix(MATRIX_TOML)


def _by_case(cells: list[Cell]) -> dict[str, list[Cell]]:
    out: dict[str, list[Cell]] = {}
    for c in cells:
        out.setdefault(c.key, []).append(c)
    return out


def _raw_cases() -> dict[str, dict[str, Any]]:
    return {f"{comp}.{name}": case for comp, table in RAW["components"].items()
            for name, case in table["cases"].items()}


# ---------------------------------------------------------------------------- the real file


def test_the_real_matrix_loads(matrix: Matrix) -> None:
    assert matrix.name == "k2"
    assert matrix.seed == RAW["matrix"]["seed"]
    assert {"smoke", "full", "stress"} <= set(matrix.profiles)
    assert set(matrix.cases) == set(_raw_cases())
    assert set(matrix.targets) == set(RAW["targets"])
    for axis in GLOBAL_AXES:
        assert matrix.axes[axis] == RAW["axes"][axis]


def test_full_lists_every_combination_of_every_case(matrix: Matrix) -> None:
    """Count = product of the axis sizes per case (the case's own values, else the profile's
    override, else the global axis); slow cases only with include_slow."""
    full = RAW["profiles"]["full"]
    by_case = _by_case(_grid(matrix, "full"))
    for key, case in _raw_cases().items():
        if case.get("slow", False) and not full.get("include_slow", False):
            assert key not in by_case
            continue
        sizes = [len(case.get("values", {}).get(a) or full.get(a) or RAW["axes"][a])
                 for a in case["sweep"]]
        assert len(by_case[key]) == math.prod(sizes), key


def _grid(matrix: Matrix, profile: str) -> list[Cell]:
    """The planned cells and those that can never run on the backends (not planned)."""
    return [*matrix.cells(profile), *(c for c, _ in matrix.unplanned(profile))]


@pytest.mark.parametrize("profile", ["smoke", "full", "stress"])
def test_cells_of_a_case_form_a_full_cartesian_product(matrix: Matrix, profile: str) -> None:
    for key, cells in _by_case(_grid(matrix, profile)).items():
        sweep = matrix.cases[key].sweep
        names = [param_name(a) for a in sweep]
        combos = [tuple(c.params[n] for n in names) for c in cells]
        assert all(list(c.params) == names for c in cells), key
        assert len(set(combos)) == len(combos), f"{key}: repeated combination"
        distinct = [len({combo[i] for combo in combos}) for i in range(len(names))]
        assert len(combos) == math.prod(distinct), key


def test_slow_cases_join_only_when_asked(matrix: Matrix) -> None:
    slow = {k for k, c in matrix.cases.items() if c.slow}
    assert slow, "matrix.toml should have slow cases"
    assert not slow & {c.key for c in matrix.cells("full")}
    with_slow = {c.key for c in matrix.cells("full", include_slow=True)}
    assert slow <= with_slow
    assert all(c.slow == (c.key in slow) for c in matrix.cells("full", include_slow=True))


def test_smoke_is_a_much_smaller_subset_of_full(matrix: Matrix) -> None:
    # A subset of the cases, not of the cells: smoke may pick smaller sizes than full has
    # (its writer.append uses 1000-row batches where full uses 10000).
    smoke, full = matrix.cells("smoke"), matrix.cells("full")
    assert {c.key for c in smoke} <= {c.key for c in full}
    assert len(smoke) * 3 <= len(full)
    assert {c.component for c in smoke} == {"producer", "writer", "query", "pipeline"}


def test_stress_holds_exactly_its_cases(matrix: Matrix) -> None:
    keys = {c.key for c in matrix.cells("stress")}
    assert keys == set(RAW["profiles"]["stress"]["cases"])
    assert all(c.params.get("dataset_size", 1_000_000) == 1_000_000
               for c in matrix.cells("stress"))


@pytest.mark.parametrize("profile", ["smoke", "full", "stress"])
def test_ids_are_unique_and_readable(matrix: Matrix, profile: str) -> None:
    cells = matrix.cells(profile, include_slow=True)
    ids = [c.id for c in cells]
    assert len(set(ids)) == len(ids)
    for c in cells:
        assert c.id.startswith(f"{c.component}-{c.case}")
        assert " " not in c.id and "/" not in c.id and "[" not in c.id


def test_ids_are_stable(matrix: Matrix) -> None:
    ids = {c.id for c in matrix.cells("full", include_slow=True)}
    for expected in (
        "producer-single-v1",
        "producer-batch-v2-b1000",
        "producer-serializer_cache-v1-warm",
        "producer-scaling-b10000",
        "writer-append-v2-b10000-unpartitioned",
        "writer-arrow_conversion-v1-b1",
        "writer-buffered-v2",
        "writer-stress",
        "query-latency-simple_scan-duckdb_iceberg_scan-day_symbol-n100000",
        "query-complexity-join-polars-sorted-n1000000",
        "query-throughput-sequential-duckdb_parquet-n100000",
        "query-scaling-s0.01-duckdb_iceberg_scan-n100000",
    ):
        assert expected in ids
    assert [c.id for c in matrix.cells("full")] == [c.id for c in load_matrix(MATRIX_TOML)
                                                    .cells("full")]


def test_seeds_are_derived_from_the_matrix_seed_and_the_id(matrix: Matrix) -> None:
    cells = matrix.cells("full", include_slow=True)
    assert all(c.seed == derive_seed(matrix.seed, c.id) for c in cells)
    assert len({c.seed for c in cells}) == len(cells)
    assert all(0 <= c.seed < 2**32 for c in cells)
    # The derivation itself is pinned: a change would silently change every workload.
    assert derive_seed(20261126, "producer-single-v1") == 1018274498
    smoke = {c.id: c.seed for c in matrix.cells("smoke")}
    full = {c.id: c.seed for c in cells}
    shared = smoke.keys() & full.keys()
    assert len(shared) > len(smoke) // 2
    assert all(full[i] == smoke[i] for i in shared), "a seed must not depend on the profile"


def test_seeds_change_with_the_matrix_seed() -> None:
    other = parse_matrix(REAL.replace("seed = 20261126", "seed = 1", 1))
    first = load_matrix(MATRIX_TOML).cells("smoke")[0]
    assert other.cells("smoke")[0].id == first.id
    assert other.cells("smoke")[0].seed != first.seed


def test_settings_carry_the_profile_workload_and_data(matrix: Matrix) -> None:
    smoke = matrix.cells("smoke")[0]
    assert smoke.settings["sustained_messages"] == RAW["profiles"]["smoke"]["workload"][
        "sustained_messages"]
    full = matrix.cells("full")[0]
    assert full.settings["sustained_messages"] == RAW["workload"]["sustained_messages"]
    assert full.settings["symbols"] == RAW["data"]["symbols"]


def test_cells_cross_process_boundaries_as_plain_data(matrix: Matrix) -> None:
    for cell in matrix.cells("full", include_slow=True):
        data = json.loads(json.dumps(cell.to_dict()))
        assert Cell.from_dict(data) == cell


def test_unknown_profile_suggests_a_close_one(matrix: Matrix) -> None:
    with pytest.raises(MatrixError, match=r"profile = 'smok': no such profile \(did you mean"):
        matrix.cells("smok")


# ---------------------------------------------------------------------------- targets


@pytest.mark.parametrize(
    ("cell_id", "expected"),
    [
        ("producer-batch-v1-b1000", {"producer_throughput"}),
        ("producer-batch-v2-b100", set()),
        ("producer-scaling-b10000", {"producer_throughput"}),
        ("producer-single-v2", {"single_message"}),
        ("producer-paced_latency-v1", {"producer_p99_latency"}),
        ("writer-append-v2-b10000-unpartitioned", {"writer_batch_10k"}),
        ("writer-append-v1-b100-day_symbol", {"write_100_rows"}),
        ("writer-throughput-v2-b1000", {"writer_throughput"}),
        ("writer-arrow_conversion-v1-b1000", {"arrow_conversion_v1"}),
        ("writer-arrow_conversion-v2-b1000", {"arrow_conversion_v2"}),
        ("writer-arrow_conversion-v2-b100", set()),
        ("query-latency-simple_scan-duckdb_iceberg_scan-unpartitioned-n100000", {"simple_scan"}),
        ("query-latency-time_range-polars-sorted-n1000000", {"time_range"}),
        ("query-complexity-join-duckdb_parquet-day_bucket-n100000", {"join"}),
        ("query-throughput-sequential-duckdb_iceberg_scan-n100000", {"sequential_queries"}),
        ("query-throughput-mixed-duckdb_iceberg_scan-n100000", set()),
        ("writer-buffered-v2", {"sustained_writes"}),
        ("query-stress-polars-n1000000", {"sustained_queries"}),
    ],
)
def test_targets_for_picks_the_k2_targets(matrix: Matrix, cell_id: str, expected: set[str]
                                          ) -> None:
    cells = {c.id: c for c in matrix.cells("full", include_slow=True)}
    cells.update({c.id: c for c in matrix.cells("stress")})
    assert {t.name for t in matrix.targets_for(cells[cell_id])} == expected


def test_target_levels_follow_the_direction(matrix: Matrix) -> None:
    for t in matrix.targets.values():
        # Every real target keeps a band between the target and the critical level, so a
        # value strictly inside it is below the target but not yet critical.
        between = (t.target + t.critical) / 2
        if t.direction == "higher":
            assert t.target > t.critical, t.name
            assert t.status(t.target) == "pass"
            assert t.status(between) == "below_target", t.name
            assert t.status(t.critical) == "below_target", t.name
            assert t.status(t.critical * 0.5) == "below_critical"
        else:
            assert t.target < t.critical, t.name
            assert t.status(t.target) == "pass"
            assert t.status(between) == "below_target", t.name
            assert t.status(t.critical) == "below_target", t.name
            assert t.status(t.critical * 2) == "below_critical"
    p99 = matrix.targets["producer_p99_latency"]
    assert [p99.status(v) for v in (5, 10, 30, 50, 51)] == [
        "pass", "pass", "below_target", "below_target", "below_critical"]
    tput = matrix.targets["producer_throughput"]
    assert [tput.status(v) for v in (20_000, 10_000, 7_000, 4_999)] == [
        "pass", "pass", "below_target", "below_critical"]
    assert json.loads(json.dumps(tput.to_dict()))["applies_to"] == list(tput.applies_to)


# ---------------------------------------------------------------------------- axis values


def test_every_axis_of_the_vocabulary_declares_what_it_holds() -> None:
    assert {*GLOBAL_AXES, *OPTIONAL_AXES, *CHOICES, *PIPELINE_AXES} <= set(AXIS_CHECKS)
    for axis, choices in CHOICES.items():
        assert AXIS_CHECKS[axis] == Names(choices)


# ---------------------------------------------------------------------------- specificity

SMALL = matrix_toml(
    matrix={"name": "small"},
    axes={"batch_sizes": [1, 2, 3], "engines": ["polars"], "dataset_sizes": [10]},
    cases={
        "writer.plain": {"sweep": ["batch_sizes"]},
        "writer.own": {"sweep": ["batch_sizes"], "values": {"batch_sizes": [6]}},
        "writer.both": {"sweep": ["schemas", "batch_sizes"], "values": {"batch_sizes": [8]}},
    },
    profiles={
        "global": {},
        "narrow": {"batch_sizes": [4, 5], "schemas": ["v2"],
                   "case_values": {"writer.both": {"batch_sizes": [7]}}},
    },
)


def _values(m: Matrix, profile: str) -> dict[str, list[tuple[Any, ...]]]:
    return {key: [tuple(c.params.values()) for c in cells]
            for key, cells in _by_case(m.cells(profile)).items()}


def test_most_specific_axis_values_win() -> None:
    m = parse_matrix(SMALL, "small.toml")
    # Global axes alone.
    assert _values(m, "global") == {
        "writer.plain": [(1,), (2,), (3,)],
        "writer.own": [(6,)],
        "writer.both": [("v1", 8), ("v2", 8)],
    }
    # The profile's override beats the global axis, the case's values beat the profile's
    # override, and the profile's case_values beat the case's values.
    assert _values(m, "narrow") == {
        "writer.plain": [(4,), (5,)],
        "writer.own": [(6,)],
        "writer.both": [("v2", 7)],
    }


# ---------------------------------------------------------------------------- fingerprint


def test_fingerprint_is_stable(matrix: Matrix) -> None:
    assert matrix.fingerprint() == load_matrix(MATRIX_TOML).fingerprint()
    assert len(matrix.fingerprint()) == 16
    reformatted = "# a comment\n" + REAL.replace("seed = 20261126", "seed   =   20261126", 1)
    assert parse_matrix(reformatted).fingerprint() == matrix.fingerprint()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("batch_sizes = [1, 100, 1000, 10000]", "batch_sizes = [1, 100, 1000, 10000, 50000]"),
        ('layouts = ["unpartitioned", "sorted"]', 'layouts = ["unpartitioned"]'),
        ("seed = 20261126", "seed = 20261127"),
        ("target = 10\ncritical = 50", "target = 9\ncritical = 50"),
        ("symbols = 500", "symbols = 400"),
    ],
    ids=["axis", "profile-axis", "seed", "target", "data"],
)
def test_fingerprint_changes_with_what_decides_the_cells(matrix: Matrix, old: str, new: str
                                                         ) -> None:
    assert old in REAL
    assert parse_matrix(REAL.replace(old, new, 1)).fingerprint() != matrix.fingerprint()


def test_fingerprint_ignores_the_backends(matrix: Matrix) -> None:
    changed = REAL.replace("brokers = 3 ", "brokers = 1 ", 1)
    assert changed != REAL
    assert parse_matrix(changed).fingerprint() == matrix.fingerprint()


# ---------------------------------------------------------------------------- backends


def test_backends_from_the_real_matrix(matrix: Matrix) -> None:
    b = matrix.backends
    assert (b.kafka.mode, b.kafka.brokers) == ("mock", 3)
    assert b.kafka.producer.acks == "all" and b.kafka.producer.enable_idempotence
    assert b.schema_registry.url.startswith("mock://")
    assert b.catalog.kind == "sql" and b.catalog.resolved_uri.startswith("sqlite:///")
    assert "{warehouse}" not in b.catalog.resolved_uri
    assert Path(b.catalog.warehouse_path).is_absolute()


def test_environment_overrides(matrix: Matrix) -> None:
    base = matrix.backends
    assert base.with_environment({}) == base
    env = {
        "K2_KAFKA_BOOTSTRAP": "127.0.0.1:9092",
        "K2_SCHEMA_REGISTRY_URL": "http://127.0.0.1:8081",
        "K2_CATALOG_URI": "postgresql+psycopg2://postgres@127.0.0.1:5432/test",
        "K2_WAREHOUSE": "/tmp/k2-warehouse",
    }
    b = base.with_environment(env)
    assert (b.kafka.mode, b.kafka.bootstrap_servers) == ("bootstrap", "127.0.0.1:9092")
    assert b.kafka.producer == base.kafka.producer
    assert b.schema_registry.url == "http://127.0.0.1:8081"
    assert b.catalog.uri == env["K2_CATALOG_URI"]
    assert b.catalog.warehouse_path == "/tmp/k2-warehouse"
    assert base.kafka.mode == "mock", "the original is unchanged"
    only_one = base.with_environment({"K2_WAREHOUSE": "/w", "K2_KAFKA_BOOTSTRAP": ""})
    assert only_one.kafka == base.kafka and only_one.catalog.warehouse == "/w"


def test_describe_redacts_passwords_and_is_json() -> None:
    secret = "s3cret-pw"
    b = Backends().with_environment({
        "K2_CATALOG_URI": f"postgresql+psycopg2://k2:{secret}@db.internal:5432/k2",
        "K2_SCHEMA_REGISTRY_URL": f"https://user:{secret}@registry.internal:8081",
        "K2_KAFKA_BOOTSTRAP": "broker1:9092,broker2:9092",
    })
    described = b.describe()
    text = json.dumps(described)
    assert secret not in text
    assert described["catalog"]["uri"] == "postgresql+psycopg2://k2:***@db.internal:5432/k2"
    assert described["schema_registry"]["url"] == "https://user:***@registry.internal:8081"
    assert described["kafka"]["bootstrap_servers"] == "broker1:9092,broker2:9092"
    assert described["kafka"]["brokers"] is None
    assert set(described) == {"deadline_s", "kafka", "schema_registry", "catalog", "storage"}
