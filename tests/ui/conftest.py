"""Fixtures of the UI tests: a SQLite store with local artifacts, the app, a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import mltrail
from mltrail.server import ServerSettings, create_app
from mltrail.store._sql import SqlStore
from tests import _stores
from tests._stores import open_empty_store

sqlite_template = _stores.sqlite_template


@pytest.fixture
def store(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SqlStore]:
    """An empty SQLite store whose artifacts are under ``tmp_path/artifacts``.

    The fluent API (``mltrail.start_run``...) logs into the same store.
    """
    store = open_empty_store("sqlite", {}, tmp_path, sqlite_template)
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", store.artifact_root)
    mltrail.set_tracking_uri(store.uri)
    yield store
    store.close()


@pytest.fixture
def app(store: SqlStore) -> Starlette:
    """The server's app, UI included, on ``store``."""
    settings = ServerSettings(artifacts_destination=store.artifact_root)
    return create_app(store, settings=settings)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """A test client of ``app`` that sends ``Host: localhost``."""
    with TestClient(app, base_url="http://localhost") as client:
        yield client
