"""A sweep leaves no Schema Registry subject behind: the producer suite deletes the subjects
its cells registered when it ends (``--k2-keep-subjects`` keeps them), counted in the
registry before and after.

No Schema Registry server is available here (none installs from PyPI or Debian, and nothing
downloads at run time), so the registry is the client's own in-memory one (``mock://``); the
deletion calls are the client's ``delete_subject``, the same on a real registry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema

from k2matrix.backends.config import SchemaRegistryConfig
from k2matrix.backends.registry import (
    delete_registered,
    open_registry,
    register_avro,
    registered,
)

ROOT = Path(__file__).resolve().parents[2]
CELLS = "producer and b100 and (single or batch)"


def test_only_the_subjects_registered_through_k2matrix_are_deleted() -> None:
    client = open_registry(SchemaRegistryConfig(url="mock://k2t-subjects-unit"))
    assert open_registry(SchemaRegistryConfig(url="mock://k2t-subjects-unit")) is client
    client.register_schema("someone-elses-value", Schema('{"type":"string"}', "AVRO"))
    before = set(client.get_subjects())
    for topic in ("k2.a", "k2.b", "k2.c"):
        register_avro(client, f"{topic}-value", "v2")
    register_avro(client, "k2.a-value", "v2")  # idempotent: still one subject
    assert set(client.get_subjects()) - before == {"k2.a-value", "k2.b-value", "k2.c-value"}
    assert registered(client) == {"k2.a-value", "k2.b-value", "k2.c-value"}
    assert delete_registered(client) == 3
    assert set(client.get_subjects()) == before
    assert registered(client) == set()
    assert delete_registered(client) == 0


def _sweep(tmp: Path, *extra: str) -> tuple[int, int, str]:
    url = f"mock://k2t-sweep-{tmp.name}"
    matrix = (ROOT / "matrix.toml").read_text().replace('url = "mock://k2matrix"',
                                                       f'url = "{url}"', 1)
    assert url in matrix
    (tmp / "matrix.toml").write_text(matrix)
    counts = tmp / "counts"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K2_", "PYTEST_"))}
    env.update({"K2T_REGISTRY_URL": url, "K2T_SUBJECT_COUNTS": str(counts),
                "PYTHONPATH": f"{Path(__file__).parent}:{ROOT / 'src'}"})
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "tests/performance/"
                                                      "test_producer_throughput.py"),
           "-p", "subject_count", "-q", "-k", CELLS, f"--k2-matrix={tmp / 'matrix.toml'}",
           "--k2-profile=smoke", f"--k2-results={tmp / 'results'}", "--k2-run-id=r",
           f"--k2-workdir={tmp / 'work'}", "--benchmark-min-rounds=1", *extra]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert " passed" in out, out[-2000:]
    before, after = map(int, counts.read_text().split())
    return before, after, out


@pytest.mark.parametrize("keep", [False, True], ids=["deleted", "kept"])
def test_a_sweep_leaves_no_subject_behind(keep: bool, tmp_path: Path) -> None:
    before, after, out = _sweep(tmp_path, *(["--k2-keep-subjects"] if keep else []))
    assert before == 0
    cells = int(out.split(" passed", 1)[0].split()[-1])
    if keep:
        assert after >= cells >= 2  # each cell registers the subject of its own topic
    else:
        assert after == before
