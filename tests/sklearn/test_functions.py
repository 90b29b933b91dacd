"""Tests of in-place function patching: import order, exact restoration, validation.

The names below are imported at the top of the module, long before ``autolog()``
runs in a test: they must be intercepted all the same.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
import sklearn.metrics
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix_at_thresholds
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import mltrail
from mltrail.sklearn.patches import _functions
from mltrail.sklearn.recorders import _heldout
from mltrail.sklearn.shared import _splits
from mltrail.tracking import TrackingClient
from tests.sklearn._wiring import wire

METRICS = importlib.import_module("sklearn.metrics")


@pytest.fixture
def heldout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from wire(monkeypatch)


@pytest.fixture
def patched() -> Iterator[None]:
    _functions.patch_functions()
    yield
    _functions.unpatch_functions()


def _cell(function: Any) -> Any:
    return function.__closure__[function.__code__.co_freevars.index("func")]


def test_names_imported_before_autolog_are_intercepted(
    heldout: None, client: TrackingClient
) -> None:
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(X_train, y_train)
    run = mltrail.last_active_run()
    assert run is not None
    value = accuracy_score(y_test, model.predict(X_test))
    with mltrail.start_run() as cv_run:
        scores = cross_val_score(model, X, y, cv=3)
    logged = client.get_run(run.info.run_id).data.metrics
    assert logged["test_accuracy_score"] == value
    assert logged["test_accuracy"] == value  # labels came from the split
    cv_logged = client.get_run(cv_run.info.run_id).data.metrics
    assert cv_logged["cv_score_mean"] == pytest.approx(scores.mean())


def test_patch_swaps_the_cell_and_keeps_the_public_object(patched: None) -> None:
    assert METRICS.accuracy_score is accuracy_score
    assert getattr(_cell(accuracy_score).cell_contents, _functions.PATCH_MARKER)


def test_unpatch_restores_the_original_objects() -> None:
    original_cell = _cell(accuracy_score).cell_contents
    original_split = _cell(train_test_split).cell_contents
    _functions.patch_functions()
    _functions.unpatch_functions()
    assert _cell(accuracy_score).cell_contents is original_cell
    assert _cell(train_test_split).cell_contents is original_split
    assert METRICS.confusion_matrix_at_thresholds is confusion_matrix_at_thresholds
    assert _functions.patched_functions() == {}


def test_patch_twice_changes_nothing(patched: None) -> None:
    installed = _cell(accuracy_score).cell_contents
    _functions.patch_functions()
    assert _cell(accuracy_score).cell_contents is installed


def test_every_public_metric_but_the_scorer_helpers_is_patched(patched: None) -> None:
    names = set(_functions.patched_functions())
    functions = {
        name
        for name in METRICS.__all__
        if callable(getattr(METRICS, name))
        and not isinstance(getattr(METRICS, name), type)
    }
    assert functions - names == set(_functions.METRICS_EXCLUDED)
    assert set(_functions.MODEL_SELECTION_FUNCTIONS) <= names


def test_function_without_a_cell_is_patched_as_a_module_attribute(
    patched: None,
) -> None:
    defining = importlib.import_module(confusion_matrix_at_thresholds.__module__)
    assert METRICS.confusion_matrix_at_thresholds is not confusion_matrix_at_thresholds
    assert defining.confusion_matrix_at_thresholds is not confusion_matrix_at_thresholds
    assert METRICS.confusion_matrix_at_thresholds.__wrapped__ is (
        confusion_matrix_at_thresholds
    )


def test_patched_functions_keep_signature_and_validation(patched: None) -> None:
    import inspect

    assert list(inspect.signature(accuracy_score).parameters)[:2] == [
        "y_true",
        "y_pred",
    ]
    with pytest.raises(InvalidParameterError, match="accuracy_score must be"):
        accuracy_score([0, 1], [0, 1], normalize="yes")


def test_patched_functions_return_the_same_values_with_autolog_off(
    patched: None,
) -> None:
    y_true, y_pred = [0, 1, 1, 0], [0, 1, 0, 0]
    assert accuracy_score(y_true, y_pred) == 0.75
    assert sklearn.metrics.f1_score(y_true, y_pred) == pytest.approx(2 / 3)
    parts = train_test_split([[1], [2], [3], [4]], y_true, random_state=0)
    assert len(parts) == 4
    assert _splits.recorded_labels(parts[1]) is None


def test_metric_without_tracked_predictions_records_nothing(heldout: None) -> None:
    assert accuracy_score([0, 1], [0, 1]) == 1.0
    assert len(_heldout._predictions) == 0
