"""Model signatures: column and tensor specs, schemas, and their inference from data.

The JSON written by ``to_dict`` is byte for byte what MLflow writes, so MLflow reads
mltrail's signatures and mltrail reads MLflow's. numpy and pandas load only when a
function needs them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from mltrail._errors import InvalidValueError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "COLUMN_TYPES",
    "ColSpec",
    "DataType",
    "ModelSignature",
    "Schema",
    "TensorSpec",
    "column_type_of_dtype",
    "infer_schema",
    "infer_signature",
]

COLUMN_TYPES = (
    "boolean",
    "integer",
    "long",
    "float",
    "double",
    "string",
    "binary",
    "datetime",
    "any",
)
ColumnType = Literal[
    "boolean", "integer", "long", "float", "double", "string", "binary", "datetime"
]
# Missing values and object types are read from this many first rows, so that
# inference costs the same on a large X as on a small one.
NULL_SCAN_ROWS = 100_000
# What pandas.api.types.infer_dtype says about an object column, as a column type.
_INFERRED_OBJECT_TYPES: dict[str, ColumnType] = {
    "string": "string",
    "bytes": "binary",
    "boolean": "boolean",
    "integer": "long",
    "floating": "double",
    "mixed-integer-float": "double",
    "datetime": "datetime",
    "datetime64": "datetime",
    "date": "datetime",
}


class DataType(StrEnum):
    """MLflow's column types, for ``ColSpec(DataType.double, "alcohol")``.

    Each member is the str that ``ColSpec`` takes, so either can be passed.

    Examples
    --------
    >>> from mltrail.types import ColSpec, DataType
    >>> ColSpec(DataType.double, "alcohol").type
    'double'
    >>> [member.value for member in DataType][:3]
    ['boolean', 'integer', 'long']
    """

    boolean = "boolean"
    integer = "integer"
    long = "long"
    float = "float"
    double = "double"
    string = "string"
    binary = "binary"
    datetime = "datetime"


@dataclass(frozen=True, slots=True)
class ColSpec:
    """One column of a tabular input or output: its MLflow type, name and nullability.

    Parameters
    ----------
    type : str or DataType
        One of ``boolean``, ``integer`` (int32), ``long`` (int64), ``float``
        (float32), ``double`` (float64), ``string``, ``binary``, ``datetime`` or
        ``any`` (MLflow's type for values it does not check).
    name : str or None, default=None
        The column name; None for an unnamed column.
    required : bool, default=True
        False when the column may hold missing values or be absent.

    Raises
    ------
    InvalidValueError
        If ``type`` is not one of the types above.

    Examples
    --------
    >>> from mltrail.models import ColSpec
    >>> ColSpec("double", "alcohol").to_dict()
    {'type': 'double', 'name': 'alcohol', 'required': True}
    """

    type: str
    name: str | None = None
    required: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.type, DataType):
            # Kept as the plain str, so equality, repr and YAML stay as before.
            object.__setattr__(self, "type", self.type.value)
        if self.type not in COLUMN_TYPES:
            raise InvalidValueError(
                "column type", self.type, f"one of {', '.join(COLUMN_TYPES)}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as MLflow writes it.

        Returns
        -------
        dict
            ``{"type": ..., "name": ..., "required": ...}``; no ``name`` when unnamed.

        Examples
        --------
        >>> from mltrail.models import ColSpec
        >>> ColSpec("long", required=False).to_dict()
        {'type': 'long', 'required': False}
        """
        result: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            result["name"] = self.name
        result["required"] = self.required
        return result


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """A tensor input or output: its numpy dtype name and shape (-1 is any size).

    Parameters
    ----------
    dtype : str
        A numpy dtype name such as ``"float64"``; ``"str"`` and ``"bytes"`` carry no
        size.
    shape : tuple of int
        The shape, with -1 for a dimension of any size (usually the first).
    name : str or None, default=None
        The tensor name; None for an unnamed tensor.

    Examples
    --------
    >>> from mltrail.models import TensorSpec
    >>> TensorSpec("float64", (-1, 13)).to_dict()
    {'type': 'tensor', 'tensor-spec': {'dtype': 'float64', 'shape': [-1, 13]}}
    """

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def __post_init__(self) -> None:
        # Accept lists (as read from JSON) but keep the record hashable.
        object.__setattr__(self, "shape", tuple(int(size) for size in self.shape))

    @property
    def required(self) -> bool:
        """Always True: a tensor cannot be left out."""
        return True

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as MLflow writes it.

        Returns
        -------
        dict
            ``{"type": "tensor", "tensor-spec": {"dtype": ..., "shape": [...]}}``,
            with ``name`` first when named.

        Examples
        --------
        >>> from mltrail.models import TensorSpec
        >>> TensorSpec("int64", (-1,), "label").to_dict()["name"]
        'label'
        """
        spec = {"dtype": self.dtype, "shape": list(self.shape)}
        if self.name is None:
            return {"type": "tensor", "tensor-spec": spec}
        return {"name": self.name, "type": "tensor", "tensor-spec": spec}


@dataclass(frozen=True, slots=True)
class Schema:
    """The inputs or the outputs of a model: all column specs, or all tensor specs.

    Parameters
    ----------
    inputs : tuple of ColSpec or tuple of TensorSpec
        The specs, in order. Column and tensor specs cannot be mixed, and names are
        either all set and unique, or all None.

    Raises
    ------
    InvalidValueError
        If the specs are mixed, partly named or named twice.

    Examples
    --------
    >>> from mltrail.models import ColSpec, Schema
    >>> schema = Schema((ColSpec("double", "a"), ColSpec("long", "b")))
    >>> schema.to_json()
    '[{"type": "double", "name": "a", "required": true}, {"type": "long", "name": "b", "required": true}]'
    """  # noqa: E501 - the doctest output is one long line

    inputs: tuple[ColSpec | TensorSpec, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        kinds = {type(spec) for spec in self.inputs}
        if len(kinds) > 1:
            raise InvalidValueError(
                "schema",
                self.inputs,
                "all column specs or all tensor specs",
                "Split the data into one kind.",
            )
        names = [spec.name for spec in self.inputs]
        named = [name for name in names if name is not None]
        if named and (len(named) != len(names) or len(set(named)) != len(named)):
            raise InvalidValueError(
                "schema names", names, "all None, or all set and unique"
            )

    @property
    def is_tensor_spec(self) -> bool:
        """Whether the specs are tensors."""
        return bool(self.inputs) and isinstance(self.inputs[0], TensorSpec)

    @property
    def has_names(self) -> bool:
        """Whether the specs are named."""
        return bool(self.inputs) and self.inputs[0].name is not None

    def names(self) -> list[str]:
        """Return the names of the specs, in order.

        Returns
        -------
        list of str
            The names; empty when the specs are unnamed.

        Examples
        --------
        >>> from mltrail.models import ColSpec, Schema
        >>> Schema((ColSpec("double", "x"),)).names()
        ['x']
        """
        return [spec.name for spec in self.inputs if spec.name is not None]

    def to_dict(self) -> list[dict[str, Any]]:
        """Return the specs as a list of MLflow's JSON objects.

        Returns
        -------
        list of dict
            One dict per spec.

        Examples
        --------
        >>> from mltrail.models import Schema, TensorSpec
        >>> Schema((TensorSpec("int64", (-1,)),)).to_dict()[0]["type"]
        'tensor'
        """
        return [spec.to_dict() for spec in self.inputs]

    def to_json(self) -> str:
        """Return the specs as MLflow's JSON string.

        Returns
        -------
        str
            The JSON list, with ``json.dumps``' default separators.

        Examples
        --------
        >>> from mltrail.models import Schema, TensorSpec
        >>> Schema((TensorSpec("int64", (-1,)),)).to_json()
        '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
        """
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, specs: Sequence[Mapping[str, Any]]) -> Schema:
        """Build a schema from MLflow's list of JSON objects.

        Parameters
        ----------
        specs : sequence of mapping
            As returned by ``to_dict``, or read from an ``MLmodel`` file.

        Returns
        -------
        Schema
            The schema.

        Raises
        ------
        InvalidValueError
            If a spec is not a column or tensor spec that mltrail understands.

        Examples
        --------
        >>> from mltrail.models import Schema
        >>> Schema.from_dict([{"type": "long", "name": "n"}]).inputs[0].required
        True
        """
        return cls(tuple(_spec_from_dict(spec) for spec in specs))

    @classmethod
    def from_json(cls, text: str) -> Schema:
        """Build a schema from MLflow's JSON string.

        Parameters
        ----------
        text : str
            A JSON list of specs, as in an ``MLmodel`` file.

        Returns
        -------
        Schema
            The schema.

        Raises
        ------
        InvalidValueError
            If the text is not a JSON list of specs.

        Examples
        --------
        >>> from mltrail.models import Schema
        >>> Schema.from_json('[{"type": "double", "name": "x", "required": false}]')
        Schema(inputs=(ColSpec(type='double', name='x', required=False),))
        """
        try:
            specs = json.loads(text)
        except (TypeError, ValueError):
            specs = None
        if not isinstance(specs, list):
            raise InvalidValueError("schema JSON", text, "a JSON list of specs")
        return cls.from_dict(specs)


def _spec_from_dict(spec: Mapping[str, Any]) -> ColSpec | TensorSpec:
    if not isinstance(spec, Mapping) or "type" not in spec:
        raise InvalidValueError("spec", spec, "a JSON object with a 'type' key")
    if spec["type"] == "tensor":
        tensor = spec.get("tensor-spec")
        shape = tensor.get("shape") if isinstance(tensor, Mapping) else None
        if (
            not isinstance(tensor, Mapping)
            or "dtype" not in tensor
            or not isinstance(shape, list)
            or not all(type(size) is int for size in shape)
        ):
            raise InvalidValueError(
                "tensor spec",
                spec,
                "a 'tensor-spec' object with 'dtype' and a 'shape' list of integers",
            )
        return TensorSpec(
            str(tensor["dtype"]), tuple(tensor["shape"]), spec.get("name")
        )
    if spec["type"] not in COLUMN_TYPES:
        raise InvalidValueError(
            "column type",
            spec["type"],
            f"one of {', '.join(COLUMN_TYPES)}",
            "Arrays, objects and maps in signatures are not supported by mltrail.",
        )
    return ColSpec(spec["type"], spec.get("name"), bool(spec.get("required", True)))


@dataclass(frozen=True, slots=True)
class ModelSignature:
    """What a model takes and returns: an input schema and an output schema.

    Parameters
    ----------
    inputs : Schema or None, default=None
        The input schema.
    outputs : Schema or None, default=None
        The output schema.

    Examples
    --------
    >>> from mltrail.models import ColSpec, ModelSignature, Schema, TensorSpec
    >>> signature = ModelSignature(
    ...     Schema((ColSpec("double", "x"),)), Schema((TensorSpec("int64", (-1,)),))
    ... )
    >>> signature.to_dict()["params"] is None
    True
    """

    inputs: Schema | None = None
    outputs: Schema | None = None

    def to_dict(self) -> dict[str, str | None]:
        """Return the signature as it appears in ``MLmodel``: JSON strings per schema.

        Returns
        -------
        dict
            ``{"inputs": str or None, "outputs": str or None, "params": None}``.

        Examples
        --------
        >>> from mltrail.models import ModelSignature
        >>> ModelSignature().to_dict()
        {'inputs': None, 'outputs': None, 'params': None}
        """
        return {
            "inputs": self.inputs.to_json()
            if self.inputs and self.inputs.inputs
            else None,
            "outputs": (
                self.outputs.to_json() if self.outputs and self.outputs.inputs else None
            ),
            "params": None,
        }

    @classmethod
    def from_dict(cls, signature: Mapping[str, Any]) -> ModelSignature:
        """Read a signature from its ``MLmodel`` form; ``params`` are ignored.

        Parameters
        ----------
        signature : mapping
            With ``inputs`` and ``outputs`` JSON strings (or None).

        Returns
        -------
        ModelSignature
            The signature.

        Raises
        ------
        InvalidValueError
            If a schema does not parse.

        Examples
        --------
        >>> from mltrail.models import ModelSignature
        >>> ModelSignature.from_dict({"inputs": '[{"type": "long"}]'}).outputs is None
        True
        """
        inputs = signature.get("inputs")
        outputs = signature.get("outputs")
        return cls(
            Schema.from_json(inputs) if inputs else None,
            Schema.from_json(outputs) if outputs else None,
        )


def column_type_of_dtype(dtype: Any) -> ColumnType | None:
    """Return the MLflow column type of a numpy or pandas dtype, or None if it has none.

    Object dtypes return None: their type depends on their values.
    """
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return column_type_of_dtype(dtype.categories.dtype)
    if isinstance(dtype, pd.StringDtype):
        return "string"
    kind = dtype.kind
    itemsize = dtype.itemsize
    if kind == "b":
        return "boolean"
    if kind in "iu":
        if itemsize < 4 or (kind == "i" and itemsize == 4):
            return "integer"
        if itemsize < 8 or kind == "i":
            return "long"
        return None  # uint64 does not fit in any MLflow type
    if kind == "f":
        return "float" if itemsize <= 4 else "double" if itemsize <= 8 else None
    if kind == "U":
        return "string"
    if kind == "S":
        return "binary"
    if kind == "M":
        return "datetime"
    return None


def _is_nullable_dtype(dtype: Any) -> bool:
    """Whether the dtype itself admits pd.NA (masked numeric, boolean, ``string``)."""
    import pandas as pd
    from pandas.api.extensions import ExtensionDtype

    if isinstance(dtype, pd.StringDtype):
        return dtype.na_value is pd.NA
    return isinstance(dtype, ExtensionDtype) and dtype.kind in "biuf"


def _columns_with_nulls(frame: pd.DataFrame) -> list[bool]:
    """Tell, per column, whether the first ``NULL_SCAN_ROWS`` rows hold a missing value.

    Columns whose dtype cannot hold one (numpy integers and booleans) are not read.
    """
    result = [False] * frame.shape[1]
    can_hold = [
        position
        for position, dtype in enumerate(frame.dtypes)
        if _is_extension(dtype) or dtype.kind not in "biu"
    ]
    if not can_hold or frame.shape[0] == 0:
        return result
    head = frame.iloc[:NULL_SCAN_ROWS, can_hold]
    for position, found in zip(can_hold, head.isna().any().tolist(), strict=True):
        result[position] = bool(found)
    return result


def _is_extension(dtype: Any) -> bool:
    from pandas.api.extensions import ExtensionDtype

    return isinstance(dtype, ExtensionDtype)


def _column_spec(
    name: str | None, dtype: Any, has_nulls: bool, frame: pd.DataFrame, position: int
) -> ColSpec:
    import pandas as pd

    column_type = column_type_of_dtype(dtype)
    if (
        column_type is None
        and dtype.kind == "O"
        and not isinstance(dtype, pd.CategoricalDtype)
    ):
        # An object column: its type is that of its values.
        column = frame.iloc[:NULL_SCAN_ROWS, position]
        inferred = pd.api.types.infer_dtype(column, skipna=True)
        column_type = _INFERRED_OBJECT_TYPES.get(inferred)
        if inferred == "empty":
            column_type = "string"
    if column_type is None:
        shown = repr(name) if name is not None else "the unnamed column"
        raise InvalidValueError(
            f"the dtype of column {shown}",
            str(dtype),
            "a boolean, integer, float, string, bytes or datetime dtype",
            "Convert the column, or pass signature=False to save without one.",
        )
    required = not (_is_nullable_dtype(dtype) or has_nulls)
    return ColSpec(column_type, name, required)


def _tensor_dtype_name(dtype: np.dtype[Any]) -> str:
    if dtype.kind == "U":
        return "str"
    if dtype.kind == "S":
        return "bytes"
    return dtype.name


def infer_schema(data: Any) -> Schema:
    """Infer the schema of a DataFrame, Series, array, sparse matrix or list.

    A DataFrame gives named column specs; a Series one column spec; an array or
    sparse matrix one tensor spec with a variable first dimension.

    Parameters
    ----------
    data : DataFrame, Series, ndarray, sparse matrix or list
        The data. Only dtypes are read, and each column is scanned once for nulls.

    Returns
    -------
    Schema
        The schema.

    Raises
    ------
    InvalidValueError
        If the data or one of its columns has no MLflow type.

    Examples
    --------
    >>> import numpy as np
    >>> from mltrail.models import infer_schema
    >>> infer_schema(np.zeros((3, 2))).to_dict()
    [{'type': 'tensor', 'tensor-spec': {'dtype': 'float64', 'shape': [-1, 2]}}]
    """
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        has_nulls = _columns_with_nulls(data)
        return Schema(
            tuple(
                _column_spec(str(name), dtype, has_nulls[position], data, position)
                for position, (name, dtype) in enumerate(data.dtypes.items())
            )
        )
    if isinstance(data, pd.Series):
        name = None if data.name is None else str(data.name)
        frame = data.to_frame()
        return Schema(
            (_column_spec(name, data.dtype, _columns_with_nulls(frame)[0], frame, 0),)
        )
    if hasattr(data, "tocsr") and hasattr(data, "dtype") and hasattr(data, "shape"):
        # A scipy sparse matrix or array: a tensor of its values' dtype.
        return Schema(
            (TensorSpec(_tensor_dtype_name(data.dtype), (-1, *data.shape[1:])),)
        )
    if isinstance(data, list | tuple):
        data = np.asarray(data)
    if isinstance(data, np.ndarray):
        if data.ndim == 0:
            raise InvalidValueError(
                "data", data, "an array with at least one dimension"
            )
        return Schema(
            (TensorSpec(_tensor_dtype_name(data.dtype), (-1, *data.shape[1:])),)
        )
    raise InvalidValueError(
        "data",
        type(data).__name__,
        "a pandas DataFrame or Series, a numpy array, a sparse matrix or a list",
    )


def infer_signature(model_input: Any, model_output: Any = None) -> ModelSignature:
    """Infer a model signature from an input and, optionally, the model's output.

    A pandas ``X`` gives named columns with MLflow's types; nullable dtypes
    (``Int64``, ``Float64``, ``boolean``, ``string``) map to their base type with
    ``required: false``, and so does a column holding missing values; a categorical
    column takes the type of its categories. A numpy ``X`` gives a tensor spec such
    as ``float64 [-1, n_features]``. Only dtypes are read and nothing is copied.

    Parameters
    ----------
    model_input : DataFrame, ndarray, sparse matrix, Series or list
        The model input, such as ``X``.
    model_output : DataFrame, ndarray, Series, list or None, default=None
        What ``predict`` returns for it.

    Returns
    -------
    ModelSignature
        The signature; ``outputs`` is None without ``model_output``.

    Raises
    ------
    InvalidValueError
        If a column has a dtype with no MLflow type (complex, timedelta, mixed).

    Examples
    --------
    >>> import pandas as pd
    >>> from mltrail.models import infer_signature
    >>> X = pd.DataFrame({"age": pd.array([31, None], dtype="Int64")})
    >>> infer_signature(X).to_dict()["inputs"]
    '[{"type": "long", "name": "age", "required": false}]'
    """
    outputs = None if model_output is None else infer_schema(model_output)
    return ModelSignature(infer_schema(model_input), outputs)
