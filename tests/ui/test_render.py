"""Rendering helpers: content negotiation, URLs, formats, and JSON in a script tag."""

from __future__ import annotations

import json
import math

import pytest
from starlette.requests import Request

from mltrail.ui import _render


def _request(accept: str | None) -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("application/json, text/html", True),
        ("text/html, application/json", False),
        ("text/html;q=0.5, application/json", True),
        ("application/json;q=0", False),
        ("application/vnd.api+json", True),
        ("*/*", False),
        (None, False),
        ("application/json;q=oops", False),
    ],
    ids=[
        "json",
        "browser",
        "json-first",
        "html-first",
        "weighted",
        "refused",
        "plus-json",
        "anything",
        "none",
        "bad-weight",
    ],
)
def test_wants_json_follows_the_accept_header(
    accept: str | None, expected: bool
) -> None:
    assert _render.wants_json(_request(accept)) is expected


def test_url_repeats_lists_and_drops_empty_values() -> None:
    assert (
        _render.url("/x", a=["1", "2"], b="", c=None, d=False, e=True, f=0)
        == "/x?a=1&a=2&e=1&f=0"
    )
    assert _render.url("/x", columns=[]) == "/x?columns="
    assert _render.url("/x", q="a b&c") == "/x?q=a+b%26c"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "true"),
        (3.0, "3"),
        (0.123456789, "0.123457"),
        (1e20, "1e+20"),
        ("NaN", "NaN"),
        (7, "7"),
    ],
)
def test_format_number(value: object, expected: str) -> None:
    assert _render.format_number(value) == expected


@pytest.mark.parametrize(
    ("milliseconds", "expected"),
    [
        (850, "850ms"),
        (12_300, "12.3s"),
        (245_000, "4m 05s"),
        (7_380_000, "2h 03m"),
        (3 * 86_400_000 + 3_600_000, "3d 01h"),
        (None, ""),
        (True, ""),
    ],
)
def test_format_duration(milliseconds: object, expected: str) -> None:
    assert _render.format_duration(milliseconds) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [(512, "512 B"), (2048, "2.0 KiB"), (5 * 1024**3, "5.0 GiB"), (None, "")],
)
def test_format_size(size: object, expected: str) -> None:
    assert _render.format_size(size) == expected


def test_times_are_utc() -> None:
    assert _render.format_time(0) == "1970-01-01 00:00:00 UTC"
    assert _render.iso_time(1000).startswith("1970-01-01T00:00:01")
    assert _render.format_time("x") == _render.iso_time(None) == ""


def test_non_finite_numbers_become_strings() -> None:
    data = {"a": [math.nan, math.inf, -math.inf, 1.5], "b": (1,)}
    assert _render.jsonable(data) == {
        "a": ["NaN", "Infinity", "-Infinity", 1.5],
        "b": [1],
    }


def test_script_json_cannot_close_its_script_tag() -> None:
    value = {"name": "</script><script>alert(1)</script>", "x": "a&b\u2028"}
    text = str(_render._script_json(value))
    assert "</" not in text
    assert "<" not in text
    assert "&" not in text
    assert json.loads(text) == value


def test_the_ui_needs_a_sql_store() -> None:
    from mltrail._errors import InvalidValueError
    from mltrail.ui._store import ui_store

    with pytest.raises(InvalidValueError, match="a SQL store"):
        ui_store(object())  # type: ignore[arg-type]  # any store without the reads
