"""Input examples: the first rows of ``X`` as ``input_example.json``, as MLflow does.

Only the first rows are sliced from ``X``; the rest is never copied.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mltrail._errors import InvalidValueError

__all__ = [
    "EXAMPLE_FILE",
    "EXAMPLE_ROWS",
    "SERVING_EXAMPLE_FILE",
    "InputExample",
    "example_as_data",
    "load_input_example",
    "make_input_example",
]

EXAMPLE_ROWS = 5
EXAMPLE_FILE = "input_example.json"
SERVING_EXAMPLE_FILE = "serving_input_example.json"


@dataclass(frozen=True, slots=True)
class InputExample:
    """A JSON-ready example and the ``saved_input_example_info`` that describes it."""

    example: Any
    serving: dict[str, Any]
    info: dict[str, str]

    def save(self, directory: Path) -> None:
        """Write ``input_example.json`` and ``serving_input_example.json``."""
        (directory / EXAMPLE_FILE).write_text(
            json.dumps(self.example, allow_nan=False), encoding="utf-8"
        )
        (directory / SERVING_EXAMPLE_FILE).write_text(
            json.dumps(self.serving, indent=2, allow_nan=False), encoding="utf-8"
        )


def _to_json_value(value: Any) -> Any:
    """Turn one cell into a JSON value: NaN and NA to None, numpy scalars to Python."""
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _to_json_list(values: Any) -> Any:
    if isinstance(values, list):
        return [_to_json_list(item) for item in values]
    return _to_json_value(values)


def example_as_data(example: Any) -> Any:
    """Return a dict example as a DataFrame, and any other example as it is.

    As MLflow reads a dict: scalars are one row (``X.iloc[0].to_dict()``), lists
    are columns (``X.to_dict(orient="list")``).
    """
    if not isinstance(example, Mapping):
        return example
    import pandas as pd

    columns = dict(example)
    if all(_is_scalar(value) for value in columns.values()):
        return pd.DataFrame([columns])
    return pd.DataFrame(columns)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | bytes) or not hasattr(value, "__len__")


def make_input_example(X: Any, rows: int = EXAMPLE_ROWS) -> InputExample:
    """Build the example from the first ``rows`` rows of ``X``, slicing only those.

    A DataFrame gives ``{"columns": [...], "data": [...]}`` (MLflow's split orient,
    with ``columns`` left out when they are the default range); an array or a sparse
    matrix gives nested lists.
    """
    import numpy as np
    import pandas as pd

    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        head = X.iloc[:rows]
        data = [
            [_to_json_value(value) for value in row]
            for row in head.to_numpy(dtype=object).tolist()
        ]
        labels: list[Any] = list(X.columns)
        columns = [name if isinstance(name, int) else str(name) for name in labels]
        split: dict[str, Any] = {"columns": columns, "data": data}
        if labels == list(range(X.shape[1])):
            del split["columns"]
        return InputExample(
            split,
            {"dataframe_split": split},
            {
                "artifact_path": EXAMPLE_FILE,
                "serving_input_path": SERVING_EXAMPLE_FILE,
                "type": "dataframe",
                "pandas_orient": "split",
            },
        )
    if hasattr(X, "tocsr") and hasattr(X, "shape"):
        return _sparse_example(X, rows)
    if isinstance(X, list | tuple):
        X = np.asarray(X[:rows])
    if not isinstance(X, np.ndarray) or X.ndim == 0:
        raise InvalidValueError(
            "input example",
            type(X).__name__,
            "a pandas DataFrame, a numpy array, a sparse matrix or a list of rows",
        )
    nested = _to_json_list(X[:rows].tolist())
    return InputExample(
        nested,
        {"inputs": nested},
        {
            "artifact_path": EXAMPLE_FILE,
            "serving_input_path": SERVING_EXAMPLE_FILE,
            "type": "ndarray",
        },
    )


def _sparse_example(X: Any, rows: int) -> InputExample:
    """Build MLflow's example of a sparse matrix: its CSR (or CSC) arrays.

    ``serving_input_example.json`` holds the same rows dense, as MLflow writes it.
    """
    kind = "csc" if getattr(X, "format", None) == "csc" else "csr"
    try:
        head = X[:rows]
    except TypeError:  # COO and DIA matrices cannot be sliced
        head = X.tocsr()[:rows]
    head = head.tocsc() if kind == "csc" else head.tocsr()
    example = {
        "data": _to_json_list(head.data.tolist()),
        "indices": head.indices.tolist(),
        "indptr": head.indptr.tolist(),
        "shape": list(head.shape),
    }
    return InputExample(
        example,
        {"inputs": _to_json_list(head.toarray().tolist())},
        {
            "artifact_path": EXAMPLE_FILE,
            "serving_input_path": SERVING_EXAMPLE_FILE,
            "type": f"sparse_matrix_{kind}",
        },
    )


def load_input_example(directory: Path, info: dict[str, Any]) -> Any:
    """Read a saved example back as a DataFrame, a sparse matrix or an array."""
    import numpy as np
    import pandas as pd

    example = json.loads((directory / info["artifact_path"]).read_text("utf-8"))
    if info.get("type") == "dataframe":
        if isinstance(example, dict) and "data" in example:
            return pd.DataFrame(example["data"], columns=example.get("columns"))
        return pd.DataFrame(example)
    if info.get("type") in ("sparse_matrix_csr", "sparse_matrix_csc"):
        from scipy import sparse

        matrix = (
            sparse.csc_matrix
            if info["type"] == "sparse_matrix_csc"
            else (sparse.csr_matrix)
        )
        arrays = (example["data"], example["indices"], example["indptr"])
        return matrix(arrays, shape=tuple(example["shape"]))
    return np.asarray(example)
