"""The ``store`` fixture: one empty ``SqlStore`` per test, on every available backend.

SQLite always runs (a file under ``tmp_path``, copied from a migrated template);
PostgreSQL and MySQL/MariaDB run when ``MLTRAIL_TEST_POSTGRES_URL`` or
``MLTRAIL_TEST_MYSQL_URL`` is set. Each test session (and each xdist worker) gets
its own uniquely named server database, migrated once and emptied before each test,
then dropped at the end. Import the fixtures from this module in a ``conftest.py``.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mltrail.store._schema import TABLES_IN_DEPENDENCY_ORDER, experiments
from mltrail.store._sql import SqlStore

SERVER_VARIABLES = {
    "postgresql": "MLTRAIL_TEST_POSTGRES_URL",
    "mysql": "MLTRAIL_TEST_MYSQL_URL",
}
BACKENDS = ["sqlite"] + [
    name for name, variable in SERVER_VARIABLES.items() if os.environ.get(variable)
]


def _driver_url(uri: str) -> str:
    for plain, driver in (
        ("postgresql://", "postgresql+psycopg://"),
        ("mysql://", "mysql+pymysql://"),
    ):
        if uri.startswith(plain):
            return driver + uri[len(plain) :]
    return uri


def _with_database(uri: str, name: str) -> str:
    base, _, query = uri.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


class ServerDatabase:
    """A throwaway database on a server: created, migrated, emptied, dropped."""

    def __init__(self, backend: str, admin_uri: str) -> None:
        self.backend = backend
        self.name = f"mltrail_{uuid.uuid4().hex[:12]}"
        self.admin = sa.create_engine(
            _driver_url(admin_uri), isolation_level="AUTOCOMMIT"
        )
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {self.name}")
        self.uri = _with_database(admin_uri, self.name)

    def drop(self) -> None:
        with self.admin.connect() as conn:
            force = " WITH (FORCE)" if self.backend == "postgresql" else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.name}{force}")
        self.admin.dispose()


def empty_database(store: SqlStore, artifact_root: str) -> None:
    """Delete every row, then recreate the Default experiment in ``artifact_root``."""
    with store._engine.begin() as conn:
        for table in reversed(TABLES_IN_DEPENDENCY_ORDER):
            conn.execute(table.delete())
        if store._dialect == "mysql":
            conn.exec_driver_sql(
                "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"
            )
        now = int(time.time() * 1000)
        conn.execute(
            experiments.insert().values(
                experiment_id=0,
                name="Default",
                artifact_location=f"{artifact_root}/0",
                lifecycle_stage="active",
                creation_time=now,
                last_update_time=now,
            )
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "mltrail.db"
    SqlStore(f"sqlite:///{path}", artifact_root="unused").close()
    return path


@pytest.fixture(scope="session")
def server_databases() -> Iterator[dict[str, ServerDatabase]]:
    """The session's server databases, created lazily and dropped at the end."""
    databases: dict[str, ServerDatabase] = {}
    yield databases
    for database in databases.values():
        database.drop()


def open_empty_store(
    backend: str,
    databases: dict[str, ServerDatabase],
    directory: Path,
    template: Path,
    *,
    slot: str = "default",
    artifact_root: str | None = None,
) -> SqlStore:
    """Open an emptied store on ``backend``; each ``slot`` has its own database.

    New experiments keep artifacts in ``artifact_root``, by default
    ``directory/artifacts``.
    """
    if artifact_root is None:
        artifact_root = str(directory / "artifacts")
    if backend == "sqlite":
        path = directory / "mltrail.db"
        shutil.copyfile(template, path)
        store = SqlStore(f"sqlite:///{path}", artifact_root=artifact_root)
    else:
        database = databases.get(f"{backend}:{slot}")
        if database is None:
            database = ServerDatabase(backend, os.environ[SERVER_VARIABLES[backend]])
            databases[f"{backend}:{slot}"] = database
        store = SqlStore(database.uri, artifact_root=artifact_root)
    empty_database(store, artifact_root)
    return store


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    server_databases: dict[str, ServerDatabase],
) -> Iterator[SqlStore]:
    """An empty store whose Default experiment keeps artifacts under ``tmp_path``."""
    store = open_empty_store(request.param, server_databases, tmp_path, sqlite_template)
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path, sqlite_template: Path) -> Iterator[SqlStore]:
    """An empty SQLite store only, for tests too slow to repeat on every backend."""
    store = open_empty_store("sqlite", {}, tmp_path, sqlite_template)
    yield store
    store.close()
