"""Create the tables of logged models (MLflow 3) and of runs' model inputs and outputs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

A frozen snapshot: later changes get their own revision.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
KEY_VALUE: dict[str, Any] = {**MYSQL, "sqlite_with_rowid": False}


def _long_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def _model_id(primary_key: bool = True) -> sa.Column[str]:
    return sa.Column(
        "model_id",
        sa.String(36),
        sa.ForeignKey("logged_models.model_id"),
        primary_key=primary_key,
        nullable=False,
    )


def upgrade() -> None:
    """Create logged_models, its params, tags and metrics, and run links."""
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(36), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id"),
            nullable=False,
        ),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.Text, nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False),
        sa.Column("model_type", sa.String(500), nullable=True),
        sa.Column("source_run_id", sa.String(32), nullable=True),
        sa.Column("status_message", sa.Text, nullable=True),
        **MYSQL,
    )
    op.create_index(
        "ix_logged_models_experiment_id_creation",
        "logged_models",
        ["experiment_id", "creation_timestamp"],
    )
    op.create_index(
        "ix_logged_models_source_run_id", "logged_models", ["source_run_id"]
    )
    for name in ("logged_model_params", "logged_model_tags"):
        op.create_table(
            name,
            _model_id(),
            sa.Column("key_hash", sa.String(32), primary_key=True),
            sa.Column("key", sa.String(1000), nullable=False),
            sa.Column("value", _long_text(), nullable=False),
            **KEY_VALUE,
        )
    op.create_table(
        "logged_model_metrics",
        sa.Column("metric_id", sa.Integer, primary_key=True, autoincrement=True),
        _model_id(primary_key=False),
        sa.Column("key_hash", sa.String(32), nullable=False),
        sa.Column("key", sa.String(1000), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("dataset_name", sa.String(500), nullable=True),
        sa.Column("dataset_digest", sa.String(100), nullable=True),
        **MYSQL,
    )
    op.create_index(
        "ix_logged_model_metrics_model_id_key_hash",
        "logged_model_metrics",
        ["model_id", "key_hash"],
    )
    for name, extra in (
        ("run_model_outputs", [sa.Column("step", sa.BigInteger, nullable=False)]),
        ("run_model_inputs", []),
    ):
        op.create_table(
            name,
            sa.Column(
                "run_id", sa.String(32), sa.ForeignKey("runs.run_id"), primary_key=True
            ),
            _model_id(),
            *extra,
            **KEY_VALUE,
        )


def downgrade() -> None:
    """Drop the tables of this revision."""
    for name in (
        "run_model_inputs",
        "run_model_outputs",
        "logged_model_metrics",
        "logged_model_tags",
        "logged_model_params",
        "logged_models",
    ):
        op.drop_table(name)
