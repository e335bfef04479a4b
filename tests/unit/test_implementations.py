"""The one plug-in loader (k2matrix.implementations): by import path, by entry point name (the
built-ins and a third-party distribution on sys.path), every error naming the spec and the
fix; and, end to end, the example implementations under examples/ swept by the unchanged
suites through ``k2matrix run``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from k2matrix import implementations as impls
from k2matrix.query.protocol import QueryEngine

ROOT = Path(__file__).resolve().parents[2]

ENGINE = '''
from typing import Any


class Engine:
    name = "tiny"

    def __init__(self, tables: Any) -> None:
        self.tables = dict(tables)

    def run(self, query: str, params: Any = None) -> Any:
        return None

    def profile(self, query: str, params: Any = None) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass


class Nameless:  # the methods, but no `name` attribute once built
    def __init__(self, tables: Any) -> None:
        pass

    def run(self, query: str, params: Any = None) -> Any:
        return None

    def profile(self, query: str, params: Any = None) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass


class Half:
    name = "half"

    def run(self, query: str, params: Any = None) -> Any:
        return None


def make_engine(tables: Any) -> Engine:
    return Engine(tables)


def make_half(tables: Any) -> Half:
    return Half()


def make_anything(tables: Any):
    return Half()


class Factories:
    @staticmethod
    def engine(tables: Any) -> Engine:
        return Engine(tables)


NOT_CALLABLE = 42
'''


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """``module(source)``: a fresh importable module with that source; its name."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(source: str) -> str:
        name = f"k2plug_{uuid.uuid4().hex[:10]}"
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
        return name

    return make


def test_import_path_resolves_and_builds(module: Callable[[str], str]) -> None:
    mod = module(ENGINE)
    plugin = impls.resolve("engine", f"{mod}:Engine")
    assert plugin.target == f"{mod}:Engine" and plugin.name == "Engine"
    engine = plugin.build({"trades": "x"})
    assert isinstance(engine, QueryEngine) and engine.tables == {"trades": "x"}
    assert isinstance(impls.load("engine", f"{mod}:make_engine", {}), QueryEngine)
    assert isinstance(impls.load("engine", f"{mod}:Factories.engine", {}), QueryEngine)


def test_builtins_resolve_by_entry_point_name() -> None:
    assert impls.resolve("producer", "k2").target == "k2matrix.producer.k2producer:K2Producer"
    assert impls.resolve("writer", "iceberg").target == "k2matrix.writer.iceberg:IcebergWriter"
    assert set(impls.installed("engine")) >= {"duckdb_iceberg_scan", "duckdb_parquet", "polars"}


def test_third_party_entry_point_resolves_by_name(module: Callable[[str], str], tmp_path: Path
                                                  ) -> None:
    """A distribution on sys.path that registers an engine is found by its name."""
    mod = module(ENGINE)
    dist = tmp_path / "k2matrix_testplugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: k2matrix-testplugin\n"
                                   "Version: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(f"[k2matrix.engine]\ntiny = {mod}:Engine\n",
                                           encoding="utf-8")
    assert impls.installed("engine")["tiny"] == f"{mod}:Engine"
    assert impls.load("engine", "tiny", {}).name == "tiny"


def test_optional_keywords_are_declared_parameters() -> None:
    producer = impls.resolve("producer", "k2")
    assert producer.accepts("serializer")
    assert not producer.accepts("no_such_option")  # **overrides does not count


@pytest.mark.parametrize(("spec", "says"), [
    ("", "must be a name of an installed engine or an import path 'package.module:Name'"),
    ("spark", "no engine of that name; installed (entry point group k2matrix.engine): "
               "duckdb_iceberg_scan, duckdb_parquet, polars"),
    ("polar", "no engine of that name (did you mean 'polars'?)"),
    ("k2matrix.query.polars_engine.PolarsEngine",
     "an import path needs a colon: k2matrix.query.polars_engine:PolarsEngine?"),
    (":Engine", "an import path needs a module and a name: 'package.module:Name'"),
    ("k2matrix.query.polars_engine:", "an import path needs a module and a name"),
    ("no_such_pkg.engines:Engine", "no module named 'no_such_pkg.engines': install the package "
                                   "that provides it, or put its folder on PYTHONPATH"),
    ("k2matrix.query.polars_engine:PolarEngine",
     "k2matrix.query.polars_engine has no attribute 'PolarEngine' (did you mean "
     "'PolarsEngine'?); name a class or function defined there"),
    ("collections:OrderedDict", "OrderedDict lacks run, profile, close of the QueryEngine "
                                "Protocol (k2matrix.query.protocol.QueryEngine); add them"),
])
def test_errors_name_the_spec_and_the_fix(spec: str, says: str) -> None:
    with pytest.raises(impls.PluginError) as info:
        impls.resolve("engine", spec)
    assert str(info.value).startswith(f"engine {spec!r}: ")
    assert says in info.value.problem


@pytest.mark.parametrize(("attr", "says"), [
    ("NOT_CALLABLE", ":NOT_CALLABLE is a int, not a class or a function; name the factory"),
    ("Half", "Half lacks profile, close of the QueryEngine Protocol"),
    ("make_half", "Half lacks profile, close"),  # checked through the return annotation
    ("Factories.missing", "Factories has no attribute 'missing'"),
])
def test_errors_on_what_the_module_holds(module: Callable[[str], str], attr: str, says: str
                                         ) -> None:
    mod = module(ENGINE)
    with pytest.raises(impls.PluginError) as info:
        impls.resolve("engine", f"{mod}:{attr}")
    assert says in str(info.value)


def test_what_only_the_built_object_shows_is_checked_when_built(
        module: Callable[[str], str]) -> None:
    mod = module(ENGINE)
    unannotated = impls.resolve("engine", f"{mod}:make_anything")  # cannot tell yet
    with pytest.raises(impls.PluginError, match="Half lacks profile, close"):
        unannotated.build({})
    nameless = impls.resolve("engine", f"{mod}:Nameless")  # methods are there
    with pytest.raises(impls.PluginError, match="Nameless lacks name of the QueryEngine"):
        nameless.build({})


@pytest.mark.parametrize(("source", "says"), [
    ("raise RuntimeError('boom')\n", "failed: RuntimeError: boom; fix the module"),
    ("import no_such_dependency_xyz\n", "failed: No module named 'no_such_dependency_xyz'; "
                                        "install what it imports"),
    ("def broken(:\n", "failed: SyntaxError"),
])
def test_a_module_that_fails_to_import(module: Callable[[str], str], source: str, says: str
                                       ) -> None:
    mod = module(source)
    with pytest.raises(impls.PluginError) as info:
        impls.resolve("writer", f"{mod}:Writer")
    assert f"importing {mod} " in str(info.value) and says in str(info.value)


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="kind='catalog': use one of producer, writer, engine"):
        impls.resolve("catalog", "x:Y")


def test_protocol_members_are_what_the_suites_call() -> None:
    assert impls.protocol_members("producer") == (
        ["produce_trade", "produce_trades", "flush", "reset", "close"], ["topic", "schema"])
    assert impls.protocol_members("writer") == (["write_trades", "write_arrow", "close"], [])
    assert impls.protocol_members("engine") == (["run", "profile", "close"], ["name"])


# ---------------------------------------------------------------------------- end to end

UNIT_PROFILE = """
[profiles.unit]
description = "a few cells of the examples, small"
cases = ["producer.batch", "writer.throughput", "query.latency"]
schemas = ["v2"]
batch_sizes = [100]
engines = ["k2_examples.engine:PyIcebergArrowEngine"]
layouts = ["unpartitioned"]
dataset_sizes = [4000]
[profiles.unit.case_values]
"query.latency".query_shapes = ["filtered"]
[profiles.unit.data]
symbols = 20
"""


def test_the_examples_are_swept_and_verified_by_the_unchanged_suites(tmp_path: Path) -> None:
    """`k2matrix run` of the example matrix: each outside implementation's cell passes its
    read-back check and records its impl and the capabilities it lacks."""
    matrix = tmp_path / "matrix.toml"
    matrix.write_text((ROOT / "examples" / "matrix.toml").read_text(encoding="utf-8")
                      + UNIT_PROFILE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "examples") + ":" + str(ROOT / "src")}
    run = subprocess.run(
        [sys.executable, "-m", "k2matrix.cli", "run", "--matrix", str(matrix), "--tests",
         str(ROOT / "tests" / "performance"), "--profile", "unit", "--results",
         str(tmp_path / "results"), "--k2-run-id=unit", f"--k2-workdir={tmp_path / 'work'}",
         "-q", "-p", "no:xdist"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    doc = json.loads((tmp_path / "results" / "unit" / "benchmarks.json").read_text())
    cells = {b["extra_info"]["impl"]: b["extra_info"] for b in doc["benchmarks"]}
    assert set(cells) == {"k2_examples.producer:SerializingTradeProducer",
                          "k2_examples.writer:PlainIcebergWriter",
                          "k2_examples.engine:PyIcebergArrowEngine"}
    producer = cells["k2_examples.producer:SerializingTradeProducer"]
    assert producer["verified"].startswith("delivered==produced (")
    assert "efficiency" not in producer and any(
        m.startswith("ceiling") for m in producer["capabilities_missing"])
    writer = cells["k2_examples.writer:PlainIcebergWriter"]
    assert "count+checksum over all columns" in writer["verified"]
    assert writer["commits"] == 30  # 10 appends a round, 3 rounds: from the snapshots
    configured = writer["component_config"]  # it took configuration: recorded, no secrets
    assert configured["kind"] == "writer" and configured["catalog"]["name"].startswith(
        "k2matrix-") and configured["catalog"]["properties"]["type"] == "sql"
    engine = cells["k2_examples.engine:PyIcebergArrowEngine"]
    assert engine["verified"].startswith("filtered: equal to the reference")


def test_capabilities_record_the_spec_and_each_missing_capability_once() -> None:
    used = impls.Capabilities("writer", "iceberg")
    assert used.plugin.name == "IcebergWriter"
    assert used.info() == {"impl": "iceberg"}
    used.lacks("commits")
    used.lacks("schema_of")
    used.lacks("commits")
    assert used.info() == {"impl": "iceberg", "capabilities_missing": ["commits", "schema_of"]}
