"""``MlflowClient``: where MLflow scripts import it, with MLflow's signatures."""

from __future__ import annotations

import inspect

import pytest

import mltrail
from mltrail.entities import LoggedModelInput, LoggedModelOutput, Metric, Param, RunTag
from mltrail.exceptions import MlflowException
from tests.models._mlflow import import_mlflow

# The methods a scikit-learn script calls, whose parameters must be MLflow's.
SCRIPT_METHODS = [
    "create_experiment",
    "get_experiment",
    "get_experiment_by_name",
    "search_experiments",
    "delete_experiment",
    "restore_experiment",
    "rename_experiment",
    "set_experiment_tag",
    "delete_experiment_tag",
    "create_run",
    "get_run",
    "get_parent_run",
    "update_run",
    "set_terminated",
    "delete_run",
    "restore_run",
    "search_runs",
    "log_metric",
    "log_param",
    "set_tag",
    "delete_tag",
    "log_batch",
    "log_inputs",
    "log_outputs",
    "get_metric_history",
    "log_artifact",
    "log_artifacts",
    "log_text",
    "log_dict",
    "list_artifacts",
    "download_artifacts",
    "create_registered_model",
    "get_registered_model",
    "rename_registered_model",
    "update_registered_model",
    "delete_registered_model",
    "search_registered_models",
    "get_latest_versions",
    "set_registered_model_tag",
    "delete_registered_model_tag",
    "create_model_version",
    "get_model_version",
    "update_model_version",
    "transition_model_version_stage",
    "delete_model_version",
    "get_model_version_download_uri",
    "search_model_versions",
    "set_model_version_tag",
    "delete_model_version_tag",
    "set_registered_model_alias",
    "delete_registered_model_alias",
    "get_model_version_by_alias",
    "create_logged_model",
    "get_logged_model",
    "finalize_logged_model",
    "set_logged_model_tags",
    "delete_logged_model_tag",
    "delete_logged_model",
    "search_logged_models",
    "log_model_params",
]


@pytest.mark.parametrize(
    "path",
    [
        "mltrail.MlflowClient",
        "mltrail.tracking.MlflowClient",
        "mltrail.client.MlflowClient",
    ],
)
def test_client_is_reachable_where_mlflow_has_it(path: str) -> None:
    module, _, name = path.rpartition(".")
    value = getattr(__import__(module, fromlist=[name]), name)
    assert value is mltrail.MlflowClient
    assert issubclass(value, mltrail.TrackingClient)


@pytest.mark.parametrize("method", SCRIPT_METHODS)
def test_method_takes_mlflows_parameters(method: str) -> None:
    mlflow = import_mlflow()
    theirs = inspect.signature(getattr(mlflow.MlflowClient, method)).parameters
    ours = inspect.signature(getattr(mltrail.MlflowClient, method)).parameters
    assert list(ours) == list(theirs)


def test_logs_and_reads_a_run_as_mlflow_scripts_do() -> None:
    client = mltrail.MlflowClient()
    experiment_id = client.create_experiment("wine")
    run = client.create_run(experiment_id, run_name="enet")
    run_id = run.info.run_id
    client.log_param(run_id, "alpha", 0.5, synchronous=True)
    client.log_batch(
        run_id,
        metrics=[Metric("rmse", 0.7, 1, 0), Metric("rmse", 0.6, 2, 1)],
        params=[Param("l1_ratio", "0.1")],
        tags=[RunTag("team", "wine")],
        synchronous=False,
    )
    client.set_tag(run_id, "stage", "dev", synchronous=True)
    client.set_terminated(run_id)
    stored = client.get_run(run_id)
    assert stored.data.params == {"alpha": "0.5", "l1_ratio": "0.1"}
    assert stored.data.metrics == {"rmse": 0.6}
    assert {"team": "wine", "stage": "dev"}.items() <= stored.data.tags.items()
    assert [m.value for m in client.get_metric_history(run_id, "rmse")] == [0.7, 0.6]
    found = client.search_runs([experiment_id], "params.alpha = '0.5'")
    assert [r.info.run_id for r in found] == [run_id]


def test_update_run_renames_and_ends_a_run() -> None:
    client = mltrail.MlflowClient()
    run_id = client.create_run("0").info.run_id
    client.update_run(run_id, status="KILLED", name="renamed")
    info = client.get_run(run_id).info
    assert (info.status, info.run_name, info.end_time is not None) == (
        "KILLED",
        "renamed",
        True,
    )


def test_update_run_refuses_an_unknown_status() -> None:
    client = mltrail.MlflowClient()
    run_id = client.create_run("0").info.run_id
    with pytest.raises(mltrail.InvalidValueError, match="'DONE'"):
        client.update_run(run_id, status="DONE")


def test_registry_uri_other_than_the_store_is_refused() -> None:
    with pytest.raises(mltrail.InvalidValueError, match="registry_uri"):
        mltrail.MlflowClient(registry_uri="sqlite:///other.db")


def test_metric_with_model_id_is_linked_to_the_logged_model() -> None:
    client = mltrail.MlflowClient()
    run_id = client.create_run("0").info.run_id
    model = client.create_logged_model("0", name="m", source_run_id=run_id)
    client.log_metric(
        run_id, "auc", 0.8, step=2, model_id=model.model_id, dataset_name="test",
        dataset_digest="abc",
    )  # fmt: skip
    [point] = client.get_logged_model(model.model_id).metrics
    assert (point.key, point.value, point.step, point.run_id) == ("auc", 0.8, 2, run_id)
    assert (point.dataset_name, point.dataset_digest) == ("test", "abc")
    assert client.get_run(run_id).data.metrics == {"auc": 0.8}


def test_logged_model_lifecycle() -> None:
    client = mltrail.MlflowClient()
    model = client.create_logged_model(
        "0", name="ranker", tags={"k": 1}, params={"depth": 3}, model_type="ranker"
    )
    client.log_model_params(model.model_id, {"lr": 0.1})
    client.set_logged_model_tags(model.model_id, {"stage": "candidate"})
    client.delete_logged_model_tag(model.model_id, "k")
    ready = client.finalize_logged_model(
        model.model_id, mltrail.LoggedModelStatus.READY
    )
    stored = client.get_logged_model(model.model_id)
    assert (ready.status, stored.model_type) == ("READY", "ranker")
    assert stored.params == {"depth": "3", "lr": "0.1"}
    assert stored.tags == {"stage": "candidate"}
    found = client.search_logged_models(["0"], filter_string="params.depth = '3'")
    assert [m.model_id for m in found] == [model.model_id]
    client.delete_logged_model(model.model_id)
    assert list(client.search_logged_models(["0"])) == []


def test_finalize_refuses_pending() -> None:
    client = mltrail.MlflowClient()
    model_id = client.create_logged_model("0").model_id
    with pytest.raises(mltrail.InvalidValueError, match="'READY' or 'FAILED'"):
        client.finalize_logged_model(model_id, "PENDING")


def test_model_inputs_and_outputs_are_recorded() -> None:
    client = mltrail.MlflowClient()
    run_id = client.create_run("0").info.run_id
    read = client.create_logged_model("0", name="read").model_id
    made = client.create_logged_model("0", name="made").model_id
    client.log_inputs(run_id, models=[LoggedModelInput(read)])
    client.log_outputs(run_id, [LoggedModelOutput(made, step=4)])
    assert client._store.get_run_models(run_id) == ([read], [(made, 4)])


def test_parent_run_of_a_top_level_run_is_none() -> None:
    client = mltrail.MlflowClient()
    run_id = client.create_run("0").info.run_id
    assert client.get_parent_run(run_id) is None


def test_model_version_tag_by_stage() -> None:
    client = mltrail.MlflowClient()
    client.create_registered_model("churn")
    run_id = client.create_run("0").info.run_id
    client.create_model_version("churn", f"runs:/{run_id}/model", run_id)
    client.transition_model_version_stage("churn", "1", "Production")
    client.set_model_version_tag(
        "churn", key="validated", value=True, stage="Production"
    )
    assert client.get_model_version("churn", "1").tags == {"validated": "True"}
    client.delete_model_version_tag("churn", key="validated", stage="Production")
    assert client.get_model_version("churn", "1").tags == {}


def test_model_version_tag_needs_a_version_or_a_stage_that_has_one() -> None:
    client = mltrail.MlflowClient()
    client.create_registered_model("empty")
    with pytest.raises(mltrail.InvalidValueError, match="version"):
        client.set_model_version_tag("empty", key="k", value="v")
    with pytest.raises(mltrail.InvalidValueError, match="'Staging'"):
        client.set_model_version_tag("empty", key="k", value="v", stage="Staging")
    with pytest.raises(mltrail.InvalidValueError, match="key"):
        client.set_model_version_tag("empty", "1")


def test_deployment_job_is_refused() -> None:
    client = mltrail.MlflowClient()
    with pytest.raises(mltrail.InvalidValueError, match="deployment_job_id"):
        client.create_registered_model("m", deployment_job_id="42")


def test_model_version_from_a_logged_model_id() -> None:
    client = mltrail.MlflowClient()
    client.create_registered_model("from-model")
    run_id = client.create_run("0").info.run_id
    model_id = client.create_logged_model("0", source_run_id=run_id).model_id
    version = client.create_model_version("from-model", "", run_id, model_id=model_id)
    assert version.source == f"models:/{model_id}"


def test_mlflow_exception_catches_mltrail_errors() -> None:
    with pytest.raises(MlflowException) as caught:
        mltrail.MlflowClient().get_experiment("12345")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert caught.value.get_error_code() == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (mltrail.InvalidValueError("x", 1, "a str"), "INVALID_PARAMETER_VALUE"),
        (mltrail.ConflictError("param 'C' changed"), "INVALID_PARAMETER_VALUE"),
        (mltrail.StoreError("down"), "INTERNAL_ERROR"),
        (MlflowException("custom", error_code="BAD_REQUEST"), "BAD_REQUEST"),
    ],
    ids=["invalid", "conflict", "store", "user-raised"],
)
def test_error_codes_are_mlflows(error: MlflowException, code: str) -> None:
    assert error.get_error_code() == code
