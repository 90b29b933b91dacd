"""Tests of hyperparameter searches: the parent run and one child run per candidate."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

import mltrail
from mltrail._entities import Run
from mltrail.sklearn import autolog
from mltrail.sklearn.shared import _search

ListRuns = Callable[[], list[Run]]
GRID = {"svc__C": [0.1, 1.0, 10.0], "svc__kernel": ["linear", "rbf"]}


@pytest.fixture
def search() -> GridSearchCV:
    return GridSearchCV(make_pipeline(StandardScaler(), SVC()), GRID, cv=3)


def _split(runs: list[Run]) -> tuple[Run, list[Run]]:
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    (parent,) = parents
    children = [run for run in runs if run is not parent]
    return parent, children


def test_search_logs_one_parent_and_a_child_per_candidate(
    autolog: None, search: GridSearchCV, list_runs: ListRuns
) -> None:
    search.fit(*load_iris(return_X_y=True))
    parent, children = _split(list_runs())
    assert len(children) == 6
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    assert all(c.info.status == "FINISHED" for c in children)


def test_parent_has_search_params_best_params_and_best_score(
    autolog: None, search: GridSearchCV, list_runs: ListRuns
) -> None:
    search.fit(*load_iris(return_X_y=True))
    parent, _ = _split(list_runs())
    expected = {k: str(v) for k, v in search.get_params(deep=False).items()}
    assert {k: parent.data.params[k] for k in expected} == expected
    assert parent.data.params["best_svc__C"] == str(search.best_params_["svc__C"])
    assert parent.data.params["best_svc__kernel"] == search.best_params_["svc__kernel"]
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert "training_accuracy_score" in parent.data.metrics
    assert parent.data.tags["estimator_name"] == "GridSearchCV"


def test_children_have_candidate_params_and_cv_scores(
    autolog: None, search: GridSearchCV, list_runs: ListRuns
) -> None:
    search.fit(*load_iris(return_X_y=True))
    _, children = _split(list_runs())
    results = search.cv_results_
    for child in children:
        row = next(
            i
            for i, params in enumerate(results["params"])
            if all(child.data.params[k] == str(v) for k, v in params.items())
        )
        found = child.data.metrics
        assert found["mean_test_score"] == pytest.approx(
            results["mean_test_score"][row]
        )
        assert found["std_test_score"] == pytest.approx(results["std_test_score"][row])
        assert found["split2_test_score"] == pytest.approx(
            results["split2_test_score"][row]
        )
        assert found["mean_fit_time"] == pytest.approx(results["mean_fit_time"][row])
        assert child.data.params["standardscaler__with_mean"] == "True"
        assert child.data.tags["estimator_name"] == "Pipeline"


def test_best_child_is_tagged_and_linked_from_the_parent(
    autolog: None, search: GridSearchCV, list_runs: ListRuns
) -> None:
    search.fit(*load_iris(return_X_y=True))
    parent, children = _split(list_runs())
    best = [
        c
        for c in children
        if c.data.tags.get("mlflow.mltrail.best_candidate") == "true"
    ]
    assert len(best) == 1
    assert parent.data.tags["mlflow.mltrail.best_child_run_id"] == best[0].info.run_id
    assert best[0].data.params["svc__C"] == str(search.best_params_["svc__C"])


def test_parent_has_cv_results_csv_and_best_estimator_model(
    autolog: None, search: GridSearchCV, list_runs: ListRuns
) -> None:
    X, y = load_iris(return_X_y=True)
    search.fit(X, y)
    parent, _ = _split(list_runs())
    root = Path(parent.info.artifact_uri.removeprefix("file://"))
    table = pd.read_csv(io.StringIO((root / "cv_results.csv").read_text()))
    assert len(table) == 6
    assert "mean_test_score" in table.columns
    loaded = mltrail.sklearn.load_model(f"runs:/{parent.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), search.best_estimator_.predict(X))


def test_search_model_is_the_search_with_best_estimator_beside_it(
    autolog: None, search: GridSearchCV, list_runs: ListRuns
) -> None:
    X, y = load_iris(return_X_y=True)
    search.fit(X, y)
    parent, _ = _split(list_runs())
    run_id = parent.info.run_id

    loaded = mltrail.sklearn.load_model(f"runs:/{run_id}/model")
    best = mltrail.sklearn.load_model(f"runs:/{run_id}/best_estimator")
    served = mltrail.pyfunc.load_model(f"runs:/{run_id}/model")

    assert type(loaded) is GridSearchCV
    np.testing.assert_array_equal(
        loaded.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    )
    assert loaded.best_params_ == search.best_params_
    assert loaded.score(X, y) == search.score(X, y)
    assert type(best) is type(search.best_estimator_)
    np.testing.assert_array_equal(best.predict(X), search.best_estimator_.predict(X))
    np.testing.assert_array_equal(served.predict(X), search.predict(X))
    logged = mltrail.search_logged_models(output_format="list")
    assert sorted((m.name, m.source_run_id) for m in logged) == [
        ("best_estimator", run_id),
        ("model", run_id),
    ]


def test_max_tuning_runs_keeps_the_best_candidates(list_runs: ListRuns) -> None:
    search = GridSearchCV(
        DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3, 4]}, cv=3
    )
    autolog(max_tuning_runs=2)
    try:
        search.fit(*load_iris(return_X_y=True))
    finally:
        autolog(disable=True)
    _, children = _split(list_runs())
    assert len(children) == 2
    ranks = search.cv_results_["rank_test_score"]
    logged = sorted(c.data.metrics["rank_test_score"] for c in children)
    assert logged == sorted(ranks)[:2]


def test_max_tuning_runs_zero_logs_no_children(list_runs: ListRuns) -> None:
    search = GridSearchCV(DecisionTreeClassifier(), {"max_depth": [1, 2]}, cv=3)
    autolog(max_tuning_runs=0)
    try:
        search.fit(*load_iris(return_X_y=True))
    finally:
        autolog(disable=True)
    parent, children = _split(list_runs())
    assert children == []
    assert "mlflow.mltrail.best_child_run_id" not in parent.data.tags


def test_randomized_search_logs_children(autolog: None, list_runs: ListRuns) -> None:
    search = RandomizedSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": [1, 2, 3, 4, 5]},
        n_iter=3,
        cv=3,
        random_state=0,
    )
    search.fit(*load_iris(return_X_y=True))
    _, children = _split(list_runs())
    assert len(children) == 3


def test_halving_search_logs_every_row(autolog: None, list_runs: ListRuns) -> None:
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    search = HalvingGridSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": [1, 2, 3, 4]},
        cv=3,
        random_state=0,
        min_resources=30,
    )
    search.fit(*load_iris(return_X_y=True))
    parent, children = _split(list_runs())
    assert len(children) == len(search.cv_results_["params"])
    assert {"iter", "n_resources"} <= set(children[0].data.metrics)
    assert parent.data.tags["estimator_name"] == "HalvingGridSearchCV"


def test_search_without_refit_logs_no_model_and_no_training_metrics(
    autolog: None, list_runs: ListRuns
) -> None:
    search = GridSearchCV(
        DecisionTreeClassifier(), {"max_depth": [1, 2]}, cv=3, refit=False
    )
    search.fit(*load_iris(return_X_y=True))
    parent, children = _split(list_runs())
    assert len(children) == 2
    assert "training_accuracy_score" not in parent.data.metrics
    root = Path(parent.info.artifact_uri.removeprefix("file://"))
    assert not (root / "model").exists()


def test_multimetric_search_ranks_by_the_first_rank_column(
    autolog: None, list_runs: ListRuns
) -> None:
    search = GridSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": [1, 2, 3]},
        cv=3,
        scoring=["accuracy", "f1_macro"],
        refit="accuracy",
    )
    search.fit(*load_iris(return_X_y=True))
    _, children = _split(list_runs())
    assert len(children) == 3
    assert "mean_test_f1_macro" in children[0].data.metrics


def test_candidate_order_puts_the_best_first() -> None:
    class Fake:
        cv_results_: dict[str, Any] = {  # noqa: RUF012 - a fixture, never mutated
            "params": [{"a": 1}, {"a": 2}, {"a": 3}],
            "rank_test_score": np.array([3, 1, 2]),
        }
        best_index_ = 1

    assert _search.candidate_order(Fake(), None) == [1, 2, 0]
    assert _search.candidate_order(Fake(), 1) == [1]


def test_candidate_order_without_ranks_keeps_row_order() -> None:
    class Fake:
        cv_results_: dict[str, Any] = {"params": [{}, {}]}  # noqa: RUF012 - fixture

    assert _search.candidate_order(Fake(), None) == [0, 1]
