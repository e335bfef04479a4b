"""Bad matrices: each raises MatrixError naming the key path, the bad value and what is
allowed; several problems are reported at once; the CLI answers each with exit code 2, the
problem on stderr and no traceback."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k2matrix import cli
from k2matrix.errors import MatrixError
from k2matrix.matrix import load_matrix, parse_matrix

ROOT = Path(__file__).resolve().parents[2]
REAL = (ROOT / "matrix.toml").read_text(encoding="utf-8")
SECRET = "hunter2-do-not-print"


@dataclass(frozen=True)
class Bad:
    """One kind of bad matrix: an edit of the real matrix.toml (``old`` -> ``new``) or a whole
    file (``whole``; neither: no file at all), the key path its error must name, and a
    fragment of the message."""

    id: str
    path: str
    says: str
    old: str = ""
    new: str = ""
    whole: str | None = None

    def apply(self, text: str = REAL) -> str:
        assert self.old in text, f"matrix.toml no longer contains {self.old!r}"
        return text.replace(self.old, self.new, 1)

    def text(self) -> str | None:
        return self.apply() if self.old else self.whole


def edit(id: str, old: str, new: str, path: str, says: str) -> Bad:
    return Bad(id, path, says, old=old, new=new)


def scratch(id: str, text: str | None, path: str, says: str) -> Bad:
    return Bad(id, path, says, whole=text)


BAD: list[Bad] = [
    scratch("toml-syntax", '[matrix]\nname = "k2"\nseed = = 1\n', "<toml>",
        "TOML syntax error: Invalid value (at line 3, column 8)"),
    edit("unknown-top-level-key", "[matrix]\nname", '[profils.quick]\ncases = []\n\n[matrix]\nname',
         "profils", "unknown key (did you mean 'profiles'?)"),
    edit("unknown-axis-in-sweep",
        'sweep = ["schemas", "batch_sizes", "layouts", "storages"]',
        'sweep = ["schemas", "batch_size", "layouts", "storages"]',
        "components.writer.cases.append.sweep[1]",
        "= 'batch_size': unknown axis (did you mean 'batch_sizes'?)"),
    edit("unknown-query-shape",
        '"time_range", "join", "window"', '"time_range", "joins", "window"',
        "axes.query_shapes[4]", "= 'joins': unknown value (did you mean 'join'?)"),
    edit("negative-batch-size",
        "batch_sizes = [100, 1000]\nengines", "batch_sizes = [100, -5]\nengines",
        "profiles.smoke.batch_sizes[1]",
        "profiles.smoke.batch_sizes[1] = -5: batch sizes must be positive integers"),
    edit("zero-batch-size",
        "batch_sizes = [1, 100, 1000, 10000]", "batch_sizes = [0, 100, 1000, 10000]",
        "axes.batch_sizes[0]", "axes.batch_sizes[0] = 0: batch sizes must be positive integers"),
    edit("float-batch-size",
        '"writer.throughput".batch_sizes = [100, 1000]',
        '"writer.throughput".batch_sizes = [100, 1000.5]',
        'profiles.smoke.case_values."writer.throughput".batch_sizes[1]',
        "= 1000.5: batch sizes must be positive integers"),
    edit("pipeline-zero-workers",
        '"pipeline.restart".workers = [1]', '"pipeline.restart".workers = [0]',
        'profiles.smoke.case_values."pipeline.restart".workers[0]',
        "= 0: workers must be positive integers (load processes)"),
    edit("pipeline-bad-commit-interval",
        "values.commit_interval_ms = [1000]\nvalues.commit_rows = [100000]\nslow = true",
        "values.commit_interval_ms = [-1]\nvalues.commit_rows = [100000]\nslow = true",
        "components.pipeline.cases.end_to_end.values.commit_interval_ms[0]",
        "= -1: commit intervals must be positive integers (milliseconds)"),
    edit("pipeline-has-no-impl",
        "[components.writer]\n", '[components.pipeline]\nimpl = "k2"\n\n[components.writer]\n',
        "components.pipeline.impl", "the pipeline component has no impl"),
    edit("empty-axis",
        'layouts = ["unpartitioned", "day_symbol", "day_bucket", "sorted"]', "layouts = []",
        "axes.layouts", "axes.layouts = []: must not be empty"),
    edit("target-lower-is-better-swapped",
        "target = 10\ncritical = 50", "target = 50\ncritical = 10",
        "targets.producer_p99_latency.target",
        "lower is better here, so the target must be at most the critical level (10)"),
    edit("target-higher-is-better-swapped",
        "target = 10000\ncritical = 5000\napplies_to = [\"producer.batch\"",
        "target = 5000\ncritical = 10000\napplies_to = [\"producer.batch\"",
        "targets.producer_throughput.target",
        "higher is better here, so the target must be at least the critical level (10000)"),
    edit("target-unknown-metric", 'metric = "p99_ms"', 'metric = "p95_ms"',
        "targets.producer_p99_latency.metric", "= 'p95_ms': unknown value"),
    edit("profile-unknown-axis",
        "[profiles.full]\n", '[profiles.full]\nlayout = ["sorted"]\n',
        "profiles.full.layout", "unknown key (did you mean 'layouts'?)"),
    edit("profile-unknown-key",
        "[profiles.full]\n", "[profiles.full]\ninclude_slwo = true\n",
        "profiles.full.include_slwo", "unknown key (did you mean 'include_slow'?)"),
    edit("profile-cases-match-nothing",
        'cases = ["producer.sustained"', 'cases = ["producer.sustaned"',
        "profiles.stress.cases[0]",
        "= 'producer.sustaned': matches no case (did you mean 'producer.sustained'?)"),
    edit("profile-case-values-unknown-case",
        '"writer.append".batch_sizes', '"writer.apend".batch_sizes',
        'profiles.smoke.case_values."writer.apend"',
        "unknown case (did you mean 'writer.append'?)"),
    edit("string-where-a-list-is",
        'dataset_sizes = [100000]\nstorages = ["local"]',
        'dataset_sizes = "100000"\nstorages = ["local"]',
        "profiles.smoke.dataset_sizes", "= '100000': must be a list of positive integers"),
    edit("bool-where-an-int-is", "brokers = 3 ", "brokers = true ",
        "backends.kafka.brokers", "= True: must be an integer from 1 to 16"),
    edit("bool-seed", "seed = 20261126", "seed = true", "matrix.seed",
        "= True: must be a non-negative integer"),
    edit("data-fraction-out-of-range", "null_ratio = 0.05", "null_ratio = 1.5",
        "data.null_ratio", "= 1.5: must be a fraction from 0 to 1"),
    edit("data-start-not-a-time",
        'start = "2026-01-05T14:30:00Z"', 'start = "yesterday"', "data.start",
        "= 'yesterday': must be an ISO 8601 UTC time"),
    edit("workload-zero", "paced_messages = 5000", "paced_messages = 0",
        "profiles.smoke.workload.paced_messages", "= 0: must be a positive integer"),
    edit("inline-password",
        'password_env = ""             # name of the env var holding the catalog',
        f'password = "{SECRET}"             # name of the env var holding the catalog',
        "backends.catalog.password",
        "secrets must not be written in the matrix: put the secret in an environment variable"),
    edit("password-in-url",
        'uri = "sqlite:///{warehouse}/catalog.db"',
        f'uri = "postgresql+psycopg2://postgres:{SECRET}@127.0.0.1:5432/test"',
        "backends.catalog.uri", "postgres:***@127.0.0.1:5432/test': a password is written into"),
    edit("bad-env-var-name",
        'password_env = ""             # (or basic_auth_env',
        f'password_env = "{SECRET}!"             # (or basic_auth_env',
        "backends.schema_registry.password_env",
        "must be the name of an environment variable (letters, digits, _)"),
    edit("unknown-kafka-mode", 'mode = "mock" ', 'mode = "embedded" ',
        "backends.kafka.mode", "= 'embedded': unknown value; allowed: mock, bootstrap"),
    edit("unknown-kafka-key", "brokers = 3 ", "broker = 3 ",
        "backends.kafka.broker", "unknown key (did you mean 'brokers'?)"),
    edit("bad-schema-registry-url",
        'url = "mock://k2matrix"', 'url = "localhost:8081"',
        "backends.schema_registry.url",
        "= 'localhost:8081': must start with mock:// (in-memory), http:// or https://"),
    edit("bad-catalog-uri", 'kind = "sql" ', 'kind = "rest" ', "backends.catalog.uri",
        "a rest catalog needs an http(s):// URI"),
    edit("unknown-layout",
        'layouts = ["unpartitioned", "sorted"]', 'layouts = ["unpartitioned", "by_day"]',
        "profiles.smoke.layouts[1]", "= 'by_day': unknown value; allowed: unpartitioned,"),
    edit("unknown-engine",
        'engines = ["duckdb_iceberg_scan", "duckdb_parquet"]\nlayouts',
        'engines = ["duckdb_iceberg_scan", "spark"]\nlayouts',
        "profiles.smoke.engines[1]", "= 'spark': unknown value; allowed: duckdb_iceberg_scan,"),
    edit("duplicate-axis-value",
        'schemas = ["v1", "v2"]\nbatch', 'schemas = ["v1", "v2", "v1"]\nbatch',
        "axes.schemas[2]", "= 'v1': duplicate value; list each value once"),
    edit("selectivity-out-of-range",
        "values.selectivity = [0.001,", "values.selectivity = [1.5,",
        "components.query.cases.scaling.values.selectivity[0]",
        "= 1.5: must be a fraction in (0, 1]"),
    edit("sweep-components",
        'sweep = ["schemas", "storages"]\nvalues.schemas',
        'sweep = ["components", "storages"]\nvalues.schemas',
        "components.writer.cases.buffered.sweep[0]",
        "a case belongs to one component; do not sweep components"),
    edit("missing-matrix-table",
        '[matrix]\nname = "k2"\nseed = 20261126', '[meta]\nname = "k2"',
        "matrix", "matrix: missing: this table is required"),
    edit("missing-axis", 'engines = ["duckdb_iceberg_scan", "duckdb_parquet", "polars"]\n', "",
         "axes.engines", "axes.engines: missing: every axis needs a list of values"),
    scratch("empty-axes-table",
            '[matrix]\nname = "k2"\n[axes]\n[components.writer.cases.a]\nsweep = ["schemas"]\n'
            "[profiles.smoke]\n", "axes.components", "missing: every axis needs a list of values"),
    scratch("missing-profiles", '[matrix]\nname = "k2"\n[axes]\ncomponents = ["writer"]\n',
            "profiles", "profiles: missing: this table is required"),
    scratch("missing-file", None, "<file>", "no such file; pass --matrix PATH"),
]

BY_ID = {b.id: b for b in BAD}


def write(bad: Bad, where: Path) -> Path:
    path = where / f"{bad.id}.toml"
    text = bad.text()
    if text is not None:
        path.write_text(text, encoding="utf-8")
    return path


def test_the_table_is_big_enough() -> None:
    assert len(BAD) >= 18
    assert len(BY_ID) == len(BAD), "ids must be unique"


def test_the_real_matrix_is_good() -> None:
    parse_matrix(REAL, "matrix.toml")


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_bad_matrix_raises_naming_the_key_path(bad: Bad, tmp_path: Path) -> None:
    path = write(bad, tmp_path)
    with pytest.raises(MatrixError) as info:
        load_matrix(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert any(p.path == bad.path for p in info.value.problems), (
        f"no problem at {bad.path}: {[p.path for p in info.value.problems]}")
    assert bad.says in message
    assert SECRET not in message, "a secret written in the matrix must not be echoed"


# ---------------------------------------------------------------------------- many at once

EDITS = [b for b in BAD if b.old]


def test_several_problems_are_reported_at_once() -> None:
    chosen = [BY_ID[i] for i in ("negative-batch-size", "unknown-query-shape", "inline-password",
                            "unknown-kafka-mode", "target-lower-is-better-swapped")]
    text = REAL
    for bad in chosen:
        text = bad.apply(text)
    with pytest.raises(MatrixError) as info:
        parse_matrix(text, "many.toml")
    paths = [p.path for p in info.value.problems]
    assert str(info.value).startswith(f"many.toml: {len(paths)} problems in the matrix:")
    for bad in chosen:
        assert bad.path in paths
        assert bad.says in str(info.value)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(EDITS), min_size=2, max_size=6, unique_by=lambda b: b.id))
def test_any_set_of_problems_is_reported_together(chosen: list[Bad]) -> None:
    text = REAL
    applied = []
    for bad in chosen:
        if bad.old in text:  # an earlier edit may have rewritten the same line
            text = bad.apply(text)
            applied.append(bad)
    with pytest.raises(MatrixError) as info:
        parse_matrix(text, "combined.toml")
    paths = {p.path for p in info.value.problems}
    missing = [b.id for b in applied if b.path not in paths]
    assert missing == [], f"not reported: {missing}; got {sorted(paths)}"


# ---------------------------------------------------------------------------- the CLI


CLI_AT_ONCE = 4  # processes at a time: 40 at once starved the timing tests beside them


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, str]]:
    """Run ``k2matrix cells --matrix BAD`` for every bad matrix, a few processes at a time."""
    where = tmp_path_factory.mktemp("bad-matrices")

    def run(bad: Bad) -> tuple[str, tuple[int, str, str]]:
        done = subprocess.run(
            [sys.executable, "-m", "k2matrix.cli", "cells", "--matrix", str(write(bad, where))],
            capture_output=True, text=True, cwd=where, timeout=120, check=False)
        return bad.id, (done.returncode, done.stdout, done.stderr)

    with ThreadPoolExecutor(CLI_AT_ONCE) as pool:
        return dict(pool.map(run, BAD))


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_cli_exits_2_with_the_problem_and_no_traceback(
    bad: Bad, cli_runs: dict[str, tuple[int, str, str]]
) -> None:
    code, out, err = cli_runs[bad.id]
    assert code == 2, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert bad.path in err
    assert bad.says in err
    assert SECRET not in err + out
    assert out == ""


@pytest.mark.parametrize("bad_id", ["toml-syntax", "negative-batch-size", "missing-file"])
def test_cli_main_returns_2_in_process(bad_id: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = BY_ID[bad_id]
    assert cli.main(["cells", "--matrix", str(write(bad, tmp_path))]) == 2
    captured = capsys.readouterr()
    assert bad.says in captured.err and captured.out == ""


def test_cli_unknown_profile_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["cells", "--matrix", str(ROOT / "matrix.toml"), "--profile", "smok"]) == 2
    assert "did you mean 'smoke'" in capsys.readouterr().err
