"""Every route of the app declares a policy; policies are checked before endpoints."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from mltrail.server import create_app
from mltrail.server._context import ServerContext
from mltrail.server._errors import ApiError
from mltrail.server._policy import (
    ADMIN,
    PUBLIC,
    SIGNED_IN,
    Access,
    Policy,
    PolicyMount,
    PolicyRoute,
    Resource,
    User,
    current_user,
    routes_without_policy,
)
from mltrail.store._sql import SqlStore


def _all_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for route in routes:
        found.append(route)
        if isinstance(route, Mount) and not isinstance(route, PolicyMount):
            found.extend(_all_routes(route.routes))
    return found


def test_every_route_of_the_app_declares_a_policy(app: Starlette) -> None:
    routes = _all_routes(app.routes)
    assert routes
    missing = [
        str(getattr(route, "path", route))
        for route in routes
        if not isinstance(getattr(route, "policy", None), Policy)
    ]
    assert missing == []


def test_routes_without_policy_finds_plain_routes() -> None:
    async def endpoint(request: Request) -> Response:
        return Response()

    routes = [
        Route("/plain", endpoint),
        PolicyRoute("/guarded", endpoint, methods=["GET"], policy=PUBLIC),
    ]
    assert routes_without_policy(routes) == ["/plain"]


def test_policy_route_needs_a_policy() -> None:
    async def endpoint(request: Request) -> Response:
        return Response()

    with pytest.raises(TypeError, match="needs a Policy"):
        PolicyRoute("/x", endpoint, methods=["GET"], policy=None)  # type: ignore[arg-type]


def test_resource_levels_need_a_resource() -> None:
    with pytest.raises(ValueError, match="needs a resource"):
        Policy(Access.READ)
    resource = Resource("experiment", "ids", _no_ids)
    with pytest.raises(ValueError, match="takes none"):
        Policy(Access.ADMIN, resource)


async def _no_ids(request: Request) -> list[str]:
    return []


async def _ids_from_query(request: Request) -> list[str]:
    return request.query_params.getlist("id")


class FakeAuthenticator:
    """Users from a ``user`` query parameter; ``admin`` is an administrator."""

    def __init__(self, grants: dict[tuple[str, str], Access]) -> None:
        self.grants = grants

    async def authenticate(self, request: Request) -> User:
        name = request.query_params.get("user")
        if not name:
            raise ApiError("UNAUTHENTICATED", "Sign in.")
        return User(name, is_admin=name == "admin")

    async def permission(self, user: User, kind: str, resource_id: str) -> Access:
        return self.grants.get((user.username, resource_id), Access.NO_PERMISSIONS)


@pytest.fixture
def guarded_client(sqlite_store: SqlStore) -> TestClient:
    resource = Resource("experiment", "id query parameter", _ids_from_query)

    async def who(request: Request) -> Response:
        return PlainTextResponse(current_user(request).username)

    def routes(context: ServerContext) -> list[BaseRoute]:
        return [
            PolicyRoute("/public", who, methods=["GET"], policy=PUBLIC),
            PolicyRoute("/signed-in", who, methods=["GET"], policy=SIGNED_IN),
            PolicyRoute("/admin", who, methods=["GET"], policy=ADMIN),
            PolicyRoute("/read", who, methods=["GET"], policy=Policy.read(resource)),
            PolicyRoute("/edit", who, methods=["GET"], policy=Policy.edit(resource)),
            PolicyRoute(
                "/manage", who, methods=["GET"], policy=Policy.manage(resource)
            ),
            PolicyMount(
                "/files", PlainTextResponse("file"), policy=SIGNED_IN, name="files"
            ),
        ]

    authenticator = FakeAuthenticator(
        {
            ("ada", "1"): Access.READ,
            ("ada", "2"): Access.EDIT,
            ("bob", "1"): Access.MANAGE,
        }
    )
    app = create_app(sqlite_store, authenticator=authenticator, providers=[routes])
    return TestClient(app, base_url="http://localhost")


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("/public", {}, 200),
        ("/signed-in", {}, 401),
        ("/signed-in", {"user": "ada"}, 200),
        ("/admin", {"user": "ada"}, 403),
        ("/admin", {"user": "admin"}, 200),
        ("/read", {"user": "ada", "id": "1"}, 200),
        ("/read", {"user": "ada", "id": ["1", "2"]}, 200),
        ("/read", {"user": "ada", "id": ["1", "3"]}, 403),
        ("/edit", {"user": "ada", "id": "1"}, 403),
        ("/edit", {"user": "ada", "id": "2"}, 200),
        ("/manage", {"user": "ada", "id": "2"}, 403),
        ("/manage", {"user": "bob", "id": "1"}, 200),
        ("/manage", {"user": "admin", "id": "9"}, 200),
        ("/files/a.txt", {}, 401),
        ("/files/a.txt", {"user": "ada"}, 200),
    ],
)
def test_policies_are_enforced(
    guarded_client: TestClient, path: str, query: dict[str, object], status: int
) -> None:
    response = guarded_client.get(path, params=query)  # type: ignore[arg-type]
    assert response.status_code == status, response.text


def test_denial_names_the_missing_permission(guarded_client: TestClient) -> None:
    response = guarded_client.get("/edit", params={"user": "ada", "id": "1"})
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert "EDIT on experiment (id query parameter)" in response.json()["message"]


def test_auth_off_lets_everyone_through_as_anonymous(sqlite_store: SqlStore) -> None:
    async def who(request: Request) -> Response:
        return PlainTextResponse(current_user(request).username)

    app = create_app(
        sqlite_store,
        providers=[
            lambda context: [PolicyRoute("/admin", who, methods=["GET"], policy=ADMIN)]
        ],
    )
    response = TestClient(app, base_url="http://localhost").get("/admin")
    assert response.text == "anonymous"
