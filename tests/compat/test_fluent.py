"""MLflow's module names and MLflow 3's fluent names for logged models and datasets."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import mltrail
from mltrail.capture._datasets import describe_dataset

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.5, 0.1, 0.2, 0.9]})
LABELS = pd.Series([1.0, 2.0, 3.5, 4.0], name="y")


def _fitted() -> LinearRegression:
    return LinearRegression().fit(FRAME, LABELS)


@pytest.mark.parametrize(
    "code",
    [
        "mltrail.tracking.get_tracking_uri()",
        "mltrail.tracking.MlflowClient",
        "mltrail.entities.Param",
        "mltrail.exceptions.MlflowException",
        "mltrail.client.MlflowClient",
        "mltrail.data.from_pandas",
        "mltrail.models.Model",
        "mltrail.models.infer_signature",
    ],
)
def test_name_is_reachable_after_a_bare_import(code: str) -> None:
    script = f"import mltrail\n{code}"
    subprocess.run([sys.executable, "-c", script], check=True)


def test_mlflow_exception_is_mltrails_base_error() -> None:
    assert mltrail.exceptions.MlflowException is mltrail.MltrailError


def test_entities_are_mltrails_records() -> None:
    assert mltrail.entities.Run is mltrail.Run
    assert mltrail.entities.ExperimentTag("k", "v").value == "v"


def test_run_has_mlflows_private_info_name() -> None:
    with mltrail.start_run() as run:
        pass
    assert run._info.run_id == run.info.run_id


def test_artifact_uri_of_the_active_run() -> None:
    with mltrail.start_run() as run:
        root = mltrail.get_artifact_uri()
        nested = mltrail.get_artifact_uri("model/MLmodel")
    assert root == run.info.artifact_uri
    assert nested == f"{root}/model/MLmodel"


def test_artifact_uri_refuses_an_absolute_path() -> None:
    with mltrail.start_run(), pytest.raises(mltrail.InvalidValueError, match="/etc"):
        mltrail.get_artifact_uri("/etc")


def test_last_logged_model_is_the_one_log_model_returned() -> None:
    assert mltrail.last_logged_model() is None
    with mltrail.start_run():
        info = mltrail.sklearn.log_model(_fitted(), name="model")
    last = mltrail.last_logged_model()
    assert last is not None
    assert (last.model_id, last.status) == (info.model_id, "READY")


def test_autologged_model_becomes_the_last_logged_model() -> None:
    mltrail.sklearn.autolog()
    try:
        with mltrail.start_run() as run:
            _fitted()
    finally:
        mltrail.sklearn.autolog(disable=True)
    last = mltrail.last_logged_model()
    assert last is not None
    assert last.source_run_id == run.info.run_id


def test_logged_model_has_the_params_it_was_logged_with() -> None:
    with mltrail.start_run() as run:
        mltrail.log_param("seed", 1)
        info = mltrail.sklearn.log_model(_fitted(), name="enet", params={"alpha": 0.5})
    assert info.model_id is not None
    model = mltrail.get_logged_model(info.model_id)
    assert model.params == {"seed": "1", "alpha": "0.5"}
    assert model.source_run_id == run.info.run_id
    assert model.to_dictionary()["name"] == "enet"


def test_metrics_logged_with_a_model_and_dataset_are_linked() -> None:
    dataset = mltrail.data.from_pandas(FRAME.assign(y=LABELS), targets="y", name="test")
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(_fitted(), name="model")
    assert info.model_id is not None
    with mltrail.start_run() as evaluation:
        mltrail.log_metrics({"rmse": 0.1, "r2": 0.9}, model_id=info.model_id,
                            dataset=dataset)  # fmt: skip
        mltrail.log_metric("mae", 0.2, model_id=info.model_id)
    metrics = mltrail.get_logged_model(info.model_id).metrics
    assert sorted((m.key, m.run_id, m.dataset_name) for m in metrics) == [
        ("mae", evaluation.info.run_id, None),
        ("r2", evaluation.info.run_id, "test"),
        ("rmse", evaluation.info.run_id, "test"),
    ]
    stored = mltrail.get_run(evaluation.info.run_id)
    assert stored.data.metrics == {"rmse": 0.1, "r2": 0.9, "mae": 0.2}
    assert [i.dataset.digest for i in stored.inputs.dataset_inputs] == [dataset.digest]
    client = mltrail.MlflowClient()
    assert client._store.get_run_models(evaluation.info.run_id)[0] == [info.model_id]
    assert client._store.get_run_models(run.info.run_id)[1] == [(info.model_id, 0)]


def test_log_model_links_the_runs_metrics_at_its_step() -> None:
    with mltrail.start_run():
        mltrail.log_metric("rmse", 0.5)
        mltrail.log_metric("rmse", 0.4, step=1)
        mltrail.log_metric("mae", 0.3, step=1)
        info = mltrail.sklearn.log_model(_fitted(), name="model", step=1)
        mltrail.log_metric("late", 1.0, step=1)
    assert info.model_id is not None
    metrics = mltrail.get_logged_model(info.model_id).metrics
    assert sorted((m.key, m.value, m.step) for m in metrics) == [
        ("mae", 0.3, 1),
        ("rmse", 0.4, 1),
    ]


def test_search_logged_models_as_dataframe_and_list() -> None:
    mltrail.set_experiment("search")
    with mltrail.start_run():
        first = mltrail.sklearn.log_model(_fitted(), name="first", params={"k": 1})
        second = mltrail.sklearn.log_model(_fitted(), name="second", params={"k": 2})
    frame = mltrail.search_logged_models()
    assert set(frame["model_id"]) == {first.model_id, second.model_id}
    assert {"params", "metrics", "status", "source_run_id"} <= set(frame.columns)
    found = mltrail.search_logged_models(
        filter_string="params.k = '2'", output_format="list"
    )
    assert [m.model_id for m in found] == [second.model_id]
    assert len(mltrail.search_logged_models(max_results=1, output_format="list")) == 1


def test_search_logged_models_refuses_an_unknown_format() -> None:
    with pytest.raises(mltrail.InvalidValueError, match="'json'"):
        mltrail.search_logged_models(output_format="json")  # type: ignore[call-overload]  # on purpose


def test_from_pandas_describes_as_autolog_does() -> None:
    frame = FRAME.assign(y=LABELS)
    dataset = mltrail.data.from_pandas(frame, targets="y", name="train")
    expected = describe_dataset(FRAME, LABELS, name="train", context="train")
    assert (dataset.digest, dataset.profile) == (
        expected.digest,
        json.loads(expected.profile),
    )
    assert dataset.source_type == "code"
    assert [c.name for c in dataset.schema.inputs] == ["a", "b", "y"]
    assert dataset.features.columns.tolist() == ["a", "b"]
    assert set(dataset.to_dict()) == {
        "name", "digest", "source", "source_type", "schema", "profile"
    }  # fmt: skip


def test_from_numpy_with_a_source_path() -> None:
    X = np.arange(6.0).reshape(3, 2)
    dataset = mltrail.data.from_numpy(X, source="s3://bucket/x.npy", targets=[0, 1, 0])
    assert (dataset.name, dataset.source_type) == ("dataset", "s3")
    assert dataset.source == {"uri": "s3://bucket/x.npy"}
    assert dataset.profile["features_shape"] == [3, 2]
    [spec] = dataset.schema.inputs
    assert isinstance(spec, mltrail.models.TensorSpec)
    assert spec.shape == (-1, 2)


def test_log_input_records_the_dataset_with_its_context_and_tags() -> None:
    dataset = mltrail.data.from_pandas(FRAME, name="eval", digest="d1")
    with mltrail.start_run() as run:
        mltrail.log_input(dataset, context="testing", tags={"fold": 1})
    [recorded] = mltrail.get_run(run.info.run_id).inputs.dataset_inputs
    assert (recorded.dataset.name, recorded.dataset.digest) == ("eval", "d1")
    assert {t.key: t.value for t in recorded.tags} == {
        "fold": "1",
        "mlflow.data.context": "testing",
    }


def test_log_input_of_the_data_autolog_saw_adds_no_second_record() -> None:
    mltrail.sklearn.autolog()
    try:
        with mltrail.start_run() as run:
            _fitted()
            mltrail.log_input(
                mltrail.data.from_pandas(
                    FRAME.assign(y=LABELS), targets="y", name="train"
                ),
                context="train",
            )
    finally:
        mltrail.sklearn.autolog(disable=True)
    inputs = mltrail.get_run(run.info.run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.tags[0].value) for i in inputs] == [("train", "train")]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: mltrail.log_input(FRAME), "mltrail.data"),
        (lambda: mltrail.data.from_pandas(FRAME.values), "DataFrame"),
        (lambda: mltrail.data.from_pandas(FRAME, targets="nope"), "'nope'"),
        (lambda: mltrail.data.from_pandas(FRAME, name=""), "dataset name"),
        (
            lambda: mltrail.data.from_numpy(FRAME.values, source=3),  # type: ignore[arg-type]  # on purpose
            "source",
        ),
    ],
    ids=["not-a-dataset", "not-a-frame", "unknown-target", "empty-name", "bad-source"],
)
def test_bad_dataset_input_is_refused(call: Callable[[], object], match: str) -> None:
    with pytest.raises(mltrail.InvalidValueError, match=match):
        call()


def test_autolog_of_every_integration_is_sklearns() -> None:
    mltrail.autolog(extra_tags={"team": "risk"})
    try:
        _fitted()
    finally:
        mltrail.autolog(disable=True)
    run = mltrail.last_active_run()
    assert run is not None
    assert run.data.tags["team"] == "risk"
    assert run.data.params["fit_intercept"] == "True"


def test_autolog_excluding_sklearn_logs_nothing() -> None:
    mltrail.autolog(exclude_flavors=["sklearn"])
    _fitted()
    assert mltrail.last_active_run() is None


def test_fluent_shortcuts_of_the_client() -> None:
    experiment = mltrail.set_experiment("shortcuts")
    mltrail.set_experiment_tags({"team": "risk", "size": 3})
    assert mltrail.get_experiment(experiment.experiment_id).tags == {
        "team": "risk",
        "size": "3",
    }
    with mltrail.start_run() as parent:
        info = mltrail.sklearn.log_model(
            _fitted(), name="model", registered_model_name="shortcut"
        )
        with mltrail.start_run(nested=True) as child:
            pass
    parent_run = mltrail.get_parent_run(child.info.run_id)
    assert parent_run is not None
    assert parent_run.info.run_id == parent.info.run_id
    assert mltrail.get_parent_run(parent.info.run_id) is None
    assert [m.name for m in mltrail.search_registered_models()] == ["shortcut"]
    [version] = mltrail.search_model_versions(filter_string="name = 'shortcut'")
    assert version.version == info.registered_model_version
    assert mltrail.search_model_versions(max_results=0) == []
