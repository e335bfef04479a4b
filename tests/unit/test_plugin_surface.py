"""The plug-in surface: the configuration a factory gets, what an implementation declares it
supports and the cells outside it (``not_applicable``), figures measured without a needed
capability (``not_judged``), and several implementations side by side in one matrix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from synthetic import benchmark, cell_dict, document

from k2matrix import implementations
from k2matrix.backends.config import SchemaRegistryConfig
from k2matrix.backends.registry import avro_schema_str
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.component_config import (
    CatalogSettings,
    ComponentConfig,
    KafkaSettings,
    RegistrySettings,
    StorageSettings,
    redacted,
)
from k2matrix.errors import MatrixError
from k2matrix.matrix import load_matrix
from k2matrix.results.document import build_document
from k2matrix.results.record import NOT_APPLICABLE, CellRecord
from k2matrix.summary import build_summary

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------- configuration


def test_described_configuration_holds_no_secret() -> None:
    config = ComponentConfig(
        kind="producer",
        kafka=KafkaSettings("b:9092", {"sasl.password": "hunter2", "linger.ms": 5,
                                       "sasl.username": "me"}, {"linger_ms": 0}),
        registry=RegistrySettings("https://u:regsecret@reg:8081", {"url": "x",
                                  "basic.auth.user.info": "u:regsecret"}),
        storage=StorageSettings("s3", "http://127.0.0.1:9000", "us-east-1",
                                access_key_id="AKIA", secret_access_key="s3secret"),
        catalog=CatalogSettings("c", "postgresql://u:pgsecret@h/db", "s3://w", "k2",
                                {"uri": "postgresql://u:pgsecret@h/db",
                                 "s3.secret-access-key": "s3secret"}))
    text = json.dumps(config.describe())
    for secret in ("hunter2", "regsecret", "pgsecret", "s3secret"):
        assert secret not in text
        assert secret not in repr(config.storage)
    assert config.describe()["kafka"]["overrides"] == {"linger_ms": 0}
    assert redacted({"logger": object()})["logger"] == "object"


def test_mock_registry_urls_share_one_store_across_clients() -> None:
    settings = RegistrySettings.of(SchemaRegistryConfig(url="mock://surface-test"))
    producer_side, consumer_side = settings.client(), RegistrySettings.of(
        SchemaRegistryConfig(url="mock://surface-test")).client()
    from confluent_kafka.schema_registry import Schema

    schema_id = producer_side.register_schema("t-value", Schema(avro_schema_str("v2"), "AVRO"))
    assert consumer_side.get_schema(schema_id).schema_str == avro_schema_str("v2")
    other = RegistrySettings.of(SchemaRegistryConfig(url="mock://another")).client()
    assert other is not producer_side


def test_storage_settings_read_the_credentials_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURFACE_KEY", "AKIAX")
    monkeypatch.setenv("SURFACE_SECRET", "it's")
    config = StorageConfig(kind="s3", endpoint="https://s3.example:9000",
                           access_key_id_env="SURFACE_KEY",
                           secret_access_key_env="SURFACE_SECRET")
    settings = StorageSettings.of(config)
    assert (settings.access_key_id, settings.secret_access_key) == ("AKIAX", "it's")
    secret_sql = settings.duckdb_secret()
    assert "SECRET 'it''s'" in secret_sql and "USE_SSL true" in secret_sql
    assert StorageSettings.of(None).duckdb_secret() == ""


def test_a_catalog_opened_from_its_settings_is_the_same_catalog(tmp_path: Path) -> None:
    from pyiceberg.catalog import load_catalog
    from pyiceberg.catalog.sql import SqlCatalog

    from k2matrix.writer.layouts import create_table

    catalog = SqlCatalog("cell-catalog", uri=f"sqlite:///{tmp_path}/c.db",
                         warehouse=tmp_path.as_uri())
    catalog.create_namespace("k2")
    create_table(catalog, "k2.t", "v2", "unpartitioned")
    settings = CatalogSettings.of(catalog, "k2")
    assert settings.properties["type"] == "sql"
    again = load_catalog(settings.name, **settings.properties)
    assert again.list_tables("k2") == [("k2", "t")]
    other_name = load_catalog("another", **settings.properties)
    assert not other_name.namespace_exists("k2")  # a SQL catalog's tables are its name's


# ---------------------------------------------------------------------------- supports


class _V2Only:
    supports = {"schemas": ["v2"], "query_shapes": ["filtered"], "catalogs": ["sqlite"]}


@pytest.mark.parametrize(("schema", "shapes", "catalog", "reason"), [
    ("v2", ("filtered",), "sqlite", None),
    ("v1", (), "", "supports schema(s) v2; this cell is v1"),
    ("v2", ("filtered", "join"), "", "does not serve query shape(s) join"),
    ("v2", (), "glue", "supports catalog(s) sqlite; this cell's is glue"),
])
def test_not_applicable_names_what_is_outside(schema: str, shapes: tuple[str, ...],
                                              catalog: str, reason: str | None) -> None:
    plugin = implementations.Plugin("writer", "x:V2", "x:V2", _V2Only)
    found = plugin.not_applicable(schema, shapes, catalog)
    if reason is None:
        assert found is None
    else:
        assert found is not None and reason in found


@pytest.mark.parametrize(("declared", "problem"), [
    ({"schema": ["v2"]}, "supports['schema']: unknown key"),
    ({"schemas": "v2"}, "give a list of names"),
    (["v2"], "make it a dict"),
])
def test_a_bad_declaration_is_an_error_naming_it(declared: Any, problem: str) -> None:
    factory = type("F", (), {"supports": declared})
    with pytest.raises(implementations.PluginError, match=problem.replace("[", r"\[")):
        implementations.declared_support("writer", "x:F", factory)


# ---------------------------------------------------------------------------- statuses


def test_not_applicable_cells_are_neither_failed_nor_missing(tmp_path: Path) -> None:
    ran = CellRecord(nodeid="a", status="passed", cell={"id": "a"}, worker="gw0", started=0,
                     finished=1, benchmark=benchmark(cell_dict("writer", "append",
                                                               schema="v2"), [0.1] * 3),
                     error=None)
    outside = CellRecord(nodeid="b", status=NOT_APPLICABLE, cell={"id": "b"}, worker="gw0",
                         started=0, finished=1, benchmark=None,
                         error="not_applicable: x supports schema(s) v2; this cell is v1")
    doc = build_document([ran, outside], {"cells_planned": ["a", "b"], "versions": {}})
    assert doc["k2"]["not_applicable"] == [
        {"cell": "b", "reason": "x supports schema(s) v2; this cell is v1"}]
    assert doc["k2"]["failed"] == [] and doc["k2"]["cells_missing"] == []
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(doc))
    summary = build_summary(path).to_dict()
    assert any("1 cell(s) not_applicable" in n for n in summary["notes"])


def test_a_figure_without_a_needed_capability_is_not_judged(tmp_path: Path) -> None:
    targets = json.loads((Path(__file__).parent / "data" / "summary" /
                          "targets.json").read_text())
    slow = benchmark(cell_dict("producer", "paced_latency", schema="v2"), [0.5] * 5,
                     {"latency_p99_ms": 1500.0, "not_judged": "poll (…)"})
    judged = benchmark(cell_dict("producer", "paced_latency", schema="v1"), [0.5] * 5,
                       {"latency_p99_ms": 1500.0})
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(document([slow, judged], targets)))
    out = build_summary(path).to_dict()
    status = {c["id"]: c["status"] for c in out["cells"]}
    assert status == {slow["param"]: "not_judged", judged["param"]: "below_critical"}
    assert [d["id"] for d in out["deciding_cells"]] == [judged["param"]]


# ---------------------------------------------------------------------------- several impls


class OtherProducer:
    """A producer named beside the built-in (only resolved here: the ids are the subject)."""

    topic = schema = ""

    def produce_trade(self, record: Any) -> None: ...
    def produce_trades(self, records: Any) -> int: ...
    def flush(self, timeout: float | None = None) -> Any: ...
    def reset(self) -> None: ...
    def close(self) -> None: ...


def _matrix(tmp_path: Path, producer_impl: str) -> Path:
    text = (ROOT / "matrix.toml").read_text()
    text = text.replace('impl = "k2matrix.producer.k2producer:K2Producer"',
                        f"impl = {producer_impl}")
    path = tmp_path / "matrix.toml"
    path.write_text(text)
    return path


def test_several_producers_side_by_side_keep_the_builtins_ids(tmp_path: Path) -> None:
    default = {c.id for c in load_matrix(ROOT / "matrix.toml").cells("smoke")}
    matrix = load_matrix(_matrix(tmp_path, '["k2", "test_plugin_surface:OtherProducer"]'))
    cells = {c.id: c for c in matrix.cells("smoke")}
    own_default = {i for i in default if "serializer_cache" in i or i.startswith("pipeline")}
    assert default - own_default <= set(cells)
    assert cells["producer-batch-v2-b100-OtherProducer"].params["impl"] == \
        "test_plugin_surface:OtherProducer"
    assert cells["producer-batch-v2-b100"].params["impl"] == "k2"
    own = [i for i in cells if "serializer_cache" in i or i.startswith("pipeline")]
    assert own and all(i.endswith("-k2matrix") for i in own)
    assert cells[own[0]].params["times"] == "k2matrix"
    assert matrix.fingerprint() != load_matrix(ROOT / "matrix.toml").fingerprint()
    assert matrix.fingerprint(without_impls=True) == load_matrix(
        ROOT / "matrix.toml").fingerprint(without_impls=True)


@pytest.mark.parametrize(("impl", "problem"), [
    ("[]", "components.producer.impl = []: an empty list"),
    ('["k2", "k2"]', "named twice"),
    ('["k2", "nope"]', "components.producer.impl[1]"),
])
def test_a_bad_list_of_implementations_names_the_key(tmp_path: Path, impl: str,
                                                     problem: str) -> None:
    with pytest.raises(MatrixError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        load_matrix(_matrix(tmp_path, impl))
