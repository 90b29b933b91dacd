"""Import an MLflow ``./mlruns`` file store written by the real ``mlflow`` client.

MLflow 3 still writes a file store when ``MLFLOW_ALLOW_FILE_STORE=true``; its
experiment ids (18 digits) do not fit mltrail's, so experiments get new ids.
"""

from __future__ import annotations

import shutil
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


def test_import_copies_every_field(
    mlflow_file_store: MlflowStore, sqlite_store: SqlStore
) -> None:
    summary = _import(mlflow_file_store.uri, sqlite_store)

    assert summary.runs == 4
    assert {kind for kind, _, _ in summary.mapped} == {"experiment"}
    assert_store_equal(sqlite_store, mlflow_file_store.truth)


def test_import_again_copies_nothing_new(
    mlflow_file_store: MlflowStore, sqlite_store: SqlStore
) -> None:
    _import(mlflow_file_store.uri, sqlite_store)

    again = _import(mlflow_file_store.uri, sqlite_store)

    assert (again.experiments, again.runs, again.logged_models) == (0, 0, 0)
    assert (again.model_versions, again.bytes) == (0, 0)
    assert_store_equal(sqlite_store, mlflow_file_store.truth)


def test_import_leaves_the_source_unchanged(
    mlflow_file_store: MlflowStore, sqlite_store: SqlStore
) -> None:
    before = hash_tree(mlflow_file_store.folder)

    _import(mlflow_file_store.uri, sqlite_store)

    assert hash_tree(mlflow_file_store.folder) == before


def test_import_reads_a_moved_store(
    mlflow_file_store: MlflowStore, sqlite_store: SqlStore, tmp_path: Path
) -> None:
    moved = tmp_path / "elsewhere" / "mlruns"
    shutil.copytree(mlflow_file_store.uri, moved)
    (mlflow_file_store.folder / "hidden").mkdir()
    original = mlflow_file_store.folder / "mlruns"
    original.rename(mlflow_file_store.folder / "hidden" / "mlruns")
    try:
        _import(str(moved), sqlite_store)
    finally:
        (mlflow_file_store.folder / "hidden" / "mlruns").rename(original)

    assert_store_equal(sqlite_store, mlflow_file_store.truth)
