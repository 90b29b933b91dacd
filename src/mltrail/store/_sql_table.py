"""The runs table of the UI in ``SqlStore``: requested columns only, keyset pages.

A page is read in *segments* of its first sort key, so that each query can walk an
index and stop after one page: for a metric, the runs with a value (walking the
``key_hash, value`` index of ``latest_metrics``), then those whose value is NaN,
then those without it; for a param or tag, runs with it, then runs without.
Inside a segment the order is the key, then start time (newest first), then run
id; the page token holds the segment and the sort values of the last row shown
(a keyset cursor), so a run added between two pages neither repeats nor shifts
the next page.

With ``nested`` (the default) only top-level runs are rows: a child run (tagged
``mlflow.parentRunId``) is a row only when its parent is not itself a matching row;
each row counts its matching children, which ``parent_run_id`` lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import util as sql_util
from sqlalchemy.sql.selectable import Join

from mltrail._entities import ViewType
from mltrail._errors import InvalidValueError
from mltrail._system_tags import PARENT_RUN_ID_TAG
from mltrail.store import _schema as schema
from mltrail.store import _search as search
from mltrail.store._schema import KIND_FINITE, KIND_NAN, hash_key
from mltrail.store._sql_run_search import RunSearchMixin
from mltrail.store._sql_statements import RUN_COLUMNS, _run_info
from mltrail.store._table import (
    RunKeys,
    TableColumn,
    TablePage,
    TableRow,
    TableSort,
    TokenValue,
    decode_table_token,
    encode_table_token,
    parse_column,
    parse_sort,
    query_digest,
)
from mltrail.store._values import (
    check_experiment_id,
    check_view_type,
    decode_metric_value,
)

MAX_PAGE_SIZE = 5_000
MAX_COLUMNS = 500
MAX_GROUPS = 1_000
# Walk a metric's index when the experiments hold at least 1/KEY_DENSITY of its rows.
KEY_DENSITY = 10
DEFAULT_SORT = TableSort(TableColumn("attribute", "start_time"), descending=True)
_KEY_TABLES = {
    "param": schema.params,
    "tag": schema.tags,
    "metric": schema.latest_metrics,
}
# A literal, not a bound parameter: SQLite uses a partial index only when the
# query repeats the index's WHERE term with the same constant.
_PARENT_KEY: sa.ColumnElement[str] = sa.literal_column(
    f"'{schema.PARENT_RUN_ID_KEY_HASH}'"
)

Term = tuple[sa.ColumnElement[Any], bool]


@dataclass(frozen=True)
class _Segment:
    """Runs of one part of the first sort key, read with their own query."""

    source: sa.FromClause
    where: tuple[sa.ColumnElement[bool], ...]
    terms: tuple[Term, ...]


def _attribute(key: str) -> sa.ColumnElement[Any]:
    runs = schema.runs
    if key == "duration":
        return runs.c.end_time - runs.c.start_time
    return runs.c[key]


def _key_condition(alias: sa.FromClause, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        alias.c.run_id == schema.runs.c.run_id, alias.c.key_hash == hash_key(key)
    )


class _KeyFirstJoin(Join):
    """A join that SQLite must run with the key table as the outer loop.

    Walking the ``key_hash, value`` index of ``latest_metrics`` in order and
    stopping after one page beats SQLite's own choice (every run of the
    experiment, then a sort) when the experiment holds many of the key's rows;
    reading the parent-tag index first beats probing every run as a parent.
    See: https://www.sqlite.org/optoverview.html#manual_control_of_query_plans_using_cross_join
    """

    inherit_cache = True


@compiles(_KeyFirstJoin, "sqlite")
def _compile_key_first_join(join: _KeyFirstJoin, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    left = compiler.process(join.left, **kw)
    right = compiler.process(join.right, **kw)
    return f"{left} CROSS JOIN {right} ON {compiler.process(join.onclause, **kw)}"


def _segments(sort: TableSort, *, key_first: bool = False) -> list[_Segment]:
    """Split the runs by the first sort key: with a value, NaN, without one."""
    runs = schema.runs
    column = sort.column
    if column.entity == "attribute":
        term = (_attribute(column.key), sort.descending)
        if not column.is_nullable:
            return [_Segment(runs, (), (term,))]
        return [
            _Segment(runs, (runs.c.end_time.is_not(None),), (term,)),
            _Segment(runs, (runs.c.end_time.is_(None),), ()),
        ]
    alias = _KEY_TABLES[column.entity].alias("sort_key")
    condition = _key_condition(alias, column.key)
    source: sa.FromClause = (
        _KeyFirstJoin(alias, runs, condition)
        if key_first
        else runs.join(alias, condition)
    )
    missing_alias = _KEY_TABLES[column.entity].alias("no_sort_key")
    missing = ~sa.exists().where(_key_condition(missing_alias, column.key))
    without = _Segment(runs, (missing,), ())
    value = (alias.c.value, sort.descending)
    if column.entity == "metric":
        return [
            _Segment(source, (alias.c.kind != KIND_NAN,), (value,)),
            _Segment(source, (alias.c.kind == KIND_NAN,), ()),
            without,
        ]
    return [_Segment(source, (), (value,)), without]


def _flag_terms(
    sort: TableSort,
) -> tuple[list[tuple[sa.FromClause, sa.ColumnElement[bool]]], list[Term]]:
    """Order by a second key in one query: missing last, then NaN, then the value."""
    column = sort.column
    if column.entity == "attribute":
        value = _attribute(column.key)
        if not column.is_nullable:
            return [], [(value, sort.descending)]
        missing = sa.case((schema.runs.c.end_time.is_(None), 1), else_=0)
        return [], [(missing, False), (sa.func.coalesce(value, 0), sort.descending)]
    alias = _KEY_TABLES[column.entity].alias("then_key")
    terms: list[Term] = [(sa.case((alias.c.run_id.is_(None), 1), else_=0), False)]
    if column.entity == "metric":
        terms.append((sa.case((alias.c.kind == KIND_NAN, 1), else_=0), False))
        terms.append((sa.func.coalesce(alias.c.value, 0.0), sort.descending))
    else:
        terms.append((sa.func.coalesce(alias.c.value, ""), sort.descending))
    return [(alias, _key_condition(alias, column.key))], terms


def _after(terms: Sequence[Term], values: Sequence[TokenValue]) -> Any:
    """Rows strictly after ``values`` in the order of ``terms`` (a keyset cursor)."""
    choices = []
    for index, (expr, descending) in enumerate(terms):
        equal = [terms[j][0] == values[j] for j in range(index)]
        beyond = expr < values[index] if descending else expr > values[index]
        choices.append(sa.and_(*equal, beyond))
    first, descending = terms[0]
    # The bound on the first term alone lets the database range-scan an index.
    bound = first <= values[0] if descending else first >= values[0]
    return sa.and_(bound, sa.or_(*choices))


def _check_page_size(max_results: object) -> int:
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not 1 <= max_results <= MAX_PAGE_SIZE
    ):
        raise InvalidValueError(
            "max_results",
            max_results,
            f"an int from 1 to {MAX_PAGE_SIZE:,}",
            "Page through more runs with page_token.",
        )
    return max_results


def _metric_value(value: float, kind: int) -> float:
    return value if kind == KIND_FINITE else decode_metric_value(value, kind)


class RunsTableMixin(RunSearchMixin):
    """The runs table and its key sample, for ``SqlStore``."""

    def search_runs_table(
        self,
        experiment_ids: Sequence[str],
        *,
        columns: Sequence[str] = (),
        filter_string: str = "",
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        order_by: str | None = None,
        group_by: str | None = None,
        nested: bool = True,
        parent_run_id: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> TablePage:
        """Return one page of the runs table, with only the requested columns.

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments whose runs are listed.
        columns : sequence of str, default=()
            Columns to return, such as ``params.C``, ``metrics.acc`` or
            ``duration`` (see ``mltrail.store._table``).
        filter_string : str, default=""
            A filter in the search grammar (OR, NOT and parentheses included).
        view_type : ViewType, default=ViewType.ACTIVE_ONLY
            Active, deleted or all runs.
        order_by : str or None, default=None
            One sort key such as ``metrics.acc DESC``; start time, newest first,
            when None. Runs without a value come last, NaN before them.
        group_by : str or None, default=None
            A param, tag or attribute column whose equal values are kept
            together (ordered by value), sorted by ``order_by`` inside.
        nested : bool, default=True
            List child runs under their parent rather than as rows of their own.
        parent_run_id : str or None, default=None
            List the matching child runs of this run instead.
        max_results : int, default=100
            Rows per page, from 1 to 5,000.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        TablePage
            The rows, the next page's token (or None) and, when grouped, the
            groups with their sizes.

        Raises
        ------
        FilterSyntaxError
            If the filter, a column or the sort key does not parse.
        InvalidValueError
            If a page token, page size or experiment id is invalid.

        Examples
        --------
        >>> from mltrail import Metric
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> for i in range(3):
        ...     run = store.create_run("0", user_id="a", start_time=i, run_name=f"r{i}")
        ...     store.log_batch(run.info.run_id, metrics=[Metric("acc", i / 10, 0, 0)])
        >>> page = store.search_runs_table(
        ...     ["0"], columns=["metrics.acc"], order_by="metrics.acc DESC",
        ...     max_results=2)
        >>> [(r.info.run_name, r.values["metrics.acc"]) for r in page.rows]
        [('r2', 0.2), ('r1', 0.1)]
        >>> next_page = store.search_runs_table(
        ...     ["0"], columns=["metrics.acc"], order_by="metrics.acc DESC",
        ...     max_results=2, page_token=page.token)
        >>> [r.info.run_name for r in next_page.rows], next_page.token
        (['r0'], None)
        >>> store.close()
        """
        numbers, stages = _check_scope(experiment_ids, view_type)
        limit = _check_page_size(max_results)
        if isinstance(columns, str):
            columns = [columns]
        if len(columns) > MAX_COLUMNS:
            raise InvalidValueError(
                "columns",
                f"{len(columns)} columns",
                f"at most {MAX_COLUMNS}",
                "Choose the columns to show; the others stay searchable.",
            )
        wanted = list(dict.fromkeys(parse_column(c) for c in columns))
        sort = DEFAULT_SORT if order_by is None else parse_sort(order_by)
        group = None if group_by is None else _group_column(group_by)
        if group is not None and group not in wanted:
            wanted.append(group)
        runs = schema.runs
        matching = sa.and_(
            runs.c.experiment_id.in_(numbers),
            runs.c.lifecycle_stage.in_(stages),
            search.compile_run_filter(filter_string),
        )
        first = sort if group is None else TableSort(group, descending=False)
        joins: list[tuple[sa.FromClause, sa.ColumnElement[bool]]] = []
        then: list[Term] = []
        if group is not None:
            joins, then = _flag_terms(sort)
        starts = sort.column == DEFAULT_SORT.column
        ties: list[Term] = [(runs.c.run_id, True)]
        if not starts:
            ties.insert(0, (runs.c.start_time, True))
        lengths = [len(s.terms) + len(then) + len(ties) for s in _segments(first)]
        digest = query_digest(
            [numbers, filter_string, stages, sort, group, nested, parent_run_id]
        )
        cursor = decode_table_token(page_token, digest, lengths)
        self._expire_heartbeats()

        def work(conn: Connection) -> TablePage:
            key_first = first.column.entity == "metric" and self._is_key_dense(
                conn, numbers, stages, first.column.key
            )
            where = matching
            if parent_run_id is not None:
                where = sa.and_(where, _children_of(parent_run_id))
            elif nested:
                # A page walking an index stops early: probing each row it meets
                # is cheap. A page that sorts every run would probe them all: the
                # child runs are then listed once instead.
                walks_index = key_first or first.column == DEFAULT_SORT.column
                where = sa.and_(
                    where,
                    _is_top_level(
                        numbers, stages, filter_string, correlated=walks_index
                    ),
                )
            segments = [
                replace(s, terms=(*s.terms, *then, *ties))
                for s in _segments(first, key_first=key_first)
            ]
            found: list[tuple[Any, ...]] = []
            position = (0, None) if cursor is None else cursor
            token = None
            for index in range(position[0], len(segments)):
                segment = segments[index]
                after = position[1] if index == position[0] else None
                rows = _read_segment(
                    conn, segment, joins, where, after, limit + 1 - len(found)
                )
                found.extend((index, row) for row in rows)
                if len(found) > limit:
                    index, last = found[limit - 1]
                    values = list(last[len(RUN_COLUMNS) :])
                    token = encode_table_token(digest, index, values)
                    break
            page = [row for _, row in found[:limit]]
            rows = self._table_rows(conn, page, wanted, matching)
            groups = None if group is None else _groups(conn, group, where)
            return TablePage(rows, token, groups)

        if not numbers:
            return TablePage([], None, None if group is None else [])
        return self._read(work)

    def count_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str = "",
        view_type: ViewType = ViewType.ACTIVE_ONLY,
    ) -> int:
        """Return how many runs (child runs included) match a filter.

        Apart from ``search_runs_table`` because with a filter it reads every run
        of the experiments, while a page stops after its rows.

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments whose runs are counted.
        filter_string : str, default=""
            A filter in the search grammar.
        view_type : ViewType, default=ViewType.ACTIVE_ONLY
            Active, deleted or all runs.

        Returns
        -------
        int
            The number of matching runs.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> _ = store.create_run("0", user_id="ada", start_time=0, run_name="r")
        >>> store.count_runs(["0"], filter_string="run_name = 'r'")
        1
        >>> store.close()
        """
        numbers, stages = _check_scope(experiment_ids, view_type)
        runs = schema.runs
        query = (
            sa.select(sa.func.count())
            .select_from(runs)
            .where(
                runs.c.experiment_id.in_(numbers),
                runs.c.lifecycle_stage.in_(stages),
                search.compile_run_filter(filter_string),
            )
        )
        self._expire_heartbeats()
        return int(self._read(lambda conn: conn.execute(query).scalar_one()))

    def experiment_run_stats(
        self,
        experiment_ids: Sequence[str],
        *,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
    ) -> dict[str, tuple[int, int]]:
        """Return each experiment's number of runs and latest run start time.

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments to describe.
        view_type : ViewType, default=ViewType.ACTIVE_ONLY
            Which runs count: active, deleted or all.

        Returns
        -------
        dict of str to (int, int)
            ``experiment_id -> (runs, latest start_time)`` for experiments with
            runs; an experiment without runs is left out.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> for start in (5, 9):
        ...     _ = store.create_run("0", user_id="a", start_time=start, run_name="r")
        >>> store.experiment_run_stats(["0"])
        {'0': (2, 9)}
        >>> store.close()
        """
        numbers, stages = _check_scope(experiment_ids, view_type)
        runs = schema.runs
        query = (
            sa.select(
                runs.c.experiment_id, sa.func.count(), sa.func.max(runs.c.start_time)
            )
            .where(
                runs.c.experiment_id.in_(numbers), runs.c.lifecycle_stage.in_(stages)
            )
            .group_by(runs.c.experiment_id)
        )
        if not numbers:
            return {}
        rows = self._read(lambda conn: conn.execute(query).all())
        return {str(e): (int(n), int(last)) for e, n, last in rows}

    def _is_key_dense(
        self,
        conn: Connection,
        numbers: Sequence[int],
        stages: Sequence[str],
        key: str,
    ) -> bool:
        """Whether SQLite should walk the metric's index rather than the runs.

        It should when these experiments hold a good share of the key's rows, so
        that a page of them turns up early in the index (both counts read an
        index only).
        """
        if self._dialect != "sqlite":
            return False
        runs = schema.runs
        latest = schema.latest_metrics
        in_experiments = conn.execute(
            sa.select(sa.func.count())
            .select_from(runs)
            .where(runs.c.experiment_id.in_(numbers))
        ).scalar_one()
        with_key = conn.execute(
            sa.select(sa.func.count())
            .select_from(latest)
            .where(latest.c.key_hash == hash_key(key))
        ).scalar_one()
        return bool(in_experiments * KEY_DENSITY >= with_key)

    def _table_rows(
        self,
        conn: Connection,
        rows: Sequence[Any],
        columns: Sequence[TableColumn],
        matching: sa.ColumnElement[bool],
    ) -> list[TableRow]:
        """Load the requested values, parents and child counts of a page's runs."""
        ids = [row.run_id for row in rows]
        if not ids:
            return []
        values: dict[str, dict[str, str | float | int | None]] = {
            run_id: {} for run_id in ids
        }
        for entity in ("param", "tag", "metric"):
            keys = [c.key for c in columns if c.entity == entity]
            if entity == "tag":
                keys.append(PARENT_RUN_ID_TAG)
            if not keys:
                continue
            table = _KEY_TABLES[entity]
            kind = table.c.kind if entity == "metric" else sa.literal(KIND_FINITE)
            query = sa.select(table.c.run_id, table.c.key, table.c.value, kind).where(
                table.c.run_id.in_(ids),
                table.c.key_hash.in_([hash_key(k) for k in keys]),
            )
            for run_id, key, value, value_kind in conn.execute(query):
                if entity == "metric":
                    value = _metric_value(value, value_kind)
                values[run_id][f"{entity}:{key}"] = value
        tags = schema.tags.alias("child_tag")
        runs = schema.runs
        counts: dict[str, int] = dict(
            conn.execute(
                sa.select(tags.c.value, sa.func.count())
                .select_from(tags.join(runs, runs.c.run_id == tags.c.run_id))
                .where(tags.c.key_hash == _PARENT_KEY, tags.c.value.in_(ids), matching)
                .group_by(tags.c.value)
            ).all()
        )
        table_rows = []
        for row in rows:
            found = values[row.run_id]
            shown: dict[str, str | float | int | None] = {}
            for column in columns:
                if column.entity == "attribute":
                    shown[column.name] = _attribute_value(row, column.key)
                else:
                    shown[column.name] = found.get(f"{column.entity}:{column.key}")
            parent = found.get(f"tag:{PARENT_RUN_ID_TAG}")
            table_rows.append(
                TableRow(
                    _run_info(row),
                    parent if isinstance(parent, str) else None,
                    int(counts.get(row.run_id, 0)),
                    shown,
                )
            )
        return table_rows

    def sample_run_keys(
        self,
        experiment_ids: Sequence[str],
        *,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        sample_size: int = 1000,
    ) -> RunKeys:
        """Return the param, metric and tag keys of the most recent runs.

        Reading the keys of every run of a large experiment scans millions of
        rows; the runs table offers the keys of the latest ``sample_size`` runs
        (and accepts any other key typed in).

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments to sample.
        view_type : ViewType, default=ViewType.ACTIVE_ONLY
            Active, deleted or all runs.
        sample_size : int, default=1000
            How many of the most recently started runs to read, 1 to 5,000.

        Returns
        -------
        RunKeys
            For each key, how many sampled runs have it and how many distinct
            values they hold, counted up to 2.

        Examples
        --------
        >>> from mltrail import Param
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> for C in ("1", "1", "10"):
        ...     run = store.create_run("0", user_id="ada", start_time=0, run_name="r")
        ...     store.log_batch(run.info.run_id, params=[Param("C", C)])
        >>> store.sample_run_keys(["0"]).params
        {'C': (3, 2)}
        >>> store.close()
        """
        numbers, stages = _check_scope(experiment_ids, view_type)
        size = _check_page_size(sample_size)
        runs = schema.runs
        recent = (
            sa.select(runs.c.run_id)
            .where(
                runs.c.experiment_id.in_(numbers), runs.c.lifecycle_stage.in_(stages)
            )
            .order_by(runs.c.start_time.desc(), runs.c.run_id.desc())
            .limit(size)
            .subquery("recent")
        )

        def keys(conn: Connection, table: sa.Table) -> dict[str, tuple[int, int]]:
            # MIN and MAX stream; COUNT(DISTINCT) would sort every value.
            query = (
                sa.select(
                    table.c.key,
                    sa.func.count(),
                    sa.func.min(table.c.value),
                    sa.func.max(table.c.value),
                )
                .select_from(table.join(recent, recent.c.run_id == table.c.run_id))
                .group_by(table.c.key_hash, table.c.key)
                .order_by(table.c.key)
            )
            return {
                key: (int(n), 1 if low == high else 2)
                for key, n, low, high in conn.execute(query)
            }

        def work(conn: Connection) -> RunKeys:
            sampled = conn.execute(
                sa.select(sa.func.count()).select_from(recent)
            ).scalar_one()
            return RunKeys(
                keys(conn, schema.params),
                keys(conn, schema.latest_metrics),
                keys(conn, schema.tags),
                int(sampled),
            )

        if not numbers:
            return RunKeys({}, {}, {}, 0)
        return self._read(work)


def _check_scope(
    experiment_ids: Sequence[str], view_type: ViewType
) -> tuple[list[int], tuple[str, ...]]:
    """Return the experiment numbers (one str counts as one id) and the stages."""
    if isinstance(experiment_ids, str):
        experiment_ids = [experiment_ids]
    numbers = [check_experiment_id(i) for i in experiment_ids]
    return numbers, check_view_type(view_type)


def _group_column(text: str) -> TableColumn:
    column = parse_column(text)
    if column.entity == "metric" or column.key in (
        "start_time",
        "end_time",
        "duration",
    ):
        raise InvalidValueError(
            "group_by",
            text,
            "a param, a tag, or one of run_name, status, user_id",
            "Group by a param such as params.max_depth; sort by metrics instead.",
        )
    return column


def _attribute_value(row: Any, key: str) -> str | int | None:
    if key == "duration":
        if row.end_time is None:
            return None
        return int(row.end_time - row.start_time)
    value = getattr(row, key)
    return value if value is None or isinstance(value, str) else int(value)


def _children_of(parent_run_id: str) -> sa.ColumnElement[bool]:
    tags = schema.tags.alias("parent_tag")
    return schema.runs.c.run_id.in_(
        sa.select(tags.c.run_id).where(
            tags.c.key_hash == _PARENT_KEY, tags.c.value == parent_run_id
        )
    )


def _is_top_level(
    numbers: Sequence[int],
    stages: Sequence[str],
    filter_string: str,
    *,
    correlated: bool,
) -> sa.ColumnElement[bool]:
    """Not the child of a run that is itself a matching row of these experiments.

    ``correlated`` probes each row's parent tag; otherwise the database lists the
    child runs of matching parents once (through the parent-tag index).
    """
    runs = schema.runs
    tags = schema.tags.alias("parent_tag")
    parent = runs.alias("parent_run")
    # The same filter, on the parent run instead of the row's run.
    on_parent = sql_util.ClauseAdapter(parent).traverse(
        search.compile_run_filter(filter_string)
    )
    # Listed once, the children come from the partial index of parent tags (a
    # few rows), not from a probe of every run as a parent.
    source: sa.FromClause = (
        tags.join(parent, parent.c.run_id == tags.c.value)
        if correlated
        else _KeyFirstJoin(tags, parent, parent.c.run_id == tags.c.value)
    )
    children = (
        sa.select(tags.c.run_id)
        .select_from(source)
        .where(
            tags.c.key_hash == _PARENT_KEY,
            parent.c.experiment_id.in_(numbers),
            parent.c.lifecycle_stage.in_(stages),
            on_parent,
        )
    )
    if correlated:
        return ~sa.exists(children.where(tags.c.run_id == runs.c.run_id))
    return runs.c.run_id.not_in(children)


def _read_segment(
    conn: Connection,
    segment: _Segment,
    joins: Sequence[tuple[sa.FromClause, sa.ColumnElement[bool]]],
    where: sa.ColumnElement[bool],
    after: Sequence[TokenValue] | None,
    limit: int,
) -> list[Any]:
    source = segment.source
    for alias, condition in joins:
        source = source.outerjoin(alias, condition)
    conditions = [where, *segment.where]
    if after is not None:
        conditions.append(_after(segment.terms, after))
    query = (
        sa.select(
            *RUN_COLUMNS,
            *(expr.label(f"term_{i}") for i, (expr, _) in enumerate(segment.terms)),
        )
        .select_from(source)
        .where(*conditions)
        .order_by(*(e.desc() if d else e.asc() for e, d in segment.terms))
        .limit(limit)
    )
    return list(conn.execute(query).all())


def _groups(
    conn: Connection, group: TableColumn, where: sa.ColumnElement[bool]
) -> list[tuple[str | None, int]]:
    runs = schema.runs
    if group.entity == "attribute":
        value: sa.ColumnElement[Any] = runs.c[group.key]
        source: sa.FromClause = runs
    else:
        alias = _KEY_TABLES[group.entity].alias("group_key")
        source = runs.outerjoin(alias, _key_condition(alias, group.key))
        value = alias.c.value
    query = (
        sa.select(value, sa.func.count())
        .select_from(source)
        .where(where)
        .group_by(value)
        .order_by(sa.case((value.is_(None), 1), else_=0), value)
        .limit(MAX_GROUPS)
    )
    return [(v, int(n)) for v, n in conn.execute(query)]
