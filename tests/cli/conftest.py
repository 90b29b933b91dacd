"""CLI test fixtures: a runner, stores with runs, and the CLI pointed at a backend."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail._entities import Dataset, DatasetInput, InputTag, Metric, Param
from mltrail.store._sql import SqlStore
from mltrail.tracking import TrackingClient, _buffer, _heartbeat
from tests._stores import (  # noqa: F401  # fixtures are found by name
    server_databases,
    sqlite_template,
    store,
)


@dataclass(frozen=True)
class Logged:
    """What the ``logged`` fixture wrote: ids to look for in the CLI's output."""

    experiment_id: str
    good_run_id: str
    bad_run_id: str


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def client() -> TrackingClient:
    """A client on the default store, ``sqlite:///mltrail.db`` in the test's dir."""
    return TrackingClient()


@pytest.fixture
def logged(client: TrackingClient, tmp_path: Path) -> Logged:
    """Log an experiment ``churn`` with two finished runs, one rich in details."""
    experiment_id = client.create_experiment("churn")
    good = client.create_run(experiment_id, run_name="good-run").info.run_id
    client.log_batch(
        good,
        metrics=[
            Metric("accuracy", 0.91, 1_700_000_000_000, 0),
            Metric("loss", 0.4, 1_700_000_000_000, 0),
            Metric("loss", 0.2, 1_700_000_000_001, 1),
            Metric("diverged", math.nan, 1_700_000_000_000, 0),
        ],
        params=[Param("C", "1.0"), Param("penalty", "l2")],
    )
    client.set_tag(good, "team", "risk")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "notes.txt").write_text("x" * 2048)
    client.log_artifact(good, tmp_path / "notes.txt")
    client.log_artifacts(good, tmp_path / "model", artifact_path="model")
    dataset = Dataset("wine-train", "3f2a9c1d", "code", "{}")
    client.log_inputs(
        good, [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])]
    )
    client.set_terminated(good)
    bad = client.create_run(experiment_id, run_name="bad-run").info.run_id
    client.log_batch(
        bad,
        metrics=[Metric("accuracy", 0.62, 1_700_000_000_000, 0)],
        params=[Param("C", "0.01"), Param("penalty", "l2")],
    )
    client.set_terminated(bad)
    return Logged(experiment_id, good, bad)


@pytest.fixture
def backend(
    store: SqlStore,  # noqa: F811  # the imported fixture
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[TrackingClient]:
    """A client of the parametrized ``store``; the CLI is pointed at it too.

    The CLI reads ``MLTRAIL_TRACKING_URI`` and ``MLTRAIL_ARTIFACT_ROOT`` as a user's
    shell would set them, and opens its own connection to the same database.
    """
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", store.uri)
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", store.artifact_root)
    tracking_client = TrackingClient(store.uri)
    tracking_client._opened_store = store
    yield tracking_client
    _buffer.reset()
    _heartbeat.reset()
