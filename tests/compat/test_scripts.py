"""MLflow's public scikit-learn scripts run with ``import mltrail as mlflow``.

Each script in ``scripts/`` is one of MLflow's examples or tutorials with only the
import changed (see each file's docstring for what else had to change, and why).
Each test runs one, reads the runs back and checks they hold what MLflow 3.17 logs
for the same script (run once with the real ``mlflow`` to know it): the names of
params, metrics, tags, inputs and models, and the values that do not depend on
timing or randomness.
"""

from __future__ import annotations

import json
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

import mltrail
from mltrail import MlflowClient, Run

SCRIPTS = Path(__file__).parent / "scripts"
LINEAR_REGRESSION_PARAMS = {
    "copy_X": "True",
    "fit_intercept": "True",
    "n_jobs": "None",
    "positive": "False",
    "tol": "1e-06",
}
TRAINING_REGRESSION_METRICS = {
    "training_mean_squared_error",
    "training_mean_absolute_error",
    "training_r2_score",
    "training_root_mean_squared_error",
    "training_score",
}


@pytest.fixture
def run_script(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Any]:
    """Run a script of ``scripts/`` as ``python <name>.py``; return what it printed."""
    monkeypatch.syspath_prepend(str(SCRIPTS))  # for the scripts' own helper module

    def run(name: str) -> str:
        monkeypatch.setattr(sys, "argv", [f"{name}.py"])
        runpy.run_path(str(SCRIPTS / f"{name}.py"), run_name="__main__")
        mltrail.flush()
        return capsys.readouterr().out

    yield run
    mltrail.sklearn.autolog(disable=True)


def _runs(experiment: str = "Default") -> list[Run]:
    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    return list(client.search_runs([found.experiment_id], order_by=["start_time"]))


def _user_tags(run: Run) -> dict[str, str]:
    return {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}


def _artifacts(run_id: str, path: str | None = None) -> set[str]:
    client, found = MlflowClient(), set()
    for item in client.list_artifacts(run_id, path):
        found |= _artifacts(run_id, item.path) if item.is_dir else {item.path}
    return found


def test_autolog_simple(run_script: Any) -> None:
    output = run_script("autolog_simple")
    [run] = _runs()
    assert run.data.params == LINEAR_REGRESSION_PARAMS
    assert set(run.data.metrics) >= TRAINING_REGRESSION_METRICS
    assert run.data.metrics["training_r2_score"] == pytest.approx(1.0)
    assert _user_tags(run) == {
        "estimator_name": "LinearRegression",
        "estimator_class": "sklearn.linear_model._base.LinearRegression",
    }
    assert "'estimator_name': 'LinearRegression'" in output
    assert run.info.status == "FINISHED"


def test_autolog_linear_regression_without_a_run(run_script: Any) -> None:
    output = run_script("autolog_linear_regression")
    [run] = _runs()
    assert f"Logged data and model in run {run.info.run_id}" in output
    assert run.data.params == LINEAR_REGRESSION_PARAMS
    assert set(run.data.metrics) >= TRAINING_REGRESSION_METRICS
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    assert "estimator.html" in _artifacts(run.info.run_id)
    [dataset] = run.inputs.dataset_inputs
    assert [(t.key, t.value) for t in dataset.tags] == [
        ("mlflow.data.context", "train")
    ]
    model = mltrail.last_logged_model()
    assert model is not None
    assert (model.source_run_id, model.params) == (run.info.run_id, run.data.params)


def test_autolog_pipeline(run_script: Any) -> None:
    run_script("autolog_pipeline")
    [run] = _runs()
    expected = {
        "steps": "[('scaler', StandardScaler()), ('lr', LinearRegression())]",
        "scaler": "StandardScaler()",
        "lr": "LinearRegression()",
        "scaler__with_mean": "True",
        "lr__fit_intercept": "True",
        "memory": "None",
        "verbose": "False",
    }
    assert run.data.params.items() >= expected.items()
    assert set(run.data.metrics) >= TRAINING_REGRESSION_METRICS
    assert _user_tags(run)["estimator_class"] == "sklearn.pipeline.Pipeline"


@pytest.mark.slow
def test_autolog_grid_search_cv(run_script: Any) -> None:
    output = run_script("autolog_grid_search_cv")
    runs = _runs()
    [parent] = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r is not parent]
    assert len(children) == 4  # the four points of the grid, as MLflow logs them
    assert {(r.data.params["kernel"], r.data.params["C"]) for r in children} == {
        ("linear", "1"),
        ("linear", "10"),
        ("rbf", "1"),
        ("rbf", "10"),
    }
    for child in children:
        assert {"C", "kernel", "gamma", "tol", "break_ties"} <= set(child.data.params)
        assert {
            "mean_test_score",
            "std_test_score",
            "rank_test_score",
            "mean_fit_time",
            "std_fit_time",
            "mean_score_time",
            "std_score_time",
        } <= set(child.data.metrics)
    assert {
        "cv",
        "error_score",
        "estimator",
        "n_jobs",
        "param_grid",
        "pre_dispatch",
        "refit",
        "return_train_score",
        "scoring",
        "verbose",
        "best_C",
        "best_kernel",
    } <= set(parent.data.params)
    assert (parent.data.params["best_C"], parent.data.params["best_kernel"]) == (
        "1",
        "linear",
    )
    assert {
        "training_precision_score",
        "training_recall_score",
        "training_f1_score",
        "training_accuracy_score",
        "training_score",
        "best_cv_score",
    } <= set(parent.data.metrics)
    assert parent.data.metrics["best_cv_score"] == pytest.approx(0.98)
    assert "metrics.mean_test_score" in output  # the DataFrame's column was found


def test_elasticnet_wine_registers_the_model(run_script: Any) -> None:
    output = run_script("elasticnet_wine")
    [run] = _runs()
    assert run.data.params == {"alpha": "0.5", "l1_ratio": "0.5"}
    assert set(run.data.metrics) == {"rmse", "r2", "mae"}
    assert f"RMSE: {run.data.metrics['rmse']}" in output
    client = MlflowClient()
    [version] = client.search_model_versions("name = 'ElasticnetWineModel'")
    assert (version.version, version.run_id) == (1, run.info.run_id)
    model = mltrail.last_logged_model()
    assert model is not None
    assert model.params == {"alpha": "0.5", "l1_ratio": "0.5"}
    # MLflow 3 links the run's metrics at the model's step to the model.
    assert {(m.key, m.value, m.run_id) for m in model.metrics} == {
        (key, value, run.info.run_id) for key, value in run.data.metrics.items()
    }


def test_elasticnet_diabetes_logs_without_a_run_and_a_figure(run_script: Any) -> None:
    run_script("elasticnet_diabetes")
    [run] = _runs()
    assert run.data.params == {"alpha": "0.05", "l1_ratio": "0.05"}
    assert set(run.data.metrics) == {"rmse", "r2", "mae"}
    assert {"ElasticNet-paths.png", "model/MLmodel"} <= _artifacts(run.info.run_id)
    model = mltrail.last_logged_model()
    assert model is not None
    assert model.params == run.data.params
    assert {m.key for m in model.metrics} == {"rmse", "r2", "mae"}


def test_logistic_regression_with_signature_and_example(run_script: Any) -> None:
    output = run_script("logistic_regression")
    [run] = _runs()
    assert f"Model saved in run {run.info.run_id}" in output
    assert run.data.metrics == {"score": pytest.approx(2 / 3)}
    model = mltrail.models.Model.load(f"runs:/{run.info.run_id}/model")
    assert model.signature is not None
    assert model.signature.inputs is not None
    [spec] = model.signature.inputs.inputs
    assert isinstance(spec, mltrail.models.TensorSpec)
    assert spec.shape == (-1, 1)  # MLflow's signature of a 2-D array
    assert {"model/input_example.json", "model/MLmodel"} <= _artifacts(run.info.run_id)


def test_mlflow3_demo_links_metrics_to_the_logged_model(run_script: Any) -> None:
    run_script("mlflow3_ml_demo")
    training, evaluation = _runs()
    [model] = mltrail.search_logged_models(output_format="list")
    assert model.name == "elasticnet"
    assert model.params == {"alpha": "0.5", "l1_ratio": "0.5"}
    assert sorted((m.key, m.dataset_name, m.run_id) for m in model.metrics) == sorted(
        (key, dataset, run.info.run_id)
        for key in ("rmse", "r2", "mae")
        for dataset, run in (("train", training), ("test", evaluation))
    )
    assert [i.dataset.name for i in training.inputs.dataset_inputs] == ["train"]
    assert [i.dataset.name for i in evaluation.inputs.dataset_inputs] == ["test"]
    [version] = MlflowClient().search_model_versions("name = 'my_ml_model'")
    assert version.source == model.model_uri


def test_evaluate_regressor(run_script: Any) -> None:
    output = run_script("evaluate_regressor")
    [run] = _runs()
    X, y = load_diabetes(return_X_y=True)
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.33, random_state=42)
    model = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert run.data.metrics["r2_score"] == pytest.approx(model.score(X_test, y_test))
    assert run.data.metrics["example_count"] == len(y_test)
    assert {
        "mean_absolute_error",
        "mean_squared_error",
        "root_mean_squared_error",
        "sum_on_target",
        "mean_on_target",
        "max_error",
        "mean_absolute_percentage_error",
        "score",
    } <= set(run.data.metrics)
    assert "metrics:\n{'example_count': 146" in output


@pytest.mark.slow
def test_evaluate_multiclass_after_autolog(run_script: Any) -> None:
    output = run_script("evaluate_multiclass")
    [run] = _runs()
    metrics = run.data.metrics
    assert {
        "accuracy_score",
        "f1_score",
        "precision_score",
        "recall_score",
        "log_loss",
        "roc_auc",
        "example_count",
        "score",
    } <= set(metrics)
    assert metrics["example_count"] == 3300
    assert metrics["training_accuracy_score"] > metrics["accuracy_score"] - 0.1
    assert f"run_id={run.info.run_id}" in output
    assert "'confusion_matrix'" in output


@pytest.mark.slow
def test_evaluate_binary_xgboost(run_script: Any) -> None:
    output = run_script("evaluate_binary_xgboost")
    [run] = _runs()
    counts = [
        run.data.metrics[key]
        for key in ("true_negatives", "false_positives", "false_negatives")
    ]
    assert sum(counts) + run.data.metrics["true_positives"] == 188
    assert run.data.metrics["roc_auc"] > 0.9
    assert {"precision_recall_auc", "log_loss", "f1_score"} <= set(run.data.metrics)
    assert "roc_curve_plot" in output


def test_quickstart_tracking(run_script: Any) -> None:
    run_script("quickstart_tracking")
    [run] = _runs()
    assert set(run.data.params) == {"param1"}
    assert set(run.data.metrics) == {"foo", "accuracy 2"}
    history = MlflowClient().get_metric_history(run.info.run_id, "foo")
    assert len(history) == 3
    assert run.data.metrics["foo"] == history[-1].value >= 2
    assert _artifacts(run.info.run_id) == {"test.txt"}


def test_tracking_quickstart(run_script: Any) -> None:
    output = run_script("tracking_quickstart")
    [run] = _runs("MLflow Quickstart")
    assert run.data.params == {
        "solver": "lbfgs",
        "max_iter": "1000",
        "random_state": "8888",
    }
    assert run.data.metrics == {"accuracy": 1.0}
    assert run.data.tags["Training Info"] == "Basic LR model for iris data"
    [version] = MlflowClient().search_model_versions("name = 'tracking-quickstart'")
    assert version.run_id == run.info.run_id
    # As MLflow 3: the version comes from the logged model, which has the run's
    # params and the metric logged before it.
    model = mltrail.last_logged_model()
    assert model is not None
    assert version.source == model.model_uri
    assert model.params == run.data.params
    assert [(m.key, m.value) for m in model.metrics] == [("accuracy", 1.0)]
    assert "predicted_class" in output


@pytest.mark.slow
def test_custom_pyfunc_with_an_artifact(run_script: Any) -> None:
    output = run_script("custom_pyfunc")
    sklearn_run, pyfunc_run = _runs()
    assert "sk_model_artifact/MLmodel" in _artifacts(sklearn_run.info.run_id)
    assert "pyfunc_model_artifact/python_model.pkl" in _artifacts(
        pyfunc_run.info.run_id
    )
    assert "PREDS [" in output


def test_registry_workflow_with_the_client(run_script: Any) -> None:
    output = run_script("registry_workflow")
    [run] = _runs()
    assert run.data.params == {
        "max_depth": "2",
        "random_state": "42",
        "n_estimators": "10",
    }
    client = MlflowClient()
    version = client.get_model_version_by_alias(
        "sk-learn-random-forest-reg-model", "champion"
    )
    assert version.version == 1
    assert version.description == "This model version is a scikit-learn random forest"
    assert version.tags == {"validation_status": "approved"}
    assert "'aliases': ['champion']" in output
    assert "'current_stage': 'None'" in output


def test_dataset_tracking(run_script: Any) -> None:
    output = run_script("dataset_tracking")
    [run] = _runs()
    [recorded] = run.inputs.dataset_inputs
    dataset = recorded.dataset
    assert (dataset.name, dataset.source_type) == ("wine quality - white", "http")
    assert json.loads(dataset.source)["url"].endswith("winequality-white.csv")
    assert [(t.key, t.value) for t in recorded.tags] == [
        ("mlflow.data.context", "training")
    ]
    assert dataset.profile is not None
    assert dataset.schema is not None
    assert json.loads(dataset.profile)["num_rows"] == 178
    assert f"Dataset digest: {dataset.digest}" in output
    # The features' columns: the record autolog writes for the same X and y.
    assert len(json.loads(dataset.schema)["mlflow_colspec"]) == 13
