"""Open the Iceberg catalog named in ``[backends.catalog]``: pyiceberg's SqlCatalog on SQLite
(the embedded default) or PostgreSQL, a REST catalog, or a Glue catalog (pyiceberg's
GlueCatalog; embedded: the moto server that also serves S3). The warehouse is the local disk
or, with an S3 ``[backends.storage]``, ``s3://bucket/prefix/``. The password, if any, comes
from the environment variable the matrix names; it never appears in errors or results."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from k2matrix.backends.config import CatalogConfig, redact, secret_from_env
from k2matrix.backends.storage import pyiceberg_properties, scrub
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.errors import BackendError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


# The PostgreSQL catalog of the ``catalogs`` axis when [backends.catalog] is not PostgreSQL
# (K2_POSTGRES_URI overrides it).
POSTGRES_DEFAULT = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def axis_catalog(kind: str, base: CatalogConfig) -> CatalogConfig:
    """The catalog of a cell's ``catalogs`` axis value (``sqlite``, ``postgresql``,
    ``glue``): ``[backends.catalog]`` when it is of that kind, else the default of the kind
    (SQLite in the warehouse folder; PostgreSQL at ``K2_POSTGRES_URI`` or
    :data:`POSTGRES_DEFAULT`; Glue on the storage endpoint)."""
    if kind == "sqlite":
        if base.kind == "sql" and base.uri.startswith("sqlite"):
            return base
        return replace(base, kind="sql", uri=CatalogConfig.uri, password_env="")
    if kind == "postgresql":
        if base.kind == "sql" and base.uri.startswith("postgresql"):
            return base
        return replace(base, kind="sql", password_env="",
                       uri=os.environ.get("K2_POSTGRES_URI") or POSTGRES_DEFAULT)
    if kind == "glue":
        return base if base.kind == "glue" else replace(base, kind="glue", uri="",
                                                         password_env="")
    raise BackendError(f"catalogs = {kind!r}: unknown catalog; use sqlite, postgresql or glue")


def _with_password(uri: str, password: str | None) -> str:
    if not password or "://" not in uri:
        return uri
    scheme, rest = uri.split("://", 1)
    if "@" not in rest:
        return uri
    user, host = rest.split("@", 1)
    return f"{scheme}://{user.split(':', 1)[0]}:{password}@{host}"


def _glue(name: str, config: CatalogConfig, storage: StorageConfig, warehouse: str
          ) -> Catalog:
    from pyiceberg.catalog.glue import GlueCatalog

    creds = storage.credentials()
    props = {"warehouse": warehouse, "glue.region": storage.region,
             **pyiceberg_properties(storage)}
    endpoint = config.uri if config.uri.startswith("http") else storage.endpoint
    if endpoint:
        props["glue.endpoint"] = endpoint
    for key in ("access_key_id", "secret_access_key", "session_token"):
        if key in creds:
            props[f"glue.{key.replace('_', '-')}"] = creds[key]
    return GlueCatalog(name, **props)


def open_catalog(config: CatalogConfig, name: str = "k2matrix",
                 storage: StorageConfig | None = None, warehouse_key: str = "") -> Catalog:
    """A pyiceberg catalog with ``config.namespace`` created; :class:`BackendError` naming the
    catalog (password redacted) if it cannot be reached. With an S3 ``storage`` the
    warehouse is ``s3://bucket/prefix/warehouse_key`` and data and metadata go there."""
    warehouse = Path(config.warehouse_path)
    on_s3 = storage is not None and storage.kind == "s3"
    location = storage.warehouse(warehouse_key) if on_s3 and storage else warehouse.as_uri()
    io_props = pyiceberg_properties(storage) if on_s3 and storage else {}
    uri = config.resolved_uri
    shown = (redact(uri) if config.kind != "glue" else
             f"glue at {uri if uri.startswith('http') else storage.endpoint if storage else ''}")
    try:
        if config.kind == "glue":
            if not on_s3 or storage is None:
                raise BackendError("a glue catalog keeps its tables on S3: set "
                                   '[backends.storage] kind = "s3"')
            catalog: Catalog = _glue(name, config, storage, location)
        elif config.kind == "rest":
            from pyiceberg.catalog.rest import RestCatalog

            props = {"uri": uri, "warehouse": location, **io_props}
            token = secret_from_env(config.password_env)
            if token:
                props["token"] = token
            catalog = RestCatalog(name, **props)
        else:
            from pyiceberg.catalog.sql import SqlCatalog

            if uri.startswith("sqlite:"):
                db_path = Path(uri.split("sqlite:///", 1)[-1])
                if "{warehouse}" in config.uri:
                    db_path.parent.mkdir(parents=True, exist_ok=True)
                elif not db_path.parent.is_dir():
                    raise BackendError(
                        f"Iceberg catalog {shown}: the folder {db_path.parent} does not exist; "
                        "create it or fix backends.catalog.uri")
            if not on_s3:
                warehouse.mkdir(parents=True, exist_ok=True)
            catalog = SqlCatalog(
                name,
                uri=_with_password(uri, secret_from_env(config.password_env)),
                warehouse=location,
                init_catalog_tables="true",
                **io_props,
            )
        catalog.create_namespace_if_not_exists(config.namespace)
    except BackendError:
        raise
    except Exception as exc:  # any driver error: name the catalog, hide the password
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        password = secret_from_env(config.password_env)
        if password:
            detail = detail.replace(password, "***")
        if storage is not None:
            detail = scrub(detail, storage)
        raise BackendError(
            f"Iceberg catalog {shown} ({config.kind}) cannot be reached: {detail}. "
            "Check backends.catalog.uri (or K2_CATALOG_URI) and that the server is running."
        ) from None
    return catalog

