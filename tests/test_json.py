"""``mltrail._json``: orjson's speed where it reads a text exactly as json does."""

from __future__ import annotations

import gc
import json
import math

import pytest

from mltrail import _json


@pytest.mark.parametrize(
    "text",
    [
        b"18446744073709551616",
        b'{"step": 123456789012345678901234}',
        b"[-99999999999999999999, 1]",
        b'{"a":\n123456789012345678901234}',
        b'{"value": 0.00011395238350953019}',
        b'{"run_id": "cad7d11552c14875858012585439626d"}',
        b"[1.5e-00000000000000000000005]",
        b'{"value": NaN, "other": -Infinity}',
        b'{"plain": 1}',
        b'{"x": 1, "y": [true, false, null], "z": "\\u00e9"}',
    ],
    ids=[
        "int-beyond-64-bits",
        "long-int-member",
        "negative-long-int",
        "long-int-after-newline",
        "fraction-of-20-digits",
        "hex-id-with-20-digits",
        "exponent-of-many-zeros",
        "non-finite",
        "plain-object",
        "every-kind",
    ],
)
def test_loads_reads_like_json(text: bytes) -> None:
    expected = json.loads(text)
    found = _json.loads(text)
    assert json.dumps(found, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert repr(found) == repr(expected)


def test_loads_keeps_integers_beyond_64_bits_exact() -> None:
    assert _json.loads(b"[18446744073709551617]") == [18446744073709551617]


def test_loads_reads_non_finite_numbers() -> None:
    found = _json.loads(b'{"a": NaN, "b": Infinity}')
    assert math.isnan(found["a"])
    assert found["b"] == math.inf


def test_loads_rejects_what_json_rejects() -> None:
    with pytest.raises(ValueError, match="Expecting"):
        _json.loads(b'{"a": ')


def test_paused_gc_restores_collection_after_the_block() -> None:
    assert gc.isenabled()
    with _json.paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_paused_gc_restores_collection_after_an_error() -> None:
    with pytest.raises(KeyError), _json.paused_gc():
        raise KeyError("x")
    assert gc.isenabled()


def test_paused_gc_leaves_collection_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with _json.paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
