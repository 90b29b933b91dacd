"""Held-out evaluation with no code: splits, models and predictions, remembered.

What is kept, all bounded and behind one lock (the splits live in ``_splits``, the
estimators whose top-level fit autolog logged, with their run and the digest of
their training X, in ``_models``):

- one evaluation per (fit, dataset digest): its name, labels and the predictions the
  suite needs until the labels are known; at most ``PENDING_HISTORY`` evaluations
  hold predictions at once;
- the last ``PREDICTION_HISTORY`` prediction outputs, by identity (weak reference)
  and by a fingerprint of their content, so a ``sklearn.metrics`` call on them, or on
  a copy, is recognised.

The events it hears, from the patches through the session: ``Predicted`` and
``Scored`` (``predict``, ``predict_proba``, ``predict_log_proba``,
``decision_function`` and ``score`` of a logged model), ``MetricComputed``,
``SplitMade``, ``FitEnded`` (the model joins ``_models``) and ``LoopEnded``.
Nothing is logged inside a fit, inside a call of a patched method or function, or
while this module runs its own predictions (the ``busy`` context variable).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import threading
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mltrail.sklearn.shared import _models, _state

if TYPE_CHECKING:
    from mltrail.sklearn.shared._events import (
        FitEnded,
        LoopEnded,
        MetricComputed,
        Predicted,
        Scored,
        SplitMade,
    )
from mltrail.sklearn.shared import _splits as _split_records

__all__ = [
    "METHODS",
    "busy",
    "configure",
    "on_fit_ended",
    "on_loop_ended",
    "on_metric_call",
    "on_metric_computed",
    "on_predict",
    "on_predicted",
    "on_score",
    "on_scored",
    "on_split",
    "on_split_made",
    "quiet",
    "remember_evaluation",
    "reset",
]

PENDING_HISTORY = 16
PREDICTION_HISTORY = 64
EVALUATION_HISTORY = 1024
PREDICTION_METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
)
METHODS = (*PREDICTION_METHODS, "score")
# Parameters of sklearn.metrics functions that hold predictions, by priority.
PREDICTION_PARAMETERS = (
    "y_pred",
    "y_score",
    "y_proba",
    "y_prob",
    "probas_pred",
    "pred_decision",
    "labels_pred",
    "y2",
    "labels",
)
TRUTH_PARAMETERS = ("y_true", "labels_true", "y1")
PATCH_MARKER = _state.PATCH_MARKER

busy = _state.busy
quiet = _state.quiet
# Called by the recorders below, two frames under the patch: the session's dispatch
# and the event's recorder.
_warn = functools.partial(_models.warn, stacklevel=_models.WARN_STACKLEVEL + 2)
_is_number = _state.is_number


@dataclass(slots=True)
class _Evaluation:
    """One model on one dataset: where its metrics go, and what they need."""

    model: _models.Model
    digest: str
    name: str
    lineage: Any = None
    y_true: Any = None
    X_ref: Any = None
    outputs: Any = None
    is_logged: bool = False


_lock = threading.RLock()
_evaluations: OrderedDict[tuple[int, str], _Evaluation] = OrderedDict()
_pending: OrderedDict[tuple[int, str], None] = OrderedDict()
# id(output) -> (weak reference or None, evaluation key)
_predictions: OrderedDict[int, tuple[Any, tuple[int, str]]] = OrderedDict()
# content fingerprint -> (length, evaluation key)
_fingerprints: OrderedDict[str, tuple[int, tuple[int, str]]] = OrderedDict()
# (run id, metric key) -> the next step of a user's metric call
_steps: dict[tuple[str, str], int] = {}
# (run id, digest) of the held-out datasets already logged as run inputs
_inputs: OrderedDict[tuple[str, str], None] = OrderedDict()
# run id -> {dataset name: plot job} of a partial_fit loop, drawn at its end
_loop_plots: dict[str, dict[str, Callable[[], Any]]] = {}


# Settings ---------------------------------------------------------------------------


def configure(
    *, log_evaluation: bool = True, eval_names: Mapping[str, Any] | None = None
) -> None:
    """Set the held-out options of ``autolog()``; call it before patching.

    ``eval_names`` maps a dataset name to its ``X``, or to ``(X, y)`` so that its
    labels are known too: predictions on those rows (or a subset or permutation of
    them) log ``<name>_<metric>``. Only row hashes and labels are kept.
    """
    _split_records.name_datasets(eval_names)
    _models.configure(log_evaluation=log_evaluation)


def reset() -> None:
    """Forget every split, model, evaluation and prediction; back to the defaults."""
    _split_records.reset()
    _models.reset()
    with _lock:
        _evaluations.clear()
        _pending.clear()
        _predictions.clear()
        _fingerprints.clear()
        _steps.clear()
        _inputs.clear()
        _loop_plots.clear()


# Splits -----------------------------------------------------------------------------


def on_split_made(event: SplitMade) -> None:
    """Record the parts of a finished ``train_test_split``."""
    on_split(event.arrays, event.options, event.result)


def on_split(args: tuple[Any, ...], kwargs: Mapping[str, Any], result: Any) -> None:
    """Record a finished ``train_test_split(*args, **kwargs)`` that returned ``result``.

    The X-like arrays are the 2-D ones; the labels are the first 1-D array after the
    first X-like (with two arrays, the second one, whatever its shape). Records
    unconditionally: the patched ``train_test_split`` checks ``_models.is_listening``.
    """
    try:
        with quiet():
            _split_records.record(args, kwargs, result)
    except Exception as exc:  # autolog must never break the user's call
        _warn(exc)


# Models -----------------------------------------------------------------------------


def on_fit_ended(event: FitEnded) -> None:
    """Let predictions of the fitted model on held-out data log their metrics."""
    _models.on_fit_end(event.estimator, event.run_id, event.X, event.y)


def on_loop_ended(event: LoopEnded) -> None:
    """Draw the held-out plots of a ``partial_fit`` loop's last evaluations."""
    if event.has_record:
        submit_loop_plots(event.loop.run_id)


def submit_loop_plots(run_id: str) -> None:
    """Draw the held-out plots of a partial_fit loop's last evaluations."""
    from mltrail.sklearn.shared import _background

    with _lock:
        jobs = _loop_plots.pop(run_id, {})
    for name, job in jobs.items():
        _background.submit(run_id, job, name=f"{name} evaluation plots")


# Predictions ------------------------------------------------------------------------


def on_predicted(event: Predicted) -> None:
    """Record a logged model's prediction; log the suite if labels are known."""
    on_predict(event.estimator, event.method, event.X, event.output, event.extra)


def on_scored(event: Scored) -> None:
    """Record a logged model's ``score``: labels for the suite, and a metric."""
    on_score(event.estimator, event.X, event.y, event.result, event.extra)


def on_predict(
    estimator: Any,
    method: str,
    X: Any,
    output: Any,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Record ``output = estimator.<method>(X)``; log the suite if labels are known.

    Call it after the original method returned, outside the ``busy`` guard.
    ``extra`` holds outputs of other methods the call computed on the same X.
    """
    if not _models.is_listening():
        return
    model = _models.model_of(estimator)
    if model is None or X is None:
        return
    try:
        with quiet():
            _observe(model, estimator, method, X, output, extra=extra)
    except Exception as exc:  # autolog must never break the user's call
        _warn(exc)


def on_score(
    estimator: Any,
    X: Any,
    y: Any,
    result: Any,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Record ``result = estimator.score(X, y)``: labels for the suite, and a metric.

    Logs ``<dataset>_score`` besides the suite. Call it after the original method.
    """
    if not _models.is_listening():
        return
    model = _models.model_of(estimator)
    if model is None or X is None:
        return
    try:
        with quiet():
            evaluation = _observe(model, estimator, "score", X, None, y, extra)
            if evaluation is not None and _is_number(result):
                _log_metric(evaluation, "score", float(result))
    except Exception as exc:  # autolog must never break the user's call
        _warn(exc)


def _observe(
    model: _models.Model,
    estimator: Any,
    method: str,
    X: Any,
    output: Any,
    y: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> _Evaluation | None:
    """Find or start the evaluation of X; log its suite once labels are known."""
    import numpy as np

    from mltrail.capture._datasets import dataset_digest
    from mltrail.sklearn.shared._evaluate import (
        TEST_NAME,
        Outputs,
        complete_outputs,
        model_name,
    )

    if model.kind is None:
        return None
    digest = dataset_digest(X)
    if digest == model.train_digest:
        return None
    key = (model.serial, digest)
    with _lock:
        evaluation = _evaluations.get(key)
    if evaluation is None:
        name, labels, lineage = _split_records.find(X, digest)
        evaluation = _Evaluation(
            model, digest, name or TEST_NAME, lineage=lineage, y_true=labels
        )
        evaluation.outputs = Outputs(model.kind, model=model_name(estimator))
        _start(key, evaluation)
    if output is not None:
        _remember_prediction(output, key)
    if evaluation.is_logged or evaluation.outputs is None:
        return evaluation
    if output is not None:
        evaluation.outputs.add(method, output)
    for other, value in (extra or {}).items():
        evaluation.outputs.add(other, value)
    if y is not None and evaluation.y_true is None:
        evaluation.y_true = np.asarray(y)
    with warnings.catch_warnings():
        # Our extra predictions repeat the user's; their warnings did reach the user.
        warnings.simplefilter("ignore")
        complete_outputs(estimator, X, evaluation.outputs)
    if evaluation.y_true is not None or model.kind == "clusterer":
        _log_suite(evaluation, X)
    else:
        try:
            evaluation.X_ref = weakref.ref(X)
        except TypeError:
            evaluation.X_ref = None
    return evaluation


def _start(key: tuple[int, str], evaluation: _Evaluation) -> None:
    with _lock:
        _evaluations[key] = evaluation
        while len(_evaluations) > EVALUATION_HISTORY:
            _evaluations.popitem(last=False)
        _pending[key] = None
        while len(_pending) > PENDING_HISTORY:
            old, _ = _pending.popitem(last=False)
            dropped = _evaluations.get(old)
            if dropped is not None and not dropped.is_logged:
                dropped.outputs = dropped.X_ref = None


def _log_suite(evaluation: _Evaluation, X: Any) -> None:
    """Log the suite of a pending evaluation once; then drop what it held."""
    from mltrail.sklearn.shared._evaluate import (
        log_evaluation,
        plot_job,
        suite,
        wants_plots,
    )

    key = (evaluation.model.serial, evaluation.digest)
    with _lock:
        if evaluation.is_logged:
            return
        evaluation.is_logged = True
        _pending.pop(key, None)
    outputs, y_true = evaluation.outputs, evaluation.y_true
    evaluation.outputs = evaluation.X_ref = None
    label = _models.pos_label()
    metrics = suite(outputs, X, y_true, pos_label=label)
    model = evaluation.model
    input_key = (model.run_id, evaluation.digest)
    with _lock:
        is_new_input = input_key not in _inputs
        _inputs[input_key] = None
        while len(_inputs) > EVALUATION_HISTORY:
            _inputs.popitem(last=False)
    log_evaluation(
        model.client,
        model.run_id,
        evaluation.name,
        metrics,
        outputs=outputs,
        X=X if is_new_input else None,
        y_true=y_true,
        lineage=evaluation.lineage,
        pos_label=label,
        step=model.step or 0,
        is_deferred=True,
        with_plots=model.step is None,
    )
    if model.step is not None and wants_plots():
        job = plot_job(outputs, y_true, evaluation.name, label)
        if job is not None:
            with _lock:
                _loop_plots.setdefault(model.run_id, {})[evaluation.name] = job


def remember_evaluation(
    model: Any, X: Any, name: str, run_id: str, client: Any
) -> None:
    """Mark ``model`` on X as evaluated under ``name`` (by ``mltrail.evaluate``).

    Later metric calls on this autologged model's predictions of X log
    ``<name>_<function>``, and no second suite is logged for X.
    """
    from mltrail.capture._datasets import dataset_digest

    known = _models.model_of(model)
    if known is None:
        return
    digest = dataset_digest(X)
    evaluation = _Evaluation(known, digest, name, is_logged=True)
    with _lock:
        _evaluations[(known.serial, digest)] = evaluation
        _pending.pop((known.serial, digest), None)


# Metric calls -----------------------------------------------------------------------


def _fingerprint(value: Any) -> tuple[int, str] | None:
    """Return ``(length, digest of the values)`` of a 1-D or 2-D array-like."""
    import numpy as np
    import pandas as pd

    array = np.asarray(value)
    if array.ndim not in (1, 2) or array.size == 0:
        return None
    if array.dtype.kind in "biuf":
        data = np.ascontiguousarray(array, dtype=np.float64).tobytes()
    else:
        data = pd.util.hash_array(array.astype(object).ravel()).tobytes()
    digest = hashlib.blake2b(data, digest_size=16)
    digest.update(str(array.shape).encode())
    return len(array), digest.hexdigest()


def _remember_prediction(output: Any, key: tuple[int, str]) -> None:
    try:
        ref: Any = weakref.ref(output)
    except TypeError:
        ref = None
    found = _fingerprint(output)
    with _lock:
        _predictions[id(output)] = (ref, key)
        _predictions.move_to_end(id(output))
        while len(_predictions) > PREDICTION_HISTORY:
            _predictions.popitem(last=False)
        if found is not None:
            length, digest = found
            _fingerprints[digest] = (length, key)
            _fingerprints.move_to_end(digest)
            while len(_fingerprints) > PREDICTION_HISTORY:
                _fingerprints.popitem(last=False)


def _tracked(value: Any) -> _Evaluation | None:
    """Return the evaluation whose prediction ``value`` is (or copies, or slices)."""
    with _lock:
        for candidate in (value, getattr(value, "base", None)):
            if candidate is None:
                continue
            entry = _predictions.get(id(candidate))
            if entry is not None and entry[0] is not None and entry[0]() is candidate:
                return _evaluations.get(entry[1])
        lengths = {length for length, _ in _fingerprints.values()}
    try:
        length = len(value)
    except TypeError:
        return None
    if length not in lengths:
        return None
    found = _fingerprint(value)
    if found is None:
        return None
    with _lock:
        entry2 = _fingerprints.get(found[1])
        return None if entry2 is None else _evaluations.get(entry2[1])


@functools.cache
def _parameters(function_name: str) -> tuple[str, ...]:
    """Return the parameter names of ``sklearn.metrics.<function_name>``."""
    import sklearn.metrics

    function = getattr(sklearn.metrics, function_name)
    return tuple(inspect.signature(function).parameters)


def _argument(
    parameters: tuple[str, ...],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    name: str,
) -> Any:
    if name in kwargs:
        return kwargs[name]
    index = parameters.index(name)
    return args[index] if index < len(args) else None


def on_metric_computed(event: MetricComputed) -> None:
    """Log a metric computed on a followed prediction; it may complete a suite."""
    on_metric_call(event.name, event.args, event.kwargs, event.result)


def on_metric_call(
    function_name: str,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    result: Any,
) -> None:
    """Log ``<dataset>_<function_name>`` when a metric was computed on our predictions.

    Call it after ``sklearn.metrics.<function_name>(*args, **kwargs)`` returned
    ``result``, outside the ``busy`` guard. Its ``y_true`` supplies the labels of a
    suite still waiting for them.
    """
    if not _predictions or not _is_number(result) or not _models.is_listening():
        return
    try:
        with quiet():
            _record_metric_call(function_name, args, kwargs, float(result))
    except Exception as exc:  # autolog must never break the user's call
        _warn(exc)


def _record_metric_call(
    function_name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any], value: float
) -> None:
    import numpy as np

    parameters = _parameters(function_name)
    evaluation = None
    for name in PREDICTION_PARAMETERS:
        if name in parameters:
            argument = _argument(parameters, args, kwargs, name)
            if argument is not None:
                evaluation = _tracked(argument)
                if evaluation is not None:
                    break
    if evaluation is None:
        return
    if not evaluation.is_logged and evaluation.outputs is not None:
        truth = next(
            (
                _argument(parameters, args, kwargs, name)
                for name in TRUTH_PARAMETERS
                if name in parameters
            ),
            None,
        )
        if truth is not None:
            evaluation.y_true = np.asarray(truth)
            X = None if evaluation.X_ref is None else evaluation.X_ref()
            _log_suite(evaluation, X)
    _log_metric(evaluation, function_name, value)


def _log_metric(evaluation: _Evaluation, function_name: str, value: float) -> None:
    """Log one metric of the user's; a repeated key gets the next step."""
    from mltrail.sklearn.shared._runs import add_metrics

    key = f"{evaluation.name}_{function_name}"
    run_id = evaluation.model.run_id
    with _lock:
        step = _steps.get((run_id, key), 0)
        _steps[(run_id, key)] = step + 1
    if evaluation.model.step is not None:
        step = evaluation.model.step  # a partial_fit loop: the step of its last call
    add_metrics(evaluation.model.client, run_id, {key: value}, step=step)
