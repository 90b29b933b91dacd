"""Fixtures of the import tests: MLflow stores written by the real ``mlflow`` client.

Each store is written once per session by ``mlflow_writer.py`` in a subprocess
(MLflow's own process state stays out of the tests), which also dumps what
``MlflowClient`` reads back: the truth an import is compared with.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._stores import (  # noqa: F401  # fixtures are found by name
    BACKENDS,
    SERVER_VARIABLES,
    ServerDatabase,
    server_databases,
    sqlite_store,
    sqlite_template,
    store,
)

WRITER = Path(__file__).with_name("mlflow_writer.py")


@dataclass
class MlflowStore:
    """An MLflow store: its URI, its folder, and what MLflow's client reads from it."""

    uri: str
    folder: Path
    truth: dict[str, Any]


def mlflow_environment(**extra: str) -> dict[str, str]:
    """The environment of an MLflow process: quiet, and quick to log a model."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MLFLOW_", "MLTRAIL_"))
    }
    environment.update(
        MLFLOW_ENABLE_TELEMETRY="false",
        MLFLOW_DISABLE_TELEMETRY="true",
        # Requirement inference runs a subprocess for a minute on a busy machine;
        # the defaults it falls back to are as good for these tests.
        MLFLOW_REQUIREMENTS_INFERENCE_TIMEOUT="1",
        **extra,
    )
    return environment


def write_mlflow_store(uri: str, folder: Path, **environment: str) -> dict[str, Any]:
    """Log the writer's runs to ``uri`` with MLflow's client; return the truth."""
    truth = folder / "truth.json"
    subprocess.run(
        [sys.executable, str(WRITER), uri, str(truth)],
        cwd=folder,
        env=mlflow_environment(**environment),
        check=True,
        capture_output=True,
        timeout=600,
    )
    loaded: dict[str, Any] = json.loads(truth.read_text())
    truth.unlink()
    return loaded


@pytest.fixture(scope="session")
def mlflow_sqlite(tmp_path_factory: pytest.TempPathFactory) -> MlflowStore:
    """An MLflow SQLite database with its artifacts in ``./mlruns`` beside it."""
    folder = tmp_path_factory.mktemp("mlflow-sqlite")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    return MlflowStore(uri, folder, write_mlflow_store(uri, folder))


@pytest.fixture(scope="session")
def mlflow_file_store(tmp_path_factory: pytest.TempPathFactory) -> MlflowStore:
    """An MLflow ``./mlruns`` file store (MLflow 3 still writes one when allowed)."""
    folder = tmp_path_factory.mktemp("mlflow-files")
    uri = (folder / "mlruns").as_uri()
    truth = write_mlflow_store(uri, folder, MLFLOW_ALLOW_FILE_STORE="true")
    return MlflowStore(str(folder / "mlruns"), folder, truth)


SOURCE_SERVERS = [name for name in ("postgresql", "mysql") if name in BACKENDS]
_DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}


@pytest.fixture(scope="session", params=SOURCE_SERVERS, ids=SOURCE_SERVERS)
def mlflow_server_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MlflowStore]:
    """An MLflow database on PostgreSQL or MySQL, written by MLflow's client."""
    backend = request.param
    database = ServerDatabase(backend, os.environ[SERVER_VARIABLES[backend]])
    folder = tmp_path_factory.mktemp(f"mlflow-{backend}")
    # MLflow's own driver choice would be psycopg2 / mysqlclient; name ours.
    rest = database.uri.partition("://")[2]
    writer_uri = f"{_DRIVERS[backend]}://{rest}"
    try:
        truth = write_mlflow_store(writer_uri, folder)
        yield MlflowStore(database.uri, folder, truth)
    finally:
        database.drop()
