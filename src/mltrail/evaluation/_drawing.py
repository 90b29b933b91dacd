"""What the plot modules share: plot JSON (numbers, labels, titles) and safe text.

Building a plot's JSON needs numpy only; the picture is drawn from the JSON later
(``_figures``). User text is cut to length in the JSON (:func:`cut`) and made
drawable only when drawn (:func:`font_safe`, which reads matplotlib's font), so
that neither can warn nor fail.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from mltrail.evaluation._metrics import FloatArray, IntArray

# JSON data is built here and read by tests and the UI: its values are any JSON.
JsonDict = dict[str, Any]
Plot = tuple[bytes, JsonDict]

MAX_POINTS = 1000
MAX_LABEL_LENGTH = 30
MAX_TITLE_PART_LENGTH = 40


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
    shown = ", ".join(cut(part, MAX_TITLE_PART_LENGTH) for part in parts if part)
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


def cut(text: object, length: int = MAX_LABEL_LENGTH) -> str:
    """Cut user text to ``length`` characters, an ellipsis last when cut."""
    shown = str(text)
    if len(shown) > length:
        shown = shown[: length - 1] + "…"
    return shown


def font_safe(text: object) -> str:
    """Make user text drawable: glyphs the font lacks become ``?``, ``$`` is literal.

    A character the font lacks would make matplotlib warn (on a worker thread,
    where no filter can be set safely), and a ``$`` pair would start mathtext.
    """
    known = _font_characters()
    shown = "".join(char if ord(char) in known else "?" for char in str(text))
    return shown.replace("$", r"\$")


def short(text: object, length: int = MAX_LABEL_LENGTH) -> str:
    """Cut user text for display, so that drawing it can neither warn nor fail."""
    return font_safe(cut(text, length))


@functools.cache
def _font_characters() -> frozenset[int]:
    from matplotlib.font_manager import FontProperties, findfont, get_font

    return frozenset(get_font(findfont(FontProperties())).get_charmap())
