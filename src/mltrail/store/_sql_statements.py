"""The statements ``SqlStore`` compiles once, and the reads of runs built on them."""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import bindparam
from sqlalchemy.engine import Connection, Row

from mltrail._entities import (
    LifecycleStage,
    RunInfo,
)
from mltrail._errors import (
    InvalidValueError,
    NotFoundError,
    StoreError,
)
from mltrail.store import _schema as schema
from mltrail.store._sql_transactions import SqlBase, _Raw

IN_CHUNK_SIZE = 5_000
EXPANDING_IDS = "__[POSTCOMPILE_ids]"
RUN_COLUMNS = tuple(schema.runs.c)


def _now() -> int:
    return int(time.time() * 1000)


class _RunRow(NamedTuple):
    """A row of ``runs`` as the DBAPI cursor returns it (columns in table order)."""

    run_id: str
    experiment_id: int
    run_name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    heartbeat_time: int | None
    deleted_time: int | None
    lifecycle_stage: str
    artifact_uri: str


def _run_info(row: Row[Any] | _RunRow) -> RunInfo:
    return RunInfo(
        run_id=row.run_id,
        run_name=row.run_name,
        experiment_id=str(row.experiment_id),
        user_id=row.user_id,
        status=row.status,
        start_time=row.start_time,
        end_time=row.end_time,
        artifact_uri=row.artifact_uri,
        lifecycle_stage=row.lifecycle_stage,
    )


class SqlStatements(SqlBase):
    """Pre-compiled statements of the hot paths, and the helpers that run them."""

    def _build_statements(self) -> None:
        """Build the statements of the hot paths once, so calls only bind values."""
        runs = schema.runs
        latest = schema.latest_metrics
        if self._dialect == "sqlite":
            from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

            # sqlite3 accepts dicts with :name parameters, like the other drivers.
            dialect: sa.Dialect = SQLiteDialect_pysqlite(paramstyle="named")
            positional: sa.Dialect = SQLiteDialect_pysqlite(paramstyle="qmark")
        else:
            dialect = self._engine.dialect
            # Every SQLAlchemy dialect is a DefaultDialect, which takes paramstyle.
            positional = type(dialect)(paramstyle="format")  # type: ignore[call-arg]

        def raw(statement: sa.ClauseElement) -> _Raw:
            return _Raw(str(statement.compile(dialect=dialect)))

        self._select_run_state = raw(
            sa.select(runs.c.lifecycle_stage).where(
                runs.c.run_id == bindparam("run_id")
            )
        )
        self._insert_run = raw(runs.insert())
        self._end_run = raw(
            runs.update()
            .where(runs.c.run_id == bindparam("b_run_id"))
            .values(
                status=bindparam("b_status"),
                end_time=bindparam("b_end_time"),
                heartbeat_time=sa.null(),
            )
        )
        # The largest write (up to thousands of rows) binds tuples, not dicts.
        self._insert_metrics = _Raw(
            str(schema.metrics.insert().compile(dialect=positional))
        )
        self._insert_params = raw(self._insert_ignore(schema.params))
        self._select_params = sa.select(
            schema.params.c.key_hash, schema.params.c.key, schema.params.c.value
        ).where(
            schema.params.c.run_id == bindparam("run_id"),
            schema.params.c.key_hash.in_(bindparam("key_hashes", expanding=True)),
        )
        self._insert_latest = raw(self._insert_ignore(latest))
        self._update_latest = raw(
            latest.update()
            .where(
                latest.c.run_id == bindparam("b_run_id"),
                latest.c.key_hash == bindparam("b_key_hash"),
                sa.or_(
                    latest.c.step < bindparam("b_step"),
                    sa.and_(
                        latest.c.step == bindparam("b_step"),
                        sa.or_(
                            latest.c.timestamp < bindparam("b_timestamp"),
                            sa.and_(
                                latest.c.timestamp == bindparam("b_timestamp"),
                                latest.c.value <= bindparam("b_value"),
                            ),
                        ),
                    ),
                ),
            )
            .values(
                value=bindparam("b_value"),
                kind=bindparam("b_kind"),
                timestamp=bindparam("b_timestamp"),
                step=bindparam("b_step"),
            )
        )
        self._insert_tags = raw(self._insert_ignore(schema.tags))
        self._update_tags = raw(
            schema.tags.update()
            .where(
                schema.tags.c.run_id == bindparam("b_run_id"),
                schema.tags.c.key_hash == bindparam("b_key_hash"),
            )
            .values(value=bindparam("b_value"))
        )
        self._insert_experiment_tags = self._insert_ignore(schema.experiment_tags)
        self._update_experiment_tags = (
            schema.experiment_tags.update()
            .where(
                schema.experiment_tags.c.experiment_id == bindparam("b_experiment_id"),
                schema.experiment_tags.c.key_hash == bindparam("b_key_hash"),
            )
            .values(value=bindparam("b_value"))
        )
        self._select_experiment_for_run = raw(
            sa.select(
                schema.experiments.c.artifact_location,
                schema.experiments.c.lifecycle_stage,
            ).where(schema.experiments.c.experiment_id == bindparam("experiment_id"))
        )
        self._select_run = raw(
            sa.select(*RUN_COLUMNS).where(runs.c.run_id == bindparam("run_id"))
        )
        # Bulk loads of a page of runs; EXPANDING_IDS is replaced per call.
        # Positional marks: binding a tuple of ids is cheaper than a dict of names.
        self._placeholder = "?" if self._dialect == "sqlite" else "%s"
        ids: sa.BindParameter[str] = bindparam("ids", expanding=True)
        params = schema.params
        self._params_in = raw(
            sa.select(params.c.run_id, params.c.key, params.c.value).where(
                params.c.run_id.in_(ids)
            )
        )
        tags = schema.tags
        self._tags_in = raw(
            sa.select(tags.c.run_id, tags.c.key, tags.c.value).where(
                tags.c.run_id.in_(ids)
            )
        )
        if EXPANDING_IDS not in self._tags_in.sql:  # pragma: no cover - SQLAlchemy
            raise StoreError(
                "this SQLAlchemy version renders IN lists in an unknown way; "
                "install SQLAlchemy 2.x as pinned by mltrail."
            )
        self._runs_in = raw(sa.select(*RUN_COLUMNS).where(runs.c.run_id.in_(ids)))
        self._latest_in = raw(
            sa.select(
                latest.c.run_id, latest.c.key, latest.c.value, latest.c.kind
            ).where(latest.c.run_id.in_(ids))
        )
        ri = schema.run_inputs
        ds = schema.datasets
        self._inputs_in = raw(
            sa.select(
                ri.c.input_id,
                ri.c.run_id,
                ds.c.name,
                ds.c.digest,
                ds.c.source_type,
                ds.c.source,
                ds.c.schema,
                ds.c.profile,
            )
            .join(ds, ds.c.dataset_id == ri.c.dataset_id)
            .where(ri.c.run_id.in_(ids))
            .order_by(ds.c.name, ds.c.digest)
        )
        it = schema.input_tags
        self._input_tags_in = raw(
            sa.select(it.c.input_id, it.c.key, it.c.value)
            .where(it.c.input_id.in_(ids))
            .order_by(it.c.key)
        )

    def _fetch_run(self, conn: Connection, run_id: str) -> _RunRow | None:
        _, rows = self._execute(conn, self._select_run, {"run_id": run_id}, fetch=True)
        return _RunRow(*rows[0]) if rows else None

    def _check_run_active(self, conn: Connection, run_id: str) -> None:
        _, found = self._execute(
            conn, self._select_run_state, {"run_id": run_id}, fetch=True
        )
        stage = found[0][0] if found else None
        if stage is None:
            raise NotFoundError(
                "run", run_id, "Create it with create_run(), or check the id."
            )
        if stage != LifecycleStage.ACTIVE.value:
            raise InvalidValueError(
                "run",
                run_id,
                "an active run",
                "It is deleted; restore it with restore_run() before logging to it.",
            )

    def _fetch_in(
        self, conn: Connection, statement: _Raw, ids: list[str]
    ) -> list[tuple[Any, ...]]:
        """Run a ``... IN (:ids)`` statement on the DBAPI cursor, in chunks."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), IN_CHUNK_SIZE):
            chunk = tuple(ids[start : start + IN_CHUNK_SIZE])
            marks = ", ".join([self._placeholder] * len(chunk))
            sql = statement.sql.replace(EXPANDING_IDS, marks)
            rows.extend(self._execute(conn, _Raw(sql), chunk, fetch=True)[1])
        return rows
