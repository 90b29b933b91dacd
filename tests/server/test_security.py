"""Host allow-list, Origin check, CORS only when configured, safe headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mltrail.server import ServerSettings, create_app
from mltrail.server._security import host_allowed, split_host
from mltrail.store._sql import SqlStore

ANY = "0.0.0.0"  # noqa: S104 - a Host value under test, not a bind


def _client(store: SqlStore, tmp_path: Path, **settings: object) -> TestClient:
    app = create_app(
        store,
        settings=ServerSettings(artifacts_destination=str(tmp_path), **settings),  # type: ignore[arg-type]
    )
    return TestClient(app, base_url="http://localhost")


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("localhost:5000", "localhost"),
        ("[::1]:5000", "::1"),
        ("Example.COM", "example.com"),
        ("10.0.0.1:80", "10.0.0.1"),
    ],
)
def test_split_host(value: str, host: str) -> None:
    assert split_host(value) == host


@pytest.mark.parametrize(
    ("host", "listen", "patterns", "allowed"),
    [
        ("localhost", "127.0.0.1", (), True),
        ("127.0.0.1", "127.0.0.1", (), True),
        ("evil.example", "127.0.0.1", (), False),
        ("192.168.1.9", "127.0.0.1", (), False),
        ("192.168.1.9", ANY, (), True),
        ("mltrail.corp", ANY, (), False),
        ("mltrail.corp", ANY, ("*.corp",), True),
        ("", "127.0.0.1", (), False),
    ],
)
def test_host_allowed(
    host: str, listen: str, patterns: tuple[str, ...], allowed: bool
) -> None:
    assert host_allowed(host, listen, patterns) is allowed


def test_foreign_host_header_is_refused(sqlite_store: SqlStore, tmp_path: Path) -> None:
    client = _client(sqlite_store, tmp_path)
    response = client.get("/version", headers={"host": "attacker.example"})
    assert response.status_code == 403
    assert "DNS rebinding" in response.json()["message"]


def test_health_answers_any_host(sqlite_store: SqlStore, tmp_path: Path) -> None:
    client = _client(sqlite_store, tmp_path)
    assert client.get("/health", headers={"host": "anything"}).status_code == 200


def test_allowed_hosts_extend_the_list(sqlite_store: SqlStore, tmp_path: Path) -> None:
    client = _client(sqlite_store, tmp_path, allowed_hosts=("mltrail.corp",))
    response = client.get("/version", headers={"host": "mltrail.corp:5000"})
    assert response.status_code == 200


def test_cross_origin_write_is_refused(sqlite_store: SqlStore, tmp_path: Path) -> None:
    client = _client(sqlite_store, tmp_path)
    response = client.post(
        "/api/2.0/mlflow/experiments/create",
        json={"name": "x"},
        headers={"origin": "http://evil.example"},
    )
    assert response.status_code == 403
    assert "Cross-origin" in response.json()["message"]


def test_same_origin_write_passes_the_check(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    client = _client(sqlite_store, tmp_path)
    response = client.post("/health", headers={"origin": "http://localhost"})
    assert response.status_code == 405  # past the origin check, at the router


def test_cross_origin_read_is_not_blocked(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    client = _client(sqlite_store, tmp_path)
    response = client.get("/version", headers={"origin": "http://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_cors_is_off_unless_configured(sqlite_store: SqlStore, tmp_path: Path) -> None:
    client = _client(sqlite_store, tmp_path)
    response = client.options(
        "/version",
        headers={
            "origin": "http://app.example",
            "access-control-request-method": "GET",
        },
    )
    assert "access-control-allow-origin" not in response.headers


def test_configured_origin_gets_cors_and_may_write(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    client = _client(
        sqlite_store, tmp_path, cors_allowed_origins=("http://app.example",)
    )
    preflight = client.options(
        "/api/2.0/mlflow/experiments/create",
        headers={
            "origin": "http://app.example",
            "access-control-request-method": "POST",
        },
    )
    assert preflight.headers["access-control-allow-origin"] == "http://app.example"
    response = client.post("/health", headers={"origin": "http://app.example"})
    assert response.status_code == 405  # allowed through the origin check


def test_every_response_carries_safe_headers(client: TestClient) -> None:
    for path in ("/health", "/nothing"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
