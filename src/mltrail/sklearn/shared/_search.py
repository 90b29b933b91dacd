"""Hyperparameter searches: the parent run's extras and one child run per candidate.

``GridSearchCV``, ``RandomizedSearchCV`` and the halving searches all derive from
``BaseSearchCV`` and expose ``cv_results_``; every candidate row becomes a child run
with its params and its scores, the best one first and tagged as the best.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from mltrail._system_tags import BEST_CANDIDATE_TAG, BEST_CHILD_RUN_ID_TAG

__all__ = [
    "BEST_CANDIDATE_TAG",
    "BEST_CHILD_RUN_ID_TAG",
    "best_params",
    "candidate_order",
    "candidates",
    "cv_results_csv",
    "is_search",
]


def is_search(estimator: Any) -> bool:
    """Whether the estimator is a scikit-learn hyperparameter search."""
    from sklearn.model_selection._search import BaseSearchCV

    return isinstance(estimator, BaseSearchCV)


def best_params(search: Any) -> dict[str, str]:
    """Return ``best_<param>`` for each entry of ``best_params_``, if any."""
    found = getattr(search, "best_params_", None) or {}
    return {f"best_{key}": str(value) for key, value in found.items()}


def _rank_column(results: Mapping[str, Any]) -> str | None:
    if "rank_test_score" in results:
        return "rank_test_score"
    return next((key for key in results if key.startswith("rank_test_")), None)


def candidate_order(search: Any, max_tuning_runs: int | None) -> list[int]:
    """Return the rows of ``cv_results_`` to log, best rank first, at most the cap."""
    results = search.cv_results_
    n = len(results["params"])
    rank = _rank_column(results)
    rows = list(range(n))
    if rank is not None:
        ranks = results[rank]
        rows.sort(key=lambda row: (ranks[row], row))
    best = getattr(search, "best_index_", None)
    if isinstance(best, numbers.Integral) and best in rows:
        rows.remove(int(best))
        rows.insert(0, int(best))
    return rows if max_tuning_runs is None else rows[:max_tuning_runs]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def candidates(
    search: Any, rows: list[int]
) -> list[tuple[int, dict[str, str], dict[str, float]]]:
    """Return ``(row, params, metrics)`` of each candidate row.

    Params are the seed estimator's deep params overlaid with the candidate's;
    metrics are every numeric ``cv_results_`` column that is not a ``param_*``
    column: mean and std scores and times, ranks and per-split scores.
    """
    import numpy as np

    results = search.cv_results_
    base = {key: str(value) for key, value in search.estimator.get_params().items()}
    columns = [
        key
        for key, values in results.items()
        if not key.startswith("param")
        and isinstance(values, np.ndarray)
        and values.dtype.kind in "biuf"
        and not np.ma.isMaskedArray(values)
    ]
    found = []
    for row in rows:
        params = {**base, **{k: str(v) for k, v in results["params"][row].items()}}
        metrics = {
            key: float(results[key][row])
            for key in columns
            if _is_number(results[key][row])
        }
        found.append((row, params, metrics))
    return found


def cv_results_csv(search: Any) -> str:
    """Return ``cv_results_`` as CSV text, the way MLflow writes ``cv_results.csv``."""
    import pandas as pd

    text: str = pd.DataFrame(search.cv_results_).to_csv(index=False)
    return text
