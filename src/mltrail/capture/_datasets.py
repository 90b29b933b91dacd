"""Dataset fingerprints, schemas and profiles, in MLflow's dataset shape.

The digest covers the whole content, never a sample: contiguous numeric buffers go
to XXH3-128 (the ``xxhash`` package) without a copy, at about 24 GB/s on the
reference machine (SHA-1 managed 1.9), other data in bounded chunks. numpy, pandas,
scipy and xxhash load only when a function runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mltrail._entities import Dataset, DatasetInput, InputTag
from mltrail._system_tags import DATASET_CONTEXT_TAG
from mltrail.capture._dataset_profile import (
    array_columns,
    as_supported,
    frame_profile,
    is_sparse,
    json_safe,
    nbytes,
    target_profile,
    tensorspec,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

__all__ = [
    "DatasetDescription",
    "SplitLineage",
    "count_shared_rows",
    "dataset_digest",
    "describe_dataset",
    "locate_rows",
    "row_hashes",
    "write_parquet",
]

DIGEST_LENGTH = 32
CHUNK_BYTES = 16 << 20
# Rows per block of ``row_hashes``: their values fit in the CPU's cache.
ROW_HASH_BLOCK_BYTES = 256 << 10
SOURCE_TYPE = "code"

# numpy dtype kinds whose bytes are the value: bool, ints, floats, complex,
# datetimes, timedeltas, fixed-width bytes and unicode, and structured records.
_RAW_KINDS = frozenset("biufcmMSUV")
# numpy dtype kinds hashed from their bits by ``row_hashes``: bool, ints, floats,
# datetimes and timedeltas (of at most 8 bytes).
_NUMERIC_KINDS = frozenset("biufmM")
_MIXED = frozenset({"mixed", "mixed-integer", "mixed-integer-float", "unknown-array"})


@dataclass(frozen=True, slots=True)
class SplitLineage:
    """Where a train or test set comes from: its parent and the split's arguments.

    Parameters
    ----------
    parent_digest : str
        The digest of the dataset that was split.
    test_size, train_size : float, int or None
        The arguments given to the split (None when not given).
    random_state : int, str or None
        The seed; a ``RandomState`` or ``Generator`` is described by its type name,
        because it does not reproduce the split.
    shuffle : bool
        Whether the rows were shuffled.
    stratify : str or None
        A description of the labels the split was stratified on, or None.

    Examples
    --------
    >>> from mltrail.capture._datasets import SplitLineage
    >>> SplitLineage("ab12", test_size=0.25, random_state=0).to_dict()["test_size"]
    0.25
    """

    parent_digest: str
    test_size: float | int | None = None
    train_size: float | int | None = None
    random_state: int | str | None = None
    shuffle: bool = True
    stratify: str | None = None

    @classmethod
    def from_split_arguments(
        cls,
        parent_digest: str,
        *,
        test_size: float | None = None,
        train_size: float | None = None,
        random_state: object = None,
        shuffle: bool = True,
        stratify: object = None,
    ) -> SplitLineage:
        """Build a lineage from the arguments passed to ``train_test_split``.

        Parameters
        ----------
        parent_digest : str
            The digest of the dataset that was split.
        test_size, train_size : float, int or None
            As passed to the split.
        random_state : int, RandomState, Generator or None
            As passed to the split.
        shuffle : bool, default=True
            As passed to the split.
        stratify : array-like or None
            As passed to the split; only its type and length are kept.

        Returns
        -------
        SplitLineage
            The lineage.

        Examples
        --------
        >>> from mltrail.capture._datasets import SplitLineage
        >>> SplitLineage.from_split_arguments("ab12", stratify=[0, 1, 0]).stratify
        'list of length 3'
        """
        if random_state is None or isinstance(random_state, int):
            seed: int | str | None = random_state
        else:
            seed = type(random_state).__name__
        return cls(
            parent_digest=parent_digest,
            test_size=test_size,
            train_size=train_size,
            random_state=seed,
            shuffle=bool(shuffle),
            stratify=None if stratify is None else _describe_labels(stratify),
        )

    def to_dict(self) -> dict[str, object]:
        """Return the lineage as a JSON-ready dict.

        Returns
        -------
        dict
            The fields by name.

        Examples
        --------
        >>> from mltrail.capture._datasets import SplitLineage
        >>> SplitLineage("ab12").to_dict()["shuffle"]
        True
        """
        return asdict(self)


@dataclass(frozen=True, slots=True)
class DatasetDescription:
    """A dataset as a run records it, in MLflow's shape plus mltrail's profile.

    Parameters
    ----------
    name : str
        The dataset's name, such as ``"train"``.
    context : str
        How the run used it: ``"train"``, ``"test"`` or ``"eval"``.
    digest : str
        A fingerprint of the whole content of X and y (32 hex characters).
    source : str
        JSON: ``{"tags": {...}}``, as MLflow's code dataset source.
    schema : str
        JSON: ``{"mlflow_colspec": [...]}`` for pandas, ``{"mlflow_tensorspec":
        {...}}`` for arrays.
    profile : str
        JSON: MLflow's counts plus ``shape``, per-column ``columns`` (dtype,
        nullability, null count, min/max, categorical levels), the ``target``'s
        class balance or range, and the ``split`` lineage.
    n_samples : int
        The number of rows.

    Examples
    --------
    >>> import numpy as np
    >>> from mltrail.capture._datasets import describe_dataset
    >>> d = describe_dataset(np.zeros((3, 2)), name="train", context="train")
    >>> d.to_dataset_input().tags[0].value
    'train'
    """

    name: str
    context: str
    digest: str
    source: str
    schema: str
    profile: str
    n_samples: int

    def to_dataset_input(self) -> DatasetInput:
        """Return the run input that MLflow's ``log_inputs`` would record.

        Returns
        -------
        DatasetInput
            The dataset, tagged with ``mlflow.data.context``.

        Examples
        --------
        >>> import numpy as np
        >>> from mltrail.capture._datasets import describe_dataset
        >>> d = describe_dataset(np.ones(4), name="test", context="test")
        >>> d.to_dataset_input().dataset.source_type
        'code'
        """
        dataset = Dataset(
            name=self.name,
            digest=self.digest,
            source_type=SOURCE_TYPE,
            source=self.source,
            schema=self.schema,
            profile=self.profile,
        )
        return DatasetInput(dataset, [InputTag(DATASET_CONTEXT_TAG, self.context)])


def dataset_digest(X: object, y: object = None) -> str:
    """Fingerprint the whole content of X (and y).

    Equal content gives an equal digest whatever the memory layout (copies,
    slices, Fortran order); a change to any value, dtype, shape or column name
    changes it. The row index of pandas objects is not content and is left out.

    Parameters
    ----------
    X : array-like, DataFrame, Series or sparse matrix
        The features.
    y : array-like or Series, optional
        The target.

    Returns
    -------
    str
        32 hex characters: the 128-bit XXH3 hash of the content.

    Examples
    --------
    >>> import numpy as np
    >>> from mltrail.capture._datasets import dataset_digest
    >>> X = np.arange(12.0).reshape(3, 4)
    >>> dataset_digest(X) == dataset_digest(X.copy(order="F"))
    True
    >>> len(dataset_digest(X, y=[0, 1, 0]))
    32
    """
    import xxhash

    hasher = xxhash.xxh3_128()
    _hash_data(hasher, X)
    if y is not None:
        hasher.update(b"\0target\0")
        _hash_data(hasher, y)
    return str(hasher.hexdigest())[:DIGEST_LENGTH]


def describe_dataset(
    X: object,
    y: object = None,
    *,
    name: str,
    context: str,
    lineage: SplitLineage | None = None,
    source_tags: Mapping[str, str] | None = None,
    is_classification: bool | None = None,
) -> DatasetDescription:
    """Fingerprint, schema and profile a dataset.

    Parameters
    ----------
    X : array-like, DataFrame, Series or sparse matrix
        The features.
    y : array-like or Series, optional
        The target.
    name : str
        The dataset's name, such as ``"train"``.
    context : str
        How the run uses it: ``"train"``, ``"test"`` or ``"eval"``.
    lineage : SplitLineage, optional
        Where the dataset comes from; stored in the profile under ``split``.
    source_tags : mapping of str to str, optional
        Tags of the source, such as ``mlflow.source.name``.
    is_classification : bool, optional
        Whether y holds classes (profiled as counts per class) or values
        (profiled as a range). By default, guessed with scikit-learn's
        ``type_of_target``.

    Returns
    -------
    DatasetDescription
        The description.

    Examples
    --------
    >>> import json
    >>> import pandas as pd
    >>> from mltrail.capture._datasets import describe_dataset
    >>> X = pd.DataFrame({"age": [30, 40, 50], "city": ["a", "b", "a"]})
    >>> d = describe_dataset(X, [0, 1, 1], name="train", context="train")
    >>> json.loads(d.schema)["mlflow_colspec"][0]
    {'type': 'long', 'name': 'age', 'required': True}
    >>> json.loads(d.profile)["target"]["class_counts"]
    {'0': 1, '1': 2}
    """
    import numpy as np
    import pandas as pd

    features = as_supported(X)
    target = None if y is None else as_supported(y)
    profile: dict[str, object]
    if isinstance(features, pd.DataFrame | pd.Series):
        frame = features.to_frame() if isinstance(features, pd.Series) else features
        specs, columns = frame_profile(frame)
        schema: dict[str, object] = {"mlflow_colspec": specs}
        profile = {
            "num_rows": int(frame.shape[0]),
            "num_elements": int(frame.size),
            "shape": list(features.shape),
            "columns": columns,
        }
    else:
        schema = {
            "mlflow_tensorspec": {
                "features": json.dumps([tensorspec(features)]),
                "targets": None if target is None else json.dumps([tensorspec(target)]),
            }
        }
        profile = {
            "features_shape": list(features.shape),
            "features_size": int(np.prod(features.shape)),
            "features_nbytes": nbytes(features),
        }
        if target is not None:
            profile["targets_shape"] = list(target.shape)
            profile["targets_size"] = int(np.prod(target.shape))
            profile["targets_nbytes"] = nbytes(target)
        profile["shape"] = list(features.shape)
        profile["columns"] = array_columns(features)
    if target is not None:
        profile["target"] = target_profile(target, is_classification)
    if lineage is not None:
        profile["split"] = lineage.to_dict()
    return DatasetDescription(
        name=name,
        context=context,
        digest=dataset_digest(features, target),
        source=json.dumps({"tags": dict(source_tags or {})}),
        schema=json.dumps(schema),
        profile=json.dumps(json_safe(profile), allow_nan=False),
        n_samples=int(features.shape[0]) if features.shape else 1,
    )


def row_hashes(X: object) -> npt.NDArray[np.uint64]:
    """Hash every row of X into one 64-bit value, vectorised.

    Equal rows give equal hashes within one kind of input: a DataFrame and a
    numpy array with the same values and dtypes agree, and so do equal floats of
    different bits (``0.0`` and ``-0.0``, NaNs); sparse matrices use their own
    scheme (explicit zeros count as zeros). Numeric data is hashed in blocks of
    rows that stay in the CPU's cache, without copying X.

    Parameters
    ----------
    X : array-like, DataFrame, Series or sparse matrix
        The rows.

    Returns
    -------
    numpy.ndarray of uint64
        One hash per row.

    Examples
    --------
    >>> import numpy as np
    >>> from mltrail.capture._datasets import row_hashes
    >>> h = row_hashes(np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]]))
    >>> bool(h[0] == h[2]), bool(h[0] == h[1])
    (True, False)
    """
    import numpy as np
    import pandas as pd

    data = as_supported(X)
    if is_sparse(data):
        return _sparse_row_hashes(data)
    if isinstance(data, pd.Series):
        return (
            pd.util.hash_pandas_object(data, index=False, categorize=False)
            .to_numpy()
            .astype(np.uint64, copy=False)
        )
    if isinstance(data, pd.DataFrame):
        return _columns_row_hashes(
            [column for _, column in data.items()], data.shape[0]
        )
    array: npt.NDArray[Any] = data
    if array.ndim == 1:
        if array.dtype.kind in "US":  # hash_array takes these only as objects
            array = array.astype(object)
        return pd.util.hash_array(array, categorize=False).astype(np.uint64, copy=False)
    if array.ndim > 2:
        array = array.reshape(array.shape[0], -1)
    if not _is_numeric(array.dtype):
        frame = pd.DataFrame(array, copy=False)
        return _columns_row_hashes([column for _, column in frame.items()], len(array))
    if array.flags.c_contiguous:
        return _matrix_row_hashes(array)
    return _columns_row_hashes(list(array.T), array.shape[0])


def locate_rows(
    part_hashes: npt.NDArray[np.uint64], whole_hashes: npt.NDArray[np.uint64]
) -> npt.NDArray[np.intp] | None:
    """Find which rows of a whole dataset a part consists of, from row hashes.

    Parameters
    ----------
    part_hashes : numpy.ndarray of uint64
        :func:`row_hashes` of the part, such as a test set.
    whole_hashes : numpy.ndarray of uint64
        :func:`row_hashes` of the dataset it may come from.

    Returns
    -------
    numpy.ndarray of int or None
        For each row of the part, the position of an identical row in the whole;
        None when some row of the part is not in the whole.

    Examples
    --------
    >>> import numpy as np
    >>> from mltrail.capture._datasets import locate_rows, row_hashes
    >>> X = np.arange(10.0).reshape(5, 2)
    >>> locate_rows(row_hashes(X[[3, 1]]), row_hashes(X)).tolist()
    [3, 1]
    >>> locate_rows(row_hashes(X + 1), row_hashes(X)) is None
    True
    """
    import numpy as np

    if len(part_hashes) == 0:
        return np.empty(0, dtype=np.intp)
    if len(whole_hashes) == 0:
        return None
    order = np.argsort(whole_hashes, kind="stable")
    ordered = whole_hashes[order]
    slots = np.minimum(np.searchsorted(ordered, part_hashes), len(ordered) - 1)
    if not np.array_equal(ordered[slots], part_hashes):
        return None
    return order[slots].astype(np.intp, copy=False)


def count_shared_rows(train: object, test: object, *, are_hashes: bool = False) -> int:
    """Count the test rows that also appear, identically, in the training set.

    Parameters
    ----------
    train, test : array-like, DataFrame or sparse matrix
        The training and test features.
    are_hashes : bool, default=False
        True when ``train`` and ``test`` are already :func:`row_hashes` outputs.

    Returns
    -------
    int
        The number of test rows with an identical training row; above zero means
        the test score is optimistic.

    Examples
    --------
    >>> import numpy as np
    >>> from mltrail.capture._datasets import count_shared_rows
    >>> train = np.array([[1, 2], [3, 4]])
    >>> count_shared_rows(train, np.array([[3, 4], [5, 6], [1, 2]]))
    2
    """
    import numpy as np
    import pandas as pd

    train_hashes = np.asarray(train) if are_hashes else row_hashes(train)
    test_hashes = np.asarray(test) if are_hashes else row_hashes(test)
    # pandas looks values up in a hash table: linear, where np.isin sorts both.
    return int(pd.Series(test_hashes, copy=False).isin(train_hashes).sum())


def write_parquet(
    X: object, y: object, path: str | os.PathLike[str], *, max_bytes: int
) -> Path | None:
    """Write X (and y as a last column) to a Parquet file, within a size cap.

    Parameters
    ----------
    X : array-like, DataFrame, Series or sparse matrix
        The features; arrays get columns ``x0``, ``x1``, ….
    y : array-like, Series or None
        The target, written as its Series name or ``target``.
    path : str or path-like
        The file to write; its directory must exist.
    max_bytes : int
        Write nothing when the data in memory, or the file, is larger.

    Returns
    -------
    pathlib.Path or None
        The file written, or None when the data is over the cap.

    Examples
    --------
    >>> import numpy as np
    >>> from mltrail.capture._datasets import write_parquet
    >>> write_parquet(np.ones((3, 2)), [0, 1, 0], "train.parquet", max_bytes=10**6)
    PosixPath('train.parquet')
    >>> write_parquet(np.ones((3, 2)), None, "big.parquet", max_bytes=10) is None
    True
    """
    import pandas as pd

    features = as_supported(X)
    if is_sparse(features):
        rows, columns = features.shape
        if rows * columns * features.dtype.itemsize > max_bytes:
            return None
        features = features.toarray()
    if isinstance(features, pd.Series):
        features = features.to_frame()
    if isinstance(features, pd.DataFrame):
        frame = features.set_axis([str(c) for c in features.columns], axis=1)
    else:
        array = (
            features.reshape(features.shape[0], -1) if features.ndim != 2 else features
        )
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        frame = pd.DataFrame(
            array, columns=[f"x{i}" for i in range(array.shape[1])], copy=False
        )
    if int(frame.memory_usage(index=False, deep=True).sum()) > max_bytes:
        return None
    frame = _arrow_ready(frame)
    if y is not None:
        target = as_supported(y)
        values = (
            target.to_numpy()
            if isinstance(target, pd.Series | pd.DataFrame)
            else target
        )
        values = values.reshape(len(frame), -1)
        name = (
            str(target.name)
            if isinstance(target, pd.Series) and target.name
            else "target"
        )
        while name in frame.columns:
            name += "_"
        names = (
            [name]
            if values.shape[1] == 1
            else [f"{name}{j}" for j in range(values.shape[1])]
        )
        frame = frame.assign(**{n: values[:, j] for j, n in enumerate(names)})
    destination = Path(path)
    frame.to_parquet(destination, index=False)
    if destination.stat().st_size > max_bytes:
        destination.unlink()
        return None
    return destination


def _arrow_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Write object columns that mix types (which Arrow rejects) as strings."""
    import pandas as pd

    for name in frame.columns:
        column = frame[name]
        if column.dtype == object and pd.api.types.infer_dtype(column) in _MIXED:
            strings = column.map(str, na_action="ignore").astype(object)
            frame = frame.assign(**{name: strings.where(column.notna(), None)})
    return frame


# --- hashing -------------------------------------------------------------------


def _hash_data(hasher: Any, data: Any) -> None:
    """Feed a dataset of any supported kind into ``hasher``."""
    import pandas as pd

    data = as_supported(data)
    if isinstance(data, pd.DataFrame):
        hasher.update(f"DataFrame{data.shape}".encode())
        for name, column in data.items():
            hasher.update(f"\0{name!r}:{column.dtype}\0".encode())
            _hash_series(hasher, column)
    elif isinstance(data, pd.Series):
        hasher.update(f"Series{data.shape}{data.name!r}:{data.dtype}\0".encode())
        _hash_series(hasher, data)
    elif is_sparse(data):
        csr = _canonical_csr(data)
        hasher.update(f"sparse{csr.shape}{csr.dtype.str}\0".encode())
        _hash_array(hasher, csr.indptr)
        _hash_array(hasher, csr.indices)
        _hash_array(hasher, csr.data)
    else:
        hasher.update(f"ndarray{data.shape}\0".encode())
        _hash_array(hasher, data)


def _hash_series(hasher: Any, series: pd.Series[Any]) -> None:
    """Hash a column's values: raw bytes for numpy dtypes, pandas hashes otherwise."""
    import numpy as np
    import pandas as pd

    if isinstance(series.dtype, np.dtype) and series.dtype.kind in _RAW_KINDS:
        _hash_array(hasher, series.to_numpy())
    else:
        hashes = pd.util.hash_pandas_object(
            series, index=False, categorize=False
        ).to_numpy(dtype=np.uint64)
        _hash_array(hasher, hashes)


def _hash_array(hasher: Any, array: npt.NDArray[Any]) -> None:
    """Hash an array's values in C order, without copying contiguous arrays."""
    import numpy as np
    import pandas as pd

    hasher.update(f"{array.dtype.str}{array.shape}\0".encode())
    if array.dtype.kind not in _RAW_KINDS:  # objects: hash each value stably
        for chunk in _row_chunks(array.reshape(-1) if array.ndim != 1 else array):
            _hash_array(
                hasher,
                pd.util.hash_array(np.asarray(chunk, dtype=object), categorize=False),
            )
        return
    if array.flags.c_contiguous:
        hasher.update(array.reshape(-1).view(np.uint8).data)
        return
    for chunk in _row_chunks(array):
        hasher.update(np.ascontiguousarray(chunk).reshape(-1).view(np.uint8).data)


def _row_chunks(array: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
    """Split an array along its first axis into views of about ``CHUNK_BYTES``."""
    if array.ndim == 0:
        return [array.reshape(1)]
    row_bytes = max(1, array.itemsize * (array.size // max(array.shape[0], 1)))
    step = max(1, CHUNK_BYTES // row_bytes)
    return [array[start : start + step] for start in range(0, array.shape[0], step)]


def _is_numeric(dtype: Any) -> bool:
    """Whether values of ``dtype`` are hashed from their bits (numpy numbers, times)."""
    import numpy as np

    return (
        isinstance(dtype, np.dtype)
        and dtype.kind in _NUMERIC_KINDS
        and dtype.itemsize <= 8  # one 64-bit word per value
    )


def _mix(bits: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser, elementwise, into a new array (as pandas hashes)."""
    import numpy as np

    mixed = bits >> np.uint64(30)
    mixed ^= bits
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
    mixed ^= mixed >> np.uint64(27)
    mixed *= np.uint64(0x94D049BB133111EB)
    mixed ^= mixed >> np.uint64(31)
    return mixed


def _value_hashes(values: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    """Hash numeric values one by one; equal floats (-0.0 and 0.0, NaNs) agree."""
    import numpy as np

    kind = values.dtype.kind
    if kind == "f":
        values = values + values.dtype.type(0)  # a new array, where -0.0 is 0.0
        missing = np.isnan(values)
        if missing.any():
            values[missing] = np.nan
    elif kind in "mM":
        values = values.view(np.int64)
    if kind == "b":
        bits = values.astype(np.uint64)
    elif values.dtype.itemsize == 8:  # already one word per value
        bits = values.view(np.uint64)
    else:
        bits = values.view(f"u{values.dtype.itemsize}").astype(np.uint64)
    return _mix(bits)


def _column_weights(n_columns: int) -> npt.NDArray[np.uint64]:
    """One odd multiplier per column position, so that column order counts."""
    import numpy as np

    return _mix(np.arange(1, n_columns + 1, dtype=np.uint64)) | np.uint64(1)


def _matrix_row_hashes(matrix: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    """Row hashes of a C-contiguous numeric matrix, a block of rows at a time."""
    import numpy as np

    n_rows, n_columns = matrix.shape
    weights = _column_weights(n_columns)
    out = np.empty(n_rows, dtype=np.uint64)
    step = max(1, ROW_HASH_BLOCK_BYTES // max(1, n_columns * 8))
    with np.errstate(over="ignore"):
        for start in range(0, n_rows, step):
            hashes = _value_hashes(matrix[start : start + step])
            hashes *= weights
            out[start : start + step] = hashes.sum(axis=1, dtype=np.uint64)
        return _mix(out)


def _columns_row_hashes(columns: list[Any], n_rows: int) -> npt.NDArray[np.uint64]:
    """Row hashes from columns (numpy arrays or Series), as ``_matrix_row_hashes``.

    Numeric columns are hashed a block of rows at a time; other columns (objects,
    strings, categoricals, pandas extension types) with pandas' hashes.
    """
    import numpy as np
    import pandas as pd

    weights = _column_weights(len(columns))
    out = np.zeros(n_rows, dtype=np.uint64)
    numeric = []
    with np.errstate(over="ignore"):
        for weight, column in zip(weights, columns, strict=True):
            if _is_numeric(column.dtype):
                values = column.to_numpy() if isinstance(column, pd.Series) else column
                numeric.append((weight, values))
                continue
            series = column if isinstance(column, pd.Series) else pd.Series(column)
            hashes = pd.util.hash_pandas_object(
                series, index=False, categorize=False
            ).to_numpy(dtype=np.uint64)
            out += hashes * weight
        step = max(1, ROW_HASH_BLOCK_BYTES // max(1, len(numeric) * 8))
        for start in range(0, n_rows if numeric else 0, step):
            block = out[start : start + step]
            for weight, values in numeric:
                block += _value_hashes(values[start : start + step]) * weight
        return _mix(out)


def _canonical_csr(matrix: Any) -> Any:
    """Return a CSR copy (only when needed) with sorted indices and no duplicates."""
    csr = matrix.tocsr()
    if not csr.has_canonical_format:
        csr = csr.copy() if csr is matrix else csr
        csr.sum_duplicates()
    return csr


def _sparse_row_hashes(matrix: Any) -> npt.NDArray[np.uint64]:
    """Hash sparse rows from their (column, value) pairs; zeros are ignored."""
    import numpy as np
    import pandas as pd

    csr = _canonical_csr(matrix)
    keep = csr.data != 0
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))[keep]
    values = pd.util.hash_array(csr.data[keep])
    columns = pd.util.hash_array(csr.indices[keep].astype(np.int64))
    with np.errstate(over="ignore"):
        pairs = values * np.uint64(0x9E3779B97F4A7C15) ^ columns
        out = np.zeros(csr.shape[0], dtype=np.uint64)
        np.add.at(out, rows, pairs)
    return out


def _describe_labels(labels: object) -> str:
    """Describe stratification labels by type and length."""
    try:
        length = len(labels)  # type: ignore[arg-type]  # any sized array-like
    except TypeError:
        return type(labels).__name__
    return f"{type(labels).__name__} of length {length}"
