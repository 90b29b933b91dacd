"""HTTP to a tracking server: pooled connections, retries, credentials, errors.

One ``RestClient`` per server URL (``rest_client``) keeps a pool of keep-alive
connections for every store and artifact store of that server. Retries back off
exponentially and honour ``Retry-After``:

- a connection that could not be made, and ``429`` or ``503`` (the server did not
  run the call), are retried for every call;
- ``500``, ``502``, ``504`` and a connection lost after sending are retried only for
  idempotent calls (reads, and writes whose repetition changes nothing).

A server that could not be reached after every retry is taken for down: for the
next ``DOWN_WINDOW`` seconds each call to it is tried once, without retries, so a
script whose server vanished spools its writes at once instead of waiting through
every write's retries. Once the process exits (``mark_exiting``), retries are
fewer, and a server found down stays down: leaving never waits on retries for more
than a few seconds.

Credentials come from ``MLTRAIL_TRACKING_USERNAME``/``_PASSWORD`` (HTTP Basic) or
``MLTRAIL_TRACKING_TOKEN`` (Bearer), or the same ``MLFLOW_`` variables; Basic wins
when both are set, as in MLflow's client. Server errors become mltrail's exceptions
with the server's message.
"""

from __future__ import annotations

import base64
import json
import math
import os
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util import Retry, Timeout

from mltrail import _json as fast_json
from mltrail._errors import (
    ConflictError,
    InvalidValueError,
    MltrailError,
    NotFoundError,
    StoreError,
)
from mltrail._version import __version__

__all__ = [
    "RemoteConflictError",
    "RemoteInvalidValueError",
    "RemoteNotFoundError",
    "RestClient",
    "ServerUnavailableError",
    "mark_exiting",
    "rest_client",
]

USER_AGENT = f"mltrail/{__version__}"
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF = 0.5
# Seconds after a server was found unreachable during which calls are tried once.
DOWN_WINDOW = 30.0
# Retries of a call made while the process exits (about a second of backoff).
EXIT_RETRIES = 2
MAX_BACKOFF = 30.0
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0
POOL_SIZE = 16
ALWAYS_RETRIED = frozenset({429, 503})
IDEMPOTENT_RETRIED = frozenset({429, 500, 502, 503, 504})
_NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"})
_INVALID_CODES = frozenset({"INVALID_PARAMETER_VALUE", "BAD_REQUEST"})
_CONFLICT_CODES = frozenset(
    {"RESOURCE_ALREADY_EXISTS", "RESOURCE_CONFLICT", "ALREADY_EXISTS"}
)


class RemoteNotFoundError(NotFoundError):
    """The server answered that what was asked for does not exist."""

    def __init__(self, message: str, error_code: str = "RESOURCE_DOES_NOT_EXIST"):
        self.kind = "resource"
        self.key = ""
        self.error_code = error_code
        MltrailError.__init__(self, message)


class RemoteInvalidValueError(InvalidValueError):
    """The server refused a value; its message names it."""

    def __init__(self, message: str, error_code: str = "INVALID_PARAMETER_VALUE"):
        self.name = "request"
        self.value = None
        self.expected = ""
        self.error_code = error_code
        MltrailError.__init__(self, message)


class RemoteConflictError(ConflictError):
    """The server answered that the write contradicts what it holds."""

    def __init__(self, message: str, error_code: str = "RESOURCE_ALREADY_EXISTS"):
        self.error_code = error_code
        super().__init__(message)


class ServerUnavailableError(StoreError):
    """The server could not be reached, or kept failing, after every retry."""


def _environment(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _number_setting(name: str, default: Any, kind: type) -> Any:
    """Return a non-negative number from the environment (or MLflow's name)."""
    text = _environment(name, name.replace("MLTRAIL_", "MLFLOW_", 1))
    if text is None:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = -1
    if value < 0:
        raise InvalidValueError(
            f"environment variable {name}",
            text,
            "a non-negative number",
            f"Unset it to use the default, {default}.",
        )
    return value


def _auth_header() -> str | None:
    username = _environment("MLTRAIL_TRACKING_USERNAME", "MLFLOW_TRACKING_USERNAME")
    password = _environment("MLTRAIL_TRACKING_PASSWORD", "MLFLOW_TRACKING_PASSWORD")
    if username and password:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return f"Basic {token}"
    bearer = _environment("MLTRAIL_TRACKING_TOKEN", "MLFLOW_TRACKING_TOKEN")
    return f"Bearer {bearer}" if bearer else None


def _safe_url(url: str) -> str:
    """Return ``url`` without credentials, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


class RestClient:
    """Calls to one tracking server over a pool of keep-alive connections.

    Parameters
    ----------
    base_url : str
        The server, such as ``http://127.0.0.1:5000``.
    retries : int or None, default=None
        How many times a failed call is retried; by default
        ``MLTRAIL_HTTP_REQUEST_MAX_RETRIES`` (or MLflow's name), else 5.
    backoff : float or None, default=None
        The first wait between retries in seconds, doubling each time; by default
        ``MLTRAIL_HTTP_REQUEST_BACKOFF_FACTOR`` (or MLflow's name), else 0.5.
    """

    def __init__(
        self,
        base_url: str,
        *,
        retries: int | None = None,
        backoff: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.safe_url = _safe_url(self.base_url)
        self.retries = (
            _number_setting("MLTRAIL_HTTP_REQUEST_MAX_RETRIES", DEFAULT_RETRIES, int)
            if retries is None
            else retries
        )
        self.backoff = (
            _number_setting(
                "MLTRAIL_HTTP_REQUEST_BACKOFF_FACTOR", DEFAULT_BACKOFF, float
            )
            if backoff is None
            else backoff
        )
        options: dict[str, Any] = {"maxsize": POOL_SIZE, "block": False}
        if _environment(
            "MLTRAIL_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_INSECURE_TLS"
        ) in (
            "true",
            "1",
        ):
            options["cert_reqs"] = "CERT_NONE"
        certificate = _environment(
            "MLTRAIL_TRACKING_SERVER_CERT_PATH", "MLFLOW_TRACKING_SERVER_CERT_PATH"
        )
        if certificate:
            options["ca_certs"] = certificate
        self._pool = urllib3.PoolManager(num_pools=4, **options)
        self._server_info: dict[str, Any] | None = None
        self._info_lock = threading.Lock()
        # Until when (monotonic) the server is taken for down; 0.0 while it answers.
        self._down_until = 0.0

    @property
    def is_down(self) -> bool:
        """Whether the server was found unreachable moments ago (``DOWN_WINDOW``)."""
        return self._down_until > time.monotonic()

    def _retries_now(self) -> int:
        if self.is_down:
            return 0
        return min(self.retries, EXIT_RETRIES) if _exiting else self.retries

    def _retry(self, idempotent: bool) -> Retry:
        retries = self._retries_now()
        return Retry(
            total=retries,
            connect=retries,
            read=retries if idempotent else 0,
            status=retries,
            other=0,
            allowed_methods=None,  # every method; the status list decides
            status_forcelist=IDEMPOTENT_RETRIED if idempotent else ALWAYS_RETRIED,
            backoff_factor=self.backoff,
            backoff_max=MAX_BACKOFF,
            backoff_jitter=self.backoff / 2,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
        )

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        auth = _auth_header()
        if auth:
            headers["Authorization"] = auth
        if extra:
            headers.update(extra)
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
        stream: bool = False,
        timeout: float = READ_TIMEOUT,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request (with retries) and return the response, any status.

        Raises
        ------
        ServerUnavailableError
            If no answer came after every retry.
        """
        url = self.base_url + path
        try:
            response = self._pool.request(
                method,
                url,
                body=body,
                headers=self._headers(headers),
                retries=self._retry(idempotent),
                timeout=Timeout(connect=CONNECT_TIMEOUT, read=timeout),
                preload_content=not stream,
                redirect=False,
                chunked=body is not None and not isinstance(body, bytes),
            )
        except Urllib3Error as exc:
            # Down for a while; for the rest of the process once it exits.
            self._down_until = math.inf if _exiting else time.monotonic() + DOWN_WINDOW
            reason = getattr(exc, "reason", None) or exc
            raise ServerUnavailableError(
                f"the tracking server at {self.safe_url} is unreachable: "
                f"{type(reason).__name__}: {reason}. Check that it runs and that "
                "MLTRAIL_TRACKING_URI points at it."
            ) from exc
        self._down_until = 0.0  # it answered
        return response

    def call(
        self,
        method: str,
        path: str,
        fields: Mapping[str, Any] | None = None,
        *,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Call a JSON API route and return its JSON body, or raise its error.

        GET sends ``fields`` as the query string (lists repeat the key); other
        methods send them as a JSON body.
        """
        fields = {k: v for k, v in (fields or {}).items() if v is not None}
        if method == "GET":
            query = urlencode(_query_pairs(fields))
            response = self.request(
                method, f"{path}?{query}" if query else path, idempotent=True
            )
        else:
            response = self.request(
                method,
                path,
                body=json.dumps(fields, allow_nan=False).encode(),
                headers={"Content-Type": "application/json"},
                idempotent=idempotent,
            )
        return self.json_of(response, method, path)

    def json_of(
        self, response: urllib3.BaseHTTPResponse, method: str, path: str
    ) -> dict[str, Any]:
        """Return the JSON body of a 2xx response, or raise the mapped error."""
        data = response.data
        if 200 <= response.status < 300:
            if not data:
                return {}
            try:
                parsed = fast_json.loads(data)
            except ValueError:
                raise StoreError(
                    f"{method} {self.safe_url}{path} answered {response.status} with "
                    "a body that is not JSON. Is this an mltrail or MLflow server?"
                ) from None
            return parsed if isinstance(parsed, dict) else {}
        raise self.error_of(response.status, data, method, path)

    def error_of(
        self, status: int, data: bytes, method: str, path: str
    ) -> MltrailError:
        """Return mltrail's exception for an error answer of the server."""
        try:
            body = json.loads(data) if data else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        code = str(body.get("error_code") or "")
        message = str(body.get("message") or data[:200].decode("utf-8", "replace"))
        where = f"{method} {self.safe_url}{path}"
        if code in _NOT_FOUND_CODES or (status == 404 and not code):
            return RemoteNotFoundError(message or f"{where}: not found", code)
        if code == "ENDPOINT_NOT_FOUND":
            return RemoteNotFoundError(
                f"{where} is not a route of this server ({message}). Is the server "
                "an older version?",
                code,
            )
        if code in _CONFLICT_CODES:
            return RemoteConflictError(message, code)
        if code in _INVALID_CODES or status in (400, 413, 415):
            return RemoteInvalidValueError(message, code or "BAD_REQUEST")
        if status in (401, 403):
            hint = (
                "Set MLTRAIL_TRACKING_USERNAME and MLTRAIL_TRACKING_PASSWORD, or "
                "MLTRAIL_TRACKING_TOKEN."
                if status == 401
                else "Ask an administrator for a permission on the experiment."
            )
            return StoreError(f"{where} was refused ({status}): {message} {hint}")
        return ServerUnavailableError(
            f"{where} failed with {status} after {self.retries} retries: {message}"
        )

    def server_info(self) -> dict[str, Any]:
        """Return the server's ``server-info`` (cached); ``{}`` if it has none."""
        with self._info_lock:
            if self._server_info is None:
                try:
                    self._server_info = self.call("GET", "/api/3.0/mlflow/server-info")
                except (NotFoundError, InvalidValueError):
                    self._server_info = {}
            return self._server_info

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.clear()


def _query_pairs(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, bool):
                item = "true" if item else "false"
            pairs.append((key, str(item)))
    return pairs


_clients_lock = threading.Lock()
_clients: dict[str, RestClient] = {}


def rest_client(base_url: str) -> RestClient:
    """Return the shared client of one server URL (one connection pool per URL)."""
    key = base_url.rstrip("/")
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = RestClient(key)
    return client


_exiting = False


def mark_exiting() -> None:
    """Say that the process is leaving: calls retry less, and never a down server.

    The tracking layer's exit handlers call it first (``tracking._exit``).
    """
    global _exiting
    _exiting = True


def _forget_clients_after_fork() -> None:
    # Pooled sockets must never be shared with a child process.
    _clients.clear()


os.register_at_fork(after_in_child=_forget_clients_after_fork)
