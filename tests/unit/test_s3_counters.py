"""The s3.* counters: what the embedded S3 server (moto, out of process) counted, per round.
An append to a table on S3 puts at least every file the writer counted and uploads at least
their bytes; a read gets its bytes back; a server that cannot be read gives no counters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import CatalogConfig
from k2matrix.backends.s3_session import S3Session, as_counters
from k2matrix.backends.storage import ObjectStore
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.workload.generate import WorkloadSpec, generate_table
from k2matrix.writer.iceberg import IcebergWriter, Maintenance

FILES = ("parquet.files", "iceberg.manifests", "iceberg.manifest_lists",
         "iceberg.metadata_files")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Session]:
    s3 = S3Session(StorageConfig(kind="s3"), log=tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield s3
    finally:
        s3.close()


def test_object_requests_and_bytes_per_round(session: S3Session) -> None:
    store = ObjectStore(session.storage())
    store.put("k2/warm", b"w")  # the client's first connection
    _, put = session.counted(lambda: [store.put(f"k2/{i}", b"y" * 500) for i in range(4)],
                             2, "commit")
    counts = as_counters(put, rounds=2)
    assert counts["s3.put"] == put["requests"]["PUT"] / 2 >= 2  # 4 objects (Arrow may add
    assert counts["s3.bytes_in"] == put["bytes_in"] / 2 >= 1000  # directory markers)
    assert counts["s3.requests"] == put["requests_total"] / 2 >= counts["s3.put"]
    assert counts["s3.delete"] == 0
    _, got = session.counted(lambda: store.get("k2/0"), 1, "query")
    counts = as_counters(got)
    assert counts["s3.get"] >= 1 and counts["s3.bytes_out"] >= 500 and counts["s3.put"] == 0
    assert set(counts) == {"s3.get", "s3.put", "s3.head", "s3.list", "s3.delete",
                           "s3.requests", "s3.bytes_in", "s3.bytes_out"}


def test_an_append_on_s3_puts_every_file_the_writer_counted(session: S3Session,
                                                            tmp_path: Path) -> None:
    catalog = open_catalog(CatalogConfig(warehouse=str(tmp_path / "wh")),
                           storage=session.storage(), warehouse_key=tmp_path.name)
    writer = IcebergWriter(catalog, maintenance=Maintenance.off(),
                           properties={"write.parquet.row-group-limit": "500"})
    writer.ensure_table("t")
    data = generate_table(WorkloadSpec("v2", 2_000, 3))
    writer.write_arrow(data, "t")  # warm: imports, first connections
    _, cost = session.counted(lambda: writer.write_arrow(data, "t"), 1, "commit")
    s3 = as_counters(cost)
    files = writer.commits[-1].counts
    assert files["parquet.row_groups"] == 4 and files["parquet.files"] == 1
    assert s3["s3.put"] >= sum(files[n] for n in FILES)
    assert s3["s3.bytes_in"] >= files["parquet.bytes"]


def test_a_server_that_cannot_be_read_gives_no_counters() -> None:
    assert as_counters({"source": "unavailable", "ops": 1, "op": "commit"}) == {}
    assert as_counters({"source": "server", "requests": {"GET": 4}, "requests_total": 4,
                        "bytes_in": 0, "bytes_out": 8, "glue_calls": 2}, rounds=2) == {
        "s3.get": 2.0, "s3.put": 0.0, "s3.head": 0.0, "s3.list": 0.0, "s3.delete": 0.0,
        "s3.requests": 2.0, "s3.bytes_in": 0.0, "s3.bytes_out": 4.0, "glue.calls": 1.0}
