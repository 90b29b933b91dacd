"""The grid search that the cluster tests run, and what its runs must show."""

from __future__ import annotations

from mltrail.store._sql import SqlStore

GRID: dict[str, list[object]] = {
    "C": [0.1, 1.0, 10.0],
    "fit_intercept": [True, False],
}


def check_grid_search_runs(store: SqlStore) -> None:
    """Assert one FINISHED parent run and a FINISHED child run per candidate."""
    runs = store.search_runs(["0"], max_results=100)
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
        (str(c), str(f)) for c in GRID["C"] for f in GRID["fit_intercept"]
    }
    assert all("mean_test_score" in c.data.metrics for c in children)
