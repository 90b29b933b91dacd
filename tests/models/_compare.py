"""Compare two loaded objects by structure: the same types, values and arrays."""

from __future__ import annotations

import types
from typing import Any

import numpy as np


def _arrays_equal(first: np.ndarray, second: np.ndarray) -> bool:
    if first.dtype != second.dtype or first.shape != second.shape:
        return False
    if first.dtype.names:  # structured: padding bytes differ, fields do not
        return all(
            _arrays_equal(first[name], second[name]) for name in first.dtype.names
        )
    if first.dtype == object:
        return all(
            same_structure(a, b)
            for a, b in zip(first.ravel(), second.ravel(), strict=True)
        )
    return bool(np.array_equal(first, second, equal_nan=first.dtype.kind in "fc"))


def same_structure(first: Any, second: Any, seen: set[int] | None = None) -> bool:
    """Whether two object graphs hold the same types and values everywhere."""
    seen = set() if seen is None else seen
    if type(first) is not type(second):
        return False
    if id(first) in seen:
        return True
    seen.add(id(first))
    if isinstance(first, np.ndarray):
        return _arrays_equal(first, second)
    if isinstance(first, dict):
        return list(first) == list(second) and all(
            same_structure(first[key], second[key], seen) for key in first
        )
    if isinstance(first, list | tuple):
        return len(first) == len(second) and all(
            same_structure(a, b, seen) for a, b in zip(first, second, strict=True)
        )
    if isinstance(first, float) and first != first:
        return bool(second != second)
    if isinstance(first, str | bytes | int | float | complex | bool | type(None)):
        return bool(first == second)
    if isinstance(
        first, type | np.ufunc | types.FunctionType | types.BuiltinFunctionType
    ):
        return bool(first == second)
    if isinstance(first, np.random.Generator):
        return same_structure(
            first.bit_generator.state, second.bit_generator.state, seen
        )
    if isinstance(first, np.random.RandomState):
        return same_structure(
            first.get_state(legacy=False), second.get_state(legacy=False), seen
        )
    if hasattr(first, "__reduce_ex__") and not hasattr(first, "__dict__"):
        return same_structure(
            first.__reduce_ex__(2)[1:], second.__reduce_ex__(2)[1:], seen
        )
    return same_structure(vars(first), vars(second), seen)
