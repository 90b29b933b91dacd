"""Search: the filter grammar, errors with positions, ordering and paging."""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mltrail._entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from mltrail._errors import FilterSyntaxError, InvalidValueError
from mltrail.store import _search as search
from mltrail.store._sql import SqlStore
from tests._stores import BACKENDS, ServerDatabase, open_empty_store

RUNS: dict[str, dict[str, Any]] = {
    "a": {
        "params": {"model": "rf", "C": "1.0"},
        "metrics": {"acc": 0.9, "loss": 0.1},
        "tags": {"team": "ML-core", "mlflow.parentRunId": "p1"},
        "status": "FINISHED",
        "start_time": 1000,
        "dataset": ("iris", "d1", "train"),
    },
    "b": {
        "params": {"model": "lr", "C": "0.5"},
        "metrics": {"acc": 0.7, "loss": math.nan},
        "tags": {"team": "ml-edge"},
        "status": "FAILED",
        "start_time": 2000,
        "dataset": ("wine", "d2", "eval"),
    },
    "c": {
        "params": {"model": "RF"},
        "metrics": {"acc": math.inf},
        "tags": {},
        "status": "RUNNING",
        "start_time": 3000,
        "dataset": None,
    },
    "d": {
        "params": {},
        "metrics": {"acc": -math.inf, "val/AR@100": 0.5},
        "tags": {"my tag": "x"},
        "status": "FINISHED",
        "start_time": 4000,
        "dataset": None,
    },
}


def _populate(store: SqlStore) -> dict[str, str]:
    ids = {}
    for name, spec in RUNS.items():
        run_id = store.create_run(
            "0",
            user_id="ada",
            start_time=spec["start_time"],
            run_name=name,
        ).info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric(k, v, 0, 0) for k, v in spec["metrics"].items()],
            params=[Param(k, v) for k, v in spec["params"].items()],
            tags=[RunTag(k, v) for k, v in spec["tags"].items()],
        )
        if spec["dataset"] is not None:
            dataset_name, digest, context = spec["dataset"]
            store.log_inputs(
                run_id,
                [
                    DatasetInput(
                        Dataset(dataset_name, digest, "code", "{}"),
                        [InputTag("mlflow.data.context", context)],
                    )
                ],
            )
        if spec["status"] != "RUNNING":
            store.update_run_info(
                run_id,
                status=spec["status"],
                end_time=spec["start_time"] + 1,
            )
        ids[name] = run_id
    return ids


@pytest.fixture(scope="module", params=BACKENDS, ids=BACKENDS)
def populated(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    server_databases: dict[str, ServerDatabase],
) -> Iterator[tuple[SqlStore, dict[str, str]]]:
    """The runs of ``RUNS``, written once per backend for the read-only filter tests."""
    store = open_empty_store(
        request.param,
        server_databases,
        tmp_path_factory.mktemp("populated"),
        sqlite_template,
        slot="search",
    )
    yield store, _populate(store)
    store.close()


def _names(store: SqlStore, filter_string: str) -> set[str]:
    return {
        r.info.run_name for r in store.search_runs(["0"], filter_string=filter_string)
    }


FILTERS = [
    ("", "abcd"),
    ("metrics.acc > 0.8", "ac"),
    ("metrics.acc < 0.8", "bd"),
    ("metric.acc <= 0.7", "bd"),
    ("metrics.acc > -1e10", "abc"),
    ("metrics.loss = 0.1", "a"),
    ("metrics.loss != 0.1", "b"),
    ("metrics.loss >= 0", "a"),
    ("metrics.loss IS NULL", "cd"),
    ("metrics.`val/AR@100` > 0.1", "d"),
    ("metrics.val/AR@100 > 0.1", "d"),
    ("params.model = 'rf'", "a"),
    ("param.model == 'rf'", "a"),
    ("parameters.model <> 'rf'", "bc"),
    ("params.model != 'rf'", "bc"),
    ("params.model LIKE 'r%'", "a"),
    ("params.model ILIKE 'r%'", "ac"),
    ("params.model IN ('rf', 'lr')", "ab"),
    ("params.model NOT IN ('rf')", "bc"),
    ("params.C IS NULL", "cd"),
    ("params.C IS NOT NULL", "ab"),
    ("tags.team LIKE 'ML%'", "a"),
    ("tags.team ILIKE 'ml%'", "ab"),
    ('tags.team = "ml-edge"', "b"),
    ("tags.mlflow.parentRunId = 'p1'", "a"),
    ("tags.`my tag` = 'x'", "d"),
    ('tags."my tag" = "x"', "d"),
    ("attributes.status = 'FINISHED'", "ad"),
    ("status != 'FINISHED'", "bc"),
    ("run.status IN ('FAILED', 'RUNNING')", "bc"),
    ("attr.start_time >= 3000", "cd"),
    ("created < 2500", "ab"),
    ("attribute.run_name = 'b'", "b"),
    ("`run name` = 'c'", "c"),
    ("run_name LIKE '_'", "abcd"),
    ("end_time IS NULL", "c"),
    ("end_time > 2500", "d"),
    ("datasets.name = 'iris'", "a"),
    ("dataset.context = 'eval'", "b"),
    ("datasets.digest IN ('d1', 'd2')", "ab"),
    ("datasets.name LIKE 'w%'", "b"),
    ("datasets.name NOT IN ('iris')", "b"),
    ("metrics.acc > 0.8 OR params.model = 'lr'", "abc"),
    ("NOT params.model = 'rf'", "bcd"),
    ("not not params.model = 'rf'", "a"),
    ("(metrics.acc > 0.8 or metrics.acc < 0) and status = 'FINISHED'", "ad"),
    ("metrics.acc > 0.8 or metrics.acc < 0 and status = 'FINISHED'", "acd"),
    ("not (status = 'FINISHED' or status = 'FAILED')", "c"),
    ("params.model = 'rf' AND metrics.acc > 0.5", "a"),
    ("PARAMS.model = 'rf' aNd Metrics.acc > 0.5", "a"),
    ("((params.model = 'RF'))", "c"),
    ("params.model = 'r''f' or params.model = 'l\\'r'", ""),
]


@pytest.mark.parametrize(
    ("filter_string", "expected"), FILTERS, ids=[f[0] or "empty" for f in FILTERS]
)
def test_filter_selects_runs(
    store: SqlStore, filter_string: str, expected: str
) -> None:
    _populate(store)
    assert _names(store, filter_string) == set(expected)


def test_filter_on_run_id_list(populated: tuple[SqlStore, dict[str, str]]) -> None:
    store, ids = populated
    found = _names(store, f"attributes.run_id IN ('{ids['a']}', '{ids['c']}')")
    assert found == {"a", "c"}


def test_like_is_case_sensitive_on_run_names(
    populated: tuple[SqlStore, dict[str, str]],
) -> None:
    store, _ = populated
    assert _names(store, "run_name LIKE 'A'") == set()
    assert _names(store, "run_name ILIKE 'A'") == {"a"}


ERRORS = [
    ("metrics.acc >", 13, "a number"),
    ("metrics.acc > 'x'", 14, "a number"),
    ("params.model > 'x'", 13, "a comparator for param 'model'"),
    ("params.model = 3", 15, "a quoted string"),
    ("foo.bar = 1", 0, "a prefix: metrics."),
    ("unknown = 'x'", 0, "an attribute: run_id"),
    ("metrics.acc > 1 and", 19, "an identifier"),
    ("(metrics.acc > 1", 16, "'\\)'"),
    ("metrics.acc > 1 metrics.b > 2", 16, "AND, OR or the end"),
    ("params.a IN 'x'", 12, "'\\('"),
    ("params.a IN ('x' 'y')", 17, "',' or '\\)'"),
    ("params.a IS 'x'", 12, "NULL"),
    ("params.a NOT LIKE 'x'", 13, "IN after NOT"),
    ("params.a = 'open", 11, "an identifier, a value or an operator"),
    ("datasets.foo = 'x'", 0, "a dataset key"),
    ("metrics.acc LIKE '1'", 12, "a comparator for metric"),
    ("start_time IS NULL", 11, "a comparator for attribute"),
    ("params.a", 8, "a comparator"),
    ("metrics.`` > 1", 0, "a non-empty key"),
]


@pytest.mark.parametrize(
    ("filter_string", "position", "expected"), ERRORS, ids=[e[0] for e in ERRORS]
)
def test_bad_filter_reports_position(
    store: SqlStore, filter_string: str, position: int, expected: str
) -> None:
    with pytest.raises(FilterSyntaxError, match=expected) as info:
        store.search_runs(["0"], filter_string=filter_string)
    assert info.value.position == position
    assert str(info.value).endswith("\n" + " " * (position + 4) + "^")


def test_filter_must_be_str(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="filter_string must be a str"):
        store.search_runs(["0"], filter_string=None)  # type: ignore[arg-type]


def test_parse_filter_builds_precedence_tree() -> None:
    node = search.parse_filter("run_name = 'x' or not status = 'y' and user_id = 'z'")
    assert isinstance(node, search.Or)
    first, second = node.items
    assert isinstance(first, search.Comparison)
    assert isinstance(second, search.And)
    assert isinstance(second.items[0], search.Not)


# Ordering.


def _ordered(store: SqlStore, *order_by: str) -> list[str]:
    return [r.info.run_name for r in store.search_runs(["0"], order_by=list(order_by))]


def test_order_by_metric_puts_nan_then_missing_last(store: SqlStore) -> None:
    for name, value in [
        ("one", 1.0),
        ("nan", math.nan),
        ("three", 3.0),
        ("none", None),
        ("inf", math.inf),
        ("ninf", -math.inf),
    ]:
        run_id = store.create_run(
            "0", user_id="u", start_time=0, run_name=name
        ).info.run_id
        if value is not None:
            store.log_batch(run_id, metrics=[Metric("m", value, 0, 0)])
    assert _ordered(store, "metrics.m DESC") == [
        "inf",
        "three",
        "one",
        "ninf",
        "nan",
        "none",
    ]
    assert _ordered(store, "metrics.m") == [
        "ninf",
        "one",
        "three",
        "inf",
        "nan",
        "none",
    ]


def test_order_by_param_and_tag_puts_missing_last(store: SqlStore) -> None:
    for name, value in [("x", "b"), ("y", None), ("z", "a")]:
        tags = [RunTag("t", value)] if value else []
        run_id = store.create_run(
            "0", user_id="u", start_time=0, run_name=name, tags=tags
        ).info.run_id
        if value is not None:
            store.log_batch(run_id, params=[Param("p", value)])
    assert _ordered(store, "params.p ASC") == ["z", "x", "y"]
    assert _ordered(store, "tags.t DESC") == ["x", "z", "y"]


def test_order_by_attributes_and_tie_breakers(store: SqlStore) -> None:
    _populate(store)
    assert _ordered(store) == ["d", "c", "b", "a"]
    assert _ordered(store, "attributes.start_time ASC") == ["a", "b", "c", "d"]
    assert _ordered(store, "end_time DESC") == ["d", "b", "a", "c"]
    assert _ordered(store, "status", "run_name DESC") == ["b", "d", "a", "c"]
    tied = [
        store.create_run("0", user_id="u", start_time=5, run_name="t").info.run_id
        for _ in range(3)
    ]
    found = [r.info.run_id for r in store.search_runs(["0"]) if r.info.run_name == "t"]
    assert found == sorted(tied)


def test_order_by_duplicate_key_is_rejected(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="each key at most once"):
        store.search_runs(["0"], order_by=["metrics.a", "metric.a DESC"])


@pytest.mark.parametrize(
    ("clause", "match"),
    [
        ("metrics.a UP", "ASC, DESC or the end"),
        ("datasets.name", "a prefix: metrics., params., tags., attributes."),
        ("nope", "an attribute"),
        ("", "an identifier"),
    ],
    ids=["direction", "dataset", "attribute", "empty"],
)
def test_bad_order_by_is_rejected(store: SqlStore, clause: str, match: str) -> None:
    with pytest.raises(FilterSyntaxError, match=match):
        store.search_runs(["0"], order_by=[clause])


def test_order_by_entry_must_be_str(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="order_by entry must be a str"):
        store.search_runs(["0"], order_by=[1])  # type: ignore[list-item]


# Pages, views and experiments.


def test_pages_are_stable_and_complete(store: SqlStore) -> None:
    made = {
        store.create_run(
            "0", user_id="u", start_time=n % 3, run_name=f"r{n}"
        ).info.run_id
        for n in range(23)
    }
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = store.search_runs(
            ["0"], max_results=5, page_token=token, order_by=["run_name"]
        )
        seen.extend(r.info.run_id for r in page)
        pages += 1
        token = page.token
        if token is None:
            break
    assert pages == 5
    assert len(seen) == len(made) == len(set(seen))
    assert set(seen) == made
    full = [r.info.run_id for r in store.search_runs(["0"], order_by=["run_name"])]
    assert seen == full


def test_last_full_page_has_no_token(store: SqlStore) -> None:
    for n in range(4):
        store.create_run("0", user_id="u", start_time=n, run_name="r")
    assert store.search_runs(["0"], max_results=4).token is None
    assert store.search_runs(["0"], max_results=3).token is not None


@pytest.mark.parametrize(
    "token",
    [
        "not base64!",
        base64.b64encode(b"[1]").decode(),
        base64.b64encode(b'{"offset": -1}').decode(),
        base64.b64encode(b'{"offset": "3"}').decode(),
        base64.b64encode(b"\xff").decode(),
    ],
    ids=["garbage", "list", "negative", "str-offset", "not-utf8"],
)
def test_bad_page_token_is_rejected(store: SqlStore, token: str) -> None:
    with pytest.raises(InvalidValueError, match="page_token must be a token"):
        store.search_runs(["0"], page_token=token)


@pytest.mark.parametrize(
    "max_results", [0, 50_001, True, 2.0], ids=["zero", "too-many", "bool", "float"]
)
def test_bad_max_results_is_rejected(store: SqlStore, max_results: object) -> None:
    with pytest.raises(
        InvalidValueError, match="max_results must be an int from 1 to 50,000"
    ):
        store.search_runs(["0"], max_results=max_results)  # type: ignore[arg-type]


def test_search_spans_experiments_and_views(store: SqlStore) -> None:
    other = store.create_experiment("other")
    kept = store.create_run(
        other, user_id="u", start_time=0, run_name="kept"
    ).info.run_id
    gone = store.create_run("0", user_id="u", start_time=0, run_name="gone").info.run_id
    store.update_run_info(gone, lifecycle_stage="deleted")
    assert [r.info.run_id for r in store.search_runs([other, "0"])] == [kept]
    assert len(store.search_runs(other)) == 1
    assert {
        r.info.run_name for r in store.search_runs(["0", other], view_type=ViewType.ALL)
    } == {"kept", "gone"}
    assert store.search_runs([]) == []


def test_search_returns_full_runs(store: SqlStore) -> None:
    ids = _populate(store)
    [run] = store.search_runs(["0"], filter_string="run_name = 'a'")
    assert run == store.get_run(ids["a"])
    assert run.data.params == {"model": "rf", "C": "1.0"}
    assert run.inputs.dataset_inputs[0].dataset.name == "iris"


def test_search_experiments_filters_and_orders(store: SqlStore) -> None:
    store.create_experiment("beta", tags=[RunTag("team", "risk")])
    store.create_experiment("alpha")
    gone = store.create_experiment("Alpaca")
    store.update_experiment(gone, lifecycle_stage="deleted")

    def names(**kwargs: Any) -> list[str]:
        return [e.name for e in store.search_experiments(**kwargs)]

    assert names(order_by=["name"]) == ["Default", "alpha", "beta"]
    assert names(order_by=["attributes.name DESC"]) == ["beta", "alpha", "Default"]
    assert names(filter_string="name LIKE 'al%'") == ["alpha"]
    assert sorted(names(filter_string="name ILIKE 'AL%'", view_type=ViewType.ALL)) == [
        "Alpaca",
        "alpha",
    ]
    assert names(filter_string="tags.team = 'risk'") == ["beta"]
    assert names(filter_string="name != 'Default' and not tags.team IS NOT NULL") == [
        "alpha"
    ]
    assert names(view_type=ViewType.DELETED_ONLY) == ["Alpaca"]
    assert names(order_by=["experiment_id DESC"])[-1] == "Default"
    assert names(order_by=["tags.team"]) == ["beta", "Default", "alpha"]
    assert names(
        filter_string="creation_time >= 0",
        order_by=["creation_time", "last_update_time"],
    )[0] in {"Default", "beta"}


def test_search_experiments_puts_the_newest_first_by_default(store: SqlStore) -> None:
    """As MLflow's: creation time descending, then the id ascending."""
    for name, created in (("old", 1_000), ("new", 3_000), ("twin", 1_000)):
        store.create_experiment(name, creation_time=created)
    found = [e.name for e in store.search_experiments()]
    assert found[-3:] == ["new", "old", "twin"]
    assert found[0] == "Default"  # created now, the newest
    assert [e.name for e in store.search_experiments(max_results=2)] == found[:2]
    second = store.search_experiments(
        max_results=2, page_token=store.search_experiments(max_results=2).token
    )
    assert [e.name for e in second] == found[2:]


def test_search_experiments_pages(store: SqlStore) -> None:
    for n in range(5):
        store.create_experiment(f"e{n}")
    first = store.search_experiments(max_results=4)
    second = store.search_experiments(max_results=4, page_token=first.token)
    assert len(first) == 4
    assert second.token is None
    assert {e.name for e in first} | {e.name for e in second} == {
        "Default",
        "e0",
        "e1",
        "e2",
        "e3",
        "e4",
    }


@pytest.mark.parametrize(
    ("filter_string", "match"),
    [
        ("metrics.a > 1", "a prefix: tags., attributes."),
        ("status = 'x'", "an attribute: name"),
    ],
    ids=["metric", "run-attribute"],
)
def test_search_experiments_rejects_run_fields(
    store: SqlStore, filter_string: str, match: str
) -> None:
    with pytest.raises(FilterSyntaxError, match=match):
        store.search_experiments(filter_string=filter_string)


def test_order_by_accepts_single_str() -> None:
    assert search.parse_order_by("metrics.a DESC") == [
        search.OrderKey("metric", "a", True)
    ]


@pytest.mark.parametrize("view_type", ["active", 3], ids=["lowercase", "int"])
def test_bad_view_type_is_rejected(store: SqlStore, view_type: object) -> None:
    with pytest.raises(InvalidValueError, match="view_type must be one of ACTIVE_ONLY"):
        store.search_runs(["0"], view_type=view_type)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="view_type must be one of"):
        store.search_experiments(view_type=view_type)  # type: ignore[arg-type]


def test_view_type_may_be_a_plain_str(store: SqlStore) -> None:
    store.create_run("0", user_id="u", start_time=0, run_name="r")
    assert len(store.search_runs(["0"], view_type="ALL")) == 1  # type: ignore[arg-type]
