"""``[backends.kafka]`` configured in full: security protocols and SASL mechanisms become the
librdkafka properties a client gets (secrets read from the variables the matrix names, never
shown), and librdkafka itself accepts them; ``[backends.kafka.client]`` passes any other
property and refuses unknown ones, ones with a key of their own and secrets.

No SASL peer is available here (Tansu 0.6.0 closes the connection at librdkafka's SASL
handshake; the librdkafka mock cluster speaks PLAINTEXT only): SASL is covered by these
configuration tests, TLS live by test_kafka_tls_live.py."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from k2matrix.backends.config import Backends, parse_backends
from k2matrix.backends.kafka import KafkaCluster
from k2matrix.checks import Checker
from k2matrix.errors import BackendError

USER, PASSWORD, SECRET = "K2T_KAFKA_USER", "K2T_KAFKA_PASSWORD", "K2T_KAFKA_CLIENT_SECRET"
VALUES = {USER: "alice", PASSWORD: "pw-Zq81-never-shown", SECRET: "cs-Xr77-never-shown"}


def _parse(kafka: dict[str, Any]) -> tuple[Backends, list[str]]:
    ck = Checker()
    table = {"kafka": {"mode": "bootstrap", "bootstrap_servers": "127.0.0.1:9", **kafka}}
    backends = parse_backends(ck, table, "backends")
    return backends, [f"{p.path}: {p.message}" for p in ck.problems]


def _client_config(backends: Backends) -> dict[str, Any]:
    cluster = KafkaCluster.__new__(KafkaCluster)  # configured, not connected
    cluster.config, cluster.mode = backends.kafka, "bootstrap"
    cluster.bootstrap_servers = backends.kafka.bootstrap_servers
    return cluster.client_config()


def _librdkafka_accepts(conf: dict[str, Any]) -> None:
    """Every client kind is built from ``conf`` (librdkafka validates names and values)."""
    Producer(conf).close()
    Consumer({**conf, "group.id": "k2t"}).close()
    AdminClient(conf)


SASL = [
    ("SASL_SSL", "PLAIN"), ("SASL_PLAINTEXT", "PLAIN"),
    ("SASL_SSL", "SCRAM-SHA-256"), ("SASL_SSL", "SCRAM-SHA-512"),
    ("SASL_PLAINTEXT", "SCRAM-SHA-512"),
]


@pytest.mark.parametrize(("protocol", "mechanism"), SASL)
def test_sasl_user_and_password_come_from_the_named_variables(
        protocol: str, mechanism: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in VALUES.items():
        monkeypatch.setenv(name, value)
    backends, problems = _parse({"security_protocol": protocol, "sasl": {
        "mechanism": mechanism, "username_env": USER, "password_env": PASSWORD}})
    assert problems == []
    conf = _client_config(backends)
    assert {k: conf[k] for k in ("security.protocol", "sasl.mechanism", "sasl.username",
                                 "sasl.password")} == {
        "security.protocol": protocol, "sasl.mechanism": mechanism,
        "sasl.username": "alice", "sasl.password": VALUES[PASSWORD]}
    _librdkafka_accepts(conf)
    described = json.dumps(backends.describe())
    assert VALUES[PASSWORD] not in described and PASSWORD not in described
    assert backends.describe()["kafka"]["security"] == {
        "protocol": protocol, "sasl_mechanism": mechanism,
        **({"ssl": {"ca": False, "client_certificate": False}} if protocol == "SASL_SSL"
           else {})}


def test_oauthbearer_uses_oidc_client_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in VALUES.items():
        monkeypatch.setenv(name, value)
    backends, problems = _parse({"security_protocol": "SASL_SSL", "sasl": {
        "mechanism": "OAUTHBEARER", "token_endpoint_url": "https://idp.example/oauth2/token",
        "client_id_env": USER, "client_secret_env": SECRET, "scope": "kafka"}})
    assert problems == []
    conf = _client_config(backends)
    assert {k: v for k, v in conf.items() if k.startswith("sasl.")} == {
        "sasl.mechanism": "OAUTHBEARER", "sasl.oauthbearer.method": "oidc",
        "sasl.oauthbearer.token.endpoint.url": "https://idp.example/oauth2/token",
        "sasl.oauthbearer.client.id": "alice",
        "sasl.oauthbearer.client.secret": VALUES[SECRET], "sasl.oauthbearer.scope": "kafka"}
    _librdkafka_accepts(conf)
    assert VALUES[SECRET] not in json.dumps(backends.describe())


def test_an_unset_variable_is_named_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(USER, "alice")
    monkeypatch.delenv(PASSWORD, raising=False)
    backends, _ = _parse({"security_protocol": "SASL_SSL", "sasl": {
        "mechanism": "SCRAM-SHA-256", "username_env": USER, "password_env": PASSWORD}})
    with pytest.raises(BackendError, match=f"SCRAM-SHA-256 password: the environment variable "
                                           f"{PASSWORD} .* is not set"):
        _client_config(backends)


def test_the_client_table_passes_any_librdkafka_property() -> None:
    backends, problems = _parse({"client": {"client.id": "k2-bench", "socket.keepalive.enable":
                                            True, "reconnect.backoff.max.ms": 2000}})
    assert problems == []
    conf = _client_config(backends)
    assert (conf["client.id"], conf["socket.keepalive.enable"],
            conf["reconnect.backoff.max.ms"]) == ("k2-bench", True, 2000)
    assert conf["security.protocol"] == "PLAINTEXT"
    _librdkafka_accepts(conf)


REFUSED = [
    ({"client": {"no.such.property": 1}}, 'backends.kafka.client."no.such.property"',
     "librdkafka .* refuses it: No such configuration property"),
    ({"client": {"linger.ms": "soon"}}, 'backends.kafka.client."linger.ms"',
     "refuses it: Invalid value"),
    ({"client": {"bootstrap.servers": "x:1"}}, 'backends.kafka.client."bootstrap.servers"',
     "k2matrix sets this property from backends.kafka.bootstrap_servers"),
    ({"client": {"sasl.password": "hunter2"}}, 'backends.kafka.client."sasl.password"',
     "k2matrix sets this property from backends.kafka.sasl.password_env"),
    ({"client": {"sasl.oauthbearer.config": "principal=x"}},
     'backends.kafka.client."sasl.oauthbearer.config"', "a secret must not be written"),
    ({"security_protocol": "SASL_SSL"}, "backends.kafka.sasl.username_env",
     "SASL PLAIN needs username_env"),
    ({"security_protocol": "SSL", "sasl": {"mechanism": "PLAIN"}}, "backends.kafka.sasl",
     "does not use SASL"),
    ({"ssl": {"ca_location": "/no/such/ca.pem"}}, "backends.kafka.ssl",
     "does not use TLS"),
    ({"security_protocol": "SSL", "ssl": {"ca_location": "/no/such/ca.pem"}},
     "backends.kafka.ssl.ca_location", "no such file"),
    ({"security_protocol": "TLS"}, "backends.kafka.security_protocol",
     "unknown value; allowed: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
    ({"security_protocol": "SASL_SSL", "sasl": {"mechanism": "GSSAPI"}},
     "backends.kafka.sasl.mechanism", "allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"),
    ({"sasl_password_env": "X"}, "backends.kafka.sasl_password_env", "moved: set"),
    ({"sasl": {"password": "hunter2"}}, "backends.kafka.sasl.password",
     "name it in password_env"),
    ({"replication_factor": 0}, "backends.kafka.replication_factor", "or -1"),
    ({"partitions": 0}, "backends.kafka.partitions", "from 1 to 10000"),
]


@pytest.mark.parametrize(("kafka", "where", "message"), REFUSED,
                         ids=[r[1].split(".", 2)[-1] + f"-{i}" for i, r in enumerate(REFUSED)])
def test_refused_with_the_key_and_the_fix(kafka: dict[str, Any], where: str,
                                          message: str) -> None:
    _, problems = _parse(kafka)
    matching = [p for p in problems if p.startswith(f"{where}: ")]
    assert matching, problems
    assert any(re.search(message, p) for p in matching), matching
    assert "hunter2" not in " ".join(problems)


def test_the_mock_cluster_refuses_security() -> None:
    ck = Checker()
    parse_backends(ck, {"kafka": {"mode": "mock", "security_protocol": "SSL"}}, "backends")
    assert [p.path for p in ck.problems] == ["backends.kafka.security_protocol"]
    assert "the mock cluster speaks PLAINTEXT only" in ck.problems[0].message
