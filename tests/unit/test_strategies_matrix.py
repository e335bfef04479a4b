"""The matrix strategies: batch sizes, query shapes, cells and workload specs drawn only from
what a profile of the matrix holds, and the generator deterministic for every drawn spec."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from schema_checks import PROPERTY, REAL_TEXT, ROOT, SEARCH, assert_fits_schema

from k2matrix.matrix import Matrix, load_matrix, parse_matrix
from k2matrix.schemas import arrow_schema
from k2matrix.workload import strategies as ks
from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return load_matrix(ROOT / "matrix.toml")


def test_batch_sizes_default_to_the_global_axis(matrix: Matrix) -> None:
    @PROPERTY
    @given(ks.batch_sizes(matrix))
    def check(size: int) -> None:
        assert size in matrix.axes["batch_sizes"]

    check()
    assert find(ks.batch_sizes(matrix), lambda s: s == 10000, settings=SEARCH) == 10000


def test_batch_sizes_of_a_profile_are_those_its_cells_use(matrix: Matrix) -> None:
    used = {c.params["batch_size"] for c in matrix.cells("smoke") if "batch_size" in c.params}
    assert used == {100, 1000, 10000}  # smoke: [100, 1000], and writer.append adds 10000

    @PROPERTY
    @given(ks.batch_sizes(matrix, "smoke"))
    def check(size: int) -> None:
        assert size in used

    check()
    for size in used:
        assert find(ks.batch_sizes(matrix, "smoke"), lambda s, v=size: s == v,  # type: ignore[misc]
                    settings=SEARCH) == size


def test_query_shapes_of_a_profile(matrix: Matrix) -> None:
    @PROPERTY
    @given(ks.query_shapes(matrix), ks.query_shapes(matrix, "full"))
    def check(any_shape: str, full_shape: str) -> None:
        assert any_shape in matrix.axes["query_shapes"]
        assert full_shape in matrix.axes["query_shapes"]

    check()


def test_query_shapes_fall_back_to_the_axis_when_no_cell_sweeps_them(matrix: Matrix) -> None:
    # The stress profile has no query_shapes cells: draw from the global axis.
    shape = find(ks.query_shapes(matrix, "stress"), lambda s: True, settings=SEARCH)
    assert shape in matrix.axes["query_shapes"]


@pytest.mark.parametrize("profile", ["smoke", "full", "stress"])
def test_cells_are_cells_of_the_profile(matrix: Matrix, profile: str) -> None:
    ids = {c.id for c in matrix.cells(profile)}

    @settings(max_examples=30, deadline=None)
    @given(ks.cells(matrix, profile))
    def check(cell: Any) -> None:
        assert cell.id in ids

    check()


def test_cells_of_one_component(matrix: Matrix) -> None:
    @settings(max_examples=30, deadline=None)
    @given(ks.cells(matrix, "smoke", component="writer"))
    def check(cell: Any) -> None:
        assert cell.component == "writer"

    check()


def test_workload_specs_follow_the_profile(matrix: Matrix) -> None:
    schemas = {c.params["schema"] for c in matrix.cells("smoke") if "schema" in c.params}
    sizes = {c.params["batch_size"] for c in matrix.cells("smoke") if "batch_size" in c.params}

    @PROPERTY
    @given(ks.workload_specs(matrix, "smoke", vary_shape=False))
    def check(spec: WorkloadSpec) -> None:
        assert spec.schema in schemas
        assert spec.rows in sizes
        assert 0 <= spec.seed < 2**32
        assert spec.symbols == matrix.data["symbols"]
        assert spec.null_ratio == matrix.data["null_ratio"]
        assert spec.start == matrix.data["start"]

    check()


def test_workload_specs_respect_max_rows(matrix: Matrix) -> None:
    @PROPERTY
    @given(ks.workload_specs(matrix, "full", max_rows=1000))
    def check(spec: WorkloadSpec) -> None:
        assert spec.rows <= 1000

    check()
    varied = ks.workload_specs(matrix, "smoke", max_rows=100)
    assert find(varied, lambda s: s.edge_case_fraction > 0 and s.symbols < 500,
                settings=SEARCH).rows == 100
    with_small = ks.workload_specs(matrix, "smoke", max_rows=50)  # smoke: 100, 1000
    assert find(with_small, lambda s: True, settings=SEARCH).rows == 50


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_generator_is_deterministic_and_valid_for_drawn_specs(matrix: Matrix,
                                                              data: st.DataObject) -> None:
    spec = data.draw(ks.workload_specs(matrix, "smoke", max_rows=1000))
    table = generate_table(spec)
    assert table.num_rows == spec.rows
    assert table.schema.equals(arrow_schema(spec.schema))
    assert table.equals(generate_table(spec)), "the same spec must give the same table"
    again = generate_records(WorkloadSpec(**vars(spec)))
    sample = again[:: max(1, len(again) // 20)]
    for record in sample:
        assert_fits_schema(record, spec.schema)


@settings(max_examples=5, deadline=None)
@given(st.data())
def test_generator_with_edge_rows_is_deterministic_inside_a_property(data: st.DataObject
                                                                     ) -> None:
    m = parse_matrix(REAL_TEXT.replace("edge_case_fraction = 0.0", "edge_case_fraction = 0.1", 1))
    spec = data.draw(ks.workload_specs(m, "smoke", max_rows=100, vary_shape=False))
    assert spec.edge_case_fraction == 0.1
    table = generate_table(spec)
    assert table.equals(generate_table(spec))
    for record in generate_records(spec):
        assert_fits_schema(record, spec.schema)


def test_different_seeds_give_different_tables() -> None:
    a = generate_table(WorkloadSpec(schema="v2", rows=200, seed=1))
    b = generate_table(WorkloadSpec(schema="v2", rows=200, seed=2))
    assert not a.equals(b)
    assert isinstance(a, pa.Table)


