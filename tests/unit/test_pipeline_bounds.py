"""The pipeline's rate-search bound is relative to the commit interval, and a remote Dask
scheduler with a broker only this machine reaches is refused before anything starts."""

from __future__ import annotations

import pytest

from k2matrix.backends.config import Backends, KafkaConfig
from k2matrix.pipeline.bench import FRESHNESS_MARGIN_MS, freshness_bound_ms
from k2matrix.pipeline.run import PipelineConfig, check_placement
from k2matrix.tools.pipeline import main


@pytest.mark.parametrize("interval_ms", [200, 1000, 5000])
def test_the_freshness_bound_is_the_commit_interval_plus_the_margin(interval_ms: int) -> None:
    assert freshness_bound_ms(interval_ms) == interval_ms + FRESHNESS_MARGIN_MS
    assert freshness_bound_ms(interval_ms, 500) == interval_ms + 500


@pytest.mark.parametrize("kafka", [
    KafkaConfig(mode="mock"),
    KafkaConfig(mode="bootstrap", bootstrap_servers="127.0.0.1:9092"),
    KafkaConfig(mode="bootstrap", bootstrap_servers="10.0.0.5:9092,localhost:9093"),
])
def test_a_remote_scheduler_with_a_loopback_broker_is_refused(kafka: KafkaConfig) -> None:
    config = PipelineConfig(scheduler="tcp://10.0.0.9:8786")
    with pytest.raises(ValueError, match="--bootstrap HOST:PORT") as refused:
        check_placement(config, Backends(kafka=kafka))
    assert "tcp://10.0.0.9:8786" in str(refused.value)


def test_a_reachable_broker_or_a_local_cluster_is_accepted() -> None:
    reachable = Backends(kafka=KafkaConfig(mode="bootstrap", bootstrap_servers="10.0.0.5:9092"))
    check_placement(PipelineConfig(scheduler="tcp://10.0.0.9:8786"), reachable)
    check_placement(PipelineConfig(), Backends())  # no scheduler: the embedded broker is fine


def test_the_tool_refuses_it_with_exit_2_and_no_traceback(capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    assert main(["--scheduler", "tcp://10.0.0.9:8786", "--seconds", "1"]) == 2
    err = capsys.readouterr().err
    assert "embedded mock cluster" in err and "--bootstrap" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["--rate", "0"], ["--workers", "0"], ["--repeat", "0"],
                                  ["--baseline-pairs", "-1"]])
def test_bad_numbers_exit_2_naming_them(argv: list[str], capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert argv[0].lstrip("-").replace("-", "_") in err.replace("-", "_")
