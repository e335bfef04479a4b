"""A pytest plugin for the subject-count sweeps (``-p subject_count``): counts the subjects of
the registry at ``$K2T_REGISTRY_URL`` when the session starts and after every fixture has been
torn down, and writes ``before after`` to ``$K2T_SUBJECT_COUNTS``. A ``mock://`` registry is
one store per process (:func:`k2matrix.backends.registry.open_registry`), so this counts
the very registry the cells used."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from k2matrix.backends.config import SchemaRegistryConfig
from k2matrix.backends.registry import open_registry

_BEFORE: list[int] = []


def _count() -> int:
    client = open_registry(SchemaRegistryConfig(url=os.environ["K2T_REGISTRY_URL"]))
    return len(client.get_subjects())


def pytest_sessionstart(session: pytest.Session) -> None:
    _BEFORE.append(_count())


def pytest_unconfigure(config: pytest.Config) -> None:
    if _BEFORE:
        Path(os.environ["K2T_SUBJECT_COUNTS"]).write_text(f"{_BEFORE[0]} {_count()}")
