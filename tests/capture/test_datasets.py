from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

from mltrail._entities import Dataset, DatasetInput, InputTag
from mltrail.capture import _dataset_profile, _datasets
from mltrail.capture._datasets import (
    SplitLineage,
    count_shared_rows,
    dataset_digest,
    describe_dataset,
    locate_rows,
    row_hashes,
    write_parquet,
)


@pytest.fixture
def mixed() -> pd.DataFrame:
    """Mixed dtypes: float with NaN, nullable Int64, str, category, datetime, bool."""
    return pd.DataFrame(
        {
            "income": [1.5, np.nan, 3.0, 4.5],
            "age": pd.array([30, None, 50, 41], dtype="Int64"),
            "city": ["paris", None, "oslo", "paris"],
            "segment": pd.Categorical(["a", "b", "a", "c"]),
            "joined": pd.to_datetime(
                pd.Series(["2020-01-01", "2021-06-01", None, "2019-03-04"])
            ),
            "active": [True, False, True, True],
            "objects": pd.Series([1, "x", None, 2.5], dtype=object),
        }
    )


def profile_of(X: object, y: object = None, **kwargs: Any) -> Any:
    description = describe_dataset(X, y, name="d", context="train", **kwargs)
    return json.loads(description.profile)


def columns_of(X: object) -> Any:
    columns = profile_of(X)["columns"]
    assert isinstance(columns, list)
    return {column["name"]: column for column in columns}


# --- digests ---------------------------------------------------------------------


def test_digest_is_32_hex_characters() -> None:
    digest = dataset_digest(np.arange(10))
    assert len(digest) == 32
    assert int(digest, 16) >= 0


@pytest.mark.parametrize(
    "make",
    [
        lambda X: X.copy(),
        lambda X: np.asfortranarray(X),
        lambda X: np.concatenate([X, X])[: len(X)],
        lambda X: np.ascontiguousarray(np.hstack([X, X])[:, : X.shape[1]]),
        lambda X: np.hstack([X, X])[:, : X.shape[1]],
    ],
    ids=["copy", "fortran", "slice-of-bigger", "contiguous-copy", "strided-view"],
)
def test_equal_arrays_have_equal_digests(make: Any) -> None:
    X = np.random.default_rng(0).normal(size=(200, 5))
    assert dataset_digest(make(X)) == dataset_digest(X)


def test_one_changed_value_changes_the_digest() -> None:
    X = np.random.default_rng(0).normal(size=(1000, 4))
    changed = X.copy()
    changed[777, 2] += 1e-12
    assert dataset_digest(changed) != dataset_digest(X)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (np.zeros((2, 3)), np.zeros((3, 2))),
        (np.zeros(4, dtype=np.float64), np.zeros(4, dtype=np.int64)),
        (np.zeros(4), pd.Series(np.zeros(4))),
    ],
    ids=["shape", "dtype", "type"],
)
def test_structure_is_part_of_the_digest(a: object, b: object) -> None:
    assert dataset_digest(a) != dataset_digest(b)


def test_target_is_part_of_the_digest() -> None:
    X = np.ones((4, 2))
    assert dataset_digest(X, [0, 1, 0, 1]) != dataset_digest(X, [0, 1, 1, 1])
    assert dataset_digest(X, [0, 1, 0, 1]) != dataset_digest(X)


def test_large_strided_array_is_hashed_in_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_datasets, "CHUNK_BYTES", 64)
    X = np.random.default_rng(1).normal(size=(100, 6))
    view = X[:, ::2]
    assert dataset_digest(view) == dataset_digest(view.copy())
    changed = X.copy()
    changed[99, 4] = 0.0
    assert dataset_digest(changed[:, ::2]) != dataset_digest(view)


def test_frame_digest_ignores_index_and_copies(mixed: pd.DataFrame) -> None:
    moved = mixed.copy().set_axis(range(100, 104))
    assert dataset_digest(moved) == dataset_digest(mixed)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("income", 9.0),
        ("age", 31),
        ("city", "rome"),
        ("segment", "b"),
        ("joined", pd.Timestamp("2022-01-01")),
        ("active", False),
        ("objects", "y"),
    ],
    ids=["float", "nullable-int", "str", "category", "datetime", "bool", "object"],
)
def test_one_changed_cell_changes_the_frame_digest(
    mixed: pd.DataFrame, column: str, value: Any
) -> None:
    changed = mixed.copy()
    changed.loc[3, column] = value
    assert dataset_digest(changed) != dataset_digest(mixed)


def test_column_names_are_part_of_the_frame_digest(mixed: pd.DataFrame) -> None:
    renamed = mixed.rename(columns={"income": "revenue"})
    assert dataset_digest(renamed) != dataset_digest(mixed)


def test_frame_slices_with_equal_content_have_equal_digests() -> None:
    frame = pd.DataFrame({"a": np.arange(10.0), "b": list("abcdefghij")})
    assert dataset_digest(frame.iloc[2:5]) == dataset_digest(frame.iloc[2:5].copy())
    assert dataset_digest(frame.iloc[2:5]) != dataset_digest(frame.iloc[3:6])


def test_series_and_target_series() -> None:
    y = pd.Series([0, 1, 1], name="label")
    assert dataset_digest(y) == dataset_digest(y.copy())
    assert dataset_digest(y) != dataset_digest(y.rename("other"))


def test_object_arrays_and_lists() -> None:
    words = ["spam", "eggs", None, 3]
    assert dataset_digest(words) == dataset_digest(np.array(words, dtype=object))
    assert dataset_digest(words) != dataset_digest(["spam", "eggs", None, 4])
    assert dataset_digest([[1, 2], [3, 4]]) == dataset_digest(
        np.array([[1, 2], [3, 4]])
    )


def test_large_object_array_is_hashed_in_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_datasets, "CHUNK_BYTES", 16)
    texts = np.array([f"doc {i}" for i in range(50)], dtype=object).reshape(10, 5)
    assert dataset_digest(texts) == dataset_digest(texts.copy())
    assert dataset_digest(texts) != dataset_digest(texts[::-1])


def test_scalar_array() -> None:
    assert dataset_digest(np.float64(3.0)) != dataset_digest(np.float64(4.0))


@pytest.mark.parametrize(
    "convert",
    [
        lambda m: m.tocsc(),
        lambda m: m.tocoo(),
        lambda m: sp.csr_array(m),
        lambda m: m.copy(),
    ],
    ids=["csc", "coo", "csr-array", "copy"],
)
def test_sparse_digest_is_independent_of_format(convert: Any) -> None:
    matrix = sp.random(50, 20, density=0.2, format="csr", random_state=0)
    assert dataset_digest(convert(matrix)) == dataset_digest(matrix)


def test_sparse_digest_sums_duplicates_without_touching_the_input() -> None:
    duplicated = sp.csr_matrix(
        (np.array([1.0, 2.0, 5.0]), np.array([0, 0, 1]), np.array([0, 2, 3])),
        shape=(2, 2),
    )
    assert not duplicated.has_canonical_format
    canonical = sp.csr_matrix(np.array([[3.0, 0.0], [0.0, 5.0]]))
    assert dataset_digest(duplicated) == dataset_digest(canonical)
    assert duplicated.nnz == 3


def test_sparse_digest_changes_with_a_value() -> None:
    matrix = sp.random(50, 20, density=0.2, format="csr", random_state=0)
    changed = matrix.copy()
    changed.data[5] += 1.0
    assert dataset_digest(changed) != dataset_digest(matrix)


# --- schema and profile ------------------------------------------------------------


def test_numpy_schema_is_an_mlflow_tensorspec() -> None:
    description = describe_dataset(
        np.zeros((5, 3), dtype=np.float32),
        np.zeros(5, dtype=np.int64),
        name="train",
        context="train",
    )
    schema = json.loads(description.schema)["mlflow_tensorspec"]
    assert json.loads(schema["features"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}
    ]
    assert json.loads(schema["targets"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}
    ]


def test_numpy_without_target_has_null_targets() -> None:
    description = describe_dataset(np.zeros((5, 3)), name="train", context="train")
    assert json.loads(description.schema)["mlflow_tensorspec"]["targets"] is None


def test_numpy_profile_has_mlflow_counts() -> None:
    profile = profile_of(np.zeros((5, 3)), np.zeros(5))
    assert {
        k: profile[k] for k in ("features_shape", "features_size", "features_nbytes")
    } == {
        "features_shape": [5, 3],
        "features_size": 15,
        "features_nbytes": 120,
    }
    assert (
        profile["targets_shape"],
        profile["targets_size"],
        profile["targets_nbytes"],
    ) == (
        [5],
        5,
        40,
    )


def test_pandas_schema_is_an_mlflow_colspec(mixed: pd.DataFrame) -> None:
    description = describe_dataset(mixed, name="train", context="train")
    assert json.loads(description.schema) == {
        "mlflow_colspec": [
            {"type": "double", "name": "income", "required": False},
            {"type": "long", "name": "age", "required": False},
            {"type": "string", "name": "city", "required": False},
            {"type": "string", "name": "segment", "required": True},
            {"type": "datetime", "name": "joined", "required": False},
            {"type": "boolean", "name": "active", "required": True},
            {"type": "string", "name": "objects", "required": False},
        ]
    }


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        ("int8", "integer"),
        ("int32", "integer"),
        ("Int32", "integer"),
        ("int64", "long"),
        ("uint32", "long"),
        ("float32", "float"),
        ("Float64", "double"),
        ("boolean", "boolean"),
    ],
    ids=lambda value: str(value),
)
def test_colspec_types(dtype: str, expected: str) -> None:
    frame = pd.DataFrame({"c": pd.Series([1, 0], dtype=dtype)})
    description = describe_dataset(frame, name="d", context="train")
    assert json.loads(description.schema)["mlflow_colspec"][0]["type"] == expected


def test_bytes_column_is_binary() -> None:
    frame = pd.DataFrame(
        {"blob": [None, b"\x00", b"\x01"], "empty": [None, None, None]}
    )
    colspecs = json.loads(describe_dataset(frame, name="d", context="t").schema)
    assert [c["type"] for c in colspecs["mlflow_colspec"]] == ["binary", "string"]


def test_pandas_profile_has_mlflow_counts(mixed: pd.DataFrame) -> None:
    profile = profile_of(mixed)
    assert (profile["num_rows"], profile["num_elements"], profile["shape"]) == (
        4,
        28,
        [4, 7],
    )


def test_pandas_column_profiles(mixed: pd.DataFrame) -> None:
    columns = columns_of(mixed)
    assert columns["income"] == {
        "name": "income",
        "dtype": "float64",
        "nullable": True,
        "null_count": 1,
        "min": 1.5,
        "max": 4.5,
    }
    assert (
        columns["age"]["min"],
        columns["age"]["max"],
        columns["age"]["null_count"],
    ) == (
        30,
        50,
        1,
    )
    assert (columns["city"]["levels"], columns["city"]["n_levels"]) == (
        ["oslo", "paris"],
        2,
    )
    assert columns["segment"]["levels"] == ["a", "b", "c"]
    assert (columns["joined"]["min"], columns["joined"]["max"]) == (
        "2019-03-04T00:00:00",
        "2021-06-01T00:00:00",
    )
    assert (columns["active"]["nullable"], columns["active"]["levels"]) == (
        False,
        [False, True],
    )
    assert columns["objects"]["levels"] == [1, 2.5, "x"]


def test_many_levels_are_only_counted() -> None:
    frame = pd.DataFrame({"id": [f"user{i}" for i in range(200)]})
    assert columns_of(frame)["id"] == {
        "name": "id",
        "dtype": "str",
        "nullable": True,
        "null_count": 0,
        "n_levels": 200,
    }


def test_categorical_levels_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dataset_profile, "MAX_LEVELS", 3)
    frame = pd.DataFrame({"c": pd.Categorical(list("abcdef"))})
    column = columns_of(frame)["c"]
    assert (column["n_levels"], column["levels"]) == (6, ["a", "b", "c"])


def test_all_missing_numeric_column_has_no_range() -> None:
    column = columns_of(pd.DataFrame({"x": [np.nan, np.nan]}))["x"]
    assert "min" not in column
    assert column["null_count"] == 2


def test_numpy_null_counts_span_row_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dataset_profile, "NAN_COUNT_BLOCK_ROWS", 7)
    X = np.arange(60.0).reshape(20, 3)
    X[[0, 6, 7, 19], 0] = np.nan
    X[13, 2] = np.nan
    counts = [column["null_count"] for column in columns_of(X).values()]
    assert counts == [4, 0, 1]


def test_numpy_column_profiles() -> None:
    X = np.array([[1.0, np.nan], [3.0, np.nan], [-2.0, np.nan]])
    columns = columns_of(X)
    assert columns["0"] == {
        "name": "0",
        "dtype": "float64",
        "nullable": True,
        "null_count": 0,
        "min": -2.0,
        "max": 3.0,
    }
    assert (columns["1"]["null_count"], columns["1"]["min"]) == (3, None)


def test_integer_bool_and_empty_array_profiles() -> None:
    assert columns_of(np.array([[1, 7], [4, -3]]))["1"]["min"] == -3
    assert "min" not in columns_of(np.array([[True], [False]]))["0"]
    assert "min" not in columns_of(np.zeros((0, 2)))["0"]


def test_one_dimensional_and_string_arrays() -> None:
    assert columns_of(np.array([3.0, 1.0]))["0"]["max"] == 3.0
    assert columns_of(np.array(["b", "a", "b"]))["0"]["levels"] == ["a", "b"]


def test_high_dimensional_array_has_no_column_profile() -> None:
    assert profile_of(np.zeros((2, 2, 2)))["columns"] == []


def test_wide_array_profiles_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dataset_profile, "MAX_PROFILED_COLUMNS", 4)
    assert len(profile_of(np.zeros((2, 10)))["columns"]) == 4
    assert len(profile_of(pd.DataFrame(np.zeros((2, 10))))["columns"]) == 4


def test_series_features() -> None:
    description = describe_dataset(
        pd.Series([1.0, 2.0], name="x"), name="d", context="train"
    )
    assert json.loads(description.schema)["mlflow_colspec"][0]["name"] == "x"


def test_sparse_profile_and_schema() -> None:
    matrix = sp.csr_matrix(np.array([[0.0, 2.0, np.nan], [-1.0, 0.0, 0.0]]))
    description = describe_dataset(matrix, name="d", context="train")
    features = json.loads(
        json.loads(description.schema)["mlflow_tensorspec"]["features"]
    )
    assert features[0]["tensor-spec"] == {"dtype": "float64", "shape": [-1, 3]}
    profile = json.loads(description.profile)
    assert (
        profile["features_nbytes"]
        == matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
    )
    columns = {c["name"]: c for c in profile["columns"]}
    assert (columns["0"]["min"], columns["0"]["max"]) == (-1.0, 0.0)
    assert columns["2"]["null_count"] == 1


def test_integer_sparse_and_empty_sparse_profiles() -> None:
    columns = {
        c["name"]: c for c in profile_of(sp.csr_matrix(np.array([[0, 5]])))["columns"]
    }
    assert (columns["1"]["max"], columns["1"]["nullable"]) == (5, False)
    assert "min" not in profile_of(sp.csr_matrix((0, 2)))["columns"][0]


def test_classification_target_balance() -> None:
    X, y = load_iris(return_X_y=True)
    target = profile_of(X[:120], y[:120])["target"]
    assert target == {
        "type": "multiclass",
        "shape": [120],
        "n_classes": 3,
        "class_counts": {"0": 50, "1": 50, "2": 20},
    }


def test_string_classes_and_capped_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    y = pd.Series(["yes", "no", "yes"])
    assert profile_of(np.zeros((3, 1)), y)["target"]["class_counts"] == {
        "no": 1,
        "yes": 2,
    }
    monkeypatch.setattr(_dataset_profile, "MAX_CLASSES", 1)
    target = profile_of(np.zeros((3, 1)), y)["target"]
    assert (target["n_classes"], target["class_counts"]) == (2, {"no": 1})


def test_regression_target_range() -> None:
    y = np.array([1.5, np.nan, 4.5, 3.0])
    assert profile_of(np.zeros((4, 1)), y)["target"] == {
        "type": "continuous",
        "shape": [4],
        "min": 1.5,
        "max": 4.5,
        "mean": 3.0,
    }


def test_explicit_task_overrides_the_guess() -> None:
    y = np.array([1, 2, 3, 2])
    assert "class_counts" in profile_of(np.zeros((4, 1)), y)["target"]
    target = profile_of(np.zeros((4, 1)), y, is_classification=False)["target"]
    assert (target["min"], target["max"], target["mean"]) == (1.0, 3.0, 2.0)
    continuous = profile_of(
        np.zeros((2, 1)), np.array([0.5, 1.5]), is_classification=True
    )
    assert continuous["target"]["class_counts"] == {"0.5": 1, "1.5": 1}


@pytest.mark.parametrize(
    ("y", "expected_type"),
    [
        (np.array([[0, 1], [1, 1]]), "multilabel-indicator"),
        (np.array([np.nan, np.nan]), "continuous"),
        (np.array([[1.5, 2.0], [1.0, 3.0]]), "continuous-multioutput"),
    ],
    ids=["multilabel", "all-missing", "multioutput"],
)
def test_targets_without_balance_or_range(y: object, expected_type: str) -> None:
    target = profile_of(np.zeros((2, 1)), y)["target"]
    assert target["type"] == expected_type
    assert "class_counts" not in target
    assert "min" not in target


def test_unknown_target_type() -> None:
    y = np.array([{"a": 1}, {"b": 2}], dtype=object)
    assert profile_of(np.zeros((2, 1)), y)["target"]["type"] == "unknown"


def test_sparse_target() -> None:
    target = profile_of(np.zeros((2, 1)), sp.csr_matrix(np.eye(2)))["target"]
    assert target == {"type": "sparse", "shape": [2, 2]}


def test_profile_is_strict_json_and_source_has_tags() -> None:
    X = np.array([[np.inf, 1.0], [np.nan, 2.0]])
    description = describe_dataset(
        X, name="train", context="train", source_tags={"mlflow.source.name": "fit.py"}
    )
    json.loads(description.profile, parse_constant=lambda c: pytest.fail(c))
    assert json.loads(description.source) == {"tags": {"mlflow.source.name": "fit.py"}}


def test_to_dataset_input() -> None:
    description = describe_dataset(
        np.ones((3, 2)), [0, 1, 0], name="test", context="test"
    )
    assert description.to_dataset_input() == DatasetInput(
        Dataset(
            "test",
            description.digest,
            "code",
            description.source,
            description.schema,
            description.profile,
        ),
        [InputTag("mlflow.data.context", "test")],
    )
    assert description.n_samples == 3


# --- lineage -----------------------------------------------------------------------


def test_lineage_in_profile() -> None:
    X, y = load_iris(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(
        X, y, test_size=0.2, random_state=3, stratify=y
    )
    lineage = SplitLineage.from_split_arguments(
        dataset_digest(X, y), test_size=0.2, random_state=3, stratify=y
    )
    split = profile_of(X_train, y_train, lineage=lineage)["split"]
    assert split == {
        "parent_digest": dataset_digest(X, y),
        "test_size": 0.2,
        "train_size": None,
        "random_state": 3,
        "shuffle": True,
        "stratify": "ndarray of length 150",
    }


def test_lineage_describes_unreproducible_seeds_and_odd_labels() -> None:
    lineage = SplitLineage.from_split_arguments(
        "ab", random_state=np.random.RandomState(0), shuffle=False, stratify=iter([1])
    )
    assert (lineage.random_state, lineage.shuffle, lineage.stratify) == (
        "RandomState",
        False,
        "list_iterator",
    )


# --- rows ----------------------------------------------------------------------------


def test_row_hashes_of_numpy_and_pandas_agree() -> None:
    X = np.random.default_rng(0).normal(size=(20, 3))
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    hashes = row_hashes(X)
    assert hashes.dtype == np.uint64
    assert np.array_equal(hashes, row_hashes(frame))
    assert len(set(hashes.tolist())) == 20


@pytest.mark.parametrize(
    "layout",
    [np.asfortranarray, lambda X: X[::2].repeat(2, axis=0), lambda X: X[:, ::-1].T.T],
    ids=["fortran", "strided-copy", "reversed-view"],
)
def test_row_hashes_do_not_depend_on_memory_layout(layout: Any) -> None:
    X = np.random.default_rng(1).normal(size=(40_000, 6))
    X[::2] = X[1::2]  # every row twice
    arranged = layout(X)
    assert np.array_equal(
        row_hashes(arranged), row_hashes(np.ascontiguousarray(arranged))
    )


def test_row_hashes_cover_every_block_of_rows() -> None:
    X = np.zeros((100_000, 3), dtype=np.int32)
    X[:, 0] = np.arange(100_000)
    hashes = row_hashes(X)
    assert len(np.unique(hashes)) == 100_000
    assert np.array_equal(hashes, row_hashes(pd.DataFrame(X)))


def test_row_hashes_treat_equal_floats_as_equal() -> None:
    other_nan = np.array([0x7FF8000000000001], dtype=np.uint64).view(np.float64)[0]
    X = np.array([[0.0, np.nan], [-0.0, other_nan], [0.0, 1.0]], dtype=np.float64)
    hashes = row_hashes(X)
    assert hashes[0] == hashes[1] != hashes[2]
    single = row_hashes(X.astype(np.float32))
    assert single[0] == single[1] != single[2]


def test_row_hashes_depend_on_column_order_and_dtype() -> None:
    X = np.array([[1, 2], [2, 1]], dtype=np.int64)
    hashes = row_hashes(X)
    assert hashes[0] != hashes[1]
    assert not np.array_equal(hashes, row_hashes(X.astype(np.float64)))


def test_row_hashes_of_frames_mixing_numbers_and_objects_find_equal_rows() -> None:
    frame = pd.DataFrame(
        {
            "n": [1.0, 2.0, 1.0, 1.0],
            "s": ["a", "b", "a", "b"],
            "t": pd.to_datetime(
                pd.Series(["2020-01-01", None, "2020-01-01", "2020-01-01"])
            ),
        }
    )
    hashes = row_hashes(frame)
    assert hashes[0] == hashes[2]
    assert len(set(hashes.tolist())) == 3


def test_row_hashes_of_mixed_frame_find_equal_rows(mixed: pd.DataFrame) -> None:
    doubled = pd.concat([mixed, mixed.iloc[[2]]])
    hashes = row_hashes(doubled)
    assert hashes[4] == hashes[2]
    assert len(set(hashes[:4].tolist())) == 4


def test_row_hashes_of_one_dimensional_and_higher_arrays() -> None:
    assert len(row_hashes(["a", "b", "a"])) == 3
    assert (
        row_hashes(np.array(["a", "b", "a"]))[0]
        == row_hashes(np.array(["a", "b", "a"]))[2]
    )
    cube = np.arange(16.0).reshape(4, 2, 2)
    assert np.array_equal(row_hashes(cube), row_hashes(cube.reshape(4, 4)))


def test_sparse_row_hashes_ignore_explicit_zeros() -> None:
    dense = np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 1.0]])
    explicit = sp.csr_matrix(
        (
            np.array([0.0, 1.0, 2.0, 1.0]),
            np.array([0, 1, 0, 1]),
            np.array([0, 2, 3, 4]),
        ),
        shape=(3, 2),
    )
    hashes = row_hashes(sp.csr_matrix(dense))
    assert np.array_equal(row_hashes(explicit), hashes)
    assert hashes[0] == hashes[2] != hashes[1]
    assert (
        row_hashes(sp.csr_matrix(np.array([[1.0, 0.0]])))[0]
        != row_hashes(sp.csr_matrix(np.array([[0.0, 1.0]])))[0]
    )


def test_split_rows_are_located_in_the_parent() -> None:
    X, _ = load_iris(return_X_y=True)
    frame = pd.DataFrame(X).drop_duplicates().reset_index(drop=True)
    _, test = train_test_split(frame, random_state=0)
    positions = locate_rows(row_hashes(test), row_hashes(frame))
    assert positions is not None
    assert positions.tolist() == test.index.tolist()


def test_foreign_rows_are_not_located() -> None:
    X = np.arange(20.0).reshape(10, 2)
    part = np.vstack([X[:3], [[99.0, 99.0]]])
    assert locate_rows(row_hashes(part), row_hashes(X)) is None
    assert locate_rows(row_hashes(X[:2]), row_hashes(X[:0])) is None
    empty = locate_rows(row_hashes(X[:0]), row_hashes(X))
    assert empty is not None
    assert empty.tolist() == []


def test_count_shared_rows() -> None:
    X, _ = load_iris(return_X_y=True)
    train, test = train_test_split(X, random_state=0)
    leaked = np.vstack([test, train[:7]])
    assert count_shared_rows(train, leaked) == count_shared_rows(train, test) + 7


def test_count_shared_rows_counts_each_test_row_once() -> None:
    train = np.array([[1.0], [1.0], [2.0]])
    test = np.array([[1.0], [1.0], [3.0], [2.0]])
    assert count_shared_rows(train, test) == 3


def test_count_shared_rows_from_hashes() -> None:
    train = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    test = pd.DataFrame({"a": [3, 4], "b": ["z", "z"]})
    assert count_shared_rows(train, test) == 1
    assert count_shared_rows(row_hashes(train), row_hashes(test), are_hashes=True) == 1


# --- parquet -----------------------------------------------------------------------


def test_parquet_of_a_frame_with_target(mixed: pd.DataFrame, tmp_path: Path) -> None:
    y = pd.Series([0, 1, 0, 1], name="churn")
    path = write_parquet(mixed, y, tmp_path / "train.parquet", max_bytes=10**6)
    assert path == tmp_path / "train.parquet"
    back = pd.read_parquet(path)
    assert list(back.columns) == [*mixed.columns, "churn"]
    assert back["churn"].tolist() == [0, 1, 0, 1]
    assert back["city"].tolist()[0] == "paris"
    assert back["objects"].fillna("<missing>").tolist() == [
        "1",
        "x",
        "<missing>",
        "2.5",
    ]


def test_parquet_of_arrays(tmp_path: Path) -> None:
    path = write_parquet(
        np.arange(6.0).reshape(3, 2), [1, 2, 3], tmp_path / "a.parquet", max_bytes=10**6
    )
    assert path is not None
    back = pd.read_parquet(path)
    assert list(back.columns) == ["x0", "x1", "target"]
    assert back["x1"].tolist() == [1.0, 3.0, 5.0]


def test_parquet_target_name_clash_and_multioutput(tmp_path: Path) -> None:
    frame = pd.DataFrame({"target": [1.0, 2.0]})
    path = write_parquet(
        frame, np.array([[1, 2], [3, 4]]), tmp_path / "m.parquet", max_bytes=10**6
    )
    assert path is not None
    assert list(pd.read_parquet(path).columns) == ["target", "target_0", "target_1"]


def test_parquet_of_series_vector_cube_and_sparse(tmp_path: Path) -> None:
    cases = {
        "s": pd.Series([1.0, 2.0], name=3),
        "v": np.array([1.0, 2.0]),
        "c": np.zeros((2, 2, 2)),
        "sp": sp.csr_matrix(np.eye(2)),
    }
    shapes = {}
    for name, X in cases.items():
        path = write_parquet(X, None, tmp_path / f"{name}.parquet", max_bytes=10**6)
        assert path is not None
        shapes[name] = pd.read_parquet(path).shape
    assert shapes == {"s": (2, 1), "v": (2, 1), "c": (2, 4), "sp": (2, 2)}


def test_parquet_over_the_cap_writes_nothing(tmp_path: Path) -> None:
    X = np.zeros((1000, 10))
    assert write_parquet(X, None, tmp_path / "big.parquet", max_bytes=1000) is None
    assert (
        write_parquet(sp.csr_matrix(X), None, tmp_path / "s.parquet", max_bytes=1000)
        is None
    )
    assert not list(tmp_path.glob("*.parquet"))


def test_parquet_file_over_the_cap_is_removed(tmp_path: Path) -> None:
    # 80 bytes in memory, but Parquet's metadata makes the file larger than 100.
    X = np.random.default_rng(0).normal(size=(10, 1))
    assert write_parquet(X, None, tmp_path / "r.parquet", max_bytes=100) is None
    assert not (tmp_path / "r.parquet").exists()


@pytest.mark.parametrize(
    "y",
    [
        np.array([0, 1, 1]),
        np.array([1.0, 2.0, 3.0]),
        np.array([0.5, 1.0]),
        np.array([True, False]),
        np.array([7]),
        np.array([1, 2, 3], dtype=np.uint8),
        np.array(["a", "b", "c"], dtype=object),
        np.array([[0, 1], [1, 0]]),
        np.array([], dtype=float),
    ],
    ids=[
        "binary",
        "integral-floats",
        "continuous",
        "bool",
        "single",
        "uint8",
        "strings",
        "2d",
        "empty",
    ],
)
def test_target_type_agrees_with_scikit_learn(y: Any) -> None:
    from sklearn.utils.multiclass import type_of_target

    assert _dataset_profile._target_type(y) == type_of_target(y)
