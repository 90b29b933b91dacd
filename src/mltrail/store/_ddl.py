"""Schema changes that finish what an interrupted migration began.

MySQL and MariaDB commit every DDL statement on its own: a process killed during a
migration leaves the tables it created behind, without the new revision in
``alembic_version``, and running the migration again fails on "Table ... already
exists". ``make_idempotent`` makes the migration context skip each step that is
already done (a table, index or column that exists, or one to drop that is gone),
so running an interrupted migration again completes it, on every backend. Data
steps in migrations check for themselves (see ``0001``'s Default experiment).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = ["make_idempotent"]


def _index_names(conn: sa.Connection, table_name: str) -> set[str]:
    inspector = sa.inspect(conn)
    if not inspector.has_table(table_name):
        return set()
    return {
        index["name"] for index in inspector.get_indexes(table_name) if index["name"]
    }


def _column_names(conn: sa.Connection, table_name: str) -> set[str]:
    return {column["name"] for column in sa.inspect(conn).get_columns(table_name)}


def make_idempotent(impl: Any) -> None:
    """Make an Alembic ``DefaultImpl`` skip schema steps that are already done.

    Parameters
    ----------
    impl : alembic.ddl.impl.DefaultImpl
        The migration context's implementation (``context.get_context().impl``).
    """
    conn: sa.Connection = impl.connection
    create_table = impl.create_table
    create_index = impl.create_index
    add_column = impl.add_column
    drop_table = impl.drop_table
    drop_index = impl.drop_index
    drop_column = impl.drop_column

    def create_table_once(table: sa.Table, **kw: Any) -> None:
        if not sa.inspect(conn).has_table(table.name):
            create_table(table, **kw)
            return
        # The table exists (CREATE TABLE is atomic): finish its indexes.
        present = _index_names(conn, table.name)
        for index in table.indexes:
            if index.name not in present:
                create_index(index)

    def create_index_once(index: sa.Index, **kw: Any) -> None:
        if index.name not in _index_names(conn, index.table.name):  # type: ignore[union-attr]  # an index created by a migration names its table
            create_index(index, **kw)

    def add_column_once(table_name: str, column: sa.Column[Any], **kw: Any) -> None:
        if column.name not in _column_names(conn, table_name):
            add_column(table_name, column, **kw)

    def drop_table_once(table: sa.Table, **kw: Any) -> None:
        if sa.inspect(conn).has_table(table.name):
            drop_table(table, **kw)

    def drop_index_once(index: sa.Index, **kw: Any) -> None:
        if index.name in _index_names(conn, index.table.name):  # type: ignore[union-attr]  # as above
            drop_index(index, **kw)

    def drop_column_once(table_name: str, column: sa.Column[Any], **kw: Any) -> None:
        if column.name in _column_names(conn, table_name):
            drop_column(table_name, column, **kw)

    # Instance attributes shadow the class's methods for this context only.
    for name, function in (
        ("create_table", create_table_once),
        ("create_index", create_index_once),
        ("add_column", add_column_once),
        ("drop_table", drop_table_once),
        ("drop_index", drop_index_once),
        ("drop_column", drop_column_once),
    ):
        setattr(impl, name, function)
