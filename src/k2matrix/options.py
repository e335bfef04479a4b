"""Command-line values every k2matrix command parses the same way: fractions (``0.10`` or
``10%``), probabilities and confidences, paths a command will write (checked before any
work, so a long run is not lost to a typo at its end), run ids (a name, never a path) and
``-k`` expressions over cell ids."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path

from k2matrix.errors import ResultsError


def fraction(text: str) -> float:
    """``0.1`` or ``10%``. A bare number of 1 or more is refused (``5`` is not 5%: it
    would be 500%); the message suggests the percentage that was meant."""
    percent = text.strip().endswith("%")
    try:
        value = float(text.strip()[:-1]) / 100 if percent else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a fraction; write 0.10 or 10%") from None
    if not percent and 1 <= value < 100:
        raise argparse.ArgumentTypeError(
            f"{text!r} reads as {value:.0%}: a fraction is below 1; did you mean "
            f"{value:g}%? write {value:g}% or {value / 100:g}")
    if not 0 <= value < 10:
        raise argparse.ArgumentTypeError(f"{text!r}: use a fraction such as 0.10 (10%)")
    return value


def probability(text: str) -> float:
    """A significance level: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number; use a probability such as 0.05") from None
    if not 0 < value < 1:  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range; use a probability between 0 and 1, such as 0.05")
    return value


def confidence(text: str) -> float:
    """``--confidence``: a probability such as 0.99 (not a significance level), or a
    percentage such as 99%; ``99`` is refused with the probability it means."""
    stripped = text.strip()
    if stripped.endswith("%"):
        try:
            return confidence(str(float(stripped[:-1]) / 100))
        except (ValueError, argparse.ArgumentTypeError):
            raise argparse.ArgumentTypeError(
                f"{text!r}: a confidence is a percentage from 50% to below 100%, such as "
                "99%, or a probability such as 0.99") from None
    try:
        number = float(stripped)
    except ValueError:
        number = float("nan")
    if 50 <= number < 100:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a confidence is a probability; did you mean {number / 100:g}? write "
            f"{number / 100:g} (or {number:g}%)")
    value = probability(text)
    if value < 0.5:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a confidence is a probability such as 0.99 or 0.95 (not a "
            "significance level: 0.01 means 99%)")
    return value


def check_writable(option: str, text: str, folder: bool = False) -> Path:
    """``text`` as the path an option writes (a file, or with ``folder`` a directory that is
    created if missing); a ResultsError naming the option and the fix when it cannot be
    written. Checked before any work, so a long analysis is not lost to a typo."""
    path = Path(text)
    where = f"{option} {text}"
    try:
        problem = _why_unwritable(path, folder)
    except OSError as exc:  # e.g. a folder on the way that may not be searched
        problem = f"cannot be checked ({exc.strerror or exc}); pass a path you may write"
    if problem:
        raise ResultsError(f"{where}: {problem}")
    return path


def _why_unwritable(path: Path, folder: bool) -> str | None:
    if path.exists():
        if folder and not path.is_dir():
            return "is a file; pass a folder (it is created if missing)"
        if not folder and path.is_dir():
            return f"is a directory; pass a file path, e.g. {path / 'out.txt'}"
        if not os.access(path, os.W_OK):
            return "is not writable; pass a path you may write, or fix its permissions"
        return None
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is a file, not a folder; pass a path inside a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return (f"cannot be created in {parent} (permission denied); pass a path in a "
                "folder you may write")
    return None


def write_text(path: Path, text: str) -> None:
    try:
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ResultsError(f"--out {path}: cannot write: {exc.strerror or exc}; pass a path "
                           "you may write") from None


def workers(text: str) -> str:
    """``-n``: what pytest-xdist takes (a whole number of workers, 0 for none, or auto)."""
    if text in ("auto", "logical"):
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of workers; use a whole number such as 2, 0 for no "
            "xdist, or auto (one per CPU)") from None
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a number of workers cannot be negative; use 2, 0 for no xdist, or "
            "auto")
    return str(value)


def trials(text: str) -> int:
    """``--trials``: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: trials must be a whole number, 1 or more (3 or more for a verdict "
            "over trials)")
    return value


def count(text: str) -> int:
    """A count such as ``--budget``: a whole number, 1 or more."""
    value = int(text) if text.strip().isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: use a whole number, 1 or more")
    return value


def seconds(text: str) -> float:
    """A duration such as ``--time``: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r}: use a number of seconds above 0")
    return value


# ``--clock`` (``k2matrix run``, ``ab``, ``noise``, the detection tool): what a round's figure
# is, passed to the plugin as ``--k2-clock`` (k2matrix.plugin.clock)
CLOCKS = ("wall", "cpu", "instructions")
CLOCK_HELP = ("what a round's figure is: wall (the default), cpu (the process's CPU time: "
              "immune to time the hypervisor steals, blind to waits) or instructions "
              "(counted by valgrind's callgrind: repeatable to a fraction of a percent on a "
              "busy machine; cells whose work is on other threads or in another process are "
              "skipped)")


def check_clock(clock: str) -> None:
    """Before any work: ``instructions`` needs valgrind and the built helper (a K2Error
    naming the package or the install step)."""
    if clock == "instructions":
        from k2matrix.counting.launch import check_ready
        check_ready()


RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
RUN_ID_RULE = ("a run id is a name, not a path: letters, digits, '.', '_' and '-', starting "
               "with a letter or digit, at most 128 characters (e.g. 20261126-smoke)")


def run_id(text: str) -> str:
    """``--k2-run-id`` and ``--run-id``: the name of a run directory inside the results
    folder, never a path out of it (``../x``) nor markup (``<b>x``)."""
    if not RUN_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r}: {RUN_ID_RULE}")
    return text


def keyword(text: str) -> str:
    """``-k EXPR`` over cell ids, checked (its syntax is pytest's -k)."""
    keyword_matcher(text)
    return text


def keyword_matcher(text: str) -> Callable[[str], bool]:
    """Whether a cell id matches ``-k EXPR``: pytest's -k syntax (``and``, ``or``, ``not``,
    parentheses), where a name matches when its dash-separated words are whole, consecutive
    words of the id, case-insensitively: ``b100`` matches ``writer-append-v2-b100`` but not
    ``…-b10000``, and ``append-v2`` matches it too."""
    from _pytest.mark.expression import Expression  # pytest's own parser (pytest is pinned)

    try:
        expr = Expression.compile(text)
    except SyntaxError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a -k expression ({exc.msg}); write names joined by and, or, "
            "not and parentheses, e.g. 'writer and b100 and not v1'") from None

    def matches(cell_id: str) -> bool:
        words = cell_id.lower().split("-")

        def has(name: str, /, **_: str | int | bool | None) -> bool:
            wanted = name.lower().split("-")
            n = len(wanted)
            return any(words[i:i + n] == wanted for i in range(len(words) - n + 1))

        return expr.evaluate(has)

    return matches
