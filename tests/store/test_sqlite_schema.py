"""A new SQLite store gets its schema from the snapshot; it equals the migrations'."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from mltrail.store import _sqlite_schema
from mltrail.store._schema import HEAD_REVISION
from mltrail.store._sql import SqlStore
from mltrail.store._sqlite_schema import dump_schema, migrate_with_alembic


def _migrated_by_alembic(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        migrate_with_alembic(conn, "root")
    return engine


def _schema_and_default(engine: sa.Engine) -> tuple[list[str], tuple[object, ...]]:
    with engine.connect() as conn:
        statements = dump_schema(conn)
        default = conn.execute(
            sa.text(
                "SELECT experiment_id, name, artifact_location, lifecycle_stage "
                "FROM experiments"
            )
        ).one()
    engine.dispose()
    return statements, tuple(default)


def test_snapshot_is_the_schema_the_migrations_make(tmp_path: Path) -> None:
    migrated = _schema_and_default(_migrated_by_alembic(tmp_path / "alembic.db"))
    SqlStore(f"sqlite:///{tmp_path / 'snapshot.db'}", artifact_root="root").close()
    created = _schema_and_default(sa.create_engine(f"sqlite:///{tmp_path}/snapshot.db"))
    # On a difference, a migration changed the schema: write the snapshot again
    # with `mltrail.store._sqlite_schema.write_snapshot()`.
    assert created == migrated
    assert migrated[1] == (0, "Default", "root/0", "active")


def test_snapshot_is_read_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "head.sql"
    _sqlite_schema.write_snapshot(path)
    assert path.read_text() == _sqlite_schema.SNAPSHOT_PATH.read_text()


def test_new_sqlite_store_does_not_import_alembic(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'new.db'}"
    code = (
        "import sys\n"
        "from mltrail.store import SqlStore\n"
        f"store = SqlStore({uri!r}, artifact_root='root')\n"
        "print(store.get_experiment('0').artifact_location, 'alembic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["root/0", "False"]


@pytest.mark.parametrize(
    "snapshot",
    ["-- mltrail's SQLite schema at revision 0001\n", "not a snapshot\n", None],
    ids=["another revision", "no header", "missing"],
)
def test_store_without_a_usable_snapshot_is_migrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snapshot: str | None
) -> None:
    path = tmp_path / "head.sql"
    if snapshot is not None:
        path.write_text(snapshot)
    monkeypatch.setattr(_sqlite_schema, "SNAPSHOT_PATH", path)
    store = SqlStore(f"sqlite:///{tmp_path / 'new.db'}", artifact_root="root")
    run = store.create_run("0", user_id="u", start_time=1, run_name="r")
    assert store.get_run(run.info.run_id).info.run_name == "r"
    store.close()
    migrated = _schema_and_default(_migrated_by_alembic(tmp_path / "alembic.db"))
    created = _schema_and_default(sa.create_engine(f"sqlite:///{tmp_path}/new.db"))
    assert created == migrated
    engine = sa.create_engine(f"sqlite:///{tmp_path}/new.db")
    with engine.connect() as conn:
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version"))
        assert revision.scalar() == HEAD_REVISION
    engine.dispose()
