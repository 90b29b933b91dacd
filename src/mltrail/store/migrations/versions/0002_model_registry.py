"""Create the model registry: models, versions, their tags, aliases and alias history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

A frozen snapshot of the registry tables at revision 0002; later changes get their
own revision.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
KEY_VALUE: dict[str, Any] = {**MYSQL, "sqlite_with_rowid": False}
MODEL_ID = "registered_models.registered_model_id"


def _long_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def _tag_columns() -> list[sa.Column[str]]:
    return [
        sa.Column("key_hash", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(1000), nullable=False),
        sa.Column("value", _long_text(), nullable=False),
    ]


def upgrade() -> None:
    """Create the six registry tables."""
    op.create_table(
        "registered_models",
        sa.Column(
            "registered_model_id", sa.Integer, primary_key=True, autoincrement=True
        ),
        sa.Column("name", sa.String(500), nullable=False, unique=True),
        sa.Column("description", _long_text(), nullable=True),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
        **MYSQL,
    )
    op.create_table(
        "registered_model_tags",
        sa.Column(
            "registered_model_id",
            sa.Integer,
            sa.ForeignKey(MODEL_ID),
            primary_key=True,
        ),
        *_tag_columns(),
        **KEY_VALUE,
    )
    op.create_table(
        "model_versions",
        sa.Column(
            "registered_model_id",
            sa.Integer,
            sa.ForeignKey(MODEL_ID),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
        sa.Column("description", _long_text(), nullable=True),
        sa.Column("user_id", sa.String(500), nullable=True),
        sa.Column("current_stage", sa.String(20), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("storage_location", sa.Text, nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("run_link", sa.Text, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_message", sa.Text, nullable=True),
        sa.Column("signature", _long_text(), nullable=True),
        sa.Column("model_id", sa.String(500), nullable=True),
        **MYSQL,
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "model_version_tags",
        sa.Column("registered_model_id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        *_tag_columns(),
        sa.ForeignKeyConstraint(
            ["registered_model_id", "version"],
            ["model_versions.registered_model_id", "model_versions.version"],
        ),
        **KEY_VALUE,
    )
    op.create_table(
        "registered_model_aliases",
        sa.Column(
            "registered_model_id",
            sa.Integer,
            sa.ForeignKey(MODEL_ID),
            primary_key=True,
        ),
        sa.Column("alias", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        **KEY_VALUE,
    )
    op.create_table(
        "alias_history",
        sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "registered_model_id",
            sa.Integer,
            sa.ForeignKey(MODEL_ID),
            nullable=False,
        ),
        sa.Column("alias", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("previous_version", sa.Integer, nullable=True),
        sa.Column("user_id", sa.String(500), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        **MYSQL,
    )
    op.create_index(
        "ix_alias_history_registered_model_id_alias",
        "alias_history",
        ["registered_model_id", "alias"],
    )


def downgrade() -> None:
    """Drop the registry tables."""
    for name in (
        "alias_history",
        "registered_model_aliases",
        "model_version_tags",
        "model_versions",
        "registered_model_tags",
        "registered_models",
    ):
        op.drop_table(name)
