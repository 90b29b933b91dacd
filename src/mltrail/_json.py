"""Reading JSON fast where it is exact: orjson when installed, else the json module.

orjson reads an integer of 20 digits or more as a float, and refuses ``NaN``,
``Infinity``, a BOM and lone surrogates, which json reads: such a text goes to json,
so both read every text alike. ``translate`` + ``in`` finds, in a fraction of what
parsing costs, a run of 20 digits where a JSON number can start (after ``:``,
``,``, ``[``, ``-`` or a space): the digits of a fraction (``0.000113952383509530``)
or of a hexadecimal run id inside a string do not count.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator
from typing import Any

__all__ = ["loads", "paused_gc"]

# Digits become "0", what a number can follow " ", anything else "x".
_SHAPES = bytes(
    48 if 48 <= code <= 57 else 32 if code in b":,[- \t\r\n" else 120
    for code in range(256)
)
_LONG_INTEGER = b" " + b"0" * 20

try:
    import orjson
except ImportError:  # pragma: no cover - orjson comes with the server extra
    orjson = None  # type: ignore[assignment]  # the json module reads everything


def loads(data: bytes) -> Any:
    """Return the value of a JSON text, as ``json.loads`` reads it.

    Raises
    ------
    ValueError
        If ``data`` is not JSON (``json.JSONDecodeError``) or not UTF-8.
    """
    if orjson is not None and _LONG_INTEGER not in b" " + data.translate(_SHAPES):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # NaN, Infinity, a BOM or lone surrogates: json reads them
    return json.loads(data)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block without cyclic garbage collection, then allow it again.

    For reading a large answer into objects (a page of 1,000 runs is some 40,000
    dicts, lists and strings, none in a cycle): each collection of the oldest
    generation meanwhile walks the whole heap, pandas' and scikit-learn's modules
    included, for nothing. Collection is allowed again only if it was before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
