"""What a ``partial_fit`` loop records: a step per call, the data and model at its end.

The session decides the loop and its run (``session/_loops``). Each call logs, at
step = call index, the batch size and what the estimator exposes afterwards
(``loss_``, ``n_iter_``, ``t_``, the score on the batch when y is given), through
the metric buffer; predictions on held-out data after a call log the held-out
suite at that call's step. At the loop's end: the number of calls, the training
data as a run input (the first batch's schema and profile, the digest and row
count of every batch), and the model with the package list.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mltrail._system_tags import PARTIAL_FIT_CALLS_TAG

if TYPE_CHECKING:
    from mltrail.sklearn.shared._events import LoopEnded, PartialFitLoop, PartialFitStep

__all__ = [
    "PARTIAL_FIT_METRICS",
    "log_calls",
    "log_training_data",
    "on_partial_fit_step",
    "queue_model",
]

PARTIAL_FIT_METHOD = "partial_fit"
BATCH_SIZE_METRIC = "partial_fit_batch_size"
SCORE_METRIC = "partial_fit_score"
# Fitted attribute -> metric, read after every call when present and numeric.
PARTIAL_FIT_METRICS = {
    "loss_": "partial_fit_loss",
    "n_iter_": "partial_fit_n_iter",
    "t_": "partial_fit_t",
}

# Guards the step counter of a loop that two threads might step at once.
_lock = threading.Lock()


def on_partial_fit_step(event: PartialFitStep) -> None:
    """Log one call of the loop: its batch, metrics and step."""
    _log_step(event.loop, event.function, event.args, event.kwargs)


def _number(value: Any) -> float | None:
    import numpy as np

    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if array.size == 0:
        return None
    number = float(array.max())
    return number if np.isfinite(number) else None


def _log_step(
    loop: PartialFitLoop,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Log the batch size and the estimator's progress at step = call index."""
    from sklearn.base import is_classifier, is_regressor

    from mltrail import tracking
    from mltrail.sklearn.shared import _fit, _models, _state

    estimator = loop.estimator
    X, y, sample_weight = _fit.fit_arguments(function, args, kwargs)
    metrics: dict[str, float] = {}
    with _state.quiet():  # the score on the batch is ours, not held out
        if X is not None:
            metrics[BATCH_SIZE_METRIC] = float(_fit.n_rows(X))
            _add_batch(loop, X, y)
        for attribute, name in PARTIAL_FIT_METRICS.items():
            value = _number(getattr(estimator, attribute, None))
            if value is not None:
                metrics[name] = value
        if y is not None and (is_classifier(estimator) or is_regressor(estimator)):
            weight = {} if sample_weight is None else {"sample_weight": sample_weight}
            metrics[SCORE_METRIC] = float(estimator.score(X, y, **weight))
    with _lock:
        step = loop.step
        loop.step += 1
    tracking.log_metrics(metrics, step=step, run_id=loop.run_id)
    _models.on_loop_step(estimator, loop.run_id, step)


def _add_batch(loop: PartialFitLoop, X: Any, y: Any) -> None:
    """Add one batch to the loop's training data: its digest and row count."""
    from mltrail.capture._datasets import dataset_digest
    from mltrail.sklearn.shared import _fit, _splits

    if loop.example is None:
        loop.example = copy.deepcopy(_fit.head(X))
        found = _splits.derived_of(X)
        loop.chain = () if found is None else found.chain
        if getattr(loop.config, "log_datasets", True):
            loop.description = _fit.describe_train(loop.estimator, X, y, None)
    loop.digest.update(dataset_digest(X, y).encode())
    loop.n_rows += _fit.n_rows(X)


def _log_training_data(loop: PartialFitLoop, client: Any) -> None:
    """Log the training data: the first batch's profile, all batches' digest."""
    description = loop.description
    if description is None:
        return
    profile = json.loads(description.profile)
    profile["num_rows"] = loop.n_rows
    profile["partial_fit_batches"] = loop.step
    description = dataclasses.replace(
        description,
        digest=loop.digest.hexdigest()[: len(description.digest)],
        profile=json.dumps(profile, allow_nan=False),
        n_samples=loop.n_rows,
    )
    client.log_inputs(loop.run_id, [description.to_dataset_input()])


def log_calls(event: LoopEnded) -> None:
    """Tag the loop's run with the number of ``partial_fit`` calls it made."""
    from mltrail._entities import RunTag
    from mltrail.sklearn.shared import _background

    loop = event.loop
    _background.client_of(loop.run_id).log_batch(
        loop.run_id, tags=[RunTag(PARTIAL_FIT_CALLS_TAG, str(loop.step))]
    )


def log_training_data(event: LoopEnded) -> None:
    """Log the training data of a complete loop as a run input."""
    from mltrail.sklearn.shared import _background

    if event.has_record:
        loop = event.loop
        _log_training_data(loop, _background.client_of(loop.run_id))


def queue_model(event: LoopEnded) -> None:
    """Queue the model and the package list of a complete loop."""
    from mltrail.sklearn.shared import _background, _model, _snapshot

    loop = event.loop
    if not event.has_record:
        return
    config = loop.config
    model = example = None
    if getattr(config, "log_models", True):
        model, example = _snapshot.snapshot(loop.estimator), loop.example
    run_id = loop.run_id

    def files() -> list[tuple[str, bytes]]:
        if model is not None:
            _model.log_model(run_id, config, model, example)
        return [(_model.PACKAGES_ARTIFACT, _model.packages_text().encode())]

    _background.submit(run_id, files, name="model", reads=loop.estimator)
