"""Schema enforcement: missing, extra and reordered columns, safe and unsafe casts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

from mltrail._errors import InvalidValueError, MltrailWarning
from mltrail.models import ColSpec, Schema, TensorSpec
from mltrail.models._enforce import enforce_schema

AB = Schema((ColSpec("double", "a"), ColSpec("long", "b")))


def test_matching_frame_is_returned_unchanged():
    X = pd.DataFrame({"a": [1.0], "b": [2]})
    assert enforce_schema(X, AB) is X


def test_missing_required_column_raises_naming_it():
    with pytest.raises(InvalidValueError, match="Missing: 'b'"):
        enforce_schema(pd.DataFrame({"a": [1.0]}), AB)


def test_extra_columns_are_dropped_with_warning():
    X = pd.DataFrame({"a": [1.0], "b": [2], "c": ["x"]})
    with pytest.warns(MltrailWarning, match=r"not in the model signature: \['c'\]"):
        result = enforce_schema(X, AB)
    assert list(result.columns) == ["a", "b"]


def test_columns_are_reordered():
    result = enforce_schema(pd.DataFrame({"b": [2], "a": [1.0]}), AB)
    assert list(result.columns) == ["a", "b"]


def test_missing_optional_column_is_filled_with_missing_values():
    schema = Schema(
        (
            ColSpec("double", "a"),
            ColSpec("double", "f", required=False),
            ColSpec("long", "n", required=False),
            ColSpec("string", "s", required=False),
            ColSpec("datetime", "t", required=False),
        )
    )
    result = enforce_schema(pd.DataFrame({"a": [1.0, 2.0]}), schema)
    assert list(result.columns) == ["a", "f", "n", "s", "t"]
    assert result.drop(columns="a").isna().all().all()
    assert str(result["n"].dtype) == "Int64"


SAFE_CASES = [
    ("int8", "double", "float64"),
    ("int16", "double", "float64"),
    ("int32", "double", "float64"),
    ("int64", "double", "float64"),
    ("uint64", "double", "float64"),
    ("float32", "double", "float64"),
    ("Int64", "double", "Float64"),
    ("int8", "long", "int64"),
    ("int32", "long", "int64"),
    ("uint32", "long", "int64"),
    ("Int8", "long", "Int64"),
    ("int8", "integer", "int32"),
    ("uint16", "integer", "int32"),
    ("float16", "float", "float32"),
    ("int16", "float", "float32"),
    ("bool", "boolean", "bool"),
    ("boolean", "boolean", "boolean"),
]


@pytest.mark.parametrize(
    ("dtype", "column_type", "expected"),
    SAFE_CASES,
    ids=[f"{case[0]}-to-{case[1]}" for case in SAFE_CASES],
)
def test_safe_cast_is_applied(dtype, column_type, expected):
    X = pd.DataFrame({"x": pd.Series([1, 0], dtype=dtype)})
    result = enforce_schema(X, Schema((ColSpec(column_type, "x"),)))
    assert str(result["x"].dtype) == expected
    assert result["x"].tolist() == [1, 0]


UNSAFE_CASES = [
    ("float64", "long"),
    ("float64", "float"),
    ("int64", "integer"),
    ("uint64", "long"),
    ("int32", "float"),
    ("bool", "double"),
    ("str", "double"),
    ("datetime64[ns]", "double"),
    ("float64", "string"),
    ("int64", "datetime"),
]


@pytest.mark.parametrize(
    ("dtype", "column_type"),
    UNSAFE_CASES,
    ids=[f"{case[0]}-to-{case[1]}" for case in UNSAFE_CASES],
)
def test_unsafe_cast_raises_naming_column_expected_and_actual(dtype, column_type):
    values = pd.Series(["1", "0"] if dtype == "str" else [1, 0]).astype(dtype)
    X = pd.DataFrame({"col": values})
    with pytest.raises(InvalidValueError) as caught:
        enforce_schema(X, Schema((ColSpec(column_type, "col"),)))
    message = str(caught.value)
    assert "column 'col'" in message
    assert repr(column_type) in message
    assert repr(str(X["col"].dtype)) in message


@pytest.mark.parametrize(
    ("values", "column_type"),
    [
        (["a", "b"], "string"),
        ([b"a", b"b"], "binary"),
        ([True, False], "boolean"),
        ([None, None], "string"),
    ],
    ids=["string", "binary", "boolean", "empty"],
)
def test_object_column_of_matching_values_passes(values, column_type):
    X = pd.DataFrame({"x": pd.Series(values, dtype=object)})
    assert enforce_schema(X, Schema((ColSpec(column_type, "x"),))) is X


def test_object_column_of_numbers_is_converted():
    X = pd.DataFrame({"x": pd.Series([1, 2], dtype=object)})
    result = enforce_schema(X, Schema((ColSpec("double", "x"),)))
    assert result["x"].dtype == np.float64


def test_object_column_of_dates_becomes_datetime():
    X = pd.DataFrame(
        {"x": pd.Series([pd.Timestamp("2024-01-01").date()], dtype=object)}
    )
    result = enforce_schema(X, Schema((ColSpec("datetime", "x"),)))
    assert result["x"].dtype.kind == "M"


def test_object_column_of_strings_against_double_raises():
    X = pd.DataFrame({"x": pd.Series(["a"], dtype=object)})
    with pytest.raises(InvalidValueError, match="object holding string values"):
        enforce_schema(X, Schema((ColSpec("double", "x"),)))


def test_categorical_column_of_matching_type_passes():
    X = pd.DataFrame({"x": pd.Categorical(["a", "b"])})
    assert enforce_schema(X, Schema((ColSpec("string", "x"),))) is X


def test_categorical_column_of_other_type_raises():
    X = pd.DataFrame({"x": pd.Categorical(["a", "b"])})
    with pytest.raises(InvalidValueError, match="column 'x'"):
        enforce_schema(X, Schema((ColSpec("double", "x"),)))


def test_string_column_passes_string_spec():
    X = pd.DataFrame({"x": pd.array(["a"], dtype="string")})
    assert enforce_schema(X, Schema((ColSpec("string", "x"),))) is X


def test_datetime_unit_is_accepted():
    X = pd.DataFrame({"x": pd.to_datetime(["2024-01-01"]).astype("datetime64[s]")})
    assert enforce_schema(X, Schema((ColSpec("datetime", "x"),))) is X


def test_dict_input_becomes_frame():
    result = enforce_schema({"b": [2], "a": [1.0]}, AB)
    assert list(result.columns) == ["a", "b"]


def test_array_input_takes_signature_names():
    result = enforce_schema(
        np.array([[1.0, 2.0]]), Schema((ColSpec("double", "a"), ColSpec("double", "b")))
    )
    assert list(result.columns) == ["a", "b"]


def test_array_with_wrong_width_raises():
    with pytest.raises(InvalidValueError, match="an array with 3 columns"):
        enforce_schema(np.zeros((1, 3)), AB)


def test_series_input_becomes_one_column():
    result = enforce_schema(
        pd.Series([1.0], name="a"), Schema((ColSpec("double", "a"),))
    )
    assert list(result.columns) == ["a"]


def test_list_input_is_read_as_rows():
    result = enforce_schema(
        [[1.0, 2]], Schema((ColSpec("double", "a"), ColSpec("double", "b")))
    )
    assert result.to_numpy().tolist() == [[1.0, 2.0]]


def test_unknown_input_is_rejected():
    with pytest.raises(InvalidValueError, match="a DataFrame, a dict of columns"):
        enforce_schema(object(), AB)


def test_a_scalar_is_one_row():
    schema = Schema((ColSpec("string", "text"),))
    assert enforce_schema("hello", schema).to_dict("list") == {"text": ["hello"]}


def test_unnamed_columns_are_cast_by_position():
    schema = Schema((ColSpec("double"), ColSpec("long")))
    X = pd.DataFrame({"p": np.array([1], dtype="int32"), "q": [2], "r": [3]})
    result = enforce_schema(X, schema)
    assert list(result.columns) == ["p", "q"]
    assert result["p"].dtype == np.float64


def test_unnamed_columns_need_enough_columns():
    with pytest.raises(InvalidValueError, match="at least the signature's 2 columns"):
        enforce_schema(
            pd.DataFrame({"p": [1.0]}), Schema((ColSpec("double"), ColSpec("long")))
        )


TENSOR = Schema((TensorSpec("float64", (-1, 2)),))


def test_tensor_of_matching_array_is_unchanged():
    X = np.zeros((3, 2))
    assert enforce_schema(X, TENSOR) is X


def test_tensor_casts_int_to_float64():
    result = enforce_schema(np.ones((3, 2), dtype="int64"), TENSOR)
    assert result.dtype == np.float64


def test_tensor_refuses_unsafe_cast():
    schema = Schema((TensorSpec("int32", (-1, 2)),))
    with pytest.raises(
        InvalidValueError, match=r"input dtype must be 'int32'.*got 'float64'"
    ):
        enforce_schema(np.zeros((1, 2)), schema)


def test_tensor_shape_mismatch_raises():
    with pytest.raises(InvalidValueError, match=r"input shape must be \(-1, 2\)"):
        enforce_schema(np.zeros((3, 4)), TENSOR)


def test_dataframe_to_tensor_is_converted():
    result = enforce_schema(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), TENSOR)
    assert isinstance(result, np.ndarray)
    assert result.dtype == np.float64


def test_list_to_tensor_is_converted():
    assert enforce_schema([[1.0, 2.0]], TENSOR).shape == (1, 2)


def test_sparse_tensor_is_checked_and_cast():
    matrix = scipy.sparse.csr_matrix(np.eye(2, dtype="float32"))
    result = enforce_schema(matrix, TENSOR)
    assert scipy.sparse.issparse(result)
    assert result.dtype == np.float64


def test_string_tensor_accepts_object_array():
    X = np.array(["a", "b"], dtype=object)
    assert enforce_schema(X, Schema((TensorSpec("str", (-1,)),))) is X


def test_string_tensor_refuses_numbers():
    with pytest.raises(InvalidValueError, match="input dtype"):
        enforce_schema(np.zeros(2), Schema((TensorSpec("str", (-1,)),)))


def test_tensor_refuses_unknown_input():
    with pytest.raises(InvalidValueError, match="a numpy array, a DataFrame"):
        enforce_schema("text", TENSOR)


def test_several_named_tensors_are_not_supported():
    schema = Schema(
        (TensorSpec("float64", (-1,), "a"), TensorSpec("float64", (-1,), "b"))
    )
    with pytest.raises(InvalidValueError, match="single tensor input"):
        enforce_schema({"a": np.zeros(1)}, schema)


def test_any_column_passes_unchanged():
    X = pd.DataFrame({"x": pd.Series([1, "a"], dtype=object)})
    assert enforce_schema(X, Schema((ColSpec("any", "x"),))) is X


DOUBLES = Schema((ColSpec("double", "a"), ColSpec("double", "b")))


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, np.nan]}),
        pd.DataFrame({"b": [3.0], "a": [1.0]}),
        pd.DataFrame({"a": [1.0], "b": np.array([3.0], dtype="float32")}),
        pd.DataFrame({"a": [1.0], "b": [3]}),
        pd.DataFrame({"a": [1.0], "b": pd.array([3.0], dtype="Float64")}),
        pd.DataFrame({"a": [1.0]}),
    ],
    ids=["exact", "order", "float32", "int", "nullable", "missing"],
)
def test_frames_of_doubles_skip_no_check(frame, monkeypatch):
    from mltrail.models import _enforce

    def enforced() -> Any:
        try:
            return enforce_schema(frame, DOUBLES)
        except InvalidValueError as error:
            return str(error)

    fast = enforced()
    monkeypatch.setattr(_enforce, "_is_exact_doubles", lambda frame, specs: False)
    slow = enforced()
    if isinstance(slow, str):
        assert fast == slow
        return
    assert (fast is frame) == (slow is frame)
    pd.testing.assert_frame_equal(fast, slow)
