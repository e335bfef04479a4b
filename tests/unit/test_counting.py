"""The instruction clock (k2matrix.counting): counts that scale with the work, a helper that
does nothing outside valgrind and says so, uncountable cells skipped with their reason, the
bad-input exits, and the deterministic slowdown. Everything here runs real valgrind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_project import k2matrix, make_project, tiny_matrix

from k2matrix.counting import callgrind, launch
from k2matrix.errors import MatrixError
from k2matrix.matrix import load_matrix

SRC = Path(__file__).resolve().parents[2] / "src"
needs_valgrind = pytest.mark.skipif(
    shutil.which("valgrind") is None or callgrind.helper() is None,
    reason="valgrind and the built helper (scripts/bootstrap.sh) are needed")


def _counted(tmp_path: Path, script: str, env: dict[str, str] | None = None) -> list[int]:
    """Run ``script`` under callgrind as k2matrix starts it, the collector off as in a
    counted round (a collection of the imported libraries' heap is millions of
    instructions); it prints a JSON list."""
    out = tmp_path / "dumps"
    out.mkdir()
    (tmp_path / "script.py").write_text("import gc\ngc.disable()\n" + script)
    done = subprocess.run(launch.command([sys.executable, str(tmp_path / "script.py")], out),
                          env={**launch.environment(os.environ, out), **(env or {})},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not list(out.glob("cg.*.*")), "every region's dump is read and removed"
    values: list[int] = json.loads(done.stdout.strip().splitlines()[-1])
    return values


@needs_valgrind
def test_counts_double_when_the_work_doubles(tmp_path: Path) -> None:
    counts = _counted(tmp_path, """
import json
from k2matrix.counting.callgrind import InstructionClock
from k2matrix.tools.slowdown import work
clock = InstructionClock()
clock.start(); work(400_000); clock.stop()  # a warm-up region, its count dropped
out = []
for n in (200_000, 400_000, 200_000, 400_000):
    clock.start(); work(n); out.append(clock.stop())
print(json.dumps(out))
""")
    assert all(c > 200_000 for c in counts)
    for small, large in ((counts[0], counts[1]), (counts[2], counts[3])):
        assert large / small == pytest.approx(2.0, rel=0.01), counts
    assert counts[0] == pytest.approx(counts[2], rel=0.001)  # the same work, the same count


@needs_valgrind
def test_a_lap_reads_the_count_so_far_and_a_dropped_lap_is_left_out(tmp_path: Path) -> None:
    whole, first, dropped, rest, total = _counted(tmp_path, """
import json
from k2matrix.counting.callgrind import InstructionClock
from k2matrix.tools.slowdown import work
clock = InstructionClock()
clock.start(); work(400_000); clock.stop()
clock.start(); work(100_000); work(100_000); whole = clock.stop()
clock.start(); work(100_000); first = clock.lap(); work(50_000)
dropped = clock.lap(keep=False); work(100_000); rest = clock.lap(); total = clock.stop()
print(json.dumps([whole, first, dropped, rest, total]))
""")
    assert dropped == pytest.approx(first / 2, rel=0.02)
    assert total == pytest.approx(first + rest, rel=0.001)
    assert total == pytest.approx(whole, rel=0.01)  # the dropped lap is not in the region


@needs_valgrind
def test_the_slowdown_adds_counted_work_in_proportion(tmp_path: Path) -> None:
    plain, slowed_2, slowed_1 = _counted(tmp_path, """
import json, os
from k2matrix.counting import callgrind
from k2matrix.tools.slowdown import slowed, work
clock = callgrind.ACTIVE = callgrind.InstructionClock()
def region():
    clock.start(); slowed("writer", lambda: work(300_000)); return clock.stop()
region()
out = [region()]
os.environ["K2_SLOWDOWN"] = "writer=0.02"; region(); out.append(region())
os.environ["K2_SLOWDOWN"] = "writer=0.01,query=0.5"; out.append(region())
print(json.dumps(out))
""")
    assert slowed_2 / plain == pytest.approx(1.02, abs=0.002)
    assert slowed_1 / plain == pytest.approx(1.01, abs=0.002)


def test_outside_valgrind_the_helper_does_nothing_and_says_so() -> None:
    assert callgrind.running() is False
    module = callgrind.helper()
    if module is not None:  # the client requests are no-ops here
        module.start()
        module.stop()
        module.dump("nothing")
        assert module.running() == 0
    # a helper that is built says valgrind is missing; one that is not says how to build it
    refusal = "counted only under valgrind" if module is not None else "helper .* is not built"
    with pytest.raises(callgrind.CountingError, match=refusal):
        callgrind.InstructionClock()


def test_a_dump_without_totals_names_the_file(tmp_path: Path) -> None:
    dump = tmp_path / "cg.1.1"
    dump.write_text("events: Ir\nsummary: 5\n")
    with pytest.raises(callgrind.CountingError, match=r"cg\.1\.1: no totals line"):
        callgrind.read_totals(dump)
    dump.write_text("events: Ir\nfn=x\n1 5\ntotals: 1234\n")
    assert callgrind.read_totals(dump) == 1234


COUNTABLE_MATRIX = tiny_matrix(
    decimal_precision={"not_countable": "its rows are made on another thread"})


def _records(run: Path) -> dict[str, dict[str, object]]:
    lines = [json.loads(line) for f in sorted(run.glob("journal-*.jsonl"))
             for line in f.read_text().splitlines() if line.strip()]
    return {r["cell"]["id"]: r for r in lines if r.get("cell")}


@needs_valgrind
def test_run_counts_the_countable_cells_and_skips_the_rest_with_their_reason(
        tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "matrix.toml").write_text(COUNTABLE_MATRIX)
    done = k2matrix(root, "run", "--clock", "instructions", "-k", "v1", "--results",
                    "results", "--k2-run-id=counted", "-rs")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "not countable: its rows are made on another thread" in done.stdout
    records = _records(root / "results" / "counted")
    skipped = records["writer-decimal_precision-v1"]
    assert skipped["status"] == "skipped"
    assert skipped["error"] == "not countable: its rows are made on another thread"
    doc = json.loads((root / "results" / "counted" / "benchmarks.json").read_text())
    assert doc["k2"]["clock"] == "instructions"
    benches = {b["extra_info"]["k2"]["cell"]["id"]: b for b in doc["benchmarks"]}
    assert set(benches) == {"writer-arrow_conversion-v1-b200", "writer-arrow_conversion-v1-b400"}
    small, large = (benches[f"writer-arrow_conversion-v1-b{n}"] for n in (200, 400))
    for bench in (small, large):
        info = bench["extra_info"]
        assert info["k2"]["clock"] == "instructions"
        assert info["k2"]["pinned"]["PYTHONHASHSEED"] == "0"
        assert info["instructions"] == int(bench["stats"]["median"]) > 100_000
        assert "throughput" not in info  # items per instruction is not a figure
        assert len(bench["stats"]["data"]) == 15  # the suite asks 15 (not k2_rounds)
        spread = (max(bench["stats"]["data"]) - min(bench["stats"]["data"]))
        assert spread / bench["stats"]["median"] < 0.02
    ratio = large["extra_info"]["instructions"] / small["extra_info"]["instructions"]
    assert 1.5 < ratio < 2.5  # twice the rows, about twice the work


def test_clock_instructions_without_valgrind_names_the_package(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("git",):  # what a run may need besides valgrind
        found = shutil.which(tool)
        if found:
            (bindir / tool).symlink_to(found)
    done = k2matrix(root, "run", "--clock", "instructions",
                    env={"PATH": f"{Path(sys.executable).parent}:{bindir}"})
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "install the valgrind package (apt-get install valgrind)" in done.stderr
    for command in (("ab", "--baseline", "set:", "--candidate", "set:"), ("noise",)):
        done = k2matrix(root, *command, "--clock", "instructions",
                        env={"PATH": f"{Path(sys.executable).parent}:{bindir}"})
        assert done.returncode == 2 and "apt-get install valgrind" in done.stderr, done.stderr


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is needed")
def test_clock_instructions_without_the_helper_names_the_install_step(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    unbuilt = tmp_path / "unbuilt"
    shutil.copytree(SRC / "k2matrix", unbuilt / "k2matrix",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    done = subprocess.run([sys.executable, "-m", "k2matrix.cli", "run", "--clock",
                           "instructions"], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(unbuilt)}, timeout=120,
                          check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "is not built: run `bash scripts/bootstrap.sh`" in done.stderr


def test_not_countable_must_say_why(tmp_path: Path) -> None:
    path = tmp_path / "matrix.toml"
    for bad in ("", True):
        path.write_text(tiny_matrix(decimal_precision={"not_countable": bad}))
        with pytest.raises(MatrixError, match=r"decimal_precision\.not_countable.*non-empty "
                                              r"string saying why"):
            load_matrix(path)
    path.write_text(COUNTABLE_MATRIX)
    cells = {c.id: c for c in load_matrix(path).cells("smoke")}
    assert cells["writer-decimal_precision-v2"].uncounted == "its rows are made on another thread"
    assert cells["writer-arrow_conversion-v2-b200"].uncounted is None


def test_saved_name_resolves_for_benchmark_compare(tmp_path: Path) -> None:
    (tmp_path / "test_work.py").write_text(
        "def test_work(benchmark):\n"
        "    benchmark.pedantic(sum, args=(range(1000),), rounds=3)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    pytest_cmd = [sys.executable, "-m", "pytest", "test_work.py", "-q", "-p", "no:xdist"]
    saved = subprocess.run([*pytest_cmd, "--benchmark-save=baseline"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert saved.returncode == 0, saved.stdout[-2000:]
    compared = subprocess.run([*pytest_cmd, "--benchmark-compare=baseline",
                               "--benchmark-compare-fail=mean:100000%"], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=120,
                              check=False)
    assert compared.returncode == 0, compared.stdout[-2000:] + compared.stderr[-2000:]
    assert "0001_baseline.json" in compared.stderr  # "Comparing against benchmarks from"
