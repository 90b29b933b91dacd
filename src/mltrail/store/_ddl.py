"""Schema changes that finish what an interrupted migration began.

MySQL and MariaDB commit every DDL statement on its own: a process killed during a
migration leaves the tables it created behind, without the new revision in
``alembic_version``, and running the migration again fails on "Table ... already
exists". ``make_idempotent`` makes the migration context skip each step that is
already done (a table, index or column that exists, or one to drop that is gone),
so running an interrupted migration again completes it, on every backend. Data
steps in migrations check for themselves (see ``0001``'s Default experiment).

On MySQL and MariaDB, tables are also created with a NO PAD binary collation (see
migration ``0006``), so that text compares exactly, as on the other backends.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = ["make_idempotent", "mysql_exact_collation"]

#: NO PAD binary collations, best first: 'a' and 'a ' differ, as on other backends.
EXACT_COLLATIONS = ("utf8mb4_nopad_bin", "utf8mb4_0900_bin")


def mysql_exact_collation(conn: sa.Connection) -> str | None:
    """Return the NO PAD binary collation this MySQL or MariaDB server has, if any."""
    names = {
        row[0]
        for row in conn.exec_driver_sql(
            "SELECT COLLATION_NAME FROM information_schema.COLLATIONS "
            "WHERE COLLATION_NAME IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')"
        )
    }
    return next((name for name in EXACT_COLLATIONS if name in names), None)


def _index_names(conn: sa.Connection, table_name: str) -> set[str]:
    inspector = sa.inspect(conn)
    if not inspector.has_table(table_name):
        return set()
    return {
        index["name"] for index in inspector.get_indexes(table_name) if index["name"]
    }


def _column_names(conn: sa.Connection, table_name: str) -> set[str]:
    return {column["name"] for column in sa.inspect(conn).get_columns(table_name)}


def _collation_in_use(conn: sa.Connection) -> str | None:
    """Return the collation of the database's existing tables (MySQL), if any."""
    found = conn.exec_driver_sql(
        "SELECT TABLE_COLLATION FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME != 'alembic_version' "
        "ORDER BY CREATE_TIME LIMIT 1"
    ).scalar()
    return str(found) if found else None


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

    exact = mysql_exact_collation(conn) if conn.dialect.name == "mysql" else None

    def create_table_once(table: sa.Table, **kw: Any) -> None:
        if not sa.inspect(conn).has_table(table.name):
            if exact is not None and "mysql_collate" in table.dialect_kwargs:
                # Text compares exactly, whatever the migration says; but columns
                # that refer to each other must match, so the tables of a database
                # that migration 0006 has not converted yet keep their collation.
                collation = _collation_in_use(conn) or exact
                table.dialect_kwargs["mysql_collate"] = collation
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
