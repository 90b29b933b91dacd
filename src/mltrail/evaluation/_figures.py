"""Plot pictures: a PNG drawn from a plot's JSON data alone, with matplotlib.

A plot's JSON (see ``_plots`` and ``_estimator_plots``) is part of the run; its PNG
is a rendering of it, which the helper process draws after the fact (``draw``), and
which ``mltrail runs render`` draws again when it is missing. Everything the picture
shows is in the JSON, so the two never disagree.

Rendering uses matplotlib's object API (``Figure``, the Agg canvas and ``savefig``,
never ``pyplot``): no window, any thread. matplotlib is imported inside the
functions, so importing this module stays cheap. User text (labels, feature
names, titles) goes through ``_drawing.font_safe``, so drawing it can neither warn nor
fail.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from mltrail._errors import InvalidValueError
from mltrail.evaluation._drawing import font_safe, short

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["KINDS", "draw", "is_drawable", "legend_labels", "png_path", "render_png"]

DPI = 100
UNIT_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)
LEGEND_FONT_SIZE = 7.0
CELL_FONT_SIZE = 8.0
TITLE_CHARACTER_INCHES = 0.075
MAX_ANNOTATED_CLASSES = 6  # a number per cell is unreadable past that
MAX_TICK_LABELED_CLASSES = 20
MAX_MATRIX_LABEL_LENGTH = 16
BAR_COLOR = "tab:blue"
# What a curve plot draws: the x and y keys of its curves, the legend corner, and
# whether the dashed diagonal is drawn (with its legend label, if any).
Corner = Literal["lower right", "lower left", "upper left"]
_CURVES: dict[str, tuple[str, str, Corner, bool, str | None]] = {
    "roc_curve": ("fpr", "tpr", "lower right", True, None),
    "precision_recall_curve": ("recall", "precision", "lower left", False, None),
    "calibration_curve": (
        "prob_pred",
        "prob_true",
        "upper left",
        True,
        "perfectly calibrated",
    ),
}


def draw(data: Mapping[str, Any]) -> bytes:
    """Draw the PNG of one plot from its JSON data.

    Parameters
    ----------
    data : mapping
        A plot's JSON data, with its ``"kind"`` (one of ``KINDS``).

    Returns
    -------
    bytes
        The PNG.

    Raises
    ------
    InvalidValueError
        If ``data`` is not the data of a plot mltrail draws.

    Examples
    --------
    >>> from mltrail.evaluation._figures import draw
    >>> draw({"kind": "residuals", "predicted": [1.0], "residuals": [0.5]})[1:4]
    b'PNG'
    """
    kind = data.get("kind") if isinstance(data, Mapping) else None
    drawer = _DRAWERS.get(kind) if isinstance(kind, str) else None
    if drawer is None:
        raise InvalidValueError(
            "plot kind",
            kind,
            f"one of {', '.join(sorted(_DRAWERS))}",
            "Only plot JSON that mltrail wrote can be drawn again.",
        )
    figure = drawer(data)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def png_path(json_path: str) -> str:
    """Name the PNG drawn from the plot JSON at ``json_path`` (the file beside it)."""
    return json_path.removesuffix(".json") + ".png"


def render_png(json_path: str, text: bytes) -> list[tuple[str, bytes]]:
    """Draw the PNG beside a plot's JSON file from the file's bytes (a task)."""
    return [(png_path(json_path), draw(json.loads(text)))]


def new_figure(width: float, height: float) -> Figure:
    """Make a figure on an Agg canvas, outside pyplot's registry."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def wrap_title(title: str, width: float) -> str:
    """Put a title's parenthesis on a second line when it is too wide for ``width``.

    ``width`` is in inches; a 10-point character is about 0.075 inch wide.
    """
    if len(title) * TITLE_CHARACTER_INCHES <= width * 0.95:
        return title
    return title.replace(" (", "\n(", 1)


def single_axes(data: Mapping[str, Any]) -> tuple[Figure, Axes]:
    """Make a 5 x 4 inch figure with one axes, titled and labeled from ``data``."""
    figure = new_figure(5.0, 4.0)
    axes = figure.add_subplot()
    title = wrap_title(font_safe(data.get("title") or ""), 5.0)
    axes.set_title(title, fontsize=10)
    axes.set_xlabel(font_safe(data.get("x_label") or ""), fontsize=9)
    axes.set_ylabel(font_safe(data.get("y_label") or ""), fontsize=9)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    top = 0.87 if "\n" in title else 0.92
    figure.subplots_adjust(left=0.14, right=0.96, bottom=0.13, top=top)
    return figure, axes


def _values(values: Sequence[float | None]) -> Any:
    """Turn JSON numbers (None for a missing one) into a float array."""
    import numpy as np

    return np.array([math.nan if value is None else value for value in values], float)


def _curve_name(data: Mapping[str, Any], curve: Mapping[str, Any]) -> str:
    """Say which class a curve is for: the positive class, or one against the rest."""
    curves = data.get("curves") or []
    is_one_vs_rest = data.get("one_vs_rest", len(curves) > 1)
    name = short(curve.get("label"), 30)
    return f"{name} vs rest" if is_one_vs_rest else f"{name} (positive class)"


def legend_labels(data: Mapping[str, Any]) -> list[str]:
    """Return the legend's entries of a curve plot, in drawing order."""
    kind = data["kind"]
    labels = []
    for curve in data.get("curves") or []:
        name = _curve_name(data, curve)
        if kind == "roc_curve":
            name += f" (AUC {curve['auc']:.3f})"
        elif kind == "precision_recall_curve":
            name += f" (AP {curve['average_precision']:.3f})"
        labels.append(name)
    diagonal_label = _CURVES[kind][4]
    if diagonal_label is not None:
        labels.append(diagonal_label)
    return labels


def _draw_curves(data: Mapping[str, Any]) -> Figure:
    x, y, corner, has_diagonal, diagonal_label = _CURVES[data["kind"]]
    figure, axes = single_axes(data)
    axes.set_xlim(-0.02, 1.02)
    axes.set_ylim(-0.02, 1.02)
    axes.set_xticks(UNIT_TICKS)
    axes.set_yticks(UNIT_TICKS)
    labels = legend_labels(data)
    marker = "o" if data["kind"] == "calibration_curve" else None
    for index, curve in enumerate(data.get("curves") or []):
        axes.plot(
            _values(curve[x]),
            _values(curve[y]),
            color=f"C{index % 10}",
            marker=marker,
            markersize=3,
            linewidth=1.2,
            label=labels[index],
        )
    if has_diagonal:
        axes.plot(
            [0, 1],
            [0, 1],
            color="gray",
            linestyle="--",
            linewidth=1,
            label=diagonal_label if diagonal_label is not None else "_nolegend_",
        )
    if labels:
        axes.legend(loc=corner, fontsize=LEGEND_FONT_SIZE)
    return figure


def _draw_confusion_matrix(data: Mapping[str, Any]) -> Figure:
    """Draw the counts and the true-class-normalized matrix, side by side."""
    import numpy as np

    names = [short(label, MAX_MATRIX_LABEL_LENGTH) for label in data["labels"]]
    figure = new_figure(8.0, 4.0)
    figure.suptitle(font_safe(data.get("title") or ""), fontsize=10, y=0.99)
    is_labeled = len(names) <= MAX_TICK_LABELED_CLASSES
    widest = max((len(name) for name in names), default=0) if is_labeled else 0
    is_rotated = len(names) > 4 or widest > 6
    ticks = range(len(names))
    panels = (
        ("Counts", data["counts"], ".4g"),
        ("Normalized by true class", data["normalized"], ".2f"),
    )
    for index, (title, rows, number_format) in enumerate(panels):
        matrix = np.nan_to_num(np.array([_values(row) for row in rows], float))
        matrix = matrix.reshape(len(names), len(names))
        axes = figure.add_subplot(1, 2, index + 1)
        axes.imshow(matrix, cmap="Blues", vmin=0)
        axes.set_title(title, fontsize=10)
        axes.set_xlabel(font_safe(data.get("x_label") or ""), fontsize=9)
        if index == 0:
            axes.set_ylabel(font_safe(data.get("y_label") or ""), fontsize=9)
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
        if len(names) > MAX_ANNOTATED_CLASSES:
            continue
        middle = matrix.max() / 2
        for (row, column), value in np.ndenumerate(matrix):
            axes.text(
                column,
                row,
                format(value, number_format),
                ha="center",
                va="center",
                fontsize=CELL_FONT_SIZE,
                color="white" if value > middle else "black",
            )
    # Room for the longest label (about 0.07 inch a character at 8 points).
    figure.subplots_adjust(
        left=0.07 + 0.009 * widest,
        right=0.98,
        bottom=0.14 + (0.012 * widest if is_rotated else 0.0),
        top=0.86,
        wspace=0.08,
    )
    return figure


def _draw_residuals(data: Mapping[str, Any]) -> Figure:
    figure, axes = single_axes(data)
    axes.plot(
        _values(data["predicted"]),
        _values(data["residuals"]),
        ".",
        markersize=3,
        alpha=0.6,
    )
    axes.axhline(0.0, color="gray", linestyle="--", linewidth=1)
    return figure


def _draw_predicted_vs_actual(data: Mapping[str, Any]) -> Figure:
    import numpy as np

    figure, axes = single_axes(data)
    actual, predicted = _values(data["actual"]), _values(data["predicted"])
    axes.plot(actual, predicted, ".", markersize=3, alpha=0.6)
    both = np.r_[actual, predicted]
    both = both[np.isfinite(both)]
    if both.shape[0]:
        low, high = float(both.min()), float(both.max())
        axes.plot([low, high], [low, high], color="gray", linestyle="--", linewidth=1)
    return figure


def _draw_feature_importance(data: Mapping[str, Any]) -> Figure:
    """Bars of the largest importances, the largest on top."""
    import numpy as np

    names = [short(name, 30) for name in data["features"]][::-1]
    values = np.nan_to_num(_values(data["importances"]))[::-1]
    height = 1.2 + 0.18 * len(names)
    figure = new_figure(6.0, height)
    axes = figure.add_subplot()
    axes.barh(range(len(names)), values, height=0.8, color=BAR_COLOR)
    axes.set_ylim(-0.6, len(names) - 0.4)
    axes.set_yticks(range(len(names)), names, fontsize=8)
    if values.shape[0] and values.min() >= 0:
        axes.set_xlim(left=0.0)
    widest = max((len(name) for name in names), default=0)
    left = min(0.6, 0.08 + 0.011 * widest)
    title = wrap_title(font_safe(data.get("title") or ""), 6.0 * (0.96 - left))
    axes.set_title(title, fontsize=10)
    axes.tick_params(axis="x", labelsize=8)
    figure.subplots_adjust(
        left=left,
        right=0.96,
        top=1 - (0.65 if "\n" in title else 0.45) / height,
        bottom=0.45 / height,
    )
    return figure


def _draw_iteration_curves(data: Mapping[str, Any]) -> Figure:
    """One panel per history."""
    series = data.get("curves") or []
    columns = max(1, min(len(series), 3))
    rows = max(1, math.ceil(len(series) / columns))
    figure = new_figure(3.2 * columns, 2.6 * rows + 0.3)
    figure.suptitle(font_safe(data.get("title") or ""), fontsize=10, y=0.995)
    for index, curve in enumerate(series):
        axes = figure.add_subplot(rows, columns, index + 1)
        axes.plot(_values(curve["step"]), _values(curve["value"]), linewidth=1.2)
        axes.set_title(short(curve["name"], 30), fontsize=9)
        axes.locator_params(nbins=4)
        axes.set_xlabel("Iteration", fontsize=8)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
    figure.subplots_adjust(
        left=0.12,
        right=0.96,
        bottom=0.16,
        top=0.88 - 0.3 / (2.6 * rows + 0.3),
        wspace=0.35,
        hspace=0.6,
    )
    return figure


_DRAWERS: dict[str, Callable[[Mapping[str, Any]], Figure]] = {
    "confusion_matrix": _draw_confusion_matrix,
    **dict.fromkeys(_CURVES, _draw_curves),
    "residuals": _draw_residuals,
    "predicted_vs_actual": _draw_predicted_vs_actual,
    "feature_importance": _draw_feature_importance,
    "iteration_curves": _draw_iteration_curves,
}
KINDS = frozenset(_DRAWERS)


def is_drawable(data: object) -> bool:
    """Whether ``data`` is plot JSON of a kind that :func:`draw` draws."""
    return isinstance(data, Mapping) and data.get("kind") in KINDS
