"""Open the Iceberg catalog named in ``[backends.catalog]``: pyiceberg's SqlCatalog on SQLite
(the embedded default) or PostgreSQL, a REST catalog, or a Glue catalog (pyiceberg's
GlueCatalog; embedded: the moto server that also serves S3). The warehouse is the local disk
or, with an S3 ``[backends.storage]``, ``s3://bucket/prefix/``. The password, if any, comes
from the environment variable the matrix names; it never appears in errors or results.

Every catalog client gets the deadline (``[backends] deadline_s``): PostgreSQL its
``connect_timeout``, Glue a botocore client with connect and read timeouts and one retry,
REST an HTTP timeout on every request. A catalog that does not answer or refuses is
:class:`~k2matrix.backends.faults.ServiceUnavailable` naming it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from k2matrix.backends.config import CatalogConfig, redact, secret_from_env
from k2matrix.backends.deadline import ATTEMPTS, Deadline
from k2matrix.backends.faults import service_fault, storage_fault
from k2matrix.backends.rest_config import rest_properties
from k2matrix.backends.storage import pyiceberg_properties, scrub
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.errors import BackendError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.catalog.rest import RestCatalog

# each catalog open_catalog returned, with what it was opened on (for faults() later)
_OPENED: WeakKeyDictionary[Any, tuple[CatalogConfig, StorageConfig | None]] = (
    WeakKeyDictionary())

CATALOG_FIX = ("check that the catalog server is running and answering there "
               "(backends.catalog.uri, K2_CATALOG_URI)")


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


def with_connect_timeout(uri: str, deadline: Deadline) -> str:
    """A PostgreSQL URI with libpq's ``connect_timeout`` (whole seconds, at least 2) of one
    attempt of the deadline, unless the URI sets one; other URIs unchanged. libpq makes up to
    two attempts itself (with ``sslmode=prefer``: TLS, then plain)."""
    if not uri.startswith("postgresql") or "connect_timeout=" in uri:
        return uri
    seconds = max(2, int(deadline.attempt_s))
    return f"{uri}{'&' if '?' in uri else '?'}connect_timeout={seconds}"


def glue_endpoint(config: CatalogConfig, storage: StorageConfig | None) -> str:
    """Where the Glue catalog is: its uri, else the storage endpoint ("" for AWS)."""
    if config.uri.startswith("http"):
        return config.uri
    return storage.endpoint if storage is not None else ""


def _glue(name: str, config: CatalogConfig, storage: StorageConfig, warehouse: str
          ) -> Catalog:
    from botocore.config import Config
    from botocore.session import Session
    from pyiceberg.catalog.glue import GlueCatalog

    creds = storage.credentials()
    endpoint = glue_endpoint(config, storage)
    deadline = Deadline(config.deadline_s)
    client = Session().create_client(
        "glue", region_name=storage.region, endpoint_url=endpoint or None,
        aws_access_key_id=creds.get("access_key_id"),
        aws_secret_access_key=creds.get("secret_access_key"),
        aws_session_token=creds.get("session_token"),
        config=Config(connect_timeout=deadline.connect_s, read_timeout=deadline.attempt_s,
                      retries={"total_max_attempts": ATTEMPTS, "mode": "standard"}))
    props = {"warehouse": warehouse, "glue.region": storage.region,
             **pyiceberg_properties(storage)}
    return GlueCatalog(name, client=client, **props)


def _rest(name: str, deadline: Deadline, **props: str) -> RestCatalog:
    """pyiceberg's RestCatalog whose every HTTP request has the deadline's timeouts
    (pyiceberg sets none: a silent server would hold a request forever)."""
    from functools import partial

    from pyiceberg.catalog.rest import RestCatalog
    from requests import Session

    class TimedRestCatalog(RestCatalog):
        def _create_session(self) -> Session:
            session = super()._create_session()
            session.request = partial(  # type: ignore[method-assign]
                session.request, timeout=(deadline.connect_s, deadline.attempt_s))
            return session

    return TimedRestCatalog(name, **props)


def rest_catalog_properties(config: CatalogConfig, location: str, io_props: dict[str, str],
                            storage: StorageConfig | None) -> dict[str, str]:
    """A REST catalog's pyiceberg properties: the URI, the warehouse (its name from
    ``[backends.catalog.rest] warehouse``, else the storage location), the FileIO's and the
    authentication of :func:`~k2matrix.backends.rest_config.rest_properties` (SigV4 with
    the storage's credentials when they are configured)."""
    props = {"uri": config.resolved_uri, "warehouse": location, **io_props,
             **rest_properties(config.rest)}
    if config.rest.sigv4 and storage is not None:
        creds = storage.credentials()
        for key, prop in (("access_key_id", "client.access-key-id"),
                          ("secret_access_key", "client.secret-access-key"),
                          ("session_token", "client.session-token")):
            if key in creds:
                props[prop] = creds[key]
    return props


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
    deadline = Deadline(config.deadline_s)
    shown = (redact(uri) if config.kind != "glue" else
             f"glue at {glue_endpoint(config, storage) or 'AWS'}")
    try:
        if config.kind == "glue":
            if not on_s3 or storage is None:
                raise BackendError("a glue catalog keeps its tables on S3: set "
                                   '[backends.storage] kind = "s3"')
            catalog: Catalog = _glue(name, config, storage, location)
        elif config.kind == "rest":
            catalog = _rest(name, deadline, **rest_catalog_properties(
                config, location, io_props, storage if on_s3 else None))
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
                uri=with_connect_timeout(
                    _with_password(uri, secret_from_env(config.password_env)), deadline),
                warehouse=location,
                init_catalog_tables="true",
                **io_props,
            )
        _OPENED[catalog] = (config, storage if on_s3 else None)
        catalog.create_namespace_if_not_exists(config.namespace)
    except BackendError:
        raise
    except Exception as exc:  # any driver error: name the catalog, hide the password
        fault = catalog_fault(exc, config, storage)
        if fault is not None:
            raise fault from None
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        for name in config.env_names():
            secret = secret_from_env(name)
            if secret:
                detail = detail.replace(secret, "***")
        if storage is not None:
            detail = scrub(detail, storage)
        raise BackendError(
            f"Iceberg catalog {shown} ({config.kind}) cannot be reached: {detail}. "
            "Check backends.catalog.uri (or K2_CATALOG_URI) and that the server is running."
        ) from None
    return catalog



def catalog_fault(exc: BaseException, config: CatalogConfig, storage: StorageConfig | None
                  ) -> BackendError | None:
    """:class:`~k2matrix.backends.faults.ServiceUnavailable` for a catalog (or its S3
    warehouse) that did not answer or refused, naming it; None for other errors."""
    inline = re.search(r"://[^/@:]+:([^/@]+)@", config.resolved_uri)
    secrets = [*(secret_from_env(n) for n in config.env_names()),
               inline.group(1) if inline else None,
               *(storage.secrets() if storage else [])]
    deadline = Deadline(config.deadline_s)
    if config.kind == "glue":
        name = type(exc).__module__
        if name.startswith(("botocore", "urllib3")):
            return service_fault(exc, "Glue", glue_endpoint(config, storage) or "AWS",
                                 "check that the Glue endpoint is running and answering there "
                                 "(backends.catalog.uri, or the storage endpoint)",
                                 deadline, secrets)
    elif not config.resolved_uri.startswith("sqlite"):
        fault = service_fault(exc, f"Iceberg catalog ({config.kind})",
                              redact(config.resolved_uri), CATALOG_FIX, deadline, secrets)
        if fault is not None and (type(exc).__module__.startswith(("sqlalchemy", "psycopg",
                                                                  "requests", "urllib3"))):
            return fault
    if storage is not None and storage.kind == "s3":
        return storage_fault(exc, storage)
    return None


def faults(catalog: Catalog, exc: BaseException) -> BackendError | None:
    """:func:`catalog_fault` for a catalog :func:`open_catalog` returned (None for another)."""
    opened = _OPENED.get(catalog)
    return catalog_fault(exc, *opened) if opened is not None else None


@contextmanager
def boundary(catalog: Catalog) -> Iterator[None]:
    """Where k2matrix hands work on ``catalog`` to a component: a catalog or S3 endpoint
    that did not answer or refused becomes k2matrix's error naming it; other errors pass
    through unchanged."""
    try:
        yield
    except BackendError:
        raise
    except Exception as exc:
        fault = faults(catalog, exc)
        if fault is None:
            raise
        raise fault from None
