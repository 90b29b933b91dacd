"""Tests of standalone transformers: preprocessing, never the run's model."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import SelectKBest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mltrail
from mltrail._entities import Run
from mltrail.sklearn import autolog
from mltrail.sklearn.recorders import _preprocessing
from mltrail.tracking import TrackingClient

ListRuns = Callable[[], list[Run]]


@pytest.fixture
def split() -> Any:
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, random_state=0)


def _json(client: TrackingClient, run_id: str, path: str) -> Any:
    store, uri = client._artifacts(run_id)
    return json.loads(store.read_bytes(uri, path))


@pytest.mark.parametrize(
    ("estimator", "expected"),
    [
        (StandardScaler(), True),
        (SimpleImputer(), True),
        (TfidfVectorizer(), True),
        (SelectKBest(k=2), True),
        (PCA(2), True),
        (make_pipeline(StandardScaler(), PCA(2)), True),
        (make_pipeline(StandardScaler(), LogisticRegression()), False),
        (LogisticRegression(), False),
        (KMeans(n_init=1), False),
        (IsolationForest(), False),
        (GridSearchCV(PCA(), {"n_components": [1, 2]}), False),
    ],
    ids=[
        "scaler",
        "imputer",
        "vectorizer",
        "selection",
        "decomposition",
        "transformer-pipeline",
        "model-pipeline",
        "classifier",
        "clusterer",
        "outlier-detector",
        "search",
    ],
)
def test_which_estimators_are_standalone_transformers(
    estimator: Any, expected: bool
) -> None:
    assert _preprocessing.is_standalone_transformer(estimator) is expected


def test_scaling_by_hand_in_a_run_leaves_the_run_to_the_model(
    autolog: None, split: list[Any], list_runs: ListRuns, client: TrackingClient
) -> None:
    X_train, X_test, y_train, y_test = split
    with mltrail.start_run() as run:
        scaler = StandardScaler().fit(X_train)
        model = LogisticRegression().fit(scaler.transform(X_train), y_train)
        y_pred = model.predict(scaler.transform(X_test))
    (logged,) = list_runs()  # no child run for the model
    assert logged.info.run_id == run.info.run_id
    assert logged.data.tags["estimator_name"] == "LogisticRegression"
    assert logged.data.params["C"] == "1.0"
    assert logged.data.params["standardscaler__with_mean"] == "True"
    assert logged.data.tags["mlflow.mltrail.preprocessing"] == "StandardScaler"
    assert logged.data.metrics["test_accuracy"] == pytest.approx(
        float(np.mean(y_pred == y_test))
    )
    loaded = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert isinstance(loaded, LogisticRegression)


def test_the_model_after_scaling_gets_the_only_run(
    autolog: None, split: list[Any], list_runs: ListRuns
) -> None:
    X_train, X_test, y_train, _ = split
    scaler = StandardScaler().fit(X_train)
    assert list_runs() == []  # a transformer alone starts no run
    model = LogisticRegression().fit(scaler.transform(X_train), y_train)
    model.predict(scaler.transform(X_test))
    (run,) = list_runs()
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.params["standardscaler__with_std"] == "True"
    assert "test_accuracy" in run.data.metrics
    assert run.data.metrics["train_test_shared_rows"] == 0.0


def test_a_chain_is_recorded_in_order_with_pipeline_names(
    autolog: None, split: list[Any], list_runs: ListRuns, client: TrackingClient
) -> None:
    X_train, X_test, y_train, y_test = split
    scaler = StandardScaler()
    X_scaled = scaler.fit_transform(X_train)
    again = StandardScaler(with_mean=False).fit(X_scaled)
    pca = PCA(5, random_state=0).fit(again.transform(X_scaled))
    model = LogisticRegression().fit(pca.transform(again.transform(X_scaled)), y_train)
    model.score(pca.transform(again.transform(scaler.transform(X_test))), y_test)
    (run,) = list_runs()
    run_id = run.info.run_id
    tags, params = run.data.tags, run.data.params
    assert tags["mlflow.mltrail.preprocessing"] == (
        "StandardScaler → StandardScaler → PCA"
    )
    assert params["standardscaler__with_mean"] == "True"
    assert params["standardscaler-2__with_mean"] == "False"
    assert params["pca__n_components"] == "5"
    entries = _json(client, run_id, "preprocessing.json")
    assert [entry["name"] for entry in entries] == [
        "standardscaler",
        "standardscaler-2",
        "pca",
    ]
    assert [entry["fitted_on"] for entry in entries] == ["train", "train", "train"]
    assert "test_accuracy" in run.data.metrics


def test_the_fitted_transformer_is_saved_beside_the_model(
    autolog: None, split: list[Any], list_runs: ListRuns
) -> None:
    X_train, _, y_train, _ = split
    scaler = StandardScaler().fit(X_train)
    LogisticRegression().fit(scaler.transform(X_train), y_train)
    (run,) = list_runs()
    loaded = mltrail.sklearn.load_model(
        f"runs:/{run.info.run_id}/preprocessing/standardscaler"
    )
    np.testing.assert_array_equal(loaded.transform(X_train), scaler.transform(X_train))


def test_the_training_set_keeps_its_split_lineage(
    autolog: None, split: list[Any], list_runs: ListRuns
) -> None:
    X_train, _, y_train, _ = split
    scaler = StandardScaler().fit(X_train)
    LogisticRegression().fit(scaler.transform(X_train), y_train)
    (run,) = list_runs()
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.profile is not None
    profile = json.loads(dataset_input.dataset.profile)
    assert profile["split"]["random_state"] == 0


def test_a_transformer_fit_that_raises_propagates_and_records_nothing(
    autolog: None, list_runs: ListRuns
) -> None:
    with pytest.raises(ValueError, match="n_components"):
        PCA(n_components=10).fit(np.ones((3, 2)))
    assert list_runs() == []


def test_exclusive_keeps_transformers_out_of_the_users_run(
    split: list[Any], list_runs: ListRuns
) -> None:
    autolog(exclusive=True)
    try:
        with mltrail.start_run():
            StandardScaler().fit(split[0])
    finally:
        autolog(disable=True)
    (run,) = list_runs()
    assert "mlflow.mltrail.preprocessing" not in run.data.tags
    assert run.data.params == {}


def test_a_transformer_in_a_run_without_a_model_is_still_recorded(
    autolog: None, split: list[Any], list_runs: ListRuns
) -> None:
    with mltrail.start_run():
        PCA(3).fit(split[0])
    (run,) = list_runs()
    assert run.data.tags["mlflow.mltrail.preprocessing"] == "PCA"
    assert run.data.params["pca__n_components"] == "3"
    assert "estimator_name" not in run.data.tags
