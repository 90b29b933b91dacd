"""Keyset pages: a row added or removed between two pages never repeats or vanishes."""

from __future__ import annotations

import base64
import json
import math

import pytest

from mltrail._entities import Metric, Param, RunTag, ViewType
from mltrail._errors import InvalidValueError
from mltrail.store import _pages as pages
from mltrail.store._sql import SqlStore

ORDERS = [
    [],
    ["metrics.acc DESC"],
    ["metrics.acc ASC"],
    ["params.model"],
    ["tags.team DESC"],
    ["attributes.end_time"],
    ["run_name DESC", "metrics.acc"],
    ["start_time ASC"],
]
ORDER_IDS = [
    "default",
    "metric-desc",
    "metric-asc",
    "param",
    "tag-desc",
    "end-time",
    "name-then-metric",
    "start-asc",
]


def _make_runs(store: SqlStore, count: int) -> list[str]:
    """Runs with ties, missing values, NaN and infinities in every sort key."""
    values = [0.5, math.nan, math.inf, -math.inf, 0.5, -0.0, 1e308]
    made = []
    for n in range(count):
        run = store.create_run("0", user_id="u", start_time=n % 4, run_name=f"r{n % 5}")
        run_id = run.info.run_id
        if n % 3:
            store.log_batch(run_id, metrics=[Metric("acc", values[n % 7], 0, 0)])
        if n % 4:
            store.log_batch(run_id, params=[Param("model", ["rf", "lr", "rf "][n % 3])])
        if n % 2:
            store.log_batch(run_id, tags=[RunTag("team", f"t{n % 3}")])
        if n % 5 == 0:
            store.update_run_info(run_id, status="FINISHED", end_time=n % 2)
        made.append(run_id)
    return made


def _all_pages(store: SqlStore, size: int, **arguments: object) -> list[str]:
    seen: list[str] = []
    token = None
    while True:
        page = store.search_runs(["0"], max_results=size, page_token=token, **arguments)  # type: ignore[arg-type]  # test arguments
        seen.extend(run.info.run_id for run in page)
        token = page.token
        if token is None:
            return seen


@pytest.mark.parametrize("order_by", ORDERS, ids=ORDER_IDS)
def test_pages_concatenate_to_the_whole_order(
    store: SqlStore, order_by: list[str]
) -> None:
    made = _make_runs(store, 17)
    whole = [r.info.run_id for r in store.search_runs(["0"], order_by=order_by)]
    assert sorted(whole) == sorted(made)
    for size in (1, 3, 16):
        assert _all_pages(store, size, order_by=order_by) == whole


@pytest.mark.parametrize("order_by", ORDERS, ids=ORDER_IDS)
def test_run_added_between_pages_does_not_repeat(
    store: SqlStore, order_by: list[str]
) -> None:
    _make_runs(store, 9)
    first = store.search_runs(["0"], max_results=4, order_by=order_by)
    # Sorts before everything on the default order (newest first), ties elsewhere.
    late = store.create_run("0", user_id="u", start_time=99, run_name="r0")
    store.log_batch(late.info.run_id, metrics=[Metric("acc", math.inf, 0, 0)])
    seen = [r.info.run_id for r in first]
    token = first.token
    while token is not None:
        page = store.search_runs(
            ["0"], max_results=4, page_token=token, order_by=order_by
        )
        seen.extend(r.info.run_id for r in page)
        token = page.token
    assert len(seen) == len(set(seen))
    assert len(seen) >= 9


def test_run_deleted_between_pages_hides_no_other(store: SqlStore) -> None:
    made = _make_runs(store, 8)
    first = store.search_runs(["0"], max_results=3)
    store.update_run_info(first[0].info.run_id, lifecycle_stage="deleted")
    rest = _all_pages_from(store, first.token)
    assert {r.info.run_id for r in first} | set(rest) == set(made)


def _all_pages_from(store: SqlStore, token: str | None) -> list[str]:
    seen: list[str] = []
    while token is not None:
        page = store.search_runs(["0"], max_results=3, page_token=token)
        seen.extend(r.info.run_id for r in page)
        token = page.token
    return seen


def test_experiment_added_between_pages_does_not_repeat(store: SqlStore) -> None:
    for n in range(5):
        store.create_experiment(f"e{n}")
    first = store.search_experiments(max_results=3, order_by=["name DESC"])
    store.create_experiment("zz")  # sorts first
    second = store.search_experiments(
        max_results=10, page_token=first.token, order_by=["name DESC"]
    )
    names = [e.name for e in first] + [e.name for e in second]
    assert names == ["e4", "e3", "e2", "e1", "e0", "Default"]


def test_experiment_pages_by_tag(store: SqlStore) -> None:
    for n in range(5):
        store.create_experiment(f"e{n}", tags=[RunTag("rank", str(n % 2))] if n else [])
    whole = [e.name for e in store.search_experiments(order_by=["tags.rank"])]
    seen: list[str] = []
    token = None
    while True:
        page = store.search_experiments(
            max_results=2, page_token=token, order_by=["tags.rank"]
        )
        seen.extend(e.name for e in page)
        token = page.token
        if token is None:
            break
    assert seen == whole


@pytest.mark.parametrize(
    "other",
    [
        {"filter_string": "metrics.acc > 0"},
        {"order_by": ["metrics.acc"]},
        {"view_type": ViewType.ALL},
    ],
    ids=["filter", "order", "view"],
)
def test_token_of_another_search_is_refused(
    store: SqlStore, other: dict[str, object]
) -> None:
    _make_runs(store, 4)
    token = store.search_runs(["0"], max_results=2).token
    with pytest.raises(InvalidValueError, match="a token of this same search"):
        store.search_runs(["0"], max_results=2, page_token=token, **other)  # type: ignore[arg-type]  # test arguments


def _token(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        _token({"offset": 2**63}),
        _token({"offset": 2**64}),
        _token({"offset": True}),
        _token({"offset": 0, "after": "x", "query": ""}),
        _token({"offset": 0, "after": [2**64, 0, "a"], "query": ""}),
        _token({"offset": 0, "after": [[1], 0, "a"], "query": ""}),
        _token({"offset": 0, "after": [True, 0, "a"], "query": ""}),
        base64.urlsafe_b64encode(b'{"offset": 0, "after": [NaN, 0, "a"]}').decode(),
        base64.urlsafe_b64encode(b"[" * 100_000).decode(),
        "\udcff",
        "é",
    ],
    ids=[
        "offset-2**63",
        "offset-2**64",
        "offset-bool",
        "after-str",
        "after-huge-int",
        "after-list",
        "after-bool",
        "after-nan",
        "nested-deep",
        "surrogate",
        "not-ascii",
    ],
)
def test_forged_token_is_rejected(store: SqlStore, token: str) -> None:
    with pytest.raises(InvalidValueError, match="page_token must be a token returned"):
        store.search_runs(["0"], page_token=token)


def test_token_with_missing_sort_value_is_rejected(store: SqlStore) -> None:
    _make_runs(store, 3)
    token = store.search_runs(["0"], max_results=2).token
    assert token is not None
    data = json.loads(base64.urlsafe_b64decode(token))
    data["after"] = data["after"][:-1]
    with pytest.raises(InvalidValueError, match="page_token must be a token returned"):
        store.search_runs(["0"], max_results=2, page_token=_token(data))


def test_offset_token_still_pages(store: SqlStore) -> None:
    made = _make_runs(store, 5)
    whole = [r.info.run_id for r in store.search_runs(["0"])]
    page = store.search_runs(["0"], page_token=_token({"offset": 3}))
    assert [r.info.run_id for r in page] == whole[3:]
    assert sorted(whole) == sorted(made)


def test_token_is_opaque_base64_json_with_offset(store: SqlStore) -> None:
    _make_runs(store, 3)
    token = store.search_runs(["0"], max_results=2).token
    assert token is not None
    data = json.loads(base64.urlsafe_b64decode(token))
    assert data["offset"] == 2
    assert len(data["after"]) == 2  # start_time DESC, run_id


def test_keyset_condition_treats_missing_as_equal() -> None:
    import sqlalchemy as sa

    column: sa.ColumnClause[object] = sa.column("x")
    condition = pages.keyset_condition([pages.SortTerm(column)], [None])
    assert str(condition.compile(compile_kwargs={"literal_binds": True})) == "false"


def test_offset_tokens_round_trip() -> None:
    assert pages.decode_offset_token(pages.encode_offset_token(7)) == 7
    assert pages.decode_offset_token(None) == 0
    assert pages.decode_offset_token("") == 0


def test_offset_token_refuses_keyset_token() -> None:
    token = pages.encode_page_token(2, [1, "a"], "f")
    with pytest.raises(InvalidValueError, match="page_token must be a token returned"):
        pages.decode_offset_token(token)


@pytest.mark.parametrize("token", [3, b"x", ["a"]], ids=["int", "bytes", "list"])
def test_token_of_wrong_type_is_rejected(token: object) -> None:
    with pytest.raises(InvalidValueError, match="page_token must be a token returned"):
        pages.decode_page_token(token, "f")
