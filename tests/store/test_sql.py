"""SqlStore: experiments, runs, batches, values, heartbeats and concurrency."""

from __future__ import annotations

import math
import multiprocessing
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mltrail._entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail._errors import (
    ConflictError,
    InvalidValueError,
    NotFoundError,
    StoreError,
)
from mltrail.store._schema import metrics as metrics_table
from mltrail.store._schema import params as params_table
from mltrail.store._schema import runs as runs_table
from mltrail.store._sql import SqlStore
from tests._stores import BACKENDS


def _new_run(store: SqlStore, experiment_id: str = "0", **kwargs: Any) -> str:
    options: dict[str, Any] = {"user_id": "ada", "start_time": 1000, "run_name": "r"}
    options.update(kwargs)
    return store.create_run(experiment_id, **options).info.run_id


def _make(cls: Any, *args: Any) -> Any:
    """Build an entity with values its type hints forbid (to test validation)."""
    return cls(*args)


def _count(store: SqlStore, table: sa.Table) -> int:
    with store._engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        )


# Experiments.


def test_default_experiment_exists(store: SqlStore) -> None:
    experiment = store.get_experiment("0")
    assert (experiment.name, experiment.lifecycle_stage) == ("Default", "active")
    assert experiment.artifact_location == f"{store.artifact_root}/0"


def test_create_experiment_returns_new_id_and_location(store: SqlStore) -> None:
    experiment_id = store.create_experiment("iris", tags=[RunTag("team", "risk")])
    experiment = store.get_experiment(experiment_id)
    assert experiment_id != "0"
    assert experiment.name == "iris"
    assert experiment.artifact_location == f"{store.artifact_root}/{experiment_id}"
    assert experiment.tags == {"team": "risk"}


def test_create_experiment_keeps_given_location(store: SqlStore) -> None:
    experiment_id = store.create_experiment("s3", artifact_location="s3://b/p")
    assert store.get_experiment(experiment_id).artifact_location == "s3://b/p"


def test_create_experiment_with_taken_name_is_conflict(store: SqlStore) -> None:
    store.create_experiment("iris")
    with pytest.raises(ConflictError, match="'iris' is taken"):
        store.create_experiment("iris")


def test_experiment_names_are_case_sensitive(store: SqlStore) -> None:
    first = store.create_experiment("iris")
    second = store.create_experiment("IRIS")
    assert first != second


def test_taken_name_of_deleted_experiment_hints_restore(store: SqlStore) -> None:
    experiment_id = store.create_experiment("old")
    store.update_experiment(experiment_id, lifecycle_stage="deleted")
    with pytest.raises(ConflictError, match="restore_experiment"):
        store.create_experiment("old")


@pytest.mark.parametrize(
    ("name", "match"),
    [("", "non-empty str"), (3, "non-empty str"), ("x" * 501, "at most 500")],
    ids=["empty", "int", "too-long"],
)
def test_create_experiment_rejects_bad_name(
    store: SqlStore, name: object, match: str
) -> None:
    with pytest.raises(InvalidValueError, match=match):
        store.create_experiment(name)  # type: ignore[arg-type]


def test_get_experiment_unknown_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="experiment '999' does not exist"):
        store.get_experiment("999")


@pytest.mark.parametrize("experiment_id", ["abc", "-1", "", 0], ids=str)
def test_get_experiment_rejects_malformed_id(
    store: SqlStore, experiment_id: object
) -> None:
    with pytest.raises(InvalidValueError, match="decimal digits"):
        store.get_experiment(experiment_id)  # type: ignore[arg-type]


def test_get_experiment_by_name(store: SqlStore) -> None:
    experiment_id = store.create_experiment("iris")
    found = store.get_experiment_by_name("iris")
    assert found is not None
    assert found.experiment_id == experiment_id
    assert store.get_experiment_by_name("nope") is None


def test_rename_experiment(store: SqlStore) -> None:
    experiment_id = store.create_experiment("a")
    store.update_experiment(experiment_id, new_name="b")
    assert store.get_experiment(experiment_id).name == "b"


def test_rename_experiment_to_taken_name_is_conflict(store: SqlStore) -> None:
    store.create_experiment("a")
    experiment_id = store.create_experiment("b")
    with pytest.raises(ConflictError, match="'a' is taken"):
        store.update_experiment(experiment_id, new_name="a")


def test_delete_and_restore_experiment(store: SqlStore) -> None:
    experiment_id = store.create_experiment("a")
    store.update_experiment(experiment_id, lifecycle_stage="deleted")
    assert store.get_experiment(experiment_id).lifecycle_stage == "deleted"
    store.update_experiment(experiment_id, lifecycle_stage="active")
    assert store.get_experiment(experiment_id).lifecycle_stage == "active"


def test_an_experiment_is_deleted_and_restored_with_its_runs(store: SqlStore) -> None:
    experiment_id = store.create_experiment("a")
    inside = [
        store.create_run(experiment_id, user_id="ada", start_time=0, run_name=name)
        for name in ("one", "two")
    ]
    other = _new_run(store)
    store.update_experiment(experiment_id, lifecycle_stage="deleted")
    for run in inside:
        info = store.get_run(run.info.run_id).info
        assert info.lifecycle_stage == "deleted"
    assert store.search_runs([experiment_id]) == []
    assert len(store.search_runs([experiment_id], view_type=ViewType.DELETED_ONLY)) == 2
    with pytest.raises(InvalidValueError, match="deleted"):
        store.log_batch(inside[0].info.run_id, params=[Param("k", "v")])
    assert store.get_run(other).info.lifecycle_stage == "active"
    store.update_experiment(experiment_id, lifecycle_stage="active")
    assert {r.info.run_id for r in store.search_runs([experiment_id])} == {
        run.info.run_id for run in inside
    }


def test_the_run_name_tag_renames_the_run(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.log_batch(run_id, tags=[RunTag("mlflow.runName", "baseline")])
    assert store.get_run(run_id).info.run_name == "baseline"
    found = store.search_runs(["0"], filter_string="attributes.run_name = 'baseline'")
    assert [r.info.run_id for r in found] == [run_id]
    store.log_batch(run_id, tags=[RunTag("mlflow.runName", "")])  # no empty name
    assert store.get_run(run_id).info.run_name == "baseline"
    with pytest.raises(InvalidValueError, match="run_name"):
        store.log_batch(run_id, tags=[RunTag("mlflow.runName", "x" * 1000)])
    assert store.get_run(run_id).data.tags["mlflow.runName"] == ""


def test_default_experiment_cannot_be_deleted(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="cannot be deleted"):
        store.update_experiment("0", lifecycle_stage="deleted")


def test_update_experiment_overwrites_tags(store: SqlStore) -> None:
    experiment_id = store.create_experiment("a", tags=[RunTag("k", "1")])
    store.update_experiment(experiment_id, tags=[RunTag("k", "2"), RunTag("n", "3")])
    assert store.get_experiment(experiment_id).tags == {"k": "2", "n": "3"}


def test_update_unknown_experiment_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="'42'"):
        store.update_experiment("42", new_name="x")


def test_update_experiment_rejects_bad_stage(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="'active' or 'deleted'"):
        store.update_experiment("0", lifecycle_stage="gone")


# Runs.


def test_create_run_returns_running_run(store: SqlStore) -> None:
    run = store.create_run(
        "0", user_id="ada", start_time=123, run_name="brave", tags=[RunTag("a", "b")]
    )
    assert len(run.info.run_id) == 32
    assert int(run.info.run_id, 16) >= 0
    assert run.info.status == "RUNNING"
    assert (
        run.info.artifact_uri == f"{store.artifact_root}/0/{run.info.run_id}/artifacts"
    )
    assert run.data.tags == {"a": "b", "mlflow.runName": "brave"}
    assert store.get_run(run.info.run_id) == run


def test_create_run_takes_name_from_tag(store: SqlStore) -> None:
    run = store.create_run(
        "0",
        user_id="ada",
        start_time=1,
        run_name="",
        tags=[RunTag("mlflow.runName", "tagged")],
    )
    assert run.info.run_name == "tagged"


def test_create_run_rejects_name_differing_from_tag(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="equal to run_name 'a'"):
        store.create_run(
            "0",
            user_id="ada",
            start_time=1,
            run_name="a",
            tags=[RunTag("mlflow.runName", "b")],
        )


def test_create_run_in_unknown_experiment_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="experiment '77' does not exist"):
        _new_run(store, "77")


def test_create_run_in_deleted_experiment_is_rejected(store: SqlStore) -> None:
    experiment_id = store.create_experiment("gone")
    store.update_experiment(experiment_id, lifecycle_stage="deleted")
    with pytest.raises(InvalidValueError, match="restore_experiment"):
        _new_run(store, experiment_id)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"start_time": "now"}, "start_time must be an int"),
        ({"start_time": True}, "not a bool"),
        ({"user_id": None}, "user_id must be a str"),
        ({"run_name": 5}, "run_name must be a str"),
    ],
    ids=["start-time-str", "start-time-bool", "user-none", "name-int"],
)
def test_create_run_rejects_bad_values(
    store: SqlStore, options: dict[str, Any], match: str
) -> None:
    with pytest.raises(InvalidValueError, match=match):
        _new_run(store, **options)


def test_get_unknown_run_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match=r"run 'f+' does not exist"):
        store.get_run("f" * 32)


def test_get_run_rejects_non_str_id(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="run_id must be a non-empty str"):
        store.get_run(None)  # type: ignore[arg-type]


def test_update_run_info_ends_run(store: SqlStore) -> None:
    run_id = _new_run(store)
    info = store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=2000)
    assert (info.status, info.end_time) == ("FINISHED", 2000)
    assert store.get_run(run_id).info == info


def test_update_run_info_writes_metric_batches_with_the_status(
    store: SqlStore,
) -> None:
    run_id, other = _new_run(store), _new_run(store)
    info = store.update_run_info(
        run_id,
        status=RunStatus.FINISHED,
        end_time=2000,
        metric_batches=[
            (run_id, [Metric("m", 1.0, 0, 0), Metric("m", 2.0, 0, 1)]),
            (other, [Metric("m", 3.0, 0, 0)]),
        ],
    )
    assert info.status == "FINISHED"
    assert [m.value for m in store.get_metric_history(run_id, "m")] == [1.0, 2.0]
    assert store.get_run(run_id).data.metrics == {"m": 2.0}
    assert store.get_run(other).data.metrics == {"m": 3.0}


def test_update_run_info_with_refused_batch_changes_nothing(store: SqlStore) -> None:
    run_id, deleted = _new_run(store), _new_run(store)
    store.update_run_info(deleted, lifecycle_stage="deleted")
    with pytest.raises(InvalidValueError, match="an active run"):
        store.update_run_info(
            run_id,
            status=RunStatus.FINISHED,
            end_time=2000,
            metric_batches=[
                (run_id, [Metric("m", 1.0, 0, 0)]),
                (deleted, [Metric("m", 1.0, 0, 0)]),
            ],
        )
    assert store.get_run(run_id).info.status == "RUNNING"
    assert store.get_metric_history(run_id, "m") == []


def test_update_run_info_renames_run_and_tag(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.update_run_info(run_id, run_name="renamed")
    run = store.get_run(run_id)
    assert run.info.run_name == "renamed"
    assert run.data.tags["mlflow.runName"] == "renamed"


def test_update_run_info_rejects_bad_status(store: SqlStore) -> None:
    run_id = _new_run(store)
    with pytest.raises(InvalidValueError, match="status must be one of RUNNING"):
        store.update_run_info(run_id, status="DONE")


def test_update_unknown_run_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        store.update_run_info("0" * 32, status="FINISHED")


def test_delete_and_restore_run(store: SqlStore) -> None:
    run_id = _new_run(store)
    assert store.update_run_info(run_id, lifecycle_stage="deleted").lifecycle_stage == (
        "deleted"
    )
    assert store.search_runs(["0"]) == []
    assert len(store.search_runs(["0"], view_type=ViewType.DELETED_ONLY)) == 1
    store.update_run_info(run_id, lifecycle_stage="active")
    assert [r.info.run_id for r in store.search_runs(["0"])] == [run_id]


# Batches and values.


def test_log_batch_writes_everything(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.log_batch(
        run_id,
        metrics=[Metric("acc", 0.5, 10, 0), Metric("acc", 0.75, 11, 1)],
        params=[Param("C", "1.0")],
        tags=[RunTag("team", "risk")],
    )
    data = store.get_run(run_id).data
    assert data.metrics == {"acc": 0.75}
    assert data.params == {"C": "1.0"}
    assert data.tags["team"] == "risk"


@pytest.mark.parametrize(
    ("items", "match"),
    [
        (
            {"metrics": [_make(Metric, "", 1.0, 0, 0)]},
            "metric key must be a non-empty str",
        ),
        (
            {"metrics": [_make(Metric, "k" * 1001, 1.0, 0, 0)]},
            "at most 1,000 characters",
        ),
        (
            {"metrics": [_make(Metric, "m", "1", 0, 0)]},
            "value of metric 'm' must be an int or",
        ),
        ({"metrics": [_make(Metric, "m", True, 0, 0)]}, "not a bool"),
        ({"metrics": [_make(Metric, "m", None, 0, 0)]}, "value of metric 'm'"),
        ({"metrics": [_make(Metric, "m", 10**400, 0, 0)]}, "range of a 64-bit float"),
        (
            {"metrics": [_make(Metric, "m", 1.0, 0, math.nan)]},
            "step of metric 'm' must be a finite int",
        ),
        ({"metrics": [_make(Metric, "m", 1.0, 0, math.inf)]}, "finite int"),
        ({"metrics": [_make(Metric, "m", 1.0, 0, 1.5)]}, "whole number"),
        ({"metrics": [_make(Metric, "m", 1.0, 0, True)]}, "an int, not a bool"),
        ({"metrics": [_make(Metric, "m", 1.0, 0, 2**63)]}, "fits in 64 bits"),
        (
            {"metrics": [_make(Metric, "m", 1.0, "t", 0)]},
            "timestamp of metric 'm' must be an int",
        ),
        ({"metrics": ["m"]}, "metric must be a Metric"),
        ({"params": [_make(Param, "", "1")]}, "param key must be a non-empty str"),
        ({"params": [_make(Param, "p", 1)]}, "value of param 'p' must be a str"),
        ({"params": [_make(Param, "p", "a\x00b")]}, "without NUL"),
        ({"params": [_make(Param, "\ud800", "1")]}, "encodes to UTF-8"),
        ({"params": [_make(Param, "p", "x" * (2**20 + 1))]}, "at most 1,048,576"),
        ({"params": [("p", "1")]}, "param must be a Param"),
        (
            {"params": [_make(Param, "p", "1"), _make(Param, "p", "2")]},
            "once per batch",
        ),
        ({"tags": [_make(RunTag, "", "v")]}, "tag key must be a non-empty str"),
        ({"tags": [_make(RunTag, "t", None)]}, "value of tag 't' must be a str"),
        ({"tags": [{"t": "v"}]}, "tag must be a RunTag"),
    ],
    ids=[
        "metric-empty-key",
        "metric-long-key",
        "metric-str-value",
        "metric-bool-value",
        "metric-none-value",
        "metric-huge-int",
        "step-nan",
        "step-inf",
        "step-fraction",
        "step-bool",
        "step-overflow",
        "timestamp-str",
        "metric-not-entity",
        "param-empty-key",
        "param-int-value",
        "param-nul",
        "param-surrogate-key",
        "param-too-long",
        "param-not-entity",
        "param-twice-in-batch",
        "tag-empty-key",
        "tag-none-value",
        "tag-not-entity",
    ],
)
def test_log_batch_rejects_invalid_item_and_writes_nothing(
    store: SqlStore, items: dict[str, list[object]], match: str
) -> None:
    run_id = _new_run(store)
    valid: dict[str, list[object]] = {
        "metrics": [Metric("ok", 1.0, 0, 0)],
        "params": [Param("ok", "1")],
        "tags": [RunTag("ok", "1")],
    }
    for name, extra in items.items():
        valid[name] = [*valid[name], *extra]
    with pytest.raises(InvalidValueError, match=match):
        store.log_batch(run_id, **valid)  # type: ignore[arg-type]
    data = store.get_run(run_id).data
    assert (data.metrics, data.params, list(data.tags)) == ({}, {}, ["mlflow.runName"])
    assert _count(store, metrics_table) == 0


def test_log_batch_accepts_same_param_again(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.log_batch(run_id, params=[Param("C", "1.0")])
    store.log_batch(run_id, params=[Param("C", "1.0"), Param("D", "2")])
    assert store.get_run(run_id).data.params == {"C": "1.0", "D": "2"}


def test_log_batch_changed_param_is_conflict_and_writes_nothing(
    store: SqlStore,
) -> None:
    run_id = _new_run(store)
    store.log_batch(run_id, params=[Param("C", "1.0")])
    with pytest.raises(
        ConflictError, match=r"param 'C' .* is '1.0'; cannot change it to '2.0'"
    ):
        store.log_batch(
            run_id,
            metrics=[Metric("m", 1.0, 0, 0)],
            params=[Param("new", "x"), Param("C", "2.0")],
            tags=[RunTag("t", "v")],
        )
    data = store.get_run(run_id).data
    assert data.params == {"C": "1.0"}
    assert data.metrics == {}
    assert "t" not in data.tags


def test_log_batch_to_unknown_run_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="create_run"):
        store.log_batch("a" * 32, metrics=[Metric("m", 1.0, 0, 0)])


def test_log_batch_to_deleted_run_hints_restore(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.update_run_info(run_id, lifecycle_stage="deleted")
    with pytest.raises(InvalidValueError, match="restore_run"):
        store.log_batch(run_id, params=[Param("p", "1")])


def test_empty_log_batch_checks_the_run(store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        store.log_batch("b" * 32)


def test_log_batch_to_finished_run_is_allowed(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.update_run_info(run_id, status="FINISHED", end_time=5)
    store.log_batch(run_id, metrics=[Metric("late", 1.0, 0, 0)])
    assert store.get_run(run_id).data.metrics == {"late": 1.0}


def test_tags_are_upserted(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.log_batch(run_id, tags=[RunTag("t", "1"), RunTag("t", "2")])
    store.log_batch(run_id, tags=[RunTag("t", "3")])
    assert store.get_run(run_id).data.tags["t"] == "3"


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, -1e-308, 5e-324, 2**53 + 1],
    ids=[
        "nan",
        "inf",
        "-inf",
        "zero",
        "negative-zero",
        "huge",
        "tiny",
        "subnormal",
        "int",
    ],
)
def test_metric_values_round_trip_exactly(store: SqlStore, value: float) -> None:
    run_id = _new_run(store)
    store.log_batch(run_id, metrics=[Metric("m", value, 7, 3)])
    [point] = store.get_metric_history(run_id, "m")
    latest = store.get_run(run_id).data.metrics["m"]
    for got in (point.value, latest):
        if math.isnan(value):
            assert math.isnan(got)
        else:
            assert got == float(value)
            assert math.copysign(1, got) == math.copysign(1, value)
    assert (point.timestamp, point.step) == (7, 3)


@pytest.mark.parametrize(
    "key",
    [
        "val/AR@100",
        "timing(s)",
        "a:b",
        "naïve ключ 指标 🚀",
        "with space",
        "quote'\"`",
        "k" * 1000,
        "é" * 1000,
    ],
    ids=[
        "slash-at",
        "parens",
        "colon",
        "unicode",
        "space",
        "quotes",
        "1000",
        "1000-unicode",
    ],
)
def test_any_key_round_trips(store: SqlStore, key: str) -> None:
    run_id = _new_run(store)
    store.log_batch(
        run_id,
        metrics=[Metric(key, 1.0, 0, 0)],
        params=[Param(key, "v")],
        tags=[RunTag(key, "t")],
    )
    data = store.get_run(run_id).data
    assert data.metrics == {key: 1.0}
    assert data.params == {key: "v"}
    assert data.tags[key] == "t"
    assert [m.key for m in store.get_metric_history(run_id, key)] == [key]


def test_keys_are_case_sensitive(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.log_batch(
        run_id,
        metrics=[Metric("acc", 1.0, 0, 0), Metric("ACC", 2.0, 0, 0)],
        params=[Param("p", "a"), Param("P", "b")],
    )
    data = store.get_run(run_id).data
    assert data.metrics == {"acc": 1.0, "ACC": 2.0}
    assert data.params == {"p": "a", "P": "b"}


def test_param_value_of_one_mebibyte_is_stored_whole(store: SqlStore) -> None:
    run_id = _new_run(store)
    value = ("ab€" * (2**20 // 3 + 1))[: 2**20]
    store.log_batch(run_id, params=[Param("big", value)], tags=[RunTag("big", value)])
    data = store.get_run(run_id).data
    assert data.params["big"] == value
    assert data.tags["big"] == value


def test_empty_param_value_is_kept(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.log_batch(run_id, params=[Param("p", "")])
    assert store.get_run(run_id).data.params == {"p": ""}


def test_latest_metric_is_greatest_step_then_timestamp_then_value(
    store: SqlStore,
) -> None:
    run_id = _new_run(store)
    store.log_batch(
        run_id,
        metrics=[
            Metric("a", 5.0, 100, 2),
            Metric("a", 9.0, 999, 1),
            Metric("b", 1.0, 5, 0),
            Metric("b", 2.0, 4, 0),
            Metric("c", 3.0, 1, 0),
            Metric("c", 7.0, 1, 0),
        ],
    )
    store.log_batch(run_id, metrics=[Metric("a", 1.0, 1, 1), Metric("c", 4.0, 1, 0)])
    assert store.get_run(run_id).data.metrics == {"a": 5.0, "b": 1.0, "c": 7.0}
    store.log_batch(run_id, metrics=[Metric("a", 0.0, 0, 3)])
    assert store.get_run(run_id).data.metrics["a"] == 0.0


def test_metric_history_is_ordered_by_step_then_timestamp(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.log_batch(
        run_id,
        metrics=[
            Metric("m", 3.0, 5, 2),
            Metric("m", 1.0, 9, 0),
            Metric("m", 2.0, 1, 2),
        ],
    )
    history = store.get_metric_history(run_id, "m")
    assert [(m.step, m.timestamp, m.value) for m in history] == [
        (0, 9, 1.0),
        (2, 1, 2.0),
        (2, 5, 3.0),
    ]


def test_duplicate_metric_points_are_accepted(store: SqlStore) -> None:
    run_id = _new_run(store)
    point = Metric("m", 1.0, 1, 1)
    store.log_batch(run_id, metrics=[point, point])
    store.log_batch(run_id, metrics=[point])
    assert store.get_run(run_id).data.metrics == {"m": 1.0}
    assert {m.value for m in store.get_metric_history(run_id, "m")} == {1.0}


def test_large_and_negative_steps_round_trip(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.log_batch(
        run_id, metrics=[Metric("m", 1.0, 0, 2**62), Metric("m", 1.0, 0, -5)]
    )
    assert [m.step for m in store.get_metric_history(run_id, "m")] == [-5, 2**62]


def test_metric_history_of_unknown_key_is_empty(store: SqlStore) -> None:
    assert store.get_metric_history(_new_run(store), "nope") == []


def test_metric_history_of_unknown_run_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        store.get_metric_history("c" * 32, "m")


def test_log_metric_batches_writes_several_runs(store: SqlStore) -> None:
    first, second = _new_run(store), _new_run(store)
    store.log_metric_batches(
        [
            (first, [Metric("m", 1.0, 0, 0)]),
            (second, [Metric("m", 2.0, 0, 0)]),
            (first, []),
        ]
    )
    assert store.get_run(first).data.metrics == {"m": 1.0}
    assert store.get_run(second).data.metrics == {"m": 2.0}


def test_log_metric_batches_with_unknown_run_writes_nothing(store: SqlStore) -> None:
    run_id = _new_run(store)
    with pytest.raises(NotFoundError):
        store.log_metric_batches(
            [(run_id, [Metric("m", 1.0, 0, 0)]), ("d" * 32, [Metric("m", 1.0, 0, 0)])]
        )
    assert store.get_metric_history(run_id, "m") == []


def test_log_metric_batches_of_nothing_is_a_no_op(store: SqlStore) -> None:
    store.log_metric_batches([])
    assert _count(store, metrics_table) == 0


def test_delete_tag(store: SqlStore) -> None:
    run_id = _new_run(store, tags=[RunTag("t", "v")])
    store.delete_tag(run_id, "t")
    assert "t" not in store.get_run(run_id).data.tags


def test_delete_missing_tag_is_not_found(store: SqlStore) -> None:
    run_id = _new_run(store)
    with pytest.raises(NotFoundError, match="tag 'nope' does not exist"):
        store.delete_tag(run_id, "nope")


# Inputs.


def _dataset_input(name: str = "iris", context: str = "train") -> DatasetInput:
    dataset = Dataset(
        name, "ab12cd34", "code", '{"tags": {}}', '{"s": 1}', '{"n": 150}'
    )
    return DatasetInput(dataset, [InputTag("mlflow.data.context", context)])


def test_log_inputs_round_trip_and_ignore_repeats(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.log_inputs(run_id, [_dataset_input()])
    store.log_inputs(run_id, [_dataset_input(), _dataset_input("wine", "eval")])
    inputs = store.get_run(run_id).inputs.dataset_inputs
    assert inputs == [_dataset_input(), _dataset_input("wine", "eval")]


def test_datasets_are_shared_within_an_experiment(store: SqlStore) -> None:
    first, second = _new_run(store), _new_run(store)
    store.log_inputs(first, [_dataset_input()])
    store.log_inputs(second, [_dataset_input()])
    assert store.get_run(second).inputs.dataset_inputs == [_dataset_input()]


def test_log_inputs_rejects_non_input(store: SqlStore) -> None:
    run_id = _new_run(store)
    with pytest.raises(InvalidValueError, match="dataset input must be a DatasetInput"):
        store.log_inputs(run_id, ["iris"])  # type: ignore[list-item]


def test_log_inputs_rejects_bad_tag(store: SqlStore) -> None:
    run_id = _new_run(store)
    item = DatasetInput(_dataset_input().dataset, [("k", "v")])  # type: ignore[list-item]
    with pytest.raises(InvalidValueError, match="input tag must be an InputTag"):
        store.log_inputs(run_id, [item])


# Heartbeats.


def test_stale_heartbeat_turns_run_killed(store: SqlStore) -> None:
    run_id = _new_run(store)
    beat = int(time.time() * 1000) - 3_600_000
    store.touch_heartbeat([run_id], beat)
    info = store.get_run(run_id).info
    assert (info.status, info.end_time) == ("KILLED", beat)
    with store._engine.connect() as conn:
        stored = conn.execute(
            sa.select(runs_table.c.status).where(runs_table.c.run_id == run_id)
        ).scalar()
    assert stored == "KILLED"


def test_a_read_does_not_wait_on_a_writer_that_holds_the_lock(
    store: SqlStore,
) -> None:
    # Another process stopped in the middle of a write (Ctrl-Z, SIGSTOP) keeps its
    # lock: the read shows the stale run KILLED without writing, and a later read
    # writes it once the lock is free.
    run_id = _new_run(store)
    beat = int(time.time() * 1000) - 3_600_000
    store.touch_heartbeat([run_id], beat)
    this_run = runs_table.c.run_id == run_id
    with store._engine.connect() as holder:
        if store._dialect == "sqlite":
            holder.exec_driver_sql("BEGIN IMMEDIATE")
        holder.execute(
            runs_table.update().where(this_run).values(run_name=runs_table.c.run_name)
        )
        info = store.get_run(run_id).info
        assert (info.status, info.end_time) == ("KILLED", beat)
        [found] = store.search_runs(["0"])
        assert found.info.status == "KILLED"
        with store._engine.connect() as conn:
            stored = conn.execute(sa.select(runs_table.c.status).where(this_run))
            assert stored.scalar() == "RUNNING"  # nothing written yet
        holder.rollback()
    assert store.get_run(run_id).info.status == "KILLED"
    with store._engine.connect() as conn:
        stored = conn.execute(sa.select(runs_table.c.status).where(this_run))
        assert stored.scalar() == "KILLED"


def test_stale_heartbeat_is_killed_by_search(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.touch_heartbeat([run_id], int(time.time() * 1000) - 3_600_000)
    [run] = store.search_runs(["0"])
    assert (run.info.run_id, run.info.status) == (run_id, "KILLED")


def test_fresh_heartbeat_keeps_run_running(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.touch_heartbeat([run_id], int(time.time() * 1000))
    assert store.get_run(run_id).info.status == "RUNNING"


def test_run_without_heartbeat_stays_running(store: SqlStore) -> None:
    run_id = _new_run(store, start_time=0)
    assert store.get_run(run_id).info.status == "RUNNING"
    assert store.search_runs(["0"])[0].info.status == "RUNNING"


def test_heartbeat_skips_finished_runs(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.update_run_info(run_id, status="FINISHED", end_time=10)
    store.touch_heartbeat([run_id], 1)
    assert store.get_run(run_id).info.status == "FINISHED"
    store.touch_heartbeat([], 1)


def test_heartbeat_timeout_comes_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_HEARTBEAT_TIMEOUT", "2.5")
    store = SqlStore(f"sqlite:///{tmp_path}/h.db", artifact_root=str(tmp_path))
    assert store.heartbeat_timeout == 2.5
    store.close()


@pytest.mark.parametrize("text", ["soon", "0", "-1"], ids=["word", "zero", "negative"])
def test_bad_heartbeat_timeout_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("MLTRAIL_HEARTBEAT_TIMEOUT", text)
    with pytest.raises(InvalidValueError, match=r"HEARTBEAT_TIMEOUT|heartbeat_timeout"):
        SqlStore(f"sqlite:///{tmp_path}/h.db", artifact_root=str(tmp_path))


# URIs and connections.


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("oracle://x", "sqlite:///, postgresql:// or mysql://"),
        ("mltrail.db", "sqlite:///, postgresql:// or mysql://"),
        ("sqlite://", "with a file path"),
        ("sqlite:///:memory:", "with a file path"),
    ],
    ids=["oracle", "no-scheme", "sqlite-empty", "sqlite-memory"],
)
def test_bad_uri_is_rejected(uri: str, match: str) -> None:
    with pytest.raises(InvalidValueError, match=match):
        SqlStore(uri, artifact_root="a")


def test_relative_sqlite_path_resolves_against_cwd(tmp_path: Path) -> None:
    store = SqlStore("sqlite:///sub/dir/x.db", artifact_root="a")
    store.close()
    assert (tmp_path / "sub" / "dir" / "x.db").is_file()


def test_unreachable_server_is_store_error() -> None:
    with pytest.raises(StoreError, match="Check that it is running"):
        SqlStore("postgresql://nobody@127.0.0.1:1/none", artifact_root="a")


def test_sqlite_runs_in_wal_mode(sqlite_store: SqlStore) -> None:
    with sqlite_store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_sqlite_is_durable_on_commit_and_checkpoints_rarely(
    sqlite_store: SqlStore,
) -> None:
    with sqlite_store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 10_000
        limit = conn.exec_driver_sql("PRAGMA journal_size_limit").scalar()
        assert limit == 64 * 1024 * 1024


def test_threads_share_one_store(store: SqlStore) -> None:
    run_id = _new_run(store)
    errors: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            for step in range(20):
                store.log_batch(
                    run_id,
                    metrics=[Metric(f"t{thread}", float(step), step, step)],
                    params=[Param("shared", "same")],
                )
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for n in range(4):
        assert len(store.get_metric_history(run_id, f"t{n}")) == 20


def _log_from_process(uri: str, run_id: str, worker: int, points: int) -> None:
    store = SqlStore(uri, artifact_root="unused")
    errors: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            for start in range(0, points, 50):
                store.log_batch(
                    run_id,
                    metrics=[
                        Metric(f"w{worker}t{thread}", float(i), i, i)
                        for i in range(start, min(start + 50, points))
                    ],
                    params=[Param("shared", "same"), Param(f"w{worker}t{thread}", "1")],
                    tags=[RunTag("last", f"{worker}")],
                )
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    if errors:
        raise errors[0]


@pytest.mark.slow
def test_processes_and_threads_write_one_store(store: SqlStore) -> None:
    run_id = _new_run(store)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_log_from_process, args=(store.uri, run_id, worker, 500))
        for worker in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(180)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    with store._engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.count()).select_from(metrics_table)
        ).scalar()
        keys = conn.execute(
            sa.select(sa.func.count()).select_from(params_table)
        ).scalar()
    assert total == 4 * 2 * 500
    assert keys == 1 + 4 * 2
    for worker in range(4):
        for thread in range(2):
            history = store.get_metric_history(run_id, f"w{worker}t{thread}")
            assert [m.step for m in history] == list(range(500))


@pytest.mark.parametrize("store", [b for b in BACKENDS if b != "sqlite"], indirect=True)
def test_close_disposes_pooled_connections(store: SqlStore) -> None:
    pool = store._engine.pool
    assert isinstance(pool, sa.QueuePool)
    store.get_experiment("0")
    assert pool.checkedin() >= 1
    store.close()
    assert pool.checkedin() == 0


def test_close_closes_every_thread_connection(sqlite_store: SqlStore) -> None:
    assert sqlite_store._threads is not None
    sqlite_store.get_experiment("0")
    worker = threading.Thread(target=sqlite_store.get_experiment, args=("0",))
    worker.start()
    worker.join()
    held = list(sqlite_store._threads.held.values())
    assert len(held) == 2
    sqlite_store.close()
    assert all(conn.closed for conn in held)
    assert sqlite_store.get_experiment("0").name == "Default"  # reopens on use


def test_close_leaves_a_live_thread_connection_to_its_thread(
    sqlite_store: SqlStore,
) -> None:
    threads = sqlite_store._threads
    assert threads is not None
    opened, closed, reopened = threading.Event(), threading.Event(), []

    def work() -> None:
        first = threads.get()
        opened.set()
        closed.wait(10)
        reopened.append((first.closed, threads.get() is not first, first.closed))

    worker = threading.Thread(target=work)
    worker.start()
    opened.wait(10)
    sqlite_store.close()  # the worker may be running a statement: not closed here
    closed.set()
    worker.join()
    assert reopened == [(False, True, True)]


def test_thread_reuses_its_connection(sqlite_store: SqlStore) -> None:
    assert sqlite_store._threads is not None
    run_id = _new_run(sqlite_store)
    conn = sqlite_store._threads.get()
    sqlite_store.log_batch(run_id, params=[Param("p", "1")])
    sqlite_store.get_run(run_id)
    assert sqlite_store._threads.get() is conn
    assert not conn.in_transaction()
    assert not conn.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]


def test_connection_of_ended_thread_is_closed(sqlite_store: SqlStore) -> None:
    assert sqlite_store._threads is not None
    worker = threading.Thread(target=sqlite_store.get_experiment, args=("0",))
    worker.start()
    worker.join()
    [ended] = sqlite_store._threads.held.values()
    sqlite_store.get_experiment("0")  # this thread opens its connection
    assert ended.closed
    assert list(sqlite_store._threads.held) == [threading.current_thread()]


def test_discarded_connection_is_replaced(sqlite_store: SqlStore) -> None:
    assert sqlite_store._threads is not None
    conn = sqlite_store._threads.get()
    sqlite_store._threads.discard(conn)
    assert conn.closed
    assert sqlite_store.get_experiment("0").name == "Default"
    assert sqlite_store._threads.get() is not conn


def test_forget_drops_connections_without_closing_them(
    sqlite_store: SqlStore,
) -> None:
    assert sqlite_store._threads is not None
    conn = sqlite_store._threads.get()
    sqlite_store._threads.forget()  # as in a forked child
    assert not sqlite_store._threads.held
    assert not conn.closed
    assert sqlite_store._threads.get() is not conn
    conn.close()


def test_failed_write_leaves_no_transaction_open(sqlite_store: SqlStore) -> None:
    assert sqlite_store._threads is not None
    run_id = _new_run(sqlite_store)
    sqlite_store.log_batch(run_id, params=[Param("p", "1")])
    with pytest.raises(ConflictError):
        sqlite_store.log_batch(run_id, params=[Param("p", "2")])
    raw = sqlite_store._threads.get().connection.dbapi_connection
    assert not raw.in_transaction  # type: ignore[union-attr]
    sqlite_store.log_batch(run_id, params=[Param("q", "3")])
    assert sqlite_store.get_run(run_id).data.params == {"p": "1", "q": "3"}


def test_numpy_numbers_are_accepted(store: SqlStore) -> None:
    np = pytest.importorskip("numpy")
    run_id = _new_run(store)
    store.log_batch(
        run_id, metrics=[_make(Metric, "m", np.float32(0.5), 1, np.int64(3))]
    )
    [point] = store.get_metric_history(run_id, "m")
    assert (point.value, point.step) == (0.5, 3)
    assert type(point.step) is int


def test_get_experiment_by_name_rejects_non_str(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="experiment name must be a str"):
        store.get_experiment_by_name(None)  # type: ignore[arg-type]


def test_update_run_info_without_changes_returns_info(store: SqlStore) -> None:
    run_id = _new_run(store)
    assert store.update_run_info(run_id) == store.get_run(run_id).info


def test_log_inputs_without_datasets_or_tags(store: SqlStore) -> None:
    run_id = _new_run(store)
    store.log_inputs(run_id, [])
    plain = DatasetInput(Dataset("plain", "ff", "code", "{}"))
    store.log_inputs(run_id, [plain])
    assert store.get_run(run_id).inputs.dataset_inputs == [plain]


def test_write_waits_for_a_locked_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail.store import _sql

    monkeypatch.setattr(_sql, "SQLITE_BUSY_TIMEOUT_MS", 1)
    path = tmp_path / "locked.db"
    store = SqlStore(f"sqlite:///{path}", artifact_root=str(tmp_path))
    run_id = _new_run(store)
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.3, blocker.rollback)
    timer.start()
    store.log_batch(run_id, params=[Param("p", "1")])
    timer.join()
    blocker.close()
    assert store.get_run(run_id).data.params == {"p": "1"}
    store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_opens_its_own_connections(sqlite_store: SqlStore) -> None:
    run_id = _new_run(sqlite_store)
    pool = sqlite_store._engine.pool
    assert sqlite_store._threads is not None
    parent_connection = sqlite_store._threads.get()
    pid = os.fork()
    if pid == 0:  # the child: exit without running the parent's cleanup
        code = 3
        try:
            threads = sqlite_store._threads
            if (
                sqlite_store._engine.pool is not pool
                and threads.get() is not parent_connection
            ):
                sqlite_store.log_batch(run_id, params=[Param("from", "child")])
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sqlite_store._engine.pool is pool
    assert sqlite_store.get_run(run_id).data.params == {"from": "child"}
