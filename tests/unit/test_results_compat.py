"""The one compatibility rule (results.merge.check_compatible) and the three commands that
apply it: merge, summary --baseline and --k2-resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from synthetic import benchmark, cell_dict, document, journal_line, run_meta, write_run_dir

from k2matrix.errors import ResultsError
from k2matrix.results.merge import COMPATIBLE_KEYS, check_compatible, differences, merge_dirs
from k2matrix.results.meta import machine_kind
from k2matrix.results.store import check_resumable
from k2matrix.summary import build_summary

BASE: dict[str, Any] = {"format_version": 1, "matrix_fingerprint": "f" * 16,
                        "profile": "smoke", "machine_kind": {"system": "Linux",
                                                             "cpu_count": 2},
                        "clock": "wall"}

# (key, the other run's value, the key as the message names it, the values it shows)
EACH_KEY = [
    ("format_version", 2, "format_version", ("1", "2")),
    ("matrix_fingerprint", "0" * 16, "matrix_fingerprint", ("'" + "f" * 16, "'" + "0" * 16)),
    ("profile", "full", "profile", ("'smoke'", "'full'")),
    ("machine_kind", {"system": "Linux", "cpu_count": 64}, "machine_kind.cpu_count",
     ("(2)", "(64)")),
    ("machine_kind", {"system": "Darwin", "cpu_count": 2}, "machine_kind.system",
     ("'Linux'", "'Darwin'")),
    ("clock", "instructions", "clock", ("'wall'", "'instructions'")),
]


def test_the_rule_covers_format_matrix_profile_machine_and_clock() -> None:
    assert COMPATIBLE_KEYS == ("format_version", "matrix_fingerprint", "profile",
                               "machine_kind", "clock")


@pytest.mark.parametrize(("key", "value", "named", "shown"), EACH_KEY,
                         ids=[row[2] for row in EACH_KEY])
def test_each_key_is_compared_and_named_with_both_values_and_force(
        key: str, value: Any, named: str, shown: tuple[str, str]) -> None:
    other = {**BASE, key: value}
    with pytest.raises(ResultsError) as caught:
        check_compatible([("runs/a", BASE), ("runs/b", other)])
    message = str(caught.value)
    assert f"{named} differs between runs/a" in message
    assert shown[0] in message and shown[1] in message and "--force" in message
    assert check_compatible([("runs/a", BASE), ("runs/b", other)], force=True) == [message]


@pytest.mark.parametrize("key", COMPATIBLE_KEYS)
def test_a_key_absent_or_null_on_either_side_is_not_compared(key: str) -> None:
    other = {**BASE, key: "anything else"}
    for absent in ({k: v for k, v in BASE.items() if k != key}, {**BASE, key: None}):
        assert differences(absent, other) == []
        assert differences(other, absent) == []
        assert check_compatible([("a", absent), ("b", other)]) == []


def test_a_machine_key_only_one_side_has_is_not_compared() -> None:
    older = {**BASE, "machine_kind": {"system": "Linux"}}
    newer = {**BASE, "machine_kind": {"system": "Linux", "cpu_count": 8, "python": "3.12"}}
    assert differences(older, newer) == []
    assert differences(newer, {**newer, "machine_kind": {**newer["machine_kind"],
                                                         "python": "3.11"}}) == \
        [("machine_kind.python", "3.12", "3.11")]


def test_a_plain_pytest_benchmark_header_compares_with_anything() -> None:
    assert check_compatible([("plain.json", {}), ("run", BASE)]) == []


def test_every_run_is_compared_with_the_first() -> None:
    third = {**BASE, "profile": "full"}
    with pytest.raises(ResultsError, match=r"profile differs between a .* and c"):
        check_compatible([("a", BASE), ("b", dict(BASE)), ("c", third)])
    assert check_compatible([("a", BASE)]) == []


def _shard(path: Path, size: int, **meta: Any) -> Path:
    cell = cell_dict("producer", "batch", schema="v1", batch_size=size)
    return write_run_dir(path, [journal_line(cell)], run_meta([cell["id"]], **meta))


def test_merge_applies_the_rule_and_force_overrides_it(tmp_path: Path) -> None:
    a = _shard(tmp_path / "a", 100)
    b = _shard(tmp_path / "b", 1000, profile="full")
    with pytest.raises(ResultsError, match=r"cannot merge: profile differs .*--force"):
        merge_dirs([a, b], tmp_path / "ab")
    assert not (tmp_path / "ab").exists()
    doc = merge_dirs([a, b], tmp_path / "ab", force=True)
    assert doc["k2"]["cells_passed"] == 2


def _summary_file(path: Path, **k2: Any) -> Path:
    benches = [benchmark(cell_dict("producer", "batch", schema="v1", batch_size=n),
                         [0.01, 0.011, 0.012, 0.0105]) for n in (100, 1000)]
    doc = document(benches)
    doc["k2"].update(k2)
    path.write_text(json.dumps(doc))
    return path


def test_summary_baseline_applies_the_same_rule(tmp_path: Path) -> None:
    """The same keys as merge: a baseline of another profile is refused too (the summary
    used to compare only fingerprint and machine)."""
    run = _summary_file(tmp_path / "run.json", profile="smoke")
    base = _summary_file(tmp_path / "base.json", profile="full")
    with pytest.raises(ResultsError) as caught:
        build_summary(run, base)
    message = str(caught.value)
    assert "k2.profile differs between the baseline" in message
    assert "'full'" in message and "'smoke'" in message and "--force" in message
    forced = build_summary(run, base, force=True)
    assert f"--force: {message}" in forced.notes
    assert forced.comparison is not None and len(forced.comparison["comparisons"]) == 2


def test_resume_applies_the_rule_with_its_own_fix(tmp_path: Path) -> None:
    run_dir = _shard(tmp_path / "r", 100, fingerprint="a" * 16, profile="smoke")
    meta = json.loads((run_dir / "meta.json").read_text())
    meta["machine_kind"] = machine_kind()  # this machine
    (run_dir / "meta.json").write_text(json.dumps(meta))
    check_resumable(run_dir, "smoke", "a" * 16)
    with pytest.raises(ResultsError) as caught:
        check_resumable(run_dir, "other", "a" * 16)
    message = str(caught.value)
    assert "cannot resume: profile differs" in message
    assert f"between {run_dir} ('smoke') and this invocation ('other')" in message
    assert "--k2-profile" in message and "--force" not in message  # resume has no --force
    with pytest.raises(ResultsError, match="matrix_fingerprint differs"):
        check_resumable(run_dir, "smoke", "b" * 16)
    meta["machine_kind"]["cpu_count"] = (meta["machine_kind"]["cpu_count"] or 1) + 64
    (run_dir / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ResultsError, match=r"machine_kind\.cpu_count differs"):
        check_resumable(run_dir, "smoke", "a" * 16)


def test_every_differing_key_is_named_at_once() -> None:
    """A run started with another profile of an edited matrix differs in both: the message
    names both, so that neither fix hides the other."""
    other = {**BASE, "profile": "other", "matrix_fingerprint": "0" * 16}
    with pytest.raises(ResultsError) as caught:
        check_compatible([("a", BASE), ("b", other)], action="resume", fix="start anew")
    message = str(caught.value)
    assert message.startswith("cannot resume: matrix_fingerprint differs between a")
    assert "; profile differs between a ('smoke') and b ('other')" in message
    assert message.endswith("; start anew") and message.count("start anew") == 1
