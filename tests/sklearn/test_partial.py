"""Tests of ``partial_fit`` loops: one run per loop, a step per call, when it ends."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.multioutput import MultiOutputRegressor
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier

from mltrail import tracking
from mltrail._entities import Run
from mltrail._errors import MltrailWarning
from mltrail._system_tags import PARTIAL_FIT_CALLS_TAG
from mltrail.sklearn import autolog
from mltrail.sklearn.patches import _patch
from mltrail.sklearn.recorders import _code, _partial
from mltrail.sklearn.session import _loops
from mltrail.sklearn.shared import _background, _state
from mltrail.tracking import TrackingClient

REPOSITORY = Path(__file__).resolve().parents[2]
CLASSES = [0, 1, 2]
ListRuns = Callable[[], list[Run]]


@pytest.fixture
def patched() -> Iterator[None]:
    """Autologging on, with ``partial_fit`` patched; everything undone afterwards."""
    autolog()
    yield
    _loops.end_partial_loops()
    autolog(disable=True)
    _background.wait()
    _code.reset()


@pytest.fixture
def batches() -> list[tuple[np.ndarray, np.ndarray]]:
    X, y = load_iris(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(y))
    X, y = X[order], y[order]
    return [(X[i : i + 30], y[i : i + 30]) for i in range(0, 150, 30)]


def train(model: Any, batches: list[tuple[np.ndarray, np.ndarray]]) -> None:
    for X, y in batches:
        model.partial_fit(X, y, classes=CLASSES)


def test_loop_is_one_run_with_a_step_per_call(
    patched: None, batches: Any, client: TrackingClient, list_runs: ListRuns
) -> None:
    train(SGDClassifier(random_state=0), batches)
    _loops.end_partial_loops()
    (run,) = list_runs()
    assert run.info.status == "FINISHED"
    sizes = client.get_metric_history(run.info.run_id, "partial_fit_batch_size")
    assert [(m.step, m.value) for m in sizes] == [(i, 30.0) for i in range(5)]
    scores = client.get_metric_history(run.info.run_id, "partial_fit_score")
    assert len(scores) == 5
    assert run.data.tags["mlflow.mltrail.partial_fit_calls"] == "5"


def test_loop_logs_params_tags_and_the_model_at_its_end(
    patched: None, batches: Any, client: TrackingClient, list_runs: ListRuns
) -> None:
    train(SGDClassifier(alpha=0.01, random_state=0), batches)
    (running,) = list_runs()
    assert running.info.status == "RUNNING"
    assert running.data.params["alpha"] == "0.01"
    assert running.data.tags["estimator_name"] == "SGDClassifier"
    assert running.data.tags["mlflow.autologging"] == "sklearn"
    assert "mlflow.mltrail.author" in running.data.tags
    _loops.end_partial_loops()
    paths = {f.path for f in client.list_artifacts(running.info.run_id, "model")}
    assert "model/MLmodel" in paths


def test_loop_run_is_the_active_and_last_active_run(
    patched: None, batches: Any, list_runs: ListRuns
) -> None:
    train(SGDClassifier(random_state=0), batches[:2])
    (run,) = list_runs()
    active = tracking.active_run()
    assert active is not None
    assert active.info.run_id == run.info.run_id
    last = tracking.last_active_run()
    assert last is not None
    assert last.info.run_id == run.info.run_id


def test_mlp_loop_logs_its_loss(
    patched: None, batches: Any, client: TrackingClient, list_runs: ListRuns
) -> None:
    model = MLPClassifier(hidden_layer_sizes=(5,), random_state=0)
    train(model, batches[:3])
    (run,) = list_runs()
    loss = client.get_metric_history(run.info.run_id, "partial_fit_loss")
    assert [m.step for m in loss] == [0, 1, 2]
    assert loss[-1].value == pytest.approx(model.loss_)


def test_estimator_without_progress_attributes_logs_batch_size_and_score(
    patched: None, batches: Any, list_runs: ListRuns
) -> None:
    train(GaussianNB(), batches[:2])
    _loops.end_partial_loops()
    (run,) = list_runs()
    assert sorted(run.data.metrics) == ["partial_fit_batch_size", "partial_fit_score"]


def test_other_estimator_ends_the_loop(
    patched: None, batches: Any, list_runs: ListRuns
) -> None:
    train(SGDClassifier(random_state=0), batches[:2])
    train(SGDClassifier(random_state=1), batches[:2])
    first, second = list_runs()
    assert first.info.status == "FINISHED"
    assert second.info.status == "RUNNING"


def test_end_partial_loops_for_another_run_keeps_the_loop(
    patched: None, batches: Any, list_runs: ListRuns
) -> None:
    train(SGDClassifier(random_state=0), batches[:2])
    _loops.end_partial_loops("another-run")
    (run,) = list_runs()
    assert run.info.status == "RUNNING"


def test_loop_inside_a_user_run_logs_into_it_and_never_ends_it(
    patched: None, batches: Any, client: TrackingClient, list_runs: ListRuns
) -> None:
    with tracking.start_run() as run:
        train(SGDClassifier(random_state=0), batches)
        _loops.end_partial_loops(run.info.run_id)
        assert tracking.active_run() is not None
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
    (only,) = list_runs()
    assert only.info.run_id == run.info.run_id
    assert len(client.get_metric_history(run.info.run_id, "partial_fit_score")) == 5
    assert "model/MLmodel" in {
        f.path for f in client.list_artifacts(run.info.run_id, "model")
    }


def test_user_run_after_an_own_loop_ends_the_own_run(
    patched: None, batches: Any, list_runs: ListRuns
) -> None:
    model = SGDClassifier(random_state=0)
    train(model, batches[:2])
    with tracking.start_run():
        train(model, batches[2:])
    own, user = list_runs()
    assert own.info.status == "FINISHED"
    assert user.data.metrics["partial_fit_batch_size"] == 30.0


def test_exclusive_logs_nothing_in_a_user_run(
    batches: Any, client: TrackingClient
) -> None:
    autolog(exclusive=True)
    try:
        with tracking.start_run() as run:
            train(SGDClassifier(random_state=0), batches[:2])
        assert client.get_run(run.info.run_id).data.metrics == {}
    finally:
        autolog(disable=True)


def test_log_partial_fit_off_logs_nothing(
    patched: None,
    batches: Any,
    list_runs: ListRuns,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        _state, "settings", types.SimpleNamespace(log_partial_fit=False)
    )
    train(SGDClassifier(random_state=0), batches[:2])
    assert list_runs() == []


def test_failing_partial_fit_ends_the_run_failed(
    patched: None, batches: Any, list_runs: ListRuns
) -> None:
    model = SGDClassifier(random_state=0)
    train(model, batches[:1])
    X, y = batches[1]
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :2], y)
    (run,) = list_runs()
    assert run.info.status == "FAILED"
    assert run.data.tags["mlflow.mltrail.error.type"] == "builtins.ValueError"


def test_nested_partial_fit_logs_to_the_outer_loop_only(
    patched: None, batches: Any, client: TrackingClient, list_runs: ListRuns
) -> None:
    model = MultiOutputRegressor(SGDRegressor(random_state=0))
    for X, y in batches[:2]:
        model.partial_fit(X, np.column_stack([y, y]))
    (run,) = list_runs()
    assert run.data.tags["estimator_name"] == "MultiOutputRegressor"
    sizes = client.get_metric_history(run.info.run_id, "partial_fit_batch_size")
    assert [m.step for m in sizes] == [0, 1]


def test_unpatching_restores_the_original_partial_fit() -> None:
    owner = next(c for c in SGDClassifier.__mro__ if "partial_fit" in c.__dict__)
    original = owner.__dict__["partial_fit"]
    autolog()
    assert _patch.is_patched(owner.__dict__["partial_fit"])
    autolog(disable=True)
    assert owner.__dict__["partial_fit"] is original


def test_available_if_partial_fit_is_patched_on_a_copy() -> None:
    original = MLPClassifier.__dict__["partial_fit"]
    autolog()
    try:
        patched = MLPClassifier.__dict__["partial_fit"]
        assert patched is not original
        assert _patch.is_patched(patched)
        assert original.fn is not patched.fn
    finally:
        autolog(disable=True)
    assert MLPClassifier.__dict__["partial_fit"] is original


def test_partial_fit_without_autolog_runs_untouched(
    patched: None, batches: Any, list_runs: ListRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_state, "settings", None)
    train(SGDClassifier(random_state=0), batches[:1])
    assert list_runs() == []


def test_logging_failure_warns_and_keeps_the_result(
    patched: None, batches: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("store is down")

    monkeypatch.setattr(_partial, "_log_step", broken)
    model = SGDClassifier(random_state=0)
    X, y = batches[0]
    with pytest.warns(MltrailWarning, match="store is down"):
        assert model.partial_fit(X, y, classes=CLASSES) is model


def test_start_failure_warns_and_the_call_still_runs(
    patched: None, batches: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("no store")

    monkeypatch.setattr(_loops, "_start", broken)
    model = SGDClassifier(random_state=0)
    X, y = batches[0]
    with pytest.warns(MltrailWarning, match="no store"):
        model.partial_fit(X, y, classes=CLASSES)
    assert hasattr(model, "coef_")


def test_silent_suppresses_the_warning(
    patched: None, batches: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _state.settings is not None
    monkeypatch.setattr(
        _state, "settings", dataclasses.replace(_state.settings, silent=True)
    )

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("store is down")

    monkeypatch.setattr(_partial, "_log_step", broken)
    X, y = batches[0]
    SGDClassifier(random_state=0).partial_fit(X, y, classes=CLASSES)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3.0), (np.array([2, 5]), 5.0), ("many", None), (np.array([]), None)],
    ids=["int", "array", "text", "empty"],
)
def test_progress_values_become_numbers(value: object, expected: float | None) -> None:
    assert _partial._number(value) == expected


ATEXIT_SCRIPT = """
import sys
sys.path.insert(0, {source!r})
import numpy as np
from sklearn.linear_model import SGDClassifier
import mltrail
from mltrail.sklearn.recorders import _partial

mltrail.sklearn.autolog()
rng = np.random.RandomState(0)
model = SGDClassifier(random_state=0)
for _ in range(3):
    X = rng.normal(size=(20, 4))
    model.partial_fit(X, (X[:, 0] > 0).astype(int), classes=[0, 1])
"""


@pytest.mark.slow
def test_loop_ends_at_process_exit(tmp_path: Path) -> None:
    script = tmp_path / "loop.py"
    script.write_text(ATEXIT_SCRIPT.format(source=str(REPOSITORY / "src")))
    database = tmp_path / "runs.db"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLTRAIL_", "MLFLOW_"))
    }
    env["MLTRAIL_TRACKING_URI"] = f"sqlite:///{database}"
    subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    client = TrackingClient(f"sqlite:///{database}")
    (run,) = client.search_runs(["0"])
    assert run.info.status == "FINISHED"
    history = client.get_metric_history(run.info.run_id, "partial_fit_batch_size")
    assert [m.step for m in history] == [0, 1, 2]
    assert "model/MLmodel" in {
        f.path for f in client.list_artifacts(run.info.run_id, "model")
    }


def test_conflicting_params_in_a_user_run_warn_and_the_loop_goes_on(
    patched: None, batches: Any, client: TrackingClient
) -> None:
    with tracking.start_run() as run:
        tracking.log_param("alpha", "something else")
        with pytest.warns(MltrailWarning, match="params"):
            train(SGDClassifier(random_state=0), batches[:1])
    history = client.get_metric_history(run.info.run_id, "partial_fit_batch_size")
    assert len(history) == 1


def test_model_without_signature_when_signatures_are_off(
    batches: Any, client: TrackingClient, list_runs: ListRuns
) -> None:
    autolog(log_model_signatures=False, log_input_examples=False)
    try:
        train(SGDClassifier(random_state=0), batches[:2])
        _loops.end_partial_loops()
    finally:
        autolog(disable=True)
    (run,) = list_runs()
    store, uri = client._artifacts(run.info.run_id)
    assert b"signature" not in store.read_bytes(uri, "model/MLmodel")


# The record of a loop -------------------------------------------------------------


@pytest.fixture
def split_batches() -> tuple[list[tuple[np.ndarray, np.ndarray]], Any, Any]:
    from sklearn.model_selection import train_test_split

    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    batches = [
        (X_train[i : i + 28], y_train[i : i + 28]) for i in range(0, len(y_train), 28)
    ]
    return batches, X_test, y_test


def test_held_out_scores_after_each_call_log_a_history(
    patched: None, split_batches: Any, client: TrackingClient, list_runs: ListRuns
) -> None:
    batches, X_test, y_test = split_batches
    model = SGDClassifier(random_state=0)
    scores = []
    for X, y in batches:
        model.partial_fit(X, y, classes=CLASSES)
        scores.append(model.score(X_test, y_test))
    _loops.end_partial_loops()
    (run,) = list_runs()
    history = client.get_metric_history(run.info.run_id, "test_accuracy")
    assert [m.step for m in history] == list(range(len(scores)))
    assert [m.value for m in history] == pytest.approx(scores)
    store, uri = client._artifacts(run.info.run_id)
    assert store.read_bytes(uri, "plots/test_confusion_matrix.json")
    test_inputs = [
        item for item in run.inputs.dataset_inputs if item.dataset.name == "test"
    ]
    assert len(test_inputs) == 1  # one input, however many evaluations


def test_a_loop_records_data_environment_pipeline_and_plots(
    patched: None, split_batches: Any, client: TrackingClient, list_runs: ListRuns
) -> None:
    batches, _, _ = split_batches
    train(SGDClassifier(random_state=0), batches)
    _loops.end_partial_loops()
    (run,) = list_runs()
    (train_input,) = run.inputs.dataset_inputs
    assert train_input.dataset.name == "train"
    assert train_input.dataset.profile is not None
    profile = json.loads(train_input.dataset.profile)
    assert profile["num_rows"] == sum(len(y) for _, y in batches)
    assert profile["partial_fit_batches"] == len(batches)
    assert run.data.tags["mlflow.mltrail.pipeline"] == "SGDClassifier"
    paths = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"environment", "pipeline.json", "plots", "model"} <= paths
    plots = {item.path for item in client.list_artifacts(run.info.run_id, "plots")}
    assert "plots/feature_importance.png" in plots


def test_the_training_digest_covers_every_batch(
    patched: None, split_batches: Any, list_runs: ListRuns
) -> None:
    batches, _, _ = split_batches
    train(SGDClassifier(random_state=0), batches)
    _loops.end_partial_loops()
    changed = [(X.copy(), y) for X, y in batches]
    changed[-1][0][0, 0] += 1.0
    train(SGDClassifier(random_state=0), changed)
    _loops.end_partial_loops()
    first, second = (run.inputs.dataset_inputs[0].dataset for run in list_runs())
    assert first.digest != second.digest


def test_user_metrics_during_a_loop_go_to_its_run(
    patched: None, batches: Any, list_runs: ListRuns
) -> None:
    model = SGDClassifier(random_state=0)
    for epoch, (X, y) in enumerate(batches):
        model.partial_fit(X, y, classes=CLASSES)
        tracking.log_metric("epoch_marker", float(epoch), step=epoch)
    _loops.end_partial_loops()
    (run,) = list_runs()
    assert run.data.metrics["epoch_marker"] == float(len(batches) - 1)


def test_the_end_of_the_users_run_ends_the_loop_in_it(
    patched: None, batches: Any, client: TrackingClient
) -> None:
    with tracking.start_run() as run:
        train(SGDClassifier(random_state=0), batches)
    paths = {f.path for f in client.list_artifacts(run.info.run_id, "model")}
    assert "model/MLmodel" in paths
    assert client.get_run(run.info.run_id).data.tags[PARTIAL_FIT_CALLS_TAG] == "5"


def test_a_scaler_updated_batch_by_batch_is_the_loops_preprocessing(
    patched: None, batches: Any, list_runs: ListRuns
) -> None:
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    model = SGDClassifier(random_state=0)
    for X, y in batches:
        scaler.partial_fit(X)
        model.partial_fit(scaler.transform(X), y, classes=CLASSES)
    _loops.end_partial_loops()
    (run,) = list_runs()
    assert run.data.tags["estimator_name"] == "SGDClassifier"
    assert run.data.tags["mlflow.mltrail.preprocessing"] == "StandardScaler"
    assert run.data.tags[PARTIAL_FIT_CALLS_TAG] == "5"
    assert run.data.params["standardscaler__with_mean"] == "True"
