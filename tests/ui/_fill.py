"""Fill a store with real autologged runs, the ones the UI tests look at.

A classifier, a regressor, a ``GridSearchCV`` with child runs, a ``partial_fit``
loop, a pipeline with a ``ColumnTransformer``, a long metric history and a run of
hostile names, in one experiment per kind of work; the classifier and the pipeline
are registered as two versions of one model, whose ``champion`` alias moved.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import mltrail


@dataclass
class FilledStore:
    """The ids of what ``fill_store`` logged."""

    experiment_id: str
    classifier: str = ""
    regressor: str = ""
    search: str = ""
    search_children: list[str] = field(default_factory=list)
    incremental: str = ""
    pipeline: str = ""
    long_history: str = ""
    model: str = ""


def fill_store(tracking_uri: str) -> FilledStore:
    """Log the runs into the store at ``tracking_uri`` and return their ids."""
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.datasets import load_diabetes, load_wine
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import Ridge, SGDClassifier
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    mltrail.set_tracking_uri(tracking_uri)
    experiment_id = mltrail.set_experiment("ui").experiment_id
    filled = FilledStore(experiment_id)
    mltrail.sklearn.autolog()
    X, y = load_wine(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=42)
    with mltrail.start_run(run_name="forest") as run:
        forest = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)
        forest.fit(X_train, y_train)
        forest.predict(X_test)
        mltrail.set_tag("ticket", "ML-1234")
    filled.classifier = run.info.run_id
    Xd, yd = load_diabetes(return_X_y=True, as_frame=True)
    Xd_train, Xd_test, yd_train, _ = train_test_split(Xd, yd, random_state=0)
    with mltrail.start_run(run_name="ridge") as run:
        Ridge(alpha=0.5).fit(Xd_train, yd_train).predict(Xd_test)
    filled.regressor = run.info.run_id
    with mltrail.start_run(run_name="search") as run:
        search = GridSearchCV(
            DecisionTreeClassifier(random_state=0),
            {"max_depth": [2, 3, 4], "min_samples_leaf": [1, 5]},
            cv=3,
        )
        search.fit(X_train, y_train)
    filled.search = run.info.run_id
    with mltrail.start_run(run_name="sgd-incremental") as run:
        sgd = SGDClassifier(random_state=0)
        classes = np.unique(y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for start in range(0, len(X_train), 20):
                sgd.partial_fit(
                    X_train[start : start + 20], y_train[start : start + 20], classes
                )
    filled.incremental = run.info.run_id
    frame = X.copy()
    frame["region"] = np.where(frame["alcohol"] > 13, "north", "south")
    f_train, f_test, g_train, _ = train_test_split(frame, y, random_state=1)
    with mltrail.start_run(run_name="pipeline") as run:
        model = Pipeline(
            [
                (
                    "columns",
                    ColumnTransformer(
                        [
                            ("numbers", StandardScaler(), list(X.columns)),
                            ("region", OneHotEncoder(), ["region"]),
                        ]
                    ),
                ),
                ("forest", RandomForestClassifier(n_estimators=10, random_state=0)),
            ]
        )
        model.fit(f_train, g_train).predict(f_test)
    filled.pipeline = run.info.run_id
    mltrail.sklearn.autolog(disable=True)
    with mltrail.start_run(run_name="long-history") as run:
        rng = np.random.default_rng(0)
        values = np.sin(np.arange(20_000) / 500) + rng.normal(0, 0.05, 20_000)
        values[12_345] = 25.0  # a spike that a first-of-bucket sample would drop
        client = mltrail.TrackingClient()
        client.log_batch(
            run.info.run_id,
            metrics=[
                mltrail.Metric("loss", float(v), 1_700_000_000_000 + i, i)
                for i, v in enumerate(values)
            ],
        )
    filled.long_history = run.info.run_id
    filled.model = "wine-forest"
    for source in (filled.classifier, filled.pipeline):
        mltrail.register_model(f"runs:/{source}/model", filled.model)
    client.set_registered_model_alias(filled.model, "champion", 1)
    client.set_registered_model_alias(filled.model, "challenger", 1)
    client.set_registered_model_alias(filled.model, "champion", 2)
    del pd
    return filled
