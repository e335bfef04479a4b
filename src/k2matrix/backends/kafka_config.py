"""``[backends.kafka]``: where the brokers are, how clients authenticate, any other librdkafka
property, and the topics' partitions and replication factor.

Security (``security_protocol`` and the ``sasl`` / ``ssl`` tables) covers PLAINTEXT, SSL (a
CA, a client certificate for mutual TLS), SASL_PLAINTEXT and SASL_SSL with PLAIN,
SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER (OIDC client credentials). Secrets are named by
environment variable (``*_env``) and read when a client is configured
(:meth:`KafkaSecurity.properties`); they never appear in :meth:`KafkaConfig.describe`.

``[backends.kafka.client]`` passes any other librdkafka property verbatim to every client
(producer, consumer, admin). librdkafka itself checks names and values when the matrix loads
(:mod:`k2matrix.backends.kafka_properties`); a property k2matrix sets from a key of
its own (``bootstrap.servers``, ``security.protocol``, ``sasl.*``, ``ssl.*`` below) is refused
there with the key to use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from k2matrix.backends.deadline import DEFAULT_S
from k2matrix.checks import Checker, join
from k2matrix.errors import MISSING, BackendError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
ACKS = ("0", "1", "all", "-1")
COMPRESSIONS = ("none", "gzip", "snappy", "lz4", "zstd")

# librdkafka properties with a key of their own: [backends.kafka.client] refuses them
OWN_KEYS = {
    "bootstrap.servers": "backends.kafka.bootstrap_servers",
    "metadata.broker.list": "backends.kafka.bootstrap_servers",
    "security.protocol": "backends.kafka.security_protocol",
    "sasl.mechanism": "backends.kafka.sasl.mechanism",
    "sasl.mechanisms": "backends.kafka.sasl.mechanism",
    "sasl.username": "backends.kafka.sasl.username_env",
    "sasl.password": "backends.kafka.sasl.password_env",
    "sasl.oauthbearer.method": "backends.kafka.sasl.token_endpoint_url",
    "sasl.oauthbearer.client.id": "backends.kafka.sasl.client_id_env",
    "sasl.oauthbearer.client.secret": "backends.kafka.sasl.client_secret_env",
    "sasl.oauthbearer.token.endpoint.url": "backends.kafka.sasl.token_endpoint_url",
    "sasl.oauthbearer.scope": "backends.kafka.sasl.scope",
    "ssl.ca.location": "backends.kafka.ssl.ca_location",
    "ssl.certificate.location": "backends.kafka.ssl.certificate_location",
    "ssl.key.location": "backends.kafka.ssl.key_location",
    "ssl.key.password": "backends.kafka.ssl.key_password_env",
}
# a value under these names is a secret: [backends.kafka.client] refuses it too
SECRET_PROPERTIES = ("password", "secret", "sasl.oauthbearer.config", "ssl.key.pem",
                     "ssl_key", "ssl.keystore")


@dataclass(frozen=True)
class ProducerSettings:
    acks: str = "all"
    enable_idempotence: bool = True
    linger_ms: int = 5
    batch_size: int = 1_000_000
    compression: str = "lz4"


@dataclass(frozen=True)
class SaslSettings:
    """``[backends.kafka.sasl]``: the mechanism and the variables holding its credentials."""

    mechanism: str = "PLAIN"
    username_env: str = ""  # PLAIN, SCRAM
    password_env: str = ""
    token_endpoint_url: str = ""  # OAUTHBEARER: the OIDC token endpoint (client credentials)
    client_id_env: str = ""
    client_secret_env: str = ""
    scope: str = ""


@dataclass(frozen=True)
class SslSettings:
    """``[backends.kafka.ssl]``: files (PEM) and the variable holding the key's password."""

    ca_location: str = ""
    certificate_location: str = ""
    key_location: str = ""
    key_password_env: str = ""


def _env(name: str, what: str, environ: Mapping[str, str]) -> str:
    value = environ.get(name, "")
    if not value:
        raise BackendError(f"Kafka {what}: the environment variable {name} (named in "
                           f"[backends.kafka]) is not set; export it before the run")
    return value


@dataclass(frozen=True)
class KafkaSecurity:
    protocol: str = "PLAINTEXT"
    sasl: SaslSettings = field(default_factory=SaslSettings)
    ssl: SslSettings = field(default_factory=SslSettings)

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    def env_names(self) -> list[str]:
        """The variables holding this configuration's secrets."""
        s = self.sasl
        names = [s.password_env, s.client_secret_env] if self.uses_sasl else []
        if self.uses_tls:
            names.append(self.ssl.key_password_env)
        return [n for n in names if n]

    def secrets(self, environ: Mapping[str, str] | None = None) -> list[str]:
        env = os.environ if environ is None else environ
        return [env[n] for n in self.env_names() if env.get(n)]

    def properties(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """librdkafka's security properties, secrets read from the environment now
        (BackendError naming a variable that is not set)."""
        env = os.environ if environ is None else environ
        conf: dict[str, Any] = {"security.protocol": self.protocol}
        if self.uses_tls:
            tls = self.ssl
            for key, value in (("ssl.ca.location", tls.ca_location),
                               ("ssl.certificate.location", tls.certificate_location),
                               ("ssl.key.location", tls.key_location)):
                if value:
                    conf[key] = value
            if tls.key_password_env:
                conf["ssl.key.password"] = _env(tls.key_password_env, "TLS key password", env)
        if not self.uses_sasl:
            return conf
        s = self.sasl
        conf["sasl.mechanism"] = s.mechanism
        if s.mechanism == "OAUTHBEARER":
            conf.update({
                "sasl.oauthbearer.method": "oidc",
                "sasl.oauthbearer.token.endpoint.url": s.token_endpoint_url,
                "sasl.oauthbearer.client.id": _env(s.client_id_env, "OAUTHBEARER client id",
                                                   env),
                "sasl.oauthbearer.client.secret": _env(s.client_secret_env,
                                                       "OAUTHBEARER client secret", env)})
            if s.scope:
                conf["sasl.oauthbearer.scope"] = s.scope
        else:
            conf["sasl.username"] = _env(s.username_env, f"{s.mechanism} username", env)
            conf["sasl.password"] = _env(s.password_env, f"{s.mechanism} password", env)
        return conf

    def describe(self) -> dict[str, Any]:
        """For results files: the protocol, mechanism and file paths; no secret, no
        variable's value."""
        out: dict[str, Any] = {"protocol": self.protocol}
        if self.uses_sasl:
            out["sasl_mechanism"] = self.sasl.mechanism
        if self.uses_tls:
            out["ssl"] = {"ca": bool(self.ssl.ca_location),
                          "client_certificate": bool(self.ssl.certificate_location)}
        return out


@dataclass(frozen=True)
class KafkaConfig:
    mode: str = "mock"
    brokers: int = 3
    bootstrap_servers: str = ""
    topic_prefix: str = "k2matrix"
    partitions: int = 4
    replication_factor: int = 1
    security: KafkaSecurity = field(default_factory=KafkaSecurity)
    client: Mapping[str, Any] = field(default_factory=dict)  # [backends.kafka.client]
    producer: ProducerSettings = field(default_factory=ProducerSettings)
    deadline_s: float = DEFAULT_S


def _parse_sasl(ck: Checker, k: dict[str, Any], kpath: str, protocol: str) -> SaslSettings:
    t = ck.table(k, "sasl", kpath) or {}
    path = join(kpath, "sasl")
    ck.keys(t, path, ["mechanism", "username_env", "password_env", "token_endpoint_url",
                      "client_id_env", "client_secret_env", "scope"])
    if t and not protocol.startswith("SASL_"):
        ck.add(path, MISSING, f"security_protocol = {protocol!r} does not use SASL: set "
               'security_protocol = "SASL_SSL" (or "SASL_PLAINTEXT"), or remove this table')
    mech = ck.str_(t.get("mechanism", "PLAIN"), join(path, "mechanism"), MECHANISMS) or "PLAIN"
    names = {key: ck.env_name(t.get(key, ""), join(path, key)) or ""
             for key in ("username_env", "password_env", "client_id_env", "client_secret_env")}
    url = ck.str_(t.get("token_endpoint_url", ""), join(path, "token_endpoint_url")) or ""
    scope = ck.str_(t.get("scope", ""), join(path, "scope")) or ""
    if protocol.startswith("SASL_"):
        needed = (("token_endpoint_url", "client_id_env", "client_secret_env")
                  if mech == "OAUTHBEARER" else ("username_env", "password_env"))
        for key in needed:
            if not (url if key == "token_endpoint_url" else names[key]):
                ck.add(join(path, key), MISSING, f"SASL {mech} needs {key}"
                       + ("" if key == "token_endpoint_url" else
                          ": the name of the environment variable that holds it"))
        if mech == "OAUTHBEARER" and url and not url.startswith(("http://", "https://")):
            ck.add(join(path, "token_endpoint_url"), url, "must be an http(s):// URL (the "
                   "OIDC token endpoint)")
    return SaslSettings(mechanism=mech, token_endpoint_url=url, scope=scope, **names)


def _parse_ssl(ck: Checker, k: dict[str, Any], kpath: str, protocol: str) -> SslSettings:
    t = ck.table(k, "ssl", kpath) or {}
    path = join(kpath, "ssl")
    ck.keys(t, path, ["ca_location", "certificate_location", "key_location",
                      "key_password_env"])
    if t and protocol not in ("SSL", "SASL_SSL"):
        ck.add(path, MISSING, f"security_protocol = {protocol!r} does not use TLS: set "
               'security_protocol = "SSL" (or "SASL_SSL"), or remove this table')
    files = {key: ck.str_(t.get(key, ""), join(path, key), what="a path to a PEM file") or ""
             for key in ("ca_location", "certificate_location", "key_location")}
    for key, value in files.items():
        if value and not os.path.isfile(value):
            ck.add(join(path, key), value, "no such file: give the path of a PEM file")
    if bool(files["certificate_location"]) != bool(files["key_location"]):
        ck.add(path, MISSING, "a client certificate needs both certificate_location and "
               "key_location (mutual TLS), or neither")
    key_pw = ck.env_name(t.get("key_password_env", ""), join(path, "key_password_env")) or ""
    return SslSettings(key_password_env=key_pw, **files)


def _parse_client(ck: Checker, k: dict[str, Any], kpath: str) -> dict[str, Any]:
    t = ck.table(k, "client", kpath) or {}
    path = join(kpath, "client")
    client: dict[str, Any] = {}
    for key, value in t.items():
        where = join(path, key)
        if key in OWN_KEYS:
            ck.add(where, MISSING, f"k2matrix sets this property from {OWN_KEYS[key]}: "
                   "set it there")
        elif any(word in key for word in SECRET_PROPERTIES):
            ck.add(where, "***", "a secret must not be written in the matrix; use the "
                   "sasl / ssl keys, which name the environment variable that holds it")
        elif isinstance(value, dict | list) or value is None:
            ck.add(where, value, "must be a string, a number or true/false (a librdkafka "
                   "property's value)")
        else:
            client[key] = value
    if client:
        from k2matrix.backends.kafka_properties import property_problem

        for key, message in property_problem(client).items():
            ck.add(join(path, key), client[key], message)
    return client


def parse_kafka(ck: Checker, table: dict[str, Any], path: str) -> KafkaConfig:
    """Validate ``[backends.kafka]`` (``path``) into :class:`KafkaConfig`."""
    k = ck.table(table, "kafka", path) or {}
    kpath = join(path, "kafka")
    ck.keys(k, kpath, ["mode", "brokers", "bootstrap_servers", "topic_prefix", "partitions",
                       "replication_factor", "security_protocol", "sasl", "ssl", "client",
                       "producer", "sasl_password_env"])
    if "sasl_password_env" in k:
        ck.add(join(kpath, "sasl_password_env"), MISSING, "moved: set security_protocol"
               ' = "SASL_SSL" and name the variables in [backends.kafka.sasl] username_env '
               "and password_env (see docs/cluster.md)")
    mode = ck.str_(k.get("mode", "mock"), join(kpath, "mode"), ("mock", "bootstrap")) or "mock"
    brokers = ck.int_(k.get("brokers", 3), join(kpath, "brokers"), 1, 16,
                      "an integer from 1 to 16") or 3
    bootstrap = ck.str_(k.get("bootstrap_servers", ""), join(kpath, "bootstrap_servers"),
                        what='a "host:port,host:port" string') or ""
    if mode == "bootstrap" and not bootstrap and not os.environ.get("K2_KAFKA_BOOTSTRAP"):
        ck.add(join(kpath, "bootstrap_servers"), bootstrap,
               'mode = "bootstrap" needs servers here (or in K2_KAFKA_BOOTSTRAP)')
    prefix = ck.str_(k.get("topic_prefix", "k2matrix"), join(kpath, "topic_prefix")) or "k2"
    partitions = ck.int_(k.get("partitions", 4), join(kpath, "partitions"), 1, 10_000,
                         "a number of partitions from 1 to 10000") or 4
    replication = ck.int_(k.get("replication_factor", 1), join(kpath, "replication_factor"),
                          -1, 32, "an integer from 1 to 32, or -1 (the brokers' "
                          "default.replication.factor)")
    if replication == 0:
        ck.add(join(kpath, "replication_factor"), 0, "must be an integer from 1 to 32, or -1 "
               "(the brokers' default.replication.factor)")
    replication = replication or 1
    protocol = ck.str_(k.get("security_protocol", "PLAINTEXT"),
                       join(kpath, "security_protocol"), PROTOCOLS) or "PLAINTEXT"
    if protocol != "PLAINTEXT" and mode == "mock" and not os.environ.get("K2_KAFKA_BOOTSTRAP"):
        ck.add(join(kpath, "security_protocol"), protocol, 'the mock cluster speaks PLAINTEXT '
               'only: use mode = "bootstrap" with your brokers, or PLAINTEXT')
    security = KafkaSecurity(protocol, _parse_sasl(ck, k, kpath, protocol),
                             _parse_ssl(ck, k, kpath, protocol))
    return KafkaConfig(mode=mode, brokers=brokers, bootstrap_servers=bootstrap,
                       topic_prefix=prefix, partitions=partitions,
                       replication_factor=replication, security=security,
                       client=_parse_client(ck, k, kpath),
                       producer=_parse_producer(ck, k, kpath))


def _parse_producer(ck: Checker, k: dict[str, Any], kpath: str) -> ProducerSettings:
    p = ck.table(k, "producer", kpath) or {}
    ppath = join(kpath, "producer")
    ck.keys(p, ppath, ["acks", "enable_idempotence", "linger_ms", "batch_size", "compression"])
    acks_raw = p.get("acks", "all")
    acks = ck.str_(str(acks_raw) if isinstance(acks_raw, int) and not isinstance(acks_raw, bool)
                   else acks_raw, join(ppath, "acks"), ACKS) or "all"
    idem = p.get("enable_idempotence", True)
    if ck.bool_(idem, join(ppath, "enable_idempotence")) is None:
        idem = True
    return ProducerSettings(
        acks=acks,
        enable_idempotence=bool(idem),
        linger_ms=ck.int_(p.get("linger_ms", 5), join(ppath, "linger_ms"), 0, 300_000,
                          "milliseconds from 0 to 300000") or 0,
        batch_size=ck.int_(p.get("batch_size", 1_000_000), join(ppath, "batch_size"), 1,
                           2_147_483_647, "a positive number of bytes") or 1_000_000,
        compression=ck.str_(p.get("compression", "lz4"), join(ppath, "compression"),
                            COMPRESSIONS) or "lz4",
    )
