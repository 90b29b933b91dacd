"""Fixtures of the server tests: a store per backend, an app on it, a test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mltrail.server import ServerSettings, create_app
from mltrail.store._sql import SqlStore
from tests import _stores
from tests._stores import BACKENDS, ServerDatabase, open_empty_store

# The session fixtures that the store fixtures below build on.
server_databases = _stores.server_databases
sqlite_template = _stores.sqlite_template

PROXY_ROOT = "mlflow-artifacts:"


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    server_databases: dict[str, ServerDatabase],
) -> Iterator[SqlStore]:
    """An empty store on every backend, with ``mlflow-artifacts:`` as artifact root."""
    store = open_empty_store(
        request.param,
        server_databases,
        tmp_path,
        sqlite_template,
        slot="server",
        artifact_root=PROXY_ROOT,
    )
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path, sqlite_template: Path) -> Iterator[SqlStore]:
    """The same on SQLite only, for tests that need no other backend."""
    store = open_empty_store(
        "sqlite", {}, tmp_path, sqlite_template, artifact_root=PROXY_ROOT
    )
    yield store
    store.close()


@pytest.fixture
def settings(tmp_path: Path) -> ServerSettings:
    """Settings whose artifact proxy keeps files under ``tmp_path/destination``."""
    return ServerSettings(artifacts_destination=str(tmp_path / "destination"))


@pytest.fixture
def app(store: SqlStore, settings: ServerSettings) -> Starlette:
    """The server's app on the ``store`` fixture (every backend)."""
    return create_app(store, settings=settings)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """A test client of ``app`` that sends ``Host: localhost``."""
    with TestClient(app, base_url="http://localhost") as client:
        yield client


@pytest.fixture
def sqlite_app(sqlite_store: SqlStore, settings: ServerSettings) -> Starlette:
    """The server's app on SQLite only."""
    return create_app(sqlite_store, settings=settings)
