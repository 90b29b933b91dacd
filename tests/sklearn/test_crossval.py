"""Tests of cross-validation logging: fold metrics, their runs, out-of-fold suites."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sklearn import metrics
from sklearn.cluster import KMeans
from sklearn.datasets import load_diabetes, load_wine, make_blobs
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import cross_val_predict, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import mltrail
from mltrail._errors import MltrailWarning
from mltrail._system_tags import CROSS_VALIDATION_TAG
from mltrail.sklearn.recorders import _crossval
from mltrail.tracking import TrackingClient
from tests.sklearn._wiring import wire


@pytest.fixture
def heldout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from wire(monkeypatch)


@pytest.fixture
def wine() -> Any:
    return load_wine(return_X_y=True)


def _classifier() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression())


def _history(client: TrackingClient, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def test_cross_val_score_logs_folds_mean_and_std_in_the_active_run(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient, list_runs: Any
) -> None:
    X, y = wine
    with mltrail.start_run() as run:
        scores = cross_val_score(_classifier(), X, y, cv=4)
    run_id = run.info.run_id
    assert _history(client, run_id, "cv_score_fold") == list(enumerate(scores.tolist()))
    logged = client.get_run(run_id).data.metrics
    assert logged["cv_score_mean"] == pytest.approx(scores.mean())
    assert logged["cv_score_std"] == pytest.approx(scores.std())
    assert "cv_score" not in logged  # a fold's value is never the summary's name
    assert len(_history(client, run_id, "cv_fit_time_fold")) == 4
    assert len(list_runs()) == 1  # no run per fold


def test_cross_val_score_names_the_scorer(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    with mltrail.start_run() as run:
        scores = cross_val_score(_classifier(), X, y, cv=3, scoring="f1_macro")
    logged = client.get_run(run.info.run_id).data.metrics
    assert logged["cv_f1_macro_mean"] == pytest.approx(scores.mean())


def test_cross_validate_logs_each_metric_of_a_multi_metric_scoring(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    with mltrail.start_run() as run:
        result = cross_validate(
            _classifier(),
            X,
            y,
            cv=3,
            scoring=["accuracy", "balanced_accuracy"],
            return_train_score=True,
        )
    logged = client.get_run(run.info.run_id).data.metrics
    assert logged["cv_accuracy_mean"] == pytest.approx(result["test_accuracy"].mean())
    assert logged["cv_balanced_accuracy_std"] == pytest.approx(
        result["test_balanced_accuracy"].std()
    )
    assert logged["cv_train_accuracy_mean"] == pytest.approx(
        result["train_accuracy"].mean()
    )
    assert "cv_score_time_mean" in logged


def test_cross_validate_without_an_active_run_gets_one_run(
    heldout: None, wine: tuple[Any, Any], list_runs: Any
) -> None:
    X, y = wine
    result = cross_validate(DecisionTreeClassifier(random_state=0), X, y, cv=3)
    runs = list_runs()
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.tags[CROSS_VALIDATION_TAG] == "cross_validate"
    assert run.data.tags["estimator_name"] == "DecisionTreeClassifier"
    assert run.data.params["random_state"] == "0"
    assert run.data.metrics["cv_score_mean"] == pytest.approx(
        result["test_score"].mean()
    )


def test_failing_cross_validation_ends_its_run_failed(
    heldout: None, list_runs: Any
) -> None:
    X = np.array([[np.nan, 1.0]] * 10)
    y = np.array([0, 1] * 5)
    with pytest.raises(ValueError, match="NaN"):
        cross_val_score(LogisticRegression(), X, y, cv=2, error_score="raise")
    runs = list_runs()
    assert [run.info.status for run in runs] == ["FAILED"]


def test_cross_val_predict_logs_the_out_of_fold_suite(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    with mltrail.start_run() as run:
        predicted = cross_val_predict(_classifier(), X, y, cv=3)
    logged = client.get_run(run.info.run_id).data.metrics
    assert logged["cv_accuracy"] == pytest.approx(metrics.accuracy_score(y, predicted))
    assert "cv_roc_auc" not in logged  # labels only, no scores


def test_cross_val_predict_with_probabilities_logs_score_metrics(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    with mltrail.start_run() as run:
        proba = cross_val_predict(_classifier(), X, y, cv=3, method="predict_proba")
    logged = client.get_run(run.info.run_id).data.metrics
    assert logged["cv_log_loss"] == pytest.approx(metrics.log_loss(y, proba))
    assert logged["cv_accuracy"] == pytest.approx(
        metrics.accuracy_score(y, proba.argmax(axis=1))
    )


def test_cross_val_predict_binary_decision_function(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X, y = X[y < 2], y[y < 2]
    with mltrail.start_run() as run:
        scores = cross_val_predict(
            _classifier(), X, y, cv=3, method="decision_function"
        )
    logged = client.get_run(run.info.run_id).data.metrics
    assert logged["cv_roc_auc"] == pytest.approx(metrics.roc_auc_score(y, scores))


def test_cross_val_predict_regressor(heldout: None, client: TrackingClient) -> None:
    X, y = load_diabetes(return_X_y=True)
    with mltrail.start_run() as run:
        predicted = cross_val_predict(Ridge(), X, y, cv=3)
    logged = client.get_run(run.info.run_id).data.metrics
    assert logged["cv_r2"] == pytest.approx(metrics.r2_score(y, predicted))


def test_exclusive_autolog_logs_nothing_in_a_user_run(
    monkeypatch: pytest.MonkeyPatch, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    gen = wire(monkeypatch, exclusive=True)
    next(gen)
    try:
        with mltrail.start_run() as run:
            cross_val_score(_classifier(), X, y, cv=3)
    finally:
        gen.close()
    assert client.get_run(run.info.run_id).data.metrics == {}


def test_cross_validation_inside_a_fit_logs_nothing(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine

    class Checked(DecisionTreeClassifier):  # type: ignore[misc]  # sklearn is untyped
        def fit(self, X: Any, y: Any) -> Any:
            cross_val_score(DecisionTreeClassifier(), X, y, cv=2)
            return super().fit(X, y)

    Checked().fit(X, y)
    run = mltrail.last_active_run()
    assert run is not None
    assert not any(key.startswith("cv_") for key in run.data.metrics)


@pytest.mark.parametrize(
    ("scoring", "expected"),
    [
        (None, "score"),
        ("accuracy", "accuracy"),
        (metrics.make_scorer(metrics.f1_score), "f1_score"),
        (lambda estimator, X, y: 1.0, "<lambda>"),
    ],
    ids=["default", "string", "scorer", "callable"],
)
def test_scorer_name(scoring: Any, expected: str) -> None:
    assert _crossval.scorer_name(scoring) == expected


def test_wrong_arguments_raise_scikit_learns_error(heldout: None) -> None:
    with pytest.raises(TypeError, match="unexpected keyword"):
        cross_val_score(_classifier(), [[1.0]], [0], no_such_argument=1)


def test_failure_to_start_the_run_warns_and_still_cross_validates(
    heldout: None, wine: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail.sklearn.shared import _runs

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("store down")

    monkeypatch.setattr(_runs, "start_run", broken)
    X, y = wine
    with pytest.warns(MltrailWarning, match="store down"):
        scores = cross_val_score(_classifier(), X, y, cv=3)
    assert len(scores) == 3


def test_failed_cross_validation_raises_the_users_error_under_error_filter(
    heldout: None,
    wine: tuple[Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from mltrail.sklearn.shared import _runs

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("store down")

    monkeypatch.setattr(_runs, "end_run", broken)
    X, y = wine
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            cross_val_score(_classifier(), X, y[:10], cv=3)

    messages = [record.getMessage() for record in caplog.records]
    assert any(
        "(your call raised; its error propagates): OSError: store down" in message
        for message in messages
    )
    assert not any("succeeded" in message for message in messages)


def test_failure_to_log_params_warns_and_logs_the_metrics(
    heldout: None,
    wine: tuple[Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    list_runs: Any,
) -> None:
    from mltrail.sklearn.shared import _fit

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("odd params")

    monkeypatch.setattr(_fit, "estimator_params", broken)
    X, y = wine
    with pytest.warns(MltrailWarning, match="odd params"):
        cross_val_score(_classifier(), X, y, cv=3)
    assert "cv_score_mean" in list_runs()[0].data.metrics


def test_returned_estimators_are_not_metrics(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    with mltrail.start_run() as run:
        cross_validate(_classifier(), X, y, cv=3, return_estimator=True)
    logged = client.get_run(run.info.run_id).data.metrics
    assert not any("estimator" in key for key in logged)


def test_cross_val_predict_without_labels_logs_no_suite(
    heldout: None, client: TrackingClient
) -> None:
    X, _ = make_blobs(n_samples=60, random_state=0)
    with mltrail.start_run() as run:
        cross_val_predict(KMeans(n_clusters=2, n_init=2), X, cv=3)
    assert client.get_run(run.info.run_id).data.metrics == {}


def test_cross_val_predict_multi_output_logs_no_suite(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    order = np.random.RandomState(0).permutation(len(y))
    X, Y = X[order], np.column_stack([y, y])[order]
    with mltrail.start_run() as run:
        cross_val_predict(DecisionTreeClassifier(), X, Y, cv=3)
        cross_val_predict(DecisionTreeClassifier(), X, Y, cv=3, method="predict_proba")
    assert client.get_run(run.info.run_id).data.metrics == {}


RECORD_TAGS = (
    "estimator_name",
    "estimator_class",
    "mlflow.autologging",
    "mlflow.mltrail.author",
    "mlflow.mltrail.project",
    "mlflow.mltrail.python_version",
    "mlflow.mltrail.sklearn_version",
    "mlflow.mltrail.pipeline",
    CROSS_VALIDATION_TAG,
)


def _record(client: TrackingClient, run_id: str) -> dict[str, Any]:
    run = client.get_run(run_id)
    store, uri = client._artifacts(run_id)
    return {
        "tags": {key: run.data.tags.get(key) for key in RECORD_TAGS},
        "params": run.data.params,
        "artifacts": sorted(item.path for item in client.list_artifacts(run_id)),
        "inputs": [
            (item.dataset.name, item.dataset.digest)
            for item in run.inputs.dataset_inputs
        ],
        "packages": store.read_bytes(uri, "environment/packages.txt"),
    }


def test_cross_validation_records_the_same_in_a_users_run_and_its_own(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    cross_val_score(_classifier(), X, y, cv=3)
    own = mltrail.last_active_run()
    assert own is not None
    with mltrail.start_run() as users:
        cross_val_score(_classifier(), X, y, cv=3)
    own_record = _record(client, own.info.run_id)
    users_record = _record(client, users.info.run_id)
    assert own_record == users_record
    assert own_record["params"]["logisticregression__C"] == "1.0"
    assert None not in own_record["tags"].values()
    assert own_record["inputs"] == [("train", own_record["inputs"][0][1])]
    assert "environment" in own_record["artifacts"]
    assert "pipeline.json" in own_record["artifacts"]


def test_the_model_after_its_cross_validation_shares_the_run(
    heldout: None, wine: tuple[Any, Any], list_runs: Any
) -> None:
    X, y = wine
    with mltrail.start_run() as run:
        cross_val_score(_classifier(), X, y, cv=3)
        _classifier().fit(X, y)
    (logged,) = list_runs()
    assert logged.info.run_id == run.info.run_id
    assert "cv_score_mean" in logged.data.metrics
    assert "training_score" in logged.data.metrics


def test_a_second_estimators_cross_validation_gets_a_child_run(
    heldout: None, wine: tuple[Any, Any], list_runs: Any
) -> None:
    X, y = wine
    with mltrail.start_run() as run:
        cross_val_score(_classifier(), X, y, cv=3)
        cross_val_score(DecisionTreeClassifier(max_depth=2), X, y, cv=3)
    parent, child = list_runs()
    assert parent.info.run_id == run.info.run_id
    assert child.data.tags["mlflow.parentRunId"] == run.info.run_id
    assert child.data.tags["estimator_name"] == "DecisionTreeClassifier"
    assert child.data.params["max_depth"] == "2"
    assert "cv_score_mean" in child.data.metrics
