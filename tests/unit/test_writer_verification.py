"""Verification that fits real tables: the writer suite's read-back check (WriterBench, as
the suites drive it) with outside writers plugged in by import path (tests/unit/k2_bugs.py):
the K2 platform's decimal bug reads as a VerificationError naming the column and the value,
a silent truncation as the column and its first differing value, a table of another shape
passes through the writer's normalizer and fails, naming the column, without it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import CatalogConfig
from k2matrix.errors import VerificationError
from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table
from k2matrix.writer.checksum import table_checksum
from k2matrix.writer.suite import WriterBench

Bench = Callable[[str], WriterBench]


@pytest.fixture
def bench_of(tmp_path: Path) -> Bench:
    catalog = open_catalog(CatalogConfig(uri=f"sqlite:///{tmp_path}/catalog.db",
                                         warehouse=str(tmp_path / "wh")))

    def make(spec: str) -> WriterBench:
        return WriterBench(f"k2_bugs:{spec}", catalog, "k2", "v2")

    return make


def _digits_beyond_six(value: Decimal) -> bool:
    return value != value.quantize(Decimal("0.000001"))


def test_the_k2_decimal_bug_names_the_column_and_the_value(bench_of: Bench) -> None:
    bench = bench_of("RescalingWriter")
    writer = bench.make()
    bench.ensure_table(writer, "t")
    data = generate_table(WorkloadSpec("v2", 200, 1))
    with pytest.raises(VerificationError) as info:
        writer.write_arrow(data, "t")
    message = str(info.value)
    assert message.startswith("writer k2_bugs:RescalingWriter could not store the rows of "
                              "k2.t: column 'price' = Decimal(")
    row = int(message.split("(row ", 1)[1].split(")", 1)[0])
    value = data.column("price")[row].as_py()
    assert repr(value) in message and _digits_beyond_six(value)
    assert not any(_digits_beyond_six(v) for v in data.column("price")[:row].to_pylist())
    assert ("does not fit decimal128(18, 6) of the writer's storage schema (Rescaling Decimal "
            "value would cause data loss); its table stores price as decimal128(18, 8)"
            ) in message


def test_the_same_bug_through_write_trades(bench_of: Bench) -> None:
    bench = bench_of("RescalingWriter")
    writer = bench.make()
    bench.ensure_table(writer, "t")
    records = generate_records(WorkloadSpec("v2", 50, 2))
    with pytest.raises(VerificationError, match=r"column 'price' = Decimal\('[-0-9.]+'\) "
                                                r"\(row \d+\) does not fit decimal128\(18, 6\)"):
        writer.write_trades(records, "t")


def test_a_silent_truncation_names_the_first_differing_value(bench_of: Bench) -> None:
    bench = bench_of("TruncatingWriter")
    writer = bench.make()
    bench.ensure_table(writer, "t")
    data = generate_table(WorkloadSpec("v2", 300, 3))
    writer.write_arrow(data, "t")
    with pytest.raises(VerificationError) as info:
        bench.verify_all(["t"], table_checksum(data))
    message = str(info.value)
    assert "content differs: column 'price': read back Decimal(" in message
    read, written = (Decimal(part.split("'")[1]) for part in
                     message.split("column 'price': read back ", 1)[1].split(" where ", 1))
    assert written.quantize(Decimal("0.000001"), rounding="ROUND_DOWN") == read != written
    assert "values differ" in message


def test_a_table_of_its_own_shape_is_read_back_through_the_normalizer(bench_of: Bench) -> None:
    bench = bench_of("RenamingWriter")
    writer = bench.make()
    bench.ensure_table(writer, "t")
    data = generate_table(WorkloadSpec("v2", 100, 4))
    writer.write_arrow(data, "t")
    assert bench.verify_all(["t"], table_checksum(data)).startswith("1 tables")
    undeclared = bench_of("UndeclaredRenamingWriter")
    other = undeclared.make()
    undeclared.ensure_table(other, "u")
    other.write_arrow(data, "u")
    with pytest.raises(VerificationError, match=r"no column 'symbol' to compare with the rows "
                                                r"written .*declares normalize"):
        undeclared.verify_all(["u"], table_checksum(data))


def test_the_storage_schema_is_the_form_compared(bench_of: Bench) -> None:
    """Rows whose decimals fit (18, 6) are written by the rescaling writer and compared in
    its storage form; one that does not fit is named when the written rows are cast."""
    bench = bench_of("RescalingWriter")
    writer = bench.make()
    assert bench.storage_schema().field("price").type == pa.decimal128(18, 6)
    data = generate_table(WorkloadSpec("v2", 50, 5))
    six = pa.decimal128(18, 6)
    fits = data.set_column(data.schema.get_field_index("price"), "price",
                           data.column("price").cast(six, safe=False)
                           .cast(pa.decimal128(18, 8)))
    fits = fits.set_column(fits.schema.get_field_index("quantity"), "quantity",
                           fits.column("quantity").cast(six, safe=False)
                           .cast(pa.decimal128(18, 8)))
    bench.ensure_table(writer, "t")
    writer.write_arrow(fits, "t")
    bench.verify_all(["t"], table_checksum(fits))
    with pytest.raises(VerificationError, match=r"do not fit the writer's storage schema: "
                                                r"column 'price' = Decimal"):
        bench.verify_all(["t"], table_checksum(data))
