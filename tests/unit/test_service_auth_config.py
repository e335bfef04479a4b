"""The Schema Registry's basic auth and the REST catalog's authentication, configured: keys
that agree with each other (an inline password is told the key that exists), secrets read
from the named variables into the client's properties and never shown.

No REST catalog server or Schema Registry server runs here: these are configuration tests
(the properties pyiceberg's RestCatalog and the registry client get)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from k2matrix.backends.catalog import rest_catalog_properties
from k2matrix.backends.config import Backends, parse_backends
from k2matrix.backends.registry import client_config
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.checks import Checker
from k2matrix.errors import BackendError

SECRET = "s3cr3t-Vb71-never-shown"


def _parse(**tables: Any) -> tuple[Backends, list[str]]:
    ck = Checker()
    backends = parse_backends(ck, dict(tables), "backends")
    return backends, [f"{p.path}: {p.message}" for p in ck.problems]


def test_registry_basic_auth_from_user_and_password_variables(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K2T_SR_USER", "svc")
    monkeypatch.setenv("K2T_SR_PASSWORD", SECRET)
    backends, problems = _parse(schema_registry={
        "url": "https://sr.example", "username_env": "K2T_SR_USER",
        "password_env": "K2T_SR_PASSWORD"})
    assert problems == []
    assert client_config(backends.schema_registry)["basic.auth.user.info"] == f"svc:{SECRET}"
    assert SECRET not in json.dumps(backends.describe())


def test_registry_basic_auth_from_one_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K2T_SR_AUTH", f"key:{SECRET}")
    backends, problems = _parse(schema_registry={"url": "https://sr.example",
                                                 "basic_auth_env": "K2T_SR_AUTH"})
    assert problems == []
    assert client_config(backends.schema_registry)["basic.auth.user.info"] == f"key:{SECRET}"
    monkeypatch.delenv("K2T_SR_AUTH")
    with pytest.raises(BackendError, match="the environment variable K2T_SR_AUTH"):
        client_config(backends.schema_registry)


def test_an_inline_registry_password_is_told_the_key_that_exists() -> None:
    _, problems = _parse(schema_registry={"url": "https://sr.example", "password": SECRET})
    assert any(p.startswith("backends.schema_registry.password: ") and "password_env" in p
               for p in problems), problems
    _, problems = _parse(schema_registry={"url": "https://sr.example",
                                          "password_env": "K2T_SR_PASSWORD",
                                          "username_env": "K2T_SR_USER"})
    assert problems == []  # the key the message names is accepted
    assert SECRET not in " ".join(problems)


def test_rest_catalog_oauth2_credential_scope_and_warehouse_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K2T_CREDENTIAL", f"client:{SECRET}")
    backends, problems = _parse(catalog={
        "kind": "rest", "uri": "https://polaris.example/api/catalog",
        "rest": {"credential_env": "K2T_CREDENTIAL", "scope": "PRINCIPAL_ROLE:ALL",
                 "oauth2_server_uri": "https://polaris.example/oauth/tokens",
                 "warehouse": "k2_bench"}})
    assert problems == []
    props = rest_catalog_properties(backends.catalog, "file:///wh", {}, None)
    assert props == {"uri": "https://polaris.example/api/catalog", "warehouse": "k2_bench",
                     "credential": f"client:{SECRET}", "scope": "PRINCIPAL_ROLE:ALL",
                     "oauth2-server-uri": "https://polaris.example/oauth/tokens"}
    described = json.dumps(backends.describe())
    assert SECRET not in described
    assert backends.describe()["catalog"]["rest"] == {"auth": "oauth2",
                                                      "warehouse": "k2_bench"}


def test_rest_catalog_sigv4_signs_with_the_storage_credentials(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K2T_KEY", "AKIAK2T")
    monkeypatch.setenv("K2T_SECRET", SECRET)
    backends, problems = _parse(catalog={
        "kind": "rest", "uri": "https://s3tables.us-east-1.amazonaws.com/iceberg",
        "rest": {"sigv4": True, "signing_region": "us-east-1", "signing_name": "s3tables"}})
    assert problems == []
    storage = StorageConfig(kind="s3", endpoint="https://s3.example", access_key_id_env="K2T_KEY",
                            secret_access_key_env="K2T_SECRET")
    props = rest_catalog_properties(backends.catalog, "s3://warehouse/k2", {}, storage)
    assert {k: props[k] for k in ("rest.sigv4-enabled", "rest.signing-region",
                                  "rest.signing-name", "client.region",
                                  "client.access-key-id", "client.secret-access-key")} == {
        "rest.sigv4-enabled": "true", "rest.signing-region": "us-east-1",
        "rest.signing-name": "s3tables", "client.region": "us-east-1",
        "client.access-key-id": "AKIAK2T", "client.secret-access-key": SECRET}
    assert props["warehouse"] == "s3://warehouse/k2"  # no name: the storage location


REFUSED = [
    ({"kind": "rest", "uri": "https://c", "password_env": "K2T_TOKEN"},
     "backends.catalog.password_env", "a REST catalog takes no password"),
    ({"kind": "rest", "uri": "https://c", "rest": {"token_env": "A", "credential_env": "B"}},
     "backends.catalog.rest.token_env", "not both"),
    ({"kind": "rest", "uri": "https://c", "rest": {"scope": "x"}},
     "backends.catalog.rest.credential_env", "OAuth2 client credentials"),
    ({"kind": "rest", "uri": "https://c", "rest": {"sigv4": True}},
     "backends.catalog.rest.signing_region", "needs the signing region"),
    ({"kind": "sql", "rest": {"token_env": "A"}}, "backends.catalog.rest",
     "is not a REST catalog"),
    ({"kind": "rest", "uri": "https://c", "rest": {"token": SECRET}},
     "backends.catalog.rest.token", "name it in token_env"),
]


@pytest.mark.parametrize(("catalog", "where", "message"), REFUSED,
                         ids=[f"{r[1].rsplit('.', 1)[-1]}-{i}" for i, r in enumerate(REFUSED)])
def test_bad_rest_settings_are_refused(catalog: dict[str, Any], where: str,
                                       message: str) -> None:
    _, problems = _parse(catalog=catalog)
    assert any(p.startswith(f"{where}: ") and message in p for p in problems), problems
    assert SECRET not in " ".join(problems)
