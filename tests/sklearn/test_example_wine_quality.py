"""The seed's scenario: ``examples/wine_quality.py`` logs every item of issue 3."""

from __future__ import annotations

import json
import runpy
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.datasets import load_wine

import mltrail
from mltrail._entities import Run
from mltrail.tracking import TrackingClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "wine_quality.py"


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Run the example once, in its own directory, and return its run."""
    directory = tmp_path_factory.mktemp("wine")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(directory)
        try:
            runpy.run_path(str(EXAMPLE), run_name="__main__")
        finally:
            mltrail.sklearn.autolog(disable=True)
        run_id = (directory / "last_run_id.txt").read_text().strip()
        yield TrackingClient(f"sqlite:///{directory}/mltrail.db").get_run(run_id)


def _artifacts(run: Run) -> Path:
    return Path(run.info.artifact_uri.removeprefix("file://"))


@pytest.mark.slow
def test_run_is_one_finished_run_with_metadata(example_run: Run) -> None:
    info = example_run.info
    assert info.status == "FINISHED"
    assert info.end_time is not None
    assert info.end_time >= info.start_time
    assert info.experiment_id == "0"
    assert example_run.data.tags["mlflow.source.name"].endswith("wine_quality.py")
    assert example_run.data.tags["mlflow.user"] == info.user_id


@pytest.mark.slow
def test_run_has_every_param_with_defaults(example_run: Run) -> None:
    params = example_run.data.params
    assert params["n_estimators"] == "100"
    assert params["max_depth"] == "6"
    assert params["min_samples_split"] == "2"
    assert params["random_state"] == "42"
    assert params["criterion"] == "gini"  # a default


@pytest.mark.slow
def test_run_has_training_and_manual_metrics(example_run: Run) -> None:
    found = set(example_run.data.metrics)
    assert {
        "accuracy",
        "training_accuracy_score",
        "training_precision_score",
        "training_recall_score",
        "training_f1_score",
        "training_log_loss",
        "training_roc_auc",
        "training_score",
        "training_duration_seconds",
    } <= found


@pytest.mark.slow
def test_run_has_estimator_project_and_version_tags(example_run: Run) -> None:
    tags = example_run.data.tags
    assert tags["estimator_name"] == "RandomForestClassifier"
    assert tags["estimator_class"] == "sklearn.ensemble._forest.RandomForestClassifier"
    assert tags["mlflow.autologging"] == "sklearn"
    assert tags["project"] == "Wine Quality Classification"
    assert {
        "mlflow.mltrail.python_version",
        "mlflow.mltrail.sklearn_version",
        "mlflow.mltrail.version",
    } <= (set(tags))


@pytest.mark.slow
def test_run_has_the_confusion_matrix_and_environment(example_run: Run) -> None:
    root = _artifacts(example_run)
    assert (root / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "scikit-learn==" in (root / "environment" / "packages.txt").read_text()


@pytest.mark.slow
def test_run_has_the_model_in_mlflow_format(example_run: Run) -> None:
    model_dir = _artifacts(example_run) / "model"
    mlmodel = yaml.safe_load((model_dir / "MLmodel").read_text())
    assert set(mlmodel["flavors"]) == {"python_function", "sklearn"}
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == "skops"
    assert mlmodel["run_id"] == example_run.info.run_id
    inputs = json.loads(mlmodel["signature"]["inputs"])
    assert [spec["name"] for spec in inputs][:2] == ["alcohol", "malic_acid"]
    assert all(spec["type"] == "double" for spec in inputs)
    example = json.loads((model_dir / "input_example.json").read_text())
    assert len(example["data"]) == 5
    assert "scikit-learn" in (model_dir / "requirements.txt").read_text()
    for name in ("python_env.yaml", "conda.yaml", "serving_input_example.json"):
        assert (model_dir / name).exists()


@pytest.mark.slow
def test_run_model_loads_and_predicts(example_run: Run) -> None:
    X, _ = load_wine(return_X_y=True, as_frame=True)
    model = mltrail.sklearn.load_model(_artifacts(example_run) / "model")
    assert model.predict(X).shape == (len(X),)
    assert set(np.unique(model.predict(X))) <= {0, 1, 2}


@pytest.mark.slow
def test_run_records_the_training_and_test_data(example_run: Run) -> None:
    by_context = {
        tag.value: json.loads(entry.dataset.profile or "{}")["num_rows"]
        for entry in example_run.inputs.dataset_inputs
        for tag in entry.tags
        if tag.key == "mlflow.data.context"
    }
    assert by_context == {"train": 133, "test": 45}
