"""Inputs that mean what they say: ``--threshold 5`` is not 500% (it suggests 5%), ``5%``
is 5%, ``--confidence 99`` suggests 0.99, a run id is a name and not a path, ``cells -k``
matches whole words of a cell id, ``k2matrix --version``, and ``run --help`` says where
the extra arguments go. (Exit code 2 and the message of each refusal, from the console
script: tests/unit/test_cli_errors.py.)"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from k2matrix import __version__
from k2matrix.cli import main as k2matrix
from k2matrix.options import confidence, fraction, keyword_matcher, run_id

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "value"), [
    ("5%", 0.05), ("0.05", 0.05), ("12.5%", 0.125), ("0", 0.0), ("0.5", 0.5), ("150%", 1.5)])
def test_fractions_and_percentages(text: str, value: float) -> None:
    assert fraction(text) == pytest.approx(value)


@pytest.mark.parametrize(("text", "hint"), [
    ("5", "did you mean 5%? write 5% or 0.05"), ("1", "did you mean 1%?"),
    ("10", "write 10% or 0.1"), ("-0.1", "use a fraction such as 0.10"),
    ("lots", "write 0.10 or 10%")])
def test_a_bare_whole_number_is_not_a_fraction(text: str, hint: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=hint.replace("?", r"\?")):
        fraction(text)


@pytest.mark.parametrize(("text", "value"), [("0.99", 0.99), ("0.95", 0.95), ("99%", 0.99)])
def test_confidences(text: str, value: float) -> None:
    assert confidence(text) == pytest.approx(value)


@pytest.mark.parametrize(("text", "hint"), [
    ("99", "did you mean 0.99"), ("95", "write 0.95 .or 95%."), ("0.01", "such as 0.99"),
    ("1.5", "between 0 and 1"), ("150%", "a percentage from 50%")])
def test_a_confidence_that_is_not_a_probability_is_refused(text: str, hint: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=hint):
        confidence(text)


@pytest.mark.parametrize("good", ["20261126-smoke", "r1", "ci-producer-tansu", "a.b_c-1",
                                  "x" * 128])
def test_run_ids_that_are_names(good: str) -> None:
    assert run_id(good) == good


@pytest.mark.parametrize("bad", ["../../x", "<b>x", "a/b", ".hidden", "..", "", "a b",
                                 "-dash", "x" * 129, "r1\n"])
def test_run_ids_that_are_not_names(bad: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"letters, digits, '\.', '_' and '-'"):
        run_id(bad)


CELL = "writer-append-v2-b100-unpartitioned"


@pytest.mark.parametrize(("expr", "matches"), [
    ("b100", True), ("b10", False), ("b1000", False), ("B100", True), ("append", True),
    ("append-v2", True), ("v2-append", False), ("writer and b100", True),
    ("writer and not v2", False), ("query or b100", True), ("(query or v1) and b100", False),
    ("unpart", False)])
def test_keyword_matches_whole_words_of_the_id(expr: str, matches: bool) -> None:
    assert keyword_matcher(expr)(CELL) is matches
    assert keyword_matcher("b100")("writer-append-v2-b10000-unpartitioned") is False


def test_cells_k_lists_only_the_matching_cells(capsys: pytest.CaptureFixture[str]) -> None:
    matrix = str(ROOT / "matrix.toml")
    assert k2matrix(["cells", "--matrix", matrix, "--format", "json"]) == 0
    every = [c["id"] for c in json.loads(capsys.readouterr().out)]
    assert k2matrix(["cells", "--matrix", matrix, "-k", "b100", "--format", "json"]) == 0
    chosen = [c["id"] for c in json.loads(capsys.readouterr().out)]
    assert chosen == [c for c in every if "b100" in c.split("-")]
    assert chosen and not any("b1000" in c for c in chosen)
    assert k2matrix(["cells", "--matrix", matrix, "-k", "writer and b100 and not s3"]) == 0
    out = capsys.readouterr().out
    assert f"matching -k 'writer and b100 and not s3' (of {len(every)})" in out
    assert "-s3" not in out and "writer-append-v2-b100-unpartitioned" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        k2matrix(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"k2matrix {__version__}"


def test_run_help_says_extra_arguments_go_to_pytest(capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    with pytest.raises(SystemExit):
        k2matrix(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Every argument k2matrix does not know goes to pytest" in text
    assert "--k2-run-id ID" in text and "latest-<profile>" in text
