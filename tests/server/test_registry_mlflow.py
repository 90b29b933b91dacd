"""The real ``mlflow`` client's registry calls against a real ``mltrail server``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mltrail
from tests.models._mlflow import import_mlflow
from tests.server._live import LiveServer, live_server

pytestmark = [pytest.mark.slow, pytest.mark.mlflow]


def _mixed_frame(rows: int = 120) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows),
            "income": rng.normal(50_000, 15_000, rows),
            "city": rng.choice(["paris", "lyon", "nice"], rows),
        }
    )
    y = (X["income"] > 50_000).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    """A ColumnTransformer pipeline on mixed dtypes, saved by mltrail."""
    X, y = _mixed_frame()
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                ("numbers", StandardScaler(), ["age", "income"]),
                ("words", OneHotEncoder(handle_unknown="ignore"), ["city"]),
            ]
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X, y)
    path = tmp_path_factory.mktemp("pipeline") / "model"
    mltrail.sklearn.save_model(pipeline, path, input_example=X)
    return path, pipeline, X


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    mlflow = import_mlflow()
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    with live_server(tmp_path / "server") as running:
        # Other tests may leave a tracking URI and an active experiment behind.
        mlflow.set_tracking_uri(running.url)
        yield running
        mlflow.set_tracking_uri("")


def test_mlflow_registers_aliases_and_loads_by_alias(
    server: LiveServer, pipeline_dir: tuple[Path, Any, Any]
) -> None:
    mlflow = import_mlflow()
    path, pipeline, X = pipeline_dir
    with mlflow.start_run(experiment_id="0") as run:
        mlflow.log_artifacts(str(path), "model")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "churn")
    second = mlflow.register_model(f"runs:/{run.info.run_id}/model", "churn")
    assert (version.version, second.version) == ("1", "2")
    assert version.run_id == run.info.run_id
    assert version.source.endswith(f"/{run.info.run_id}/artifacts/model")
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("churn", "champion", "1")
    assert client.get_model_version_by_alias("churn", "champion").version == "1"
    model = mlflow.pyfunc.load_model("models:/churn@champion")
    np.testing.assert_array_equal(model.predict(X), pipeline.predict(X))
    by_version = mlflow.pyfunc.load_model("models:/churn/2")
    np.testing.assert_array_equal(by_version.predict(X), pipeline.predict(X))
    client.set_registered_model_alias("churn", "champion", "2")
    history = mltrail.TrackingClient(
        f"sqlite:///{server.directory / 'mltrail.db'}"
    ).get_alias_history("churn", "champion")
    assert [(c.previous_version, c.version) for c in history] == [(None, 1), (1, 2)]


def test_mlflow_client_registry_methods(
    server: LiveServer, pipeline_dir: tuple[Path, Any, Any]
) -> None:
    mlflow = import_mlflow()
    path, _, _ = pipeline_dir
    client = mlflow.MlflowClient()
    with mlflow.start_run(experiment_id="0") as run:
        mlflow.log_artifacts(str(path), "model")
    created = client.create_registered_model(
        "wine", tags={"team": "risk"}, description="first"
    )
    assert (created.name, created.tags) == ("wine", {"team": "risk"})
    version = client.create_model_version(
        "wine",
        f"{run.info.artifact_uri}/model",
        run_id=run.info.run_id,
        tags={"validated": "yes"},
        description="baseline",
    )
    assert (version.version, version.status) == ("1", "READY")
    assert client.get_model_version("wine", "1").tags == {"validated": "yes"}
    client.update_registered_model("wine", description="second")
    client.update_model_version("wine", "1", description="retrained")
    client.set_registered_model_tag("wine", "tier", "1")
    client.delete_registered_model_tag("wine", "team")
    client.set_model_version_tag("wine", "1", "owner", "ada")
    client.delete_model_version_tag("wine", "1", "validated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # stages are deprecated
        moved = client.transition_model_version_stage("wine", "1", "Production")
        latest = client.get_latest_versions("wine", ["Production"])
    assert moved.current_stage == "Production"
    assert [v.version for v in latest] == ["1"]
    model = client.get_registered_model("wine")
    assert (model.description, model.tags) == ("second", {"tier": "1"})
    got = client.get_model_version("wine", "1")
    assert (got.description, got.tags) == ("retrained", {"owner": "ada"})
    found = client.search_registered_models(filter_string="name LIKE 'wi%'")
    assert [m.name for m in found] == ["wine"]
    versions = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    assert [v.version for v in versions] == ["1"]
    assert client.get_model_version_download_uri("wine", "1") == version.source
    copied = client.copy_model_version("models:/wine/1", "wine-prod")
    assert (copied.name, copied.version) == ("wine-prod", "1")
    client.rename_registered_model("wine-prod", "wine-live")
    assert client.get_registered_model("wine-live").latest_versions[0].version == "1"
    client.set_registered_model_alias("wine", "champion", "1")
    client.delete_registered_model_alias("wine", "champion")
    client.delete_model_version("wine", "1")
    with pytest.raises(
        mlflow.exceptions.MlflowException, match="RESOURCE_DOES_NOT_EXIST"
    ):
        client.get_model_version("wine", "1")
    client.delete_registered_model("wine")
    assert [m.name for m in client.search_registered_models()] == ["wine-live"]


def test_a_version_registered_from_a_logged_models_location(
    server: LiveServer, pipeline_dir: tuple[Path, Any, Any]
) -> None:
    """MLflow 3 keeps a logged model outside its run's artifacts; found by the audit."""
    mlflow = import_mlflow()
    _, pipeline, X = pipeline_dir
    with mlflow.start_run(experiment_id="0") as run:
        info = mlflow.sklearn.log_model(
            pipeline, name="model", serialization_format="cloudpickle"
        )
    logged = mlflow.get_logged_model(info.model_id)
    client = mlflow.MlflowClient()
    client.create_registered_model("churn-logged")
    version = client.create_model_version(
        "churn-logged",
        logged.artifact_location,
        run_id=run.info.run_id,
        model_id=info.model_id,
    )
    assert (version.version, version.run_id) == ("1", run.info.run_id)
    model = mlflow.pyfunc.load_model("models:/churn-logged/1")
    np.testing.assert_array_equal(model.predict(X), pipeline.predict(X))
    with pytest.raises(mlflow.exceptions.MlflowException, match="logged model"):
        client.create_model_version(
            "churn-logged",
            f"{run.info.artifact_uri}/elsewhere",
            run_id=run.info.run_id,
            model_id=info.model_id,
        )


def test_mlflow_errors_carry_mlflows_codes(server: LiveServer) -> None:
    mlflow = import_mlflow()
    client = mlflow.MlflowClient()
    client.create_registered_model("wine")
    with pytest.raises(mlflow.exceptions.MlflowException) as exists:
        client.create_registered_model("wine")
    assert exists.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(mlflow.exceptions.MlflowException) as reserved:
        client.set_registered_model_alias("wine", "latest", "1")
    assert reserved.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(mlflow.exceptions.MlflowException) as missing:
        client.get_registered_model("nope")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
