"""Schemas and profiles of datasets: MLflow's ColSpec/TensorSpec, per-column stats, y.

Helpers of :mod:`mltrail.capture._datasets`; numpy, pandas and scikit-learn load only
when a function runs.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MAX_PROFILED_COLUMNS = 1000
# Rows per block when counting NaN: bounds the temporary mask to a few MB.
NAN_COUNT_BLOCK_ROWS = 16_384
MAX_LEVELS = 50
MAX_CLASSES = 100
_CLASSIFICATION_TARGETS = frozenset({"binary", "multiclass"})
_REGRESSION_TARGETS = frozenset({"continuous"})


def as_supported(data: object) -> Any:
    """Return pandas, sparse and numpy data as is; anything else as a numpy array."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame | pd.Series | np.ndarray) or is_sparse(data):
        return data
    return np.asarray(data)


def is_sparse(data: object) -> bool:
    """Tell whether ``data`` is a scipy sparse matrix or array (without scipy)."""
    return type(data).__module__.startswith("scipy.sparse") and hasattr(data, "tocsr")


def nbytes(data: Any) -> int:
    """Return the bytes held by an array or sparse matrix."""
    if is_sparse(data):
        csr = data.tocsr()
        return int(csr.data.nbytes + csr.indices.nbytes + csr.indptr.nbytes)
    return int(data.nbytes)


def _mlflow_type(dtype: Any) -> str:
    """Map a pandas or numpy dtype to MLflow's ColSpec type name."""
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return _mlflow_type(dtype.categories.dtype)
    kind = getattr(dtype, "kind", "O")
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return (
            "integer" if dtype.itemsize < 4 or str(dtype).lower() == "int32" else "long"
        )
    if kind == "f":
        return "float" if dtype.itemsize == 4 else "double"
    if kind == "M":
        return "datetime"
    if kind == "S":
        return "binary"
    return "string"


def _column_type(column: pd.Series[Any]) -> str:
    """Return a column's MLflow type; object columns of bytes are ``binary``."""
    if column.dtype == object:
        first = column.first_valid_index()
        if first is not None and isinstance(column.loc[first], bytes):
            return "binary"
    return _mlflow_type(column.dtype)


def tensorspec(data: Any) -> dict[str, object]:
    """Return an MLflow TensorSpec with a variable first dimension."""
    return {
        "type": "tensor",
        "tensor-spec": {"dtype": str(data.dtype), "shape": [-1, *data.shape[1:]]},
    }


def frame_profile(
    frame: pd.DataFrame,
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Return MLflow ColSpecs and per-column profiles, in one pass over the columns.

    A ColSpec is required when its column has no missing value. Columns of numpy
    dtypes are profiled with numpy directly, which is much cheaper than pandas on
    small frames.
    """
    import numpy as np
    import pandas as pd

    specs: list[dict[str, object]] = []
    columns: list[dict[str, object]] = []
    for position, (name, column) in enumerate(frame.items()):
        dtype = column.dtype
        values = None
        missing = None
        if isinstance(dtype, np.dtype) and dtype.kind in "biufM":
            values = column.to_numpy()
            if dtype.kind in "fM":
                missing = np.isnan(values) if dtype.kind == "f" else np.isnat(values)
            null_count = 0 if missing is None else int(missing.sum())
        else:
            null_count = int(column.isna().sum())
        specs.append(
            {
                "type": _column_type(column),
                "name": str(name),
                "required": not null_count,
            }
        )
        if position >= MAX_PROFILED_COLUMNS:
            continue
        entry: dict[str, object] = {
            "name": str(name),
            "dtype": str(dtype),
            "nullable": _can_hold_missing(dtype),
            "null_count": null_count,
        }
        if values is not None:
            if dtype.kind == "b":
                entry.update(_levels(np.unique(values).tolist()))
            elif null_count < len(values):
                present = values if missing is None else values[~missing]
                low, high = present.min(), present.max()
                if dtype.kind == "M":
                    low, high = pd.Timestamp(low), pd.Timestamp(high)
                entry["min"], entry["max"] = _scalar(low), _scalar(high)
        elif isinstance(dtype, pd.CategoricalDtype):
            entry.update(_levels(list(dtype.categories)))
        elif pd.api.types.is_bool_dtype(dtype) or not (
            pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_datetime64_any_dtype(dtype)
        ):
            entry.update(_column_levels(column))
        elif null_count < len(column):
            entry["min"] = _scalar(column.min())
            entry["max"] = _scalar(column.max())
        columns.append(entry)
    return specs, columns


def _nan_counts(matrix: Any) -> Any:
    """Count NaN per column in blocks of rows, so no mask as large as X is made."""
    import numpy as np

    counts = np.zeros(matrix.shape[1], dtype=np.int64)
    for start in range(0, matrix.shape[0], NAN_COUNT_BLOCK_ROWS):
        counts += np.isnan(matrix[start : start + NAN_COUNT_BLOCK_ROWS]).sum(axis=0)
    return counts


def array_columns(data: Any) -> list[dict[str, object]]:
    """Profile the columns of a 1-D or 2-D array or sparse matrix."""
    import numpy as np
    import pandas as pd

    if is_sparse(data):
        return _sparse_columns(data)
    if data.ndim > 2 or data.ndim == 0:
        return []
    matrix = data.reshape(-1, 1) if data.ndim == 1 else data[:, :MAX_PROFILED_COLUMNS]
    if matrix.dtype.kind not in "biuf":
        return frame_profile(pd.DataFrame(matrix, copy=False))[1]
    n_columns = matrix.shape[1]
    nulls = _nan_counts(matrix) if matrix.dtype.kind == "f" else np.zeros(n_columns)
    empty = matrix.shape[0] == 0 or matrix.dtype.kind == "b"
    lows = None if empty else np.fmin.reduce(matrix, axis=0)
    highs = None if empty else np.fmax.reduce(matrix, axis=0)
    columns: list[dict[str, object]] = []
    for i in range(n_columns):
        entry: dict[str, object] = {
            "name": str(i),
            "dtype": str(matrix.dtype),
            "nullable": matrix.dtype.kind == "f",
            "null_count": int(nulls[i]),
        }
        if lows is not None and highs is not None:
            entry["min"] = _scalar(lows[i])
            entry["max"] = _scalar(highs[i])
        columns.append(entry)
    return columns


def _sparse_columns(matrix: Any) -> list[dict[str, object]]:
    """Profile sparse columns: min/max (implicit zeros count) and NaN counts."""
    import numpy as np

    csc = matrix.tocsc()[:, :MAX_PROFILED_COLUMNS]
    n_columns = csc.shape[1]
    nulls = np.zeros(n_columns, dtype=np.intp)
    if csc.dtype.kind == "f":
        entry_columns = np.repeat(np.arange(n_columns), np.diff(csc.indptr))
        nulls = np.bincount(entry_columns[np.isnan(csc.data)], minlength=n_columns)
    columns: list[dict[str, object]] = []
    has_rows = csc.shape[0] > 0
    # nanmin/nanmax count implicit zeros and skip NaN; an all-NaN column gives NaN.
    lows = csc.nanmin(axis=0).toarray().ravel() if has_rows else None
    highs = csc.nanmax(axis=0).toarray().ravel() if has_rows else None
    for i in range(n_columns):
        entry: dict[str, object] = {
            "name": str(i),
            "dtype": str(csc.dtype),
            "nullable": csc.dtype.kind == "f",
            "null_count": int(nulls[i]),
        }
        if lows is not None and highs is not None:
            entry["min"] = _scalar(lows[i])
            entry["max"] = _scalar(highs[i])
        columns.append(entry)
    return columns


def _can_hold_missing(dtype: Any) -> bool:
    """Tell whether a column of this dtype can hold a missing value."""
    import numpy as np

    if isinstance(dtype, np.dtype):
        return dtype.kind in "fcmMO"
    return True  # pandas extension dtypes (Int64, string, category) all have NA


def _column_levels(column: pd.Series[Any]) -> dict[str, object]:
    """Return the distinct values of a column when there are few of them."""
    uniques = column.dropna().unique()
    if len(uniques) > MAX_LEVELS:
        return {"n_levels": len(uniques)}
    return _levels(sorted(uniques.tolist(), key=str))


def _levels(values: list[Any]) -> dict[str, object]:
    """Return up to ``MAX_LEVELS`` levels and their number."""
    levels = [_scalar(v) for v in values[:MAX_LEVELS]]
    return {"n_levels": len(values), "levels": levels}


def target_profile(target: Any, is_classification: bool | None) -> dict[str, object]:
    """Profile y: counts per class for classes, min/max/mean for values."""
    import numpy as np
    import pandas as pd

    if is_sparse(target):
        return {"type": "sparse", "shape": list(target.shape)}
    values = (
        target.to_numpy() if isinstance(target, pd.Series | pd.DataFrame) else target
    )
    kind = _target_type(values)
    profile: dict[str, object] = {"type": kind, "shape": list(values.shape)}
    classes = (
        kind in _CLASSIFICATION_TARGETS
        if is_classification is None
        else is_classification
    )
    regression = (
        kind in _REGRESSION_TARGETS if is_classification is None else not classes
    )
    if classes and values.ndim == 1:
        counts = pd.Series(values).value_counts(dropna=False, sort=False)
        ordered = sorted(counts.items(), key=lambda item: str(item[0]))
        profile["n_classes"] = len(ordered)
        profile["class_counts"] = {str(k): int(v) for k, v in ordered[:MAX_CLASSES]}
    elif regression and values.dtype.kind in "biuf" and values.size:
        numbers = values.astype(np.float64, copy=False)
        finite = numbers[~np.isnan(numbers)]
        if finite.size:
            profile["min"] = float(finite.min())
            profile["max"] = float(finite.max())
            profile["mean"] = float(finite.mean())
    return profile


def _target_type(values: Any) -> str:
    """Return scikit-learn's ``type_of_target``, or ``"unknown"``."""
    import numpy as np
    import pandas as pd
    from sklearn.utils.multiclass import type_of_target

    if values.dtype.kind == "f" and not np.isfinite(values).all():
        # type_of_target rejects missing values; they only occur in regression.
        return "continuous" if values.ndim == 1 else "continuous-multioutput"
    if values.ndim == 1 and values.size and values.dtype.kind in "biuf":
        # type_of_target's answer for 1-D numbers, in one pass instead of several
        if values.dtype.kind == "f" and not np.array_equal(values, np.floor(values)):
            return "continuous"
        return "binary" if len(pd.unique(values)) <= 2 else "multiclass"
    try:
        return str(type_of_target(values))
    except (ValueError, TypeError):
        return "unknown"


def _scalar(value: Any) -> object:
    """Turn a numpy, pandas or datetime scalar into a JSON-ready value."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def json_safe(value: object) -> object:
    """Replace non-finite floats by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value
