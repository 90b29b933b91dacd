"""Compare text exactly on MySQL and MariaDB: a NO PAD binary collation everywhere.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

``utf8mb4_bin`` is a PAD SPACE collation: ``'pad' = 'pad '`` is true, so an
experiment named ``"pad "`` was found as ``"pad"`` and ``params.a = 'x'`` matched
``'x '``. Every table is converted to the server's NO PAD binary collation
(``utf8mb4_nopad_bin`` on MariaDB, ``utf8mb4_0900_bin`` on MySQL 8); tables created
later take the collation of those already there (``mltrail.store._ddl``). MySQL
refuses to change a column that a foreign key uses, so the foreign keys (as of
revision 0005, listed below) are dropped first and made again after; each step
checks what is there, so a run interrupted between them is finished by the next.
Other backends already compare exactly; servers without such a collation (MySQL
5.7) are left as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mltrail.store._ddl import mysql_exact_collation

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: The foreign keys at revision 0005: (table, their columns, the referred table,
#: whose columns have the same names).
FOREIGN_KEYS = (
    ("alias_history", ("registered_model_id",), "registered_models"),
    ("datasets", ("experiment_id",), "experiments"),
    ("experiment_tags", ("experiment_id",), "experiments"),
    ("logged_models", ("experiment_id",), "experiments"),
    ("model_versions", ("registered_model_id",), "registered_models"),
    ("registered_model_aliases", ("registered_model_id",), "registered_models"),
    ("registered_model_tags", ("registered_model_id",), "registered_models"),
    ("runs", ("experiment_id",), "experiments"),
    ("latest_metrics", ("run_id",), "runs"),
    ("logged_model_metrics", ("model_id",), "logged_models"),
    ("logged_model_params", ("model_id",), "logged_models"),
    ("logged_model_tags", ("model_id",), "logged_models"),
    ("metrics", ("run_id",), "runs"),
    ("model_version_tags", ("registered_model_id", "version"), "model_versions"),
    ("params", ("run_id",), "runs"),
    ("run_inputs", ("dataset_id",), "datasets"),
    ("run_inputs", ("run_id",), "runs"),
    ("run_model_inputs", ("run_id",), "runs"),
    ("run_model_inputs", ("model_id",), "logged_models"),
    ("run_model_outputs", ("run_id",), "runs"),
    ("run_model_outputs", ("model_id",), "logged_models"),
    ("tags", ("run_id",), "runs"),
    ("input_tags", ("input_id",), "run_inputs"),
    ("user_tokens", ("user_id",), "users"),
    ("resource_permissions", ("user_id",), "users"),
)


def _existing_keys(bind: sa.Connection) -> dict[tuple[str, tuple[str, ...]], str]:
    """Return the names of the foreign keys there are, by (table, columns)."""
    inspector = sa.inspect(bind)
    found = {}
    for table in inspector.get_table_names():
        for key in inspector.get_foreign_keys(table):
            found[(table, tuple(key["constrained_columns"]))] = str(key["name"])
    return found


def _tables_to_convert(bind: sa.Connection, collation: str) -> set[str]:
    """Return the tables with a text column (or a default) of another collation."""
    return {
        row[0]
        for row in bind.exec_driver_sql(
            "SELECT TABLE_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND COLLATION_NAME != %(c)s "
            "UNION SELECT TABLE_NAME FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_COLLATION != %(c)s",
            {"c": collation},
        )
        if row[0] != "alembic_version"
    }


def _convert(collation: str) -> None:
    bind = op.get_bind()
    tables = [t for t in sa.inspect(bind).get_table_names() if t != "alembic_version"]
    if not _tables_to_convert(bind, collation):
        return  # a new database: its tables were created so
    existing = _existing_keys(bind)
    for table, columns, _ in FOREIGN_KEYS:
        name = existing.get((table, columns))
        if name is not None:
            op.execute(f"ALTER TABLE `{table}` DROP FOREIGN KEY `{name}`")
    for table in sorted(_tables_to_convert(bind, collation)):
        op.execute(
            f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb4 "
            f"COLLATE {collation}"
        )
    existing = _existing_keys(bind)
    for table, columns, referred in FOREIGN_KEYS:
        if table in tables and (table, columns) not in existing:
            names = ", ".join(f"`{column}`" for column in columns)
            op.execute(
                f"ALTER TABLE `{table}` ADD FOREIGN KEY ({names}) "
                f"REFERENCES `{referred}` ({names})"
            )


def upgrade() -> None:
    """Convert every table to the NO PAD binary collation (MySQL and MariaDB)."""
    bind = op.get_bind()
    if bind.dialect.name != "mysql":
        return
    collation = mysql_exact_collation(bind)
    if collation is not None:
        _convert(collation)


def downgrade() -> None:
    """Go back to ``utf8mb4_bin`` (PAD SPACE)."""
    if op.get_bind().dialect.name == "mysql":
        _convert("utf8mb4_bin")
