"""A cheap copy of a fitted estimator's structure, for writers that run later.

The model is saved on a background thread after ``fit`` returns. If the user then
calls ``set_params`` or fits the same object again, the writer must still save what
this fit produced. Fitted arrays and trees are replaced, not changed in place, when
scikit-learn refits, so it is enough to copy the estimator objects and the
containers that hold them; the arrays themselves are shared, never copied.
"""

from __future__ import annotations

from typing import Any

__all__ = ["snapshot"]


def snapshot(estimator: Any) -> Any:
    """Return a copy of ``estimator`` with new estimator and container objects."""
    import numpy as np
    from sklearn.base import BaseEstimator

    memo: dict[int, Any] = {}

    def copied(value: Any) -> Any:
        key = id(value)
        if key in memo:
            return memo[key]
        if isinstance(value, BaseEstimator):
            # Not copy.copy: its __getstate__ round trip costs ten times more.
            new = object.__new__(type(value))
            memo[key] = new
            vars(new).update({name: copied(item) for name, item in vars(value).items()})
            return new
        if isinstance(value, list):
            return [copied(item) for item in value]
        if isinstance(value, tuple):
            return tuple(copied(item) for item in value)
        if isinstance(value, dict):
            return {name: copied(item) for name, item in value.items()}
        if isinstance(value, np.ndarray) and value.dtype.kind == "O":
            # An object array, such as gradient boosting's ``estimators_``.
            result = value.copy()
            flat = result.ravel()
            for index, item in enumerate(flat):
                flat[index] = copied(item)
            return result
        return value

    return copied(estimator)
