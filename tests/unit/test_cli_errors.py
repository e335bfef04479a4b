"""Every ``k2matrix`` command answers bad input the same way: exit code 2, a message on
stderr that names the file or option and the fix, and no traceback.

The table runs the real console script (the one ``pip install`` put beside this interpreter)
in a subprocess, over every kind of bad input for each command that reads it: ``cells`` and
``run`` read a matrix, ``summary`` and ``merge`` read results. The unreadable-file cases need
a user whom the file's permissions stop; root reads a chmod-000 file anyway, so under root
(as in CI) those commands run with the capabilities that let root ignore file permissions
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) dropped from their bounding set: the kernel then
checks the permission bits for them as for anyone else. A guard test proves that it does.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from synthetic import benchmark, cell_dict, document

ROOT = Path(__file__).resolve().parents[2]
K2MATRIX = Path(sysconfig.get_path("scripts")) / "k2matrix"
NOT_UTF8 = b"\xff\xfe\x00\x81 not text"

# prctl(PR_CAPBSET_DROP, cap): <linux/prctl.h> and <linux/capability.h>
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def _drop_file_permission_override() -> None:
    """preexec_fn: root without the capabilities that bypass file permission checks."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl(PR_CAPBSET_DROP, {cap}): {os.strerror(err)}")


def _unprivileged() -> Callable[[], None] | None:
    return _drop_file_permission_override if os.geteuid() == 0 else None


@dataclass(frozen=True)
class Bad:
    """One bad input: the command line, what stderr must name (the file or option) and a
    pattern of the fix it must hint at."""

    id: str
    argv: tuple[str, ...]
    names: str
    fix: str
    unreadable: bool = False


def _doc() -> dict[str, Any]:
    cell = cell_dict("writer", "append", schema="v2", batch_size=100)
    return document([benchmark(cell, [0.01, 0.011, 0.012], {"items": 100, "unit": "rows/s"})])


def _run_dir(where: Path, meta: Any = None, journal: bytes | None = None) -> Path:
    """A run directory as a sweep leaves it: meta.json and one journal (one passed cell)."""
    where.mkdir()
    doc = _doc()
    good_meta = {**doc["k2"], "machine_info": {}, "commit_info": {}, "versions": {},
                 "machine_kind": {"system": "Linux", "cpu_count": 2}}
    raw = meta if isinstance(meta, bytes) else json.dumps(good_meta if meta is None else meta)
    (where / "meta.json").write_bytes(raw if isinstance(raw, bytes) else raw.encode())
    bench = doc["benchmarks"][0]
    line = {"format_version": 1, "nodeid": "t.py::test_append[writer-append-v2-b100]",
            "cell": bench["extra_info"]["k2"]["cell"], "status": "passed", "error": None,
            "worker": "gw0", "started": 0.0, "finished": 0.5, "benchmark": bench}
    (where / "journal-gw0.jsonl").write_bytes(
        journal if journal is not None else (json.dumps(line) + "\n").encode())
    return where


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder of bad (and a few good) inputs; the commands run with it as their cwd."""
    d = tmp_path_factory.mktemp("cli-inputs")
    real = (ROOT / "matrix.toml").read_text(encoding="utf-8")
    (d / "good.toml").write_text(real)
    (d / "empty.toml").write_text("")
    (d / "binary.toml").write_bytes(NOT_UTF8)
    cut = real.index("= [", real.index("[axes]")) + 5  # inside an array: the TOML ends early
    (d / "truncated.toml").write_text(real[:cut])
    (d / "shape.toml").write_text("matrix = 3\naxes = [1, 2]\n")
    (d / "folder.toml").mkdir()
    (d / "unreadable.toml").write_text(real)
    (d / "suites").mkdir()
    (d / "afile").write_text("a file, not a folder\n")

    doc = _doc()
    (d / "good.json").write_text(json.dumps(doc))
    (d / "empty.json").write_text("")
    (d / "binary.json").write_bytes(NOT_UTF8)
    text = json.dumps(doc)
    (d / "truncated.json").write_text(text[: len(text) // 2])
    (d / "list.json").write_text("[1, 2, 3]")
    (d / "nobench.json").write_text(json.dumps({"hello": 1}))
    (d / "future.json").write_text(json.dumps({**doc, "k2": {**doc["k2"],
                                                             "format_version": 99}}))
    (d / "unmeasured.json").write_text(json.dumps({"benchmarks": []}))
    (d / "unreadable.json").write_text(text)
    (d / "notrun").mkdir()

    _run_dir(d / "run-good")
    _run_dir(d / "run-empty", meta=b"")
    _run_dir(d / "run-binary", meta=NOT_UTF8)
    _run_dir(d / "run-truncated", meta=b'{"format_version": 1, "profile": "sm')
    _run_dir(d / "run-list", meta=[1, 2])
    future = json.loads((d / "run-good" / "meta.json").read_text())
    _run_dir(d / "run-future", meta={**future, "format_version": 99})
    _run_dir(d / "run-unreadable")
    _run_dir(d / "run-unmeasured", journal=b"")
    _run_dir(d / "run-journal-binary", journal=NOT_UTF8)
    for path in (d / "unreadable.toml", d / "unreadable.json",
                 d / "run-unreadable" / "meta.json"):
        path.chmod(0)
    yield d
    for path in (d / "unreadable.toml", d / "unreadable.json",
                 d / "run-unreadable" / "meta.json"):
        path.chmod(0o600)


def _matrix_cases(command: str) -> list[Bad]:
    """The same bad matrices for ``cells`` and ``run`` (both read --matrix first)."""
    def bad(what: str, path: str, fix: str, unreadable: bool = False) -> Bad:
        return Bad(f"{command}-{what}", (command, "--matrix", path), path, fix, unreadable)

    return [
        bad("missing-file", "missing.toml", r"pass --matrix PATH"),
        bad("directory", "folder.toml", r"pass the matrix file itself"),
        bad("empty-file", "empty.toml", r"is empty; start from a copy of .*matrix\.toml"),
        bad("not-utf8", "binary.toml", r"save it as UTF-8"),
        bad("truncated", "truncated.toml", r"TOML|required"),
        bad("wrong-shape", "shape.toml", r"must be a table"),
        bad("unreadable", "unreadable.toml", r"check the path and its permissions", True),
        Bad(f"{command}-unknown-profile", (command, "--matrix", "good.toml", "--profile",
                                           "nightly"), "profile = 'nightly'",
            r"defined: smoke"),
    ]


PERMISSION_FIX = r"chmod|read access|permission"
RESULTS_FIX = r"pass |give |run a sweep|k2matrix run|--benchmark-json|write one|restore|start"

BAD: list[Bad] = [
    *_matrix_cases("cells"),
    Bad("cells-format", ("cells", "--matrix", "good.toml", "--format", "xml"), "--format",
        r"choose from"),
    *_matrix_cases("run"),
    Bad("run-workers-negative", ("run", "--matrix", "good.toml", "-n", "-1"), "-n/",
        r"use 2, 0 for no xdist, or auto"),
    Bad("run-workers-not-a-number", ("run", "--matrix", "good.toml", "-n", "many"), "-n/",
        r"use a whole number"),
    Bad("run-tests-missing", ("run", "--matrix", "good.toml", "--tests", "nowhere"),
        "--tests nowhere", r"pass the folder or file of the benchmark suites"),
    Bad("run-no-suites-beside-the-matrix", ("run", "--matrix", "good.toml"),
        "tests/performance", r"pass --tests PATH"),
    Bad("run-results-is-a-file", ("run", "--matrix", "good.toml", "--tests", "suites",
                                  "--results", "afile"), "--results afile", r"pass a folder"),
    Bad("run-pytest-usage-error", ("run", "--matrix", "good.toml", "--tests", "suites",
                                   "--k2-shard=3/2"), "--k2-shard", r"I must be from 1 to N"),
    Bad("run-run-id-a-path", ("run", "--matrix", "good.toml", "--tests", "suites",
                              "--k2-run-id", "../../x"), "--k2-run-id",
        r"a run id is a name, not a path: letters, digits, '\.', '_' and '-'"),
    Bad("run-run-id-markup", ("run", "--matrix", "good.toml", "--tests", "suites",
                              "--k2-run-id=<b>x"), "--k2-run-id",
        r"letters, digits, '\.', '_' and '-'"),
    # summary: a run that is not one
    Bad("summary-missing-file", ("summary", "missing.json"), "missing.json", RESULTS_FIX),
    Bad("summary-directory", ("summary", "notrun"), "notrun", RESULTS_FIX),
    Bad("summary-empty-file", ("summary", "empty.json"), "empty.json", RESULTS_FIX),
    Bad("summary-not-utf8", ("summary", "binary.json"), "binary.json", RESULTS_FIX),
    Bad("summary-truncated", ("summary", "truncated.json"), "truncated.json", RESULTS_FIX),
    Bad("summary-wrong-shape-list", ("summary", "list.json"), "list.json", RESULTS_FIX),
    Bad("summary-wrong-shape-object", ("summary", "nobench.json"), "nobench.json",
        RESULTS_FIX),
    Bad("summary-format-version", ("summary", "future.json"), "future.json", r"upgrade"),
    Bad("summary-unreadable", ("summary", "unreadable.json"), "unreadable.json",
        PERMISSION_FIX, True),
    Bad("summary-no-measured-cell", ("summary", "unmeasured.json"), "unmeasured.json",
        r"run a sweep|k2matrix run"),
    Bad("summary-baseline-missing", ("summary", "good.json", "--baseline", "missing.json"),
        "missing.json", RESULTS_FIX),
    Bad("summary-baseline-unreadable", ("summary", "good.json", "--baseline",
                                        "unreadable.json"), "unreadable.json",
        PERMISSION_FIX, True),
    # summary: options out of range
    Bad("summary-fail-threshold-negative", ("summary", "good.json", "--fail-threshold",
                                            "-0.1"), "--fail-threshold",
        r"use a fraction such as 0.10"),
    Bad("summary-fail-threshold-not-a-number", ("summary", "good.json", "--fail-threshold",
                                                "lots"), "--fail-threshold", r"write 0.10"),
    Bad("summary-confidence-zero", ("summary", "good.json", "--confidence", "0"),
        "--confidence", r"use a probability between 0 and 1"),
    Bad("summary-confidence-above-one", ("summary", "good.json", "--confidence", "1.5"),
        "--confidence", r"use a probability between 0 and 1"),
    Bad("summary-confidence-a-level", ("summary", "good.json", "--confidence", "0.01"),
        "--confidence", r"such as 0.99"),
    Bad("summary-threshold-a-whole-number", ("summary", "good.json", "--threshold", "5"),
        "--threshold", r"did you mean 5%\? write 5% or 0\.05"),
    Bad("summary-confidence-a-percentage-number", ("summary", "good.json", "--confidence",
                                                   "99"), "--confidence",
        r"did you mean 0\.99\? write 0\.99 \(or 99%\)"),
    Bad("summary-fail-on-not-a-level", ("summary", "good.json", "--fail-on", "red"),
        "--fail-on", r"use one of good, counted, acceptable, incomplete, "
                     r"needs-investigation, blocking"),
    Bad("summary-format", ("summary", "good.json", "--format", "pdf"), "--format",
        r"choose from"),
    Bad("summary-out-in-a-file", ("summary", "good.json", "--out", "afile/out.txt"),
        "--out afile/out.txt", r"pass a path inside a folder"),
    Bad("summary-out-is-a-folder", ("summary", "good.json", "--out", "suites"),
        "--out suites", r"pass a file path"),
    Bad("summary-plots-is-a-file", ("summary", "good.json", "--plots", "afile"),
        "--plots afile", r"pass a folder"),
    Bad("summary-export-gab-in-a-file", ("summary", "good.json", "--export-gab",
                                         "afile/gab.json"), "--export-gab afile/gab.json",
        r"pass a path inside a folder"),
    # compare: runs that cannot be read, options out of range, a noise file that is not one
    Bad("compare-missing-candidate", ("compare", "missing.json", "--baseline", "good.json"),
        "missing.json", RESULTS_FIX),
    Bad("compare-truncated-baseline", ("compare", "good.json", "--baseline",
                                       "truncated.json"), "truncated.json", RESULTS_FIX),
    Bad("compare-no-baseline", ("compare", "good.json"), "--baseline", r"required"),
    Bad("compare-threshold", ("compare", "good.json", "--baseline", "good.json",
                              "--threshold", "lots"), "--threshold", r"write 0.10"),
    Bad("compare-confidence", ("compare", "good.json", "--baseline", "good.json",
                               "--confidence", "0.01"), "--confidence", r"such as 0.99"),
    Bad("compare-threshold-a-whole-number", ("compare", "good.json", "--baseline",
                                             "good.json", "--threshold", "5"), "--threshold",
        r"write 5% or 0\.05"),
    Bad("compare-noise-not-a-noise-file", ("compare", "good.json", "--baseline", "good.json",
                                           "--noise", "good.json"), "good.json",
        r"measure one with `k2matrix noise`"),
    Bad("compare-out-in-a-file", ("compare", "good.json", "--baseline", "good.json", "--out",
                                  "afile/c.txt"), "--out afile/c.txt",
        r"pass a path inside a folder"),
    # ab and noise: checked before anything runs (every SPEC kind: tests/unit/test_ab.py)
    Bad("ab-no-candidate", ("ab", "--baseline", "set:"), "--candidate", r"required"),
    Bad("ab-bad-matrix", ("ab", "--baseline", "set:", "--candidate", "set:", "--matrix",
                          "truncated.toml"), "truncated.toml", r"TOML|line"),
    Bad("ab-unknown-profile", ("ab", "--baseline", "set:", "--candidate", "set:", "--matrix",
                               "good.toml", "--profile", "nope"), "nope", r"smoke"),
    Bad("noise-trials", ("noise", "--trials", "none"), "--trials", r"1 or more"),
    Bad("ab-run-id-a-path", ("ab", "--baseline", "set:", "--candidate", "set:", "--run-id",
                             "../../x"), "--run-id", r"a run id is a name, not a path"),
    Bad("cells-k-not-an-expression", ("cells", "--matrix", "good.toml", "-k", "b100 and ("),
        "-k", r"write names joined by and, or, not and parentheses"),
    # merge: run directories that are not ones
    Bad("merge-missing-dir", ("merge", "missing-run", "--out", "merged"), "missing-run",
        RESULTS_FIX),
    Bad("merge-file-not-directory", ("merge", "good.json", "--out", "merged"), "good.json",
        RESULTS_FIX),
    Bad("merge-directory-not-a-run", ("merge", "notrun", "--out", "merged"), "notrun",
        RESULTS_FIX),
    Bad("merge-empty-file", ("merge", "run-empty", "--out", "merged"), "run-empty/meta.json",
        RESULTS_FIX),
    Bad("merge-not-utf8", ("merge", "run-binary", "--out", "merged"), "run-binary/meta.json",
        RESULTS_FIX),
    Bad("merge-truncated", ("merge", "run-truncated", "--out", "merged"),
        "run-truncated/meta.json", RESULTS_FIX),
    Bad("merge-wrong-shape", ("merge", "run-list", "--out", "merged"), "run-list/meta.json",
        RESULTS_FIX),
    Bad("merge-format-version", ("merge", "run-future", "--out", "merged"),
        "run-future/meta.json", r"upgrade"),
    Bad("merge-unreadable", ("merge", "run-unreadable", "--out", "merged"),
        "run-unreadable/meta.json", PERMISSION_FIX, True),
    Bad("merge-no-measured-cell", ("merge", "run-unmeasured", "--out", "merged"),
        "run-unmeasured", r"run a sweep|k2matrix run"),
    Bad("merge-journal-not-utf8", ("merge", "run-journal-binary", "--out", "merged"),
        "run-journal-binary/journal-gw0.jsonl", RESULTS_FIX),
    # merge: options out of range
    Bad("merge-out-is-a-file", ("merge", "run-good", "--out", "afile"), "--out afile",
        r"pass a folder"),
    Bad("merge-out-in-a-file", ("merge", "run-good", "--out", "afile/merged"),
        "--out afile/merged", r"pass a path inside a folder"),
]


def _k2matrix(args: tuple[str, ...], cwd: Path, unreadable: bool
              ) -> subprocess.CompletedProcess[str]:
    assert K2MATRIX.is_file(), f"no console script at {K2MATRIX}: install k2matrix (pip -e .)"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    return subprocess.run([str(K2MATRIX), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False, env=env,
                          preexec_fn=_unprivileged() if unreadable else None)


def test_the_table_covers_every_kind_of_bad_input_for_every_command() -> None:
    kinds = ("missing", "directory", "empty-file", "not-utf8", "truncated", "wrong-shape",
             "format-version", "unreadable", "no-measured-cell")
    ids = {b.id for b in BAD}
    for command in ("cells", "run", "summary", "merge"):
        covered = {k for k in kinds if any(i.startswith(f"{command}-") and k in i for i in ids)}
        # a matrix has no format_version and no measured cells: those apply to results only
        expected = set(kinds) - ({"format-version", "no-measured-cell"}
                                 if command in ("cells", "run") else set())
        assert covered == expected, command
    assert len(ids) == len(BAD)


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_bad_input_exits_2_naming_the_problem_and_the_fix(bad: Bad, inputs: Path) -> None:
    result = _k2matrix(bad.argv, inputs, bad.unreadable)
    err = result.stderr
    assert "Traceback" not in err + result.stdout, err
    assert result.returncode == 2, (result.returncode, err[-2000:])
    assert bad.names in err, err
    assert re.search(bad.fix, err), f"no fix ({bad.fix!r}) hinted in: {err}"
    if bad.unreadable:  # the case really was unreadable, not refused for another reason
        assert "ermission denied" in err, err


MODULE_CASES = ("summary-missing-file", "summary-truncated", "summary-unreadable",
                "summary-no-measured-cell", "summary-confidence-zero", "summary-out-in-a-file")


@pytest.mark.parametrize("bad", [b for b in BAD if b.id in MODULE_CASES], ids=lambda b: b.id)
def test_the_summary_module_entry_answers_the_same(bad: Bad, inputs: Path) -> None:
    """``python -m k2matrix.summary`` is the same subcommand without the k2matrix CLI."""
    result = subprocess.run(
        [sys.executable, "-m", "k2matrix.summary", *bad.argv[1:]], cwd=inputs,
        capture_output=True, text=True, timeout=120, check=False,
        preexec_fn=_unprivileged() if bad.unreadable else None)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 2, result.stderr
    assert bad.names in result.stderr and re.search(bad.fix, result.stderr), result.stderr


def test_unreadable_files_are_unreadable_to_the_commands(inputs: Path) -> None:
    """The guard: run the way the unreadable cases run, the interpreter cannot open the
    files (under root too), so those cases test a permission problem for real."""
    for name in ("unreadable.toml", "unreadable.json", "run-unreadable/meta.json"):
        probe = subprocess.run(
            [sys.executable, "-c", f"open({name!r}, 'rb')"], cwd=inputs, capture_output=True,
            text=True, timeout=60, check=False, preexec_fn=_unprivileged())
        assert probe.returncode == 1 and "PermissionError" in probe.stderr, probe.stderr


def test_good_inputs_pass(inputs: Path, tmp_path: Path) -> None:
    """The same folder's good inputs work, so each refusal above is about its bad part."""
    assert _k2matrix(("cells", "--matrix", "good.toml"), inputs, False).returncode == 0
    summary = _k2matrix(("summary", "good.json"), inputs, False)
    assert summary.returncode in (0, 1), summary.stderr
    merged = _k2matrix(("merge", "run-good", "--out", str(tmp_path / "m")), inputs, False)
    assert merged.returncode == 0, merged.stderr
    assert (tmp_path / "m" / "benchmarks.json").is_file()
