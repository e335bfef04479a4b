"""The commands' one shape (k2matrix.commands): a shared option is defined once, with one
help and one default wherever it appears; ``--out`` is a file and ``--results`` a folder,
``--out DIR`` for a folder still works with a deprecation note; every message k2matrix
writes on bad input starts ``k2matrix: ``; measured noise floors go into compare_runs."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest
from synthetic import benchmark, cell_dict, document, trials_document

from k2matrix import cli
from k2matrix.commands import COMMANDS
from k2matrix.commands.arguments import DEPRECATED_OUT, OUT_HELP, PREFIX, RESULTS_HELP
from k2matrix.commands.explore import ExploreCommand
from k2matrix.compare.runs import compare_runs
from k2matrix.results.load import load_run

SRC = Path(__file__).resolve().parents[2] / "src" / "k2matrix"
SHARED = ("--matrix", "--profile", "--tests", "--results", "--seed", "--trials", "--format",
          "--out", "--threshold", "--confidence", "--clock", "--numprocesses")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: action for action in parser._actions for flag in action.option_strings}


def test_every_command_is_in_the_parser_once() -> None:
    names = [c.name for c in COMMANDS]
    assert names == ["cells", "run", "merge", "summary", "compare", "ab", "noise", "explore",
                     "doctor"]
    assert set(_subparsers()) == set(names)


@pytest.mark.parametrize("flag", ["--matrix", "--profile", "--tests", "--seed", "--format",
                                  "--confidence", "--clock", "--numprocesses"])
def test_a_shared_option_has_one_help_and_one_default(flag: str) -> None:
    found = {name: opts[flag] for name, p in _subparsers().items()
             if flag in (opts := _options(p))}
    assert len(found) >= 2, f"{flag} is shared: {sorted(found)}"
    helps = {a.help for a in found.values()}
    defaults = {repr(a.default) for a in found.values()}
    types = {a.type for a in found.values()}
    assert len(helps) == 1 and len(defaults) == 1 and len(types) == 1, (flag, found)


def test_the_shared_options_are_where_they_were() -> None:
    takes = {name: set(_options(p)) & set(SHARED) for name, p in _subparsers().items()}
    assert {n for n, flags in takes.items() if "--matrix" in flags} == {
        "cells", "run", "ab", "noise", "explore", "doctor"}
    assert {n for n, flags in takes.items() if "--seed" in flags} == {"ab", "noise", "explore"}
    assert {n for n, flags in takes.items() if "--tests" in flags} == {"run", "explore", "ab",
                                                                      "noise"}


def test_the_trials_differ_by_command_only_in_what_they_are_and_how_many() -> None:
    found = {name: _options(p)["--trials"] for name, p in _subparsers().items()
             if "--trials" in _options(p)}
    assert {n: a.default for n, a in found.items()} == {"run": 1, "ab": 5, "noise": 5,
                                                        "explore": 10}
    for action in found.values():
        assert action.metavar == "N" and action.help is not None
        assert action.help.endswith(f"; each trial runs in fresh processes (default "
                                    f"{action.default})")


def test_out_is_always_a_file_and_results_always_a_folder() -> None:
    for name, parser in _subparsers().items():
        opts = _options(parser)
        if "--out" in opts and opts["--out"].help != argparse.SUPPRESS:
            assert (opts["--out"].metavar, opts["--out"].help) == ("FILE", OUT_HELP), name
        if "--out" in opts and opts["--out"].help == argparse.SUPPRESS:  # the old spelling
            assert opts["--out"].dest == "out_folder" and name in ("merge", "explore")
        if "--results" in opts:
            assert opts["--results"].metavar == "DIR", name
            assert opts["--results"].help == RESULTS_HELP or name == "merge", name


def test_matrix_and_doctor_arguments_are_defined_once_in_the_source() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))
    assert text.count('"--matrix"') == 1
    assert "add_argument(" not in (SRC / "tools" / "doctor.py").read_text(encoding="utf-8")
    assert "argparse" not in (SRC / "tools" / "doctor.py").read_text(encoding="utf-8")


def _run_dir(where: Path) -> Path:
    """A run directory as a sweep leaves it: meta.json and one journal with a passed cell."""
    cell = cell_dict("writer", "append", schema="v2", batch_size=100)
    doc = document([benchmark(cell, [0.01, 0.011, 0.012], {"items": 100, "unit": "rows/s"})])
    where.mkdir()
    meta = {**doc["k2"], "machine_info": {}, "commit_info": {}, "versions": {},
            "machine_kind": {"system": "Linux", "cpu_count": 2}}
    (where / "meta.json").write_text(json.dumps(meta))
    bench = doc["benchmarks"][0]
    line = {"format_version": 1, "nodeid": "t.py::test_append[writer-append-v2-b100]",
            "cell": bench["extra_info"]["k2"]["cell"], "status": "passed", "error": None,
            "worker": "gw0", "started": 0.0, "finished": 0.5, "benchmark": bench}
    (where / "journal-gw0.jsonl").write_text(json.dumps(line) + "\n")
    return where


def test_merge_writes_the_folder_results_names(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    run = _run_dir(tmp_path / "run")
    assert cli.main(["merge", str(run), "--results", str(tmp_path / "merged")]) == 0
    out, err = capsys.readouterr()
    assert f"into {tmp_path / 'merged'}: 1 cells passed" in out and err == ""
    assert (tmp_path / "merged" / "benchmarks.json").is_file()


def test_merge_out_dir_still_works_with_a_deprecation_note(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run_dir(tmp_path / "run")
    assert cli.main(["merge", str(run), "--out", str(tmp_path / "old")]) == 0
    out, err = capsys.readouterr()
    assert err == DEPRECATED_OUT + "\n"
    assert err == ("k2matrix: note: `--out DIR` for a folder is deprecated; use --results "
                   "DIR\n")
    assert (tmp_path / "old" / "benchmarks.json").is_file() and "1 cells passed" in out


def test_merge_needs_one_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    run = _run_dir(tmp_path / "run")
    assert cli.main(["merge", str(run)]) == 2
    assert capsys.readouterr().err == (f"{PREFIX}merge: the following arguments are "
                                       "required: --results DIR (the merged run directory "
                                       "to write)\n")
    assert cli.main(["merge", str(run), "--out", "a", "--results", "b"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(DEPRECATED_OUT) and "--out a and --results b: two folders" in err
    assert not (Path("a").exists() or Path("b").exists())


def _explore_values(argv: list[str]) -> Any:
    parser = argparse.ArgumentParser()
    command = ExploreCommand()
    command.setup(parser)
    return command.values(parser.parse_args(["writer_append_rate", *argv]))


def test_explore_out_dir_is_the_results_folder_with_a_note(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _explore_values(["--out", str(tmp_path / "old"), "--seed", "3"])
    assert capsys.readouterr().err == DEPRECATED_OUT + "\n"
    new = _explore_values(["--results", str(tmp_path / "new"), "--seed", "3"])
    assert capsys.readouterr().err == ""
    assert (old.results, new.results) == (tmp_path / "old", tmp_path / "new")
    assert old.seed == new.seed == 3
    assert _explore_values([]).results == Path("results")


def test_a_seed_not_given_is_a_fresh_one() -> None:
    seeds = {_explore_values([]).seed for _ in range(5)}
    assert len(seeds) > 1 and all(isinstance(s, int) and s >= 0 for s in seeds)


@pytest.mark.parametrize("argv", [
    ["doctor", "--matrix", "missing.toml"],  # a K2Error
    ["cells", "--format", "xml"],  # argparse's own
    ["summary", "missing.json"],  # a ResultsError
    ["merge", "missing-run", "--results", "merged"],
])
def test_every_refusal_has_the_one_prefix(argv: list[str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse exits from inside parse_args
        code = int(str(exc.code))
    assert code == 2
    messages = [line for line in capsys.readouterr().err.splitlines()
                if line and not line.startswith(("usage:", " "))]
    assert messages and all(m.startswith(PREFIX) for m in messages), messages
    assert not any(re.match(r"(k2matrix \w+: )?error: ", m) for m in messages)


def test_measured_floors_are_reported_not_judged(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(trials_document(4, trials=5)))
    (tmp_path / "b.json").write_text(json.dumps(trials_document(4, trials=5, seed=1)))
    base, cand = load_run(tmp_path / "a.json"), load_run(tmp_path / "b.json")
    plain = compare_runs(base, cand, paired=True)
    ids = [row["id"] for row in plain["comparisons"]]
    floors = {ids[0]: 0.123}
    shown = compare_runs(base, cand, paired=True, floors=floors)
    assert [r["verdict"] for r in shown["comparisons"]] == \
        [r["verdict"] for r in plain["comparisons"]]
    rows = {r["id"]: r for r in shown["comparisons"]}
    assert (rows[ids[0]]["noise_floor"], rows[ids[0]]["noise_floor_source"]) == \
        (0.123, "measured")
    before = {r["id"]: r for r in plain["comparisons"]}
    for cid in ids[1:]:
        assert rows[cid]["noise_floor"] == before[cid]["noise_floor"]
        assert rows[cid]["noise_floor_source"] is None


def test_run_keep_subjects_reaches_the_sweep_as_its_pytest_option() -> None:
    from k2matrix.commands.run import RunCommand

    parser = _subparsers()["run"]

    def values(argv: list[str]) -> list[str]:
        args, extra = parser.parse_known_args(argv)  # as cli.main does
        args.extra = extra
        return RunCommand().values(args).pytest_args

    kept, plain = values(["--keep-subjects", "-k", "b100"]), values(["-k", "b100"])
    assert kept == ["-k", "b100", "--k2-keep-subjects"] and plain == ["-k", "b100"]
