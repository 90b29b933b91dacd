"""The tables of the SQL store, as SQLAlchemy Core objects, and the schema revisions.

This module describes the schema at the head revision; the migrations in
``mltrail/store/migrations/versions`` create it. Keys longer than an index allows on
MySQL are addressed through ``key_hash``, a fixed-width digest of the key, so every
dialect uses the same lookups and unique constraints.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import mysql

from mltrail._system_tags import PARENT_RUN_ID_TAG
from mltrail.store._limits import (
    KEY_HASH_LENGTH,
    KIND_FINITE,
    KIND_NAN,
    KIND_NEGATIVE_INFINITY,
    KIND_NEGATIVE_ZERO,
    KIND_POSITIVE_INFINITY,
    MAX_ALIAS_LENGTH,
    MAX_KEY_LENGTH,
    MAX_NAME_LENGTH,
    hash_key,
)
from mltrail.store._revisions import HEAD_REVISION, KNOWN_REVISIONS

__all__ = [
    "HEAD_REVISION",
    "KEY_HASH_LENGTH",
    "KIND_FINITE",
    "KIND_NAN",
    "KIND_NEGATIVE_INFINITY",
    "KIND_NEGATIVE_ZERO",
    "KIND_POSITIVE_INFINITY",
    "KNOWN_REVISIONS",
    "MAX_ALIAS_LENGTH",
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "hash_key",
    "metadata",
]

MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
# Key-value tables are looked up by primary key only: on SQLite, storing the rows in
# the primary key's B-tree (no rowid) halves their size and the cost of a lookup.
KEY_VALUE_OPTIONS: dict[str, Any] = {**MYSQL_TABLE_OPTIONS, "sqlite_with_rowid": False}


def _long_text() -> Text:
    return Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


metadata = MetaData()

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(MAX_NAME_LENGTH), nullable=False, unique=True),
    Column("artifact_location", Text, nullable=False),
    Column("lifecycle_stage", String(20), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id"),
        primary_key=True,
    ),
    Column("key_hash", String(KEY_HASH_LENGTH), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), nullable=False),
    Column("value", _long_text(), nullable=False),
    **KEY_VALUE_OPTIONS,
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id"),
        nullable=False,
    ),
    Column("run_name", String(MAX_NAME_LENGTH), nullable=False),
    Column("user_id", String(MAX_NAME_LENGTH), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("heartbeat_time", BigInteger, nullable=True),
    Column("deleted_time", BigInteger, nullable=True),
    Column("lifecycle_stage", String(20), nullable=False),
    Column("artifact_uri", Text, nullable=False),
    Index("ix_runs_experiment_id_start_time", "experiment_id", "start_time"),
    Index("ix_runs_status_heartbeat_time", "status", "heartbeat_time"),
    **KEY_VALUE_OPTIONS,
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), primary_key=True),
    Column("key_hash", String(KEY_HASH_LENGTH), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), nullable=False),
    Column("value", _long_text(), nullable=False),
    **KEY_VALUE_OPTIONS,
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), primary_key=True),
    Column("key_hash", String(KEY_HASH_LENGTH), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), nullable=False),
    Column("value", _long_text(), nullable=False),
    **MYSQL_TABLE_OPTIONS,
)
# Child runs are found by their parent-run tag's value (see migration 0003).
PARENT_RUN_ID_KEY_HASH = hash_key(PARENT_RUN_ID_TAG)
Index(
    "ix_tags_parent_run_id",
    tags.c.value,
    sqlite_where=tags.c.key_hash == sa.literal_column(f"'{PARENT_RUN_ID_KEY_HASH}'"),
    postgresql_where=tags.c.key_hash
    == sa.literal_column(f"'{PARENT_RUN_ID_KEY_HASH}'"),
    postgresql_using="hash",
    mysql_length={"value": 64},
)

metrics = Table(
    "metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), nullable=False),
    Column("key_hash", String(KEY_HASH_LENGTH), nullable=False),
    Column("value", Double(), nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Index("ix_metrics_run_id_key_hash_step", "run_id", "key_hash", "step"),
    **MYSQL_TABLE_OPTIONS,
)

latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), primary_key=True),
    Column("key_hash", String(KEY_HASH_LENGTH), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), nullable=False),
    Column("value", Double(), nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Index("ix_latest_metrics_key_hash_value", "key_hash", "value"),
    **KEY_VALUE_OPTIONS,
)

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_id", String(32), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id"),
        nullable=False,
    ),
    Column("name", String(MAX_NAME_LENGTH), nullable=False),
    Column("digest", String(100), nullable=False),
    Column("source_type", String(100), nullable=False),
    Column("source", _long_text(), nullable=False),
    Column("schema", _long_text(), nullable=True),
    Column("profile", _long_text(), nullable=True),
    Index(
        "ux_datasets_experiment_id_name_digest",
        "experiment_id",
        "name",
        "digest",
        unique=True,
    ),
    **MYSQL_TABLE_OPTIONS,
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("input_id", String(32), primary_key=True),
    Column("run_id", String(32), ForeignKey("runs.run_id"), nullable=False),
    Column("dataset_id", String(32), ForeignKey("datasets.dataset_id"), nullable=False),
    Index("ux_run_inputs_run_id_dataset_id", "run_id", "dataset_id", unique=True),
    **MYSQL_TABLE_OPTIONS,
)

input_tags = Table(
    "input_tags",
    metadata,
    Column("input_id", String(32), ForeignKey("run_inputs.input_id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", _long_text(), nullable=False),
    **KEY_VALUE_OPTIONS,
)

# The model registry (revision 0002). Models are addressed by a surrogate id, so a
# rename touches one row; versions are soft-deleted and their numbers never reused.

registered_models = Table(
    "registered_models",
    metadata,
    Column("registered_model_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(MAX_NAME_LENGTH), nullable=False, unique=True),
    Column("description", _long_text(), nullable=True),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column(
        "registered_model_id",
        Integer,
        ForeignKey("registered_models.registered_model_id"),
        primary_key=True,
    ),
    Column("key_hash", String(KEY_HASH_LENGTH), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), nullable=False),
    Column("value", _long_text(), nullable=False),
    **KEY_VALUE_OPTIONS,
)

model_versions = Table(
    "model_versions",
    metadata,
    Column(
        "registered_model_id",
        Integer,
        ForeignKey("registered_models.registered_model_id"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("description", _long_text(), nullable=True),
    Column("user_id", String(MAX_NAME_LENGTH), nullable=True),
    Column("current_stage", String(20), nullable=False),
    Column("source", Text, nullable=False),
    Column("storage_location", Text, nullable=True),
    Column("run_id", String(32), nullable=True),
    Column("run_link", Text, nullable=True),
    Column("status", String(20), nullable=False),
    Column("status_message", Text, nullable=True),
    Column("signature", _long_text(), nullable=True),
    Column("model_id", String(MAX_NAME_LENGTH), nullable=True),
    Index("ix_model_versions_run_id", "run_id"),
    **MYSQL_TABLE_OPTIONS,
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("registered_model_id", Integer, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("key_hash", String(KEY_HASH_LENGTH), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), nullable=False),
    Column("value", _long_text(), nullable=False),
    ForeignKeyConstraint(
        ["registered_model_id", "version"],
        ["model_versions.registered_model_id", "model_versions.version"],
    ),
    **KEY_VALUE_OPTIONS,
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column(
        "registered_model_id",
        Integer,
        ForeignKey("registered_models.registered_model_id"),
        primary_key=True,
    ),
    Column("alias", String(MAX_ALIAS_LENGTH), primary_key=True),
    Column("version", Integer, nullable=False),
    **KEY_VALUE_OPTIONS,
)

alias_history = Table(
    "alias_history",
    metadata,
    Column("change_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "registered_model_id",
        Integer,
        ForeignKey("registered_models.registered_model_id"),
        nullable=False,
    ),
    Column("alias", String(MAX_ALIAS_LENGTH), nullable=False),
    Column("version", Integer, nullable=True),
    Column("previous_version", Integer, nullable=True),
    Column("user_id", String(MAX_NAME_LENGTH), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_alias_history_registered_model_id_alias", "registered_model_id", "alias"),
    **MYSQL_TABLE_OPTIONS,
)

logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(36), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id"),
        nullable=False,
    ),
    Column("name", String(MAX_NAME_LENGTH), nullable=False),
    Column("artifact_location", Text, nullable=False),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("lifecycle_stage", String(20), nullable=False),
    Column("model_type", String(MAX_NAME_LENGTH), nullable=True),
    Column("source_run_id", String(32), nullable=True),
    Column("status_message", Text, nullable=True),
    Index(
        "ix_logged_models_experiment_id_creation", "experiment_id", "creation_timestamp"
    ),
    Index("ix_logged_models_source_run_id", "source_run_id"),
    **MYSQL_TABLE_OPTIONS,
)


def _model_key_value_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column(
            "model_id",
            String(36),
            ForeignKey("logged_models.model_id"),
            primary_key=True,
        ),
        Column("key_hash", String(KEY_HASH_LENGTH), primary_key=True),
        Column("key", String(MAX_KEY_LENGTH), nullable=False),
        Column("value", _long_text(), nullable=False),
        **KEY_VALUE_OPTIONS,
    )


logged_model_params = _model_key_value_table("logged_model_params")
logged_model_tags = _model_key_value_table("logged_model_tags")

logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("metric_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "model_id", String(36), ForeignKey("logged_models.model_id"), nullable=False
    ),
    Column("key_hash", String(KEY_HASH_LENGTH), nullable=False),
    Column("key", String(MAX_KEY_LENGTH), nullable=False),
    Column("value", Double(), nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("dataset_name", String(MAX_NAME_LENGTH), nullable=True),
    Column("dataset_digest", String(100), nullable=True),
    Index("ix_logged_model_metrics_model_id_key_hash", "model_id", "key_hash"),
    **MYSQL_TABLE_OPTIONS,
)

run_model_outputs = Table(
    "run_model_outputs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), primary_key=True),
    Column(
        "model_id", String(36), ForeignKey("logged_models.model_id"), primary_key=True
    ),
    Column("step", BigInteger, nullable=False),
    **KEY_VALUE_OPTIONS,
)

run_model_inputs = Table(
    "run_model_inputs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id"), primary_key=True),
    Column(
        "model_id", String(36), ForeignKey("logged_models.model_id"), primary_key=True
    ),
    **KEY_VALUE_OPTIONS,
)

# The server's users (revision 0005): passwords and tokens are stored hashed only.

users = Table(
    "users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(255), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("is_admin", Boolean, nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

user_tokens = Table(
    "user_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.user_id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

resource_permissions = Table(
    "resource_permissions",
    metadata,
    Column("resource_type", String(32), primary_key=True),
    Column("resource_id", String(MAX_NAME_LENGTH), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.user_id"), primary_key=True),
    Column("permission", String(20), nullable=False),
    Index("ix_resource_permissions_user_id", "user_id"),
    **MYSQL_TABLE_OPTIONS,
)

#: Tables in an order where each one comes after those it references.
TABLES_IN_DEPENDENCY_ORDER = (
    experiments,
    experiment_tags,
    runs,
    params,
    tags,
    metrics,
    latest_metrics,
    datasets,
    run_inputs,
    input_tags,
    registered_models,
    registered_model_tags,
    model_versions,
    model_version_tags,
    registered_model_aliases,
    alias_history,
    logged_models,
    logged_model_params,
    logged_model_tags,
    logged_model_metrics,
    run_model_outputs,
    run_model_inputs,
    users,
    user_tokens,
    resource_permissions,
)
