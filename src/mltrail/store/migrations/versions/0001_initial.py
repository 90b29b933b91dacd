"""Create the tracking tables and the Default experiment.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

This is a frozen snapshot of the schema at revision 0001; later changes get their own
revision instead of editing this one.
"""

from __future__ import annotations

import os
import time
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
KEY_VALUE: dict[str, Any] = {**MYSQL, "sqlite_with_rowid": False}


def _long_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def _key_columns() -> list[sa.Column[str]]:
    return [
        sa.Column("key_hash", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(1000), nullable=False),
    ]


def _metric_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    """Create every table, then insert the Default experiment with id 0."""
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False, unique=True),
        sa.Column("artifact_location", sa.Text, nullable=False),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        **MYSQL,
    )
    op.create_table(
        "experiment_tags",
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id"),
            primary_key=True,
        ),
        *_key_columns(),
        sa.Column("value", _long_text(), nullable=False),
        **KEY_VALUE,
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id"),
            nullable=False,
        ),
        sa.Column("run_name", sa.String(500), nullable=False),
        sa.Column("user_id", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("heartbeat_time", sa.BigInteger, nullable=True),
        sa.Column("deleted_time", sa.BigInteger, nullable=True),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False),
        sa.Column("artifact_uri", sa.Text, nullable=False),
        **MYSQL,
    )
    op.create_index(
        "ix_runs_experiment_id_start_time", "runs", ["experiment_id", "start_time"]
    )
    op.create_index(
        "ix_runs_status_heartbeat_time", "runs", ["status", "heartbeat_time"]
    )
    for name in ("params", "tags"):
        op.create_table(
            name,
            sa.Column(
                "run_id", sa.String(32), sa.ForeignKey("runs.run_id"), primary_key=True
            ),
            *_key_columns(),
            sa.Column("value", _long_text(), nullable=False),
            **KEY_VALUE,
        )
    op.create_table(
        "metrics",
        sa.Column(
            "run_id", sa.String(32), sa.ForeignKey("runs.run_id"), nullable=False
        ),
        sa.Column("key_hash", sa.String(32), nullable=False),
        *_metric_columns(),
        **MYSQL,
    )
    op.create_index(
        "ix_metrics_run_id_key_hash_step", "metrics", ["run_id", "key_hash", "step"]
    )
    op.create_table(
        "latest_metrics",
        sa.Column(
            "run_id", sa.String(32), sa.ForeignKey("runs.run_id"), primary_key=True
        ),
        *_key_columns(),
        *_metric_columns(),
        **KEY_VALUE,
    )
    op.create_index(
        "ix_latest_metrics_key_hash_value", "latest_metrics", ["key_hash", "value"]
    )
    op.create_table(
        "datasets",
        sa.Column("dataset_id", sa.String(32), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id"),
            nullable=False,
        ),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(100), nullable=False),
        sa.Column("source_type", sa.String(100), nullable=False),
        sa.Column("source", _long_text(), nullable=False),
        sa.Column("schema", _long_text(), nullable=True),
        sa.Column("profile", _long_text(), nullable=True),
        **MYSQL,
    )
    op.create_index(
        "ux_datasets_experiment_id_name_digest",
        "datasets",
        ["experiment_id", "name", "digest"],
        unique=True,
    )
    op.create_table(
        "run_inputs",
        sa.Column("input_id", sa.String(32), primary_key=True),
        sa.Column(
            "run_id", sa.String(32), sa.ForeignKey("runs.run_id"), nullable=False
        ),
        sa.Column(
            "dataset_id",
            sa.String(32),
            sa.ForeignKey("datasets.dataset_id"),
            nullable=False,
        ),
        **MYSQL,
    )
    op.create_index(
        "ux_run_inputs_run_id_dataset_id",
        "run_inputs",
        ["run_id", "dataset_id"],
        unique=True,
    )
    op.create_table(
        "input_tags",
        sa.Column(
            "input_id",
            sa.String(32),
            sa.ForeignKey("run_inputs.input_id"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", _long_text(), nullable=False),
        **KEY_VALUE,
    )
    _insert_default_experiment()


def _insert_default_experiment() -> None:
    bind = op.get_bind()
    root = op.get_context().config.attributes.get("artifact_root")  # type: ignore[union-attr]  # always run through a Config
    if root is None:
        root = os.path.abspath("mltrail-artifacts")
    if bind.dialect.name == "mysql":
        # MySQL treats an explicit 0 in an AUTO_INCREMENT column as "next id".
        op.execute(
            "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"
        )
    now = int(time.time() * 1000)
    table = sa.table(
        "experiments",
        sa.column("experiment_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("artifact_location", sa.Text),
        sa.column("lifecycle_stage", sa.String),
        sa.column("creation_time", sa.BigInteger),
        sa.column("last_update_time", sa.BigInteger),
    )
    present = bind.execute(
        sa.select(table.c.experiment_id).where(table.c.experiment_id == 0)
    ).first()
    if present is not None:  # an interrupted first migration got this far
        return
    op.bulk_insert(
        table,
        [
            {
                "experiment_id": 0,
                "name": "Default",
                "artifact_location": root.rstrip("/") + "/0",
                "lifecycle_stage": "active",
                "creation_time": now,
                "last_update_time": now,
            }
        ],
    )


def downgrade() -> None:
    """Drop every table."""
    for name in (
        "input_tags",
        "run_inputs",
        "datasets",
        "latest_metrics",
        "metrics",
        "tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(name)
