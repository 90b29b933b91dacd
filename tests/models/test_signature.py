"""Signatures: spec JSON identical to MLflow's, and inference from pandas and numpy."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

from mltrail._errors import InvalidValueError
from mltrail.models import (
    ColSpec,
    ModelSignature,
    Schema,
    TensorSpec,
    infer_schema,
    infer_signature,
)

DTYPE_CASES = [
    (np.array([True, False]), "boolean", True),
    (np.array([1, 2], dtype="int8"), "integer", True),
    (np.array([1, 2], dtype="int16"), "integer", True),
    (np.array([1, 2], dtype="int32"), "integer", True),
    (np.array([1, 2], dtype="uint16"), "integer", True),
    (np.array([1, 2], dtype="uint32"), "long", True),
    (np.array([1, 2], dtype="int64"), "long", True),
    (np.array([1.0, 2.0], dtype="float16"), "float", True),
    (np.array([1.0, 2.0], dtype="float32"), "float", True),
    (np.array([1.0, 2.0], dtype="float64"), "double", True),
    (np.array([1.0, np.nan]), "double", False),
    (pd.array([1, 2], dtype="Int64"), "long", False),
    (pd.array([1, None], dtype="Int32"), "integer", False),
    (pd.array([1.5, None], dtype="Float64"), "double", False),
    (pd.array([True, None], dtype="boolean"), "boolean", False),
    (pd.array(["a", None], dtype="string"), "string", False),
    (pd.array(["a", "b"], dtype="string"), "string", False),
    (pd.Series(["a", "b"], dtype="str"), "string", True),
    (pd.Series(["a", None], dtype="str"), "string", False),
    (pd.Series(["a", "b"], dtype=object), "string", True),
    (pd.Series([b"a", b"b"], dtype=object), "binary", True),
    (pd.Series([1, 2], dtype=object), "long", True),
    (pd.Series([None, None], dtype=object), "string", False),
    (pd.to_datetime(["2024-01-01", "2024-01-02"]), "datetime", True),
    (pd.Series([datetime.date(2024, 1, 1)], dtype=object), "datetime", True),
    (pd.Categorical(["a", "b", "a"]), "string", True),
    (pd.Categorical(["a", None]), "string", False),
    (pd.Categorical([1, 2, 1]), "long", True),
]


@pytest.mark.parametrize(
    ("values", "expected_type", "expected_required"),
    DTYPE_CASES,
    ids=[
        f"{getattr(case[0], 'dtype', '')}-{case[1]}-{case[2]}" for case in DTYPE_CASES
    ],
)
def test_dataframe_column_maps_to_mlflow_type(values, expected_type, expected_required):
    schema = infer_schema(pd.DataFrame({"x": values}))
    assert schema.inputs == (ColSpec(expected_type, "x", expected_required),)


@pytest.mark.parametrize(
    "values",
    [
        np.array([1 + 2j]),
        pd.to_timedelta(["1s"]),
        pd.Series([1, "a"], dtype=object),
        np.array([1, 2], dtype="uint64"),
    ],
    ids=["complex", "timedelta", "mixed-object", "uint64"],
)
def test_unsupported_column_dtype_raises_naming_the_column(values):
    with pytest.raises(InvalidValueError, match="column 'weird'"):
        infer_schema(pd.DataFrame({"weird": values}))


def test_numpy_input_gives_tensor_spec():
    schema = infer_schema(np.zeros((10, 4)))
    assert schema.to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}
    ]


@pytest.mark.parametrize(
    ("array", "dtype"),
    [(np.array(["ab", "c"]), "str"), (np.array([b"ab"]), "bytes")],
    ids=["str", "bytes"],
)
def test_flexible_dtypes_lose_their_size(array, dtype):
    assert infer_schema(array).inputs == (TensorSpec(dtype, (-1,)),)


def test_sparse_input_gives_tensor_spec_of_values():
    matrix = scipy.sparse.csr_matrix(np.eye(3, dtype="float32"))
    assert infer_schema(matrix).inputs == (TensorSpec("float32", (-1, 3)),)


def test_list_input_is_read_as_an_array():
    assert infer_schema([[1, 2], [3, 4]]).inputs == (TensorSpec("int64", (-1, 2)),)


def test_series_gives_one_named_column():
    series = pd.Series([1.0, 2.0], name="target")
    assert infer_schema(series).inputs == (ColSpec("double", "target"),)


def test_scalar_input_is_rejected():
    with pytest.raises(InvalidValueError, match="at least one dimension"):
        infer_schema(np.array(1.0))


def test_unknown_input_type_is_rejected():
    with pytest.raises(InvalidValueError, match="'set'"):
        infer_schema({1, 2})


def test_infer_signature_records_output_tensor():
    X = pd.DataFrame({"a": [1.0, 2.0]})
    signature = infer_signature(X, np.array([0, 1]))
    assert signature.to_dict() == {
        "inputs": '[{"type": "double", "name": "a", "required": true}]',
        "outputs": (
            '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
        ),
        "params": None,
    }


def test_infer_signature_without_output_has_none():
    assert infer_signature(np.zeros((2, 2))).outputs is None


def test_two_dimensional_output_keeps_its_width():
    signature = infer_signature(np.zeros((2, 2)), np.zeros((2, 3)))
    assert signature.outputs == Schema((TensorSpec("float64", (-1, 3)),))


def test_signature_round_trips_through_dict():
    signature = ModelSignature(
        Schema((ColSpec("long", "a", required=False), ColSpec("string", "b"))),
        Schema((TensorSpec("float64", (-1, 2), "scores"),)),
    )
    assert ModelSignature.from_dict(signature.to_dict()) == signature


def test_schema_json_matches_mlflow_text():
    schema = Schema((ColSpec("double"), ColSpec("boolean", None, False)))
    assert schema.to_json() == (
        '[{"type": "double", "required": true}, {"type": "boolean", "required": false}]'
    )


def test_tensor_spec_accepts_list_shape():
    assert TensorSpec("int64", [-1, 2]).shape == (-1, 2)  # type: ignore[arg-type]  # as read from JSON


def test_tensor_spec_is_always_required():
    assert TensorSpec("int64", (-1,)).required


def test_unknown_column_type_is_rejected():
    with pytest.raises(InvalidValueError, match="column type must be one of"):
        ColSpec("decimal", "a")


def test_mixed_schema_is_rejected():
    with pytest.raises(InvalidValueError, match="all column specs or all tensor specs"):
        Schema((ColSpec("double", "a"), TensorSpec("float64", (-1,))))


@pytest.mark.parametrize(
    "names",
    [("a", None), ("a", "a")],
    ids=["partly-named", "duplicate"],
)
def test_bad_names_are_rejected(names):
    with pytest.raises(InvalidValueError, match="all None, or all set and unique"):
        Schema(tuple(ColSpec("double", name) for name in names))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"type": "double"}', "JSON list"),
        ("[1]", "'type' key"),
        ('[{"type": "tensor"}]', "'tensor-spec' object"),
        ('[{"type": "array", "items": {"type": "long"}}]', "not supported by mltrail"),
    ],
    ids=["not-a-list", "not-an-object", "tensor-without-spec", "array-type"],
)
def test_malformed_schema_json_is_rejected(text, match):
    with pytest.raises(InvalidValueError, match=match):
        Schema.from_json(text)


def test_empty_schema_has_no_names_and_no_tensors():
    schema = Schema(())
    assert (schema.has_names, schema.is_tensor_spec, schema.names()) == (
        False,
        False,
        [],
    )


def test_signature_with_empty_schemas_writes_nulls():
    assert ModelSignature(Schema(()), None).to_dict()["inputs"] is None


def test_inference_does_not_copy_columns():
    X = pd.DataFrame({"a": np.arange(1000.0), "b": np.arange(1000)})
    before = X["a"].to_numpy()
    infer_signature(X)
    assert np.shares_memory(before, X["a"].to_numpy())


def test_empty_frame_columns_are_required():
    schema = infer_schema(pd.DataFrame({"a": pd.Series([], dtype="float64")}))
    assert schema.inputs == (ColSpec("double", "a"),)


def test_object_column_type_is_read_from_first_rows(monkeypatch):
    from mltrail.models import _signature

    monkeypatch.setattr(_signature, "NULL_SCAN_ROWS", 2)
    frame = pd.DataFrame({"x": pd.Series(["a", "b", None], dtype=object)})
    assert infer_schema(frame).inputs == (ColSpec("string", "x"),)
