"""Import an MLflow SQLite database written by the real ``mlflow`` client."""

from __future__ import annotations

from pathlib import Path

import pytest

from mltrail.importer import ImportSummary, import_store, open_source
from mltrail.store._sql import SqlStore
from tests.importer._compare import assert_store_equal, hash_tree
from tests.importer.conftest import MlflowStore

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


def _import(uri: str, store: SqlStore) -> ImportSummary:
    source = open_source(uri)
    try:
        return import_store(source, store)
    finally:
        source.close()


def test_import_copies_every_field(mlflow_sqlite: MlflowStore, store: SqlStore) -> None:
    summary = _import(mlflow_sqlite.uri, store)

    assert summary.runs == 4
    assert summary.mapped == []
    assert_store_equal(store, mlflow_sqlite.truth)


def test_import_again_copies_nothing_new(
    mlflow_sqlite: MlflowStore, sqlite_store: SqlStore
) -> None:
    first = _import(mlflow_sqlite.uri, sqlite_store)

    again = _import(mlflow_sqlite.uri, sqlite_store)

    assert (again.runs, again.logged_models, again.model_versions) == (0, 0, 0)
    assert again.runs_skipped == first.runs
    assert again.experiments == 0
    assert again.metric_points == again.bytes == 0
    assert_store_equal(sqlite_store, mlflow_sqlite.truth)


def test_import_leaves_the_source_unchanged(
    mlflow_sqlite: MlflowStore, sqlite_store: SqlStore
) -> None:
    before = hash_tree(mlflow_sqlite.folder)

    _import(mlflow_sqlite.uri, sqlite_store)

    assert hash_tree(mlflow_sqlite.folder) == before
    assert not list(Path(mlflow_sqlite.folder).glob("*.db-wal"))


def test_import_reads_postgresql_and_mysql(
    mlflow_server_database: MlflowStore, sqlite_store: SqlStore
) -> None:
    summary = _import(mlflow_server_database.uri, sqlite_store)
    again = _import(mlflow_server_database.uri, sqlite_store)

    assert (summary.runs, again.runs) == (4, 0)
    assert_store_equal(sqlite_store, mlflow_server_database.truth)
