"""Dataset plots: PNG bytes plus the JSON data a UI needs to redraw each one.

Every plot is a ``(png_bytes, data)`` pair. ``data`` is JSON-ready (``json.dumps``
with ``allow_nan=False`` accepts it; missing numbers are ``None``), carries a
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
``.json`` beside it (see :func:`plot_artifacts`). Drawing is in ``_drawing``:
matplotlib's object API, imported only when a plot is drawn.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mltrail.evaluation import _canvas
from mltrail.evaluation._drawing import (
    JsonDict,
    Plot,
    describe,
    downsample,
    json_label,
    new_figure,
    numbers,
    plot_title,
    render_curves,
    short,
    single_axes,
    to_png,
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

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MAX_SCATTER_POINTS = 1000
MAX_CURVES = 20
MAX_MATRIX_CLASSES = 50
MAX_ANNOTATED_CLASSES = 6  # each number is a text layout, the bulk of render time
MAX_TICK_LABELED_CLASSES = 20
MAX_MATRIX_LABEL_LENGTH = 16
CELL_FONT_SIZE = 8.0
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
    """Draw the classifier plots of one dataset.

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
    dict of str to (bytes, dict)
        ``confusion_matrix`` always, and with ``y_score`` the curves that are
        defined: ``roc_curve``, ``precision_recall_curve``, ``calibration_curve``.

    Examples
    --------
    >>> from mltrail.evaluation._plots import plots_for_classifier
    >>> y_true, y_pred = [0, 1, 1, 0], [0, 1, 0, 0]
    >>> sorted(plots_for_classifier(y_true, y_pred, y_score=[0.1, 0.9, 0.4, 0.3]))
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
    builders: dict[str, Callable[..., Plot | None]] = {
        "confusion_matrix": confusion_matrix_plot,
        "roc_curve": roc_curve_plot,
        "precision_recall_curve": precision_recall_curve_plot,
        "calibration_curve": calibration_curve_plot,
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
    names = tuple(short(label, MAX_MATRIX_LABEL_LENGTH) for label in labels)
    panels = ((counts, ".4g"), (normalized, ".2f"))

    def draw(frame: _canvas.Frame) -> _canvas.Pixels:
        pixels = frame.start()
        dpi = float(frame.figure.dpi)
        for axes, (matrix, number_format) in zip(
            frame.figure.axes, panels, strict=True
        ):
            _fill_cells(frame, axes, pixels, matrix)
            for spine in axes.spines.values():  # the cells cover the frame's edge
                frame.draw(spine)
            if len(names) > MAX_ANNOTATED_CLASSES:
                continue
            middle = matrix.max() / 2
            for (row, column), value in np.ndenumerate(matrix):
                x, y = frame.pixel(*axes.transData.transform((column, row)))
                _canvas.draw_text(
                    pixels,
                    format(value, number_format),
                    x,
                    y,
                    size=CELL_FONT_SIZE,
                    dpi=dpi,
                    color=(255, 255, 255) if value > middle else (0, 0, 0),
                    ha="center",
                )
        return pixels

    png = _canvas.render(
        ("confusion_matrix", names, title),
        lambda: _confusion_frame(names, title),
        draw,
    )
    return png, json_data


def _fill_cells(
    frame: _canvas.Frame, axes: Axes, pixels: _canvas.Pixels, matrix: FloatArray
) -> None:
    """Paint each cell in its colormap color, as ``imshow`` does when enlarging.

    The frame's image is never drawn: it only sets the limits and the aspect.
    """
    from matplotlib import colormaps

    n_classes = matrix.shape[0]
    edges = np.arange(n_classes + 1) - 0.5
    corners = axes.transData.transform(np.c_[edges, edges])
    columns = np.rint(corners[:, 0]).astype(np.intp)
    rows = np.rint(frame.height - corners[:, 1]).astype(np.intp)
    top = float(matrix.max())
    colors = colormaps["Blues"](matrix / top if top > 0 else np.zeros_like(matrix))
    rgb = np.rint(colors[:, :, :3] * 255).astype(np.uint8)
    for row in range(n_classes):
        row_start, row_stop = sorted((int(rows[row]), int(rows[row + 1])))
        for column in range(n_classes):
            column_start, column_stop = int(columns[column]), int(columns[column + 1])
            pixels[row_start:row_stop, column_start:column_stop, :3] = rgb[row, column]


def _confusion_frame(names: tuple[str, ...], title: str) -> Figure:
    """Draw the two empty matrix panels; their cells are painted per plot."""
    figure = new_figure(8.0, 4.0)
    figure.suptitle(title, fontsize=10, y=0.99)
    is_labeled = len(names) <= MAX_TICK_LABELED_CLASSES
    widest = max(len(name) for name in names) if is_labeled else 0
    is_rotated = len(names) > 4 or widest > 6
    ticks = range(len(names))
    empty = np.zeros((len(names), len(names)))
    for index, title in enumerate(("Counts", "Normalized by true class")):
        axes = figure.add_subplot(1, 2, index + 1)
        axes.imshow(empty, cmap="Blues", vmin=0, animated=True)
        axes.set_title(title, fontsize=10, y=1.0)
        axes.set_xlabel("Predicted label", fontsize=9)
        if index == 0:
            axes.set_ylabel("True label", fontsize=9)
        if not is_labeled:
            # Too many to read: the JSON holds the labels, the picture the pattern.
            axes.set_xticks([])
            axes.set_yticks([])
            continue
        axes.set_xticks(
            ticks,
            names,
            fontsize=8,
            rotation=45 if is_rotated else 0,
            ha="right" if is_rotated else "center",
            rotation_mode="anchor",
        )
        # The rows are the same in both panels: label them once.
        axes.set_yticks(ticks, names if index == 0 else [], fontsize=8)
    # Room for the longest label (about 0.07 inch a character at 8 points).
    figure.subplots_adjust(
        left=0.07 + 0.009 * widest,
        right=0.98,
        bottom=0.14 + (0.012 * widest if is_rotated else 0.0),
        top=0.86,
        wspace=0.08,
    )
    return figure


def roc_curve_plot(
    data: Classification, *, dataset: str | None = None, model: str | None = None
) -> Plot | None:
    """Draw the ROC curve of the positive class, or one per class (one-vs-rest)."""
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
    json_data: JsonDict = {"kind": "roc_curve", "curves": curves}
    describe(
        json_data,
        title=title,
        x_label="False positive rate",
        y_label="True positive rate",
        dataset=dataset,
        model=model,
    )
    png = render_curves(
        curves,
        x="fpr",
        y="tpr",
        legend=lambda curve: (
            f"{_curve_name(data, curve['label'])} (AUC {curve['auc']:.3f})"
        ),
        title=title,
        xlabel="False positive rate",
        ylabel="True positive rate",
        diagonal=True,
        legend_corner="lower right",
    )
    return png, json_data


def precision_recall_curve_plot(
    data: Classification, *, dataset: str | None = None, model: str | None = None
) -> Plot | None:
    """Draw precision-recall curves, as ``sklearn.metrics.precision_recall_curve``."""
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
    json_data: JsonDict = {"kind": "precision_recall_curve", "curves": curves}
    describe(
        json_data,
        title=title,
        x_label="Recall",
        y_label="Precision",
        dataset=dataset,
        model=model,
    )
    png = render_curves(
        curves,
        x="recall",
        y="precision",
        legend=lambda curve: (
            f"{_curve_name(data, curve['label'])} (AP {curve['average_precision']:.3f})"
        ),
        title=title,
        xlabel="Recall",
        ylabel="Precision",
        diagonal=False,
        legend_corner="lower left",
    )
    return png, json_data


def calibration_curve_plot(
    data: Classification,
    n_bins: int | None = None,
    *,
    dataset: str | None = None,
    model: str | None = None,
) -> Plot | None:
    """Draw the reliability diagram, as ``sklearn.calibration.calibration_curve``.

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
    png = render_curves(
        curves,
        x="prob_pred",
        y="prob_true",
        legend=lambda curve: _curve_name(data, curve["label"]),
        title=title,
        xlabel="Mean predicted probability in the bin",
        ylabel="Fraction of the bin in the class",
        diagonal=True,
        diagonal_label="perfectly calibrated",
        legend_corner="upper left",
        marker="o",
    )
    return png, json_data


def _curve_name(data: Classification, label: object) -> str:
    """Say which class a curve is for: the positive class, or one against the rest."""
    name = short(label)
    return (
        f"{name} (positive class)" if data.positive is not None else f"{name} vs rest"
    )


def plots_for_regressor(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    random_state: int = 0,
    dataset: str | None = None,
    model: str | None = None,
) -> dict[str, Plot]:
    """Draw the regressor plots of one dataset.

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
    dict of str to (bytes, dict)
        ``residuals`` (residual against prediction) and ``predicted_vs_actual``, or
        nothing when no row is finite.

    Examples
    --------
    >>> from mltrail.evaluation._plots import plots_for_regressor
    >>> sorted(plots_for_regressor([1.0, 2.0, 3.0], [1.1, 1.9, 3.2]))
    ['predicted_vs_actual', 'residuals']
    """
    true = np.asarray(y_true, dtype=np.float64).ravel()
    pred = np.asarray(y_pred, dtype=np.float64).ravel()
    finite = np.isfinite(true) & np.isfinite(pred)
    true, pred = true[finite], pred[finite]
    n_samples = true.shape[0]
    if n_samples == 0:
        return {}
    if n_samples > MAX_SCATTER_POINTS:
        rows = np.random.RandomState(random_state).choice(
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
    figure, axes = single_axes(title, "Predicted value", "Residual (true - predicted)")
    axes.plot(pred, residual, ".", markersize=3, alpha=0.6)
    axes.axhline(0.0, color="gray", linestyle="--", linewidth=1)
    residuals_png = to_png(figure)
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
    figure, axes = single_axes(title, "Actual value", "Predicted value")
    axes.plot(true, pred, ".", markersize=3, alpha=0.6)
    low = float(min(true.min(), pred.min()))
    high = float(max(true.max(), pred.max()))
    axes.plot([low, high], [low, high], color="gray", linestyle="--", linewidth=1)
    return {
        "residuals": (residuals_png, residuals),
        "predicted_vs_actual": (to_png(figure), actual),
    }


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
        stem = f"plots/{dataset}_{name}" if dataset else f"plots/{name}"
        text = json.dumps(data, allow_nan=False, separators=(",", ":"))
        files.append((f"{stem}.png", png))
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
