"""The reads the UI needs beyond the ``Store`` protocol, and a check that it has them.

``SqlStore`` implements them (``store/_sql_table.py``, ``store/_sql_history.py``);
a server on another kind of store serves its API but not these pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, cast

from mltrail._entities import ViewType
from mltrail._errors import InvalidValueError
from mltrail.store._base import Store
from mltrail.store._sql_history import MetricSample
from mltrail.store._table import RunKeys, TablePage

__all__ = ["UiStore", "ui_store"]


class UiStore(Store, Protocol):
    """A ``Store`` with the runs table, key samples and downsampled histories."""

    def search_runs_table(
        self,
        experiment_ids: Sequence[str],
        *,
        columns: Sequence[str] = (),
        filter_string: str = "",
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        order_by: str | None = None,
        group_by: str | None = None,
        nested: bool = True,
        parent_run_id: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> TablePage:
        """Return one page of the runs table."""
        ...

    def count_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str = "",
        view_type: ViewType = ViewType.ACTIVE_ONLY,
    ) -> int:
        """Return how many runs match a filter."""
        ...

    def sample_run_keys(
        self,
        experiment_ids: Sequence[str],
        *,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        sample_size: int = 1000,
    ) -> RunKeys:
        """Return the keys of the most recent runs."""
        ...

    def experiment_run_stats(
        self,
        experiment_ids: Sequence[str],
        *,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
    ) -> dict[str, tuple[int, int]]:
        """Return each experiment's run count and latest start time."""
        ...

    def sample_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        x_axis: str = "step",
        start: int | None = None,
        end: int | None = None,
        max_points: int = 1000,
    ) -> MetricSample:
        """Return a metric's history in at most ``max_points`` ranges."""
        ...

    def metric_keys_with_history(self, run_id: str) -> list[str]:
        """Return the keys of a run's metrics that hold more than one point."""
        ...


_METHODS = (
    "search_runs_table",
    "count_runs",
    "sample_run_keys",
    "experiment_run_stats",
    "sample_metric_history",
    "metric_keys_with_history",
)


def ui_store(store: Store) -> UiStore:
    """Return ``store`` as a ``UiStore``, or explain that the UI needs a SQL store."""
    if not all(callable(getattr(store, name, None)) for name in _METHODS):
        raise InvalidValueError(
            "backend store",
            type(store).__name__,
            "a SQL store (sqlite, postgresql or mysql) for the web UI",
            "Start the server with --backend-store-uri pointing at a database.",
        )
    # Checked just above: it has every method of the protocol.
    return cast(UiStore, store)
