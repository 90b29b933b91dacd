"""Held-out metrics of XGBoost and LightGBM, on every path that logs them.

Their scikit-learn classes call their base class's ``predict`` (which returns
probabilities or raw scores) from ``predict_proba``: the suite must never take that
output for labels. Expected values come from ``sklearn.metrics`` on the model's own
predictions, computed with the hooks quiet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import lightgbm
import numpy as np
import pytest
import xgboost
from sklearn import metrics
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.model_selection import train_test_split

import mltrail
from mltrail.sklearn.recorders import _heldout
from mltrail.tracking import TrackingClient

CLASSIFIERS: dict[str, Callable[[], Any]] = {
    "xgboost": lambda: xgboost.XGBClassifier(n_estimators=20, random_state=0),
    "lightgbm": lambda: lightgbm.LGBMClassifier(
        n_estimators=20, random_state=0, verbose=-1
    ),
}
REGRESSORS: dict[str, Callable[[], Any]] = {
    "xgboost": lambda: xgboost.XGBRegressor(n_estimators=20, random_state=0),
    "lightgbm": lambda: lightgbm.LGBMRegressor(
        n_estimators=20, random_state=0, verbose=-1
    ),
}


def _predict(model: Any, X: Any, y: Any) -> None:
    model.predict(X)


def _predict_proba(model: Any, X: Any, y: Any) -> None:
    model.predict_proba(X)


def _score(model: Any, X: Any, y: Any) -> None:
    model.score(X, y)


def _classifier_metric_call(model: Any, X: Any, y: Any) -> None:
    metrics.accuracy_score(y, model.predict(X))


def _regressor_metric_call(model: Any, X: Any, y: Any) -> None:
    metrics.r2_score(y, model.predict(X))


def _evaluate(model: Any, X: Any, y: Any) -> None:
    mltrail.evaluate(model, X, y)


CLASSIFIER_PATHS: dict[str, Callable[[Any, Any, Any], None]] = {
    "predict": _predict,
    "predict_proba": _predict_proba,
    "score": _score,
    "metric_call": _classifier_metric_call,
    "evaluate": _evaluate,
}
REGRESSOR_PATHS: dict[str, Callable[[Any, Any, Any], None]] = {
    "predict": _predict,
    "score": _score,
    "metric_call": _regressor_metric_call,
    "evaluate": _evaluate,
}


def _test_metrics(run_id: str) -> dict[str, float]:
    data = TrackingClient().get_run(run_id).data.metrics
    return {key: value for key, value in data.items() if key.startswith("test_")}


def _fit_and_call(
    model: Any, split: list[Any], path: Callable[[Any, Any, Any], None]
) -> str:
    X_train, X_test, y_train, y_test = split
    model.fit(X_train, y_train)
    run = mltrail.last_active_run()
    assert run is not None
    path(model, X_test, y_test)
    return str(run.info.run_id)


@pytest.mark.parametrize("library", list(CLASSIFIERS), ids=list(CLASSIFIERS))
@pytest.mark.parametrize(
    "path", list(CLASSIFIER_PATHS.values()), ids=list(CLASSIFIER_PATHS)
)
def test_binary_classifier_metrics_are_right_on_every_path(
    autolog: None, library: str, path: Callable[[Any, Any, Any], None]
) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    split = train_test_split(X, y, random_state=0)
    model = CLASSIFIERS[library]()
    run_id = _fit_and_call(model, split, path)
    logged = _test_metrics(run_id)
    X_test, y_test = split[1], split[3]
    with _heldout.quiet():
        y_pred = model.predict(X_test)
        proba = model.predict_proba(X_test)
    assert logged["test_accuracy"] == pytest.approx(
        metrics.accuracy_score(y_test, y_pred)
    )
    assert logged["test_accuracy"] > 0.9
    assert logged["test_f1"] == pytest.approx(metrics.f1_score(y_test, y_pred))
    assert logged["test_matthews_corrcoef"] == pytest.approx(
        metrics.matthews_corrcoef(y_test, y_pred)
    )
    assert logged["test_roc_auc"] == pytest.approx(
        metrics.roc_auc_score(y_test, proba[:, 1])
    )
    assert logged["test_log_loss"] == pytest.approx(
        metrics.log_loss(y_test, proba), rel=1e-5
    )


@pytest.mark.parametrize("library", list(CLASSIFIERS), ids=list(CLASSIFIERS))
@pytest.mark.parametrize(
    "path", [_predict_proba, _score], ids=["predict_proba", "score"]
)
def test_multiclass_classifier_metrics_are_right(
    autolog: None, library: str, path: Callable[[Any, Any, Any], None]
) -> None:
    X, y = load_wine(return_X_y=True)
    split = train_test_split(X, y, random_state=0)
    model = CLASSIFIERS[library]()
    run_id = _fit_and_call(model, split, path)
    logged = _test_metrics(run_id)
    with _heldout.quiet():
        y_pred = model.predict(split[1])
    assert logged["test_accuracy"] == pytest.approx(
        metrics.accuracy_score(split[3], y_pred)
    )
    assert logged["test_f1_macro"] == pytest.approx(
        metrics.f1_score(split[3], y_pred, average="macro")
    )


@pytest.mark.parametrize("library", list(REGRESSORS), ids=list(REGRESSORS))
@pytest.mark.parametrize(
    "path", list(REGRESSOR_PATHS.values()), ids=list(REGRESSOR_PATHS)
)
def test_regressor_metrics_are_right_on_every_path(
    autolog: None, library: str, path: Callable[[Any, Any, Any], None]
) -> None:
    X, y = load_diabetes(return_X_y=True)
    split = train_test_split(X, y, random_state=0)
    model = REGRESSORS[library]()
    run_id = _fit_and_call(model, split, path)
    logged = _test_metrics(run_id)
    with _heldout.quiet():
        y_pred = model.predict(split[1])
    assert logged["test_r2"] == pytest.approx(metrics.r2_score(split[3], y_pred))
    assert logged["test_mse"] == pytest.approx(
        metrics.mean_squared_error(split[3], y_pred)
    )
    assert logged["test_mae"] == pytest.approx(
        metrics.mean_absolute_error(split[3], y_pred)
    )


@pytest.mark.parametrize(
    ("library", "options"),
    [("xgboost", {"output_margin": True}), ("lightgbm", {"raw_score": True})],
    ids=["xgboost-margin", "lightgbm-raw-score"],
)
def test_predict_with_extra_arguments_is_not_taken_for_labels(
    autolog: None, library: str, options: dict[str, Any]
) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = CLASSIFIERS[library]().fit(X_train, y_train)
    run = mltrail.last_active_run()
    assert run is not None
    raw = model.predict(X_test, **options)
    assert not np.isin(raw, [0, 1]).all()  # raw scores, not labels
    model.predict(X_test)
    with _heldout.quiet():
        expected = metrics.accuracy_score(y_test, model.predict(X_test))
    assert _test_metrics(str(run.info.run_id))["test_accuracy"] == pytest.approx(
        expected
    )


class _ProbabilityPredictor(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """A classifier whose ``predict`` wrongly returns the positive probability."""

    def fit(self, X: Any, y: Any) -> _ProbabilityPredictor:
        self.classes_ = np.unique(y)
        self.mean_ = np.asarray(X).mean(axis=0)
        return self

    def predict(self, X: Any) -> Any:
        distance = np.abs(np.asarray(X) - self.mean_).sum(axis=1)
        return 1 / (1 + distance)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return 0.5


def test_predictions_that_are_not_labels_log_no_metric(
    autolog: None, caplog: pytest.LogCaptureFixture
) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    model = _ProbabilityPredictor().fit(X_train, y_train)
    run = mltrail.last_active_run()
    assert run is not None
    with caplog.at_level(logging.DEBUG, logger="mltrail"):
        model.predict(X_test)
        mltrail.flush()
    assert _test_metrics(str(run.info.run_id)) == {}
    assert "not class labels" in caplog.text
    logged = TrackingClient().get_run(run.info.run_id).data.metrics
    assert "training_accuracy_score" not in logged
    assert logged["training_score"] == 0.5
