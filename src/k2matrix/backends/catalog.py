"""Open the Iceberg catalog named in ``[backends.catalog]``: pyiceberg's SqlCatalog on SQLite
(the embedded default) or PostgreSQL, or a REST catalog. The password, if any, comes from the
environment variable the matrix names; it never appears in errors or results."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from k2matrix.backends.config import CatalogConfig, redact, secret_from_env
from k2matrix.errors import BackendError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


def _with_password(uri: str, password: str | None) -> str:
    if not password or "://" not in uri:
        return uri
    scheme, rest = uri.split("://", 1)
    if "@" not in rest:
        return uri
    user, host = rest.split("@", 1)
    return f"{scheme}://{user.split(':', 1)[0]}:{password}@{host}"


def open_catalog(config: CatalogConfig, name: str = "k2matrix") -> Catalog:
    """A pyiceberg catalog with ``config.namespace`` created; :class:`BackendError` naming the
    catalog (password redacted) if it cannot be reached."""
    warehouse = Path(config.warehouse_path)
    uri = config.resolved_uri
    shown = redact(uri)
    try:
        if config.kind == "rest":
            from pyiceberg.catalog.rest import RestCatalog

            props = {"uri": uri, "warehouse": warehouse.as_uri()}
            token = secret_from_env(config.password_env)
            if token:
                props["token"] = token
            catalog: Catalog = RestCatalog(name, **props)
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
            warehouse.mkdir(parents=True, exist_ok=True)
            catalog = SqlCatalog(
                name,
                uri=_with_password(uri, secret_from_env(config.password_env)),
                warehouse=warehouse.as_uri(),
                init_catalog_tables="true",
            )
        catalog.create_namespace_if_not_exists(config.namespace)
    except BackendError:
        raise
    except Exception as exc:  # any driver error: name the catalog, hide the password
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        password = secret_from_env(config.password_env)
        if password:
            detail = detail.replace(password, "***")
        raise BackendError(
            f"Iceberg catalog {shown} ({config.kind}) cannot be reached: {detail}. "
            "Check backends.catalog.uri (or K2_CATALOG_URI) and that the server is running."
        ) from None
    return catalog

