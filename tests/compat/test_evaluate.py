"""``mltrail.evaluate`` in MLflow's form: MLflow's metric names, result and links."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split

import mltrail


def _regression() -> tuple[LinearRegression, np.ndarray, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    return LinearRegression().fit(X_train, y_train), X_test, y_test


def test_regressor_metrics_have_mlflows_names_and_sklearns_values() -> None:
    model, X, y = _regression()
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(model, name="model")
        result = mltrail.evaluate(
            info.model_uri, X, targets=y, model_type="regressor", evaluators="default"
        )
    y_pred = model.predict(X)
    expected = {
        "example_count": len(y),
        "mean_absolute_error": sk.mean_absolute_error(y, y_pred),
        "mean_squared_error": sk.mean_squared_error(y, y_pred),
        "root_mean_squared_error": sk.root_mean_squared_error(y, y_pred),
        "r2_score": sk.r2_score(y, y_pred),
        "max_error": sk.max_error(y, y_pred),
        "mean_absolute_percentage_error": sk.mean_absolute_percentage_error(y, y_pred),
        "sum_on_target": y.sum(),
        "mean_on_target": y.mean(),
        "score": model.score(X, y),
    }
    assert result.metrics == pytest.approx(expected, rel=1e-9)
    assert result.run_id == run.info.run_id
    logged = mltrail.get_run(run.info.run_id).data.metrics
    assert {k: logged[k] for k in expected} == pytest.approx(expected, rel=1e-9)
    assert logged["eval_r2"] == pytest.approx(expected["r2_score"])


def test_binary_classifier_from_a_dataframe_with_a_target_column() -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = LogisticRegression(max_iter=5000).fit(X_train, y_train)
    data = X_test.assign(label=y_test)
    with mltrail.start_run():
        result = mltrail.evaluate(
            model,
            data,
            targets="label",
            model_type="classifier",
            evaluators=["default"],
        )
    y_pred, y_proba = model.predict(X_test), model.predict_proba(X_test)[:, 1]
    tn, fp, fn, tp = sk.confusion_matrix(y_test, y_pred).ravel()
    expected = {
        "example_count": len(y_test),
        "accuracy_score": sk.accuracy_score(y_test, y_pred),
        "precision_score": sk.precision_score(y_test, y_pred),
        "recall_score": sk.recall_score(y_test, y_pred),
        "f1_score": sk.f1_score(y_test, y_pred),
        "log_loss": sk.log_loss(y_test, model.predict_proba(X_test)),
        "roc_auc": sk.roc_auc_score(y_test, y_proba),
        "precision_recall_auc": sk.average_precision_score(y_test, y_proba),
        "true_negatives": tn,
        "false_positives": fp,
        "false_negatives": fn,
        "true_positives": tp,
        "score": model.score(X_test, y_test),
    }
    assert result.metrics == pytest.approx(expected, rel=1e-9)
    assert set(result.artifacts) == {
        "confusion_matrix",
        "roc_curve_plot",
        "precision_recall_curve_plot",
        "calibration_curve_plot",
    }
    client = mltrail.MlflowClient()
    paths = {f.path for f in client.list_artifacts(result.run_id, "plots")}
    for artifact in result.artifacts.values():
        assert artifact.uri.split(f"{result.run_id}/")[1] in paths


def test_multiclass_averages_are_weighted_as_mlflows() -> None:
    X, y = load_iris(return_X_y=True)
    keep = np.r_[0:50, 50:80, 100:150]  # unbalanced classes tell weighted from macro
    X, y = X[keep], y[keep]
    model = LogisticRegression(max_iter=1000).fit(X, y)
    with mltrail.start_run():
        result = mltrail.evaluate(model, X, targets=y, model_type="classifier")
    y_pred, y_proba = model.predict(X), model.predict_proba(X)
    expected = {
        "precision_score": sk.precision_score(y, y_pred, average="weighted"),
        "recall_score": sk.recall_score(y, y_pred, average="weighted"),
        "f1_score": sk.f1_score(y, y_pred, average="weighted"),
        "roc_auc": sk.roc_auc_score(y, y_proba, multi_class="ovr", average="weighted"),
    }
    assert {k: result.metrics[k] for k in expected} == pytest.approx(expected)
    assert "true_positives" not in result.metrics


def test_metrics_are_linked_to_the_logged_model_of_the_uri() -> None:
    model, X, y = _regression()
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(model, name="model")
        result = mltrail.evaluate(
            mltrail.get_artifact_uri("model"), X, targets=y, model_type="regressor"
        )
    assert info.model_id is not None
    linked = mltrail.get_logged_model(info.model_id).metrics
    assert {m.key for m in linked} == set(result.metrics)
    assert {(m.run_id, m.dataset_name) for m in linked} == {(run.info.run_id, "eval")}
    [dataset_input] = mltrail.get_run(run.info.run_id).inputs.dataset_inputs
    assert {m.dataset_digest for m in linked} == {dataset_input.dataset.digest}


def test_evaluation_without_an_active_run_starts_and_ends_one() -> None:
    model, X, y = _regression()
    result = mltrail.evaluate(model, X, targets=y)
    run = mltrail.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert mltrail.active_run() is None
    assert run.data.metrics["r2_score"] == pytest.approx(model.score(X, y))


def test_static_predictions_and_a_named_dataset() -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0], "p": [1.5, 2.0, 2.5]})
    dataset = mltrail.data.from_pandas(frame, targets="y", predictions="p", name="q4")
    with mltrail.start_run() as run:
        result = mltrail.evaluate(data=dataset, model_type="regressor")
    assert result.metrics["mean_absolute_error"] == pytest.approx(1 / 3)
    assert "score" not in result.metrics
    assert "q4_mae" in mltrail.get_run(run.info.run_id).data.metrics


def test_a_function_as_the_model() -> None:
    X = np.array([[0.0], [1.0], [2.0]])
    with mltrail.start_run():
        result = mltrail.evaluate(
            lambda features: features[:, 0] * 2, X, targets=[0.0, 2.0, 5.0],
            model_type="regressor",
        )  # fmt: skip
    assert result.metrics["max_error"] == pytest.approx(1.0)


def test_mltrails_own_form_still_returns_its_metrics() -> None:
    model, X, y = _regression()
    metrics = mltrail.evaluate(model, X, y, name="holdout")
    assert metrics["holdout_r2"] == pytest.approx(model.score(X, y))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"model_type": "ranker"}, "model_type"),
        ({"evaluators": "shap"}, "evaluators"),
        ({"extra_metrics": ["m"]}, "extra_metrics"),
        ({"env_manager": "virtualenv"}, "env_manager"),
        ({"targets": "y"}, "DataFrame"),
        ({}, "targets"),
    ],
    ids=["model-type", "evaluator", "extra-metrics", "env-manager", "column", "no-y"],
)
def test_unsupported_mlflow_options_are_refused(
    options: dict[str, Any], match: str
) -> None:
    model, X, _ = _regression()
    options = {"model_type": "regressor", **options}
    with pytest.raises(mltrail.InvalidValueError, match=match):
        mltrail.evaluate(model, data=X, **options)
