"""The one table from exceptions to HTTP answers, and MLflow's JSON error body.

Every error body is ``{"error_code": ..., "message": ...}`` as MLflow's server writes
it (MLflow's client reads those two keys), plus ``{"error": {"type", "message"}}``.
Messages never carry a stack trace or a server path: unexpected exceptions answer a
fixed text and are logged on the server.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mltrail._errors import (
    ConflictError,
    InvalidValueError,
    MltrailError,
    NotFoundError,
    StoreError,
)

__all__ = [
    "STATUS_BY_ERROR_CODE",
    "ApiError",
    "PathScrubber",
    "error_response",
    "exception_handlers",
]

LOGGER = logging.getLogger("mltrail.server")

# MLflow's ErrorCode names and their HTTP status (mlflow/exceptions.py).
STATUS_BY_ERROR_CODE = {
    "BAD_REQUEST": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "RESOURCE_CONFLICT": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
}
# mltrail's exceptions, most specific first (InvalidValueError is a ValueError).
ERROR_CODE_BY_EXCEPTION: tuple[tuple[type[MltrailError], str], ...] = (
    (NotFoundError, "RESOURCE_DOES_NOT_EXIST"),
    (InvalidValueError, "INVALID_PARAMETER_VALUE"),
    (ConflictError, "INVALID_PARAMETER_VALUE"),
    (StoreError, "TEMPORARILY_UNAVAILABLE"),
)
ERROR_CODE_BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    405: "BAD_REQUEST",
    413: "BAD_REQUEST",
    415: "BAD_REQUEST",
    429: "REQUEST_LIMIT_EXCEEDED",
}
INTERNAL_MESSAGE = "Internal server error. The server's log has the details."
STORE_MESSAGE = "The tracking store is unavailable. The server's log has the details."


class ApiError(Exception):
    """An answer other than 200, with MLflow's error code and a message.

    Parameters
    ----------
    error_code : str
        A key of ``STATUS_BY_ERROR_CODE``, such as ``"INVALID_PARAMETER_VALUE"``.
    message : str
        What went wrong, naming the value, with a hint.
    headers : mapping of str to str or None, default=None
        Extra response headers, such as ``WWW-Authenticate``.
    status_code : int or None, default=None
        The HTTP status, when not the error code's usual one (415 for a body that
        is not JSON).
    """

    def __init__(
        self,
        error_code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        *,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.status_code = status_code or STATUS_BY_ERROR_CODE[error_code]
        self.headers = dict(headers or {})


class PathScrubber:
    """Replace the server's own directories in a message by ``<server path>``.

    An error message built from a value can still name a directory (a store file, an
    artifact root); this keeps them out of responses.
    """

    def __init__(self, paths: Iterable[str]) -> None:
        unique = {os.path.abspath(path) for path in paths if path}
        # Longest first, so a root never hides a longer path under it.
        ordered = sorted((path for path in unique if path != os.sep), key=len)[::-1]
        self._pattern = (
            re.compile("|".join(re.escape(path) for path in ordered))
            if ordered
            else None
        )

    def __call__(self, message: str) -> str:
        """Return ``message`` with every known server path replaced."""
        if self._pattern is None:
            return message
        return self._pattern.sub("<server path>", message)


def error_response(
    error_code: str,
    message: str,
    *,
    error_type: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Return the JSON error response for an error code and a message."""
    body = {
        "error_code": error_code,
        "message": message,
        "error": {"type": error_type or error_code, "message": message},
    }
    return JSONResponse(
        body, status_code=STATUS_BY_ERROR_CODE[error_code], headers=headers
    )


def _scrub(request: Request, message: str) -> str:
    scrubber = getattr(request.app.state, "scrub", None)
    return scrubber(message) if scrubber is not None else message


async def _api_error(request: Request, exc: ApiError) -> Response:
    response = error_response(
        exc.error_code, _scrub(request, exc.message), headers=exc.headers
    )
    response.status_code = exc.status_code
    return response


async def _mltrail_error(request: Request, exc: MltrailError) -> Response:
    code = next(
        (code for kind, code in ERROR_CODE_BY_EXCEPTION if isinstance(exc, kind)),
        "INTERNAL_ERROR",
    )
    if isinstance(exc, StoreError) or code == "INTERNAL_ERROR":
        LOGGER.error("%s %s failed: %s", request.method, request.url.path, exc)
        message = STORE_MESSAGE if isinstance(exc, StoreError) else INTERNAL_MESSAGE
        return error_response(code, message, error_type=type(exc).__name__)
    return error_response(
        code, _scrub(request, exc.message), error_type=type(exc).__name__
    )


async def _http_error(request: Request, exc: HTTPException) -> Response:
    code = ERROR_CODE_BY_STATUS.get(exc.status_code, "INTERNAL_ERROR")
    if exc.status_code == 404:
        message = f"No API route {request.method} {request.url.path}."
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
    else:
        message = str(exc.detail)
    response = error_response(code, message, headers=exc.headers)
    response.status_code = exc.status_code
    return response


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    LOGGER.error(
        "%s %s failed", request.method, request.url.path, exc_info=exc
    )  # the traceback goes to the log only
    return error_response("INTERNAL_ERROR", INTERNAL_MESSAGE)


def exception_handlers() -> dict[Any, Any]:
    """Return the handlers that turn every exception into a JSON error body.

    Each handler takes the exception class it is registered for, which Starlette's
    handler type (``Exception``) cannot express: hence ``Any``.
    """
    return {
        ApiError: _api_error,
        MltrailError: _mltrail_error,
        HTTPException: _http_error,
        Exception: _unexpected_error,
    }
