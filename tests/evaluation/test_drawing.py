"""The drawing helpers keep curve shapes and make any value JSON- and font-safe."""

from __future__ import annotations

import numpy as np
import pytest

from mltrail.evaluation import _drawing


def test_flat_curve_downsamples_by_index() -> None:
    x = np.zeros(5000)

    kept_x, _ = _drawing.downsample(x, x)

    assert kept_x.shape[0] <= _drawing.MAX_POINTS


def test_non_finite_numbers_become_null() -> None:
    assert _drawing.numbers([1.0, np.nan, np.inf]) == [1.0, None, None]
    assert _drawing.numbers([1.0, np.nan], as_int=True) == [1, None]


@pytest.mark.parametrize(
    ("label", "expected"),
    [(np.int64(3), "3"), (2.5, 2.5), (float("nan"), "nan"), ("a", "a"), (True, True)],
    ids=["numpy", "float", "nan", "str", "bool"],
)
def test_labels_are_json_ready(label: object, expected: object) -> None:
    assert _drawing.json_label(label) == expected


def test_long_labels_are_shortened() -> None:
    assert len(_drawing.short("x" * 100)) == _drawing.MAX_LABEL_LENGTH


def test_downsampling_fills_the_budget_after_a_long_jump() -> None:
    # A curve whose evenly spaced targets first fill too few points, then one too many.
    rng = np.random.default_rng(12)
    n_points = int(rng.integers(1500, 30_000))
    x = np.sort(rng.random(n_points) ** rng.uniform(0.2, 5))
    y = np.sort(rng.random(n_points) ** rng.uniform(0.2, 5))
    x[: n_points // 3] = 0.0 if rng.random() < 0.5 else x[: n_points // 3]

    kept_x, kept_y = _drawing.downsample(x, y)

    assert _drawing.MAX_POINTS * 0.95 <= kept_x.shape[0] <= _drawing.MAX_POINTS
    assert (kept_x[0], kept_y[0]) == (x[0], y[0])
    assert (kept_x[-1], kept_y[-1]) == (x[-1], y[-1])
    assert set(zip(kept_x.tolist(), kept_y.tolist(), strict=True)) <= set(
        zip(x.tolist(), y.tolist(), strict=True)
    )


def test_short_replaces_missing_glyphs_and_escapes_dollars() -> None:
    assert _drawing.short("中文 $x$") == r"?? \$x\$"
