"""The runs table: projection, keyset pages, sort segments, nesting and grouping."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltrail._entities import LifecycleStage, Metric, Param, RunTag, ViewType
from mltrail._errors import FilterSyntaxError, InvalidValueError
from mltrail._system_tags import PARENT_RUN_ID_TAG
from mltrail.store._sql import SqlStore
from mltrail.store._table import TableColumn, parse_column, parse_sort


def _run(
    store: SqlStore,
    name: str,
    start: int,
    *,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    end: int | None = None,
    experiment_id: str = "0",
) -> str:
    run = store.create_run(
        experiment_id, user_id="ada", start_time=start, run_name=name
    )
    run_id = run.info.run_id
    store.log_batch(
        run_id,
        metrics=[Metric(k, v, start, 0) for k, v in (metrics or {}).items()],
        params=[Param(k, v) for k, v in (params or {}).items()],
        tags=[RunTag(k, v) for k, v in (tags or {}).items()],
    )
    if end is not None:
        store.update_run_info(run_id, status="FINISHED", end_time=end)
    return run_id


def _names(page: object) -> list[str]:
    return [row.info.run_name for row in page.rows]  # type: ignore[attr-defined]


def _all_pages(store: SqlStore, size: int, **query: Any) -> list[str]:
    names: list[str] = []
    token = None
    while True:
        page = store.search_runs_table(
            ["0"], max_results=size, page_token=token, **query
        )
        names.extend(_names(page))
        token = page.token
        if token is None:
            return names


def test_default_order_is_newest_first(store: SqlStore) -> None:
    for i in range(3):
        _run(store, f"r{i}", start=i)
    page = store.search_runs_table(["0"])
    assert _names(page) == ["r2", "r1", "r0"]
    assert page.token is None


def test_count_runs_counts_children_and_applies_the_filter(store: SqlStore) -> None:
    parent = _run(store, "p", 0, metrics={"acc": 0.5})
    _run(store, "c", 1, metrics={"acc": 0.9}, tags={PARENT_RUN_ID_TAG: parent})
    assert store.count_runs(["0"]) == 2
    assert store.count_runs("0", filter_string="metrics.acc > 0.6") == 1
    assert store.count_runs(["0"], view_type=ViewType.DELETED_ONLY) == 0


def test_only_the_requested_columns_come_back(store: SqlStore) -> None:
    _run(
        store,
        "a",
        1,
        metrics={"acc": 0.5, "loss": 2.0},
        params={"C": "1", "solver": "sgd"},
        tags={"team": "x"},
        end=11,
    )
    page = store.search_runs_table(
        ["0"], columns=["metrics.acc", "params.C", "tags.team", "duration"]
    )
    assert page.rows[0].values == {
        "metrics.acc": 0.5,
        "params.C": "1",
        "tags.team": "x",
        "attributes.duration": 10,
    }


def test_a_missing_value_is_none(store: SqlStore) -> None:
    _run(store, "a", 1)
    page = store.search_runs_table(["0"], columns=["metrics.acc", "params.`a b`"])
    assert page.rows[0].values == {"metrics.acc": None, "params.`a b`": None}


def test_pages_follow_each_other_without_gaps_or_repeats(store: SqlStore) -> None:
    for i in range(7):
        _run(store, f"r{i}", start=i % 3)  # equal start times: ties by run id
    one_page = _names(store.search_runs_table(["0"], max_results=100))
    assert _all_pages(store, 2) == one_page
    assert len(set(one_page)) == 7


def test_a_run_added_between_pages_does_not_repeat_a_row(store: SqlStore) -> None:
    for i in range(4):
        _run(store, f"r{i}", start=10 + i)
    first = store.search_runs_table(["0"], max_results=2)
    _run(store, "newer", start=100)
    second = store.search_runs_table(["0"], max_results=2, page_token=first.token)
    assert _names(first) == ["r3", "r2"]
    assert _names(second) == ["r1", "r0"]


def test_metric_sort_puts_nan_then_missing_last(store: SqlStore) -> None:
    values = {"low": 0.1, "high": 0.9, "nan": math.nan, "inf": math.inf, "neg": -1.0}
    for i, (name, value) in enumerate(values.items()):
        _run(store, name, start=i, metrics={"acc": value})
    _run(store, "none", start=10)
    descending = _all_pages(store, 2, order_by="metrics.acc DESC")
    ascending = _all_pages(store, 2, order_by="metrics.acc")
    assert descending == ["inf", "high", "low", "neg", "nan", "none"]
    assert ascending == ["neg", "low", "high", "inf", "nan", "none"]


def test_non_finite_metric_values_read_back(store: SqlStore) -> None:
    _run(store, "nan", start=0, metrics={"acc": math.nan, "loss": -math.inf})
    values = store.search_runs_table(["0"], columns=["metrics.acc", "metrics.loss"])
    assert math.isnan(values.rows[0].values["metrics.acc"])  # type: ignore[arg-type]
    assert values.rows[0].values["metrics.loss"] == -math.inf


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("params.solver", ["adam", "sgd", "lbfgs-less"]),
        ("params.solver DESC", ["sgd", "adam", "lbfgs-less"]),
        ("tags.team ASC", ["sgd", "adam", "lbfgs-less"]),
        ("run_name DESC", ["sgd", "lbfgs-less", "adam"]),
    ],
    ids=["param", "param-desc", "tag", "attribute"],
)
def test_string_sorts_put_missing_values_last(
    store: SqlStore, order_by: str, expected: list[str]
) -> None:
    _run(store, "sgd", 1, params={"solver": "sgd"}, tags={"team": "a"})
    _run(store, "adam", 2, params={"solver": "adam"}, tags={"team": "b"})
    _run(store, "lbfgs-less", 3)
    assert _all_pages(store, 1, order_by=order_by) == expected


def test_duration_sort_puts_unfinished_runs_last(store: SqlStore) -> None:
    _run(store, "long", 0, end=100)
    _run(store, "short", 10, end=20)
    _run(store, "running", 20)
    assert _all_pages(store, 1, order_by="duration DESC") == [
        "long",
        "short",
        "running",
    ]
    assert _all_pages(store, 1, order_by="end_time") == ["short", "long", "running"]


def test_children_nest_under_their_parent(store: SqlStore) -> None:
    parent = _run(store, "search", 0)
    for i in range(3):
        _run(store, f"child{i}", i + 1, tags={PARENT_RUN_ID_TAG: parent})
    _run(store, "alone", 10)
    page = store.search_runs_table(["0"])
    assert _names(page) == ["alone", "search"]
    assert [row.child_count for row in page.rows] == [0, 3]
    children = store.search_runs_table(["0"], parent_run_id=parent)
    assert _names(children) == ["child2", "child1", "child0"]
    assert {row.parent_run_id for row in children.rows} == {parent}
    flat = store.search_runs_table(["0"], nested=False)
    assert len(flat.rows) == 5


def test_a_matching_child_of_a_parent_that_does_not_match_is_a_row(
    store: SqlStore,
) -> None:
    parent = _run(store, "search", 0, metrics={"score": 0.1})
    _run(store, "good", 1, metrics={"score": 0.9}, tags={PARENT_RUN_ID_TAG: parent})
    _run(store, "bad", 2, metrics={"score": 0.2}, tags={PARENT_RUN_ID_TAG: parent})
    page = store.search_runs_table(["0"], filter_string="metrics.score > 0.5")
    assert _names(page) == ["good"]
    both = store.search_runs_table(["0"], filter_string="metrics.score > 0.15")
    assert _names(both) == ["bad", "good"]  # the parent does not match
    parent_too = store.search_runs_table(["0"], filter_string="metrics.score > 0")
    assert _names(parent_too) == ["search"]
    assert parent_too.rows[0].child_count == 2


def test_the_child_of_a_deleted_parent_is_a_row(store: SqlStore) -> None:
    parent = _run(store, "search", 0)
    _run(store, "child", 1, tags={PARENT_RUN_ID_TAG: parent})
    store.update_run_info(parent, lifecycle_stage=LifecycleStage.DELETED.value)
    assert _names(store.search_runs_table(["0"])) == ["child"]
    deleted = store.search_runs_table(["0"], view_type=ViewType.DELETED_ONLY)
    assert _names(deleted) == ["search"]
    assert deleted.rows[0].child_count == 0


def test_group_by_orders_groups_then_the_sort_inside(store: SqlStore) -> None:
    for name, solver, acc in [
        ("a", "sgd", 0.1),
        ("b", "adam", 0.5),
        ("c", "sgd", 0.9),
        ("d", "adam", math.nan),
    ]:
        _run(store, name, 0, params={"solver": solver}, metrics={"acc": acc})
    _run(store, "e", 0)
    query = {"group_by": "params.solver", "order_by": "metrics.acc DESC"}
    assert _all_pages(store, 1, **query) == ["b", "d", "c", "a", "e"]
    page = store.search_runs_table(["0"], **query)  # type: ignore[arg-type]
    assert page.groups == [("adam", 2), ("sgd", 2), (None, 1)]
    assert page.rows[0].values["params.solver"] == "adam"


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("duration DESC", ["b", "a", "running", "d", "c"]),
        ("params.C", ["a", "b", "running", "c", "d"]),
        ("run_name DESC", ["running", "b", "a", "d", "c"]),
    ],
    ids=["nullable-attribute", "param", "attribute"],
)
def test_group_by_then_any_sort(
    store: SqlStore, order_by: str, expected: list[str]
) -> None:
    _run(store, "a", 0, params={"g": "1", "C": "0.1"}, end=5)
    _run(store, "b", 1, params={"g": "1", "C": "1"}, end=50)
    _run(store, "running", 2, params={"g": "1"})
    _run(store, "c", 3, params={"g": "2", "C": "0.5"}, end=4)
    _run(store, "d", 4, params={"g": "2", "C": "2"}, end=10)
    query = {"group_by": "params.g", "order_by": order_by, "columns": ["duration"]}
    assert _all_pages(store, 2, **query) == expected


def test_group_by_an_attribute(store: SqlStore) -> None:
    _run(store, "a", 0, end=5)
    _run(store, "b", 1)
    page = store.search_runs_table(["0"], group_by="status", order_by="start_time")
    assert page.groups == [("FINISHED", 1), ("RUNNING", 1)]
    assert _names(page) == ["a", "b"]


def test_group_by_a_metric_is_refused(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="group_by must be a param"):
        store.search_runs_table(["0"], group_by="metrics.acc")


def test_a_token_of_another_query_is_refused(store: SqlStore) -> None:
    for i in range(3):
        _run(store, f"r{i}", i)
    page = store.search_runs_table(["0"], max_results=1)
    with pytest.raises(InvalidValueError, match="same table"):
        store.search_runs_table(
            ["0"], max_results=1, page_token=page.token, order_by="run_name"
        )


@pytest.mark.parametrize(
    "token",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(
            json.dumps({"query": "x", "segment": 0, "after": []}).encode()
        ).decode(),
    ],
    ids=["garbage", "not-an-object", "wrong-query"],
)
def test_a_malformed_token_is_refused(store: SqlStore, token: str) -> None:
    with pytest.raises(InvalidValueError, match="page_token"):
        store.search_runs_table(["0"], page_token=token)


def test_a_filter_error_says_where(store: SqlStore) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        store.search_runs_table(["0"], filter_string="metrics.acc > 0.5 AND (")
    assert info.value.position == 23


@pytest.mark.parametrize(
    ("argument", "value", "match"),
    [
        ("max_results", 0, "max_results must be an int from 1"),
        ("columns", ["params."], r"column must be .*position 6"),
        ("columns", [""], "column must be"),
        ("columns", [f"params.p{i}" for i in range(501)], "at most 500"),
        ("order_by", "metrics.acc SIDEWAYS", "order_by must be .*ASC, DESC"),
        ("order_by", " ", "order_by must be"),
        ("columns", ["bogus"], "column must be .*an attribute"),
        ("columns", ["params.C DESC"], "column must be .*the end at position 9"),
    ],
    ids=[
        "page-size",
        "empty-key",
        "empty",
        "too-many",
        "direction",
        "blank",
        "attr",
        "column-direction",
    ],
)
def test_bad_arguments_are_clear_errors(
    store: SqlStore, argument: str, value: object, match: str
) -> None:
    with pytest.raises(InvalidValueError, match=match):
        store.search_runs_table(["0"], **{argument: value})  # type: ignore[arg-type]


def test_no_experiments_is_an_empty_page(store: SqlStore) -> None:
    assert store.search_runs_table([]).rows == []
    assert store.search_runs_table([], group_by="params.a").groups == []


def test_a_single_experiment_id_string_is_accepted(store: SqlStore) -> None:
    _run(store, "a", 0)
    assert _names(store.search_runs_table("0", columns="params.x")) == ["a"]


def test_sample_run_keys_counts_runs_and_values(store: SqlStore) -> None:
    _run(store, "a", 0, params={"C": "1"}, metrics={"acc": 0.5}, tags={"t": "x"})
    _run(store, "b", 1, params={"C": "2"}, metrics={"acc": 0.5})
    keys = store.sample_run_keys(["0"])
    assert keys.params == {"C": (2, 2)}
    assert keys.metrics == {"acc": (2, 1)}
    assert keys.tags["t"] == (1, 1)
    assert keys.sample_size == 2
    assert store.sample_run_keys("0", sample_size=1).params == {"C": (1, 1)}
    assert store.sample_run_keys([]).sample_size == 0


def test_column_names_quote_keys_that_need_it() -> None:
    assert parse_column("params.`a b`").name == "params.`a b`"
    assert parse_column("duration") == TableColumn("attribute", "duration")
    assert TableColumn("tag", "mlflow.source.name").name == "tags.mlflow.source.name"
    assert TableColumn("metric", "a`b c").name == "metrics.`a``b c`"
    assert parse_sort("metrics.`a b` DESC").descending


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    values=st.lists(
        st.one_of(
            st.none(), st.floats(allow_nan=True, width=32), st.sampled_from([0.5])
        ),
        min_size=1,
        max_size=8,
    ),
    size=st.integers(1, 4),
    descending=st.booleans(),
)
def test_any_page_size_gives_the_same_order(
    sqlite_store: SqlStore, values: list[float | None], size: int, descending: bool
) -> None:
    for run in sqlite_store.search_runs_table(["0"], nested=False).rows:
        sqlite_store.update_run_info(
            run.info.run_id, lifecycle_stage=LifecycleStage.DELETED.value
        )
    for i, value in enumerate(values):
        metrics = {} if value is None else {"m": value}
        _run(sqlite_store, f"r{i}", start=i % 2, metrics=metrics)
    order = "metrics.m DESC" if descending else "metrics.m"
    whole = _all_pages(sqlite_store, 1000, order_by=order)
    assert _all_pages(sqlite_store, size, order_by=order) == whole
    assert sorted(whole) == sorted(f"r{i}" for i in range(len(values)))


def test_metric_sort_in_a_small_experiment_of_a_large_store(store: SqlStore) -> None:
    small = store.create_experiment("small")
    for i in range(12):
        _run(store, f"other{i}", i, metrics={"acc": i / 100})
    _run(store, "b", 1, metrics={"acc": 0.2}, experiment_id=small)
    _run(store, "a", 2, metrics={"acc": 0.7}, experiment_id=small)
    page = store.search_runs_table([small], order_by="metrics.acc DESC")
    assert _names(page) == ["a", "b"]


def test_experiment_run_stats_count_runs_and_the_latest_start(store: SqlStore) -> None:
    other = store.create_experiment("other")
    _run(store, "a", 5)
    _run(store, "b", 9)
    deleted = _run(store, "c", 20)
    store.update_run_info(deleted, lifecycle_stage=LifecycleStage.DELETED.value)
    stats = store.experiment_run_stats(["0", other])
    assert stats == {"0": (2, 9)}
    assert store.experiment_run_stats("0", view_type=ViewType.ALL) == {"0": (3, 20)}
    assert store.experiment_run_stats([]) == {}
