"""``create_app``: health and version, JSON errors for every failure, body limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.testclient import TestClient

from mltrail import (
    ConflictError,
    FilterSyntaxError,
    InvalidValueError,
    MltrailError,
    NotFoundError,
    StoreError,
)
from mltrail._version import __version__
from mltrail.server import ServerSettings, create_app
from mltrail.server._context import ServerContext
from mltrail.server._messages import Call, api_routes
from mltrail.server._policy import PUBLIC, PolicyRoute
from mltrail.store._sql import SqlStore

ERRORS = {
    "not-found": (NotFoundError("run", "abc"), 404, "RESOURCE_DOES_NOT_EXIST"),
    "invalid": (
        InvalidValueError("metric key", "", "a non-empty str"),
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    "filter": (
        FilterSyntaxError("metrics.a >", 11, "a value"),
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    "conflict": (ConflictError("param 'C' is 1"), 400, "INVALID_PARAMETER_VALUE"),
    "store": (
        StoreError("database at /srv/db is down"),
        503,
        "TEMPORARILY_UNAVAILABLE",
    ),
    "base": (MltrailError("odd"), 500, "INTERNAL_ERROR"),
    "unexpected": (
        RuntimeError("at /srv/secret/file.py line 3"),
        500,
        "INTERNAL_ERROR",
    ),
}


def _raising_routes(context: ServerContext) -> list[BaseRoute]:
    def fail(call: Call) -> dict[str, object]:
        raise ERRORS[call.message.required_text("kind")][0]

    def echo(call: Call) -> dict[str, object]:
        return {"value": call.message.number("value"), "run_id": call.message.run_id()}

    async def leak(request: Request) -> Response:
        raise InvalidValueError("file", f"{context.artifacts_destination}/x", "y")

    return [
        *api_routes("/fail", fail, methods=["GET"], policy=PUBLIC),
        *api_routes("/echo", echo, methods=["GET", "POST"], policy=PUBLIC),
        PolicyRoute("/leak", leak, methods=["GET"], policy=PUBLIC),
    ]


@pytest.fixture
def test_client(sqlite_store: SqlStore, settings: ServerSettings) -> TestClient:
    app = create_app(
        sqlite_store,
        settings=settings,
        providers=["mltrail.server._core:routes", _raising_routes],
    )
    return TestClient(app, base_url="http://localhost", raise_server_exceptions=False)


def test_health_answers_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert (response.status_code, response.text) == (200, "OK")


def test_version_answers_the_mltrail_version(client: TestClient) -> None:
    assert client.get("/version").text == __version__


@pytest.mark.parametrize("prefix", ["/api", "/ajax-api"])
def test_server_info_turns_multipart_off(client: TestClient, prefix: str) -> None:
    body = client.get(f"{prefix}/3.0/mlflow/server-info").json()
    assert body["multipart_uploads_enabled"] is False
    assert body["mltrail_version"] == __version__


@pytest.mark.parametrize(
    "path", ["/api/2.0/mlflow/runs/nothing", "/nothing", "/ajax-api/2.0/x"]
)
def test_unknown_route_answers_json_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert path in response.json()["message"]


def test_wrong_method_answers_json_405(client: TestClient) -> None:
    response = client.post("/health")
    assert response.status_code == 405
    assert response.json()["error_code"] == "BAD_REQUEST"


@pytest.mark.parametrize("kind", list(ERRORS), ids=list(ERRORS))
def test_exceptions_map_to_mlflow_error_codes(
    test_client: TestClient, kind: str
) -> None:
    _, status, code = ERRORS[kind]
    response = test_client.get("/api/2.0/mlflow/fail", params={"kind": kind})
    body = response.json()
    assert (response.status_code, body["error_code"]) == (status, code)
    assert body["error"]["message"] == body["message"]


@pytest.mark.parametrize("kind", ["store", "unexpected", "base"])
def test_server_failures_hide_details(test_client: TestClient, kind: str) -> None:
    message = test_client.get("/api/2.0/mlflow/fail", params={"kind": kind}).json()[
        "message"
    ]
    assert "/srv" not in message
    assert "Traceback" not in message
    assert "server's log" in message


def test_error_messages_name_no_server_path(
    test_client: TestClient, settings: ServerSettings
) -> None:
    message = test_client.get("/leak").json()["message"]
    assert settings.artifacts_destination not in message
    assert "<server path>/x" in message


def test_missing_field_gets_mlflow_message(test_client: TestClient) -> None:
    response = test_client.get("/api/2.0/mlflow/fail")
    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "Missing value for required parameter 'kind'."
    )


def test_post_reads_a_json_body(test_client: TestClient) -> None:
    response = test_client.post(
        "/ajax-api/2.0/mlflow/echo", json={"value": "NaN", "run_uuid": "r1"}
    )
    assert response.json() == {"value": "NaN", "run_id": "r1"}


def test_body_that_is_not_json_gets_415(test_client: TestClient) -> None:
    response = test_client.post(
        "/api/2.0/mlflow/echo",
        content=b"value=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [(b"{oops", "not valid JSON"), (b"[1, 2]", "a JSON object")],
    ids=["malformed", "array"],
)
def test_malformed_json_gets_400(
    test_client: TestClient, body: bytes, fragment: str
) -> None:
    response = test_client.post(
        "/api/2.0/mlflow/echo",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_conflicting_run_ids_are_refused(test_client: TestClient) -> None:
    response = test_client.post(
        "/api/2.0/mlflow/echo", json={"run_id": "a", "run_uuid": "b"}
    )
    assert response.status_code == 400
    assert "name different runs" in response.json()["message"]


def test_body_over_the_limit_gets_413(sqlite_store: SqlStore, tmp_path: Path) -> None:
    settings = ServerSettings(
        artifacts_destination=str(tmp_path), max_request_bytes=1000
    )
    app = create_app(
        sqlite_store,
        settings=settings,
        providers=["mltrail.server._core:routes", _raising_routes],
    )
    client = TestClient(app, base_url="http://localhost")
    response = client.post("/api/2.0/mlflow/echo", json={"run_id": "x" * 2000})
    assert response.status_code == 413


def test_route_without_policy_is_refused(sqlite_store: SqlStore) -> None:
    from starlette.routing import Route

    async def open_door(request: Request) -> Response:
        return Response("in")

    with pytest.raises(TypeError, match="these have none: /door"):
        create_app(
            sqlite_store,
            providers=[lambda context: [Route("/door", open_door)]],
        )
