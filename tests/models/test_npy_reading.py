"""The skops reader's ``.npy`` reading gives what ``np.load`` gives, or defers to it."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.tree import DecisionTreeClassifier

from mltrail.models import _skops_reader
from mltrail.models._skops_reader import _load_npy

_DTYPES = st.one_of(
    hnp.scalar_dtypes(),
    hnp.byte_string_dtypes(),
    hnp.unicode_string_dtypes(),
    hnp.array_dtypes(hnp.scalar_dtypes(), min_size=1, max_size=4),
    hnp.scalar_dtypes().map(lambda dtype: dtype.newbyteorder()),
)


def _saved(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # Non-ASCII field names need format 3.0, which numpy warns about.
        warnings.simplefilter("ignore", UserWarning)
        np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _same(read: np.ndarray, expected: np.ndarray) -> None:
    assert read.dtype == expected.dtype
    assert read.shape == expected.shape
    # Field by field: the padding bytes of a record dtype hold nothing.
    if expected.dtype.names is None:
        assert read.tobytes() == expected.tobytes()
    for name in expected.dtype.names or ():
        assert read[name].tobytes() == expected[name].tobytes()
    assert read.flags.c_contiguous == expected.flags.c_contiguous
    assert read.flags.f_contiguous == expected.flags.f_contiguous
    assert read.flags.writeable


@settings(max_examples=300, deadline=None)
@given(
    hnp.arrays(
        _DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
    ),
    st.booleans(),
)
def test_every_array_reads_as_np_load_reads_it(
    array: np.ndarray, fortran: bool
) -> None:
    if fortran:
        array = np.asfortranarray(array)
    data = _saved(array)
    _same(_load_npy(data), np.load(io.BytesIO(data), allow_pickle=False))


def test_the_usual_headers_are_read_without_np_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A forest's arrays: float, int, a record array of tree nodes, Fortran order."""
    arrays = [
        np.arange(12.0).reshape(2, 3, 2),
        np.array([3, 1], dtype=np.int64),
        np.zeros(4, dtype=[("left_child", "<i8"), ("threshold", "<f8"), ("go", "|u1")]),
        np.asfortranarray(np.arange(6).reshape(2, 3)),
        np.array(2.5),
        np.array(["a", "bc"]),
        # A tree's nodes: a record dtype padded to 8 bytes, written with a "" field.
        DecisionTreeClassifier().fit([[0], [1]], [0, 1]).tree_.__getstate__()["nodes"],
        np.zeros(
            2,
            dtype={"names": ["a", "b"], "formats": ["<i8", "|u1"], "itemsize": 16},
        ),
    ]
    saved = [_saved(array) for array in arrays]

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("np.load was called")

    monkeypatch.setattr(np, "load", refuse)
    for data, array in zip(saved, arrays, strict=True):
        _same(_load_npy(data), array)


def test_an_object_array_is_refused_as_np_load_refuses_it() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle=False"):
        _load_npy(buffer.getvalue())


@pytest.mark.parametrize(
    "data",
    [
        _saved(np.arange(10.0))[:-8],  # a short body
        _saved(np.arange(3.0)).replace(b"'<f8'", b"'<q9'"),  # a dtype numpy refuses
        b"\x93NUMPY\x01\x00" + (20).to_bytes(2, "little") + b"{'descr': " + b"x" * 10,
        b"not a numpy file at all",
    ],
    ids=["short", "bad-dtype", "bad-header", "no-magic"],
)
def test_what_np_load_refuses_is_refused_the_same_way(data: bytes) -> None:
    try:
        np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as error:  # whatever numpy raises, _load_npy must raise too
        expected = type(error)
    else:
        pytest.fail("np.load read it")
    with pytest.raises(expected):
        _load_npy(data)


def test_a_header_in_another_form_is_left_to_np_load() -> None:
    """Keys in another order and no trailing comma: valid, not what numpy writes."""
    header = b"{'shape': (2,), 'fortran_order': False, 'descr': '<i4'}"
    header += b" " * (64 - 10 - len(header) - 1) + b"\n"
    data = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    data += np.array([7, 8], dtype="<i4").tobytes()
    assert _skops_reader._NPY_HEADER.fullmatch(header.decode()) is None
    assert _load_npy(data).tolist() == [7, 8]
