"""One page, two forms: the same data as HTML (Jinja2) or as JSON, by ``Accept``.

A page handler builds a JSON-ready dict and calls :func:`page`. A request that
prefers ``application/json`` gets that dict; any other gets the template rendered
from it, with the dict embedded as ``<script type="application/json">`` for the
page's scripts, so the page shows nothing that its JSON does not hold (like the
JSON alternate of every datasette page).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from mltrail._version import __version__

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "STATIC_DIRECTORY",
    "format_duration",
    "format_number",
    "format_size",
    "format_time",
    "jsonable",
    "page",
    "url",
    "wants_json",
]

STATIC_DIRECTORY = Path(__file__).parent / "static"
TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
#: No inline script or style, no plugin, no foreign origin; frames only from here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)
SIGNIFICANT_DIGITS = 6


def jsonable(value: Any) -> Any:
    """Return ``value`` with NaN and infinities as MLflow's JSON strings."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def wants_json(request: Request) -> bool:
    """Whether the request prefers ``application/json`` to HTML.

    The media types of ``Accept`` are weighed by their ``q``; on a tie the first
    listed wins, and a browser's ``text/html`` always beats ``*/*``.
    """
    best_json = best_html = -1.0
    for index, part in enumerate(request.headers.get("accept", "").split(",")):
        media, *parameters = (p.strip() for p in part.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        rank = weight - index * 1e-6  # earlier entries win ties
        if media == "application/json" or media.endswith("+json"):
            best_json = max(best_json, rank)
        elif media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, rank)
    return best_json > 0 and best_json > best_html


def url(path: str, /, **params: object) -> str:
    """Return ``path`` with a query string; None, "" and False leave a key out.

    A list or tuple value repeats its key, in order, empty strings included (an
    empty list is sent as one empty value, so that "none" stays distinct from
    "not given").

    Examples
    --------
    >>> url("/experiments/1", columns=["params.C", "metrics.acc"], filter="")
    '/experiments/1?columns=params.C&columns=metrics.acc'
    >>> url("/experiments/1", columns=[])
    '/experiments/1?columns='
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            pairs.extend((key, str(item)) for item in value or [""])
            continue
        if value is None or value == "" or value is False:
            continue
        pairs.append((key, "1" if value is True else str(value)))
    return path + ("?" + urlencode(pairs) if pairs else "")


def format_number(value: object) -> str:
    """Show a metric or param value: floats to six significant digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{SIGNIFICANT_DIGITS}g}"
    return str(value)


def format_time(value: object) -> str:
    """Show a time in milliseconds since the epoch as UTC, to the second."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    moment = dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time(value: object) -> str:
    """Return a time in milliseconds as ISO 8601, for ``<time datetime>``."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).isoformat()


def format_duration(milliseconds: object) -> str:
    """Show milliseconds as ``850ms``, ``12.3s``, ``4m 05s``, ``2h 03m``, ``3d 01h``."""
    if not isinstance(milliseconds, int | float) or isinstance(milliseconds, bool):
        return ""
    if milliseconds < 1000:
        return f"{int(milliseconds)}ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def format_size(size: object) -> str:
    """Show a file size in bytes as ``512 B``, ``1.2 KiB``, ``3.4 MiB``."""
    if not isinstance(size, int) or isinstance(size, bool):
        return ""
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _script_json(value: object) -> Markup:
    """JSON that is safe inside ``<script type="application/json">``."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for character, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(character, escape)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)  # noqa: S704 - escaped above for a script data block


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIRECTORY),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        number=format_number,
        time=format_time,
        iso_time=iso_time,
        duration=format_duration,
        size=format_size,
    )
    environment.globals.update(url=url, version=__version__)
    return environment


def _json_response(data: object, status: int) -> Response:
    body = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={"vary": "Accept", "cache-control": "no-store"},
    )


def page(
    request: Request,
    template: str,
    data: Mapping[str, Any],
    *,
    status: int = 200,
    json_only: bool = False,
    json_status_only: bool = False,
) -> Response:
    """Answer with ``data`` as JSON, or as the HTML of ``template`` drawn from it.

    ``json_only`` answers JSON whatever the request accepts (a data endpoint);
    ``json_status_only`` sends ``status`` with JSON only, and HTML with 200.
    """
    data = jsonable(data)
    if json_only or wants_json(request):
        return _json_response(data, status)
    if json_status_only:
        status = 200
    html = (
        _environment()
        .get_template(template)
        .render(
            page=data,
            page_json=_script_json(data),
            path=request.url.path,
        )
    )
    return Response(
        html,
        status_code=status,
        media_type="text/html",
        headers={
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "vary": "Accept",
            "cache-control": "no-store",
            "referrer-policy": "same-origin",
        },
    )
