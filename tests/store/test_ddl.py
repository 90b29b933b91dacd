"""Migration steps that are already done are skipped, so a rerun finishes the job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from mltrail.store._ddl import make_idempotent


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[tuple[Operations, sa.Connection]]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ddl.db'}")
    with engine.begin() as conn:
        context = MigrationContext.configure(conn)
        make_idempotent(context.impl)
        yield Operations(context), conn
    engine.dispose()


def _columns(conn: sa.Connection, table: str) -> list[str]:
    return [column["name"] for column in sa.inspect(conn).get_columns(table)]


def _indexes(conn: sa.Connection, table: str) -> list[str]:
    return [str(index["name"]) for index in sa.inspect(conn).get_indexes(table)]


def test_every_step_can_run_twice(
    operations: tuple[Operations, sa.Connection],
) -> None:
    op, conn = operations
    for _ in range(2):
        op.create_table(
            "t",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(10), index=True),
        )
        op.create_index("ix_t_id_name", "t", ["id", "name"])
        op.add_column("t", sa.Column("extra", sa.Integer))
    assert _columns(conn, "t") == ["id", "name", "extra"]
    assert sorted(_indexes(conn, "t")) == ["ix_t_id_name", "ix_t_name"]
    for _ in range(2):
        op.drop_index("ix_t_id_name", table_name="t")
        op.drop_column("t", "extra")
    assert _columns(conn, "t") == ["id", "name"]
    for _ in range(2):
        op.drop_table("t")
    assert not sa.inspect(conn).has_table("t")


def test_existing_table_gets_its_missing_indexes(
    operations: tuple[Operations, sa.Connection],
) -> None:
    op, conn = operations
    conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(10))")
    op.create_table(
        "t",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(10), index=True),
    )
    assert _indexes(conn, "t") == ["ix_t_name"]


def test_index_of_a_missing_table_is_made_with_it(
    operations: tuple[Operations, sa.Connection],
) -> None:
    op, conn = operations
    op.drop_index("ix_nowhere", table_name="nowhere")  # nothing to drop: no error
    assert not sa.inspect(conn).has_table("nowhere")
