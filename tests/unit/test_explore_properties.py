"""[properties.*] in the matrix: the shipped properties load; each bad property is a
MatrixError at its key path with the fix, every problem at once; the CLI answers exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from k2matrix import cli
from k2matrix.errors import MatrixError
from k2matrix.matrix import parse_matrix
from k2matrix.matrix.properties import Choices, Range

ROOT = Path(__file__).resolve().parents[2]
REAL = (ROOT / "matrix.toml").read_text(encoding="utf-8")

GOOD = """
[properties.p]
case = "writer.append"
metric = "throughput"
bound = "writer_throughput"
[properties.p.space]
batch_size = [100, 100000]
layouts = ["unpartitioned", "sorted"]
"""


def _with(prop: str) -> str:
    return REAL + "\n" + prop


def test_shipped_properties_load() -> None:
    matrix = parse_matrix(REAL)
    kinds = {p.kind for p in matrix.properties.values()}
    assert kinds == {"bound", "monotonic", "scaling", "ratio"}
    rate = matrix.properties["writer_append_rate"]
    assert rate.bound == 10000 and rate.direction == "higher" and rate.target == \
        "writer_throughput"
    assert rate.space["batch_size"] == Range(100, 100000, integer=True, log=True)
    assert rate.space["layout"] == Choices(("unpartitioned", "day_bucket", "sorted"))
    assert rate.settings_keys == ("null_ratio", "symbols", "skew")


BAD = [
    ("unknown case", 'case = "writer.append"', 'case = "writer.apend"', "properties.p.case",
     "did you mean 'writer.append'"),
    ("unknown metric", 'metric = "throughput"', 'metric = "latency"', "properties.p.metric",
     "allowed: throughput, median_ms, p99_ms, per_item_us, efficiency"),
    ("unknown axis", "batch_size = [100, 100000]", "batchsize = [100, 100000]",
     "properties.p.space.batchsize", "did you mean 'batch_size'"),
    ("axis the case does not sweep", "batch_size = [100, 100000]",
     "query_shapes = [\"filtered\"]", "properties.p.space.query_shapes", "sweeps schema"),
    ("unknown target", 'bound = "writer_throughput"', 'bound = "writer_thruput"',
     "properties.p.bound", "unknown target (did you mean 'writer_throughput'?)"),
    ("inverted range", "batch_size = [100, 100000]", "batch_size = [100000, 100]",
     "properties.p.space.batch_size", "empty or inverted range"),
    ("empty range", "batch_size = [100, 100000]", "batch_size = [100, 100]",
     "properties.p.space.batch_size", "low < high"),
    ("choice not an axis value", 'layouts = ["unpartitioned", "sorted"]',
     'layouts = ["unpartitioned", "zorder"]', "properties.p.space.layouts[1]",
     "unknown value"),
    ("range outside the data's limits", "batch_size = [100, 100000]",
     "null_ratio = [0.0, 1.5]", "properties.p.space.null_ratio", "within [0, 1]"),
    ("mixed kinds", 'bound = "writer_throughput"',
     'kind = "monotonic"\naxis = "batch_size"\nmax_exponent = 1.0',
     "properties.p.max_exponent", "mixes kinds"),
    ("numeric bound without direction", 'bound = "writer_throughput"', "bound = 5000",
     "properties.p.direction", 'say "higher" or "lower"'),
    ("metric unlike the target's", 'metric = "throughput"', 'metric = "median_ms"',
     "properties.p.metric", "target writer_throughput is on throughput"),
    ("unknown key", 'bound = "writer_throughput"',
     'bound = "writer_throughput"\ndirektion = "higher"', "properties.p.direktion",
     "did you mean 'direction'"),
    ("scaling without a range on its axis", 'bound = "writer_throughput"',
     'kind = "scaling"\naxis = "layouts"\nmax_exponent = 1.0', "properties.p.axis",
     "needs a numeric range for layout"),
    ("ratio variant not an axis value", 'bound = "writer_throughput"',
     'kind = "ratio"\naxis = "schemas"\nvariants = ["v1", "v3"]\nbound = 1.5',
     "properties.p.variants[1]", "unknown value"),
    ("ratio of a throughput", 'metric = "throughput"\nbound = "writer_throughput"',
     'metric = "throughput"\nkind = "ratio"\naxis = "schemas"\nvariants = ["v1", "v2"]\n'
     "bound = 1.5", "properties.p.metric", "a ratio is of costs"),
    ("no space", "[properties.p.space]\nbatch_size = [100, 100000]\n"
     'layouts = ["unpartitioned", "sorted"]', "", "properties.p.space", "missing"),
]


@pytest.mark.parametrize(("old", "new", "path", "says"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_property(old: str, new: str, path: str, says: str) -> None:
    assert old in GOOD
    with pytest.raises(MatrixError) as info:
        parse_matrix(_with(GOOD.replace(old, new)))
    found = [p for p in info.value.problems if p.path == path]
    assert found, f"no problem at {path}: {info.value}"
    assert any(says in str(p) for p in found), str(info.value)


def test_every_problem_at_once() -> None:
    text = GOOD.replace('case = "writer.append"', 'case = "writer.apend"').replace(
        "[100, 100000]", "[100000, 100]") + '\n[properties.q]\nmetric = "speed"\n'
    with pytest.raises(MatrixError) as info:
        parse_matrix(_with(text))
    paths = {p.path for p in info.value.problems}
    assert {"properties.p.case", "properties.p.space.batch_size", "properties.q.metric",
            "properties.q.case", "properties.q.space"} <= paths


def test_cli_bad_property_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text(_with(GOOD.replace("[100, 100000]", "[5, 5]")), encoding="utf-8")
    assert cli.main(["explore", "p", "--matrix", str(path)]) == 2
    err = capsys.readouterr().err
    assert "properties.p.space.batch_size" in err and "Traceback" not in err


def test_cli_unknown_property_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explore", "writer_append_rat", "--matrix", str(ROOT / "matrix.toml")]) \
        == 2
    err = capsys.readouterr().err
    assert "did you mean 'writer_append_rate'" in err and "Traceback" not in err


def test_cli_budget_and_time_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["explore", "writer_append_rate", "--budget", "5", "--time", "9"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
