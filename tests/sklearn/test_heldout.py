"""Tests of held-out evaluation: splits recognised, suites logged once, metric calls.

The first part calls the hooks directly; the second runs end to end through
``mltrail.sklearn.autolog()`` (with the hooks wired by ``tests/sklearn/_wiring.py``
until the core wires them itself).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine, make_blobs
from sklearn.ensemble import IsolationForest, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import mltrail
from mltrail._errors import InvalidValueError, MltrailWarning
from mltrail.sklearn import autolog
from mltrail.sklearn.patches import _methods
from mltrail.sklearn.recorders import _heldout
from mltrail.sklearn.shared import _background, _evaluate, _models, _splits
from mltrail.tracking import TrackingClient
from tests.sklearn._wiring import wire

CLASSIFIER_KEYS = {
    "test_accuracy",
    "test_balanced_accuracy",
    "test_f1_macro",
    "test_f1_weighted",
    "test_log_loss",
    "test_matthews_corrcoef",
    "test_precision_macro",
    "test_precision_weighted",
    "test_recall_macro",
    "test_recall_weighted",
    "test_roc_auc",
    "test_average_precision",
}


@pytest.fixture
def heldout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from wire(monkeypatch)


@pytest.fixture
def wine() -> Any:
    return load_wine(return_X_y=True, as_frame=True)


def _classifier() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression())


def _test_metrics(client: TrackingClient, run_id: str) -> dict[str, float]:
    data = client.get_run(run_id).data.metrics
    return {key: value for key, value in data.items() if key.startswith("test_")}


def _fit(model: Any, X: Any, y: Any = None) -> str:
    model.fit(X, y)
    run = mltrail.last_active_run()
    assert run is not None
    return str(run.info.run_id)


# Hooks called directly ----------------------------------------------------------------


def test_hooks_do_nothing_while_autolog_is_off(wine: tuple[Any, Any]) -> None:
    X, y = wine
    model = _classifier().fit(X, y)
    _models.on_fit_end(model, "run", X, y)
    parts = train_test_split(X, y, random_state=0)
    assert _models.model_run(model) is None
    assert _splits.recorded_labels(parts[1]) is None


def test_on_fit_end_remembers_the_run(heldout: None, wine: tuple[Any, Any]) -> None:
    X, y = wine
    with _heldout.quiet():
        model = _classifier()
    run_id = _fit(model, X, y)
    found = _models.model_run(model)
    assert found is not None
    assert found[0] == run_id


def test_model_is_forgotten_when_collected(
    heldout: None, wine: tuple[Any, Any]
) -> None:
    X, y = wine
    model = _classifier()
    _fit(model, X, y)
    key = id(model)
    del model
    assert key not in _models._models


def test_wrap_method_marks_and_keeps_the_method() -> None:
    wrapped = _methods.wrap_method("predict", LogisticRegression.predict)
    assert getattr(wrapped, _heldout.PATCH_MARKER)
    assert wrapped.__wrapped__ is LogisticRegression.predict  # type: ignore[attr-defined]  # set by update_wrapper


def test_configure_rejects_a_1d_named_dataset() -> None:
    with pytest.raises(InvalidValueError, match="eval_names"):
        _heldout.configure(eval_names={"validation": [1, 2, 3]})


def test_configure_rejects_a_bad_name(wine: tuple[Any, Any]) -> None:
    with pytest.raises(InvalidValueError, match="name must be"):
        _heldout.configure(eval_names={"bad name": wine[0]})


def _model_with_a_broken_suite(
    wine: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Any]:
    """Return a fitted model and its test set; logging held-out metrics fails."""
    X, y = wine
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    model = _classifier()
    _fit(model, X_train, y_train)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no suite today")

    monkeypatch.setattr(_evaluate, "suite", broken)
    return model, X_test


def test_failure_in_a_hook_warns_and_keeps_the_result(
    heldout: None, wine: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, X_test = _model_with_a_broken_suite(wine, monkeypatch)
    with pytest.warns(MltrailWarning, match="no suite today"):
        predicted = model.predict(X_test)
    assert predicted.tolist() == model.predict(X_test).tolist()


def test_failure_in_a_hook_never_raises_under_error_filter(
    heldout: None,
    wine: tuple[Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    model, X_test = _model_with_a_broken_suite(wine, monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predicted = model.predict(X_test)

    assert predicted.tolist() == model.predict(X_test).tolist()
    (record,) = caplog.records
    assert "could not log a held-out evaluation" in record.getMessage()
    assert "no suite today" in record.getMessage()


def test_silent_autolog_swallows_hook_failures(
    monkeypatch: pytest.MonkeyPatch, wine: tuple[Any, Any]
) -> None:
    gen = wire(monkeypatch, silent=True)
    next(gen)
    try:
        X, y = wine
        X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
        model = _classifier()
        _fit(model, X_train, y_train)
        monkeypatch.setattr(_evaluate, "suite", lambda *a, **k: 1 / 0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model.predict(X_test)
    finally:
        gen.close()


# End to end through autolog() ---------------------------------------------------------


def test_predict_on_the_test_split_logs_the_classifier_suite(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    model = RandomForestClassifier(n_estimators=20, random_state=0)
    run_id = _fit(model, X_train, y_train)
    model.predict(X_test)
    assert set(_test_metrics(client, run_id)) == CLASSIFIER_KEYS


def test_classifier_suite_equals_sklearn(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    with _heldout.quiet():
        expected_pred = model.predict(X_test)
        proba = model.predict_proba(X_test)
    model.predict(X_test)
    logged = _test_metrics(client, run_id)
    assert logged["test_accuracy"] == pytest.approx(
        metrics.accuracy_score(y_test, expected_pred)
    )
    assert logged["test_f1_macro"] == pytest.approx(
        metrics.f1_score(y_test, expected_pred, average="macro")
    )
    assert logged["test_log_loss"] == pytest.approx(metrics.log_loss(y_test, proba))
    assert logged["test_roc_auc"] == pytest.approx(
        metrics.roc_auc_score(y_test, proba, multi_class="ovr")
    )


def test_binary_suite_has_confusion_counts(
    heldout: None, client: TrackingClient
) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    run_id = _fit(model, X_train, y_train)
    predicted = model.predict(X_test)
    logged = _test_metrics(client, run_id)
    matrix = metrics.confusion_matrix(y_test, predicted)
    assert logged["test_true_negatives"] == matrix[0, 0]
    assert logged["test_false_positives"] == matrix[0, 1]
    assert logged["test_false_negatives"] == matrix[1, 0]
    assert logged["test_true_positives"] == matrix[1, 1]


def test_suite_is_logged_once_per_model_and_dataset(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    model.predict(X_test)
    model.predict_proba(X_test)
    model.predict(X_test.copy())
    history = client.get_metric_history(run_id, "test_accuracy")
    assert len(history) == 1
    inputs = client.get_run(run_id).inputs.dataset_inputs
    assert [i.dataset.name for i in inputs].count("test") == 1


@pytest.mark.parametrize(
    "transform",
    [
        lambda X: X.copy(),
        lambda X: X.iloc[::-1],
        lambda X: X.iloc[:10],
        lambda X: X.sample(frac=1.0, random_state=3),
    ],
    ids=["copy", "reversed", "slice", "permutation"],
)
def test_copies_slices_and_permutations_of_the_test_set_are_recognised(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient, transform: Any
) -> None:
    X, y = wine
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    part = transform(X_test)
    predicted = model.predict(part)
    expected = y_test.loc[part.index] if isinstance(part, pd.DataFrame) else y_test
    logged = _test_metrics(client, run_id)
    assert logged["test_accuracy"] == pytest.approx(
        metrics.accuracy_score(expected, predicted)
    )


def test_numpy_copy_of_a_dataframe_test_set_is_recognised(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train.to_numpy(), y_train.to_numpy())
    predicted = model.predict(X_test.to_numpy())
    logged = _test_metrics(client, run_id)
    assert logged["test_accuracy"] == metrics.accuracy_score(y_test, predicted)


def test_test_dataset_is_a_run_input_with_lineage(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    import json

    X, y = wine
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=7)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    model.predict(X_test)
    inputs = client.get_run(run_id).inputs.dataset_inputs
    test = next(i for i in inputs if i.dataset.name == "test")
    assert test.tags[0].value == "test"
    split = json.loads(test.dataset.profile or "{}")["split"]
    assert (split["test_size"], split["random_state"]) == (0.3, 7)


def test_plots_of_the_test_set_are_logged(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    model.predict(X_test)
    assert _background.wait(run_id)
    paths = {f.path for f in client.list_artifacts(run_id, "plots")}
    assert {"plots/test_confusion_matrix.png", "plots/test_roc_curve.json"} <= paths


def test_log_plots_false_draws_no_test_plots(
    monkeypatch: pytest.MonkeyPatch, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    session = wire(monkeypatch, log_plots=False)
    next(session)
    X, y = wine
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    model.predict(X_test)
    assert _background.wait(run_id)
    assert "test_accuracy" in _test_metrics(client, run_id)
    assert [f.path for f in client.list_artifacts(run_id) if f.path == "plots"] == []
    with pytest.raises(StopIteration):
        next(session)


def test_predict_on_training_data_logs_nothing(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, _, y_train, _ = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    metrics.accuracy_score(y_train, model.predict(X_train.copy()))
    assert _test_metrics(client, run_id) == {}


def test_model_not_fitted_under_autolog_logs_nothing(
    heldout: None, wine: tuple[Any, Any], list_runs: Any
) -> None:
    X, y = wine
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    autolog(disable=True)
    model = _classifier().fit(X_train, y_train)
    autolog()
    metrics.accuracy_score(y_test, model.predict(X_test))
    assert list_runs() == []


def test_labels_from_score(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    rng = np.random.RandomState(0)
    order = rng.permutation(len(y))
    X_train, y_train = X.iloc[order[:120]], y.iloc[order[:120]]
    X_new, y_new = X.iloc[order[120:]], y.iloc[order[120:]]
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    score = model.score(X_new, y_new)
    logged = _test_metrics(client, run_id)
    assert logged["test_accuracy"] == pytest.approx(score)
    assert logged["test_score"] == pytest.approx(score)
    assert "test_accuracy_score" not in logged  # score's own accuracy_score call


def test_labels_from_a_metric_call(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    order = np.random.RandomState(0).permutation(len(y))
    X_train, y_train = X.iloc[order[:120]], y.iloc[order[:120]]
    X_new, y_new = X.iloc[order[120:]], y.iloc[order[120:]]
    model = RandomForestClassifier(n_estimators=10, random_state=0)
    run_id = _fit(model, X_train, y_train)
    predicted = model.predict(X_new)
    assert _test_metrics(client, run_id) == {}
    value = metrics.f1_score(y_new, predicted, average="macro")
    logged = _test_metrics(client, run_id)
    assert logged["test_f1_score"] == pytest.approx(value)
    assert logged["test_f1_macro"] == pytest.approx(value)
    assert set(logged) == CLASSIFIER_KEYS | {"test_f1_score"}


def test_user_metric_call_is_logged_with_the_function_name(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    value = metrics.accuracy_score(y_test, model.predict(X_test))
    assert _test_metrics(client, run_id)["test_accuracy_score"] == value


def test_metric_call_on_a_copy_of_the_predictions_is_logged(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    predicted = list(model.predict(X_test))
    value = metrics.balanced_accuracy_score(y_test, predicted)
    logged = _test_metrics(client, run_id)
    assert logged["test_balanced_accuracy_score"] == value


def test_metric_call_on_a_column_of_probabilities_is_logged(
    heldout: None, client: TrackingClient
) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = RandomForestClassifier(n_estimators=10, random_state=0)
    run_id = _fit(model, X_train, y_train)
    value = metrics.roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    assert _test_metrics(client, run_id)["test_roc_auc_score"] == value


def test_repeated_metric_call_is_a_new_step(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    predicted = model.predict(X_test)
    metrics.accuracy_score(y_test, predicted)
    metrics.accuracy_score(y_test, predicted, normalize=False)
    history = client.get_metric_history(run_id, "test_accuracy_score")
    assert [(m.step, m.value) for m in history] == [
        (0, metrics.accuracy_score(y_test, predicted)),
        (1, float(metrics.accuracy_score(y_test, predicted, normalize=False))),
    ]


def test_metric_call_on_unrelated_values_logs_nothing(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    model.predict(X_test)
    metrics.accuracy_score(y_test, np.zeros(len(y_test), dtype=int))
    assert "test_accuracy_score" not in _test_metrics(client, run_id)


def test_metric_calls_inside_a_fit_log_nothing(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    predicted = model.predict(X_test)

    class Scoring(DecisionTreeClassifier):  # type: ignore[misc]  # sklearn is untyped
        def fit(self, X: Any, y: Any) -> Any:
            metrics.accuracy_score(y_test, predicted)
            return super().fit(X, y)

    Scoring().fit(X_train, y_train)
    history = client.get_metric_history(run_id, "test_accuracy_score")
    assert history == []


def test_nested_metric_calls_log_only_the_outer_one(
    heldout: None, client: TrackingClient
) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    run_id = _fit(model, X_train, y_train)
    metrics.f1_score(y_test, model.predict(X_test))  # calls fbeta_score inside
    logged = _test_metrics(client, run_id)
    assert "test_f1_score" in logged
    assert "test_fbeta_score" not in logged
    assert "test_precision_recall_fscore_support" not in logged


def test_regressor_suite_equals_sklearn(heldout: None, client: TrackingClient) -> None:
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = LinearRegression()
    run_id = _fit(model, X_train, y_train)
    predicted = model.predict(X_test)
    logged = _test_metrics(client, run_id)
    assert logged["test_mse"] == pytest.approx(
        metrics.mean_squared_error(y_test, predicted)
    )
    assert logged["test_r2"] == pytest.approx(metrics.r2_score(y_test, predicted))
    assert logged["test_mae"] == pytest.approx(
        metrics.mean_absolute_error(y_test, predicted)
    )
    assert logged["test_max_error"] == pytest.approx(
        metrics.max_error(y_test, predicted)
    )


def test_clusterer_suite_with_labels_from_the_split(
    heldout: None, client: TrackingClient
) -> None:
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    X_train, X_test, _, y_test = train_test_split(X, y, random_state=0)
    model = KMeans(n_clusters=3, n_init=2, random_state=0)
    run_id = _fit(model, X_train)
    labels = model.predict(X_test)
    logged = _test_metrics(client, run_id)
    assert logged["test_silhouette"] == pytest.approx(
        metrics.silhouette_score(X_test, labels)
    )
    assert logged["test_adjusted_rand"] == pytest.approx(
        metrics.adjusted_rand_score(y_test, labels)
    )


def test_eval_names_name_the_dataset(
    monkeypatch: pytest.MonkeyPatch, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_val, y_train, y_val = train_test_split(X, y, random_state=0)
    gen = wire(monkeypatch, eval_names={"validation": (X_val, y_val)})
    next(gen)
    try:
        model = _classifier()
        run_id = _fit(model, X_train, y_train)
        predicted = model.predict(X_val.iloc[5:])
        metrics.accuracy_score(y_val.iloc[5:], predicted)
        logged = client.get_run(run_id).data.metrics
        inputs = client.get_run(run_id).inputs.dataset_inputs
    finally:
        gen.close()
    assert logged["validation_accuracy"] == pytest.approx(
        metrics.accuracy_score(y_val.iloc[5:], predicted)
    )
    assert "validation_accuracy_score" in logged
    validation = next(i for i in inputs if i.dataset.name == "validation")
    assert validation.tags[0].value == "eval"


def test_no_warning_escapes_the_whole_flow(
    heldout: None, wine: tuple[Any, Any]
) -> None:
    X, y = wine
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        model = RandomForestClassifier(n_estimators=10, random_state=0)
        _fit(model, X_train, y_train)
        predicted = model.predict(X_test)
        model.predict_proba(X_test)
        model.score(X_test, y_test)
        metrics.accuracy_score(y_test, predicted)
        _background.wait()


def test_too_many_pending_evaluations_drop_the_oldest(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    model = _classifier()
    run_id = _fit(model, X.iloc[:100], y.iloc[:100])
    first = model.predict(X.iloc[100:110])
    for start in range(110, 110 + _heldout.PENDING_HISTORY):
        model.predict(X.iloc[start : start + 5])
    metrics.accuracy_score(y.iloc[100:110], first)
    logged = _test_metrics(client, run_id)
    assert "test_accuracy" not in logged  # its predictions were dropped
    assert "test_accuracy_score" in logged  # the call itself is still logged


# Edge cases of the hooks --------------------------------------------------------------


def test_on_fit_end_failure_warns(heldout: None) -> None:
    with pytest.warns(MltrailWarning, match="TypeError"):
        _models.on_fit_end(object(), "run", None)  # no weak reference possible


def test_direct_hooks_ignore_unknown_models_and_missing_data(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    model = _classifier()
    run_id = _fit(model, X.iloc[:100], y.iloc[:100])
    stranger = DecisionTreeClassifier().fit(X, y)
    _heldout.on_predict(stranger, "predict", X, stranger.predict(X))
    _heldout.on_score(stranger, X, y, 1.0)
    _heldout.on_predict(model, "predict", None, None)
    _heldout.on_score(model, None, None, 1.0)
    with _heldout.quiet():
        _heldout.on_predict(model, "predict", X.iloc[100:], None)
        _heldout.on_score(model, X.iloc[100:], y.iloc[100:], 1.0)
    assert _test_metrics(client, run_id) == {}


def test_models_that_are_neither_classifier_regressor_nor_clusterer_log_nothing(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X = wine[0]
    detector = IsolationForest(n_estimators=10, random_state=0)
    run_id = _fit(detector, X.iloc[:100])
    _heldout.on_predict(detector, "predict", X.iloc[100:], X.iloc[100:])
    assert _test_metrics(client, run_id) == {}


def test_predict_log_proba_first_gives_probabilities(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    log_proba = model.predict_log_proba(X_test)
    logged = _test_metrics(client, run_id)
    assert logged["test_log_loss"] == pytest.approx(
        metrics.log_loss(y_test, np.exp(log_proba))
    )


def test_decision_function_scores_when_there_are_no_probabilities(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    from sklearn.svm import SVC

    X, y = wine
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    model = make_pipeline(StandardScaler(), SVC())
    run_id = _fit(model, X_train, y_train)
    model.predict(X_test)
    logged = _test_metrics(client, run_id)
    assert "test_roc_auc" in logged
    assert "test_log_loss" not in logged


def test_string_labels_and_list_copies(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    names = np.array(["barolo", "grignolino", "barbera"], dtype=object)[y.to_numpy()]
    order = np.random.RandomState(0).permutation(len(y))
    model = _classifier()
    run_id = _fit(model, X.iloc[order[:120]], names[order[:120]])
    predicted = model.predict(X.iloc[order[120:]])
    value = metrics.accuracy_score(list(names[order[120:]]), list(predicted))
    logged = _test_metrics(client, run_id)
    assert logged["test_accuracy_score"] == value
    assert logged["test_accuracy"] == value


def test_features_as_lists_are_evaluated_without_a_dataset_input(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    order = np.random.RandomState(0).permutation(len(y))
    rows = X.to_numpy()[order]
    labels = y.to_numpy()[order]
    model = _classifier()
    run_id = _fit(model, rows[:120], labels[:120])
    predicted = model.predict(rows[120:].tolist())
    metrics.accuracy_score(labels[120:], predicted)
    run = client.get_run(run_id)
    assert "test_accuracy" in run.data.metrics
    assert [i.dataset.name for i in run.inputs.dataset_inputs].count("test") == 0


def test_histories_are_bounded(
    heldout: None,
    wine: tuple[Any, Any],
    client: TrackingClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_heldout, "EVALUATION_HISTORY", 2)
    monkeypatch.setattr(_heldout, "PREDICTION_HISTORY", 2)
    X, y = wine
    model = _classifier()
    _fit(model, X.iloc[:100], y.iloc[:100])
    for start in range(100, 140, 10):
        model.predict(X.iloc[start : start + 10])
    assert len(_heldout._evaluations) == 2
    assert len(_heldout._predictions) == 2
    assert len(_heldout._fingerprints) == 2


def test_metric_calls_with_odd_arguments_log_nothing(
    heldout: None, wine: tuple[Any, Any], client: TrackingClient
) -> None:
    X, y = wine
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = _classifier()
    run_id = _fit(model, X_train, y_train)
    model.predict(X_test)
    other = np.roll(model.predict(X_test), 1)
    with _heldout.quiet():
        assert other.tolist() != model.predict(X_test).tolist()
    metrics.accuracy_score(y_test, list(other))  # same length, other values
    metrics.r2_score([1.0, 2.0], [1.0, 2.5])  # other length
    metrics.mean_squared_error(y_true=[1.0, 2.0], y_pred=[1.0, 2.5])
    assert "test_accuracy_score" not in _test_metrics(client, run_id)


def test_suite_edge_cases() -> None:
    outputs = _evaluate.Outputs("clusterer")
    assert _evaluate.suite(outputs, None, None) == {}
    outputs = _evaluate.Outputs("classifier", y_pred=np.zeros((4, 2)))
    assert _evaluate.suite(outputs, None, np.zeros((4, 2))) == {}
    outputs = _evaluate.Outputs("classifier", y_pred=np.array([0, 1, 1, 0]))
    outputs.y_score = [np.zeros(4), np.ones(4)]  # multi-output predict_proba
    outputs.classes = np.array([0, 1])
    values = _evaluate.suite(outputs, None, np.array([0, 1, 0, 0]), pos_label="x")
    assert values["accuracy"] == 0.75
    assert "roc_auc" not in values
    assert _evaluate.suite(_evaluate.Outputs("regressor"), None, [1.0]) == {}


def test_decision_function_does_not_replace_probabilities() -> None:
    outputs = _evaluate.Outputs("classifier")
    outputs.add("predict_proba", np.array([[0.2, 0.8]]))
    outputs.add("decision_function", np.array([3.0]))
    outputs.add("predict", np.array([1]))
    outputs.add("predict", np.array([0]))
    assert outputs.is_probability
    assert outputs.y_score.tolist() == [[0.2, 0.8]]
    assert outputs.y_pred.tolist() == [1]


# Text pipelines -------------------------------------------------------------------


def _documents() -> tuple[list[str], list[str]]:
    rng = np.random.RandomState(0)
    words = ["good", "bad", "great", "awful", "fine", "poor", "nice", "worse"]
    texts = [" ".join(rng.choice(words, 5)) for _ in range(200)]
    positive = {"good", "great", "fine", "nice"}
    labels = [
        "pos" if sum(word in positive for word in text.split()) >= 3 else "neg"
        for text in texts
    ]
    return texts, labels


@pytest.mark.parametrize(
    "kind",
    [list, pd.Series, np.array, lambda texts: np.array(texts, dtype=object)],
    ids=["list", "series", "unicode-array", "object-array"],
)
def test_text_pipeline_predict_logs_held_out_metrics(
    autolog: None, client: TrackingClient, kind: Any
) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, labels = _documents()
    X_train, X_test, y_train, y_test = train_test_split(
        kind(texts), labels, random_state=0
    )
    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    run_id = _fit(model, X_train, y_train)
    y_pred = model.predict(X_test)
    logged = _test_metrics(client, run_id)
    assert logged["test_accuracy"] == pytest.approx(
        float(np.mean(np.asarray(y_pred) == np.asarray(y_test)))
    )
    assert "test_roc_auc" in logged
    names = [item.dataset.name for item in client.get_run(run_id).inputs.dataset_inputs]
    assert sorted(names) == ["test", "train"]


def test_a_split_of_numbers_is_not_taken_for_documents() -> None:
    assert not _splits.is_text([1, 2, 3])
    assert not _splits.is_text(iter(["a", "b"]))
    assert _splits.is_text(("a", "b"))
    assert _splits.is_text(np.array([b"a", b"b"]))
