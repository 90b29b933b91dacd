"""``/experiments/<id>``: the runs table, whose whole state lives in the URL.

Query parameters: ``columns`` (repeated; by default the attributes below and the
params and metrics that differ among the latest runs), ``filter`` (the search
grammar), ``order_by`` (one key, such as ``metrics.acc DESC``), ``group_by``,
``view`` (active, deleted, all), ``nested`` (0 lists child runs as rows),
``diff`` (1 hides the columns whose values are the same in every row shown),
``parent_run_id`` (the children of one run), ``max_results`` and ``page_token``.
The store returns only the requested columns and a keyset token, so a page costs
the same at the first run and at the 100,000th. Counting the matching runs reads
them all, so the page's script asks ``/experiments/<id>/count`` for it apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail._errors import FilterSyntaxError, InvalidValueError
from mltrail._run_sections import CROSS_VALIDATION_GROUP, TEST_DATASET, TRAINING_GROUP
from mltrail._system_tags import SOURCE_NAME_TAG
from mltrail.store._table import (
    ATTRIBUTE_COLUMNS,
    RunKeys,
    TableColumn,
    TableRow,
    parse_column,
    parse_sort,
)
from mltrail.ui._experiments import experiment_json, view_type
from mltrail.ui._store import ui_store

if TYPE_CHECKING:
    from mltrail.ui._routes import PageContext

__all__ = [
    "DEFAULT_ATTRIBUTES",
    "count_page",
    "default_columns",
    "runs_table_page",
]

DEFAULT_PAGE_SIZE = 100
PAGE_SIZES = (25, 50, 100, 250, 500, 1000)
DEFAULT_ATTRIBUTES = (
    "status",
    "start_time",
    "duration",
    "user_id",
    TableColumn("tag", SOURCE_NAME_TAG).name,
)
MAX_DEFAULT_PARAMS = 10
MAX_DEFAULT_METRICS = 10
KEY_SAMPLE_SIZE = 500
MAX_LISTED_KEYS = 2000
ATTRIBUTE_LABELS = {
    "run_name": "Run name",
    "status": "Status",
    "user_id": "User",
    "run_id": "Run id",
    "start_time": "Started",
    "end_time": "Ended",
    "duration": "Duration",
}
TAG_LABELS = {SOURCE_NAME_TAG: "Source"}


def _differs(count: int, distinct: int, sample_size: int) -> bool:
    return distinct > 1 or count < sample_size


def _metric_rank(key: str) -> tuple[int, str]:
    """Held-out metrics first, then cross-validation, training, the rest."""
    for rank, prefix in enumerate(
        (f"{TEST_DATASET}_", f"{CROSS_VALIDATION_GROUP}_", f"{TRAINING_GROUP}_")
    ):
        if key.startswith(prefix):
            return rank, key
    return 3, key


def default_columns(keys: RunKeys) -> list[str]:
    """Return the attributes, then the params and metrics that differ in the sample."""
    size = keys.sample_size
    # The params most runs have first: those describe the runs being compared.
    params = [
        TableColumn("param", key).name
        for key, (count, distinct) in sorted(
            keys.params.items(), key=lambda item: (-item[1][0], item[0])
        )
        if _differs(count, distinct, size)
    ][:MAX_DEFAULT_PARAMS]
    metrics = sorted(
        (
            key
            for key, (count, distinct) in keys.metrics.items()
            if _differs(count, distinct, size)
        ),
        key=_metric_rank,
    )[:MAX_DEFAULT_METRICS]
    return [
        *DEFAULT_ATTRIBUTES,
        *params,
        *(TableColumn("metric", key).name for key in metrics),
    ]


def column_json(column: TableColumn) -> dict[str, str]:
    """Return a column's name, entity, key and the label shown in its header."""
    if column.entity == "attribute":
        label = ATTRIBUTE_LABELS.get(column.key, column.key)
    elif column.entity == "tag":
        label = TAG_LABELS.get(column.key, column.key)
    else:
        label = column.key
    return {
        "name": column.name,
        "entity": column.entity,
        "key": column.key,
        "label": label,
    }


def _keys_json(keys: RunKeys) -> dict[str, Any]:
    def names(entity: str, found: Mapping[str, tuple[int, int]]) -> list[str]:
        return [TableColumn(entity, key).name for key in found][:MAX_LISTED_KEYS]

    return {
        "attributes": [
            TableColumn("attribute", key).name
            for key in ATTRIBUTE_COLUMNS
            if key != "run_name"
        ],
        "params": names("param", keys.params),
        "metrics": names("metric", keys.metrics),
        "tags": names("tag", keys.tags),
        "sample_size": keys.sample_size,
    }


def row_json(row: TableRow) -> dict[str, Any]:
    """Return a row of the table: the run's info, family and column values."""
    info = row.info
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "status": info.status,
        "lifecycle_stage": info.lifecycle_stage,
        "start_time": info.start_time,
        "parent_run_id": row.parent_run_id,
        "child_count": row.child_count,
        "values": row.values,
    }


def _page_size(context: PageContext) -> int:
    text = context.text("max_results")
    if text == "":
        return DEFAULT_PAGE_SIZE
    if not text.isdigit() or int(text) not in PAGE_SIZES:
        raise InvalidValueError(
            "max_results",
            text,
            "one of " + ", ".join(map(str, PAGE_SIZES)),
            "Page through more runs with the Next link.",
        )
    return int(text)


def _error(exc: InvalidValueError, field: str) -> dict[str, Any]:
    position = exc.position if isinstance(exc, FilterSyntaxError) else None
    expected = exc.expected if isinstance(exc, FilterSyntaxError) else None
    return {
        "field": field,
        "message": exc.message,
        "position": position,
        "expected": expected,
    }


def _columns(context: PageContext, keys: RunKeys) -> list[str]:
    if "columns" in context.query:
        return [c for c in context.query["columns"] if c.strip()]
    return default_columns(keys)


def _hide_constant(
    columns: Sequence[TableColumn], rows: Sequence[TableRow]
) -> tuple[list[TableColumn], list[str]]:
    """Split the columns into those that differ between rows and those that do not."""
    shown: list[TableColumn] = []
    hidden: list[TableColumn] = []
    for column in columns:
        values = {repr(row.values.get(column.name)) for row in rows}
        (shown if len(values) > 1 else hidden).append(column)
    return shown, [c.name for c in hidden]


def runs_table_page(context: PageContext) -> dict[str, Any]:
    """Return one page of the runs table of the experiment in the path."""
    experiment_id = context.path["experiment_id"]
    store = ui_store(context.services.store)
    experiment = store.get_experiment(experiment_id)
    view = context.text("view", "active")
    views = view_type(view)
    keys = store.sample_run_keys(
        [experiment_id], view_type=views, sample_size=KEY_SAMPLE_SIZE
    )
    query: dict[str, Any] = {
        "columns": _columns(context, keys),
        "columns_chosen": "columns" in context.query,
        "filter": context.text("filter"),
        "order_by": context.text("order_by"),
        "group_by": context.text("group_by"),
        "view": view,
        "nested": context.flag("nested", True),
        "diff": context.flag("diff", False),
        "parent_run_id": context.text("parent_run_id"),
        "max_results": _page_size(context),
        "page_token": context.text("page_token"),
    }
    data: dict[str, Any] = {
        "experiment": experiment_json(experiment),
        "query": query,
        "columns": [],
        "hidden_columns": [],
        "rows": [],
        "groups": None,
        "group_column": None,
        "next_page_token": None,
        "keys": _keys_json(keys),
        "page_sizes": list(PAGE_SIZES),
        "error": None,
    }
    field = "columns"
    try:
        columns = [parse_column(c) for c in query["columns"]]
        columns = [c for c in columns if c != TableColumn("attribute", "run_name")]
        field = "order_by"
        if query["order_by"]:
            parse_sort(query["order_by"])
        field = "filter"
        table = store.search_runs_table(
            [experiment_id],
            columns=[c.name for c in columns],
            filter_string=query["filter"],
            view_type=views,
            order_by=query["order_by"] or None,
            group_by=query["group_by"] or None,
            nested=query["nested"],
            parent_run_id=query["parent_run_id"] or None,
            max_results=query["max_results"],
            page_token=query["page_token"] or None,
        )
    except InvalidValueError as exc:
        if not isinstance(exc, FilterSyntaxError):
            name = {"column": "columns"}.get(exc.name, exc.name)
            field = name if name in query else field
        data["error"] = _error(exc, field)
        data["http_status"] = 400
        data["columns"] = [column_json(parse_column(c)) for c in _valid(query)]
        return data
    shown, hidden = (
        _hide_constant(columns, table.rows) if query["diff"] else (columns, [])
    )
    group = parse_column(query["group_by"]).name if query["group_by"] else None
    data.update(
        columns=[column_json(c) for c in shown if c.name != group],
        hidden_columns=hidden,
        rows=[row_json(row) for row in table.rows],
        groups=None
        if table.groups is None
        else [{"value": value, "count": count} for value, count in table.groups],
        group_column=None if group is None else column_json(parse_column(group)),
        next_page_token=table.token,
    )
    return data


def _valid(query: Mapping[str, Any]) -> list[str]:
    """Return the requested columns that parse, for the header of an error page."""
    valid = []
    for name in query["columns"]:
        try:
            parse_column(name)
        except InvalidValueError:
            continue
        valid.append(name)
    return valid


def count_page(context: PageContext) -> dict[str, Any]:
    """Return how many runs of the experiment match ``filter`` (for the header)."""
    experiment_id = context.path["experiment_id"]
    store = ui_store(context.services.store)
    views = view_type(context.text("view", "active"))
    count = store.count_runs(
        [experiment_id], filter_string=context.text("filter"), view_type=views
    )
    return {"count": count}
