"""k2matrix run --trials, ab and noise end to end on a tiny project (real pytest processes,
real k2matrix work), and every kind of bad SPEC: exit 2, the fix named, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tiny_project import CELLS, k2matrix, make_project


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def test_trials_under_xdist_fold_and_keep_exclusive_cells_alone(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = k2matrix(root, "run", "-n", "2", "--trials", "2", "--k2-run-id=t", "-q")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run = root / "results" / "t"
    doc = _json(run / "benchmarks.json")
    assert {b["extra_info"]["k2"]["cell"]["id"] for b in doc["benchmarks"]} == CELLS
    assert doc["k2"]["trials"] == {"planned": 2, "run": 2}
    orders = []
    for k in (1, 2):
        trial = _json(run / "trials" / f"t0{k}" / "benchmarks.json")
        spans = [(b["extra_info"]["k2"], b) for b in trial["benchmarks"]]
        orders.append([b["extra_info"]["k2"]["cell"]["id"] for _, b in spans])
        journal = [json.loads(line) for p in (run / "trials" / f"t0{k}").glob("journal-*.jsonl")
                   for line in p.read_text().splitlines()]
        by_id = {r["cell"]["id"]: r for r in journal}
        for cid, rec in by_id.items():
            if not rec["cell"].get("exclusive"):
                continue
            for other_id, other in by_id.items():
                if other_id != cid:  # an exclusive cell overlaps no other cell in time
                    assert other["finished"] <= rec["started"] or rec["finished"] <= \
                        other["started"], (cid, other_id)
        for k2, _ in spans:
            if k2["cell"].get("exclusive"):
                assert k2["concurrent"] is False and k2["overlap"] == 0.0
            else:
                assert 0.0 <= k2["overlap"] <= 1.0
    for bench in doc["benchmarks"]:
        trials = bench["extra_info"]["k2"]["trials"]
        assert [t["trial"] for t in trials] == [1, 2]
        assert all(t["median"] > 0 and len(t["rounds"]) >= 5 for t in trials)
        pooled = sum(len(t["rounds"]) for t in trials)
        assert bench["stats"]["rounds"] == pooled == len(bench["stats"]["data"])
    assert (root / "results" / "latest").resolve() == run.resolve()
    summary = k2matrix(root, "summary", "results/t", "--format", "json")
    cells = _json_text(summary.stdout)["cells"]
    assert {c["trials"] for c in cells} == {2} and all(c["noise_floor"] for c in cells)


def _json_text(text: str) -> Any:
    return json.loads(text)


def test_ab_env_against_set_detects_known_extra_work(tmp_path: Path) -> None:
    """The candidate converts each batch 11 times (env reaches every process of its side);
    the baseline is the unchanged matrix (``set:`` with no override). The change is big, so
    the verdict holds on a loaded machine too."""
    root = make_project(tmp_path)
    done = k2matrix(root, "ab", "--baseline", "set:", "--candidate",
                    "env:K2_TINY_SLOWDOWN=0.5", "--trials", "5", "-k", "convert",
                    "--run-id", "ab1", "--format", "json", "--seed", "1")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    doc = _json_text(done.stdout)
    assert doc["paired"] is True and doc["verdict"] == "regression"
    assert {c["id"] for c in doc["comparisons"]} == {c for c in CELLS if "conversion" in c}
    for c in doc["comparisons"]:
        assert set(c) >= {"id", "change", "ci_low", "ci_high", "noise_floor", "verdict"}
        assert c["verdict"] == "regression" and c["change"] > 2.0, doc["comparisons"]
    run = root / "results" / "ab1"
    assert _json(run / "comparison.json")["verdict"] == "regression"
    ab = _json(run / "ab.json")
    assert ab["sides"]["candidate"]["env"] == ["K2_TINY_SLOWDOWN"]  # the name, not the value
    assert sorted((r["trial"], r["side"]) for r in ab["ran"]) == sorted(
        (k, s) for k in range(1, 6) for s in ("baseline", "candidate"))
    assert "trial 5 of 5" in done.stderr  # progress while it ran
    # compare reads the two sides as runs too (unpaired)
    again = k2matrix(root, "compare", "results/ab1/candidate", "--baseline",
                     "results/ab1/baseline", "--format", "json")
    assert again.returncode == 1 and _json_text(again.stdout)["paired"] is False


def test_ab_of_set_overrides_and_python_writes_the_side_matrix(tmp_path: Path) -> None:
    import sys

    root = make_project(tmp_path)
    done = k2matrix(root, "ab", "--baseline", f"python:{sys.executable}", "--candidate",
                    "set:data.skew=0.5,axes.batch_sizes=[200]", "--trials", "1",
                    "-k", "convert and v1", "--run-id", "ab2", "--format", "json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    doc = _json_text(done.stdout)
    assert [c["id"] for c in doc["comparisons"]] == ["writer-arrow_conversion-v1-b200"]
    assert doc["only_baseline"] == ["writer-arrow_conversion-v1-b400"]
    # one trial a side: never significant without a measured floor
    assert {c["verdict"] for c in doc["comparisons"]} == {"inconclusive"}
    side = (root / "results" / "ab2" / "candidate" / "matrix.toml").read_text()
    assert "skew = 0.5" in side and "batch_sizes = [\n    200,\n]" in side


def test_ab_of_a_git_ref_makes_a_worktree_with_its_own_environment(tmp_path: Path) -> None:
    root = make_project(tmp_path, git=True)
    done = k2matrix(root, "ab", "--baseline", "git:HEAD", "--candidate", "set:",
                    "--trials", "1", "-k", "convert and v1 and b200", "--run-id", "ab3",
                    "--format", "json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "making the environment of git:HEAD" in done.stderr
    trees = list((root / ".k2matrix" / "ab").iterdir())
    assert len(trees) == 1 and (trees[0] / ".k2-ab-ready").is_file()
    ab = _json(root / "results" / "ab3" / "ab.json")
    assert ab["sides"]["baseline"]["project"] == str(trees[0])
    # the environment is kept per commit: the next A/B of HEAD does not make it again
    again = k2matrix(root, "ab", "--baseline", "git:HEAD", "--candidate", "set:",
                     "--trials", "1", "-k", "convert and v1 and b200", "--run-id", "ab4")
    assert again.returncode == 0 and "making the environment" not in again.stderr


def test_noise_measures_a_floor_that_compare_then_reports(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = k2matrix(root, "noise", "--trials", "3", "-k", "convert and v2", "--run-id", "n1",
                    "--format", "json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    noise = _json(root / "results" / "n1" / "noise.json")
    assert set(noise["cells"]) == {"writer-arrow_conversion-v2-b200",
                                   "writer-arrow_conversion-v2-b400"}
    for cell in noise["cells"].values():
        assert cell["trials"] == 3 and cell["sigma"] >= 0 and cell["noise_floor"] >= 0
    assert (root / "results" / "noise-latest").resolve() == (root / "results" / "n1").resolve()
    ran = k2matrix(root, "run", "--trials", "2", "-k", "convert and v2", "--k2-run-id=c")
    assert ran.returncode == 0
    compared = k2matrix(root, "compare", "results/c", "--baseline", "results/n1/baseline",
                        "--format", "json")
    doc = _json_text(compared.stdout)
    assert {c["noise_floor_source"] for c in doc["comparisons"]} <= {
        "noise run n1", "this comparison"}
    assert any("noise floors from" in n for n in doc["notes"])


BAD_SPECS: list[tuple[str, tuple[str, ...], str, str]] = [
    ("unknown kind", ("--candidate", "svn:HEAD"), "unknown kind of SPEC", "use one of git:REF"),
    ("no such ref", ("--candidate", "git:no-such-branch"), "not a commit",
     "name a branch, tag or commit"),
    ("python without k2matrix", ("--candidate", "python:/usr/bin/python3"),
     "k2matrix (with trials) is not importable", "install it there"),
    ("python not a file", ("--candidate", "python:/no/python"), "not an executable file",
     "give the python of an environment"),
    ("key not in the matrix", ("--candidate", "set:data.skeww=1.5"), "skeww",
     "did you mean"),
    ("table not in the matrix", ("--candidate", "set:nothing.here=1"),
     "the matrix has no table [nothing]", "name a key of matrix.toml"),
    ("env without a value", ("--candidate", "env:K2_X"), "is not NAME=VALUE",
     "env:K2_THREADS=1"),
    ("env name", ("--candidate", "env:1BAD=2"), "not an environment variable name", "1BAD"),
    ("trials", ("--candidate", "set:", "--trials", "0"), "--trials", "1 or more"),
]


@pytest.fixture(scope="module")
def git_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("bad-specs"), git=True)


@pytest.mark.parametrize(("what", "args", "problem", "fix"), BAD_SPECS,
                         ids=[b[0] for b in BAD_SPECS])
def test_a_bad_spec_exits_2_naming_the_fix(git_project: Path, what: str,
                                           args: tuple[str, ...], problem: str,
                                           fix: str) -> None:
    done = k2matrix(git_project, "ab", "--baseline", "set:", *args, "--run-id", "bad",
                    timeout=120)
    err = done.stderr
    assert done.returncode == 2, (done.returncode, err[-2000:])
    assert "Traceback" not in err + done.stdout
    assert problem in err and fix in err, err
    assert not (git_project / "results" / "bad").exists()  # refused before any trial


def test_a_side_refused_mid_run_keeps_what_was_measured(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = k2matrix(root, "ab", "--baseline", "set:", "--candidate",
                    "env:PYTEST_ADDOPTS=--no-such-option", "--trials", "2", "-k",
                    "convert and v1 and b200", "--run-id", "mid", "--seed", "0")  # baseline first
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--candidate env:PYTEST_ADDOPTS=--no-such-option" in done.stderr
    run = root / "results" / "mid"
    ab = _json(run / "ab.json")
    measured = [r for r in ab["ran"] if r["exit"] == 0]
    assert measured and all(r["side"] == "baseline" for r in measured)
    base = _json(run / "baseline" / "benchmarks.json")  # folded from what ran
    assert [b["extra_info"]["k2"]["cell"]["id"] for b in base["benchmarks"]] == [
        "writer-arrow_conversion-v1-b200"]
