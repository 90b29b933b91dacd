"""Input examples: the first rows only, as JSON in MLflow's formats."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

from mltrail._errors import InvalidValueError
from mltrail.models._example import load_input_example, make_input_example


def test_dataframe_example_is_split_orient_of_first_five_rows():
    X = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10)})
    example = make_input_example(X)
    assert example.example == {
        "columns": ["a", "b"],
        "data": [[0.0, 0], [1.0, 1], [2.0, 2], [3.0, 3], [4.0, 4]],
    }
    assert example.info == {
        "artifact_path": "input_example.json",
        "serving_input_path": "serving_input_example.json",
        "type": "dataframe",
        "pandas_orient": "split",
    }


def test_values_become_json_values():
    X = pd.DataFrame(
        {
            "f": [np.nan, 1.5],
            "i": pd.array([None, 2], dtype="Int64"),
            "s": ["x", None],
            "b": [b"\x00", b"a"],
            "t": pd.Series([pd.Timestamp("2024-01-02"), pd.NaT]),
            "d": [pd.Timestamp("2024-01-02").date(), None],
            "inf": [np.inf, 0.0],
        }
    )
    data = make_input_example(X).example["data"]
    assert data == [
        [None, None, "x", "AA==", "2024-01-02T00:00:00", "2024-01-02", None],
        [1.5, 2, None, "YQ==", None, None, 0.0],
    ]
    json.dumps(data, allow_nan=False)  # strict JSON: no NaN left


def test_default_range_columns_are_left_out():
    example = make_input_example(pd.DataFrame(np.zeros((2, 2))))
    assert example.example == {"data": [[0.0, 0.0], [0.0, 0.0]]}


def test_series_example_is_one_column_frame():
    example = make_input_example(pd.Series([1, 2], name="x"))
    assert example.example == {"columns": ["x"], "data": [[1], [2]]}


def test_array_example_is_nested_list_with_inputs_serving():
    example = make_input_example(np.arange(20).reshape(10, 2))
    assert example.example == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert example.serving == {"inputs": example.example}
    assert example.info["type"] == "ndarray"


def test_sparse_example_is_mlflow_csr_arrays_and_dense_serving_rows():
    matrix = scipy.sparse.csr_matrix(np.eye(7))

    example = make_input_example(matrix)

    assert example.example == {
        "data": [1.0] * 5,
        "indices": [0, 1, 2, 3, 4],
        "indptr": [0, 1, 2, 3, 4, 5],
        "shape": [5, 7],
    }
    assert example.serving["inputs"][0] == [1.0, 0, 0, 0, 0, 0, 0]
    assert example.info["type"] == "sparse_matrix_csr"


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (scipy.sparse.csr_matrix, "csr"),
        (scipy.sparse.csc_matrix, "csc"),
        (scipy.sparse.coo_matrix, "csr"),
        (scipy.sparse.csr_array, "csr"),
    ],
    ids=["csr", "csc", "coo", "csr_array"],
)
def test_sparse_example_reads_back_equal(tmp_path, make, kind):
    matrix = make(np.arange(40, dtype=np.float64).reshape(8, 5) % 3)
    example = make_input_example(matrix)
    example.save(tmp_path)

    loaded = load_input_example(tmp_path, example.info)

    assert example.info["type"] == f"sparse_matrix_{kind}"
    assert loaded.format == kind
    np.testing.assert_array_equal(loaded.toarray(), matrix.toarray()[:5])


def test_list_example_keeps_first_rows():
    assert make_input_example([[1], [2], [3], [4], [5], [6]]).example == [
        [1],
        [2],
        [3],
        [4],
        [5],
    ]


def test_array_nan_becomes_null():
    assert make_input_example(np.array([[np.nan, 1.0]])).example == [[None, 1.0]]


def test_unknown_example_is_rejected():
    with pytest.raises(InvalidValueError, match="input example must be"):
        make_input_example("text")


def test_saved_files_use_mlflow_layout(tmp_path):
    example = make_input_example(pd.DataFrame({"a": [1.0]}))
    example.save(tmp_path)
    serving = (tmp_path / "serving_input_example.json").read_text()
    assert json.loads(serving) == {
        "dataframe_split": {"columns": ["a"], "data": [[1.0]]}
    }
    assert serving.startswith('{\n  "dataframe_split"')
    assert json.loads((tmp_path / "input_example.json").read_text())["data"] == [[1.0]]


@pytest.mark.parametrize(
    "X",
    [pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}), np.array([[1.0, 2.0]])],
    ids=["dataframe", "array"],
)
def test_saved_example_loads_back(tmp_path, X):
    example = make_input_example(X)
    example.save(tmp_path)
    loaded = load_input_example(tmp_path, example.info)
    if isinstance(X, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded, X, check_dtype=False)
    else:
        np.testing.assert_array_equal(loaded, X)


def test_records_example_loads_as_frame(tmp_path):
    (tmp_path / "input_example.json").write_text('[{"a": 1}]')
    info = {"artifact_path": "input_example.json", "type": "dataframe"}
    assert load_input_example(tmp_path, info).to_dict("list") == {"a": [1]}
