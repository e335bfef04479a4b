"""Query datasets: seeds, keys, build once and reuse, concurrent builders, crash recovery."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pyarrow.compute as pc
import pytest

from k2matrix.query.datasets import (
    DatasetKey,
    cluster,
    dataset_seed,
    ensure_dataset,
)
from k2matrix.workload.generate import generate_table

SETTINGS = {"symbols": 12, "skew": 1.1, "rows_per_second": 2000}


def _key(layout: str = "unpartitioned", size: int = 3000) -> DatasetKey:
    return DatasetKey.create(size, layout, dataset_seed(7, size), SETTINGS)


def test_seed_depends_on_size_not_layout() -> None:
    assert dataset_seed(7, 1000) == dataset_seed(7, 1000)
    assert dataset_seed(7, 1000) != dataset_seed(7, 2000)
    assert dataset_seed(7, 1000) != dataset_seed(8, 1000)
    a, b = _key("unpartitioned"), _key("day_symbol")
    assert a.spec("trades") == b.spec("trades")
    assert a.spec("quotes").seed != a.spec("trades").seed
    assert a.name != b.name


@pytest.mark.parametrize(("size", "layout", "message"), [
    (0, "unpartitioned", "size=0"),
    (10, "hashed", "layout='hashed'"),
])
def test_bad_keys(size: int, layout: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DatasetKey.create(size, layout, 1)


def test_data_shape_changes_the_name() -> None:
    assert _key().name != DatasetKey.create(3000, "unpartitioned", dataset_seed(7, 3000),
                                            {**SETTINGS, "symbols": 13}).name


def test_cluster_orders_rows_for_the_layout() -> None:
    table = generate_table(_key().spec("trades"))
    assert cluster(table, "v2", "unpartitioned") is table
    for layout in ("sorted", "day_symbol"):
        ordered = cluster(table, "v2", layout)
        assert ordered.num_rows == table.num_rows
        assert ordered.column("symbol").to_pylist() == sorted(table.column("symbol").to_pylist())


def test_build_once_then_reuse(tmp_path: Path) -> None:
    key = _key("day_symbol")
    first = ensure_dataset(tmp_path, key)
    assert first.built_now
    assert set(first.tables) == {"trades", "quotes"}
    assert first.tables["trades"].rows == 3000 and first.tables["quotes"].rows == 3000
    assert first.tables["trades"].data_files >= SETTINGS["symbols"] - 1  # one per partition
    again = ensure_dataset(tmp_path, key)
    assert not again.built_now
    assert again.metadata_locations() == first.metadata_locations()
    described = again.describe()
    assert described["rows"] == 3000 and described["layout"] == "day_symbol"


def test_rows_equal_the_generated_table(tmp_path: Path) -> None:
    from pyiceberg.table import StaticTable

    key = _key("sorted")
    ds = ensure_dataset(tmp_path, key)
    got = StaticTable.from_metadata(ds.tables["trades"].metadata_location).scan().to_arrow()
    want = generate_table(key.spec("trades"))
    assert got.num_rows == want.num_rows
    order = [("message_id", "ascending")]
    assert got.sort_by(order).column("price").equals(want.sort_by(order).column("price"))
    symbols = got.column("symbol")
    assert pc.all(pc.greater_equal(symbols[1:], symbols[:-1])).as_py()  # written sorted


def test_half_built_dataset_is_rebuilt(tmp_path: Path) -> None:
    key = _key()
    folder = tmp_path / "datasets" / key.name
    folder.mkdir(parents=True)
    (folder / "junk.parquet").write_bytes(b"partial")
    ds = ensure_dataset(tmp_path, key)
    assert ds.built_now and not (folder / "junk.parquet").exists()


def test_missing_metadata_file_means_rebuild(tmp_path: Path) -> None:
    key = _key()
    ds = ensure_dataset(tmp_path, key)
    Path(ds.tables["trades"].metadata_location.removeprefix("file://")).unlink()
    assert ensure_dataset(tmp_path, key).built_now


def test_marker_of_another_key_is_not_reused(tmp_path: Path) -> None:
    key = _key()
    ds = ensure_dataset(tmp_path, key)
    marker = ds.folder / "dataset.json"
    raw = json.loads(marker.read_text())
    raw["key"]["seed"] += 1
    marker.write_text(json.dumps(raw))
    assert ensure_dataset(tmp_path, key).built_now


def _build_in_child(workdir: str, queue: multiprocessing.Queue[tuple[bool, dict[str, str]]]
                    ) -> None:
    ds = ensure_dataset(workdir, _key("day_bucket", 5000))
    queue.put((ds.built_now, ds.metadata_locations()))


def test_concurrent_workers_build_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[tuple[bool, dict[str, str]]] = ctx.Queue()
    workers = [ctx.Process(target=_build_in_child, args=(str(tmp_path), queue))
               for _ in range(3)]
    for w in workers:
        w.start()
    results = [queue.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    assert sum(built for built, _ in results) == 1
    assert len({json.dumps(locs, sort_keys=True) for _, locs in results}) == 1

