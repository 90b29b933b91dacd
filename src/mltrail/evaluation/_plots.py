"""Dataset plots: the JSON data of each plot, and its PNG drawn from that data.

A plot is its JSON data; its PNG is drawn from the data alone (``_figures.draw``),
so the picture can be drawn later, elsewhere (autologging's helper process) or
again (``mltrail runs render``). ``plot_data_for_*`` build the data;
``plots_for_*`` also draw, giving ``(png_bytes, data)`` pairs. ``data`` is
JSON-ready (``json.dumps`` with ``allow_nan=False`` accepts it; missing numbers
are ``None``), carries a
``"kind"``, and holds the drawn values: curves are cut to at most ``MAX_POINTS``
points (a subset of the original points, evenly spaced along the curve, so its shape
and both ends survive), scatter plots to ``MAX_SCATTER_POINTS`` random rows.

Plots drawn for one dataset, by name:

- classifiers: ``confusion_matrix`` (one PNG, two panels: counts and rows normalized
  to the true class; the JSON holds both matrices), ``roc_curve`` and
  ``precision_recall_curve`` (binary: the positive class; multiclass: one-vs-rest,
  one curve per class present in ``y_true``, at most ``MAX_CURVES``),
  ``calibration_curve`` (probabilities only; binary, or one-vs-rest);
- regressors: ``residuals`` and ``predicted_vs_actual``.

The estimator's own plots (``feature_importance``, ``iteration_curves``) are in
``_estimator_plots``. Artifacts are named ``plots/<dataset>_<name>.png`` and
``.json`` beside it (see :func:`plot_artifacts` and :func:`plot_files`). Drawing is
in ``_figures``: matplotlib, imported only when a plot is drawn.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

from mltrail.evaluation import _figures
from mltrail.evaluation._drawing import (
    JsonDict,
    Plot,
    describe,
    downsample,
    json_label,
    numbers,
    plot_title,
)
from mltrail.evaluation._metrics import (
    BoolArray,
    Classification,
    FloatArray,
    IntArray,
    average_precision_of,
    binary_curve,
    divide_or_zero,
    encode_classification,
    roc_auc_of,
)

MAX_SCATTER_POINTS = 1000
MAX_CURVES = 20
MAX_MATRIX_CLASSES = 50
CALIBRATION_BINS = 10
# Below this many rows, equal-width bins hold too few rows each to be more than
# noise: the calibration curve takes quantile bins of about
# CALIBRATION_ROWS_PER_BIN rows instead (at least MIN_CALIBRATION_BINS).
CALIBRATION_MIN_UNIFORM_ROWS = 300
CALIBRATION_ROWS_PER_BIN = 20
MIN_CALIBRATION_BINS = 2


def plots_for_classifier(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    y_score: npt.ArrayLike | None = None,
    classes: npt.ArrayLike | None = None,
    pos_label: object = None,
    sample_weight: npt.ArrayLike | None = None,
    is_probability: bool | None = None,
    dataset: str | None = None,
    model: str | None = None,
) -> dict[str, Plot]:
    """Draw the classifier plots of one dataset: ``plot_data_for_classifier``, drawn.

    Examples
    --------
    >>> from mltrail.evaluation._plots import plots_for_classifier
    >>> y_true, y_pred = [0, 1, 1, 0], [0, 1, 0, 0]
    >>> png, data = plots_for_classifier(y_true, y_pred)["confusion_matrix"]
    >>> png[1:4], data["counts"]
    (b'PNG', [[2, 0], [1, 1]])
    """
    return drawn(
        plot_data_for_classifier(
            y_true,
            y_pred,
            y_score=y_score,
            classes=classes,
            pos_label=pos_label,
            sample_weight=sample_weight,
            is_probability=is_probability,
            dataset=dataset,
            model=model,
        )
    )


def drawn(plots: Mapping[str, JsonDict]) -> dict[str, Plot]:
    """Draw each plot's PNG from its data: ``{name: (png, data)}``."""
    return {name: (_figures.draw(data), data) for name, data in plots.items()}


def with_png(data: JsonDict | None) -> Plot | None:
    """Draw one plot's PNG from its data; None stays None."""
    return None if data is None else (_figures.draw(data), data)


def plot_data_for_classifier(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    y_score: npt.ArrayLike | None = None,
    classes: npt.ArrayLike | None = None,
    pos_label: object = None,
    sample_weight: npt.ArrayLike | None = None,
    is_probability: bool | None = None,
    dataset: str | None = None,
    model: str | None = None,
) -> dict[str, JsonDict]:
    """Build the data of the classifier plots of one dataset.

    Parameters
    ----------
    y_true, y_pred, y_score, classes, pos_label, sample_weight, is_probability
        As for ``classifier_metrics``.
    dataset : str, default=None
        The dataset's name (``"training"``, ``"test"``), shown in the titles.
    model : str, default=None
        The estimator's name, shown in the titles.

    Returns
    -------
    dict of str to dict
        Each plot's JSON data: ``confusion_matrix`` always, and with ``y_score``
        the curves that are defined: ``roc_curve``, ``precision_recall_curve``,
        ``calibration_curve``.

    Examples
    --------
    >>> from mltrail.evaluation._plots import plot_data_for_classifier
    >>> y_true, y_pred = [0, 1, 1, 0], [0, 1, 0, 0]
    >>> y_score = [0.1, 0.9, 0.4, 0.3]
    >>> sorted(plot_data_for_classifier(y_true, y_pred, y_score=y_score))
    ['calibration_curve', 'confusion_matrix', 'precision_recall_curve', 'roc_curve']
    """
    data = encode_classification(
        y_true,
        y_pred,
        y_score=y_score,
        classes=classes,
        pos_label=pos_label,
        sample_weight=sample_weight,
        is_probability=is_probability,
    )
    if data is None:
        return {}
    builders: dict[str, Callable[..., JsonDict | None]] = {
        "confusion_matrix": confusion_matrix_data,
        "roc_curve": roc_curve_data,
        "precision_recall_curve": precision_recall_curve_data,
        "calibration_curve": calibration_curve_data,
    }
    plots = {}
    for name, builder in builders.items():
        plot = builder(data, dataset=dataset, model=model)
        if plot is not None:
            plots[name] = plot
    return plots


def confusion_matrix_plot(
    data: Classification, *, dataset: str | None = None, model: str | None = None
) -> Plot | None:
    """Draw the counts and the true-class-normalized confusion matrix side by side."""
    return with_png(confusion_matrix_data(data, dataset=dataset, model=model))


def confusion_matrix_data(
    data: Classification, *, dataset: str | None = None, model: str | None = None
) -> JsonDict | None:
    """Build the counts and the true-class-normalized confusion matrix."""
    if data.n_classes > MAX_MATRIX_CLASSES:
        return None
    title = plot_title("Confusion matrix", dataset=dataset, model=model)
    counts = data.confusion_matrix()
    row_sums = counts.sum(axis=1, keepdims=True)
    normalized = np.divide(
        counts, row_sums, out=np.zeros_like(counts), where=row_sums != 0
    )
    labels = [json_label(label) for label in data.labels]
    is_weighted = data.sample_weight is not None
    json_data: JsonDict = {
        "kind": "confusion_matrix",
        "labels": labels,
        "counts": [numbers(row, as_int=not is_weighted) for row in counts],
        "normalized": [numbers(row) for row in normalized],
    }
    describe(
        json_data,
        title=title,
        x_label="Predicted label",
        y_label="True label",
        dataset=dataset,
        model=model,
    )
    return json_data


def roc_curve_plot(
    data: Classification, *, dataset: str | None = None, model: str | None = None
) -> Plot | None:
    """Draw the ROC curve of the positive class, or one per class (one-vs-rest)."""
    return with_png(roc_curve_data(data, dataset=dataset, model=model))


def roc_curve_data(
    data: Classification, *, dataset: str | None = None, model: str | None = None
) -> JsonDict | None:
    """Build the ROC curve of the positive class, or one per class (one-vs-rest)."""
    curves = []
    for label, fps, tps in _class_curves(data):
        auc = roc_auc_of(fps, tps)
        if auc is None:
            continue
        if fps.shape[0] > 2:
            # sklearn's roc_curve(drop_intermediate=True): keep only the corners.
            corner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
            kept = np.r_[True, corner, True]
            fps, tps = fps[kept], tps[kept]
        fpr = np.r_[0.0, fps] / fps[-1]
        tpr = np.r_[0.0, tps] / tps[-1]
        fpr, tpr = downsample(fpr, tpr)
        curves.append(
            {"label": label, "fpr": numbers(fpr), "tpr": numbers(tpr), "auc": auc}
        )
    if not curves:
        return None
    title = plot_title("ROC curve", dataset=dataset, model=model)
    json_data: JsonDict = {
        "kind": "roc_curve",
        "one_vs_rest": data.positive is None,
        "curves": curves,
    }
    describe(
        json_data,
        title=title,
        x_label="False positive rate",
        y_label="True positive rate",
        dataset=dataset,
        model=model,
    )
    return json_data


def precision_recall_curve_plot(
    data: Classification, *, dataset: str | None = None, model: str | None = None
) -> Plot | None:
    """Draw precision-recall curves, as ``sklearn.metrics.precision_recall_curve``."""
    return with_png(precision_recall_curve_data(data, dataset=dataset, model=model))


def precision_recall_curve_data(
    data: Classification, *, dataset: str | None = None, model: str | None = None
) -> JsonDict | None:
    """Build precision-recall curves, as ``sklearn.metrics.precision_recall_curve``."""
    curves = []
    for label, fps, tps in _class_curves(data):
        average_precision = average_precision_of(fps, tps)
        if average_precision is None:
            continue
        precision = np.r_[divide_or_zero(tps, tps + fps)[::-1], 1.0]
        recall = np.r_[(tps / tps[-1])[::-1], 0.0]
        recall, precision = downsample(recall, precision)
        curves.append(
            {
                "label": label,
                "precision": numbers(precision),
                "recall": numbers(recall),
                "average_precision": average_precision,
            }
        )
    if not curves:
        return None
    title = plot_title("Precision-recall curve", dataset=dataset, model=model)
    json_data: JsonDict = {
        "kind": "precision_recall_curve",
        "one_vs_rest": data.positive is None,
        "curves": curves,
    }
    describe(
        json_data,
        title=title,
        x_label="Recall",
        y_label="Precision",
        dataset=dataset,
        model=model,
    )
    return json_data


def calibration_curve_plot(
    data: Classification,
    n_bins: int | None = None,
    *,
    dataset: str | None = None,
    model: str | None = None,
) -> Plot | None:
    """Draw the reliability diagram of :func:`calibration_curve_data`."""
    return with_png(calibration_curve_data(data, n_bins, dataset=dataset, model=model))


def calibration_curve_data(
    data: Classification,
    n_bins: int | None = None,
    *,
    dataset: str | None = None,
    model: str | None = None,
) -> JsonDict | None:
    """Build the reliability diagram, as ``sklearn.calibration.calibration_curve``.

    By default, ``CALIBRATION_BINS`` equal-width bins; below
    ``CALIBRATION_MIN_UNIFORM_ROWS`` rows, quantile bins of about
    ``CALIBRATION_ROWS_PER_BIN`` rows each (sklearn's ``strategy="quantile"``),
    so that a small test set does not draw a zig-zag of near-empty bins. The JSON
    names the strategy and the number of bins; the legend says which class each
    curve is for, and what the diagonal means.
    """
    if data.scores is None or not data.is_probability:
        return None
    n_rows = data.true_codes.shape[0]
    strategy = "uniform" if n_rows >= CALIBRATION_MIN_UNIFORM_ROWS else "quantile"
    if n_bins is None:
        n_bins = CALIBRATION_BINS
        if strategy == "quantile":
            n_bins = min(
                CALIBRATION_BINS,
                max(MIN_CALIBRATION_BINS, n_rows // CALIBRATION_ROWS_PER_BIN),
            )
    curves = []
    for index in _curve_classes(data):
        probability = data.scores[:, index]
        is_positive = (data.true_codes == index).astype(np.float64)
        if strategy == "quantile":
            edges = np.percentile(probability, np.linspace(0.0, 100.0, n_bins + 1))
        else:
            edges = np.linspace(0.0, 1.0, n_bins + 1)
        bins = np.searchsorted(edges[1:-1], probability)
        weight = data.sample_weight
        total = np.bincount(bins, weights=weight, minlength=n_bins)
        if weight is not None:
            is_positive = is_positive * weight
            probability = probability * weight
        filled = total != 0
        curves.append(
            {
                "label": json_label(data.labels[index]),
                "prob_pred": numbers(
                    np.bincount(bins, weights=probability, minlength=n_bins)[filled]
                    / total[filled]
                ),
                "prob_true": numbers(
                    np.bincount(bins, weights=is_positive, minlength=n_bins)[filled]
                    / total[filled]
                ),
                "count": numbers(total[filled], as_int=weight is None),
            }
        )
    detail = f"{n_bins} {'equal-width' if strategy == 'uniform' else 'quantile'} bins"
    title = plot_title("Calibration curve", dataset=dataset, model=model, detail=detail)
    json_data: JsonDict = {
        "kind": "calibration_curve",
        "n_bins": n_bins,
        "strategy": strategy,
        "n_rows": int(n_rows),
        "one_vs_rest": data.positive is None,
        "curves": curves,
    }
    describe(
        json_data,
        title=title,
        x_label="Mean predicted probability in the bin",
        y_label="Fraction of the bin in the class",
        dataset=dataset,
        model=model,
    )
    return json_data


def plots_for_regressor(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    random_state: int = 0,
    dataset: str | None = None,
    model: str | None = None,
) -> dict[str, Plot]:
    """Draw the regressor plots of one dataset: ``plot_data_for_regressor``, drawn.

    Examples
    --------
    >>> from mltrail.evaluation._plots import plots_for_regressor
    >>> sorted(plots_for_regressor([1.0, 2.0, 3.0], [1.1, 1.9, 3.2]))
    ['predicted_vs_actual', 'residuals']
    """
    return drawn(
        plot_data_for_regressor(
            y_true, y_pred, random_state=random_state, dataset=dataset, model=model
        )
    )


def plot_data_for_regressor(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    random_state: int = 0,
    dataset: str | None = None,
    model: str | None = None,
) -> dict[str, JsonDict]:
    """Build the data of the regressor plots of one dataset.

    Several outputs are pooled into one scatter; rows with a non-finite target or
    prediction are left out.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The true targets.
    y_pred : array-like of the same shape as ``y_true``
        The predicted targets.
    random_state : int, default=0
        Seed of the draw of at most ``MAX_SCATTER_POINTS`` points to show.
    dataset : str, default=None
        The dataset's name, shown in the titles.
    model : str, default=None
        The estimator's name, shown in the titles.

    Returns
    -------
    dict of str to dict
        The JSON data of ``residuals`` (residual against prediction) and
        ``predicted_vs_actual``, or nothing when no row is finite.

    Examples
    --------
    >>> from mltrail.evaluation._plots import plot_data_for_regressor
    >>> data = plot_data_for_regressor([1.0, 2.0, 3.0], [1.1, 1.9, 3.2])
    >>> data["residuals"]["n_samples"], sorted(data)
    (3, ['predicted_vs_actual', 'residuals'])
    """
    true = np.asarray(y_true, dtype=np.float64).ravel()
    pred = np.asarray(y_pred, dtype=np.float64).ravel()
    finite = np.isfinite(true) & np.isfinite(pred)
    true, pred = true[finite], pred[finite]
    n_samples = true.shape[0]
    if n_samples == 0:
        return {}
    if n_samples > MAX_SCATTER_POINTS:
        # A Generator draws without shuffling all rows (RandomState permutes them).
        rows = np.random.default_rng(random_state).choice(
            n_samples, MAX_SCATTER_POINTS, replace=False
        )
        rows.sort()
        true, pred = true[rows], pred[rows]
    residual = true - pred
    residuals: JsonDict = {
        "kind": "residuals",
        "n_samples": n_samples,
        "predicted": numbers(pred),
        "residuals": numbers(residual),
    }
    title = plot_title("Residuals", dataset=dataset, model=model)
    describe(
        residuals,
        title=title,
        x_label="Predicted value",
        y_label="Residual (true - predicted)",
        dataset=dataset,
        model=model,
    )
    actual: JsonDict = {
        "kind": "predicted_vs_actual",
        "n_samples": n_samples,
        "actual": numbers(true),
        "predicted": numbers(pred),
    }
    title = plot_title("Predicted vs actual", dataset=dataset, model=model)
    describe(
        actual,
        title=title,
        x_label="Actual value",
        y_label="Predicted value",
        dataset=dataset,
        model=model,
    )
    return {"residuals": residuals, "predicted_vs_actual": actual}


def plot_artifacts(
    plots: Mapping[str, Plot], *, dataset: str | None = None
) -> list[tuple[str, bytes]]:
    """Name the files of a set of plots: a PNG and a JSON per plot.

    Parameters
    ----------
    plots : mapping of str to (bytes, dict)
        Plots by name, as returned by ``plots_for_classifier``.
    dataset : str, default=None
        The dataset prefix (``"training"``, ``"test"``, a name); ``None`` for
        plots of the estimator itself, such as ``feature_importance``.

    Returns
    -------
    list of (str, bytes)
        ``("plots/<dataset>_<name>.png", png)`` and ``(".../<name>.json", data)``.

    Examples
    --------
    >>> from mltrail.evaluation._plots import plot_artifacts
    >>> [path for path, _ in plot_artifacts({"roc_curve": (b"", {})}, dataset="test")]
    ['plots/test_roc_curve.png', 'plots/test_roc_curve.json']
    """
    files = []
    for name, (png, data) in plots.items():
        (path, text), *_ = plot_files({name: data}, dataset=dataset)
        files.append((_figures.png_path(path), png))
        files.append((path, text))
    return files


def plot_files(
    plots: Mapping[str, JsonDict], *, dataset: str | None = None
) -> list[tuple[str, bytes]]:
    """Name the JSON files of a set of plots, whose PNGs are drawn later.

    Parameters
    ----------
    plots : mapping of str to dict
        Plots' data by name, as returned by ``plot_data_for_classifier``.
    dataset : str, default=None
        The dataset prefix, as for :func:`plot_artifacts`.

    Returns
    -------
    list of (str, bytes)
        ``("plots/<dataset>_<name>.json", data)``; ``_figures.render_png`` draws
        the PNG beside each.

    Examples
    --------
    >>> from mltrail.evaluation._plots import plot_files
    >>> plot_files({"roc_curve": {"kind": "roc_curve"}}, dataset="test")
    [('plots/test_roc_curve.json', b'{"kind":"roc_curve"}')]
    """
    files = []
    for name, data in plots.items():
        stem = f"plots/{dataset}_{name}" if dataset else f"plots/{name}"
        text = json.dumps(data, allow_nan=False, separators=(",", ":"))
        files.append((f"{stem}.json", text.encode()))
    return files


def _class_curves(data: Classification) -> list[tuple[object, FloatArray, FloatArray]]:
    """(label, fps, tps) of each class that gets a curve."""
    if data.scores is None:
        return []
    curves = []
    for index in _curve_classes(data):
        is_positive: BoolArray = data.true_codes == index
        fps, tps, _ = binary_curve(
            is_positive, data.scores[:, index], data.sample_weight
        )
        curves.append((json_label(data.labels[index]), fps, tps))
    return curves


def _curve_classes(data: Classification) -> list[int]:
    """Pick the positive class of a binary target, else those present in y_true."""
    if data.positive is not None:
        return [data.positive]
    present: IntArray = np.unique(data.true_codes)
    return [int(index) for index in present[:MAX_CURVES]]
