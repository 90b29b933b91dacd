"""The JSON data of a plot, checked and put in one shape per kind for its chart.

A plot's JSON is an artifact, so it may come from anyone: autologging writes the
kinds below (``mltrail.evaluation``), but a user can log any file under
``plots/``. :func:`clean_plot` keeps only what the kind's chart draws, with every
field present and of the right type, or returns None (the page then shows the
PNG alone).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["PLOT_KINDS", "clean_plot"]

MAX_POINTS = 100_000
MAX_CURVES = 100
MAX_LABELS = 200

Cleaned = dict[str, Any]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _numbers(value: object) -> list[float | None] | None:
    if not isinstance(value, list) or len(value) > MAX_POINTS:
        return None
    return [_number(item) for item in value]


def _label(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _matrix(value: object, size: int) -> list[list[float | None]] | None:
    if not isinstance(value, list) or len(value) != size:
        return None
    rows = []
    for row in value:
        numbers = _numbers(row)
        if numbers is None or len(numbers) != size:
            return None
        rows.append(numbers)
    return rows


def _confusion_matrix(data: dict[str, Any]) -> Cleaned | None:
    labels = data.get("labels")
    if not isinstance(labels, list) or not 0 < len(labels) <= MAX_LABELS:
        return None
    counts = _matrix(data.get("counts"), len(labels))
    if counts is None:
        return None
    return {
        "labels": [_label(label) for label in labels],
        "counts": counts,
        "normalized": _matrix(data.get("normalized"), len(labels)),
    }


def _feature_importance(data: dict[str, Any]) -> Cleaned | None:
    features = data.get("features")
    importances = _numbers(data.get("importances"))
    if (
        not isinstance(features, list)
        or importances is None
        or len(features) != len(importances)
    ):
        return None
    n_features = data.get("n_features")
    return {
        "features": [_label(f) for f in features],
        "importances": importances,
        "source": _label(data.get("source", "")),
        "n_features": n_features if isinstance(n_features, int) else len(features),
    }


def _curves(
    data: dict[str, Any], axes: tuple[str, str], extras: tuple[str, ...]
) -> Cleaned | None:
    curves = data.get("curves")
    if not isinstance(curves, list) or not 0 < len(curves) <= MAX_CURVES:
        return None
    cleaned = []
    for curve in curves:
        if not isinstance(curve, dict):
            return None
        x, y = (_numbers(curve.get(axis)) for axis in axes)
        if x is None or y is None or len(x) != len(y):
            return None
        item: dict[str, Any] = {
            "label": _label(curve.get("label", curve.get("name", ""))),
            "x": x,
            "y": y,
        }
        for extra in extras:
            item[extra] = _number(curve.get(extra))
        cleaned.append(item)
    return {"curves": cleaned}


def _scatter(data: dict[str, Any], axes: tuple[str, str]) -> Cleaned | None:
    x, y = (_numbers(data.get(axis)) for axis in axes)
    if x is None or y is None or len(x) != len(y):
        return None
    n_samples = data.get("n_samples")
    return {
        "x": x,
        "y": y,
        "n_samples": n_samples if isinstance(n_samples, int) else len(x),
    }


#: kind -> (cleaner, x axis title, y axis title)
PLOT_KINDS: dict[str, tuple[Callable[[dict[str, Any]], Cleaned | None], str, str]] = {
    "confusion_matrix": (_confusion_matrix, "Predicted class", "True class"),
    "feature_importance": (_feature_importance, "Importance", "Feature"),
    "roc_curve": (
        lambda d: _curves(d, ("fpr", "tpr"), ("auc",)),
        "False positive rate",
        "True positive rate",
    ),
    "precision_recall_curve": (
        lambda d: _curves(d, ("recall", "precision"), ("average_precision",)),
        "Recall",
        "Precision",
    ),
    "calibration_curve": (
        lambda d: _curves(d, ("prob_pred", "prob_true"), ()),
        "Mean predicted probability",
        "Fraction of positives",
    ),
    "residuals": (
        lambda d: _scatter(d, ("predicted", "residuals")),
        "Predicted value",
        "Residual (true - predicted)",
    ),
    "predicted_vs_actual": (
        lambda d: _scatter(d, ("actual", "predicted")),
        "Actual value",
        "Predicted value",
    ),
    "iteration_curves": (
        lambda d: _curves(d, ("step", "value"), ()),
        "Iteration",
        "Value",
    ),
}


def clean_plot(data: object) -> Cleaned | None:
    """Return a plot's data in its kind's shape, with axis titles, or None.

    Examples
    --------
    >>> clean_plot({"kind": "roc_curve", "curves": [
    ...     {"label": 1, "fpr": [0, 1], "tpr": [0, 1], "auc": 0.5}]})["curves"]
    [{'label': '1', 'x': [0.0, 1.0], 'y': [0.0, 1.0], 'auc': 0.5}]
    >>> clean_plot({"kind": "roc_curve", "curves": "nonsense"}) is None
    True
    """
    if not isinstance(data, dict) or data.get("kind") not in PLOT_KINDS:
        return None
    kind = data["kind"]
    cleaner, x_title, y_title = PLOT_KINDS[kind]
    cleaned = cleaner(data)
    if cleaned is None:
        return None
    return {"kind": kind, "x_title": x_title, "y_title": y_title, **cleaned}
