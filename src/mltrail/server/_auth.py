"""Basic auth for the server: accounts, argon2 passwords, API tokens, permissions.

``Accounts`` holds the rules (names, password length, hashing) over the store's user
tables, for the server's routes and ``mltrail users`` alike. ``BasicAuthenticator``
checks each request's ``Authorization`` header (HTTP Basic, or ``Bearer <token>``)
and a user's permission on an experiment: the grant if there is one, else the
server's default permission. Verified credentials are cached for a short time, so
argon2's deliberate slowness is paid once per client, not once per request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.server._errors import ApiError
from mltrail.server._policy import Access, User

__all__ = [
    "PERMISSION_NAMES",
    "Accounts",
    "BasicAuthenticator",
    "open_authenticator",
    "parse_permission",
]

MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "mlt_"  # noqa: S105 - a label, not a secret
CREDENTIALS_TTL = 30.0
PERMISSIONS_TTL = 2.0
PERMISSION_NAMES = ("READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS")
_LEVELS = {
    "NO_PERMISSIONS": Access.NO_PERMISSIONS,
    "READ": Access.READ,
    "USE": Access.READ,  # MLflow's USE reads and uses; mltrail has no "use" routes
    "EDIT": Access.EDIT,
    "MANAGE": Access.MANAGE,
}
REALM = 'Basic realm="mltrail"'


def parse_permission(value: object) -> str:
    """Return a permission name in upper case, or raise InvalidValueError."""
    text = str(value).upper() if isinstance(value, str) else ""
    if text not in _LEVELS:
        raise InvalidValueError(
            "permission",
            value,
            "one of " + ", ".join(PERMISSION_NAMES),
            "READ lets a user see an experiment, EDIT log to it, MANAGE delete it "
            "and grant permissions.",
        )
    return text


def _check_username(username: object) -> str:
    if (
        not isinstance(username, str)
        or not username
        or len(username) > 255
        or ":" in username
        or username != username.strip()
        or any(ord(c) < 32 for c in username)
    ):
        raise InvalidValueError(
            "username",
            username,
            "1 to 255 characters, without ':', control characters or edge spaces",
            "Use a name such as 'ada'.",
        )
    return username


def _check_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValueError(
            "password",
            "<hidden>",
            f"a str of at least {MIN_PASSWORD_LENGTH} characters",
            "Use a passphrase of several words.",
        )
    return password


def _token_hash(token: str) -> str:
    # Tokens are long random strings: a fast hash is enough, and lookups stay cheap.
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """The server's users over a store with user tables (``SqlStore``).

    Parameters
    ----------
    store : object
        A store with the ``UsersMixin`` methods.
    """

    def __init__(self, store: Any) -> None:
        from argon2 import PasswordHasher

        self.store = store
        self._hasher = PasswordHasher()

    def create_user(
        self, username: str, password: str, *, is_admin: bool = False
    ) -> Any:
        """Create a user with an argon2-hashed password."""
        _check_username(username)
        _check_password(password)
        return self.store.create_user(
            username, self._hasher.hash(password), is_admin=is_admin
        )

    def check_password(self, username: str, password: str) -> Any | None:
        """Return the user if ``password`` is theirs, else None."""
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            user = self.store.get_user(username)
        except NotFoundError:
            self._hasher.hash(password)  # same time whether the user exists or not
            return None
        try:
            self._hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if self._hasher.check_needs_rehash(user.password_hash):
            self.store.update_user(username, password_hash=self._hasher.hash(password))
        return user

    def set_password(self, username: str, password: str) -> None:
        """Change a user's password."""
        _check_password(password)
        self.store.update_user(username, password_hash=self._hasher.hash(password))

    def set_admin(self, username: str, is_admin: bool) -> None:
        """Make a user an administrator, or not."""
        self.store.update_user(username, is_admin=bool(is_admin))

    def delete_user(self, username: str) -> None:
        """Delete a user, their tokens and grants."""
        self.store.delete_user(username)

    def create_token(self, username: str, name: str) -> tuple[str, Any]:
        """Create an API token; return it (shown once) and its record."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return token, self.store.create_token(username, name, _token_hash(token))

    def user_of_token(self, token: str) -> Any | None:
        """Return the owner of an API token, or None."""
        return self.store.find_token_user(_token_hash(token))

    def grant(
        self, resource_type: str, resource_id: str, username: str, permission: str
    ) -> None:
        """Grant a user a permission on one resource."""
        self.store.set_permission(
            resource_type, resource_id, username, parse_permission(permission)
        )

    def bootstrap_admin(self, environ: Mapping[str, str] | None = None) -> bool:
        """Create the first administrator from the environment if there is no user.

        Returns
        -------
        bool
            Whether an administrator was created.

        Raises
        ------
        InvalidValueError
            If there is no user yet and ``MLTRAIL_ADMIN_USERNAME`` or
            ``MLTRAIL_ADMIN_PASSWORD`` (at least 12 characters) is missing.
        """
        if self.store.count_users():
            return False
        source = os.environ if environ is None else environ
        username = source.get("MLTRAIL_ADMIN_USERNAME", "")
        password = source.get("MLTRAIL_ADMIN_PASSWORD", "")
        if not username or not password:
            raise InvalidValueError(
                "MLTRAIL_ADMIN_USERNAME and MLTRAIL_ADMIN_PASSWORD",
                "<unset>",
                "set at the first start with --auth basic",
                "They create the first administrator; there is no default password.",
            )
        self.create_user(username, password, is_admin=True)
        return True


class _Cache:
    """A small thread-safe cache whose entries expire after ``ttl`` seconds."""

    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._items: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            found = self._items.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _unauthenticated(message: str) -> ApiError:
    return ApiError("UNAUTHENTICATED", message, {"WWW-Authenticate": REALM})


class BasicAuthenticator:
    """Check credentials (Basic or Bearer token) and experiment permissions.

    Parameters
    ----------
    accounts : Accounts
        The server's users.
    default_permission : str, default="READ"
        What a user may do on an experiment without a grant.
    """

    def __init__(self, accounts: Accounts, default_permission: str = "READ") -> None:
        self.accounts = accounts
        self.default = _LEVELS[parse_permission(default_permission)]
        self._credentials = _Cache(CREDENTIALS_TTL)
        self._permissions = _Cache(PERMISSIONS_TTL)

    def _user_of_header(self, header: str) -> User:
        key = hashlib.sha256(header.encode()).digest()
        cached = self._credentials.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]  # only Users are cached
        scheme, _, value = header.partition(" ")
        record = None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise _unauthenticated("Malformed Basic credentials.") from None
            username, separator, password = decoded.partition(":")
            if separator:
                record = self.accounts.check_password(username, password)
        elif scheme.lower() == "bearer":
            record = self.accounts.user_of_token(value.strip())
        else:
            raise _unauthenticated(
                f"Unsupported authorization scheme {scheme!r}: use Basic or Bearer."
            )
        if record is None:
            raise _unauthenticated("Invalid username, password or token.")
        user = User(record.username, record.is_admin, record.user_id)
        self._credentials.put(key, user)
        return user

    async def authenticate(self, request: Request) -> User:
        """Return the user whose credentials the request carries, or raise 401."""
        header = request.headers.get("authorization")
        if not header:
            raise _unauthenticated(
                "You are not authenticated: send a username and password (HTTP "
                "Basic) or an API token (Bearer). Clients read "
                "MLTRAIL_TRACKING_USERNAME/_PASSWORD or MLTRAIL_TRACKING_TOKEN."
            )
        return await run_in_threadpool(self._user_of_header, header)

    def permission_sync(self, user: User, kind: str, resource_id: str) -> Access:
        """Return what ``user`` may do on one resource (blocking)."""
        if user.is_admin:
            return Access.MANAGE
        key = (user.username, kind, resource_id)
        cached = self._permissions.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]  # only Access values
        granted = self.accounts.store.get_permission(kind, resource_id, user.username)
        level = self.default if granted is None else _LEVELS[granted]
        self._permissions.put(key, level)
        return level

    async def permission(self, user: User, kind: str, resource_id: str) -> Access:
        """Return what ``user`` may do on one resource."""
        if user.is_admin:
            return Access.MANAGE
        return await run_in_threadpool(self.permission_sync, user, kind, resource_id)

    def readable(self, user: User, kind: str, resource_ids: Sequence[str]) -> set[str]:
        """Return the ids among ``resource_ids`` that ``user`` may read."""
        if user.is_admin:
            return set(resource_ids)
        grants = self.accounts.store.permissions_of(kind, resource_ids, user.username)
        return {
            resource_id
            for resource_id in resource_ids
            if (_LEVELS[grants[resource_id]] if resource_id in grants else self.default)
            >= Access.READ
        }

    def grant_creator(self, user: User, kind: str, resource_id: str) -> None:
        """Give the creator of a resource MANAGE on it."""
        if user.user_id is None:
            return
        self.accounts.store.set_permission(kind, resource_id, user.username, "MANAGE")
        self._permissions.clear()

    def forget(self) -> None:
        """Drop cached credentials and permissions (after a change of users)."""
        self._credentials.clear()
        self._permissions.clear()


def open_authenticator(store: Any, default_permission: str) -> BasicAuthenticator:
    """Return the authenticator of a store, creating the first admin if needed."""
    accounts = Accounts(store)
    accounts.bootstrap_admin()
    return BasicAuthenticator(accounts, default_permission)
