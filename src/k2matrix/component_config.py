"""The configuration a component factory gets: one resolved :class:`ComponentConfig` per cell.

A factory that declares a parameter named ``config`` is called as ``Factory(config=...)``
with everything it needs to open its own clients, as plain values:

- ``kafka``: bootstrap servers and every librdkafka property of the cell's producer (the
  matrix's ``[backends.kafka.producer]`` settings, the deadline's timeouts, credentials, and
  the cell's overrides, which are also given apart in ``kafka.overrides``);
- ``registry``: the Schema Registry URL and client properties. A ``mock://`` URL is the
  client library's in-memory registry; :meth:`RegistrySettings.client` returns one client per
  ``mock://`` URL in a process, so every client of the cell shares one store;
- ``topic`` and ``subject``: the cell's fresh topic and its value subject (an implementation
  that names its own topic says so in its ``topic`` attribute; the suite then reads back from
  the offsets that topic had when the producer was made);
- ``catalog``: the name, URI, warehouse, namespace and properties of the cell's Iceberg
  catalog (``pyiceberg.catalog.load_catalog(config.catalog.name, **config.catalog.properties)``
  opens the very catalog the suite reads back through; the name matters to SQL catalogs);
- ``storage``: the object store's endpoint, region, path style and credentials (from the
  environment variables the matrix names; never recorded);
- ``tables``: for engines, each table's metadata file, location and catalog identifier;
- ``schema``, ``layout``: the trade schema (``v1``/``v2``) and table layout of the cell;
- ``live``: the objects k2matrix opened (``cluster``, ``registry``, ``catalog``), for an
  implementation that would rather use them.

:meth:`ComponentConfig.describe` is what a cell records: everything but the secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from k2matrix.backends.config import SchemaRegistryConfig
    from k2matrix.backends.storage_config import StorageConfig

__all__ = ["CatalogSettings", "ComponentConfig", "KafkaSettings", "RegistrySettings",
           "StorageSettings", "TableRef", "redacted"]

_SECRET_KEY = re.compile(r"(password|secret|token|sasl\.password|basic\.auth|credential)",
                         re.IGNORECASE)
_URL_SECRET = re.compile(r"(://[^/@:]+:)[^/@]+@")
_CATALOG_TYPES = {"SqlCatalog": "sql", "GlueCatalog": "glue", "RestCatalog": "rest"}


def redacted(properties: Mapping[str, Any]) -> dict[str, Any]:
    """``properties`` as recorded: secret values (passwords, secret keys, tokens, passwords
    inside URLs) replaced by ``***``; objects (a logger) by their type name."""
    out: dict[str, Any] = {}
    for key, value in properties.items():
        if _SECRET_KEY.search(key):
            out[key] = "***"
        elif isinstance(value, str):
            out[key] = _URL_SECRET.sub(r"\1***@", value)
        elif isinstance(value, (int, float, bool)) or value is None:
            out[key] = value
        else:
            out[key] = type(value).__name__
    return out


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    properties: Mapping[str, Any]  # every librdkafka property, the overrides applied
    overrides: Mapping[str, Any] = field(default_factory=dict)  # the cell's own

    def describe(self) -> dict[str, Any]:
        return {"bootstrap_servers": self.bootstrap_servers,
                "properties": redacted(self.properties), "overrides": dict(self.overrides)}


@dataclass(frozen=True)
class RegistrySettings:
    url: str
    properties: Mapping[str, Any]  # the client's configuration (url, timeout, auth)
    config: SchemaRegistryConfig | None = field(default=None, repr=False)

    @classmethod
    def of(cls, config: SchemaRegistryConfig) -> RegistrySettings:
        from k2matrix.backends.registry import client_config

        return cls(url=config.url, properties=client_config(config), config=config)

    @property
    def mock(self) -> bool:
        return self.url.startswith("mock://")

    def client(self) -> Any:
        """A Schema Registry client for the URL (k2matrix's deadline and fault messages): for
        ``mock://``, the one client of this process for that URL (one store, kept by
        :func:`k2matrix.backends.registry.open_registry`); else a new one."""
        from k2matrix.backends.config import SchemaRegistryConfig
        from k2matrix.backends.registry import open_registry

        return open_registry(self.config or SchemaRegistryConfig(url=self.url))

    def describe(self) -> dict[str, Any]:
        return {"url": _URL_SECRET.sub(r"\1***@", self.url),
                "properties": redacted(self.properties)}


@dataclass(frozen=True)
class CatalogSettings:
    name: str
    uri: str
    warehouse: str
    namespace: str
    properties: Mapping[str, str]  # what load_catalog(name, **properties) needs

    @classmethod
    def of(cls, catalog: Any, namespace: str) -> CatalogSettings:
        """From an open pyiceberg catalog: its name and properties (with its ``type``)."""
        props = {str(k): str(v) for k, v in dict(catalog.properties).items()}
        kinds = [_CATALOG_TYPES[k.__name__] for k in type(catalog).__mro__
                 if k.__name__ in _CATALOG_TYPES]
        if kinds:
            props.setdefault("type", kinds[0])
        return cls(name=str(catalog.name), uri=props.get("uri", ""),
                   warehouse=props.get("warehouse", ""), namespace=namespace, properties=props)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "uri": _URL_SECRET.sub(r"\1***@", self.uri),
                "warehouse": self.warehouse, "namespace": self.namespace,
                "properties": redacted(self.properties)}


@dataclass(frozen=True)
class StorageSettings:
    kind: str  # "local" or "s3"
    endpoint: str = ""
    region: str = ""
    path_style: bool = True
    access_key_id: str = field(default="", repr=False)
    secret_access_key: str = field(default="", repr=False)
    session_token: str = field(default="", repr=False)

    @classmethod
    def of(cls, config: StorageConfig | None) -> StorageSettings:
        """From ``[backends.storage]``, the credentials read from the environment."""
        if config is None or config.kind != "s3":
            return cls("local")
        creds = config.credentials()
        return cls("s3", endpoint=config.endpoint, region=config.region,
                   path_style=config.path_style,
                   access_key_id=creds.get("access_key_id", ""),
                   secret_access_key=creds.get("secret_access_key", ""),
                   session_token=creds.get("session_token", ""))

    def duckdb_secret(self) -> str:
        """A DuckDB ``CREATE SECRET`` statement for this S3 (values SQL-quoted); ``""`` for
        local storage. It holds the credentials: run it, never log it."""
        if self.kind != "s3":
            return ""
        opts = {"REGION": self.region, "URL_STYLE": "path" if self.path_style else "vhost",
                "KEY_ID": self.access_key_id, "SECRET": self.secret_access_key,
                "SESSION_TOKEN": self.session_token}
        parts = [f"{k} '{v.replace(chr(39), chr(39) * 2)}'" for k, v in opts.items() if v]
        if self.endpoint:
            parts.append(f"ENDPOINT '{self.endpoint.split('://', 1)[-1]}'")
            parts.append(f"USE_SSL {str(self.endpoint.startswith('https://')).lower()}")
        return f"CREATE OR REPLACE TEMPORARY SECRET k2_s3 (TYPE s3, {', '.join(parts)})"

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "endpoint": self.endpoint, "region": self.region,
                "path_style": self.path_style}


@dataclass(frozen=True)
class TableRef:
    name: str
    metadata_location: str
    location: str = ""  # the table's root (data/ and metadata/ under it)
    identifier: str = ""  # namespace.table in its catalog, where known


@dataclass(frozen=True)
class ComponentConfig:
    """Everything one cell's component needs (see the module doc)."""

    kind: str
    schema: str = "v2"
    layout: str = "unpartitioned"
    kafka: KafkaSettings | None = None
    registry: RegistrySettings | None = None
    topic: str = ""
    subject: str = ""
    avro_schema: str = ""  # the cell's schema in Avro (JSON), as the registry stores it
    catalog: CatalogSettings | None = None
    storage: StorageSettings = field(default_factory=lambda: StorageSettings("local"))
    tables: Mapping[str, TableRef] = field(default_factory=dict)
    live: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def describe(self) -> dict[str, Any]:
        """JSON-able, without secrets: what the cell records under ``component_config``."""
        out: dict[str, Any] = {"kind": self.kind, "schema": self.schema}
        if self.kind == "writer":
            out["layout"] = self.layout
        for name in ("kafka", "registry", "catalog"):
            part = getattr(self, name)
            if part is not None:
                out[name] = part.describe()
        if self.topic:
            out.update(topic=self.topic, subject=self.subject)
        out["storage"] = self.storage.describe()
        if self.tables:
            out["tables"] = {n: t.metadata_location for n, t in self.tables.items()}
        return out
