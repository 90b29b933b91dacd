"""Route policies: who may call a route, declared with the route itself.

Every route of the app is a ``PolicyRoute`` or a ``PolicyMount`` and carries a
``Policy``; ``create_app`` refuses to build an app with any other route, so a route
can never be reachable without a rule (most of MLflow's auth advisories were routes
that no rule covered). With auth off, every policy lets the caller through; the
server then listens on loopback only.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mltrail.server._errors import ApiError

if TYPE_CHECKING:
    from mltrail.server._context import ServerContext

__all__ = [
    "ADMIN",
    "PUBLIC",
    "SIGNED_IN",
    "Access",
    "Authenticator",
    "Policy",
    "PolicyMount",
    "PolicyRoute",
    "Resource",
    "User",
    "current_user",
    "routes_without_policy",
]


class Access(enum.IntEnum):
    """What a policy asks of the caller; the resource levels are ordered."""

    NO_PERMISSIONS = 0
    READ = 1
    EDIT = 3
    MANAGE = 4
    PUBLIC = 10  # anyone, no credentials read
    SIGNED_IN = 11  # any signed-in user
    ADMIN = 12  # administrators only

    @property
    def is_resource_level(self) -> bool:
        """Whether this is a permission on a resource (READ, EDIT, MANAGE)."""
        return self in (Access.READ, Access.EDIT, Access.MANAGE)


@dataclass(frozen=True, slots=True)
class User:
    """Who made a request: a user of the server, or ``ANONYMOUS`` with auth off."""

    username: str
    is_admin: bool = False
    user_id: int | None = None


ANONYMOUS = User("anonymous", is_admin=True)


@dataclass(frozen=True, slots=True)
class Resource:
    """How a route finds the resources a request acts on.

    ``kind`` names the permission table (``"experiment"``, ``"registered_model"``);
    ``find`` returns the ids of the resources that the request names (it may read
    the request's message and the store, and raises ``NotFoundError`` for an unknown
    id). ``description`` says where the ids come from, for people.
    """

    kind: str
    description: str
    find: Callable[[Request], Awaitable[Sequence[str]]]


@dataclass(frozen=True, slots=True)
class Policy:
    """Who may call a route: ``access``, and the resource a level applies to."""

    access: Access
    resource: Resource | None = None

    def __post_init__(self) -> None:
        if self.access.is_resource_level != (self.resource is not None):
            raise ValueError(
                f"a {self.access.name} policy "
                + ("needs a resource" if self.resource is None else "takes none")
            )

    @classmethod
    def read(cls, resource: Resource) -> Policy:
        """Callers need READ on every resource the request names."""
        return cls(Access.READ, resource)

    @classmethod
    def edit(cls, resource: Resource) -> Policy:
        """Callers need EDIT on every resource the request names."""
        return cls(Access.EDIT, resource)

    @classmethod
    def manage(cls, resource: Resource) -> Policy:
        """Callers need MANAGE on every resource the request names."""
        return cls(Access.MANAGE, resource)

    def describe(self) -> str:
        """Return the policy in words, such as ``READ on experiment (run_id)``."""
        if self.resource is None:
            return self.access.name
        return (
            f"{self.access.name} on {self.resource.kind} ({self.resource.description})"
        )


PUBLIC = Policy(Access.PUBLIC)
SIGNED_IN = Policy(Access.SIGNED_IN)
ADMIN = Policy(Access.ADMIN)


class Authenticator(Protocol):
    """Checks credentials and permissions; the server has one when auth is on."""

    async def authenticate(self, request: Request) -> User:
        """Return the user whose credentials the request carries, or raise 401."""
        ...

    async def permission(self, user: User, kind: str, resource_id: str) -> Access:
        """Return what ``user`` may do on one resource of ``kind``."""
        ...


def current_user(request: Request) -> User:
    """Return the user that the request's policy check found."""
    user = getattr(request.state, "user", None)
    return user if isinstance(user, User) else ANONYMOUS


def _denied(user: User, policy: Policy) -> ApiError:
    return ApiError(
        "PERMISSION_DENIED",
        f"Permission denied: user {user.username!r} needs {policy.describe()}.",
    )


async def enforce(request: Request, policy: Policy) -> None:
    """Authenticate the caller and check ``policy``, or raise 401 or 403."""
    if policy.access is Access.PUBLIC:
        return
    services: ServerContext = request.app.state.services
    authenticator = services.authenticator
    if authenticator is None:
        request.state.user = ANONYMOUS
        return
    user = await authenticator.authenticate(request)
    request.state.user = user
    if user.is_admin or policy.access is Access.SIGNED_IN:
        return
    if policy.access is Access.ADMIN:
        raise _denied(user, policy)
    resource = policy.resource
    if resource is None:  # pragma: no cover - Policy() requires one for levels
        raise _denied(user, policy)
    for resource_id in await resource.find(request):
        granted = await authenticator.permission(user, resource.kind, resource_id)
        if granted < policy.access:
            raise _denied(user, policy)


class PolicyRoute(Route):
    """A Starlette ``Route`` that checks its ``policy`` before the endpoint runs.

    Parameters
    ----------
    path : str
        The URL path, with ``{name}`` parameters.
    endpoint : callable
        ``async def endpoint(request) -> Response``.
    methods : sequence of str
        The HTTP methods.
    policy : Policy
        Who may call it.
    name : str or None, default=None
        The route's name (``url_for``).
    max_body_size : int or None, default=None
        The largest request body accepted; None for no limit.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[[Request], Awaitable[Any]],
        *,
        methods: Sequence[str],
        policy: Policy,
        name: str | None = None,
        max_body_size: int | None = None,
    ) -> None:
        if not isinstance(policy, Policy):
            raise TypeError(f"route {path!r} needs a Policy, got {policy!r}")
        self.policy = policy

        async def guarded(request: Request) -> Any:
            await enforce(request, policy)
            return await endpoint(request)

        super().__init__(
            path,
            guarded,
            methods=list(methods),
            name=name or getattr(endpoint, "__name__", None),
            max_body_size=max_body_size,
        )


class PolicyMount(Mount):
    """A Starlette ``Mount`` (static files, a sub-app) behind one ``policy``.

    Parameters
    ----------
    path : str
        The URL prefix.
    app : ASGI app
        What serves the prefix, such as ``StaticFiles``.
    policy : Policy
        Who may call it; ``PUBLIC`` or ``SIGNED_IN`` (resource levels need a route).
    name : str or None, default=None
        The mount's name.
    """

    def __init__(
        self, path: str, app: ASGIApp, *, policy: Policy, name: str | None = None
    ) -> None:
        if not isinstance(policy, Policy):
            raise TypeError(f"mount {path!r} needs a Policy, got {policy!r}")
        self.policy = policy

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                await enforce(Request(scope, receive), policy)
            await app(scope, receive, send)

        super().__init__(path, app=guarded, name=name)


def routes_without_policy(routes: Iterable[BaseRoute]) -> list[str]:
    """Return the paths of routes that declare no policy.

    A ``PolicyMount``'s policy covers everything under its prefix.
    """
    missing = []
    for route in routes:
        path = str(getattr(route, "path", repr(route)))
        if not isinstance(getattr(route, "policy", None), Policy):
            missing.append(path)
    return missing
