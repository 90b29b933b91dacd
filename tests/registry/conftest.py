"""Registry fixtures: a fitted estimator and a model logged into a run."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression

import mltrail


@dataclass(frozen=True)
class LoggedModel:
    """A model logged to a run of the test's store."""

    run_id: str
    uri: str
    X: pd.DataFrame
    estimator: LogisticRegression


@pytest.fixture(scope="session")
def wine_estimator() -> tuple[pd.DataFrame, LogisticRegression]:
    X, y = load_wine(return_X_y=True, as_frame=True)
    return X, LogisticRegression(max_iter=5000).fit(X, y)


@pytest.fixture
def logged(wine_estimator: tuple[pd.DataFrame, LogisticRegression]) -> LoggedModel:
    X, estimator = wine_estimator
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(estimator, input_example=X)
    return LoggedModel(run.info.run_id, info.model_uri, X, estimator)
