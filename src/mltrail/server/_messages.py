"""Request messages as MLflow's server reads them, and JSON API routes built on them.

A GET request's fields are its query string (a repeated field repeats the key); a
POST, PATCH or DELETE request's fields are a JSON object in the body, sent as
``application/json``. Field errors use MLflow's messages and codes, so MLflow's
client reports them as it would for ``mlflow server``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mltrail import _json as fast_json
from mltrail.server._context import ServerContext
from mltrail.server._errors import ApiError
from mltrail.server._policy import Policy, PolicyRoute, User, current_user

__all__ = [
    "API_PREFIXES",
    "Call",
    "Handler",
    "Message",
    "api_routes",
    "json_response",
    "read_message",
]

API_PREFIXES = ("/api", "/ajax-api")
_SEE_DOCS = "See the API docs for more information about request parameters."
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def missing(name: str) -> ApiError:
    """Return MLflow's error for a required field that is absent."""
    return ApiError(
        "INVALID_PARAMETER_VALUE",
        f"Missing value for required parameter '{name}'. {_SEE_DOCS}",
    )


def invalid(name: str, value: object, expected: str) -> ApiError:
    """Return MLflow's error for a field whose value has the wrong type or form."""
    shown = repr(value)
    if len(shown) > 200:
        shown = shown[:197] + "..."
    return ApiError(
        "INVALID_PARAMETER_VALUE",
        f"Invalid value {shown} for parameter '{name}' supplied: expected "
        f"{expected}, got a value of type '{type(value).__name__}'. {_SEE_DOCS}",
    )


class Message:
    """The fields of one request, with typed accessors that raise MLflow's errors.

    Parameters
    ----------
    fields : mapping of str to object
        A JSON object's members, or for a query string each key's list of values.
    from_query : bool
        Whether ``fields`` came from a query string (every value a list of str).
    """

    def __init__(self, fields: Mapping[str, Any], *, from_query: bool) -> None:
        self._fields = fields
        self._from_query = from_query

    @property
    def fields(self) -> Mapping[str, Any]:
        """The raw fields."""
        return self._fields

    def _get(self, name: str) -> Any:
        value = self._fields.get(name)
        if self._from_query and isinstance(value, list):
            return value[-1] if value else None
        return value

    def has(self, name: str) -> bool:
        """Whether the field is present and not null."""
        return self._get(name) is not None

    def text(self, name: str, *, required: bool = False) -> str | None:
        """Return a string field; numbers are accepted and written in decimal.

        ``required``: the field must be there, and may be empty (a tag's or a
        param's value ``""``, which MLflow's server stores).
        """
        value = self._get(name)
        if value is None:
            if required:
                raise missing(name)
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise invalid(name, value, "a string")
        return str(value)

    def required_text(self, name: str) -> str:
        """Return a string field that must be present and non-empty (a key, an id)."""
        value = self.text(name, required=True)
        if not value:
            raise missing(name)
        return value

    def integer(self, name: str, *, required: bool = False) -> int | None:
        """Return an int64 field; proto JSON may send it as a decimal string."""
        value = self._get(name)
        if value is None:
            if required:
                raise missing(name)
            return None
        if isinstance(value, bool):
            raise invalid(name, value, "an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise invalid(name, value, "an integer")

    def number(self, name: str, *, required: bool = False) -> float | None:
        """Return a double field; ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` too."""
        value = self._get(name)
        if value is None:
            if required:
                raise missing(name)
            return None
        return to_number(name, value)

    def boolean(self, name: str, *, default: bool = False) -> bool:
        """Return a boolean field: JSON true or false, or ``true``/``false`` text."""
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise invalid(name, value, "true or false")

    def texts(self, name: str) -> list[str]:
        """Return a repeated string field (absent: an empty list)."""
        value = self._fields.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            value = [value]
        result = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise invalid(name, item, "a list of strings")
            result.append(str(item))
        return result

    def objects(self, name: str) -> list[Mapping[str, Any]]:
        """Return a repeated message field: a list of JSON objects."""
        value = self._fields.get(name)
        if value is None:
            return []
        if self._from_query:
            raise invalid(name, value, "a list of objects in a JSON body")
        if not isinstance(value, list) or not all(
            isinstance(item, dict) for item in value
        ):
            raise invalid(name, value, "a list of objects")
        return value

    def run_id(self) -> str:
        """Return ``run_id`` or its older name ``run_uuid``; both must agree."""
        run_id = self.text("run_id")
        run_uuid = self.text("run_uuid")
        if run_id and run_uuid and run_id != run_uuid:
            raise ApiError(
                "INVALID_PARAMETER_VALUE",
                f"run_id {run_id!r} and run_uuid {run_uuid!r} name different runs. "
                "Send one of them, or the same id in both.",
            )
        value = run_id or run_uuid
        if not value:
            raise missing("run_id")
        return value


def to_number(name: str, value: object) -> float:
    """Return ``value`` as a float: a JSON number or a proto non-finite string."""
    if isinstance(value, bool):
        raise invalid(name, value, "a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in _NON_FINITE:
            return _NON_FINITE[value]
        try:
            return float(value)
        except ValueError:
            pass
    raise invalid(name, value, "a number")


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _loads(body: bytes) -> object:
    """Parse a request body; orjson when it reads it exactly, else json (NaN...)."""
    try:
        return fast_json.loads(body)
    except ValueError as exc:
        raise ApiError(
            "BAD_REQUEST",
            f"The request body is not valid JSON: {exc.msg} at character {exc.pos}."
            if isinstance(exc, json.JSONDecodeError)
            else "The request body is not valid UTF-8 JSON.",
        ) from None


async def read_message(request: Request) -> Message:
    """Return the request's message, parsed once and kept on ``request.state``."""
    cached = getattr(request.state, "message", None)
    if isinstance(cached, Message):
        return cached
    if request.method in ("GET", "HEAD"):
        fields: dict[str, Any] = {}
        for key, value in request.query_params.multi_items():
            fields.setdefault(key, []).append(value)
        message = Message(fields, from_query=True)
    else:
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        if not body.strip():
            data: object = {}
        elif not _is_json(content_type):
            raise ApiError(
                "BAD_REQUEST",
                f"The request body must be JSON, sent as 'application/json'; got "
                f"Content-Type {content_type or 'none'!r}.",
                status_code=415,
            )
        else:
            data = _loads(body)
        if not isinstance(data, dict):
            raise ApiError(
                "BAD_REQUEST",
                f"The request body must be a JSON object; got a JSON "
                f"{type(data).__name__}.",
            )
        message = Message(data, from_query=False)
    request.state.message = message
    return message


def _jsonable(value: Any) -> Any:
    """Replace non-finite floats by proto JSON's strings, recursively."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return (
            "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        )
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def json_response(content: object, status_code: int = 200) -> Response:
    """Return a compact JSON response; NaN and infinities become proto strings."""
    try:
        fast: bytes | None = orjson.dumps(content)
    except TypeError:  # an int beyond 64 bits, or a type only json knows
        fast = None
    # orjson writes NaN and infinities as null: any null takes json's checked path.
    if fast is not None and b"null" not in fast:
        return Response(fast, status_code=status_code, media_type="application/json")
    try:
        body = json.dumps(
            content, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
    except ValueError:
        body = json.dumps(
            _jsonable(content),
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        )
    return Response(body, status_code=status_code, media_type="application/json")


@dataclass(frozen=True, slots=True)
class Call:
    """One API call as a handler sees it: services, message, path and user."""

    services: ServerContext
    message: Message
    path: Mapping[str, str]
    user: User


Handler = Callable[[Call], object]


def api_routes(
    path: str,
    handler: Handler,
    *,
    methods: Sequence[str],
    policy: Policy,
    versions: Iterable[str] = ("2.0",),
    prefixes: Iterable[str] = API_PREFIXES,
    namespace: str = "mlflow",
) -> list[PolicyRoute]:
    """Return the routes of one MLflow-style JSON API call, under every prefix.

    ``path`` is relative to ``<prefix>/<version>/<namespace>``, such as
    ``"/runs/get"``. ``handler`` is a plain function that takes a ``Call`` and
    returns the JSON-serializable response; it runs in a worker thread, so it may
    call the (blocking) stores.

    Parameters
    ----------
    path : str
        The path under ``/mlflow``, with ``{name}`` path parameters.
    handler : callable
        ``handler(call) -> dict``.
    methods : sequence of str
        The HTTP methods.
    policy : Policy
        Who may call it.
    versions : iterable of str, default=("2.0",)
        The API versions that serve it.
    prefixes : iterable of str, default=("/api", "/ajax-api")
        The URL prefixes.
    namespace : str, default="mlflow"
        The segment after the version: ``mlflow`` for MLflow's API, ``mltrail``
        for mltrail's own routes.

    Returns
    -------
    list of PolicyRoute
        One route per prefix and version.
    """

    async def endpoint(request: Request) -> Response:
        message = await read_message(request)
        call = Call(
            request.app.state.services,
            message,
            dict(request.path_params),
            current_user(request),
        )
        result = await run_in_threadpool(handler, call)
        if isinstance(result, Response):
            return result
        return json_response(result)

    endpoint.__name__ = handler.__name__
    routes = []
    for prefix in prefixes:
        for version in versions:
            routes.append(
                PolicyRoute(
                    f"{prefix}/{version}/{namespace}{path}",
                    endpoint,
                    methods=methods,
                    policy=policy,
                    name=f"{handler.__name__}:{prefix}/{version}",
                )
            )
    return routes
