"""Plots of a fitted estimator itself: feature importance and iteration curves.

``iteration_curves`` also feeds metric histories (one step per iteration) to the
caller; ``iteration_curves_plot`` draws them, one panel per history. As in
``_plots``, ``*_data`` builds a plot's JSON data and ``*_plot`` also draws its PNG
from that data; both are named without a dataset prefix
(``plots/feature_importance.png``, ``plots/iteration_curves.png``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence

import numpy as np

from mltrail.evaluation._drawing import (
    JsonDict,
    Plot,
    describe,
    downsample,
    numbers,
    plot_title,
)
from mltrail.evaluation._plots import with_png

MAX_FEATURES = 30
MAX_PANELS = 20
CURVE_ATTRIBUTES = {
    "loss_curve_": "loss",
    "validation_scores_": "validation_score",
    "validation_score_": "validation_score",
    "train_score_": "train_score",
    "oob_improvement_": "oob_improvement",
    "oob_scores_": "oob_score",
}
_METRIC_NAME_UNSAFE = re.compile(r"[^\w\-. /]")


def feature_importance_plot(
    estimator: object,
    feature_names: Sequence[str] | None = None,
    *,
    max_features: int = MAX_FEATURES,
    model: str | None = None,
) -> Plot | None:
    """Draw the largest feature importances: :func:`feature_importance_data`, drawn.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from mltrail.evaluation._estimator_plots import feature_importance_plot
    >>> model = LinearRegression().fit([[0, 1], [1, 0], [2, 2]], [0, 2, 4])
    >>> png, data = feature_importance_plot(model, ["a", "b"])
    >>> png[1:4], data["features"]
    (b'PNG', ['a', 'b'])
    """
    return with_png(
        feature_importance_data(
            estimator, feature_names, max_features=max_features, model=model
        )
    )


def feature_importance_data(
    estimator: object,
    feature_names: Sequence[str] | None = None,
    *,
    max_features: int = MAX_FEATURES,
    model: str | None = None,
) -> JsonDict | None:
    """Build the data of the largest feature importances of a fitted estimator.

    A ``coef_`` gives ``|coef_|``; with one row per class (or output) the rows'
    absolute values are averaged, and the title and the JSON's ``aggregation``
    say so (``mean |coef_| over 3 classes``).

    Parameters
    ----------
    estimator : estimator instance
        A fitted estimator or ``Pipeline`` (its last step is used) with
        ``feature_importances_`` or ``coef_``.
    feature_names : sequence of str, default=None
        The names of the features the final estimator sees. By default the
        pipeline's ``get_feature_names_out``, else ``feature_names_in_``, else
        ``x0, x1, ...``.
    max_features : int, default=30
        How many of the largest importances to draw.
    model : str, default=None
        The estimator's name for the title; by default its class name.

    Returns
    -------
    dict or None
        The plot's JSON data, or ``None`` when the estimator has no usable
        importances.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from mltrail.evaluation._estimator_plots import feature_importance_data
    >>> model = LinearRegression().fit([[0, 1], [1, 0], [2, 2]], [0, 2, 4])
    >>> data = feature_importance_data(model, ["a", "b"])
    >>> data["features"], data["source"], data["aggregation"]
    (['a', 'b'], 'coef_', '|coef_|')
    """
    steps = getattr(estimator, "steps", None)
    final = steps[-1][1] if isinstance(steps, list) and steps else estimator
    source = aggregation = "feature_importances_"
    values = getattr(final, source, None)
    if values is None:
        source = "coef_"
        values = getattr(final, source, None)
        if values is None:
            return None
        if hasattr(values, "toarray"):  # sparse coef_ after sparsify()
            values = values.toarray()
        values = np.abs(np.asarray(values, dtype=np.float64))
        aggregation = "|coef_|"
        if values.ndim == 2 and values.shape[0] > 1:
            rows = (
                "classes" if getattr(final, "classes_", None) is not None else "outputs"
            )
            aggregation = f"mean |coef_| over {values.shape[0]} {rows}"
        values = values.mean(axis=0) if values.ndim == 2 else values
    importances = np.asarray(values, dtype=np.float64).ravel()
    n_features = importances.shape[0]
    if n_features == 0 or not np.isfinite(importances).all():
        return None
    names = _feature_names(estimator, final, feature_names, n_features)
    top = np.argsort(-importances, kind="stable")[:max_features]
    model = model or type(final).__name__
    title = plot_title("Feature importance", model=model, detail=aggregation)
    json_data: JsonDict = {
        "kind": "feature_importance",
        "source": source,
        "aggregation": aggregation,
        "n_features": n_features,
        "features": [names[index] for index in top],
        "importances": numbers(importances[top]),
    }
    describe(
        json_data,
        title=title,
        x_label=aggregation,
        y_label="Feature",
        dataset=None,
        model=model,
    )
    return json_data


def iteration_curves(estimator: object) -> dict[str, list[float]]:
    """Read the per-iteration histories an iterative estimator exposes.

    Parameters
    ----------
    estimator : estimator instance
        A fitted estimator or ``Pipeline`` (its last step is read).

    Returns
    -------
    dict of str to list of float
        By name: ``loss`` (``loss_curve_``), ``validation_score``
        (``validation_scores_`` or ``validation_score_``), ``train_score``,
        ``oob_improvement``, ``oob_score``, and ``<eval set>_<metric>`` for each
        history in ``evals_result_`` (XGBoost, LightGBM). Empty when there is none.

    Examples
    --------
    >>> from sklearn.ensemble import GradientBoostingRegressor
    >>> from mltrail.evaluation._estimator_plots import iteration_curves
    >>> X, y = [[0], [1], [2]], [0, 1, 1]
    >>> model = GradientBoostingRegressor(n_estimators=3).fit(X, y)
    >>> list(iteration_curves(model)), len(iteration_curves(model)["train_score"])
    (['train_score'], 3)
    """
    steps = getattr(estimator, "steps", None)
    final = steps[-1][1] if isinstance(steps, list) and steps else estimator
    curves: dict[str, list[float]] = {}
    for attribute, name in CURVE_ATTRIBUTES.items():
        history = _history(getattr(final, attribute, None))
        if history:
            curves[name] = history
    evals = getattr(final, "evals_result_", None)
    if isinstance(evals, Mapping):
        for dataset, results in evals.items():
            if not isinstance(results, Mapping):
                continue
            for metric, values in results.items():
                history = _history(values)
                if history:
                    curves[_METRIC_NAME_UNSAFE.sub("_", f"{dataset}_{metric}")] = (
                        history
                    )
    return curves


def iteration_curves_plot(
    curves: Mapping[str, Sequence[float]], *, model: str | None = None
) -> Plot | None:
    """One panel per history from :func:`iteration_curves`; ``None`` when empty.

    ``model`` names the estimator in the title.
    """
    return with_png(iteration_curves_data(curves, model=model))


def iteration_curves_data(
    curves: Mapping[str, Sequence[float]], *, model: str | None = None
) -> JsonDict | None:
    """Build the data of :func:`iteration_curves_plot`; ``None`` when empty."""
    if not curves:
        return None
    series: list[JsonDict] = []
    for name, values in list(curves.items())[:MAX_PANELS]:
        value = np.asarray(values, dtype=np.float64)
        step, value = downsample(np.arange(value.shape[0], dtype=np.float64), value)
        series.append(
            {
                "name": name,
                "step": numbers(step, as_int=True),
                "value": numbers(value),
            }
        )
    title = plot_title("Iteration curves", model=model)
    json_data: JsonDict = {"kind": "iteration_curves", "curves": series}
    describe(
        json_data,
        title=title,
        x_label="Iteration",
        y_label=None,
        dataset=None,
        model=model,
    )
    return json_data


def _feature_names(
    estimator: object,
    final: object,
    feature_names: Sequence[str] | None,
    n_features: int,
) -> list[str]:
    candidates: list[object] = [feature_names]
    if final is not estimator:
        # A step without get_feature_names_out, or not fitted, gives no names.
        with contextlib.suppress(AttributeError, ValueError, TypeError, IndexError):
            candidates.append(estimator[:-1].get_feature_names_out())  # type: ignore[index]  # a Pipeline slices
    candidates.append(getattr(final, "feature_names_in_", None))
    for names in candidates:
        if names is not None:
            listed = [str(name) for name in names]  # type: ignore[attr-defined]  # any sequence
            if len(listed) == n_features:
                return listed
    return [f"x{index}" for index in range(n_features)]


def _history(values: object) -> list[float]:
    if values is None or isinstance(values, (str, bytes)):
        return []
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return []
    if array.ndim != 1:
        return []
    return [float(value) for value in array]
