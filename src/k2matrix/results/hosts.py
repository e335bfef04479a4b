"""Which host a record was measured on, and what that means for the records beside it.

A cell's host is :func:`host_name`: the ``K2_HOST`` environment variable when it is set (a
name for a host whose hostname says nothing, such as a container's), else the machine's
hostname. Each record carries it (``CellRecord.host``, ``extra_info.k2.host``); cells on
different hosts share no CPU, so overlap and contention are judged per host
(:func:`k2matrix.results.document.mark_concurrency`), and a run's ``k2.hosts``
(:func:`hosts_of`) says which workers ran on which host.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from typing import Any, Protocol

HOST_VARIABLE = "K2_HOST"


def host_name() -> str:
    """This process's host: ``K2_HOST``, else the hostname."""
    return os.environ.get(HOST_VARIABLE, "").strip() or socket.gethostname()


class _Placed(Protocol):
    host: str | None
    worker: str | None
    status: str


def same_host(a: _Placed, b: _Placed) -> bool:
    """Whether two records ran on one host (a record without a host, written before hosts
    were recorded, was on the one machine of its run)."""
    return a.host == b.host or a.host is None or b.host is None


def hosts_of(records: Iterable[_Placed]) -> dict[str, dict[str, Any]]:
    """``{host: {"workers": [...], "cells": n}}`` over the records that name a host."""
    out: dict[str, dict[str, Any]] = {}
    for rec in records:
        if rec.host is None:
            continue
        entry = out.setdefault(rec.host, {"workers": [], "cells": 0})
        if rec.worker is not None and rec.worker not in entry["workers"]:
            entry["workers"].append(rec.worker)
        entry["cells"] += 1
    for entry in out.values():
        entry["workers"].sort()
    return dict(sorted(out.items()))
