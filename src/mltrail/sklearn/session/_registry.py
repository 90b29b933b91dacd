"""Which recorders hear which event, in the order they run: one line each.

To add a record, write one module in ``recorders/`` with a function that takes
the event, and register it here with one line: the event's type, the name its
failure gets in the user's warning, and the function. The table is built once, at
the first event: a recorder's own helpers are looked up at each call, the
registered functions are not.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from mltrail.sklearn.shared._events import (
    CrossValidated,
    EstimatorUsed,
    FitEnded,
    LoopEnded,
    MetricComputed,
    PartialFitStep,
    Predicted,
    RunStarted,
    Scored,
    SplitMade,
    Transformed,
    TransformerFitted,
)

__all__ = ["Recorder", "dispatch", "recorders"]

Recorder = Callable[[Any], Iterable[str] | None]


def _registrations() -> list[tuple[type, str, Recorder]]:
    from mltrail.sklearn.recorders import (
        _code,
        _crossval,
        _extras,
        _heldout,
        _logging,
        _partial,
        _post_training,
        _preprocessing,
        _search_runs,
        _training,
    )

    return [
        (RunStarted, "code and tags", _code.on_run_started),
        (FitEnded, "training metrics", _training.on_fit_ended),
        (FitEnded, "search child runs", _search_runs.on_fit_ended),
        (FitEnded, "params, metrics and tags", _logging.on_fit_ended),
        (FitEnded, "datasets, pipeline and plots", _extras.on_fit_ended),
        (FitEnded, "held-out tracking", _heldout.on_fit_ended),
        (FitEnded, "preprocessing", _preprocessing.on_fit_ended),
        (FitEnded, "files", _logging.queue_files),
        (EstimatorUsed, "params and tags", _logging.on_estimator_used),
        (EstimatorUsed, "datasets and pipeline", _extras.on_estimator_used),
        (EstimatorUsed, "environment", _logging.queue_environment),
        (TransformerFitted, "preprocessing", _preprocessing.on_transformer_fitted),
        (PartialFitStep, "logging", _partial.on_partial_fit_step),
        (LoopEnded, "calls", _partial.log_calls),
        (LoopEnded, "training data", _partial.log_training_data),
        (LoopEnded, "record", _extras.on_loop_ended),
        (LoopEnded, "record", _preprocessing.on_loop_ended),
        (LoopEnded, "record", _partial.queue_model),
        (LoopEnded, "held-out plots", _heldout.on_loop_ended),
        (Predicted, "held-out evaluation", _heldout.on_predicted),
        (Predicted, "post-training metrics", _post_training.on_predicted),
        (Scored, "held-out evaluation", _heldout.on_scored),
        (Scored, "post-training metrics", _post_training.on_scored),
        (MetricComputed, "held-out evaluation", _heldout.on_metric_computed),
        (MetricComputed, "post-training metrics", _post_training.on_metric_computed),
        (SplitMade, "splits", _heldout.on_split_made),
        (Transformed, "preprocessing", _preprocessing.on_transformed),
        (CrossValidated, "cross-validation", _crossval.on_cross_validated),
    ]


@functools.cache
def recorders() -> dict[type, tuple[tuple[str, Recorder], ...]]:
    """Return, for each event type, its recorders (name, function) in order."""
    table: dict[type, list[tuple[str, Recorder]]] = {}
    for event_type, name, recorder in _registrations():
        table.setdefault(event_type, []).append((name, recorder))
    return {event_type: tuple(found) for event_type, found in table.items()}


def dispatch(event: object, problems: list[str] | None = None) -> None:
    """Hand ``event`` to its recorders in turn; each failure is a line of problems.

    Without ``problems``, the first failure propagates to the caller instead.
    """
    for name, recorder in recorders().get(type(event), ()):
        if problems is None:
            recorder(event)
            continue
        try:
            found = recorder(event)
        except Exception as exc:  # autolog must never break the user's call
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
        else:
            if found:
                problems.extend(found)
