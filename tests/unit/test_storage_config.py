"""[backends.storage], the glue catalog kind and the object-storage axes: every bad value a
MatrixError at its key path (secrets never echoed), the K2_S3_* overrides, what results
record (no credential), and cell ids that stay the same for local-disk cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from k2matrix.backends.config import Backends
from k2matrix.backends.storage import polars_storage_options, pyiceberg_properties, scrub
from k2matrix.backends.storage_config import EMBEDDED_KEY, StorageConfig, check_bucket
from k2matrix.errors import MatrixError
from k2matrix.matrix import parse_matrix

ROOT = Path(__file__).resolve().parents[2]
REAL = (ROOT / "matrix.toml").read_text(encoding="utf-8")
STORAGE = '[backends.storage]\nkind = "local"'
SECRET = "wJalrXUtnFEMI-k2-do-not-print"


def _with(old: str, new: str) -> str:
    """The real matrix with ``old`` replaced by ``new``; the [backends.storage] table (the
    last of the file) replaced whole when ``old`` is its header."""
    assert old in REAL, f"matrix.toml no longer contains {old!r}"
    if old == STORAGE:
        return REAL.rsplit("[backends.storage]", 1)[0] + new + "\n"
    return REAL.replace(old, new, 1)


BAD = [
    ("kind", STORAGE, '[backends.storage]\nkind = "gcs"', "backends.storage.kind", "allowed"),
    ("endpoint", STORAGE, '[backends.storage]\nkind = "s3"\nendpoint = "127.0.0.1:9000"',
     "backends.storage.endpoint", "http(s)://"),
    ("bucket", STORAGE, '[backends.storage]\nkind = "s3"\nbucket = "wh"',
     "backends.storage.bucket", "bucket name"),
    ("bucket-case", STORAGE, '[backends.storage]\nkind = "s3"\nbucket = "Ware_House"',
     "backends.storage.bucket", "bucket name"),
    ("inline-secret", STORAGE, f'[backends.storage]\nkind = "s3"\nsecret_access_key = "{SECRET}"',
     "backends.storage.secret_access_key", "environment variable"),
    ("env-is-secret", STORAGE,
     f'[backends.storage]\nkind = "s3"\nsecret_access_key_env = "{SECRET}/x"',
     "backends.storage.secret_access_key_env", "not the secret itself"),
    ("path-style", STORAGE, '[backends.storage]\nkind = "s3"\npath_style = "yes"',
     "backends.storage.path_style", "true or false"),
    ("unknown-key", STORAGE, '[backends.storage]\nkind = "s3"\nbuckets = "warehouse"',
     "backends.storage.buckets", "did you mean"),
    ("glue-local", 'kind = "sql"                  #', 'kind = "glue"                  #',
     "backends.catalog.kind", "S3"),
    ("storages", 'storages = ["local", "s3"]', 'storages = ["local", "gcs"]', "axes.storages[1]",
     "allowed"),
    ("catalogs", 'catalogs = ["sqlite", "postgresql", "glue"]', 'catalogs = ["hive"]',
     "axes.catalogs[0]", "allowed"),
    ("latency", 's3_latency_ms = [0, 20]', 's3_latency_ms = [0, -5]', "axes.s3_latency_ms[1]",
     "milliseconds"),
    ("latency-float", 's3_latency_ms = [0, 20]', 's3_latency_ms = [0.5]',
     "axes.s3_latency_ms[0]", "milliseconds"),
]


@pytest.mark.parametrize(("old", "new", "path", "says"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_storage_values(old: str, new: str, path: str, says: str,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("K2_S3_ENDPOINT", raising=False)
    with pytest.raises(MatrixError) as info:
        parse_matrix(_with(old, new))
    problems = [p for p in info.value.problems if p.path == path]
    assert problems, f"no problem at {path}: {info.value}"
    assert any(says in p.message for p in problems), str(info.value)
    assert SECRET not in str(info.value)


def test_s3_storage_parses_and_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _with(STORAGE, '[backends.storage]\nkind = "s3"\nendpoint = "http://minio:9000"\n'
                 'access_key_id_env = "MY_KEY"\nsecret_access_key_env = "MY_SECRET"\n'
                 'bucket = "lake"\nprefix = "/k2/"')
    storage = parse_matrix(text).backends.storage
    assert storage == StorageConfig(kind="s3", endpoint="http://minio:9000", bucket="lake",
                                    prefix="k2", access_key_id_env="MY_KEY",
                                    secret_access_key_env="MY_SECRET")
    assert storage.warehouse("gw0") == "s3://lake/k2/gw0"
    env = {"K2_S3_ENDPOINT": "http://127.0.0.1:5000", "K2_S3_BUCKET": "other-bucket",
           "K2_S3_PREFIX": "p"}
    moved = Backends(storage=storage).with_environment(env).storage
    assert (moved.endpoint, moved.bucket, moved.prefix) == ("http://127.0.0.1:5000",
                                                            "other-bucket", "p")
    local = Backends().with_environment({"K2_S3_ENDPOINT": "http://127.0.0.1:5000"}).storage
    assert local.kind == "s3"


def test_credentials_come_only_from_named_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "AKIAK2TEST")
    monkeypatch.setenv("MY_SECRET", SECRET)
    cfg = StorageConfig(kind="s3", endpoint="https://s3.example.com",
                        access_key_id_env="MY_KEY", secret_access_key_env="MY_SECRET")
    assert cfg.credentials() == {"access_key_id": "AKIAK2TEST", "secret_access_key": SECRET}
    assert pyiceberg_properties(cfg)["s3.secret-access-key"] == SECRET
    assert polars_storage_options(cfg)["aws_secret_access_key"] == SECRET
    described = str(Backends(storage=cfg).describe())
    assert SECRET not in described and "AKIAK2TEST" not in described
    assert "MY_SECRET" in described  # the variable's name, so a reader knows where it came from
    assert scrub(f"failed with {SECRET} inside", cfg) == "failed with *** inside"
    # No variables named: a real endpoint uses the client's default chain (nothing passed) …
    assert StorageConfig(kind="s3", endpoint="https://s3.example.com").credentials() == {}
    # … a loopback test server gets the fixed, non-secret test key.
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    assert StorageConfig(kind="s3", endpoint="http://127.0.0.1:9").credentials() == {
        "access_key_id": EMBEDDED_KEY, "secret_access_key": EMBEDDED_KEY}


@pytest.mark.parametrize(("name", "ok"), [("warehouse", True), ("k2-lake.data", True),
                                          ("wh", False), ("Warehouse", False),
                                          ("-lake", False), ("a..b", False),
                                          ("192.168.1.1", False), ("x" * 64, False)])
def test_bucket_names(name: str, ok: bool) -> None:
    assert (check_bucket(name) is None) is ok


def test_local_cell_ids_unchanged_and_s3_cells_named() -> None:
    matrix = parse_matrix(REAL)
    ids = {c.id for c in matrix.cells("smoke")}
    assert "writer-append-v2-b10000-unpartitioned" in ids  # the local cell keeps its id
    assert "writer-append-v2-b10000-unpartitioned-s3" in ids
    assert "query-caching-warm-duckdb_parquet-n100000-s3" in ids
    assert {"writer-commits-s3", "writer-commits-glue-s3"} <= ids
    full = {c.id for c in matrix.cells("full")}
    assert "writer-commits-postgresql-s3-lat20" in full
    s3 = parse_matrix(REAL).cells("s3")
    assert {c.params.get("storage") for c in s3 if c.key == "query.latency"} == {"local", "s3"}


def test_storage_cost_table_pairs_s3_cells_with_their_local_twin() -> None:
    from k2matrix.results.load import Run
    from k2matrix.summary.storage import local_twin, storage_costs

    assert local_twin("query-latency-filtered-polars-unpartitioned-n100000-s3") == (
        "query-latency-filtered-polars-unpartitioned-n100000")
    assert local_twin("writer-commits-glue-s3-lat20") == "writer-commits-glue"

    def bench(cid: str, median: float, s3: dict[str, object] | None = None) -> dict[str, object]:
        extra: dict[str, object] = {"k2": {"cell": {"id": cid}}}
        if s3 is not None:
            extra["s3"] = s3
        return {"name": cid, "stats": {"median": median}, "extra_info": extra}

    run = Run(source="synthetic", benchmarks=[
        bench("writer-append-v2-b100-unpartitioned", 0.04),
        bench("writer-append-v2-b100-unpartitioned-s3", 0.16, {
            "source": "server", "ops": 2, "op": "commit", "exclusive": True,
            "requests": {"PUT": 24, "HEAD": 8, "GET": 2, "LIST": 2}, "requests_total": 36,
            "bytes_in": 2000, "bytes_out": 100}),
        bench("query-x-s3", 0.01, {"source": "unavailable", "ops": 1, "op": "query"}),
        bench("damaged-s3", 0.01, {"ops": "many", "requests": [1, 2]}),
    ])
    rows = {r["id"]: r for r in storage_costs(run).to_dicts()}
    row = rows["writer-append-v2-b100-unpartitioned-s3"]
    assert row["local_median_ms"] == pytest.approx(40.0)
    assert row["s3_vs_local"] == pytest.approx(4.0)
    assert (row["put_per_op"], row["head_per_op"], row["requests_per_op"]) == (12, 4, 18)
    assert row["bytes_in_per_op"] == 1000
    assert rows["query-x-s3"]["get_per_op"] is None  # not counted: shown as unknown, not 0
    assert "damaged-s3" in rows
