"""``[backends.catalog.rest]``: how k2matrix authenticates to an Iceberg REST catalog and
which warehouse it asks for.

- a bearer token: ``token_env`` names the variable holding it;
- OAuth2 client credentials: ``credential_env`` names the variable holding
  ``client_id:client_secret``, with ``scope`` and ``oauth2_server_uri`` (the token endpoint;
  pyiceberg's default is the catalog's deprecated ``/v1/oauth/tokens``);
- AWS SigV4 (S3 Tables, Glue's REST endpoint, API Gateway): ``sigv4 = true`` with
  ``signing_region`` and ``signing_name`` (``s3tables``, ``glue``, ``execute-api``); the
  credentials are ``[backends.storage]``'s, else the AWS default chain;
- ``warehouse``: the warehouse *name* a Polaris-style catalog expects (a catalog name), sent
  as the REST ``warehouse`` property instead of the storage location.

Secrets are read from the environment when the catalog is opened (:func:`rest_properties`)
and are never part of a results file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from k2matrix.checks import Checker, join
from k2matrix.errors import MISSING, BackendError


@dataclass(frozen=True)
class RestSettings:
    token_env: str = ""
    credential_env: str = ""
    scope: str = ""
    oauth2_server_uri: str = ""
    sigv4: bool = False
    signing_region: str = ""
    signing_name: str = ""
    warehouse: str = ""  # a warehouse name; "" = the storage location

    def env_names(self) -> list[str]:
        return [n for n in (self.token_env, self.credential_env) if n]

    def describe(self) -> dict[str, Any]:
        auth = ("sigv4" if self.sigv4 else "oauth2" if self.credential_env else
                "token" if self.token_env else "none")
        return {"auth": auth, "warehouse": self.warehouse or None}


def rest_properties(rest: RestSettings, environ: Mapping[str, str] | None = None
                    ) -> dict[str, str]:
    """pyiceberg RestCatalog properties of ``rest`` (secrets read from the environment now;
    BackendError naming a variable that is not set)."""
    env = os.environ if environ is None else environ
    props: dict[str, str] = {}
    for name, prop in ((rest.token_env, "token"), (rest.credential_env, "credential")):
        if name:
            if not env.get(name):
                raise BackendError(f"REST catalog: the environment variable {name} (named in "
                                   "[backends.catalog.rest]) is not set; export it before the "
                                   "run")
            props[prop] = env[name]
    for prop, value in (("scope", rest.scope), ("oauth2-server-uri", rest.oauth2_server_uri),
                        ("rest.signing-region", rest.signing_region),
                        ("rest.signing-name", rest.signing_name),
                        ("warehouse", rest.warehouse)):
        if value:
            props[prop] = value
    if rest.sigv4:
        props["rest.sigv4-enabled"] = "true"
        if rest.signing_region:
            props["client.region"] = rest.signing_region
    return props


def parse_rest(ck: Checker, table: dict[str, Any], path: str, kind: str) -> RestSettings:
    """Validate ``[backends.catalog.rest]`` (``path`` is the catalog's)."""
    t = ck.table(table, "rest", path) or {}
    where = join(path, "rest")
    ck.keys(t, where, ["token_env", "credential_env", "scope", "oauth2_server_uri", "sigv4",
                       "signing_region", "signing_name", "warehouse"])
    if t and kind != "rest":
        ck.add(where, MISSING, f'kind = "{kind}" is not a REST catalog: set kind = "rest" or '
               "remove this table")
    names = {key: ck.env_name(t.get(key, ""), join(where, key)) or ""
             for key in ("token_env", "credential_env")}
    if names["token_env"] and names["credential_env"]:
        ck.add(join(where, "token_env"), names["token_env"], "give token_env (a bearer token) "
               "or credential_env (OAuth2 client credentials), not both")
    text = {key: ck.str_(t.get(key, ""), join(where, key)) or ""
            for key in ("scope", "oauth2_server_uri", "signing_region", "signing_name",
                        "warehouse")}
    uri = text["oauth2_server_uri"]
    if uri and not uri.startswith(("http://", "https://")):
        ck.add(join(where, "oauth2_server_uri"), uri, "must be an http(s):// URL (the OAuth2 "
               "token endpoint)")
    if (text["scope"] or uri) and not names["credential_env"]:
        ck.add(join(where, "credential_env"), "", "scope and oauth2_server_uri are for OAuth2 "
               "client credentials: name the variable holding client_id:client_secret here")
    sigv4 = ck.bool_(t.get("sigv4", False), join(where, "sigv4"), "sign requests with AWS "
                     "SigV4") or False
    if sigv4 and not text["signing_region"]:
        ck.add(join(where, "signing_region"), "", "sigv4 = true needs the signing region "
               '(e.g. "us-east-1")')
    if (text["signing_region"] or text["signing_name"]) and not sigv4:
        ck.add(join(where, "sigv4"), False, "signing_region and signing_name apply with "
               "sigv4 = true")
    return RestSettings(sigv4=sigv4, **names, **text)
