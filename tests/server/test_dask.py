"""A GridSearchCV on a Dask cluster of processes, autologged to a tracking server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mltrail
from mltrail.store._sql import SqlStore
from tests.server._live import threaded_server

pytestmark = [
    pytest.mark.slow,
    # distributed's and joblib's own notices about the cluster and its sockets.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture
def tracking(sqlite_app: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with threaded_server(sqlite_app) as url:
        monkeypatch.setenv("MLTRAIL_TRACKING_URI", url)
        yield url


def test_grid_search_on_dask_logs_parent_and_children(
    tracking: str, sqlite_store: SqlStore, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    import joblib  # type: ignore[import-untyped]  # joblib ships no type hints
    from distributed import Client, LocalCluster
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    X, y = load_iris(return_X_y=True, as_frame=True)
    grid: dict[str, list[object]] = {
        "C": [0.1, 1.0, 10.0],
        "fit_intercept": [True, False],
    }
    mltrail.sklearn.autolog()
    try:
        with (
            LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                local_directory=str(tmp_path / "dask"),
            ) as cluster,
            Client(cluster),  # type: ignore[no-untyped-call]
            joblib.parallel_backend("dask"),
        ):
            search = GridSearchCV(LogisticRegression(max_iter=500), grid, cv=3)
            search.fit(X, y)
        mltrail.flush()
    finally:
        mltrail.sklearn.autolog(disable=True)
    runs = sqlite_store.search_runs(["0"], max_results=100)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    parent = parents[0]
    children = [
        r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    ]
    assert parent.info.status == "FINISHED"
    assert "best_C" in parent.data.params or "best_cv_score" in parent.data.metrics
    assert len(children) == 6  # every candidate of the grid (max_tuning_runs=None)
    assert {c.info.status for c in children} == {"FINISHED"}
    assert {(c.data.params["C"], c.data.params["fit_intercept"]) for c in children} == {
        (str(c), str(f)) for c in grid["C"] for f in grid["fit_intercept"]
    }
    assert all("mean_test_score" in c.data.metrics for c in children)
