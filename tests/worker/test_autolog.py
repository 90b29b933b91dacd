"""Autologging with a helper process: it saves models; losing it loses nothing."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

import mltrail
from mltrail._worker import _helper
from mltrail._worker._tasks import RunArtifacts, Task
from mltrail.tracking import TrackingClient
from tests.worker._tasks import wait_for
from tests.worker.conftest import wait_until_gone

MODEL_FILES = {"model/MLmodel", "model/model.skops", "model/requirements.txt"}


@pytest.fixture
def autolog() -> Iterator[_helper.Helper]:
    """Autologging on, with a helper process of this test's own."""
    mltrail.sklearn.autolog()
    helper = _helper.current()
    assert helper is not None
    yield helper
    mltrail.sklearn.autolog(disable=True)


@pytest.fixture
def tickets(monkeypatch: pytest.MonkeyPatch) -> list[_helper.Ticket]:
    """Every ticket the helper hands out during the test."""
    handed_out: list[_helper.Ticket] = []
    submit = _helper.Helper.submit

    def recording(self: _helper.Helper, task: Task) -> _helper.Ticket:
        ticket = submit(self, task)
        handed_out.append(ticket)
        return ticket

    monkeypatch.setattr(_helper.Helper, "submit", recording)
    return handed_out


def _block(helper: _helper.Helper, tmp_path: Path) -> Path:
    """Keep the helper busy until the returned path exists."""
    release = tmp_path / "release"
    helper.submit(Task("none", RunArtifacts(str(tmp_path)), wait_for, (str(release),)))
    return release


def _wine() -> tuple[Any, Any, Any, Any]:
    X, y = load_wine(return_X_y=True, as_frame=True)
    return tuple(train_test_split(X, y, random_state=0))


def _model_files(client: TrackingClient, run_id: str) -> set[str]:
    return {info.path for info in client.list_artifacts(run_id, "model")}


def test_helper_saves_the_model_of_a_fit(
    autolog: _helper.Helper, tickets: list[_helper.Ticket]
) -> None:
    X_train, _, y_train, _ = _wine()
    RandomForestClassifier(n_estimators=5, random_state=0).fit(X_train, y_train)
    run = mltrail.last_active_run()
    assert run is not None
    assert run.info.status == "FINISHED"
    assert _model_files(TrackingClient(), run.info.run_id) >= MODEL_FILES
    (ticket,) = [ticket for ticket in tickets if not ticket.task.is_rendering]
    assert (ticket.task.name, ticket.outcome, ticket.reason) == ("model", "done", None)


def test_helper_draws_the_plots_from_their_json(
    autolog: _helper.Helper, tickets: list[_helper.Ticket]
) -> None:
    X_train, _, y_train, _ = _wine()
    RandomForestClassifier(n_estimators=5, random_state=0).fit(X_train, y_train)
    run = mltrail.last_active_run()
    assert run is not None
    client = TrackingClient()
    plots = {info.path for info in client.list_artifacts(run.info.run_id, "plots")}
    drawings = [ticket for ticket in tickets if ticket.task.is_rendering]
    assert {ticket.task.name for ticket in drawings} == {
        path for path in plots if path.endswith(".png")
    }
    assert {path.removesuffix(".png") for path in plots if path.endswith(".png")} == {
        path.removesuffix(".json") for path in plots if path.endswith(".json")
    }
    assert "plots/training_confusion_matrix.png" in plots
    assert {ticket.outcome for ticket in drawings} == {"done"}


def test_model_saved_by_the_helper_is_a_ready_logged_model(
    autolog: _helper.Helper,
) -> None:
    X_train, _, y_train, _ = _wine()
    RandomForestClassifier(n_estimators=5, random_state=0).fit(X_train, y_train)
    run = mltrail.last_active_run()
    assert run is not None
    client = TrackingClient()
    model_info = mltrail.models.Model.load(f"runs:/{run.info.run_id}/model")
    assert model_info.model_id is not None
    logged = client._store.get_logged_model(model_info.model_id)
    assert (logged.name, logged.status, logged.source_run_id) == (
        "model",
        "READY",
        run.info.run_id,
    )
    assert logged.params["n_estimators"] == "5"


def test_fit_returns_while_the_helper_is_still_busy(
    autolog: _helper.Helper, tmp_path: Path
) -> None:
    release = _block(autolog, tmp_path)
    X_train, _, y_train, _ = _wine()
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    forest.fit(X_train, y_train)
    # The same object again: its first model is a snapshot, so this fit need not
    # wait for the helper either.
    forest.set_params(n_estimators=7).fit(X_train, y_train)
    # Both fits returned, and neither model can exist before the helper is free.
    assert list(Path("mltrail-artifacts").glob("*/*/artifacts/model")) == []
    release.touch()
    client = TrackingClient()
    models = [
        mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model")
        for run in client.search_runs(["0"])
    ]
    assert sorted(len(model.estimators_) for model in models) == [5, 7]


def test_killing_the_helper_mid_run_leaves_a_complete_run(
    autolog: _helper.Helper, tmp_path: Path, tickets: list[_helper.Ticket]
) -> None:
    _block(autolog, tmp_path)  # never released: the helper dies holding the run
    X_train, X_test, y_train, _y_test = _wine()
    with mltrail.start_run() as run:
        forest = RandomForestClassifier(n_estimators=10, random_state=0)
        forest.fit(X_train, y_train)
        forest.predict(X_test)
        # The model's task reaches the helper (held back, then sent): kill then.
        deadline = time.monotonic() + 120
        while not any(ticket.task.name == "model" for ticket in tickets):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(autolog.pid, signal.SIGKILL)
    client = TrackingClient()
    stored = client.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert _model_files(client, run.info.run_id) >= MODEL_FILES
    loaded = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert (loaded.predict(X_test) == forest.predict(X_test)).all()
    plots = {info.path for info in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/training_roc_curve.png", "plots/test_roc_curve.json"} <= plots
    assert "test_accuracy" in stored.data.metrics
    assert wait_until_gone(autolog.pid)
    model_tickets = [ticket for ticket in tickets if ticket.task.name == "model"]
    assert [ticket.outcome for ticket in model_tickets] == ["local"]
    leftovers = list(Path("mltrail-artifacts").glob("*/*/artifacts/.tmp-*"))
    assert leftovers == []


def test_killed_helper_is_replaced_by_the_next_autolog(
    autolog: _helper.Helper,
) -> None:
    os.kill(autolog.pid, signal.SIGKILL)
    assert wait_until_gone(autolog.pid)
    X_train, _, y_train, _ = _wine()
    RandomForestClassifier(n_estimators=3, random_state=0).fit(X_train, y_train)
    mltrail.sklearn.autolog()
    replacement = _helper.current()
    assert replacement is not None
    assert replacement.pid != autolog.pid


def test_each_top_level_fit_tells_the_helper_it_started(
    autolog: _helper.Helper, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    told: list[_helper.Helper] = []
    monkeypatch.setattr(
        _helper.Helper, "hold_renderings", lambda self: told.append(self)
    )
    X_train, _, y_train, _ = _wine()
    make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=3)).fit(
        X_train, y_train
    )
    RandomForestClassifier(n_estimators=3).fit(X_train, y_train)
    # Once per fit the user called: not for the pipeline's steps or the trees.
    assert told == [autolog, autolog]
