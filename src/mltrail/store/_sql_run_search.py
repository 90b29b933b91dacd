"""Reading runs in ``SqlStore``: search them and load pages of them in bulk.

A read first marks KILLED the RUNNING runs whose heartbeat stopped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from mltrail._entities import (
    DatasetInput,
    PagedList,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    ViewType,
)
from mltrail.store import _pages as pages
from mltrail.store import _schema as schema
from mltrail.store import _search as search
from mltrail.store._schema import (
    KIND_FINITE,
)
from mltrail.store._sql_inputs import InputsMixin
from mltrail.store._sql_statements import (
    _now,
    _run_info,
    _RunRow,
)
from mltrail.store._values import (
    check_experiment_id,
    check_items,
    check_max_results,
    check_view_type,
    decode_metric_value,
)


class RunSearchMixin(InputsMixin):
    """The run search and page loading of ``SqlStore``."""

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str = "",
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Return the runs of some experiments that match a filter, ordered and paged.

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments to search.
        filter_string : str, default=""
            MLflow's filter grammar (``metrics.acc > 0.9 and params.C = '1.0'``),
            plus OR, NOT and parentheses.
        view_type : ViewType, default=ViewType.ACTIVE_ONLY
            Which lifecycle stages to include.
        max_results : int, default=1000
            Page size, from 1 to 50,000.
        order_by : sequence of str, default=()
            Such as ``["metrics.acc DESC"]``; missing values sort last, and ties are
            broken by start time (newest first), then run id.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        PagedList of Run
            One page; its ``token`` fetches the next page, or is None.

        Raises
        ------
        FilterSyntaxError
            If the filter or an order_by clause does not parse.
        InvalidValueError
            If ``max_results``, ``page_token`` or an experiment id is invalid.

        Examples
        --------
        >>> from mltrail import Metric
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="best")
        >>> run_id = run.info.run_id
        >>> store.log_batch(run_id, metrics=[Metric("f1", 0.9, 0, 0)])
        >>> page = store.search_runs(["0"], filter_string="metrics.f1 > 0.5")
        >>> [r.info.run_name for r in page]
        ['best']
        >>> store.close()
        """
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        ids = check_items("experiment_ids", experiment_ids, "experiment ids")
        numbers_ = [check_experiment_id(i) for i in ids]
        stages = check_view_type(view_type)
        limit = check_max_results(max_results)
        where = search.compile_run_filter(filter_string)
        terms, joins = search.compile_run_order(order_by)
        fingerprint = pages.query_fingerprint(
            "runs", sorted(set(numbers_)), stages, filter_string, order_by
        )
        page = pages.decode_page_token(page_token, fingerprint, sort_terms=len(terms))
        runs = schema.runs
        source: sa.FromClause = runs
        for alias, condition in joins:
            source = source.outerjoin(alias, condition)
        start = pages.start_condition(terms, page)
        # The sort carries only the run id and the sort keys (a sort of whole rows
        # costs twice as much on SQLite); the page's rows are read by id after it.
        query = (
            sa.select(
                runs.c.run_id,
                *pages.sort_columns(terms),
            )
            .select_from(source)
            .where(
                runs.c.experiment_id.in_(numbers_),
                runs.c.lifecycle_stage.in_(stages),
                where,
                start,
            )
            .order_by(*pages.order_clauses(terms))
            .limit(limit + 1)
        )
        if page.after is None and page.offset:
            query = query.offset(page.offset)
        self._expire_heartbeats()
        if not numbers_:
            return PagedList([], None)

        def work(conn: Connection) -> tuple[list[Run], str | None]:
            rows = conn.execute(query).all()
            token = pages.next_token(rows, limit, page, terms, fingerprint)
            ids = [row[0] for row in rows[:limit]]
            # Named tuples read their fields ~5x faster than SQLAlchemy rows do.
            by_id = {
                row[0]: _RunRow._make(row)
                for row in self._fetch_in(conn, self._runs_in, ids)
            }
            # A run purged in between (another transaction on a server database)
            # is left out.
            found = [by_id[i] for i in ids if i in by_id]
            return self._runs_from_rows(conn, found), token

        return PagedList(*self._read(work))

    def _runs_from_rows(
        self, conn: Connection, rows: Sequence[Row[Any] | _RunRow]
    ) -> list[Run]:
        """Build runs from rows of ``runs``, loading their data in bulk."""
        if not rows:
            return []
        ids = [row.run_id for row in rows]
        params: dict[str, dict[str, str]] = {i: {} for i in ids}
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        metrics: dict[str, dict[str, float]] = {i: {} for i in ids}
        inputs: dict[str, list[DatasetInput]] = {i: [] for i in ids}
        for run_id, key, value in self._fetch_in(conn, self._params_in, ids):
            params[run_id][key] = value
        for run_id, key, value in self._fetch_in(conn, self._tags_in, ids):
            tags[run_id][key] = value
        for run_id, key, value, kind in self._fetch_in(conn, self._latest_in, ids):
            metrics[run_id][key] = (
                value if kind == KIND_FINITE else decode_metric_value(value, kind)
            )
        self._load_inputs(conn, ids, inputs)
        return [
            Run(
                self._current_info(row),
                RunData(metrics[row.run_id], params[row.run_id], tags[row.run_id]),
                RunInputs(inputs[row.run_id]),
            )
            for row in rows
        ]

    def _current_info(self, row: Row[Any] | _RunRow) -> RunInfo:
        """Return the run's info; an expired run shows KILLED, written yet or not.

        The expiry is written when the store can (``_expire_heartbeats``); a
        read-only store, or one whose write lock another process holds, shows the
        same without writing it.
        """
        info = _run_info(row)
        if self._is_stale(row):
            return dataclasses.replace(
                info, status=RunStatus.KILLED.value, end_time=row.heartbeat_time
            )
        return info

    def _is_stale(self, row: Row[Any] | _RunRow) -> bool:
        if row.status != RunStatus.RUNNING.value or row.heartbeat_time is None:
            return False
        return bool(row.heartbeat_time < _now() - int(self.heartbeat_timeout * 1000))

    def _expire_heartbeats(self) -> None:
        """Mark RUNNING runs whose heartbeat is stale as KILLED (one cheap SELECT).

        Skipped when another writer holds the lock (``_try_write``): reads show
        those runs KILLED anyway (``_current_info``), and the next read writes it.
        """
        if self.read_only is not None:
            return  # nothing can be written; _current_info shows them KILLED
        runs = schema.runs
        cutoff = _now() - int(self.heartbeat_timeout * 1000)
        stale = sa.and_(
            runs.c.status == RunStatus.RUNNING.value,
            runs.c.heartbeat_time < cutoff,
        )
        found = self._read(
            lambda conn: conn.execute(
                sa.select(runs.c.run_id).where(stale).limit(1)
            ).first()
        )
        if found is None:
            return
        self._try_write(
            lambda conn: conn.execute(
                runs.update()
                .where(stale)
                .values(status=RunStatus.KILLED.value, end_time=runs.c.heartbeat_time)
            )
        )
