"""Tests of ``mltrail.evaluate``: the explicit held-out evaluation of any estimator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sklearn import metrics
from sklearn.cluster import DBSCAN, KMeans
from sklearn.datasets import load_diabetes, load_wine, make_blobs
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mltrail
from mltrail._errors import InvalidValueError
from mltrail.sklearn._explicit import evaluate
from mltrail.sklearn.shared import _background, _evaluate
from mltrail.tracking import TrackingClient
from tests.sklearn._wiring import wire


@pytest.fixture
def heldout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from wire(monkeypatch)


@pytest.fixture
def wine_split() -> Any:
    X, y = load_wine(return_X_y=True)
    return train_test_split(X, y, random_state=0)


def _classifier() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression())


def test_evaluate_without_a_run_creates_a_finished_one(
    wine_split: list[Any], list_runs: Any
) -> None:
    X_train, X_test, y_train, y_test = wine_split
    model = _classifier().fit(X_train, y_train)
    result = evaluate(model, X_test, y_test)
    runs = list_runs()
    assert len(runs) == 1
    assert runs[0].info.status == "FINISHED"
    assert runs[0].data.metrics == pytest.approx(result)
    assert result["test_accuracy"] == metrics.accuracy_score(
        y_test, model.predict(X_test)
    )


def test_evaluate_logs_into_the_active_run_with_a_name(
    wine_split: list[Any], client: TrackingClient
) -> None:
    X_train, X_test, y_train, y_test = wine_split
    model = _classifier().fit(X_train, y_train)
    with mltrail.start_run() as run:
        result = evaluate(model, X_test, y_test, name="holdout")
    assert set(result) == set(client.get_run(run.info.run_id).data.metrics)
    assert all(key.startswith("holdout_") for key in result)
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.tags[0].value) for i in inputs] == [("holdout", "eval")]


def test_evaluate_logs_into_an_explicit_run(
    wine_split: list[Any], client: TrackingClient
) -> None:
    X_train, X_test, y_train, y_test = wine_split
    model = _classifier().fit(X_train, y_train)
    run_id = client.create_run("0").info.run_id
    evaluate(model, X_test, y_test, run_id=run_id)
    assert "test_accuracy" in client.get_run(run_id).data.metrics


def test_evaluate_writes_plots(wine_split: list[Any], client: TrackingClient) -> None:
    X_train, X_test, y_train, y_test = wine_split
    model = _classifier().fit(X_train, y_train)
    run_id = client.create_run("0").info.run_id
    evaluate(model, X_test, y_test, name="holdout", run_id=run_id)
    assert _background.wait(run_id)
    paths = {f.path for f in client.list_artifacts(run_id, "plots")}
    assert "plots/holdout_confusion_matrix.png" in paths


def test_evaluate_regressor(client: TrackingClient) -> None:
    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X[:300], y[:300])
    result = evaluate(model, X[300:], y[300:])
    assert result["test_rmse"] == pytest.approx(
        metrics.root_mean_squared_error(y[300:], model.predict(X[300:]))
    )


def test_evaluate_clusterer_without_labels() -> None:
    X, _ = make_blobs(n_samples=200, centers=3, random_state=0)
    model = KMeans(n_clusters=3, n_init=2, random_state=0).fit(X[:150])
    result = evaluate(model, X[150:])
    assert result["test_silhouette"] == pytest.approx(
        metrics.silhouette_score(X[150:], model.predict(X[150:]))
    )
    assert "test_adjusted_rand" not in result


def test_evaluate_takes_labels_from_a_recorded_split(
    heldout: None, client: TrackingClient
) -> None:
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    with mltrail.start_run():
        model = _classifier().fit(X_train, y_train)
        result = evaluate(model, X_test)
    assert result["test_accuracy"] == metrics.accuracy_score(
        y_test, model.predict(X_test)
    )


def test_evaluate_defaults_to_the_autologged_run_and_names_later_calls(
    heldout: None, client: TrackingClient
) -> None:
    X, y = load_wine(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(X, y, random_state=0)
    model = _classifier().fit(X_train, y_train)
    run = mltrail.last_active_run()
    assert run is not None
    evaluate(model, X_val, y_val, name="validation")
    value = metrics.accuracy_score(y_val, model.predict(X_val))
    logged = client.get_run(run.info.run_id).data.metrics
    assert logged["validation_accuracy"] == value
    assert logged["validation_accuracy_score"] == value
    assert "test_accuracy" not in logged


@pytest.mark.parametrize("name", ["", "two words", "a/b", 3], ids=str)
def test_evaluate_rejects_a_bad_name(wine_split: list[Any], name: Any) -> None:
    X_train, X_test, y_train, y_test = wine_split
    model = _classifier().fit(X_train, y_train)
    with pytest.raises(InvalidValueError, match="name must be"):
        evaluate(model, X_test, y_test, name=name)


def test_evaluate_rejects_an_unfitted_model(wine_split: list[Any]) -> None:
    _, X_test, _, y_test = wine_split
    with pytest.raises(InvalidValueError, match="a fitted estimator"):
        evaluate(_classifier(), X_test, y_test)


def test_evaluate_rejects_a_model_without_predict() -> None:
    X, _ = make_blobs(n_samples=50, random_state=0)
    model = DBSCAN().fit(X)
    with pytest.raises(InvalidValueError, match="with a predict method"):
        evaluate(model, X)


def test_evaluate_needs_labels_for_a_classifier(wine_split: list[Any]) -> None:
    X_train, X_test, y_train, _ = wine_split
    model = _classifier().fit(X_train, y_train)
    with pytest.raises(InvalidValueError, match="the labels of X"):
        evaluate(model, X_test)


def test_failed_evaluation_ends_its_own_run_failed(
    wine_split: list[Any], list_runs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    X_train, X_test, y_train, y_test = wine_split
    model = _classifier().fit(X_train, y_train)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(_evaluate, "log_evaluation", broken)
    with pytest.raises(OSError, match="disk full"):
        evaluate(model, X_test, y_test)
    assert [run.info.status for run in list_runs()] == ["FAILED"]


def _writes_by_thread(
    client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, str]]:
    """Record ``(client method, thread name)`` for each write of the client."""
    writes: list[tuple[str, str]] = []
    for name in ("log_batch", "log_inputs"):
        method = getattr(client, name)

        def recorded(
            *args: Any, _name: str = name, _method: Any = method, **kwargs: Any
        ) -> Any:
            writes.append((_name, threading.current_thread().name))
            return _method(*args, **kwargs)

        monkeypatch.setattr(client, name, recorded)
    return writes


def test_deferred_evaluation_leaves_the_writes_to_other_threads(
    wine_split: list[Any], client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, X_test, _, y_test = wine_split
    run_id = client.create_run("0").info.run_id
    writes = _writes_by_thread(client, monkeypatch)

    named = _evaluate.log_evaluation(
        client,
        run_id,
        "test",
        {"accuracy": 0.5},
        X=X_test,
        y_true=y_test,
        is_deferred=True,
    )

    assert named == {"test_accuracy": 0.5}
    assert "MainThread" not in {thread for _, thread in writes}
    run = client.get_run(run_id)  # waits for the worker and the buffer
    assert run.data.metrics["test_accuracy"] == 0.5
    assert [i.dataset.name for i in run.inputs.dataset_inputs] == ["test"]
    assert [name for name, _ in writes] == ["log_inputs"]


def test_evaluation_writes_before_returning_unless_deferred(
    wine_split: list[Any], client: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, X_test, _, y_test = wine_split
    run_id = client.create_run("0").info.run_id
    writes = _writes_by_thread(client, monkeypatch)

    _evaluate.log_evaluation(
        client, run_id, "test", {"accuracy": 0.5}, X=X_test, y_true=y_test
    )

    assert writes == [("log_batch", "MainThread"), ("log_inputs", "MainThread")]
