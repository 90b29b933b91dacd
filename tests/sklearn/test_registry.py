"""The session's registry: recorders hear their events in order, and fail alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from mltrail._entities import Run
from mltrail._errors import MltrailWarning
from mltrail.sklearn.recorders import _logging
from mltrail.sklearn.session import _registry
from mltrail.sklearn.shared import _background, _events

ListRuns = Callable[[], list[Run]]


def _with_recorder(
    monkeypatch: pytest.MonkeyPatch,
    before: _registry.Recorder,
    name: str,
    recorder: _registry.Recorder,
) -> None:
    """Register ``recorder`` for ``FitEnded`` just before the recorder ``before``."""
    table = dict(_registry.recorders())
    found = table[_events.FitEnded]
    index = [function for _, function in found].index(before)
    table[_events.FitEnded] = (*found[:index], (name, recorder), *found[index:])
    monkeypatch.setattr(_registry, "recorders", lambda: table)


def test_a_recorder_registered_before_the_batch_adds_to_it(
    autolog: None, monkeypatch: pytest.MonkeyPatch, list_runs: ListRuns
) -> None:
    def rows(event: _events.FitEnded) -> None:
        event.metrics["training_rows"] = float(len(event.X))
        event.tags["recorded_by"] = "a new recorder"

    _with_recorder(monkeypatch, _logging.on_fit_ended, "rows", rows)
    DecisionTreeClassifier().fit(*load_iris(return_X_y=True))
    assert _background.wait()
    (run,) = list_runs()
    assert run.data.metrics["training_rows"] == 150.0
    assert run.data.tags["recorded_by"] == "a new recorder"
    assert run.data.params["max_depth"] == "None"


def test_a_failing_recorder_costs_one_line_and_nothing_else(
    autolog: None, monkeypatch: pytest.MonkeyPatch, list_runs: ListRuns
) -> None:
    def broken(event: _events.FitEnded) -> None:
        raise RuntimeError("no record today")

    _with_recorder(monkeypatch, _logging.on_fit_ended, "my record", broken)
    with pytest.warns(MltrailWarning, match="my record: RuntimeError: no record today"):
        DecisionTreeClassifier().fit(*load_iris(return_X_y=True))
    assert _background.wait()
    (run,) = list_runs()
    assert run.info.status == "FINISHED"
    assert run.data.params["max_depth"] == "None"
    assert "training_accuracy_score" in run.data.metrics


def test_every_event_type_has_its_recorders_in_the_registry() -> None:
    table = _registry.recorders()
    events = {
        value
        for name, value in vars(_events).items()
        if name in _events.__all__ and name not in ("FitCall", "PartialFitLoop")
    }
    assert events == set(table)
    assert all(table[event] for event in events)
