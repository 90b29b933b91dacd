"""Logged models in ``SqlStore``: create, finalize, tags, params, metrics, search."""

from __future__ import annotations

import math

import pytest

from mltrail import (
    InvalidValueError,
    LoggedModelMetric,
    NotFoundError,
    Param,
    RunTag,
)
from mltrail.store._sql import SqlStore


def _run_id(store: SqlStore) -> str:
    return store.create_run("0", user_id="a", start_time=0, run_name="r").info.run_id


def test_create_model_under_the_experiment(store: SqlStore) -> None:
    run_id = _run_id(store)
    model = store.create_logged_model(
        "0",
        name="model",
        source_run_id=run_id,
        model_type="classifier",
        params=[Param("C", "1.0")],
        tags=[RunTag("t", "v")],
    )
    assert model.model_id.startswith("m-")
    assert len(model.model_id) == 34
    location = store.get_experiment("0").artifact_location
    assert model.artifact_location == f"{location}/models/{model.model_id}/artifacts"
    read = store.get_logged_model(model.model_id)
    assert read == model


def test_create_in_unknown_experiment_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="experiment '42'"):
        store.create_logged_model("42", name="m")


def test_create_validates_before_writing(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="model name"):
        store.create_logged_model("0", name="")
    with pytest.raises(InvalidValueError, match="value of param 'C'"):
        store.create_logged_model("0", name="m", params=[Param("C", 1.0)])  # type: ignore[arg-type]
    assert list(store.search_logged_models(["0"])) == []


def test_finalize(store: SqlStore) -> None:
    model_id = store.create_logged_model("0", name="m").model_id
    ready = store.finalize_logged_model(model_id, "READY")
    assert ready.status == "READY"
    assert ready.last_updated_timestamp >= ready.creation_timestamp
    failed = store.finalize_logged_model(model_id, "FAILED", status_message="disk")
    assert (failed.status, failed.status_message) == ("FAILED", "disk")
    with pytest.raises(InvalidValueError, match="logged model status"):
        store.finalize_logged_model(model_id, "DONE")


def test_unknown_model_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="logged model 'm-x'"):
        store.get_logged_model("m-x")
    with pytest.raises(NotFoundError):
        store.finalize_logged_model("m-x", "READY")


def test_tags_and_params(store: SqlStore) -> None:
    model_id = store.create_logged_model(
        "0", name="m", tags=[RunTag("a", "1")]
    ).model_id
    store.set_logged_model_tags(model_id, [RunTag("a", "2"), RunTag("b", "3")])
    store.log_logged_model_params(model_id, [Param("p", "x")])
    store.log_logged_model_params(model_id, [Param("p", "y")])
    model = store.get_logged_model(model_id)
    assert model.tags == {"a": "2", "b": "3"}
    assert model.params == {"p": "y"}
    store.delete_logged_model_tag(model_id, "a")
    assert store.get_logged_model(model_id).tags == {"b": "3"}
    with pytest.raises(NotFoundError, match="logged model tag 'a'"):
        store.delete_logged_model_tag(model_id, "a")


def test_metrics_keep_run_and_dataset(store: SqlStore) -> None:
    run_id = _run_id(store)
    model_id = store.create_logged_model("0", name="m").model_id
    store.log_logged_model_metrics(
        model_id,
        [
            LoggedModelMetric("acc", 0.9, 10, 0, run_id, "train", "ab12"),
            LoggedModelMetric("loss", math.nan, 11, 1),
        ],
    )
    metrics = store.get_logged_model(model_id).metrics
    assert metrics[0] == LoggedModelMetric("acc", 0.9, 10, 0, run_id, "train", "ab12")
    assert math.isnan(metrics[1].value)


def test_delete_hides_the_model(store: SqlStore) -> None:
    model_id = store.create_logged_model("0", name="m").model_id
    store.delete_logged_model(model_id)
    with pytest.raises(NotFoundError):
        store.get_logged_model(model_id)
    assert store.get_logged_model(model_id, allow_deleted=True).model_id == model_id
    assert list(store.search_logged_models(["0"])) == []


def test_search_filters_orders_and_pages(store: SqlStore) -> None:
    run_id = _run_id(store)
    ids = []
    for index, name in enumerate(["model", "model", "best"]):
        model_id = store.create_logged_model(
            "0",
            name=name,
            source_run_id=run_id if index < 2 else None,
            params=[Param("depth", str(index))],
        ).model_id
        store.log_logged_model_metrics(
            model_id,
            [LoggedModelMetric("acc", index / 10, 1, dataset_name=f"d{index}")],
        )
        ids.append(model_id)
    by_name = store.search_logged_models(["0"], filter_string="name = 'model'")
    assert {m.model_id for m in by_name} == set(ids[:2])
    either = store.search_logged_models(
        ["0"], filter_string="params.depth = '0' OR metrics.acc >= 0.2"
    )
    assert {m.model_id for m in either} == {ids[0], ids[2]}
    on_dataset = store.search_logged_models(
        ["0"], filter_string="metrics.acc >= 0", datasets=[{"dataset_name": "d1"}]
    )
    assert [m.model_id for m in on_dataset] == [ids[1]]
    ordered = store.search_logged_models(
        ["0"], order_by=[{"field_name": "metrics.acc", "ascending": False}]
    )
    assert [m.model_id for m in ordered] == ids[::-1]
    first = store.search_logged_models(
        ["0"], max_results=2, order_by=[{"field_name": "name"}]
    )
    assert [m.name for m in first] == ["best", "model"]
    rest = store.search_logged_models(
        ["0"],
        max_results=2,
        order_by=[{"field_name": "name"}],
        page_token=first.token,
    )
    assert len(rest) == 1
    assert rest.token is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"filter_string": "runs.x = 1"}, "prefix"),
        ({"order_by": [{"field_name": "size"}]}, "order_by field_name"),
        ({"order_by": [{"ascending": True}]}, "order_by field_name"),
    ],
)
def test_search_refuses_bad_input(
    store: SqlStore, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(InvalidValueError, match=match):
        store.search_logged_models(["0"], **kwargs)  # type: ignore[arg-type]


def test_run_outputs_and_inputs(store: SqlStore) -> None:
    run_id = _run_id(store)
    first = store.create_logged_model("0", name="a").model_id
    second = store.create_logged_model("0", name="b").model_id
    store.log_model_outputs(run_id, [(first, 0), (second, 3)])
    store.log_model_outputs(run_id, [(first, 5)])
    store.log_model_inputs(run_id, [second])
    inputs, outputs = store.get_run_models(run_id)
    assert inputs == [second]
    assert outputs == [(first, 0), (second, 3)]
    with pytest.raises(NotFoundError, match="logged model 'm-nope'"):
        store.log_model_outputs(run_id, [("m-nope", 0)])
    with pytest.raises(NotFoundError, match="run"):
        store.log_model_outputs("f" * 32, [(first, 0)])
