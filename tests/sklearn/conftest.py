"""Fixtures for the autolog tests: autologging on for one test, and a client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from mltrail._entities import Run
from mltrail.sklearn import autolog as autolog_function
from mltrail.tracking import TrackingClient


@pytest.fixture
def autolog() -> Iterator[None]:
    """Turn autologging on with the defaults; turn it off (unpatched) afterwards."""
    autolog_function()
    yield
    autolog_function(disable=True)


@pytest.fixture
def client() -> TrackingClient:
    """A client of the default store in the test's working directory."""
    return TrackingClient()


@pytest.fixture
def list_runs(client: TrackingClient) -> Callable[[], list[Run]]:
    """A function returning every run of the Default experiment, oldest first."""

    def list_all() -> list[Run]:
        runs = client.search_runs(["0"], max_results=1000)
        return sorted(runs, key=lambda run: (run.info.start_time, run.info.run_name))

    return list_all
