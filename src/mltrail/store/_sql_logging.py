"""Logging to runs in ``SqlStore``: metrics, params and tags, and metric history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail._entities import (
    Metric,
    Param,
    RunTag,
)
from mltrail._errors import (
    ConflictError,
    InvalidValueError,
    NotFoundError,
)
from mltrail._system_tags import RUN_NAME_TAG
from mltrail.store import _schema as schema
from mltrail.store._schema import (
    MAX_NAME_LENGTH,
    hash_key,
)
from mltrail.store._sql_statements import (
    SqlStatements,
)
from mltrail.store._values import (
    MetricRow,
    check_items,
    check_key,
    check_run_id,
    check_str,
    decode_metric_value,
    short,
    to_latest_rows,
    to_metric_rows,
    to_param_rows,
    to_tag_rows,
)


class LoggingMixin(SqlStatements):
    """The logging methods of ``SqlStore``."""

    def _upsert_tags(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        self._execute(conn, self._insert_tags, rows)
        self._execute(
            conn,
            self._update_tags,
            [
                {
                    "b_run_id": row["run_id"],
                    "b_key_hash": row["key_hash"],
                    "b_value": row["value"],
                }
                for row in rows
            ],
        )

    def _write_metrics(
        self, conn: Connection, rows: list[MetricRow], keys: dict[str, str]
    ) -> None:
        self._execute(conn, self._insert_metrics, rows)
        latest = to_latest_rows(rows, keys)
        inserted, _ = self._execute(
            conn,
            self._insert_latest,
            [{name[2:]: value for name, value in row.items()} for row in latest],
        )
        if inserted != len(latest):
            # Some keys had a latest point already: keep the greater one.
            self._execute(conn, self._update_latest, latest)

    def _write_params(
        self, conn: Connection, run_id: str, rows: dict[str, dict[str, Any]]
    ) -> None:
        count, _ = self._execute(conn, self._insert_params, list(rows.values()))
        if count == len(rows):
            return
        # Some keys exist already: logging the same value again is fine.
        stored = conn.execute(
            self._select_params, {"run_id": run_id, "key_hashes": list(rows)}
        ).all()
        for old in stored:
            new = rows[old.key_hash]
            if new["value"] != old.value:
                raise ConflictError(
                    f"param {old.key!r} of run {run_id!r} is {short(old.value)!r}; "
                    f"cannot change it to {short(new['value'])!r}. Params are "
                    "immutable: log the new value under another key, or start a "
                    "new run."
                )

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log metrics, params and tags to a run, all of them or none.

        Every item is validated before anything is written. Logging a param again
        with the same value is fine; tags are overwritten.

        Parameters
        ----------
        run_id : str
            The run's id.
        metrics : sequence of Metric, default=()
            Metric points; NaN and infinities are kept exactly.
        params : sequence of Param, default=()
            Params; values are str up to 1 MiB.
        tags : sequence of RunTag, default=()
            Tags to set.

        Raises
        ------
        NotFoundError
            If the run does not exist.
        InvalidValueError
            If an item is invalid or the run is deleted; nothing is written.
        ConflictError
            If a param is already logged with another value; nothing is written.

        Examples
        --------
        >>> from mltrail import Metric, Param
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.log_batch(run_id, metrics=[Metric("acc", 0.9, 0, 1)],
        ...                 params=[Param("C", "1.0")])
        >>> store.get_run(run_id).data.metrics
        {'acc': 0.9}
        >>> store.close()
        """
        check_run_id(run_id)
        metric_keys: dict[str, str] = {}
        metric_rows = to_metric_rows(run_id, metrics, metric_keys)
        param_rows = to_param_rows(run_id, params)
        tag_rows = to_tag_rows(tags)
        for row in tag_rows:
            row["run_id"] = run_id
        # The run's name follows its mlflow.runName tag, as in MLflow.
        new_name = next(
            (r["value"] for r in tag_rows if r["key"] == RUN_NAME_TAG and r["value"]),
            None,
        )
        if new_name is not None:
            check_str("run_name", new_name, MAX_NAME_LENGTH, "Use a short name.")
        if not (metric_rows or param_rows or tag_rows):
            self._read(lambda conn: self._check_run_active(conn, run_id))
            return

        def work(conn: Connection) -> None:
            self._check_run_active(conn, run_id)
            if param_rows:
                self._write_params(conn, run_id, dict(param_rows))
            if metric_rows:
                self._write_metrics(conn, metric_rows, metric_keys)
            if tag_rows:
                self._upsert_tags(conn, tag_rows)
            if new_name is not None:
                runs = schema.runs
                conn.execute(
                    runs.update()
                    .where(runs.c.run_id == run_id)
                    .values(run_name=new_name)
                )

        self._write(work)

    def log_metric_batches(
        self, batches: Sequence[tuple[str, Sequence[Metric]]]
    ) -> None:
        """Log metric points of several runs in one transaction.

        Parameters
        ----------
        batches : sequence of (str, sequence of Metric)
            Pairs of a run id and its points.

        Raises
        ------
        NotFoundError
            If a run does not exist; nothing is written.
        InvalidValueError
            If a point is invalid or a run is deleted; nothing is written.

        Examples
        --------
        >>> from mltrail import Metric
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.log_metric_batches([(run_id, [Metric("loss", 0.5, 0, 0)])])
        >>> [m.value for m in store.get_metric_history(run_id, "loss")]
        [0.5]
        >>> store.close()
        """
        batch = _to_batch(batches)
        if batch.rows:
            self._write(lambda conn: self._write_batch(conn, batch))

    def _write_batch(self, conn: Connection, batch: _MetricBatch) -> None:
        for run_id in batch.run_ids:
            self._check_run_active(conn, run_id)
        self._write_metrics(conn, batch.rows, batch.keys)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from a run.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The tag's key.

        Raises
        ------
        NotFoundError
            If the run does not exist or has no such tag.
        InvalidValueError
            If the run is deleted.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.delete_tag(run_id, "mlflow.runName")
        >>> store.get_run(run_id).data.tags
        {}
        >>> store.close()
        """
        check_run_id(run_id)
        key_hash = hash_key(check_key("tag key", key))
        tags = schema.tags

        def work(conn: Connection) -> None:
            self._check_run_active(conn, run_id)
            result = conn.execute(
                tags.delete().where(
                    tags.c.run_id == run_id, tags.c.key_hash == key_hash
                )
            )
            if result.rowcount == 0:
                raise NotFoundError(
                    "tag", key, f"Run {run_id!r} has no such tag; see get_run()."
                )

        self._write(work)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, ordered by step, then timestamp.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The metric's key.

        Returns
        -------
        list of Metric
            The points; empty if the run never logged this metric.

        Raises
        ------
        NotFoundError
            If the run does not exist.

        Examples
        --------
        >>> from mltrail import Metric
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.log_batch(run_id, metrics=[Metric("loss", 0.2, 0, 2),
        ...                                  Metric("loss", 0.4, 0, 1)])
        >>> [m.step for m in store.get_metric_history(run_id, "loss")]
        [1, 2]
        >>> store.close()
        """
        check_run_id(run_id)
        key_hash = hash_key(check_key("metric key", key))
        metrics = schema.metrics
        query = (
            sa.select(
                metrics.c.value,
                metrics.c.kind,
                metrics.c.timestamp,
                metrics.c.step,
            )
            .where(metrics.c.run_id == run_id, metrics.c.key_hash == key_hash)
            .order_by(metrics.c.step, metrics.c.timestamp)
        )

        def work(conn: Connection) -> list[Metric]:
            rows = conn.execute(query).all()
            if not rows:
                _, exists = self._execute(
                    conn, self._select_run_state, {"run_id": run_id}, fetch=True
                )
                if not exists:
                    raise NotFoundError(
                        "run", run_id, "Check the id, or list runs with search_runs()."
                    )
            return [
                Metric(
                    key,
                    decode_metric_value(row.value, row.kind),
                    row.timestamp,
                    row.step,
                )
                for row in rows
            ]

        return self._read(work)


class _MetricBatch(NamedTuple):
    """Validated points of several runs: sorted run ids, rows and keys by hash."""

    run_ids: list[str]
    rows: list[MetricRow]
    keys: dict[str, str]


def _to_batch(batches: Sequence[tuple[str, Sequence[Metric]]]) -> _MetricBatch:
    """Validate batches of points (pairs of a run id and its points)."""
    rows: list[MetricRow] = []
    keys: dict[str, str] = {}
    run_ids: set[str] = set()
    for pair in check_items("metric batches", batches, "(run_id, metrics) pairs"):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise InvalidValueError(
                "metric batch",
                pair,
                "a (run_id, metrics) pair",
                "Pass [(run.info.run_id, [Metric(...)])].",
            )
        run_id, points = pair
        run_ids.add(check_run_id(run_id))
        rows.extend(to_metric_rows(run_id, points, keys))
    # Sorted ids make concurrent writers lock rows in one order (no deadlocks).
    return _MetricBatch(sorted(run_ids), rows, keys)
