"""A collector of problems for validating nested TOML data: every problem is kept, each with
its key path, the bad value and what is allowed."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from k2matrix.errors import MISSING, Problem

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def join(path: str, key: str | int) -> str:
    """``join("axes", "batch_sizes")`` -> ``axes.batch_sizes``; ints become ``[i]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not re.match(r"^[A-Za-z0-9_-]+$", key):
        key = f'"{key}"'
    return f"{path}.{key}" if path else key


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Checker:
    """Collects :class:`Problem` s; the ``want_*`` methods return a usable value or ``None``."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, value: object, message: str) -> None:
        self.problems.append(Problem(path, value, message))

    def keys(self, table: Mapping[str, Any], path: str, allowed: Iterable[str]) -> None:
        """Unknown keys are errors, with a close match suggested."""
        allowed = list(allowed)
        for key in table:
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                self.add(
                    join(path, key),
                    MISSING,
                    f"unknown key{hint}; allowed here: {', '.join(sorted(allowed))}",
                )

    def table(self, parent: Mapping[str, Any], key: str, path: str, required: bool = False
              ) -> dict[str, Any] | None:
        where = join(path, key)
        if key not in parent:
            if required:
                self.add(where, MISSING, "missing: this table is required")
            return None
        value = parent[key]
        if not isinstance(value, dict):
            self.add(where, value, "must be a table")
            return None
        return value

    def int_(self, value: Any, path: str, minimum: int | None = None,
             maximum: int | None = None, what: str = "an integer") -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, value, f"must be {what}")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.add(path, value, f"must be {what}")
            return None
        return value

    def number(self, value: Any, path: str, minimum: float | None = None,
               maximum: float | None = None, what: str = "a number") -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, value, f"must be {what}")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.add(path, value, f"must be {what}")
            return None
        return float(value)

    def str_(self, value: Any, path: str, choices: Iterable[str] | None = None,
             what: str = "a string") -> str | None:
        if not isinstance(value, str):
            self.add(path, value, f"must be {what}")
            return None
        if choices is not None:
            choices = list(choices)
            if value not in choices:
                hint = did_you_mean(value, choices)
                self.add(path, value, f"unknown value{hint}; allowed: {', '.join(choices)}")
                return None
        return value

    def bool_(self, value: Any, path: str, meaning: str = "") -> bool | None:
        """``meaning`` (what ``true`` does) follows the message in parentheses."""
        if not isinstance(value, bool):
            self.add(path, value, f"must be true or false ({meaning})" if meaning
                     else "must be true or false")
            return None
        return value

    def env_name(self, value: Any, path: str) -> str | None:
        """The name of an environment variable (or ``""`` for none)."""
        name = self.str_(value, path, what="the name of an environment variable")
        if name and not ENV_NAME.match(name):
            self.add(
                path,
                "***",  # not echoed: it may be the secret itself
                "must be the name of an environment variable (letters, digits, _), "
                "not the secret itself",
            )
            return None
        return name

    def list_(self, value: Any, path: str, what: str) -> list[Any] | None:
        """A non-empty list without duplicates."""
        if not isinstance(value, list):
            self.add(path, value, f"must be a list of {what}")
            return None
        if not value:
            self.add(path, value, f"must not be empty: give at least one of {what}")
            return None
        seen: list[Any] = []
        for i, item in enumerate(value):
            if item in seen and not isinstance(item, dict | list):
                self.add(join(path, i), item, "duplicate value; list each value once")
            seen.append(item)
        return value
