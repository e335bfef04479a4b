"""The implementations a matrix names: ``[components.producer|writer] impl`` and the engines
axis. Each bad value is a MatrixError naming its key path (every problem at once); good
values by import path or by entry point name load, and the loaded matrix carries them."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from k2matrix.errors import MatrixError
from k2matrix.matrix import parse_matrix

ROOT = Path(__file__).resolve().parents[2]
REAL = (ROOT / "matrix.toml").read_text(encoding="utf-8")
PRODUCER = 'impl = "k2matrix.producer.k2producer:K2Producer"'
WRITER = 'impl = "k2matrix.writer.iceberg:IcebergWriter"'
AXIS = 'engines = ["duckdb_iceberg_scan", "duckdb_parquet", "polars"]'
SMOKE = 'engines = ["duckdb_iceberg_scan", "duckdb_parquet"]\nlayouts'


@dataclass(frozen=True)
class Bad:
    """An edit of the real matrix.toml (``old`` -> ``new``), the key path its problem must
    name and a fragment of the message."""

    id: str
    old: str
    new: str
    path: str
    says: str

    def text(self) -> str:
        assert self.old in REAL, f"matrix.toml no longer contains {self.old!r}"
        return REAL.replace(self.old, self.new, 1)


BAD = [
    Bad("impl-not-a-string", PRODUCER, "impl = 42", "components.producer.impl",
        "= 42: must be a name of an installed producer or an import path"),
    Bad("impl-empty", WRITER, 'impl = ""', "components.writer.impl",
        "must be a name of an installed writer or an import path"),
    Bad("impl-unknown-module", PRODUCER, 'impl = "no_such_pkg.kafka:Producer"',
        "components.producer.impl",
        "no module named 'no_such_pkg.kafka': install the package that provides it, or put "
        "its folder on PYTHONPATH"),
    Bad("impl-missing-attribute", WRITER, 'impl = "k2matrix.writer.iceberg:IcebergWritr"',
        "components.writer.impl", "has no attribute 'IcebergWritr' (did you mean "
        "'IcebergWriter'?)"),
    Bad("impl-not-callable", WRITER, 'impl = "k2matrix.writer.iceberg:TRADE_SCHEMAS"',
        "components.writer.impl", "is a tuple, not a class or a function"),
    Bad("impl-lacks-methods", WRITER, 'impl = "collections:OrderedDict"',
        "components.writer.impl",
        "OrderedDict lacks write_trades, write_arrow, close of the TradeWriter Protocol"),
    Bad("impl-of-the-wrong-kind", PRODUCER, 'impl = "k2matrix.writer.iceberg:IcebergWriter"',
        "components.producer.impl",
        "IcebergWriter lacks produce_trade, produce_trades, flush, reset of the TradeProducer"),
    Bad("impl-unknown-name", WRITER, 'impl = "icebreg"', "components.writer.impl",
        "= 'icebreg': unknown value (did you mean 'iceberg'?); allowed: iceberg (installed, "
        "entry point group k2matrix.writer) or an import path 'package.module:Name'"),
    Bad("impl-no-colon", PRODUCER, 'impl = "k2matrix.producer.k2producer.K2Producer"',
        "components.producer.impl",
        "an import path needs a colon: k2matrix.producer.k2producer:K2Producer?"),
    Bad("impl-on-query", "[components.producer]\n",
        '[components.query]\nimpl = "polars"\n\n[components.producer]\n',
        "components.query.impl", "the query component has no impl: name its engines in the "
        "engines axis"),
    Bad("engine-axis-lacks-methods", AXIS,
        'engines = ["duckdb_iceberg_scan", "collections:OrderedDict", "polars"]',
        "axes.engines[1]", "OrderedDict lacks run, profile, close of the QueryEngine"),
    Bad("engine-axis-unknown-module", AXIS,
        'engines = ["duckdb_iceberg_scan", "duckdb_parquet", "my_engines:Fast"]',
        "axes.engines[2]", "no module named 'my_engines'"),
    Bad("engine-axis-not-a-string", AXIS, 'engines = ["duckdb_iceberg_scan", 3]',
        "axes.engines[1]", "= 3: must be a name of an installed engine or an import path"),
    Bad("engine-profile-unknown-name", SMOKE,
        'engines = ["duckdb_iceberg_scan", "duckdb_parquets"]\nlayouts',
        "profiles.smoke.engines[1]", "unknown value (did you mean 'duckdb_parquet'?); allowed: "
        "duckdb_iceberg_scan, duckdb_parquet, polars"),
    Bad("engine-case-values", '"query.scaling".selectivity = [0.01, 0.5]',
        '"query.scaling".selectivity = [0.01, 0.5]\n"query.caching".engines = ["x.y:Engine"]',
        'profiles.smoke.case_values."query.caching".engines[0]', "no module named 'x.y'"),
    Bad("engine-target-where", "where.query_shapes = [\"join\"]",
        "where.query_shapes = [\"join\"]\nwhere.engines = [\"collections:deque\"]",
        "targets.join.where.engines[0]", "deque lacks run, profile, close of the QueryEngine"),
]


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_bad_implementation_is_a_matrix_error_at_its_key(bad: Bad) -> None:
    with pytest.raises(MatrixError) as info:
        parse_matrix(bad.text(), "matrix.toml")
    problems = info.value.problems
    assert [p.path for p in problems] == [bad.path], str(info.value)
    assert bad.says in str(problems[0]), str(problems[0])


def test_every_bad_implementation_is_reported_at_once() -> None:
    text = REAL
    chosen = [b for b in BAD if b.id in ("impl-unknown-module", "impl-lacks-methods",
                                         "engine-axis-unknown-module")]
    for bad in chosen:
        text = text.replace(bad.old, bad.new, 1)
    with pytest.raises(MatrixError) as info:
        parse_matrix(text, "matrix.toml")
    assert sorted(p.path for p in info.value.problems) == sorted(b.path for b in chosen)


def test_the_shipped_matrix_names_the_builtins() -> None:
    matrix = parse_matrix(REAL, "matrix.toml")
    assert dict(matrix.impls) == {"producer": "k2matrix.producer.k2producer:K2Producer",
                                  "writer": "k2matrix.writer.iceberg:IcebergWriter"}


def test_builtins_by_name_and_engines_by_import_path() -> None:
    text = REAL.replace(PRODUCER, 'impl = "k2"').replace(WRITER, 'impl = "iceberg"').replace(
        AXIS, 'engines = ["duckdb_iceberg_scan", "k2matrix.query.polars_engine:PolarsEngine"]')
    text = text.replace(SMOKE, 'engines = ["k2matrix.query.polars_engine:PolarsEngine"]\n'
                               "layouts", 1)
    matrix = parse_matrix(text, "matrix.toml")
    assert dict(matrix.impls) == {"producer": "k2", "writer": "iceberg"}
    engines = {c.params["engine"] for c in matrix.cells("smoke") if "engine" in c.params}
    assert engines == {"k2matrix.query.polars_engine:PolarsEngine"}


def test_without_impl_keys_the_builtins_are_used() -> None:
    text = REAL.replace(f"[components.producer]\n{PRODUCER}\n", "").replace(
        f"[components.writer]\n{WRITER}\n", "")
    assert "impl =" not in text
    assert dict(parse_matrix(text, "matrix.toml").impls) == {"producer": "k2",
                                                            "writer": "iceberg"}


def test_cli_answers_a_bad_impl_with_exit_2_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text(REAL.replace(WRITER, 'impl = "my_lake.writers:Writer"'), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "k2matrix.cli", "cells", "--matrix", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "components.writer.impl = 'my_lake.writers:Writer': no module named 'my_lake." \
           "writers'" in run.stderr
    assert "Traceback" not in run.stderr
