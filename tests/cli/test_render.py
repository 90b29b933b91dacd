"""The CLI's formatting helpers."""

from __future__ import annotations

import math

import pytest

from mltrail.cli import _render


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 4_200, "4.2s"),
        (0, 185_000, "3m 05s"),
        (0, 7_500_000, "2h 05m"),
        (0, None, "-"),
        (None, 5, "-"),
    ],
    ids=["seconds", "minutes", "hours", "running", "unknown-start"],
)
def test_format_duration(start: int | None, end: int | None, expected: str) -> None:
    assert _render.format_duration(start, end) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (512, "512 B"),
        (1536, "1.5 KB"),
        (3 * 1024**2, "3.0 MB"),
        (2 * 1024**5, "2048.0 TB"),
        (None, "-"),
    ],
    ids=["bytes", "kilobytes", "megabytes", "beyond-terabytes", "directory"],
)
def test_format_size(size: int | None, expected: str) -> None:
    assert _render.format_size(size) == expected


def test_format_time_of_unknown_is_a_dash() -> None:
    assert _render.format_time(None) == "-"


def test_format_time_is_local_seconds() -> None:
    assert len(_render.format_time(1_700_000_000_000)) == len("2023-11-14 22:13:20")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"a": [math.nan, math.inf, -math.inf, 1.5]},
            {"a": ["NaN", "Infinity", "-Infinity", 1.5]},
        ),
        (("x", 1), ["x", 1]),
    ],
    ids=["non-finite", "tuple"],
)
def test_strict_json_spells_non_finite_values(value: object, expected: object) -> None:
    assert _render._strict(value) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("mlflow.user", True),
        ("mlflow.mltrail.git.dirty", True),
        ("mltrail.git.dirty", False),
        ("team", False),
    ],
    ids=["mlflow", "mltrail", "unprefixed", "user"],
)
def test_is_system_tag(key: str, expected: bool) -> None:
    assert _render.is_system_tag(key) is expected
