from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
from matplotlib import image

from mltrail.evaluation import _canvas, _plots
from mltrail.evaluation._drawing import new_figure


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    _canvas.clear()
    yield
    _canvas.clear()


def decode(png: bytes) -> np.ndarray:
    return np.asarray(image.imread(io.BytesIO(png), format="png"))


def test_png_round_trips_every_pixel() -> None:
    pixels = np.random.RandomState(0).randint(0, 256, (7, 5, 4)).astype(np.uint8)

    decoded = decode(_canvas.encode_png(pixels))

    assert decoded.shape == (7, 5, 3)
    assert np.array_equal(np.rint(decoded * 255).astype(np.uint8), pixels[:, :, :3])


def test_text_darkens_pixels_around_its_anchor() -> None:
    pixels = np.full((40, 120, 4), 255, dtype=np.uint8)

    _canvas.draw_text(pixels, "0.93", 60, 20, size=10, dpi=100, ha="center")

    dark_rows, dark_columns = np.nonzero(pixels[:, :, 0] < 128)
    assert dark_rows.size > 0
    assert abs(dark_rows.mean() - 20) < 3
    assert abs(dark_columns.mean() - 60) < 4
    assert (pixels[:, :, 3] == 255).all()


def test_text_past_the_edge_is_clipped() -> None:
    pixels = np.full((10, 10, 4), 255, dtype=np.uint8)

    _canvas.draw_text(pixels, "far away", 500, 500, size=10, dpi=100)
    _canvas.draw_text(pixels, "far away", -500, 5, size=10, dpi=100)
    assert (pixels == 255).all()

    _canvas.draw_text(pixels, "MMMM", -5, 5, size=10, dpi=100)
    assert (pixels[:, :, 0] < 255).any()


def test_text_width_grows_with_the_text() -> None:
    short = _canvas.text_width("ab", size=8, dpi=100)
    long = _canvas.text_width("abcdefgh", size=8, dpi=100)

    assert 0 < short < long


def test_box_blends_its_face_and_draws_its_edge() -> None:
    pixels = np.zeros((20, 20, 4), dtype=np.uint8)

    _canvas.fill_box(pixels, (5, 5, 15, 15), face_alpha=0.5)

    assert tuple(pixels[10, 10, :3]) == (128, 128, 128)
    assert tuple(pixels[5, 10, :3]) == (204, 204, 204)
    assert tuple(pixels[2, 2, :3]) == (0, 0, 0)


def test_frame_is_built_once_per_key() -> None:
    builds = []

    def build() -> object:
        builds.append(1)
        return new_figure(1.0, 1.0)

    for _ in range(3):
        _canvas.render("key", build, lambda frame: frame.start())  # type: ignore[arg-type]

    assert len(builds) == 1


def test_least_recently_used_frames_are_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_canvas, "MAX_FRAMES", 2)
    builds: list[str] = []

    def render(key: str) -> None:
        def build() -> object:
            builds.append(key)
            return new_figure(1.0, 1.0)

        _canvas.render(key, build, lambda frame: frame.start())  # type: ignore[arg-type]

    for key in ("a", "b", "a", "c", "a", "b"):
        render(key)

    assert builds == ["a", "b", "c", "b"]


def test_a_cached_frame_keeps_nothing_of_the_last_plot() -> None:
    first = _plots.plots_for_classifier(
        [0, 1, 1, 0, 1], [0, 1, 0, 0, 1], y_score=[0.2, 0.9, 0.4, 0.1, 0.8]
    )
    _plots.plots_for_classifier(
        [1, 1, 0, 0, 1], [0, 0, 0, 1, 1], y_score=[0.6, 0.3, 0.7, 0.9, 0.2]
    )

    again = _plots.plots_for_classifier(
        [0, 1, 1, 0, 1], [0, 1, 0, 0, 1], y_score=[0.2, 0.9, 0.4, 0.1, 0.8]
    )
    _canvas.clear()
    fresh = _plots.plots_for_classifier(
        [0, 1, 1, 0, 1], [0, 1, 0, 0, 1], y_score=[0.2, 0.9, 0.4, 0.1, 0.8]
    )

    for name, (png, _) in first.items():
        assert again[name][0] == png
        assert fresh[name][0] == png


def test_confusion_cells_take_the_colormap_colors() -> None:
    png, _ = _plots.plots_for_classifier([0, 0, 0, 1], [0, 0, 0, 1])["confusion_matrix"]

    pixels = np.rint(decode(png) * 255).astype(np.uint8)
    colors = {tuple(color) for color in pixels.reshape(-1, 3)}
    darkest_blue = (8, 48, 107)  # "Blues" at 1.0
    lightest_blue = (247, 251, 255)  # "Blues" at 0.0
    assert darkest_blue in colors
    assert lightest_blue in colors
