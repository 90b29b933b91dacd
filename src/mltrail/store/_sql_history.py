"""Downsampled metric histories in ``SqlStore``: minima and maxima survive.

A history longer than the points a chart can show is cut into equal ranges of
the x axis (step or timestamp); each range becomes one point with the mean x and
the mean value, plus the smallest and largest value and the number of points in
it. A spike inside a range is its maximum, so it stays on the chart as the top of
the min-max band (MLflow keeps the first point of each range and drops it). The
aggregation runs in the database, in one pass over the history's index range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.store import _schema as schema
from mltrail.store._schema import (
    KIND_FINITE,
    KIND_NAN,
    KIND_NEGATIVE_INFINITY,
    KIND_NEGATIVE_ZERO,
    KIND_POSITIVE_INFINITY,
    hash_key,
)
from mltrail.store._sql_statements import SqlStatements
from mltrail.store._values import (
    MAX_FLOAT,
    MAX_INT64,
    MIN_INT64,
    check_key,
    check_run_id,
    decode_metric_value,
)

__all__ = ["MetricSample"]

X_AXES = ("step", "timestamp")
MIN_POINTS = 2
MAX_POINTS = 10_000


@dataclass(frozen=True, slots=True)
class MetricSample:
    """A metric's history on one x axis, whole or in equal ranges of x.

    ``is_sampled`` tells which. Whole, each point is one logged value (``minima``
    and ``maxima`` equal ``values``, ``counts`` are 1). Sampled, each point is a
    range: its mean x, the mean of its finite values (None if it holds only NaN),
    its smallest and largest value (infinities included) and how many points it
    holds. ``total`` counts the points between ``start`` and ``end``.
    """

    run_id: str
    key: str
    x_axis: str
    total: int
    is_sampled: bool
    x: list[float]
    values: list[float | None]
    minima: list[float | None]
    maxima: list[float | None]
    counts: list[int]


def _check_bound(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(
            name, value, "an int or None", "Pass the x value where the chart starts."
        )
    return max(MIN_INT64, min(MAX_INT64, value))


def _check_arguments(
    x_axis: object, start: object, end: object, max_points: object
) -> tuple[str, int | None, int | None, int]:
    if x_axis not in X_AXES:
        raise InvalidValueError(
            "x_axis", x_axis, "'step' or 'timestamp'", "Relative time uses 'timestamp'."
        )
    low = _check_bound("start", start)
    high = _check_bound("end", end)
    if low is not None and high is not None and low > high:
        raise InvalidValueError(
            "start", start, f"at most end ({end})", "Swap start and end."
        )
    if (
        isinstance(max_points, bool)
        or not isinstance(max_points, int)
        or not MIN_POINTS <= max_points <= MAX_POINTS
    ):
        raise InvalidValueError(
            "max_points",
            max_points,
            f"an int from {MIN_POINTS} to {MAX_POINTS:,}",
            "About the chart's width in pixels is enough.",
        )
    return str(x_axis), low, high, max_points


class HistoryMixin(SqlStatements):
    """Downsampled metric histories for ``SqlStore``."""

    def sample_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        x_axis: str = "step",
        start: int | None = None,
        end: int | None = None,
        max_points: int = 1000,
    ) -> MetricSample:
        """Return a metric's history, in at most ``max_points`` ranges of x.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The metric's key.
        x_axis : {"step", "timestamp"}, default="step"
            What the ranges divide: steps, or times in milliseconds.
        start, end : int or None, default=None
            Only points with ``start <= x <= end`` (a zoomed chart).
        max_points : int, default=1000
            The most points to return, from 2 to 10,000; a longer history is
            cut into that many equal ranges of x.

        Returns
        -------
        MetricSample
            The points or ranges, in order of x.

        Raises
        ------
        NotFoundError
            If the run does not exist.
        InvalidValueError
            If an argument is out of range.

        Examples
        --------
        >>> from mltrail import Metric
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.log_batch(run_id, metrics=[
        ...     Metric("loss", 9.0 if i == 5 else 1.0, 0, i) for i in range(8)])
        >>> sample = store.sample_metric_history(run_id, "loss", max_points=2)
        >>> sample.is_sampled, sample.x, sample.maxima, sample.counts
        (True, [1.5, 5.5], [1.0, 9.0], [4, 4])
        >>> store.close()
        """
        check_run_id(run_id)
        key_hash = hash_key(check_key("metric key", key))
        x_axis, low, high, max_points = _check_arguments(x_axis, start, end, max_points)
        metrics = schema.metrics
        x = metrics.c[x_axis]
        where = [metrics.c.run_id == run_id, metrics.c.key_hash == key_hash]
        if low is not None:
            where.append(x >= low)
        if high is not None:
            where.append(x <= high)

        def work(conn: Connection) -> MetricSample:
            first, last = _x_range(conn, x, where)
            if first is None:
                self._check_run_exists(conn, run_id)
                return MetricSample(run_id, key, x_axis, 0, False, [], [], [], [], [])
            width = max(1, math.ceil((last - first + 1) / max_points))
            # Per-range lookups need the (run_id, key_hash, step) index.
            if self._dialect == "sqlite" and x_axis == "step":
                rows = _looked_up_ranges(
                    conn, run_id, key_hash, where, (first, last, width)
                )
            else:
                rows = _grouped_ranges(conn, x, where, first, width)
            sample = _sample_of(run_id, key, x_axis, rows)
            if sample.total <= max_points:
                # Short enough to send whole (NaN and repeated steps included).
                return self._whole_history(conn, run_id, key, x_axis, where)
            return sample

        return self._read(work)

    def metric_keys_with_history(self, run_id: str) -> list[str]:
        """Return the keys of a run's metrics that hold more than one point.

        A chart needs a history; counting each history's points would read every
        point (a million for a long one), while this reads at most two index
        entries per key.

        Parameters
        ----------
        run_id : str
            The run's id.

        Returns
        -------
        list of str
            The keys, sorted; a point logged twice at the same step and time
            counts once.

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
        >>> store.log_batch(run.info.run_id, metrics=[
        ...     Metric("loss", 0.5, 0, step) for step in range(3)] + [
        ...     Metric("acc", 0.9, 0, 0)])
        >>> store.metric_keys_with_history(run.info.run_id)
        ['loss']
        >>> store.close()
        """
        check_run_id(run_id)
        metrics = schema.metrics
        latest = schema.latest_metrics
        # Another point than the latest one: the history has at least two.
        other = sa.exists().where(
            metrics.c.run_id == latest.c.run_id,
            metrics.c.key_hash == latest.c.key_hash,
            sa.or_(
                metrics.c.step != latest.c.step,
                metrics.c.timestamp != latest.c.timestamp,
            ),
        )
        query = (
            sa.select(latest.c.key)
            .where(latest.c.run_id == run_id, other)
            .order_by(latest.c.key)
        )

        def work(conn: Connection) -> list[str]:
            keys = [key for (key,) in conn.execute(query)]
            if not keys:
                self._check_run_exists(conn, run_id)
            return keys

        return self._read(work)

    def _check_run_exists(self, conn: Connection, run_id: str) -> None:
        _, exists = self._execute(
            conn, self._select_run_state, {"run_id": run_id}, fetch=True
        )
        if not exists:
            raise NotFoundError(
                "run", run_id, "Check the id, or list runs with search_runs()."
            )

    def _whole_history(
        self,
        conn: Connection,
        run_id: str,
        key: str,
        x_axis: str,
        where: list[Any],
    ) -> MetricSample:
        metrics = schema.metrics
        x = metrics.c[x_axis]
        rows = conn.execute(
            sa.select(x, metrics.c.value, metrics.c.kind)
            .where(*where)
            .order_by(x, metrics.c.step, metrics.c.timestamp)
        ).all()
        values: list[float | None] = [
            value if kind == KIND_FINITE else decode_metric_value(value, kind)
            for _, value, kind in rows
        ]
        return MetricSample(
            run_id,
            key,
            x_axis,
            len(rows),
            False,
            [float(row[0]) for row in rows],
            values,
            list(values),
            list(values),
            [1] * len(rows),
        )


def _x_range(
    conn: Connection, x: sa.ColumnElement[int], where: list[Any]
) -> tuple[int | None, int]:
    """Return the smallest and largest x; (None, 0) when there are no points."""
    if x.name == "step":
        # Two single-aggregate queries: each reads one end of the index only.
        first = conn.execute(sa.select(sa.func.min(x)).where(*where)).scalar()
        last = conn.execute(sa.select(sa.func.max(x)).where(*where)).scalar()
    else:
        first, last = conn.execute(
            sa.select(sa.func.min(x), sa.func.max(x)).where(*where)
        ).one()
    if first is None or last is None:
        return None, 0
    return int(first), int(last)


def _range_columns(x: Any) -> list[Any]:
    """Return the aggregates of one range, exact whatever the values' kinds."""
    metrics = schema.metrics
    kind = metrics.c.kind
    value = metrics.c.value
    finite = kind.in_((KIND_FINITE, KIND_NEGATIVE_ZERO))
    not_nan = kind != KIND_NAN
    return [
        sa.func.avg(x),
        sa.func.avg(sa.case((finite, value))),
        sa.func.min(sa.case((not_nan, value))),
        sa.func.max(sa.case((not_nan, value))),
        sa.func.count(),
        sa.func.max(sa.case((kind == KIND_POSITIVE_INFINITY, 1), else_=0)),
        sa.func.max(sa.case((kind == KIND_NEGATIVE_INFINITY, 1), else_=0)),
    ]


def _grouped_ranges(
    conn: Connection, x: Any, where: list[Any], first: int, width: int
) -> list[tuple[Any, ...]]:
    """Aggregate every range in one GROUP BY (PostgreSQL and MySQL hash it)."""
    bucket = ((x - first) // width).label("bucket")
    query = (
        sa.select(*_range_columns(x)).where(*where).group_by(bucket).order_by(bucket)
    )
    return [tuple(row) for row in conn.execute(query)]


def _looked_up_ranges(
    conn: Connection,
    run_id: str,
    key_hash: str,
    where: list[Any],
    bounds: tuple[int, int, int],
) -> list[tuple[Any, ...]]:
    """Aggregate each range of steps with its own index range scan (SQLite).

    SQLite sorts a GROUP BY's rows in a temporary B-tree even though the index
    already yields them in order of x; one small query per range skips that sort
    and costs about half. The plain aggregates are exact unless a range holds a
    NaN or an infinity (``kind % 4`` is then non-zero): that rare range is read
    again with the exact ones.
    """
    first, last, width = bounds
    sql = (
        "SELECT avg(step), avg(value), min(value), max(value), count(*), "
        "max(kind % 4) FROM metrics WHERE run_id = ? AND key_hash = ? "
        "AND step >= ? AND step < ?"
    )
    x = schema.metrics.c.step
    cursor = conn.connection.cursor()
    rows: list[tuple[Any, ...]] = []
    try:
        for low in range(first, last + 1, width):
            found = cursor.execute(sql, (run_id, key_hash, low, low + width)).fetchone()
            if not found[4]:
                continue
            if found[5]:
                exact = sa.select(*_range_columns(x)).where(
                    *where, x >= low, x < low + width
                )
                rows.append(tuple(conn.execute(exact).one()))
            else:
                rows.append((*found[:5], 0, 0))
    finally:
        cursor.close()
    return rows


def _sample_of(
    run_id: str, key: str, x_axis: str, rows: list[tuple[Any, ...]]
) -> MetricSample:
    """Build a sampled history from ranges' aggregates, decoding infinities."""
    xs: list[float] = []
    means: list[float | None] = []
    minima: list[float | None] = []
    maxima: list[float | None] = []
    counts: list[int] = []
    for mean_x, mean, low, high, count, has_inf, has_minus_inf in rows:
        xs.append(float(mean_x))
        means.append(None if mean is None else float(mean))
        # Infinities are stored as the largest finite floats, with a flag.
        if low is not None:
            low = float(low)
            if has_minus_inf and low == -MAX_FLOAT:
                low = -math.inf
            elif has_inf and low == MAX_FLOAT:
                low = math.inf
        if high is not None:
            high = float(high)
            if has_inf and high == MAX_FLOAT:
                high = math.inf
            elif has_minus_inf and high == -MAX_FLOAT:
                high = -math.inf
        minima.append(low)
        maxima.append(high)
        counts.append(int(count))
    return MetricSample(
        run_id, key, x_axis, sum(counts), True, xs, means, minima, maxima, counts
    )
