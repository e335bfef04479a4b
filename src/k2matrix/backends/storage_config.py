"""``[backends.storage]``: where the Iceberg warehouse lives: the local disk (``kind =
"local"``, the default) or an S3-API object store (``kind = "s3"``).

An empty ``endpoint`` with ``kind = "s3"`` means the embedded S3 (a moto server on loopback,
started by the suites, see :mod:`k2matrix.backends.moto_server`); any other endpoint (MinIO,
AWS, …) is given by URL. Credentials are never written in the matrix: ``access_key_id_env``,
``secret_access_key_env`` and ``session_token_env`` name the environment variables that
hold them (empty: the endpoint's default chain, e.g. ``AWS_ACCESS_KEY_ID``; the embedded
server takes any key).

Environment overrides: ``K2_STORAGE`` (``local``/``s3``), ``K2_S3_ENDPOINT`` (also switches
to ``s3``), ``K2_S3_BUCKET``, ``K2_S3_PREFIX``, ``K2_S3_REGION``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Any

from k2matrix.backends.deadline import DEFAULT_S
from k2matrix.checks import Checker, join

KINDS = ("local", "s3")
# S3 bucket naming rules: 3-63 characters, lower-case letters, digits, dots and hyphens,
# starting and ending with a letter or digit.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
EMBEDDED_KEY = "k2matrix"  # the embedded server accepts any key; this one is no secret
KEYS = ("kind", "endpoint", "region", "bucket", "prefix", "access_key_id_env",
        "secret_access_key_env", "session_token_env", "path_style")


@dataclass(frozen=True)
class StorageConfig:
    kind: str = "local"
    endpoint: str = ""
    region: str = "us-east-1"
    bucket: str = "warehouse"
    prefix: str = "k2matrix"
    access_key_id_env: str = ""
    secret_access_key_env: str = ""
    session_token_env: str = ""
    path_style: bool = True
    deadline_s: float = DEFAULT_S  # [backends] deadline_s: see k2matrix.backends.deadline

    @property
    def embedded(self) -> bool:
        """S3 on the embedded moto server (no endpoint given)."""
        return self.kind == "s3" and not self.endpoint

    @property
    def test_server(self) -> bool:
        """The embedded server, or an endpoint on loopback (e.g. the moto server CI starts):
        without any credentials configured these get a fixed, non-secret test key."""
        host = self.endpoint.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        return self.embedded or host in ("127.0.0.1", "localhost", "[::1]")

    def warehouse(self, *parts: str) -> str:
        """``s3://bucket/prefix/parts…``."""
        path = "/".join(p.strip("/") for p in (self.prefix, *parts) if p.strip("/"))
        return f"s3://{self.bucket}/{path}" if path else f"s3://{self.bucket}"

    def credentials(self, environ: dict[str, str] | None = None) -> dict[str, str]:
        """``{"access_key_id", "secret_access_key", "session_token"}`` from the environment
        variables named in the matrix (the embedded server: a fixed non-secret key); keys
        whose variable is unset are left out (the client's default chain applies)."""
        env = os.environ if environ is None else environ
        if self.test_server and not self.access_key_id_env and not env.get("AWS_ACCESS_KEY_ID"):
            return {"access_key_id": EMBEDDED_KEY, "secret_access_key": EMBEDDED_KEY}
        out = {}
        for key, name in (("access_key_id", self.access_key_id_env),
                          ("secret_access_key", self.secret_access_key_env),
                          ("session_token", self.session_token_env)):
            if name and env.get(name):
                out[key] = env[name]
        return out

    def secrets(self, environ: dict[str, str] | None = None) -> list[str]:
        """The secret values in use (to scrub them from any message)."""
        creds = self.credentials(environ)
        return [v for k, v in creds.items() if k != "access_key_id" and v != EMBEDDED_KEY]

    def with_endpoint(self, endpoint: str) -> StorageConfig:
        return replace(self, kind="s3", endpoint=endpoint)

    def describe(self) -> dict[str, Any]:
        """For results files: where, never the credentials (only the variables' names)."""
        if self.kind == "local":
            return {"kind": "local"}
        return {"kind": "s3", "endpoint": self.endpoint or "embedded", "region": self.region,
                "bucket": self.bucket, "prefix": self.prefix, "path_style": self.path_style,
                "credentials_from": [n for n in (self.access_key_id_env,
                                                 self.secret_access_key_env,
                                                 self.session_token_env) if n]}


def storage_from_environment(config: StorageConfig, env: dict[str, str] | os._Environ[str]
                             ) -> StorageConfig:
    """Apply the ``K2_STORAGE`` / ``K2_S3_*`` overrides."""
    if env.get("K2_STORAGE") in KINDS:
        config = replace(config, kind=env["K2_STORAGE"])
    if env.get("K2_S3_ENDPOINT"):
        config = config.with_endpoint(env["K2_S3_ENDPOINT"])
    if env.get("K2_S3_BUCKET"):
        config = replace(config, bucket=env["K2_S3_BUCKET"])
    if env.get("K2_S3_PREFIX"):
        config = replace(config, prefix=env["K2_S3_PREFIX"].strip("/"))
    if env.get("K2_S3_REGION"):
        config = replace(config, region=env["K2_S3_REGION"])
    return config


def check_bucket(name: str) -> str | None:
    """Why ``name`` is not a valid S3 bucket name, or None."""
    if not _BUCKET.match(name) or ".." in name or re.match(r"^\d+\.\d+\.\d+\.\d+$", name):
        return ("not a valid S3 bucket name: 3-63 lower-case letters, digits, '.' or '-', "
                "starting and ending with a letter or digit (e.g. \"warehouse\")")
    return None


def parse_storage(ck: Checker, table: dict[str, Any], path: str) -> StorageConfig:
    """Validate ``[backends.storage]``, adding problems to ``ck``."""
    ck.keys(table, path, KEYS)
    d = StorageConfig()
    kind = ck.str_(table.get("kind", d.kind), join(path, "kind"), KINDS) or d.kind
    endpoint = ck.str_(table.get("endpoint", ""), join(path, "endpoint"),
                       what="an http(s):// URL, or \"\" for the embedded server") or ""
    if endpoint and not endpoint.startswith(("http://", "https://")):
        ck.add(join(path, "endpoint"), endpoint,
               "must be an http(s):// URL such as http://127.0.0.1:9000 (or \"\" for the "
               "embedded S3 server)")
    region = ck.str_(table.get("region", d.region), join(path, "region")) or d.region
    bucket = ck.str_(table.get("bucket", d.bucket), join(path, "bucket")) or d.bucket
    problem = check_bucket(bucket)
    if problem:
        ck.add(join(path, "bucket"), bucket, problem)
    prefix = ck.str_(table.get("prefix", d.prefix), join(path, "prefix"),
                     what="a key prefix such as \"k2matrix\"")
    if prefix is None:
        prefix = d.prefix
    envs = {key: ck.env_name(table.get(key, ""), join(path, key)) or ""
            for key in ("access_key_id_env", "secret_access_key_env", "session_token_env")}
    path_style = table.get("path_style", True)
    if ck.bool_(path_style, join(path, "path_style")) is None:
        path_style = True
    return StorageConfig(kind=kind, endpoint=endpoint.rstrip("/"), region=region,
                         bucket=bucket, prefix=prefix.strip("/"), path_style=bool(path_style),
                         access_key_id_env=envs["access_key_id_env"],
                         secret_access_key_env=envs["secret_access_key_env"],
                         session_token_env=envs["session_token_env"])
