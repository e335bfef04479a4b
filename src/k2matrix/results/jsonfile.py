"""JSON files of a run: read with a :class:`ResultsError` that names the file, the problem
and the fix (never another exception), written atomically (a reader sees the old file or
the new one, never half of one)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from k2matrix.errors import ResultsError


def denied(path: Path) -> ResultsError:
    """The error for a path this user may not read."""
    return ResultsError(
        f"{path}: cannot read it: permission denied; give your user read access to it and "
        "its folders (chmod u+r, u+x on folders) or run as the user who wrote it")


def path_kind(path: Path) -> str:
    """``"dir"``, ``"file"`` or ``"missing"``; a path that cannot be looked at (a folder on
    the way without permission) is a ResultsError, not an OSError."""
    try:
        if path.is_dir():
            return "dir"
        return "file" if path.exists() else "missing"
    except PermissionError:
        raise denied(path) from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot look at it: {exc.strerror or exc}") from None


def read_json(path: Path, fix: str) -> Any:
    """The parsed contents of ``path``; ``fix`` ends every message (what to do instead)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file or directory; {fix}") from None
    except IsADirectoryError:
        raise ResultsError(f"{path}: is a directory, not a JSON file; {fix}") from None
    except PermissionError:
        raise denied(path) from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read: {exc.strerror or exc}; {fix}") from None
    if not raw.strip():
        raise ResultsError(f"{path}: the file is empty; {fix}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsError(
            f"{path}: not a JSON file: it is not UTF-8 text (byte {exc.start}); {fix}"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg}): the "
            f"file is truncated or damaged; {fix}") from None
    except RecursionError:
        raise ResultsError(f"{path}: JSON nested too deeply to be a results file; {fix}"
                           ) from None


def write_json_atomic(path: Path, doc: Any) -> None:
    """Write ``doc`` to a temporary file beside ``path``, fsync it, rename it over ``path``;
    an OSError becomes a ResultsError naming the path."""
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ResultsError(
            f"{path}: cannot write: {exc.strerror or exc}; check that its folder is writable "
            "and the disk has room") from None
