"""The ``[backends]`` section of the matrix: where Kafka, the Schema Registry and the Iceberg
catalog are. Secrets are never written in the matrix: it names environment variables
(``*_env``) and the secrets are read from them when a backend is opened.

``deadline_s`` (a key of ``[backends]`` itself) bounds every remote call, retries included
(:mod:`k2matrix.backends.deadline`); each service's config carries it to its client.

Environment overrides (for CI and for pointing a sweep elsewhere without editing the file):
``K2_KAFKA_BOOTSTRAP`` (switches Kafka to ``bootstrap`` mode), ``K2_SCHEMA_REGISTRY_URL``,
``K2_CATALOG_URI``, ``K2_WAREHOUSE``, ``K2_DEADLINE_S``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any

from k2matrix.backends.deadline import DEFAULT_S, MAX_S, MIN_S, Deadline
from k2matrix.backends.kafka_config import KafkaConfig, ProducerSettings, parse_kafka
from k2matrix.backends.rest_config import RestSettings, parse_rest
from k2matrix.backends.storage_config import (
    StorageConfig,
    parse_storage,
    storage_from_environment,
)
from k2matrix.checks import Checker, join
from k2matrix.errors import BackendError

_SECRET_KEYS = re.compile(
    r"(password|passwd|secret|token|api_key|apikey|credential|auth|access_key|access_key_id)$")
_URL_PASSWORD = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@:]+:[^/@]+@")

CATALOG_KINDS = ("sql", "rest", "glue")
__all__ = ["Backends", "CatalogConfig", "KafkaConfig", "ProducerSettings", "SchemaRegistryConfig",
           "parse_backends"]


@dataclass(frozen=True)
class SchemaRegistryConfig:
    """Basic auth: ``username_env`` and ``password_env`` name the variables holding each
    (like Kafka's SASL), or ``basic_auth_env`` one holding ``user:password`` (Confluent
    Cloud's key:secret)."""

    url: str = "mock://k2matrix"
    basic_auth_env: str = ""
    username_env: str = ""
    password_env: str = ""
    deadline_s: float = DEFAULT_S

    def env_names(self) -> list[str]:
        return [n for n in (self.basic_auth_env, self.password_env) if n]

    def user_info(self, environ: dict[str, str] | None = None) -> str | None:
        """``user:password`` for basic auth, read from the environment now; None without
        auth; BackendError naming a variable that is not set."""
        env = os.environ if environ is None else environ
        names = ([self.basic_auth_env] if self.basic_auth_env else
                 [self.username_env, self.password_env] if self.password_env else [])
        for name in names:
            if not env.get(name):
                raise BackendError(f"Schema Registry basic auth: the environment variable "
                                   f"{name} (named in [backends.schema_registry]) is not set; "
                                   "export it before the run")
        if self.basic_auth_env:
            return env[self.basic_auth_env]
        return f"{env[self.username_env]}:{env[self.password_env]}" if names else None


@dataclass(frozen=True)
class CatalogConfig:
    kind: str = "sql"
    uri: str = "sqlite:///{warehouse}/catalog.db"
    warehouse: str = ".k2matrix/warehouse"
    password_env: str = ""  # PostgreSQL's password (a REST catalog: [backends.catalog.rest])
    namespace: str = "k2"
    deadline_s: float = DEFAULT_S
    rest: RestSettings = field(default_factory=RestSettings)

    def env_names(self) -> list[str]:
        """The variables holding the catalog's secrets (PostgreSQL's password, REST auth)."""
        return [n for n in (self.password_env, *self.rest.env_names()) if n]

    @property
    def warehouse_path(self) -> str:
        return os.path.abspath(self.warehouse)

    @property
    def resolved_uri(self) -> str:
        """The URI with ``{warehouse}`` filled in (no secret: that comes from password_env)."""
        return self.uri.replace("{warehouse}", self.warehouse_path)


@dataclass(frozen=True)
class Backends:
    kafka: KafkaConfig = field(default_factory=KafkaConfig)
    schema_registry: SchemaRegistryConfig = field(default_factory=SchemaRegistryConfig)
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)

    @property
    def deadline(self) -> Deadline:
        """The deadline of every remote call (``[backends] deadline_s``)."""
        return Deadline(self.storage.deadline_s)

    def with_deadline(self, seconds: float) -> Backends:
        """Every service's config with the deadline ``seconds``."""
        Deadline(seconds)  # checks the range
        return Backends(kafka=replace(self.kafka, deadline_s=seconds),
                        schema_registry=replace(self.schema_registry, deadline_s=seconds),
                        catalog=replace(self.catalog, deadline_s=seconds),
                        storage=replace(self.storage, deadline_s=seconds))

    def with_environment(self, environ: dict[str, str] | None = None) -> Backends:
        """Apply the ``K2_*`` environment overrides."""
        env = os.environ if environ is None else environ
        kafka, registry, catalog = self.kafka, self.schema_registry, self.catalog
        if env.get("K2_KAFKA_BOOTSTRAP"):
            kafka = replace(kafka, mode="bootstrap", bootstrap_servers=env["K2_KAFKA_BOOTSTRAP"])
        if env.get("K2_SCHEMA_REGISTRY_URL"):
            registry = replace(registry, url=env["K2_SCHEMA_REGISTRY_URL"])
        if env.get("K2_CATALOG_URI"):
            catalog = replace(catalog, uri=env["K2_CATALOG_URI"])
        if env.get("K2_WAREHOUSE"):
            catalog = replace(catalog, warehouse=env["K2_WAREHOUSE"])
        out = Backends(kafka=kafka, schema_registry=registry, catalog=catalog,
                       storage=storage_from_environment(self.storage, env))
        if env.get("K2_DEADLINE_S"):
            out = out.with_deadline(deadline_from_environment(env["K2_DEADLINE_S"]))
        return out

    def describe(self) -> dict[str, Any]:
        """A JSON-able descriptor for results files: no secret, passwords in URLs redacted."""
        return {
            "deadline_s": self.storage.deadline_s,
            "kafka": {
                "mode": self.kafka.mode,
                "brokers": self.kafka.brokers if self.kafka.mode == "mock" else None,
                "bootstrap_servers": redact(self.kafka.bootstrap_servers),
                "security": self.kafka.security.describe(),
                "partitions": self.kafka.partitions,
                "replication_factor": self.kafka.replication_factor,
                "producer": vars(self.kafka.producer).copy(),
            },
            "schema_registry": {"url": redact(self.schema_registry.url)},
            "catalog": {
                "kind": self.catalog.kind,
                "uri": redact(self.catalog.resolved_uri),
                "warehouse": self.catalog.warehouse_path,
                **({"rest": self.catalog.rest.describe()} if self.catalog.kind == "rest"
                   else {}),
            },
            "storage": self.storage.describe(),
        }


def deadline_from_environment(value: str) -> float:
    """``K2_DEADLINE_S``: a number of seconds (BackendError naming the variable if not)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not MIN_S <= seconds <= MAX_S:  # also refuses nan
        raise BackendError(f"K2_DEADLINE_S = {value!r}: must be a number of seconds from "
                           f"{MIN_S:g} to {MAX_S:g} (the deadline of every remote call)")
    return seconds


def redact(url: str) -> str:
    """Hide a password written into a URL (``user:secret@host`` -> ``user:***@host``)."""
    return re.sub(r"(://[^/@:]+:)[^/@]+@", r"\1***@", url)


def secret_from_env(name: str) -> str | None:
    """The secret held by environment variable ``name`` ("" -> no secret)."""
    return os.environ.get(name) if name else None


def _no_inline_secrets(ck: Checker, table: dict[str, Any], path: str) -> None:
    for key, value in table.items():
        where = join(path, key)
        if where == "backends.kafka.client":
            continue  # librdkafka's property names: checked by kafka_config._parse_client
        if isinstance(value, dict):
            _no_inline_secrets(ck, value, where)
        elif (isinstance(value, str) and value and not key.endswith("_env")
              and _SECRET_KEYS.search(key)):
            ck.add(where, "***", "secrets must not be written in the matrix: put the secret in "
                   f"an environment variable and name it in {key}_env")
        elif isinstance(value, str) and _URL_PASSWORD.match(value):
            ck.add(where, redact(value), "a password is written into this URL: remove it and "
                   "name the environment variable that holds it in password_env")


def parse_backends(ck: Checker, table: dict[str, Any], path: str) -> Backends:
    """Validate ``[backends]`` into :class:`Backends`, adding problems to ``ck``."""
    _no_inline_secrets(ck, table, path)
    ck.keys(table, path, ["deadline_s", "kafka", "schema_registry", "catalog", "storage"])
    deadline = ck.number(table.get("deadline_s", DEFAULT_S), join(path, "deadline_s"), MIN_S,
                         MAX_S, f"a number of seconds from {MIN_S:g} to {MAX_S:g} (the "
                         "deadline of every remote call)") or DEFAULT_S

    kafka = parse_kafka(ck, table, path)

    r = ck.table(table, "schema_registry", path) or {}
    rpath = join(path, "schema_registry")
    ck.keys(r, rpath, ["url", "basic_auth_env", "username_env", "password_env"])
    url = ck.str_(r.get("url", "mock://k2matrix"), join(rpath, "url")) or "mock://k2matrix"
    if not url.startswith(("mock://", "http://", "https://")):
        ck.add(join(rpath, "url"), url, "must start with mock:// (in-memory), http:// or https://")
    auth = {key: ck.env_name(r.get(key, ""), join(rpath, key)) or ""
            for key in ("basic_auth_env", "username_env", "password_env")}
    if auth["basic_auth_env"] and (auth["username_env"] or auth["password_env"]):
        ck.add(join(rpath, "basic_auth_env"), auth["basic_auth_env"], "give either "
               "basic_auth_env (one variable holding user:password) or username_env and "
               "password_env, not both")
    elif bool(auth["username_env"]) != bool(auth["password_env"]):
        ck.add(join(rpath, "password_env" if auth["username_env"] else "username_env"), "",
               "basic auth needs both username_env and password_env (the names of the "
               "variables holding each)")
    registry = SchemaRegistryConfig(url=url, basic_auth_env=auth["basic_auth_env"],
                                    username_env=auth["username_env"],
                                    password_env=auth["password_env"])

    c = ck.table(table, "catalog", path) or {}
    cpath = join(path, "catalog")
    ck.keys(c, cpath, ["kind", "uri", "warehouse", "password_env", "namespace", "rest"])
    kind = ck.str_(c.get("kind", "sql"), join(cpath, "kind"), CATALOG_KINDS) or "sql"
    uri = ck.str_(c.get("uri", CatalogConfig.uri), join(cpath, "uri")) or CatalogConfig.uri
    if kind == "sql" and not uri.startswith(("sqlite:", "postgresql")):
        ck.add(join(cpath, "uri"), uri,
               "a sql catalog needs a sqlite:///PATH or postgresql+psycopg2://… URI")
    if kind == "rest" and not uri.startswith(("http://", "https://")):
        ck.add(join(cpath, "uri"), uri, "a rest catalog needs an http(s):// URI")
    if kind == "glue" and "uri" in c and c["uri"] and not uri.startswith(("http://", "https://")):
        ck.add(join(cpath, "uri"), uri, 'a glue catalog takes the Glue endpoint as an http(s):// '
               'URI, or no uri (the storage endpoint: the embedded server or AWS)')
    warehouse = ck.str_(c.get("warehouse", CatalogConfig.warehouse), join(cpath, "warehouse"))
    pw_env = ck.env_name(c.get("password_env", ""), join(cpath, "password_env")) or ""
    if pw_env and kind == "rest":
        ck.add(join(cpath, "password_env"), pw_env, "a REST catalog takes no password: name "
               "the variable holding its token in [backends.catalog.rest] token_env (or its "
               "OAuth2 client_id:client_secret in credential_env)")
    rest = parse_rest(ck, c, cpath, kind)
    namespace = ck.str_(c.get("namespace", "k2"), join(cpath, "namespace")) or "k2"
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", namespace):
        ck.add(join(cpath, "namespace"), namespace, "must be an identifier (letters, digits, _)")
    storage = parse_storage(ck, ck.table(table, "storage", path) or {}, join(path, "storage"))
    if kind == "glue" and storage.kind != "s3" and not os.environ.get("K2_S3_ENDPOINT"):
        ck.add(join(cpath, "kind"), kind, 'a glue catalog keeps its tables on S3: set '
               '[backends.storage] kind = "s3" (an empty endpoint is the embedded server)')
    if kind == "glue" and "uri" not in c:
        uri = ""
    return Backends(kafka=kafka, schema_registry=registry, catalog=catalog_config(
        kind, uri, warehouse, pw_env, namespace, rest), storage=storage).with_deadline(deadline)


def catalog_config(kind: str, uri: str, warehouse: str | None, password_env: str,
                   namespace: str, rest: RestSettings | None = None) -> CatalogConfig:
    return CatalogConfig(kind=kind, uri=uri, warehouse=warehouse or CatalogConfig.warehouse,
                         password_env=password_env, namespace=namespace,
                         rest=rest or RestSettings())
