"""Create a new SQLite store's schema at once, from a snapshot of what migrations make.

Running the Alembic migrations on an empty SQLite file takes a large part of a
tracking server's start (importing Alembic alone costs more than the rest of the
store). ``migrations/sqlite_head.sql`` holds the exact ``CREATE`` statements that
the migrations leave in ``sqlite_master`` at the head revision; an empty file gets
them in one transaction, then the Default experiment and the revision, as the first
migration writes them. Any other database (not empty, not SQLite, or a snapshot of
another revision) is migrated by Alembic. ``tests/store/test_sqlite_schema.py``
checks that the snapshot equals what the migrations make; when a migration is
added, write the snapshot again with ``write_snapshot()``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from mltrail.store import _schema as schema

__all__ = [
    "SNAPSHOT_PATH",
    "create_from_snapshot",
    "dump_schema",
    "migrate_with_alembic",
    "write_snapshot",
]

SNAPSHOT_PATH = Path(__file__).resolve().parent / "migrations" / "sqlite_head.sql"
_HEADER = "-- mltrail's SQLite schema at revision "


def dump_schema(conn: sa.Connection) -> list[str]:
    """Return a SQLite database's ``CREATE`` statements, tables first, on one line each.

    Runs of whitespace become one space (the statements name no text literal), so
    the snapshot file reads one statement a line.
    """
    rows = conn.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master "
        "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
    ).all()
    order = {"table": 0, "index": 1}
    rows = sorted(rows, key=lambda row: (order.get(row[0], 2), row[1]))
    return [" ".join(str(row[2]).split()) for row in rows]


def _read_snapshot() -> tuple[str, list[str]] | None:
    """Return ``(revision, statements)`` of the snapshot, or None if it is missing."""
    try:
        lines = SNAPSHOT_PATH.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    if not lines or not lines[0].startswith(_HEADER):
        return None
    revision = lines[0][len(_HEADER) :].strip()
    statements = [line.strip().removesuffix(";") for line in lines[1:]]
    return revision, [statement for statement in statements if statement]


def create_from_snapshot(conn: sa.Connection, artifact_root: str) -> bool:
    """Create the head schema in an empty SQLite database; False if it cannot.

    ``conn`` must hold the migration lock (``BEGIN EXCLUSIVE``); the caller commits.
    Nothing is written unless the database has no table at all and the snapshot is
    of the head revision.
    """
    snapshot = _read_snapshot()
    if snapshot is None or snapshot[0] != schema.HEAD_REVISION:
        return False
    if conn.exec_driver_sql("SELECT COUNT(*) FROM sqlite_master").scalar():
        return False
    for statement in snapshot[1]:
        conn.exec_driver_sql(statement)
    now = int(time.time() * 1000)
    conn.execute(
        sa.text(
            "INSERT INTO experiments (experiment_id, name, artifact_location, "
            "lifecycle_stage, creation_time, last_update_time) "
            "VALUES (0, 'Default', :location, 'active', :now, :now)"
        ),
        {"location": artifact_root.rstrip("/") + "/0", "now": now},
    )
    conn.execute(
        sa.text("INSERT INTO alembic_version (version_num) VALUES (:revision)"),
        {"revision": schema.HEAD_REVISION},
    )
    return True


def migrate_with_alembic(conn: sa.Connection, artifact_root: str) -> None:
    """Run every migration on ``conn``, as ``SqlStore`` does for a database in use."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "mltrail.store:migrations")
    config.attributes["artifact_root"] = artifact_root
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def write_snapshot(path: str | os.PathLike[str] = SNAPSHOT_PATH) -> None:
    """Migrate an empty SQLite file with Alembic and write its schema to ``path``."""
    with tempfile.TemporaryDirectory() as folder:
        engine = sa.create_engine(f"sqlite:///{os.path.join(folder, 'head.db')}")
        try:
            with engine.begin() as conn:
                migrate_with_alembic(conn, folder)
                statements = dump_schema(conn)
        finally:
            engine.dispose()
    text = _HEADER + schema.HEAD_REVISION + "\n"
    text += "".join(statement + ";\n" for statement in statements)
    Path(path).write_text(text, encoding="utf-8")
