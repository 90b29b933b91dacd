"""Bad input to the store raises mltrail errors that name it, and changes nothing.

Each case is one the attack on the store found raising a raw Python error (#9 §5).
"""

from __future__ import annotations

import math

import pytest

from mltrail._entities import Dataset, DatasetInput, Metric, Param, RunTag
from mltrail._errors import FilterSyntaxError, InvalidValueError
from mltrail.store._sql import SqlStore


@pytest.fixture
def run_id(store: SqlStore) -> str:
    return store.create_run("0", user_id="u", start_time=0, run_name="r").info.run_id


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"metrics": None}, "metrics must be a list of Metric"),
        ({"params": None}, "params must be a list of Param"),
        ({"tags": None}, "tags must be a list of RunTag"),
        ({"tags": "team"}, "tags must be a list of RunTag"),
        ({"params": {"C": "1"}}, "params must be a list of Param"),
        ({"metrics": 3}, "metrics must be a list of Metric"),
    ],
    ids=["metrics-none", "params-none", "tags-none", "tags-str", "params-dict", "int"],
)
def test_log_batch_rejects_non_lists(
    store: SqlStore, run_id: str, arguments: dict[str, object], match: str
) -> None:
    with pytest.raises(InvalidValueError, match=match):
        store.log_batch(run_id, **arguments)  # type: ignore[arg-type]  # the attack
    assert store.get_run(run_id).data.params == {}


@pytest.mark.parametrize(
    "batches",
    [None, [("only-id",)], ["not a pair"], 7],
    ids=["none", "short", "str", "int"],
)
def test_metric_batches_reject_malformed(store: SqlStore, batches: object) -> None:
    with pytest.raises(InvalidValueError, match="metric batch"):
        store.log_metric_batches(batches)  # type: ignore[arg-type]  # the attack


def test_log_inputs_rejects_none(store: SqlStore, run_id: str) -> None:
    with pytest.raises(InvalidValueError, match="datasets must be a list"):
        store.log_inputs(run_id, None)  # type: ignore[arg-type]  # the attack
    dataset = DatasetInput(Dataset("d", "1", "code", "{}"))
    store.log_inputs(run_id, (dataset,))
    assert len(store.get_run(run_id).inputs.dataset_inputs) == 1


@pytest.mark.parametrize(
    "metric",
    [
        Metric("m", 1.0, 2**64, 0),
        Metric("m", 1.0, 2**63, 0),
        Metric("m", 1.0, 0, 2**64),
        Metric("m", 1.0, -(2**63) - 1, 0),
    ],
    ids=["timestamp-2**64", "timestamp-2**63", "step-2**64", "timestamp-below"],
)
def test_numbers_beyond_64_bits_are_invalid(
    store: SqlStore, run_id: str, metric: Metric
) -> None:
    with pytest.raises(InvalidValueError, match="fits in 64 bits"):
        store.log_batch(run_id, metrics=[metric])
    with pytest.raises(InvalidValueError, match="fits in 64 bits"):
        store.update_run_info(
            run_id, status="FINISHED", end_time=1, metric_batches=[(run_id, [metric])]
        )
    assert store.get_run(run_id).info.status == "RUNNING"
    assert store.get_metric_history(run_id, "m") == []


def test_experiment_ids_must_be_a_list(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="experiment_ids must be a list"):
        store.search_runs(None)  # type: ignore[arg-type]  # the attack


def _nested(depth: int) -> str:
    return "(" * depth + "metrics.m > 0" + ")" * depth


@pytest.mark.parametrize(
    "text",
    [_nested(400), "NOT " * 400 + "metrics.m > 0", _nested(10_000)],
    ids=["parentheses-400", "not-400", "parentheses-10000"],
)
def test_deeply_nested_filter_is_a_syntax_error(store: SqlStore, text: str) -> None:
    with pytest.raises(FilterSyntaxError, match="fewer nested NOTs and parentheses"):
        store.search_runs(["0"], filter_string=text)


def _alternating(depth: int) -> str:
    """NOT (a OR NOT (a OR ...)): every level nests in SQL too."""
    text = "metrics.m < 0"
    for _ in range(depth // 2):
        text = f"NOT (metrics.m < 0 OR {text})"
    return text


@pytest.mark.parametrize(
    "text",
    [_nested(30), "NOT " * 30 + "metrics.m > 0", _alternating(30)],
    ids=["parentheses", "nots", "alternating"],
)
def test_filter_nested_within_the_limit_runs(
    store: SqlStore, run_id: str, text: str
) -> None:
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 0, 0)])
    found = store.search_runs(["0"], filter_string=text)
    assert [r.info.run_id for r in found] == [run_id]


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("params.a = '\udcff'", 12),
        ("params.\ud800 = 'x'", 7),
        ("tags.a = 'x\x00'", 11),
    ],
    ids=["surrogate-value", "surrogate-key", "nul"],
)
def test_unencodable_filter_is_a_syntax_error(
    store: SqlStore, text: str, position: int
) -> None:
    with pytest.raises(FilterSyntaxError, match=f"position {position}") as caught:
        store.search_runs(["0"], filter_string=text)
    str(caught.value).encode("utf-8")  # printable on any terminal


def test_unencodable_order_by_is_a_syntax_error(store: SqlStore) -> None:
    with pytest.raises(FilterSyntaxError, match="lone surrogates"):
        store.search_runs(["0"], order_by=["params.\udcff"])


@pytest.mark.parametrize(
    "text",
    ["metrics.m > 1e999", "attributes.start_time < -1e400"],
    ids=["metric", "attribute"],
)
def test_infinite_number_in_filter_is_a_syntax_error(
    store: SqlStore, text: str
) -> None:
    with pytest.raises(FilterSyntaxError, match="within the range of a 64-bit float"):
        store.search_runs(["0"], filter_string=text)


def test_largest_finite_number_in_filter_runs(store: SqlStore, run_id: str) -> None:
    store.log_batch(run_id, metrics=[Metric("m", math.inf, 0, 0)])
    found = store.search_runs(["0"], filter_string="metrics.m > 1.7e308")
    assert [r.info.run_id for r in found] == [run_id]


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get_experiment_by_name("\udcff"),
        lambda s: s.get_run("\udcff" * 32),
        lambda s: s.get_run("é" * 32),
        lambda s: s.get_metric_history("a" * 32, "\udcff"),
        lambda s: s.create_experiment("x\udcff"),
    ],
    ids=["experiment-name", "run-id-surrogate", "run-id-unicode", "key", "create"],
)
def test_lone_surrogates_are_invalid(store: SqlStore, call: object) -> None:
    with pytest.raises(InvalidValueError):
        call(store)  # type: ignore[operator]  # a lambda


def test_rejected_batch_writes_nothing(store: SqlStore, run_id: str) -> None:
    with pytest.raises(InvalidValueError):
        store.log_batch(
            run_id,
            metrics=[Metric("ok", 1.0, 0, 0)],
            params=[Param("p", "v")],
            tags=[RunTag("t", "v"), RunTag("bad", 3)],  # type: ignore[arg-type]
        )
    data = store.get_run(run_id).data
    assert (data.metrics, data.params) == ({}, {})


# MariaDB's PAD SPACE collation: names and values compare exactly everywhere.


def test_names_differing_by_trailing_space_are_distinct(store: SqlStore) -> None:
    first = store.create_experiment("pad")
    second = store.create_experiment("pad ")
    assert first != second
    assert store.get_experiment_by_name("pad ").experiment_id == second  # type: ignore[union-attr]
    assert store.get_experiment_by_name("pad").experiment_id == first  # type: ignore[union-attr]
    found = store.search_experiments(filter_string="name = 'pad'")
    assert [e.experiment_id for e in found] == [first]


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("params.a = 'x'", {"x"}),
        ("params.a = 'x '", {"x "}),
        ("params.a != 'x'", {"x ", "x  "}),
        ("params.a IN ('x')", {"x"}),
        ("params.a NOT IN ('x')", {"x ", "x  "}),
        ("tags.t = 'x'", {"x"}),
        ("attributes.run_name = 'x'", {"x"}),
        ("params.a LIKE 'x_'", {"x "}),
    ],
    ids=["eq", "eq-space", "ne", "in", "not-in", "tag", "run-name", "like"],
)
def test_values_compare_exactly(store: SqlStore, text: str, matches: set[str]) -> None:
    for value in ("x", "x ", "x  "):
        run_id = store.create_run(
            "0", user_id="u", start_time=0, run_name=value
        ).info.run_id
        store.log_batch(run_id, params=[Param("a", value)], tags=[RunTag("t", value)])
    found = store.search_runs(["0"], filter_string=text)
    assert {r.data.params["a"] for r in found} == matches
