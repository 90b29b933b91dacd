"""Create the tables of the server's users, their API tokens and permissions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

A frozen snapshot: later changes get their own revision.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def _user_id() -> sa.Column[int]:
    return sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.user_id"), nullable=False
    )


def upgrade() -> None:
    """Create users, user_tokens and resource_permissions."""
    op.create_table(
        "users",
        sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(255), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        **MYSQL,
    )
    op.create_table(
        "user_tokens",
        sa.Column("token_id", sa.String(32), primary_key=True),
        _user_id(),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        **MYSQL,
    )
    op.create_table(
        "resource_permissions",
        sa.Column("resource_type", sa.String(32), primary_key=True),
        sa.Column("resource_id", sa.String(500), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.user_id"),
            primary_key=True,
        ),
        sa.Column("permission", sa.String(20), nullable=False),
        **MYSQL,
    )
    op.create_index(
        "ix_resource_permissions_user_id", "resource_permissions", ["user_id"]
    )


def downgrade() -> None:
    """Drop the tables of this revision."""
    for name in ("resource_permissions", "user_tokens", "users"):
        op.drop_table(name)
