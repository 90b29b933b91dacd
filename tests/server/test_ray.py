"""A GridSearchCV on a local Ray cluster, autologged to a tracking server."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest

import mltrail
from mltrail.store._sql import SqlStore
from tests.server._grid_search import GRID, check_grid_search_runs
from tests.server._live import threaded_server

pytestmark = [
    pytest.mark.slow,
    # Ray's and joblib's own notices about the cluster, its sockets and its workers.
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


@pytest.fixture
def ray_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ray = pytest.importorskip("ray")
    # No usage report (there is no network here) and no dashboard process.
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    # Ray's socket paths must fit AF_UNIX's 107 bytes: pytest's tmp_path is too deep.
    directory = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _temp_dir=directory,
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(directory, ignore_errors=True)


def test_grid_search_on_ray_logs_parent_and_children(
    tracking: str, ray_cluster: None, sqlite_store: SqlStore
) -> None:
    import joblib  # type: ignore[import-untyped]  # joblib ships no type hints
    from ray.util.joblib import register_ray
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    register_ray()  # type: ignore[no-untyped-call]  # ray.util.joblib is untyped
    X, y = load_iris(return_X_y=True, as_frame=True)
    mltrail.sklearn.autolog()
    try:
        with joblib.parallel_backend("ray"):
            search = GridSearchCV(LogisticRegression(max_iter=500), GRID, cv=3)
            search.fit(X, y)
        mltrail.flush()
    finally:
        mltrail.sklearn.autolog(disable=True)
    check_grid_search_runs(sqlite_store)
