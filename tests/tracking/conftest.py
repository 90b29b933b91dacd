"""Tracking fixtures: a clean fluent state per test, and clients on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.store._open import clear_store_cache
from mltrail.store._sql import SqlStore
from mltrail.tracking import TrackingClient, _buffer, _heartbeat, _runs
from tests._stores import (  # noqa: F401  # fixtures are found by name
    server_databases,
    sqlite_store,
    sqlite_template,
    store,
)


@pytest.fixture
def client(
    store: SqlStore,  # noqa: F811  # the imported fixture
) -> Iterator[TrackingClient]:
    """A client of the parametrized ``store`` (SQLite, PostgreSQL, MySQL)."""
    tracking_client = TrackingClient(store.uri)
    tracking_client._opened_store = store
    yield tracking_client
    # Stop the threads that use the store before the store fixture closes it.
    _buffer.reset()
    _heartbeat.reset()


@pytest.fixture
def fluent_store(
    store: SqlStore,  # noqa: F811  # the imported fixture
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[str]:
    """Point the fluent API at the parametrized ``store``; yield its URI."""
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    _runs.set_tracking_uri(store.uri)
    yield store.uri
    _runs.reset()
    _buffer.reset()
    _heartbeat.reset()
    clear_store_cache()
