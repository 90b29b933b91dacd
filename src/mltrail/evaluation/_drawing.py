"""Drawing helpers shared by the plot modules: figures, PNG bytes, JSON numbers.

Rendering uses matplotlib's object API (``Figure`` and the Agg canvas, never
``pyplot``), so it opens no window and runs on any thread; matplotlib is imported
inside these functions only. User text (labels, feature names) goes through
:func:`short`, so drawing it can neither warn nor fail.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from mltrail.evaluation import _canvas
from mltrail.evaluation._metrics import FloatArray, IntArray

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

# JSON data is built here and read by tests and the UI: its values are any JSON.
JsonDict = dict[str, Any]
Plot = tuple[bytes, JsonDict]
Corner = Literal["lower right", "lower left", "upper left"]
LineStyle = Literal["-", "--"]

DPI = 100
MAX_POINTS = 1000
MAX_LABEL_LENGTH = 30
MAX_TITLE_PART_LENGTH = 40
TITLE_CHARACTER_INCHES = 0.075
UNIT_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)
LEGEND_FONT_SIZE = 7.0


def downsample(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Keep at most ``MAX_POINTS`` points, evenly spaced along the curve's length.

    Long straight jumps swallow several evenly spaced targets, so the number of
    targets grows until the distinct points kept fill the budget.
    """
    n_points = x.shape[0]
    if n_points <= MAX_POINTS:
        return x, y
    spans = [_span(x), _span(y)]
    steps = np.hypot(np.diff(x) / spans[0], np.diff(y) / spans[1])
    length = np.r_[0.0, np.cumsum(np.nan_to_num(steps, nan=0.0, posinf=0.0))]
    if length[-1] <= 0:
        kept = np.linspace(0, n_points - 1, MAX_POINTS).astype(np.intp)
        return x[kept], y[kept]
    n_targets = MAX_POINTS - 2  # plus both ends: never more than MAX_POINTS
    kept = _points_along(length, n_targets)
    # The number of targets grows geometrically while the points kept fall short, and
    # targets beyond the number of points keep every point, so this ends.
    while kept.shape[0] < MAX_POINTS * 0.95:
        n_targets = int(n_targets * MAX_POINTS / kept.shape[0]) + 1
        candidate = _points_along(length, n_targets)
        if candidate.shape[0] > MAX_POINTS:
            # One step too far: thin the overshoot evenly, keeping both ends.
            thinned = np.linspace(0, candidate.shape[0] - 1, MAX_POINTS)
            kept = candidate[np.unique(thinned.round().astype(np.intp))]
            break
        kept = candidate
    return x[kept], y[kept]


def _points_along(length: FloatArray, n_targets: int) -> IntArray:
    """Find the first point at each of ``n_targets`` even steps along ``length``."""
    last = length.shape[0] - 1
    targets = np.linspace(0.0, length[-1], n_targets)
    nearest = np.minimum(np.searchsorted(length, targets), last)
    return np.unique(np.r_[0, nearest, last])


def _span(values: FloatArray) -> float:
    finite = values[np.isfinite(values)]
    span = float(np.ptp(finite)) if finite.shape[0] else 0.0
    return span or 1.0


def render_curves(
    curves: list[JsonDict],
    *,
    x: str,
    y: str,
    legend: Callable[[JsonDict], str],
    title: str,
    xlabel: str,
    ylabel: str,
    diagonal: bool,
    legend_corner: Corner,
    marker: str | None = None,
    diagonal_label: str | None = None,
) -> bytes:
    """Draw curves from their JSON data on one unit-square axes.

    The axes, ticks and labels come from a cached frame; only the curves and the
    legend are drawn per plot. ``diagonal_label`` names the dashed diagonal in
    the legend.
    """
    from matplotlib.lines import Line2D

    def build() -> Figure:
        figure, axes = single_axes(title, xlabel, ylabel)
        axes.set_xlim(-0.02, 1.02)
        axes.set_ylim(-0.02, 1.02)
        axes.set_xticks(UNIT_TICKS)
        axes.set_yticks(UNIT_TICKS)
        return figure

    def draw(frame: _canvas.Frame) -> _canvas.Pixels:
        pixels = frame.start()
        axes = frame.figure.axes[0]
        entries: list[tuple[str, str, str | None, LineStyle]] = []
        for index, curve in enumerate(curves):
            color = f"C{index % 10}"
            line = Line2D(
                curve[x],
                curve[y],
                color=color,
                marker=marker,
                markersize=3,
                linewidth=1.2,
            )
            draw_data(frame, axes, line)
            entries.append((legend(curve), color, marker, "-"))
        if diagonal:
            diagonal_line = Line2D(
                [0, 1], [0, 1], color="gray", linestyle="--", linewidth=1
            )
            draw_data(frame, axes, diagonal_line)
            if diagonal_label is not None:
                entries.append((diagonal_label, "gray", None, "--"))
        draw_legend(frame, axes, pixels, entries, legend_corner)
        return pixels

    return _canvas.render(("curves", title, xlabel, ylabel), build, draw)


def draw_data(frame: _canvas.Frame, axes: Axes, line: Line2D) -> None:
    """Draw a line in data coordinates on the frame, leaving the axes as they were."""
    axes.add_line(line)
    try:
        frame.draw(line)
    finally:
        line.remove()


def draw_legend(
    frame: _canvas.Frame,
    axes: Axes,
    pixels: _canvas.Pixels,
    entries: list[tuple[str, str, str | None, LineStyle]],
    corner: Corner,
) -> None:
    """Draw a legend box of (label, color, marker, line style) entries in a corner.

    The labels change with every plot, so they are blended in directly rather than
    laid out as matplotlib ``Text`` artists, the costliest part of a legend.
    """
    from matplotlib.lines import Line2D
    from matplotlib.transforms import IdentityTransform

    if not entries:
        return
    dpi = float(frame.figure.dpi)
    unit = LEGEND_FONT_SIZE * dpi / 72  # one font size in pixels
    pad, row, handle = round(0.5 * unit), round(1.5 * unit), round(2.0 * unit)
    text_left = pad + handle + pad
    widest = max(
        _canvas.text_width(label, size=LEGEND_FONT_SIZE, dpi=dpi)
        for label, _, _, _ in entries
    )
    width = text_left + widest + pad
    height = 2 * pad + row * len(entries)
    margin = round(0.7 * unit)
    x0, y0, x1, y1 = axes.bbox.extents
    _, top_row = frame.pixel(0, y1)
    _, bottom_row = frame.pixel(0, y0)
    left = x0 + margin if corner.endswith("left") else x1 - margin - width
    top = (
        top_row + margin if corner.startswith("upper") else bottom_row - margin - height
    )
    left, top = round(left), round(top)
    _canvas.fill_box(pixels, (left, top, left + width, top + height))
    for index, (label, color, marker, linestyle) in enumerate(entries):
        middle = top + pad + row * (index + 0.5)
        _, y = frame.pixel(0, middle)
        sample = Line2D(
            [left + pad, left + pad + handle],
            [y, y],
            color=color,
            marker=marker,
            markevery=[1] if marker else None,
            markersize=3,
            linewidth=1.2,
            linestyle=linestyle,
            transform=IdentityTransform(),
        )
        frame.draw(sample)
        _canvas.draw_text(
            pixels, label, left + text_left, middle, size=LEGEND_FONT_SIZE, dpi=dpi
        )


def plot_title(
    kind: str,
    *,
    dataset: str | None = None,
    model: str | None = None,
    detail: str | None = None,
) -> str:
    """Title a plot with what it shows: ``ROC curve (test data, LogisticRegression)``.

    ``dataset`` is the dataset's name (``"training"``, ``"test"``, ...), ``model``
    the estimator's class name and ``detail`` anything else worth a word.
    """
    parts = [f"{dataset} data" if dataset else None, model, detail]
    shown = ", ".join(short(part, MAX_TITLE_PART_LENGTH) for part in parts if part)
    return f"{kind} ({shown})" if shown else kind


def describe(
    data: JsonDict,
    *,
    title: str,
    x_label: str | None,
    y_label: str | None,
    dataset: str | None,
    model: str | None,
) -> JsonDict:
    """Add what a redrawing needs besides the values: title, axis labels, names."""
    data.update(
        title=title, x_label=x_label, y_label=y_label, dataset=dataset, model=model
    )
    return data


def wrap_title(title: str, width: float) -> str:
    """Put a title's parenthesis on a second line when it is too wide for ``width``.

    ``width`` is in inches; a 10-point character is about 0.075 inch wide.
    """
    if len(title) * TITLE_CHARACTER_INCHES <= width * 0.95:
        return title
    return title.replace(" (", "\n(", 1)


def single_axes(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
    """Make a 5 x 4 inch figure with one titled, labeled axes."""
    figure = new_figure(5.0, 4.0)
    axes = figure.add_subplot()
    title = wrap_title(title, 5.0)
    # y=1.0: a fixed title position spares matplotlib measuring the axis to place it.
    axes.set_title(title, fontsize=10, y=1.0)
    axes.set_xlabel(xlabel, fontsize=9)
    axes.set_ylabel(ylabel, fontsize=9)
    axes.locator_params(nbins=5)  # each tick label is a costly text layout
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    top = 0.87 if "\n" in title else 0.92
    figure.subplots_adjust(left=0.14, right=0.96, bottom=0.13, top=top)
    return figure, axes


def new_figure(width: float, height: float) -> Figure:
    """Make a figure on an Agg canvas, outside pyplot's registry."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def to_png(figure: Figure) -> bytes:
    """Render the figure to PNG bytes."""
    return _canvas.figure_png(figure)


def numbers(values: npt.ArrayLike, *, as_int: bool = False) -> list[float | int | None]:
    """Convert to JSON-ready numbers: non-finite values become ``None``."""
    array = np.asarray(values, dtype=np.float64)
    if as_int:
        return [
            int(value) if math.isfinite(value) else None for value in array.tolist()
        ]
    return [value if math.isfinite(value) else None for value in array.tolist()]


def json_label(label: object) -> object:
    """Turn a class label into a JSON value (numpy scalars become str)."""
    if isinstance(label, (bool, int, str)) or label is None:
        return label
    if isinstance(label, float):
        return label if math.isfinite(label) else str(label)
    return str(label)


def short(text: object, length: int = MAX_LABEL_LENGTH) -> str:
    """Cut user text for display, so that drawing it can neither warn nor fail.

    A character the font lacks would make matplotlib warn (on our worker thread,
    where no filter can be set safely), and a ``$`` pair would start mathtext.
    """
    shown = str(text)
    if len(shown) > length:
        shown = shown[: length - 1] + "…"
    known = _font_characters()
    shown = "".join(char if ord(char) in known else "?" for char in shown)
    return shown.replace("$", r"\$")


@functools.cache
def _font_characters() -> frozenset[int]:
    from matplotlib.font_manager import FontProperties, findfont, get_font

    return frozenset(get_font(findfont(FontProperties())).get_charmap())
