"""A GridSearchCV on a Dask cluster of processes, autologged to a tracking server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mltrail
from mltrail.store._sql import SqlStore
from tests.server._grid_search import GRID, check_grid_search_runs
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
            search = GridSearchCV(LogisticRegression(max_iter=500), GRID, cv=3)
            search.fit(X, y)
        mltrail.flush()
    finally:
        mltrail.sklearn.autolog(disable=True)
    check_grid_search_runs(sqlite_store)
