"""Serving fixtures: real autologged models, registered in a store of their own.

A classifier pipeline (a ColumnTransformer on numbers, a category and an integer)
and a regressor are fitted once per session with ``mltrail.sklearn.autolog()``,
registered, and given the alias ``champion``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mltrail
from mltrail import _config
from mltrail.serving._app import ServingSettings, create_scoring_app
from mltrail.serving._model import ServedModel, load_served_model
from mltrail.tracking import _buffer, _heartbeat, _pending, _runs


@dataclass(frozen=True)
class Trained:
    """A registered, autologged model and data to score."""

    tracking_uri: str
    name: str
    estimator: Any
    X_test: pd.DataFrame


def mixed_frame(rows: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows),
            "income": rng.normal(50_000, 15_000, rows).round(2),
            "city": rng.choice(["paris", "lyon", "nice"], rows),
        }
    )
    y = ((X["income"] > 50_000) ^ (X["city"] == "nice")).astype(int).to_numpy()
    return X, y


def _autolog(directory: Path) -> tuple[str, Trained, Trained]:
    uri = f"sqlite:///{directory / 'mltrail.db'}"
    mltrail.set_tracking_uri(uri)
    mltrail.sklearn.autolog()
    try:
        X, y = mixed_frame(300)
        X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
        classifier = make_pipeline(
            ColumnTransformer(
                [
                    ("numbers", StandardScaler(), ["age", "income"]),
                    ("words", OneHotEncoder(handle_unknown="ignore"), ["city"]),
                ]
            ),
            LogisticRegression(max_iter=1000),
        )
        with mltrail.start_run() as run:
            classifier.fit(X_train, y_train)
        diabetes_X, diabetes_y = load_diabetes(return_X_y=True, as_frame=True)
        d_train, d_test, t_train, _ = train_test_split(
            diabetes_X, diabetes_y, random_state=0
        )
        with mltrail.start_run() as regressor_run:
            regressor = Ridge().fit(d_train, t_train)
        mltrail.flush()
        _pending.wait()
    finally:
        mltrail.sklearn.autolog(disable=True)
    client = mltrail.TrackingClient(uri)
    for name, run_id in (
        ("churn", run.info.run_id),
        ("diabetes", regressor_run.info.run_id),
    ):
        mltrail.registry._register.register_with_client(
            client, f"runs:/{run_id}/model", name
        )
        client.set_registered_model_alias(name, "champion", 1)
    return (
        uri,
        Trained(uri, "churn", classifier, X_test.reset_index(drop=True)),
        Trained(uri, "diabetes", regressor, d_test.reset_index(drop=True)),
    )


@pytest.fixture(scope="session")
def trained(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Trained, Trained]:
    _, classifier, regressor = _autolog(tmp_path_factory.mktemp("serving-store"))
    _runs.reset()
    _buffer.reset()
    _heartbeat.reset()
    _config.reset()
    return classifier, regressor


@pytest.fixture
def classifier(trained: tuple[Trained, Trained]) -> Trained:
    return trained[0]


@pytest.fixture
def regressor(trained: tuple[Trained, Trained]) -> Trained:
    return trained[1]


@pytest.fixture(scope="session")
def served_classifier(trained: tuple[Trained, Trained]) -> ServedModel:
    model = trained[0]
    return load_served_model(
        f"models:/{model.name}@champion", tracking_uri=model.tracking_uri
    )


@pytest.fixture(scope="session")
def served_regressor(trained: tuple[Trained, Trained]) -> ServedModel:
    model = trained[1]
    return load_served_model(
        f"models:/{model.name}@champion", tracking_uri=model.tracking_uri
    )


def scoring_client(model: ServedModel, **settings: Any) -> Any:
    from starlette.testclient import TestClient

    return TestClient(create_scoring_app(model, ServingSettings(**settings)))
