"""MLflow's own client, unchanged, against a real ``mltrail server`` process.

The fluent API, ``MlflowClient``, ``search_runs``, ``mlflow.sklearn.autolog()`` with
its model logged through the artifact proxy, and ``pyfunc.load_model("runs:/...")``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server._live import LiveServer, live_server

mlflow = pytest.importorskip("mlflow")

pytestmark = [
    pytest.mark.mlflow,
    pytest.mark.slow,
    # MLflow's own deprecations and sklearn's FutureWarnings from MLflow's metrics.
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("mlflow-client")) as server:
        yield server


@pytest.fixture
def tracking(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MLFLOW_ENABLE_TELEMETRY", "false")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow.set_tracking_uri(server.url)
    yield server.url
    if mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.sklearn.autolog(disable=True)
    mlflow.set_tracking_uri("")


def test_fluent_api_round_trips(tracking: str, tmp_path: Path) -> None:
    mlflow.set_experiment("fluent")
    note = tmp_path / "note.txt"
    note.write_text("hello")
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("C", 1.0)
        mlflow.log_params({"penalty": "l2", "max_iter": 100})
        for step in range(3):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9})
        mlflow.set_tag("team", "risk")
        mlflow.log_artifact(str(note), "docs")
        mlflow.log_dict({"classes": [0, 1]}, "meta/classes.json")
    client = mlflow.MlflowClient()
    read = client.get_run(run.info.run_id)
    assert read.info.status == "FINISHED"
    assert read.info.run_name == "first"
    assert read.data.params == {"C": "1.0", "penalty": "l2", "max_iter": "100"}
    assert read.data.metrics == {"loss": pytest.approx(1 / 3), "acc": 0.9}
    assert read.data.tags["team"] == "risk"
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2]
    assert sorted(f.path for f in client.list_artifacts(run.info.run_id)) == [
        "docs",
        "meta",
    ]
    local = client.download_artifacts(run.info.run_id, "docs/note.txt", str(tmp_path))
    assert Path(local).read_text() == "hello"
    assert mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/meta/classes.json") == {
        "classes": [0, 1]
    }


def test_client_experiments_and_errors(tracking: str) -> None:
    client = mlflow.MlflowClient()
    experiment_id = client.create_experiment("client-made", tags={"k": "v"})
    assert client.get_experiment(experiment_id).tags == {"k": "v"}
    assert client.get_experiment_by_name("client-made").experiment_id == experiment_id
    with pytest.raises(mlflow.exceptions.MlflowException) as caught:
        client.create_experiment("client-made")
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"
    client.rename_experiment(experiment_id, "renamed")
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    client.restore_experiment(experiment_id)
    with pytest.raises(mlflow.exceptions.MlflowException) as missing:
        client.get_run("0" * 32)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_runs_with_mlflow(tracking: str) -> None:
    experiment = mlflow.set_experiment("search")
    for index in range(4):
        with mlflow.start_run(run_name=f"r{index}"):
            mlflow.log_metric("score", index)
            mlflow.log_param("kind", "even" if index % 2 == 0 else "odd")
    frame = mlflow.search_runs(
        experiment_ids=[experiment.experiment_id],
        filter_string="params.kind = 'even'",
        order_by=["metrics.score DESC"],
    )
    assert list(frame["tags.mlflow.runName"]) == ["r2", "r0"]
    runs = mlflow.MlflowClient().search_runs(
        [experiment.experiment_id], max_results=3, order_by=["metrics.score ASC"]
    )
    assert [r.data.metrics["score"] for r in runs] == [0.0, 1.0, 2.0]
    assert runs.token


def test_autolog_logs_the_model_through_the_proxy(tracking: str) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow.set_experiment("autolog")
    mlflow.sklearn.autolog()
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=300).fit(X, y)
    run = mlflow.last_active_run()
    assert run is not None
    assert run.info.status == "FINISHED"
    assert run.data.metrics["training_accuracy_score"] > 0.9
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert list(loaded.predict(X.head(5))) == list(model.predict(X.head(5)))
    models = mlflow.search_logged_models(
        experiment_ids=[run.info.experiment_id], output_format="list"
    )
    assert [(m.name, str(m.status), m.source_run_id) for m in models] == [
        ("model", "READY", run.info.run_id)
    ]
    assert {m.key for m in models[0].metrics} >= {"training_accuracy_score"}
    outputs = mlflow.MlflowClient().get_run(run.info.run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [models[0].model_id]


def test_runs_read_back_across_clients(
    tracking: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mltrail

    mlflow.set_experiment("cross")
    with mlflow.start_run(run_name="by-mlflow") as by_mlflow:
        mlflow.log_param("tool", "mlflow")
        mlflow.log_metric("score", 0.5, step=3)
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", tracking)
    mltrail.set_experiment("cross")
    with mltrail.start_run(run_name="by-mltrail") as by_mltrail:
        mltrail.log_param("tool", "mltrail")
        mltrail.log_metric("score", 0.75, step=4)
    seen_by_mltrail = mltrail.get_run(by_mlflow.info.run_id)
    assert seen_by_mltrail.data.params == {"tool": "mlflow"}
    assert seen_by_mltrail.data.metrics == {"score": 0.5}
    history = mltrail.TrackingClient().get_metric_history(
        by_mlflow.info.run_id, "score"
    )
    assert [(m.step, m.value) for m in history] == [(3, 0.5)]
    seen_by_mlflow = mlflow.get_run(by_mltrail.info.run_id)
    assert seen_by_mlflow.info.status == "FINISHED"
    assert seen_by_mlflow.data.params == {"tool": "mltrail"}
    assert seen_by_mlflow.data.metrics == {"score": 0.75}
    names = set(mlflow.search_runs(experiment_names=["cross"])["tags.mlflow.runName"])
    assert names == {"by-mlflow", "by-mltrail"}


def test_empty_values_and_experiment_deletion_as_mlflows_server(tracking: str) -> None:
    """Found by running MLflow's client against both servers side by side."""
    client = mlflow.MlflowClient()
    experiment_id = client.create_experiment("empty-values")
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    client.log_param(run_id, "note", "")
    client.set_tag(run_id, "owner", "")
    client.set_experiment_tag(experiment_id, "team", "")
    client.create_registered_model("empty-values")
    client.set_registered_model_tag("empty-values", "stage", "")
    read = client.get_run(run_id)
    assert read.data.params["note"] == ""
    assert read.data.tags["owner"] == ""
    assert client.get_experiment(experiment_id).tags["team"] == ""
    assert client.get_registered_model("empty-values").tags == {"stage": ""}
    newest = mlflow.search_experiments(max_results=1)
    assert [e.experiment_id for e in newest] == [experiment_id]

    client.delete_experiment(experiment_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([experiment_id]) == []
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.log_metric(run_id, "loss", 0.5)
    client.restore_experiment(experiment_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"
