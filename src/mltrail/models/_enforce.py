"""Schema enforcement: make the data passed to ``predict`` match the model's signature.

Required columns must be there, extra ones are dropped with a warning, columns are
put in the signature's order, and only casts that lose nothing are applied (every
integer type to ``double``, int64 included). Anything else raises, naming the column,
the expected type and the actual dtype.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from mltrail._errors import InvalidValueError, MltrailWarning
from mltrail.models._signature import ColSpec, Schema, TensorSpec, column_type_of_dtype

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["enforce_schema"]

# The numpy dtype of each column type, for casts.
_NUMPY_DTYPES = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
}
# The nullable pandas dtype of each column type, for casts of nullable columns.
_NULLABLE_DTYPES = {
    "boolean": "boolean",
    "integer": "Int32",
    "long": "Int64",
    "float": "Float32",
    "double": "Float64",
}


def enforce_schema(data: Any, schema: Schema) -> Any:
    """Return ``data`` checked and converted to match ``schema``.

    Raises InvalidValueError for a missing required column, a shape that does not
    match, or a cast that could lose information.
    """
    if schema.is_tensor_spec:
        return _enforce_tensor(data, schema)
    return _enforce_columns(data, schema)


def _is_scalar(value: Any) -> bool:
    import numpy as np

    return value is None or bool(np.isscalar(value))


def _to_frame(data: Any, schema: Schema) -> pd.DataFrame:
    """Turn what MLflow's pyfunc accepts for a column signature into a DataFrame.

    A DataFrame; a Series (named as the signature's column when it has one); a dict
    of columns; a dict of scalars (one row); a list of records (dicts); a scalar
    (one row); a list or an array of rows (named by the signature when the column
    count matches).
    """
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        if len(schema.names()) == 1 and data.name not in schema.names():
            return data.to_frame(name=schema.names()[0])  # as a 1-D array is
        return data.to_frame()
    if isinstance(data, dict):
        if data and all(_is_scalar(value) for value in data.values()):
            return pd.DataFrame([data])
        return pd.DataFrame(data)
    if _is_scalar(data):
        data = [data]
    if (
        isinstance(data, list | tuple)
        and data
        and all(isinstance(row, dict) for row in data)
    ):
        return pd.DataFrame.from_records(list(data))
    if isinstance(data, list | tuple):
        data = np.asarray(data, dtype=object if not data else None)
    if isinstance(data, np.ndarray) and data.ndim in (1, 2):
        array = data.reshape(-1, 1) if data.ndim == 1 else data
        if array.shape[1] != len(schema.inputs):
            raise InvalidValueError(
                "input",
                f"an array with {array.shape[1]} columns",
                f"data with the signature's {len(schema.inputs)} columns",
                "Pass a DataFrame with the columns the model was trained on.",
            )
        names: list[Any] = schema.names() or list(range(array.shape[1]))
        return pd.DataFrame(array, columns=names)
    raise InvalidValueError(
        "input",
        type(data).__name__,
        "a DataFrame, a dict of columns, a list of records or of rows, or an array",
    )


def _is_exact_doubles(frame: pd.DataFrame, specs: list[ColSpec]) -> bool:
    """Whether a frame already is what a signature of named doubles asks for.

    Every column named as the signature's, in its order, and float64: what a
    scoring request of numbers reads as. Checking that costs a few microseconds
    where checking each column costs a few hundred.
    """
    import numpy as np

    if not specs or any(spec.type != "double" for spec in specs):
        return False
    if frame.columns.tolist() != [spec.name for spec in specs]:
        return False
    double = np.dtype("float64")
    return all(dtype == double for dtype in frame.dtypes.tolist())


def _enforce_columns(data: Any, schema: Schema) -> pd.DataFrame:
    import pandas as pd

    frame = _to_frame(data, schema)
    specs: list[ColSpec] = [spec for spec in schema.inputs if isinstance(spec, ColSpec)]
    exact = schema.has_names and len(specs) == len(schema.inputs)
    if exact and _is_exact_doubles(frame, specs):
        return frame
    if not schema.has_names:
        if frame.shape[1] < len(specs):
            raise InvalidValueError(
                "input",
                f"data with {frame.shape[1]} columns",
                f"data with at least the signature's {len(specs)} columns",
            )
        return pd.DataFrame(
            {
                frame.columns[position]: _enforce_column(
                    frame.iloc[:, position], spec, str(frame.columns[position])
                )
                for position, spec in enumerate(specs)
            },
            index=frame.index,
        )
    present = {str(name): name for name in frame.columns}
    missing = [
        spec.name for spec in specs if spec.required and spec.name not in present
    ]
    if missing:
        shown = ", ".join(repr(name) for name in missing)
        raise InvalidValueError(
            "input columns",
            sorted(present),
            "a superset of the model signature's required columns",
            f"Missing: {shown}. Add them, named as when the model was trained.",
        )
    expected = {spec.name for spec in specs}
    extra = [name for name in present if name not in expected]
    if extra:
        warnings.warn(
            f"input has columns that are not in the model signature: {extra}. "
            "They are dropped before predict.",
            MltrailWarning,
            stacklevel=4,
        )
    columns: dict[Any, Any] = {}
    changed = bool(extra) or [str(name) for name in frame.columns] != [
        spec.name for spec in specs
    ]
    for spec in specs:
        name = str(spec.name)
        if name not in present:
            columns[name] = _missing_column(spec, len(frame))
            changed = True
            continue
        column = frame[present[name]]
        enforced = _enforce_column(column, spec, name)
        changed = changed or enforced is not column
        columns[present[name]] = enforced
    if not changed:
        return frame
    result = pd.DataFrame(columns, index=frame.index)
    return result


def _missing_column(spec: ColSpec, length: int) -> Any:
    """Fill an optional column left out of the input with missing values of its type."""
    import numpy as np
    import pandas as pd

    if spec.type in ("double", "float"):
        return np.full(length, np.nan, dtype=_NUMPY_DTYPES[spec.type])
    if spec.type in _NULLABLE_DTYPES:
        return pd.Series([None] * length, dtype=_NULLABLE_DTYPES[spec.type]).array
    if spec.type == "datetime":
        return np.full(length, np.datetime64("NaT"), dtype="datetime64[ns]")
    return np.full(length, None, dtype=object)


def _unsafe(name: str, spec: ColSpec, dtype: Any) -> InvalidValueError:
    return InvalidValueError(
        f"the dtype of column {name!r}",
        str(dtype),
        f"{spec.type!r} as in the model signature, or a dtype that converts to it "
        "without loss",
        "Convert the column before predict, or retrain on this dtype.",
    )


def _enforce_column(column: Any, spec: ColSpec, name: str) -> Any:
    import pandas as pd

    if spec.type == "any":
        return column
    dtype = column.dtype
    actual = column_type_of_dtype(dtype)
    if (
        actual is None
        and dtype.kind == "O"
        and not isinstance(dtype, pd.CategoricalDtype)
    ):
        return _enforce_object_column(column, spec, name)
    is_categorical = isinstance(dtype, pd.CategoricalDtype)
    nullable = _is_masked(dtype)
    target = spec.type
    kind = dtype.kind
    if target == "datetime" and actual == "string" and not is_categorical:
        return _datetimes_from_text(column, spec, name)
    if actual == target:
        if is_categorical or target not in _NUMPY_DTYPES:
            return column
        # The same MLflow type in another width (int8 for integer): use the
        # signature's own dtype, as the model was trained on it.
        canonical = (_NULLABLE_DTYPES if nullable else _NUMPY_DTYPES)[target]
        return column if str(dtype) == canonical else column.astype(canonical)
    if is_categorical:
        raise _unsafe(name, spec, dtype)
    if target == "double" and (kind in "iu" or (kind == "f" and dtype.itemsize < 8)):
        # Every integer fits a float64 to 2**53, which covers any count or id a
        # scikit-learn model was trained on; float32 widens exactly.
        return column.astype("Float64" if nullable else "float64")
    if target == "float" and (kind == "f" or kind in "iu") and dtype.itemsize <= 2:
        return column.astype("Float32" if nullable else "float32")
    if target in ("long", "integer") and kind in "iu":
        bits = 8 if target == "long" else 4
        fits = dtype.itemsize < bits or (kind == "i" and dtype.itemsize <= bits)
        if fits:
            return column.astype(
                _NULLABLE_DTYPES[target] if nullable else _NUMPY_DTYPES[target]
            )
    raise _unsafe(name, spec, dtype)


def _is_masked(dtype: Any) -> bool:
    from pandas.api.extensions import ExtensionDtype

    return isinstance(dtype, ExtensionDtype) and dtype.kind in "biuf"


def _enforce_object_column(column: Any, spec: ColSpec, name: str) -> Any:
    """Check an object column by the type that pandas infers from its values."""
    import pandas as pd

    inferred = pd.api.types.infer_dtype(column, skipna=True)
    if spec.type == "string" and inferred in ("string", "empty"):
        return column
    if spec.type == "binary" and inferred in ("bytes", "empty"):
        return column
    if spec.type == "boolean" and inferred == "boolean":
        return column
    if spec.type == "datetime" and inferred in ("datetime", "datetime64", "date"):
        return pd.to_datetime(column)
    if spec.type == "datetime" and inferred in ("string", "empty"):
        return _datetimes_from_text(column, spec, name)
    if inferred in ("integer", "floating", "mixed-integer-float", "boolean"):
        converted = column.infer_objects()
        if converted.dtype.kind != "O":
            return _enforce_column(converted, spec, name)
    raise _unsafe(name, spec, f"object holding {inferred} values")


def _datetimes_from_text(column: Any, spec: ColSpec, name: str) -> Any:
    """Read a column of text, such as JSON's or CSV's, as the signature's datetimes.

    ISO 8601 text (``2024-01-31``, ``2024-01-31T12:00:00``) is read as MLflow's
    server reads it; a missing value becomes ``NaT``. Text that is not a date is
    refused, naming the column and the first such value.
    """
    import pandas as pd

    try:
        return pd.to_datetime(column, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        pass
    for value in column.tolist():
        if isinstance(value, str):
            try:
                pd.to_datetime(value, format="ISO8601")
            except (ValueError, TypeError, OverflowError):
                raise InvalidValueError(
                    f"a value of column {name!r}",
                    value,
                    f"{spec.type!r} as in the model signature: a date in ISO 8601 "
                    "form, such as '2024-01-31' or '2024-01-31T12:00:00'",
                ) from None
    raise _unsafe(name, spec, column.dtype)  # dates that differ in time zone


def _check_shape(shape: tuple[int, ...], spec: TensorSpec) -> None:
    expected = spec.shape
    matches = len(shape) == len(expected) and all(
        size == -1 or size == actual
        for size, actual in zip(expected, shape, strict=True)
    )
    if not matches:
        raise InvalidValueError(
            "the input shape",
            tuple(shape),
            f"{tuple(expected)} as in the model signature (-1 is any size)",
        )


def _enforce_tensor(data: Any, schema: Schema) -> Any:
    import numpy as np
    import pandas as pd

    spec = schema.inputs[0]
    assert isinstance(spec, TensorSpec)  # noqa: S101 - is_tensor_spec said so
    if len(schema.inputs) > 1:
        raise InvalidValueError(
            "the model signature",
            [tensor.name for tensor in schema.inputs],
            "a single tensor input",
            "Models with several named tensor inputs are not supported by mltrail.",
        )
    if (
        isinstance(data, list | tuple)
        and data
        and all(isinstance(r, dict) for r in data)
    ):
        data = pd.DataFrame.from_records(list(data))  # records, as MLflow takes
    if isinstance(data, pd.DataFrame | pd.Series):
        data = data.to_numpy()
    elif isinstance(data, list | tuple):
        data = np.asarray(data)
    if (
        len(spec.shape) == 1
        and isinstance(data, np.ndarray)
        and data.ndim == 2
        and data.shape[1] == 1
    ):
        data = data[:, 0]  # one column for a 1-D input, such as documents
    if hasattr(data, "tocsr") and hasattr(data, "dtype"):
        _check_shape(data.shape, spec)
        return _cast_tensor(data, spec)
    if not isinstance(data, np.ndarray):
        raise InvalidValueError(
            "input",
            type(data).__name__,
            "a numpy array, a DataFrame, a sparse matrix or a list of rows",
        )
    _check_shape(data.shape, spec)
    return _cast_tensor(data, spec)


def _cast_tensor(data: Any, spec: TensorSpec) -> Any:
    import numpy as np

    if spec.dtype in ("str", "bytes", "object"):
        if (
            data.dtype.kind
            in {"str": "UO", "bytes": "SO", "object": "OUSb"}[spec.dtype]
        ):
            return data
    elif data.dtype == np.dtype(spec.dtype):
        return data
    elif np.can_cast(data.dtype, np.dtype(spec.dtype), casting="safe"):
        return data.astype(spec.dtype)
    raise InvalidValueError(
        "the input dtype",
        str(data.dtype),
        f"{spec.dtype!r} as in the model signature, or a dtype that converts to it "
        "without loss",
        "Convert the array before predict, such as X.astype('float64').",
    )
