"""Checks on every request before routing: the Host header, the Origin, headers.

- **Host allow-list** (DNS rebinding): a browser tricked into sending a request to
  the server under a foreign name carries that name in ``Host``. Accepted: the
  loopback names, the address the server listens on, private network addresses,
  and ``--allowed-hosts`` patterns. ``/health`` is exempt.
- **Origin check** (CSRF): a state-changing request (POST, PUT, PATCH, DELETE) from
  a browser page of another origin is refused, unless CORS allows that origin.
  Scripts and MLflow's client send no ``Origin`` and pass.
- **Headers**: every response says ``X-Content-Type-Options: nosniff`` and
  ``X-Frame-Options: SAMEORIGIN``.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityMiddleware", "host_allowed", "split_host"]

EXEMPT_PATHS = frozenset({"/health"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_ADDRESSES = ("0.0.0.0", "::")  # noqa: S104 - names, not a bind


def split_host(value: str) -> str:
    """Return the host name of a ``Host`` header value, without port or brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        return value.partition(":")[0]
    return value


def _is_private_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private and not address.is_loopback


def host_allowed(host: str, listen_host: str, patterns: Iterable[str]) -> bool:
    """Whether a ``Host`` name may reach a server listening on ``listen_host``.

    Parameters
    ----------
    host : str
        The host name from the request's ``Host`` header (see ``split_host``).
    listen_host : str
        The address or name the server listens on.
    patterns : iterable of str
        Extra names or ``fnmatch`` patterns, such as ``*.example.com``.

    Returns
    -------
    bool
        True for loopback names, the listen address, private network addresses
        when listening on all interfaces or on a private address (not on
        loopback), and names matching a pattern.
    """
    if not host:
        return False
    if host in LOOPBACK_NAMES or host == split_host(listen_host):
        return True
    listen = split_host(listen_host)
    if (listen in WILDCARD_ADDRESSES or _is_private_address(listen)) and (
        _is_private_address(host)
    ):
        return True
    return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in patterns)


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(
        {
            "error_code": code,
            "message": message,
            "error": {"type": code, "message": message},
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    """Refuse foreign ``Host`` headers and cross-origin writes; add safe headers.

    Parameters
    ----------
    app : ASGI app
        The app to protect.
    listen_host : str
        The address the server listens on.
    allowed_hosts : iterable of str
        Extra ``Host`` names or patterns.
    cors_allowed_origins : iterable of str
        Origins allowed to write cross-origin (``*`` for any).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        listen_host: str,
        allowed_hosts: Iterable[str] = (),
        cors_allowed_origins: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.listen_host = listen_host
        self.allowed_hosts = tuple(allowed_hosts)
        self.cors_allowed_origins = tuple(cors_allowed_origins)

    def _origin_allowed(self, origin: str, host_header: str) -> bool:
        if "*" in self.cors_allowed_origins or origin in self.cors_allowed_origins:
            return True
        parts = urlsplit(origin)
        # Same origin: the page was served by this server under the same name.
        return bool(parts.netloc) and parts.netloc.lower() == host_header.lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host_header = headers.get("host", "")
        if scope["path"] not in EXEMPT_PATHS and not host_allowed(
            split_host(host_header), self.listen_host, self.allowed_hosts
        ):
            await _refuse(
                send,
                403,
                "PERMISSION_DENIED",
                f"Invalid Host header {host_header!r}: possible DNS rebinding "
                "attack. Start the server with --allowed-hosts to accept this name.",
            )
            return
        origin = headers.get("origin")
        if (
            origin is not None
            and scope["method"] in STATE_CHANGING
            and not self._origin_allowed(origin, host_header)
        ):
            await _refuse(
                send,
                403,
                "PERMISSION_DENIED",
                f"Cross-origin request from {origin!r} blocked. Start the server "
                "with --cors-allowed-origins to allow this origin.",
            )
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (name, value)
                    for name, value in (
                        (b"x-content-type-options", b"nosniff"),
                        (b"x-frame-options", b"SAMEORIGIN"),
                    )
                    if name not in names
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
