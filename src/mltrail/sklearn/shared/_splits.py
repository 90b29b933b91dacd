"""The splits and named datasets that held-out evaluation recognises, as hashes.

``record`` keeps, for each of the last ``SPLIT_HISTORY`` ``train_test_split`` calls,
the row hashes of the train and test part of each X-like (2-D) array, the labels of
the test rows, the split's lineage and the number of test rows identical to a
training row; ``name_datasets`` keeps the datasets of ``autolog(eval_names=...)``.
Never the data itself. ``find`` tells where a dataset's rows come from, by content:
copies, slices and permutations of a test set still match.

``derive`` records that an output of a standalone transformer (``scaler.transform(
X_test)``) comes from a recognised dataset: the output, kept by weak reference,
is recognised as that dataset (same labels, lineage and part) and carries the chain
of transformers it went through. Nothing is hashed for it. Likewise the parts a split
returned are recognised by identity while they live, without hashing them again.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mltrail._errors import InvalidValueError

# A dataset name: it starts metric keys such as ``valid_accuracy``.
_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")

__all__ = [
    "Recognition",
    "SplitMatch",
    "check_name",
    "derive",
    "derived_of",
    "find",
    "is_text",
    "name_datasets",
    "recognise",
    "record",
    "recorded_labels",
    "reset",
    "split_of",
]

SPLIT_HISTORY = 16
DERIVED_HISTORY = 64
PART_HISTORY = 4 * SPLIT_HISTORY


@dataclass(frozen=True, slots=True)
class _NamedDataset:
    """A dataset named by ``autolog(eval_names=...)``: hashes and labels only."""

    name: str
    digest: str
    hashes: Any
    labels: Any


@dataclass(frozen=True, slots=True)
class _Split:
    """One ``train_test_split`` call: per X-like part, (train hashes, test hashes)."""

    lineage: Any
    parts: tuple[tuple[Any, Any], ...]
    test_labels: Any
    shared_rows: int


@dataclass(frozen=True, slots=True)
class SplitMatch:
    """Where a dataset comes from: a recorded split, which part, and its leakage.

    ``part`` is ``"train"`` or ``"test"``; ``shared_rows`` counts the test rows of
    that split identical to a training row (the first X-like array's).
    """

    lineage: Any
    part: str
    shared_rows: int


@dataclass(frozen=True, slots=True)
class Recognition:
    """What is known of a dataset: its name, labels, lineage, part and preprocessing.

    ``part`` is ``"train"`` or ``"test"`` when the rows are exactly that part of a
    recorded split, in order; ``labels`` are those of its rows when known (a test
    part or a named dataset); ``chain`` lists the serials of the standalone
    transformers the rows went through, first applied first.
    """

    name: str | None = None
    labels: Any = None
    lineage: Any = None
    part: str | None = None
    shared_rows: int | None = None
    chain: tuple[int, ...] = ()


_lock = threading.Lock()
_named: tuple[_NamedDataset, ...] = ()
_splits: deque[_Split] = deque(maxlen=SPLIT_HISTORY)
# id(transformer output) -> (weak reference to it, what it is)
_derived: OrderedDict[int, tuple[Any, Recognition]] = OrderedDict()
# id(part a split returned) -> (weak reference to it, what it is)
_parts: OrderedDict[int, tuple[Any, Recognition]] = OrderedDict()


def reset() -> None:
    """Forget every split, named dataset and derived dataset."""
    global _named
    with _lock:
        _named = ()
        _splits.clear()
        _derived.clear()
        _parts.clear()


def name_datasets(eval_names: Mapping[str, Any] | None) -> None:
    """Remember the datasets of ``autolog(eval_names=...)``, replacing earlier ones.

    ``eval_names`` maps a dataset name to its ``X``, or to ``(X, y)`` so that its
    labels are known too: predictions on those rows (or a subset or permutation of
    them) log ``<name>_<metric>``. Only row hashes and labels are kept.
    """
    import numpy as np

    from mltrail.capture._datasets import dataset_digest, row_hashes

    named = []
    for name, data in (eval_names or {}).items():
        check_name(name)
        X, y = data if isinstance(data, tuple) and len(data) == 2 else (data, None)
        if np.ndim(X) < 2 and not (np.ndim(X) == 1 and is_text(X)):
            raise InvalidValueError(
                f"eval_names[{name!r}]",
                data,
                "X or (X, y) with a 2-D X, or a 1-D X of documents",
                "Map each name to the features of that dataset, or to (X, y).",
            )
        labels = None if y is None else np.array(y, copy=True)
        named.append(_NamedDataset(name, dataset_digest(X), row_hashes(X), labels))
    global _named
    with _lock:
        _named = tuple(named)


def is_text(value: Any) -> bool:
    """Whether a 1-D array-like holds documents (strings): the X of a text model."""
    import numpy as np

    dtype = getattr(value, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "O") in "US":
        return True
    if dtype is None and not isinstance(value, list | tuple):
        return False  # never iterate what may be a one-shot iterator
    try:
        first = next(iter(value))
    except (TypeError, StopIteration):
        return False
    return isinstance(first, str | bytes | np.str_)


def _ndim(value: Any) -> int:
    import numpy as np

    ndim = getattr(value, "ndim", None)
    return int(ndim) if ndim is not None else int(np.ndim(value))


def record(arrays: tuple[Any, ...], options: Mapping[str, Any], result: Any) -> None:
    import numpy as np

    from mltrail.capture._datasets import (
        SplitLineage,
        count_shared_rows,
        dataset_digest,
        row_hashes,
    )

    if not isinstance(result, list) or len(result) != 2 * len(arrays):
        return
    dims = [_ndim(array) for array in arrays]
    x_indexes = [i for i, ndim in enumerate(dims) if ndim >= 2]
    if not x_indexes and arrays and dims[0] == 1 and is_text(arrays[0]):
        x_indexes = [0]  # documents: a list, Series or 1-D array of strings
    if not x_indexes:
        return
    first = x_indexes[0]
    if len(arrays) == 2 and first == 0:
        label_index: int | None = 1
    else:
        label_index = next(
            (i for i in range(first + 1, len(arrays)) if dims[i] == 1), None
        )
    y = None if label_index is None else arrays[label_index]
    lineage = SplitLineage.from_split_arguments(
        dataset_digest(arrays[first], y),
        test_size=options.get("test_size"),
        train_size=options.get("train_size"),
        random_state=options.get("random_state"),
        shuffle=options.get("shuffle", True),
        stratify=options.get("stratify"),
    )
    parts = tuple(
        (row_hashes(result[2 * i]), row_hashes(result[2 * i + 1])) for i in x_indexes
    )
    labels = None
    if label_index is not None:
        labels = np.array(result[2 * label_index + 1], copy=True)
    shared = count_shared_rows(parts[0][0], parts[0][1], are_hashes=True)
    with _lock:
        _splits.append(_Split(lineage, parts, labels, shared))
    for i in x_indexes:
        train = Recognition(lineage=lineage, part="train", shared_rows=shared)
        test = Recognition(None, labels, lineage, "test", shared)
        _remember(_parts, result[2 * i], train, PART_HISTORY)
        _remember(_parts, result[2 * i + 1], test, PART_HISTORY)


def _match_rows(hashes: Any, whole: Any) -> Any:
    """Positions of the rows ``hashes`` in ``whole``, or None if some row is not."""
    import numpy as np

    from mltrail.capture._datasets import locate_rows

    if len(hashes) == len(whole) and np.array_equal(hashes, whole):
        return np.arange(len(whole))
    if len(hashes) > len(whole):
        return None
    return locate_rows(hashes, whole)


def _take(labels: Any, positions: Any) -> Any:
    return None if labels is None else labels[positions]


def derived_of(X: Any) -> Recognition | None:
    """Return what X is if it is (or views) a recorded transformer output."""
    with _lock:
        if not _derived:
            return None
        for candidate in (X, getattr(X, "base", None)):
            entry = None if candidate is None else _derived.get(id(candidate))
            if entry is not None and entry[0]() is candidate:
                return entry[1]
    return None


def derive(output: Any, source: Recognition | None, serial: int) -> None:
    """Record ``output`` as ``source`` (or unknown data) after transformer ``serial``.

    Only ``output`` objects that take weak references are recorded: the record goes
    when the output does.
    """
    known = source or Recognition()
    recognition = replace(known, chain=(*known.chain, serial))
    _remember(_derived, output, recognition, DERIVED_HISTORY)


def _remember(
    table: OrderedDict[int, tuple[Any, Recognition]],
    output: Any,
    recognition: Recognition,
    history: int,
) -> None:
    """Keep ``output`` in ``table`` by weak reference, with what it is."""
    key = id(output)

    def forget(ref: Any) -> None:
        with _lock:
            entry = table.get(key)
            if entry is not None and entry[0] is ref:
                del table[key]

    try:
        ref = weakref.ref(output, forget)
    except TypeError:
        return
    with _lock:
        table[key] = (ref, recognition)
        table.move_to_end(key)
        while len(table) > history:
            table.popitem(last=False)


def _lengths() -> set[int]:
    """Row counts of every recorded part and named dataset."""
    with _lock:
        lengths = {len(dataset.hashes) for dataset in _named}
        for split in _splits:
            for train_hashes, test_hashes in split.parts:
                lengths.update((len(train_hashes), len(test_hashes)))
    return lengths


def recognise(
    X: Any, digest: str | None = None, *, n_rows: int | None = None
) -> Recognition | None:
    """Return what is known of X: a derived dataset, a named dataset or a split's part.

    With ``n_rows``, rows are hashed only when some recorded dataset has that many
    rows (a cheap test for callers that only look for whole parts). ``digest``, the
    dataset digest of X when the caller has it, also matches a named dataset.
    """
    import numpy as np

    from mltrail.capture._datasets import row_hashes

    derived = derived_of(X)
    if derived is not None:
        return derived
    with _lock:
        named, splits = _named, list(_splits)
        entry = None if named else _parts.get(id(X))
    if entry is not None and entry[0]() is X:
        return entry[1]  # the very object a split returned: no need to hash it
    if not named and not splits:
        return None
    if n_rows is not None and n_rows not in _lengths():
        return None
    hashes = row_hashes(X)
    name = labels = None
    for dataset in named:
        positions = _match_rows(hashes, dataset.hashes)
        if dataset.digest == digest or positions is not None:
            name = dataset.name
            if positions is not None:
                labels = _take(dataset.labels, positions)
            break
    for split in reversed(splits):
        for train_hashes, test_hashes in split.parts:
            if np.array_equal(hashes, train_hashes):
                return Recognition(
                    name, labels, split.lineage, "train", split.shared_rows
                )
            positions = _match_rows(hashes, test_hashes)
            if positions is not None:
                is_part = len(positions) == len(test_hashes) and bool(
                    np.all(positions == np.arange(len(test_hashes)))
                )
                return Recognition(
                    name,
                    _take(split.test_labels, positions) if labels is None else labels,
                    split.lineage,
                    "test" if is_part else None,
                    split.shared_rows,
                )
    return None if name is None else Recognition(name, labels)


def find(X: Any, digest: str) -> tuple[str | None, Any, Any]:
    """Return (name, labels, lineage) of X from the named datasets and the splits.

    The training part of a split gives no lineage here: it is not held-out data.
    """
    found = recognise(X, digest)
    if found is None:
        return None, None, None
    lineage = None if found.part == "train" else found.lineage
    return found.name, found.labels, lineage


def recorded_labels(X: Any) -> tuple[Any, Any] | None:
    """Return ``(labels, lineage)`` of X from the named datasets and splits, if any."""
    from mltrail.capture._datasets import dataset_digest

    try:
        _, labels, lineage = find(X, dataset_digest(X))
    except (TypeError, ValueError):
        return None
    if labels is None and lineage is None:
        return None
    return labels, lineage


def split_of(X: Any) -> SplitMatch | None:
    """Return the recorded split whose train or test part X is (same rows, in order).

    For the dataset inputs of a fit: the training set's lineage and leakage count.
    """
    found = recognise(X)
    if found is None or found.part is None:
        return None
    return SplitMatch(found.lineage, found.part, found.shared_rows or 0)


def check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise InvalidValueError(
            "name",
            name,
            "a non-empty str of letters, digits, '_', '-' and '.'",
            "Use a short dataset name such as 'test' or 'validation'.",
        )
    return name
