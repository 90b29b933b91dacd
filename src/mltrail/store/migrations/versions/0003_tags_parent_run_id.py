"""Index the parent-run tag by value, to find the child runs of a page of runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

The runs table of the UI shows child runs nested under their parent; counting the
children of 100 parents out of 100,000 runs must not scan every tag. SQLite and
PostgreSQL index only the rows of the ``mlflow.parentRunId`` tag (a partial index;
PostgreSQL's is a hash index, so a long value can never exceed a B-tree row);
MySQL and MariaDB have no partial indexes and index a prefix of every tag value.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEX_NAME = "ix_tags_parent_run_id"
# hash_key("mlflow.parentRunId"), frozen here as the migration must never change.
PARENT_KEY_HASH = "891aa203bb2dda1dac2f9458215d978d"
MYSQL_PREFIX_LENGTH = 64


def upgrade() -> None:
    """Create the index of parent-run tags."""
    where = sa.text(f"key_hash = '{PARENT_KEY_HASH}'")
    op.create_index(
        INDEX_NAME,
        "tags",
        ["value"],
        sqlite_where=where,
        postgresql_where=where,
        postgresql_using="hash",
        mysql_length={"value": MYSQL_PREFIX_LENGTH},
    )


def downgrade() -> None:
    """Drop the index of parent-run tags."""
    op.drop_index(INDEX_NAME, table_name="tags")
