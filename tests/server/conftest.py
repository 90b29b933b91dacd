"""Fixtures of the server tests: a store per backend, an app on it, a test client."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mltrail.server import ServerSettings, create_app
from mltrail.store._sql import SqlStore
from tests import _stores
from tests._stores import (
    BACKENDS,
    SERVER_VARIABLES,
    ServerDatabase,
    empty_database,
)

# The session fixtures that the store fixtures below build on.
server_databases = _stores.server_databases
sqlite_template = _stores.sqlite_template

PROXY_ROOT = "mlflow-artifacts:"


def open_server_store(
    backend: str,
    databases: dict[str, ServerDatabase],
    directory: Path,
    template: Path,
) -> SqlStore:
    """An emptied store whose experiments keep artifacts behind the proxy."""
    if backend == "sqlite":
        path = directory / "mltrail.db"
        shutil.copyfile(template, path)
        store = SqlStore(f"sqlite:///{path}", artifact_root=PROXY_ROOT)
    else:
        database = databases.get(f"{backend}:server")
        if database is None:
            database = ServerDatabase(backend, os.environ[SERVER_VARIABLES[backend]])
            databases[f"{backend}:server"] = database
        store = SqlStore(database.uri, artifact_root=PROXY_ROOT)
    empty_database(store, PROXY_ROOT)
    return store


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    server_databases: dict[str, ServerDatabase],
) -> Iterator[SqlStore]:
    """An empty store on every backend, with ``mlflow-artifacts:`` as artifact root."""
    store = open_server_store(
        request.param, server_databases, tmp_path, sqlite_template
    )
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path, sqlite_template: Path) -> Iterator[SqlStore]:
    """The same on SQLite only, for tests that need no other backend."""
    store = open_server_store("sqlite", {}, tmp_path, sqlite_template)
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


@pytest.fixture
def sqlite_client(sqlite_app: Starlette) -> Iterator[TestClient]:
    """A test client of ``sqlite_app``."""
    with TestClient(sqlite_app, base_url="http://localhost") as client:
        yield client
