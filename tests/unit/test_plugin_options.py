"""The plugin reads pytest's options as pytest does: ``-m`` through pytest's own mark
expressions (``-m slowish`` is not ``-m slow``), and ``--benchmark-min-rounds`` wherever
pytest takes it from (the command line, ``addopts`` in the ini file, ``PYTEST_ADDOPTS``)."""

from __future__ import annotations

import pytest
from matrices import matrix_toml

from k2matrix.matrix import CaseDef
from k2matrix.plugin.options import slow_selection

pytest_plugins = ["pytester"]

WRITER_SLOW = CaseDef(component="writer", name="sustained", sweep=("schemas",), values={},
                      slow=True)
PRODUCER_SLOW = CaseDef(component="producer", name="sustained", sweep=("schemas",),
                        values={}, slow=True)
FAST = CaseDef(component="writer", name="append", sweep=("schemas",), values={})


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (None, None),                                # no -m: the profile decides
        ("", None),
        ("slow", True),                              # asks for the slow cells
        ("slow and k2", True),
        ("not slow", False),                         # would deselect every slow cell
        ("slowish", False),                          # another mark: not a request for slow
        ("not slowish", None),                       # selects slow and fast cells alike
        ("k2", None),
        ("slow or not slow", None),
        ("k2(component='writer') and slow", True),   # the writer's slow case is asked for
        ("k2(component='query') and slow", False),   # no slow case of the matrix matches
        ("slow and", None),                          # malformed: pytest itself refuses it
    ],
)
def test_slow_selection_follows_pytest_mark_expressions(expr: str | None,
                                                        expected: bool | None) -> None:
    assert slow_selection(expr, [FAST, WRITER_SLOW, PRODUCER_SLOW]) is expected


def test_one_slow_case_asked_for_is_enough_and_no_slow_case_means_no_opinion() -> None:
    expr = "k2(component='producer') and slow"
    assert slow_selection(expr, [WRITER_SLOW, PRODUCER_SLOW]) is True
    assert slow_selection(expr, [WRITER_SLOW]) is False
    # the writer's slow case is selected with and without slow, the producer's is not asked
    assert slow_selection("k2(component='writer')", [WRITER_SLOW, PRODUCER_SLOW]) is None
    assert slow_selection("slow", [FAST]) is None


MATRIX = matrix_toml(
    matrix={"name": "options", "seed": 3},
    cases={"writer.append": {"sweep": ["schemas"]},
           "writer.buffered": {"sweep": ["schemas"], "slow": True}},
    profiles={"smoke": {"description": "the slow case only with -m slow"}},
)

SUITE = """
import pytest


@pytest.mark.k2(component="writer", case="append")
def test_append(k2_cell):
    pass


@pytest.mark.k2(component="writer", case="buffered")
def test_buffered(k2_cell):
    pass
"""

CONFTEST = """
from k2matrix.plugin.state import get_state


def pytest_collection_finish(session):
    state = get_state(session.config)
    (session.config.rootpath / "include_slow.txt").write_text(str(state.cells.include_slow()))
"""


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # the unit tests may run under -n
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("expr", "include_slow", "collected"),
    [
        ("slow", True, {"test_buffered[writer-buffered-v1]", "test_buffered[writer-buffered-v2]"}),
        ("slowish", False, set()),
        ("not slow", False, {"test_append[writer-append-v1]", "test_append[writer-append-v2]"}),
        ("k2", None, {"test_append[writer-append-v1]", "test_append[writer-append-v2]"}),
    ],
)
def test_mark_expression_decides_the_slow_cells_of_a_sweep(
        pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, expr: str,
        include_slow: bool | None, collected: set[str]) -> None:
    pytester.makefile(".toml", matrix=MATRIX)
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--collect-only", "-q",
                                          "-m", expr)
    out = result.stdout.str()
    assert (pytester.path / "include_slow.txt").read_text() == str(include_slow)
    assert {line.split("::")[1] for line in out.splitlines()
            if line.startswith("test_suite.py::")} == collected


def _rounds_suite(pytester: pytest.Pytester, expected: int) -> None:
    pytester.makepyfile(test_rounds=f"""
def test_rounds(k2_rounds):
    assert k2_rounds(7) == {expected}
""")


@pytest.mark.parametrize(
    ("ini", "env", "args", "expected"),
    [
        (None, None, [], 7),                                      # not given: the default
        (None, None, ["--benchmark-min-rounds=3"], 3),
        (None, None, ["--benchmark-min-rounds", "5"], 5),         # given, though the default
        ("--benchmark-min-rounds=2", None, [], 2),                # addopts in the ini file
        (None, "--benchmark-min-rounds 4", [], 4),                # PYTEST_ADDOPTS
        ("--benchmark-min-rounds=2", None, ["--benchmark-min-rounds=3"], 3),
        ("-p no:cacheprovider", "-q", [], 7),                     # other options only
    ],
    ids=["default", "command-line", "command-line-at-default", "ini-addopts",
         "PYTEST_ADDOPTS", "command-line-beats-ini", "other-options"],
)
def test_k2_rounds_sees_the_option_wherever_pytest_takes_it(
        pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, ini: str | None,
        env: str | None, args: list[str], expected: int) -> None:
    if ini is not None:
        pytester.makeini(f"[pytest]\naddopts = {ini}\n")
    if env is not None:
        clean_env.setenv("PYTEST_ADDOPTS", env)
    _rounds_suite(pytester, expected)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=1)
