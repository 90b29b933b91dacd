"""Assertions shared by the plot tests."""

from __future__ import annotations

import io
import json
from typing import Any

from matplotlib import image

from mltrail.evaluation._drawing import Plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def drawn(plot: Plot | None) -> Plot:
    assert plot is not None
    return plot


def assert_png(png: bytes, width: int, height: int) -> None:
    assert png.startswith(PNG_SIGNATURE)
    pixels = image.imread(io.BytesIO(png))
    assert pixels.shape[:2] == (height, width)


def assert_json(data: Any) -> None:
    assert json.loads(json.dumps(data, allow_nan=False)) == data
