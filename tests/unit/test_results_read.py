"""Reading results never ends in another exception: every bad input to the reading functions
(JSON files, meta.json, journals, results files and directories) is a ResultsError whose
message names the path and the fix."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from synthetic import benchmark, cell_dict, document, journal_line, write_run_dir

from k2matrix.errors import ResultsError
from k2matrix.results.journal import read_journal
from k2matrix.results.jsonfile import read_json
from k2matrix.results.load import load_run
from k2matrix.results.meta import read_meta

FIX = "do this instead"
CELL = cell_dict("producer", "batch", schema="v1", batch_size=100)


@contextmanager
def unreadable(path: Path) -> Iterator[None]:
    """``path`` without read permission for this process. Root reads anything, so as root
    the effective user is an unprivileged one meanwhile (a real permission check by the
    kernel, not a stand-in)."""
    path.chmod(0)
    try:
        if os.geteuid() == 0:
            os.seteuid(65534)
            try:
                yield
            finally:
                os.seteuid(0)
        else:
            yield
    finally:
        path.chmod(0o755 if path.is_dir() else 0o644)


# (what, how to make the file, words the message holds besides the path and FIX)
BAD_JSON: list[tuple[str, Callable[[Path], Any], list[str]]] = [
    ("missing", lambda p: None, ["no such file or directory"]),
    ("a directory", lambda p: p.mkdir(), ["is a directory"]),
    ("empty", lambda p: p.write_bytes(b""), ["the file is empty"]),
    ("only whitespace", lambda p: p.write_text(" \n\t\n"), ["the file is empty"]),
    ("not UTF-8", lambda p: p.write_bytes(b'{"benchmarks": ["\xff\xfe"]}'),
     ["not UTF-8 text", "byte 17"]),
    ("truncated", lambda p: p.write_text('{"benchmarks": [{"name": "t", "st'),
     ["invalid JSON at line 1 column", "truncated or damaged"]),
    ("nested too deeply", lambda p: p.write_text("[" * 100_000 + "]" * 100_000),
     ["nested too deeply"]),
]


@pytest.mark.parametrize(("make", "words"), [b[1:] for b in BAD_JSON],
                         ids=[b[0] for b in BAD_JSON])
def test_read_json_names_the_path_the_problem_and_the_fix(
        tmp_path: Path, make: Callable[[Path], Any], words: list[str]) -> None:
    path = tmp_path / "run.json"
    make(path)
    with pytest.raises(ResultsError) as caught:
        read_json(path, FIX)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for word in [*words, FIX]:
        assert word in message


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary folder whose ancestors another user may traverse (pytest's own tmp_path
    is private to its user), so that permissions are checked on the file in question."""
    path = Path(tempfile.mkdtemp(prefix="k2matrix-perm-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def test_an_unreadable_file_is_a_results_error(open_tmp: Path) -> None:
    path = open_tmp / "benchmarks.json"
    path.write_text(json.dumps(document([benchmark(CELL, [0.1, 0.1, 0.1])])))
    with unreadable(path), pytest.raises(ResultsError) as caught:
        read_json(path, FIX)
    assert str(caught.value) == (
        f"{path}: cannot read it: permission denied; give your user read access to it and "
        "its folders (chmod u+r, u+x on folders) or run as the user who wrote it")
    run_dir = write_run_dir(open_tmp / "run", [journal_line(CELL)])
    run_dir.chmod(0o755)
    for victim in (run_dir / "journal-gw0.jsonl", run_dir / "meta.json", run_dir):
        with unreadable(victim), pytest.raises(ResultsError) as caught:
            load_run(run_dir)
        # the path named is the victim, or a file in it (the run directory) that it hides
        assert str(caught.value).startswith(str(victim))
        assert ": cannot read it: permission denied" in str(caught.value)


# (what, how to damage a good run directory, words the message holds)
BAD_RUN_DIRS: list[tuple[str, Callable[[Path], Any], list[str]]] = [
    ("missing", lambda d: d.rename(d.with_name("gone")), ["no such run directory"]),
    ("a file", lambda d: (_remove_tree(d), d.write_text("{}")),
     ["is a file, not a run directory"]),
    ("no meta.json", lambda d: (d / "meta.json").unlink(),
     ["not a k2matrix run directory (no meta.json)"]),
    ("meta.json empty", lambda d: (d / "meta.json").write_text(""), ["the file is empty"]),
    ("meta.json truncated", lambda d: (d / "meta.json").write_text('{"format_version": 1,'),
     ["invalid JSON at line 1"]),
    ("meta.json not UTF-8", lambda d: (d / "meta.json").write_bytes(b"\x80\x81"),
     ["not UTF-8 text"]),
    ("meta.json a list", lambda d: (d / "meta.json").write_text("[1, 2]"),
     ["must be a JSON object", "found list"]),
    ("meta.json newer", lambda d: _edit_meta(d, format_version=2),
     ["run metadata format_version 2 is not supported", "upgrade k2matrix"]),
    ("meta.json planned not a list", lambda d: _edit_meta(d, cells_planned="all"),
     ["cells_planned must be a JSON list"]),
    ("meta.json planned not ids", lambda d: _edit_meta(d, cells_planned=[{"id": 1}]),
     ["cells_planned must list cell ids (strings), found {'id': 1}"]),
    ("meta.json machine not an object", lambda d: _edit_meta(d, machine_kind=[2]),
     ["machine_kind must be a JSON object"]),
]


def _remove_tree(run_dir: Path) -> None:
    for child in run_dir.iterdir():
        child.unlink()
    run_dir.rmdir()


def _edit_meta(run_dir: Path, **changes: Any) -> None:
    meta = json.loads((run_dir / "meta.json").read_text())
    (run_dir / "meta.json").write_text(json.dumps({**meta, **changes}))


@pytest.mark.parametrize(("damage", "words"), [b[1:] for b in BAD_RUN_DIRS],
                         ids=[b[0] for b in BAD_RUN_DIRS])
def test_read_meta_names_the_run_directory_and_the_fix(
        tmp_path: Path, damage: Callable[[Path], Any], words: list[str]) -> None:
    run_dir = write_run_dir(tmp_path / "run", [journal_line(CELL)])
    damage(run_dir)
    with pytest.raises(ResultsError) as caught:
        read_meta(run_dir)
    message = str(caught.value)
    assert str(run_dir) in message
    for word in words:
        assert word in message
    assert any(fix in message for fix in ("results/<run-id>", "start a new run", "upgrade"))


def test_a_journal_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "journal-gw0.jsonl"
    path.write_bytes(json.dumps(journal_line(CELL)).encode() + b"\n\xc3\x28\n")
    with pytest.raises(ResultsError) as caught:
        list(read_journal(path))
    assert str(caught.value).startswith(f"{path}: not a k2matrix journal: it is not UTF-8")
    assert "--k2-resume" in str(caught.value)
