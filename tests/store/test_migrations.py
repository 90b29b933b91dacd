"""Migrations: fresh databases, upgrades, concurrent first opens, newer schemas."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from mltrail._errors import StoreError
from mltrail.store._schema import HEAD_REVISION, KNOWN_REVISIONS, metadata
from mltrail.store._sql import SqlStore
from tests._stores import BACKENDS, ServerDatabase, _driver_url

EARLIER_REVISIONS = [None, *KNOWN_REVISIONS[:-1]]


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def fresh_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URI of a new, empty database (no tables at all)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    variable = {
        "postgresql": "MLTRAIL_TEST_POSTGRES_URL",
        "mysql": "MLTRAIL_TEST_MYSQL_URL",
    }
    database = ServerDatabase(request.param, os.environ[variable[request.param]])
    yield database.uri
    database.drop()


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", "mltrail.store:migrations")
    config.attributes["connection"] = connection
    config.attributes["artifact_root"] = "root"
    return config


def _engine(uri: str) -> sa.Engine:
    return sa.create_engine(_driver_url(uri))


def _revision(uri: str) -> str | None:
    engine = _engine(uri)
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT version_num FROM alembic_version")
        ).scalar()
    engine.dispose()
    return found


def test_known_revisions_match_the_migration_scripts() -> None:
    config = Config()
    config.set_main_option("script_location", "mltrail.store:migrations")
    script = ScriptDirectory.from_config(config)
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert tuple(revisions) == KNOWN_REVISIONS
    assert script.get_current_head() == HEAD_REVISION


def test_fresh_database_is_migrated_to_head(fresh_uri: str) -> None:
    store = SqlStore(fresh_uri, artifact_root="root")
    assert store.get_experiment("0").artifact_location == "root/0"
    store.close()
    assert _revision(fresh_uri) == HEAD_REVISION


def test_migrated_schema_matches_the_table_definitions(fresh_uri: str) -> None:
    SqlStore(fresh_uri, artifact_root="root").close()
    engine = _engine(fresh_uri)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert differences == []


@pytest.mark.parametrize("revision", EARLIER_REVISIONS, ids=str)
def test_upgrade_from_every_earlier_revision(
    fresh_uri: str, revision: str | None
) -> None:
    engine = _engine(fresh_uri)
    if revision is not None:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), revision)
    engine.dispose()
    store = SqlStore(fresh_uri, artifact_root="root")
    run = store.create_run("0", user_id="u", start_time=1, run_name="after")
    assert store.get_run(run.info.run_id).info.run_name == "after"
    store.close()
    assert _revision(fresh_uri) == HEAD_REVISION


def test_downgrade_to_base_drops_every_table(fresh_uri: str) -> None:
    SqlStore(fresh_uri, artifact_root="root").close()
    engine = _engine(fresh_uri)
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "base")
    with engine.connect() as conn:
        left = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert left <= {"alembic_version"}


def test_newer_database_is_a_clear_error(fresh_uri: str) -> None:
    SqlStore(fresh_uri, artifact_root="root").close()
    engine = _engine(fresh_uri)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(
        StoreError, match=r"revision '9999'.*knows 0001.*upgrade mltrail"
    ):
        SqlStore(fresh_uri, artifact_root="root")


def test_opening_a_migrated_database_does_not_import_alembic(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'db.sqlite'}"
    SqlStore(uri, artifact_root="root").close()
    code = (
        "import sys\n"
        "from mltrail.store import SqlStore\n"
        f"SqlStore({uri!r}, artifact_root='root').close()\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def _open_store(uri: str) -> None:
    store = SqlStore(uri, artifact_root="root")
    store.create_run("0", user_id="u", start_time=1, run_name="r")
    store.close()


@pytest.mark.slow
def test_concurrent_first_opens_migrate_once(fresh_uri: str) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_open_store, args=(fresh_uri,)) for _ in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0] * 4
    store = SqlStore(fresh_uri, artifact_root="root")
    assert len(store.search_runs(["0"])) == 4
    assert [e.name for e in store.search_experiments()] == ["Default"]
    store.close()
    assert _revision(fresh_uri) == HEAD_REVISION


# Interrupted first migrations (#9 §2): MySQL commits each DDL statement, so a killed
# process leaves some tables behind; the next open finishes the schema.


def _assert_complete(uri: str) -> None:
    store = SqlStore(uri, artifact_root="root")
    assert store.get_experiment("0").name == "Default"
    run = store.create_run("0", user_id="u", start_time=1, run_name="after")
    assert store.get_run(run.info.run_id).info.run_name == "after"
    store.close()
    engine = _engine(uri)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
        experiments = conn.execute(sa.text("SELECT COUNT(*) FROM experiments")).scalar()
    engine.dispose()
    assert differences == []
    assert experiments == 1
    assert _revision(uri) == HEAD_REVISION


def test_partial_first_schema_is_finished(fresh_uri: str) -> None:
    engine = _engine(fresh_uri)
    partial = sa.MetaData()
    for name in ("experiments", "runs", "params"):
        table = metadata.tables[name]
        copy = table.to_metadata(partial)
        for index in list(copy.indexes):  # the table was made, its indexes not yet
            copy.indexes.discard(index)
    with engine.begin() as conn:
        partial.create_all(conn)
        conn.execute(
            sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        )
    engine.dispose()
    _assert_complete(fresh_uri)


KILL_MID_MIGRATION = """
import sys, time
from alembic.ddl import impl

original = impl.DefaultImpl.create_table
made = []

def create_then_hang(self, table, **kw):
    original(self, table, **kw)
    made.append(table.name)
    if len(made) == 3:
        print("half", flush=True)
        time.sleep(120)

impl.DefaultImpl.create_table = create_then_hang
from mltrail.store import _sqlite_schema
from mltrail.store._sql import SqlStore

# SQLite: take Alembic's path, not the snapshot's (one statement at a time).
_sqlite_schema.SNAPSHOT_PATH = _sqlite_schema.SNAPSHOT_PATH.with_name("none.sql")
SqlStore(sys.argv[1], artifact_root="root")
"""


@pytest.mark.slow
def test_store_killed_during_first_migration_opens_again(fresh_uri: str) -> None:
    import signal

    child = subprocess.Popen(
        [sys.executable, "-c", KILL_MID_MIGRATION, fresh_uri],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "half\n"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    engine = _engine(fresh_uri)
    with engine.connect() as conn:
        left = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    if fresh_uri.startswith("mysql"):
        # The case reported: MySQL kept what was created before the kill.
        assert {"experiments", "experiment_tags", "runs"} <= left
    else:  # transactional DDL rolled everything back
        assert left <= {"alembic_version"}
    _assert_complete(fresh_uri)
