"""MLflow's scoring protocol, read safely: Content-Type, JSON formats, CSV, Parquet.

``parse_request`` turns a ``POST /invocations`` body into model input and params,
as ``mlflow models serve`` does (``dataframe_split``, ``dataframe_records``,
``instances``, ``inputs``, optional ``params``), with two differences: a missing or
unknown Content-Type is a 415 (MLflow answers 500 when it is missing), and a value
that a column's type cannot hold exactly (``1.5`` in an integer column) is a 400
naming the column instead of a silent truncation.
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mltrail._errors import MltrailError

if TYPE_CHECKING:
    import pandas as pd

    from mltrail.models._signature import Schema

__all__ = [
    "CONTENT_TYPES",
    "JSON_FORMATS",
    "ParsedRequest",
    "ScoringError",
    "coerce_columns",
    "coerce_tensor",
    "parse_request",
]

CONTENT_TYPES = ("application/json", "text/csv", "application/vnd.apache.parquet")
JSON_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_SPLIT_KEYS = frozenset({"columns", "data", "index"})
_INTEGER_TYPES = frozenset({"integer", "long"})
_NUMBER_TYPES = _INTEGER_TYPES | {"float", "double"}
_INTEGER_LIMITS = {"integer": 2**31, "long": 2**63}
_EXACT_INT = 2**53  # the integers float64 holds exactly
_UTF8_BOM = b"\xef\xbb\xbf"
# 19 digits in a row may be an integer beyond 64 bits, which orjson reads as a float.
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


class ScoringError(MltrailError):
    """A request the scoring server refuses: an HTTP status, MLflow's code, a message.

    Parameters
    ----------
    status : int
        The HTTP status, such as 400 or 415.
    error_code : str
        MLflow's error code, such as ``"BAD_REQUEST"``.
    message : str
        What is wrong with the request, naming the value, with a hint.
    """

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


def _bad(message: str, code: str = "BAD_REQUEST") -> ScoringError:
    return ScoringError(400, code, message)


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A request's model input (a DataFrame or an array) and its params."""

    data: Any
    params: dict[str, Any] | None = None
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    #: What requests share when their inputs concatenate into one predict call
    #: (``MicroBatcher``); None when the batcher must look at ``data`` itself.
    batch_key: tuple[object, ...] | None = None


def _media_type(content_type: str | None) -> str:
    """Check the Content-Type header as MLflow does, and return its media type."""
    if not content_type:
        raise ScoringError(
            415,
            "BAD_REQUEST",
            "The request has no Content-Type header. Send one of "
            f"{', '.join(CONTENT_TYPES)}, such as 'Content-Type: application/json'.",
        )
    media, *parameters = (part.strip() for part in content_type.split(";"))
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() != "charset":
            raise ScoringError(
                415,
                "BAD_REQUEST",
                f"Unrecognized content type parameters: {key.strip()}. The scoring "
                "protocol takes 'charset=utf-8' only.",
            )
        if value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise ScoringError(
                415, "BAD_REQUEST", "The scoring server only supports UTF-8."
            )
    media = media.lower()
    if media not in CONTENT_TYPES:
        raise ScoringError(
            415,
            "BAD_REQUEST",
            f"This predictor only supports the following content types: "
            f"{list(CONTENT_TYPES)}. Got {content_type!r}.",
        )
    return media


def _loads(body: bytes) -> Any:
    """Read JSON as ``json.loads`` does, with orjson for what it reads the same way.

    orjson refuses a few texts ``json`` takes (``NaN``, lone surrogates) and reads
    integers beyond 64 bits as floats: those bodies are read by ``json``, so every
    body means what it means to MLflow's server.
    """
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson comes with the server extra
        return json.loads(body.decode("utf-8"))
    if _LONG_DIGITS.search(body) is not None:
        return json.loads(body.decode("utf-8"))
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body.decode("utf-8"))


def _json_body(body: bytes) -> dict[str, Any]:
    if body.startswith(_UTF8_BOM):  # as Windows tools write, and MLflow reads
        body = body[len(_UTF8_BOM) :]
    try:
        data = _loads(body)
    except (UnicodeDecodeError, ValueError):
        raise _bad(
            "Invalid input. Ensure that input is a valid JSON formatted string "
            "encoded in UTF-8."
        ) from None
    if not isinstance(data, dict):
        raise _bad(
            "Invalid input. The input must be a JSON dictionary with exactly one of "
            f"the input fields {set(JSON_FORMATS)}. Received a "
            f"{'list' if isinstance(data, list) else type(data).__name__}."
        )
    return data


def _exact_float(value: object) -> bool:
    """Whether float64 holds a JSON value exactly as pandas would read it."""
    if isinstance(value, bool):  # a bool is an int to Python, not to the schema
        return False
    if isinstance(value, int):
        return -_EXACT_INT <= value <= _EXACT_INT
    return isinstance(value, float)


def _numbers_frame(
    value: Mapping[str, Any], schema: Schema | None
) -> pd.DataFrame | None:
    """Read a split table of numbers for ``double`` columns as one float64 block.

    The common request (every column a ``double`` of the signature, every value a
    JSON number) skips pandas' per-column inference: one array, one block, and the
    same frame that inference and the signature's cast would give. Anything else
    returns None and takes the general path.
    """
    import numpy as np
    import pandas as pd

    columns, rows = value.get("columns"), value["data"]
    if (
        schema is None
        or schema.is_tensor_spec
        or not isinstance(columns, list)
        or not isinstance(rows, list)
        or not rows
        or set(value) - {"columns", "data"}
    ):
        return None
    types = {str(spec.name): getattr(spec, "type", None) for spec in schema.inputs}
    if len(set(map(str, columns))) != len(columns) or not all(
        isinstance(c, str) and types.get(c) == "double" for c in columns
    ):
        return None  # a name twice is refused by the general path
    width = len(columns)
    if not all(
        isinstance(row, list) and len(row) == width and all(map(_exact_float, row))
        for row in rows
    ):
        return None
    return pd.DataFrame(
        np.array(rows, dtype="float64"), columns=_column_index(tuple(columns))
    )


@functools.lru_cache(maxsize=64)
def _column_index(columns: tuple[str, ...]) -> pd.Index:
    """Return the column index of a request's names, made once for many requests."""
    import pandas as pd

    return pd.Index(columns)


def _frame_from_split(
    value: object, schema: Schema | None = None
) -> tuple[pd.DataFrame, bool]:
    """Return the table of a split request, and whether it is a block of numbers."""
    import pandas as pd

    if not isinstance(value, Mapping) or "data" not in value:
        raise _bad(
            "Invalid input. 'dataframe_split' must be an object with 'data' (a list "
            "of rows) and optional 'columns' and 'index'."
        )
    unknown = sorted(set(value) - _SPLIT_KEYS)
    if unknown:
        raise _bad(
            f"Invalid input. 'dataframe_split' has unknown keys {unknown}; it takes "
            "'columns', 'data' and 'index'."
        )
    numbers = _numbers_frame(value, schema)
    if numbers is not None:
        return numbers, True
    try:
        return pd.DataFrame(
            data=value["data"], columns=value.get("columns"), index=value.get("index")
        ), False
    except (ValueError, TypeError) as exc:
        raise _bad(f"Invalid input. 'dataframe_split' is not a table: {exc}") from None


def _frame_from_records(value: object) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise _bad(
            "Invalid input. 'dataframe_records' must be a list of objects, one per "
            'row, such as [{"x": 1.0}].'
        )
    return pd.DataFrame.from_records(value)


def _from_instances(value: object, schema: Schema | None) -> Any:
    import pandas as pd

    if isinstance(value, Mapping):
        return _frame_of_columns(value, "instances")
    if not isinstance(value, list):
        raise _bad(
            "Invalid input. 'instances' must be a list of rows or an object of columns."
        )
    if value and all(isinstance(v, Mapping) for v in value):
        return pd.DataFrame.from_records(value)
    return _array_or_frame(_as_array(value, "instances"), schema, "instances")


def _from_inputs(value: object, schema: Schema | None) -> Any:
    import pandas as pd

    if isinstance(value, Mapping):
        return _frame_of_columns(value, "inputs")
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return pd.DataFrame.from_records(value)
    return _array_or_frame(_as_array(value, "inputs"), schema, "inputs")


def _frame_of_columns(value: Mapping[str, Any], key: str) -> pd.DataFrame:
    """Read an object of columns; an object of single values is one row."""
    import pandas as pd

    columns = {str(name): column for name, column in value.items()}
    if columns and not any(isinstance(v, list | Mapping) for v in columns.values()):
        return pd.DataFrame([columns])
    try:
        return pd.DataFrame(columns)
    except (ValueError, TypeError) as exc:
        raise _bad(
            f"Invalid input. The columns of {key!r} must be lists of equal "
            f"lengths: {exc}"
        ) from None


def _as_array(value: object, key: str) -> Any:
    import numpy as np

    try:
        return np.asarray(value)
    except ValueError:
        raise _bad(
            f"Invalid input. The rows of {key!r} must all have the same length."
        ) from None


def _array_or_frame(array: Any, schema: Schema | None, key: str) -> Any:
    """Name the columns of a list of rows when the signature has names."""
    import pandas as pd

    if array.dtype == object and array.ndim != 2:
        raise _bad(f"Invalid input. The rows of {key!r} must all have the same length.")
    if schema is not None and schema.has_names and not schema.is_tensor_spec:
        names = schema.names()
        if array.ndim == 2 and array.shape[1] == len(names):
            return pd.DataFrame(array.tolist(), columns=names)
    return array


def _parse_json(body: bytes, schema: Schema | None) -> ParsedRequest:
    data = _json_body(body)
    present = [key for key in JSON_FORMATS if key in data]
    if "signature_name" in data:
        raise _bad("Invalid input. 'signature_name' is not supported.")
    if len(present) != 1:
        raise _bad(
            "Invalid input. The input must be a JSON dictionary with exactly one of "
            f"the input fields {set(JSON_FORMATS)}. Received dictionary with input "
            f"fields: {present}."
        )
    params = data.get("params")
    if params is not None and not isinstance(params, Mapping):
        raise _bad("Invalid input. 'params' must be an object of parameter values.")
    key = present[0]
    value = data[key]
    frame: Any
    if key == "dataframe_split":
        frame, numbers = _frame_from_split(value, schema)
        if numbers:
            # One float64 block of double columns: nothing for coerce_columns to
            # change, and every such request with these columns batches together.
            columns = list(value["columns"])  # str names: _numbers_frame checked
            return ParsedRequest(
                frame,
                dict(params) if params is not None else None,
                len(frame),
                columns,
                ("numbers", *columns),
            )
    elif key == "dataframe_records":
        frame = _frame_from_records(value)
    elif key == "instances":
        frame = _from_instances(value, schema)
    else:
        frame = _from_inputs(value, schema)
    return _parsed(frame, dict(params) if params is not None else None)


def _parsed(data: Any, params: dict[str, Any] | None) -> ParsedRequest:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        columns = [str(c) for c in data.columns]
        if len(set(columns)) != len(columns):
            twice = sorted({c for c in columns if columns.count(c) > 1})
            raise _bad(
                f"Invalid input. The columns {twice} appear more than once; name "
                "each column once."
            )
        if not len(data):
            raise _bad("Invalid input. The request has no rows; send at least one.")
        return ParsedRequest(data, params, len(data), columns)
    rows = int(data.shape[0]) if getattr(data, "ndim", 0) else 1
    return ParsedRequest(data, params, rows, [])


def _parse_csv(body: bytes, schema: Schema | None) -> ParsedRequest:
    import pandas as pd

    dtypes: dict[str, str] = {}
    if schema is not None and schema.has_names and not schema.is_tensor_spec:
        # Text columns stay text: "007" must not become the number 7.
        dtypes = {
            str(spec.name): "str"
            for spec in schema.inputs
            if getattr(spec, "type", None) == "string"
        }
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=dtypes or None)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise _bad(
            f"Failed to parse input as a Pandas DataFrame: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'empty input'}. Send CSV "
            "with a header row."
        ) from None
    return _parsed(frame, None)


def _parse_parquet(body: bytes) -> ParsedRequest:
    import pandas as pd

    try:
        frame = pd.read_parquet(io.BytesIO(body))
    except (ValueError, OSError) as exc:
        raise _bad(
            f"Failed to parse input as a Pandas DataFrame from Parquet: "
            f"{type(exc).__name__}. Send a Parquet file written by "
            "DataFrame.to_parquet()."
        ) from None
    return _parsed(frame, None)


def parse_request(
    body: bytes, content_type: str | None, schema: Schema | None
) -> ParsedRequest:
    """Return the model input of a ``/invocations`` body, or raise ScoringError."""
    media = _media_type(content_type)
    if media == "application/json":
        parsed = _parse_json(body, schema)
    elif media == "text/csv":
        parsed = _parse_csv(body, schema)
    else:
        parsed = _parse_parquet(body)
    text = media != CONTENT_TYPES[2]
    if schema is not None and schema.is_tensor_spec and text:
        return replace(parsed, data=coerce_tensor(parsed.data, schema))
    if schema is not None and parsed.batch_key is None:
        coerce_columns(parsed.data, schema, text=text)
    return parsed


def coerce_tensor(data: Any, schema: Schema) -> Any:
    """Give the numbers of a text request the signature's tensor dtype, losing nothing.

    JSON's ``null`` is a missing value, NaN, in a float tensor (an array of them
    and numbers reads as objects); JSON's numbers read as float64 or int64, and
    reach a float32 or int32 tensor narrowed when every value fits, as in
    ``coerce_columns``. Anything else is left to the signature's check.
    """
    import numpy as np
    import pandas as pd

    spec = schema.inputs[0]
    try:
        target = np.dtype(getattr(spec, "dtype", ""))
    except TypeError:  # "str", "bytes", "object"
        return data
    if target.kind not in "iuf":
        return data
    array = data.to_numpy() if isinstance(data, pd.DataFrame) else data
    if not isinstance(array, np.ndarray):
        return data
    if array.dtype == object and target.kind == "f":
        if not _holds_numbers_or_nulls(array.ravel()):
            return data
        array = np.array(
            [np.nan if v is None else v for v in array.ravel().tolist()],
            dtype="float64",
        ).reshape(array.shape)
    if array.dtype == target or array.dtype.kind not in "iuf":
        return array
    flat = array.ravel()
    if target == np.dtype("float32"):
        return _as_float32(flat, None, 0).reshape(array.shape)
    if target.kind in "iu" and array.dtype.kind in "iu":
        info = np.iinfo(target)
        if len(flat) and (flat.min() < info.min or flat.max() > info.max):
            raise _bad(
                f"Invalid input. The input holds a number outside the range of "
                f"{target.name!r}, the model signature's dtype.",
                "INVALID_PARAMETER_VALUE",
            )
        return array.astype(target)
    return array


def _first_lossy(values: Any) -> tuple[int, object] | None:
    """Return the position and value of the first number that is not an integer."""
    import numpy as np

    finite = np.isfinite(values)
    bad = ~finite | (values != np.floor(np.where(finite, values, 0)))
    positions = np.flatnonzero(bad)
    if not len(positions):
        return None
    position = int(positions[0])
    value = values[position]
    return position, (None if math.isnan(value) else float(value))


def _holds_numbers_or_nulls(column: Any) -> bool:
    return all(
        value is None
        or (isinstance(value, int | float) and not isinstance(value, bool))
        for value in column.tolist()
    )


def coerce_columns(
    data: Any, schema: Schema, *, text: bool = True, first_row: int = 0
) -> None:
    """Give the columns of a request the signature's number types, losing nothing.

    JSON has one number type, and CSV none: ``1.0`` reaches an integer column as
    a float, ``7`` reaches an ``integer`` (int32) column as an int64, and ``0.5``
    a ``float`` (float32) column as a float64. Such a column is cast to the
    signature's type when every value fits it. Otherwise this raises a 400 that
    names the column, the row and the value: the value would lose information
    (MLflow truncates ``1.5`` to ``1`` silently). ``text`` says the numbers were
    written as decimal text (JSON, CSV), which a ``float`` column reads to its
    nearest float32 as it reads any decimal; a Parquet file's float64 values are
    binary, and narrowing them is left to the signature's check, which refuses it.
    ``first_row`` is the number of the frame's first row in its file, for the
    messages of a file read in chunks.
    """
    import pandas as pd

    if not isinstance(data, pd.DataFrame) or schema.is_tensor_spec:
        return
    types = {str(spec.name): getattr(spec, "type", None) for spec in schema.inputs}
    for name, dtype in zip(data.columns, data.dtypes, strict=True):
        kind = types.get(str(name))
        # Only the columns that can change are read at all: a request's columns
        # are mostly numbers of the right kind, float64 for double or int64 for
        # long.
        if kind not in _NUMBER_TYPES or not _may_change(str(kind), dtype):
            continue
        column = data[name]
        if column.dtype == object and _holds_numbers_or_nulls(column):
            # JSON null in a number column: a missing value, as NaN.
            column = pd.to_numeric(column).astype("float64")
            data[name] = column
        if kind == "float":
            if column.dtype.kind in "iuf" and (text or column.dtype.kind != "f"):
                data[name] = _as_float32(column.to_numpy(), str(name), first_row)
            continue
        if kind not in _INTEGER_TYPES or column.dtype.kind not in "iuf":
            continue
        values = column.to_numpy()
        if values.dtype.kind == "f":
            lossy = _first_lossy(values)
            if lossy is not None:
                position, value = lossy
                shown = "a missing value" if value is None else repr(value)
                raise _bad(
                    f"Invalid input. Column {str(name)!r} is {kind!r} in the model "
                    f"signature, but row {first_row + position} holds {shown}, which "
                    "it cannot hold exactly. Send whole numbers for this column.",
                    "INVALID_PARAMETER_VALUE",
                )
        limit = _INTEGER_LIMITS[str(kind)]
        if len(values) and (values.max() >= limit or values.min() < -limit):
            raise _bad(
                f"Invalid input. Column {str(name)!r} holds a number outside the "
                f"range of {kind!r}.",
                "INVALID_PARAMETER_VALUE",
            )
        data[name] = values.astype("int64" if kind == "long" else "int32")


def _may_change(kind: str, dtype: Any) -> bool:
    """Whether a column of this dtype may need a cast to the signature's ``kind``."""
    import numpy as np

    if not isinstance(dtype, np.dtype):  # masked numbers, text: the signature checks
        return False
    if dtype.kind == "O":
        return True
    if kind == "integer":
        return dtype.kind == "f" or (dtype.kind in "iu" and str(dtype) != "int32")
    if kind == "long":
        return dtype.kind == "f"
    if kind == "float":
        return dtype.kind in "iuf" and str(dtype) != "float32"
    return False


def _as_float32(values: Any, name: str | None, first_row: int) -> Any:
    """Return numbers as float32, or raise a 400 for one that float32 cannot hold.

    A float beyond float32's range would become infinite; an integer beyond 2**24
    may become another integer. Missing values (NaN) stay missing. ``name`` is the
    column's, None for a tensor.
    """
    import numpy as np

    with np.errstate(over="ignore"):  # an overflow is found below, and refused
        narrowed = values.astype("float32")
    if values.dtype.kind == "f":
        lost = np.isinf(narrowed) & np.isfinite(values)
    else:
        lost = narrowed.astype(values.dtype) != values
    positions = np.flatnonzero(lost)
    if len(positions):
        position = int(positions[0])
        where = (
            "The input tensor is 'float32' in the model signature, but it"
            if name is None
            else f"Column {name!r} is 'float' (32 bits) in the model signature, "
            f"but row {first_row + position}"
        )
        raise _bad(
            f"Invalid input. {where} holds {values[position].item()!r}, which "
            "float32 cannot hold exactly.",
            "INVALID_PARAMETER_VALUE",
        )
    return narrowed
