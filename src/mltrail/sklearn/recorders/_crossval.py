"""Cross-validation functions: fold scores and out-of-fold suites, in one run.

``cross_validate`` and ``cross_val_score`` log, per metric, ``cv_<metric>_fold`` once
per fold (step = fold index: a history whose latest value is the last fold, named so
that nobody takes it for the summary), ``cv_<metric>_mean`` and ``cv_<metric>_std``
(population standard deviation, as ``cv_results_``). ``<metric>`` is the scorer's name:
``score`` for the estimator's default scorer, the string given as ``scoring``, the
function name of a callable scorer, or each key of a multi-metric ``scoring``;
``train_<name>`` for training scores, and ``fit_time`` and ``score_time``.
``cross_val_predict`` logs the held-out suite of its out-of-fold predictions as
``cv_<metric>`` (``cv_accuracy``, ``cv_r2``, ...) and their plots as ``plots/cv_*``.

Where: into the active run. With no active run, the call gets a run of its own,
tagged like an autolog run (plus ``mlflow.mltrail.cross_validation`` = the function's
name) and holding the estimator's params; it ends ``FINISHED``, or ``FAILED`` if the
call raises (the exception propagates unchanged). With ``autolog(exclusive=True)``
and an active run, nothing is logged. The folds' own fits log nothing (the core
runs them inside a training session), and neither does a cross-validation called
inside a fit or inside another cross-validation.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

from mltrail._system_tags import AUTOLOGGING_TAG, CROSS_VALIDATION_TAG
from mltrail.sklearn.shared import _fit, _models, _state

__all__ = ["CROSS_VALIDATION_TAG", "CV_PREFIX", "call"]

CV_PREFIX = "cv"
FOLD_SUFFIX = "_fold"
_TIMES = ("fit_time", "score_time")

# Set during a logged cross_val_score: the cross_validate it calls hands its
# result here, so that fit and score times are logged too.
_sink: ContextVar[list[Any] | None] = ContextVar("mltrail_cv_sink", default=None)


@functools.cache
def _signature(function: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(function)


def call(
    name: str,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run ``function(*args, **kwargs)`` (the function ``name``) and log its results."""
    sink = _sink.get()
    if sink is not None:
        result = function(*args, **kwargs)
        if name == "cross_validate":
            sink.append(result)
        return result
    if not _models.is_listening():
        return function(*args, **kwargs)
    try:
        bound = _signature(function).bind(*args, **kwargs)
    except TypeError:
        return function(*args, **kwargs)  # raises the user's error itself
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    try:
        target = _target_run(name, arguments)
    except Exception as exc:  # autolog must never break the user's call
        _models.warn(exc, "your call runs untracked")
        return function(*args, **kwargs)
    if target is None:
        return _run_quietly(function, args, kwargs, [])
    run_id, is_owned = target
    captured: list[Any] = []
    try:
        result = _run_quietly(function, args, kwargs, captured)
    except BaseException:
        if is_owned:
            _end(run_id, "FAILED", "your call raised; its error propagates")
        raise
    try:
        with _state.quiet():
            _log(name, arguments, result, captured, run_id)
    except Exception as exc:  # autolog must never break the user's call
        _models.warn(exc)
    if is_owned:
        _end(run_id, "FINISHED")
    return result


def _run_quietly(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    captured: list[Any],
) -> Any:
    """Call ``function`` inside a training session, with the hooks quiet.

    No fit in it (folds, the label encoder of ``cross_val_predict``) logs a run.
    """
    from mltrail.sklearn.shared import _state

    fit_token = _state.in_fit.set(True)
    quiet_token = _state.busy.set(True)
    sink_token = _sink.set(captured)
    try:
        return function(*args, **kwargs)
    finally:
        _sink.reset(sink_token)
        _state.busy.reset(quiet_token)
        _state.in_fit.reset(fit_token)


def _target_run(name: str, arguments: dict[str, Any]) -> tuple[str, bool] | None:
    """Return (run id, whether we own it), or None when nothing is to be logged.

    The record is the same in the user's run and in a run of its own: params,
    tags, code, environment, pipeline and the data, written here. A user's run
    that holds another estimator's params gives the call a child run.
    """
    from mltrail.sklearn.recorders import _logging
    from mltrail.sklearn.shared import _runs, _state

    config = _state.settings
    assert config is not None  # noqa: S101 - checked by is_listening
    estimator = arguments["estimator"]
    problems: list[str] = []
    try:
        params = _fit.estimator_params(estimator)
    except Exception as exc:  # autolog must never break the user's call
        problems.append(f"params: {type(exc).__name__}: {exc}")
        params = {}
    tags = {
        AUTOLOGGING_TAG: "sklearn",
        CROSS_VALIDATION_TAG: name,
        **_fit.estimator_tags(estimator),
        **config.extra_tags,
    }
    active = _runs.active_run_id()
    if active is not None and config.exclusive:
        return None
    if active is not None and _state.claim_run(
        active, estimator, params, is_model=False
    ):
        run_id, is_owned = active, False
    else:
        run_id, is_owned = _runs.start_run(tags, nested=active is not None), True
    problems += _logging.record_estimator(
        run_id,
        config,
        estimator,
        params,
        arguments.get("X"),
        arguments.get("y"),
        {CROSS_VALIDATION_TAG: name},
    )
    if problems:
        _models.warn(RuntimeError("; ".join(problems)), "your call goes on")
    return run_id, is_owned


def _end(run_id: str, status: str, outcome: str = "your call itself succeeded") -> None:
    from mltrail.sklearn.shared import _runs

    try:
        _runs.end_run(run_id, status)
    except Exception as exc:  # autolog must never break the user's call
        _models.warn(exc, outcome)


def scorer_name(scoring: Any) -> str:
    """Return the name of a single-metric ``scoring`` argument."""
    if scoring is None:
        return "score"
    if isinstance(scoring, str):
        return scoring
    function = getattr(scoring, "_score_func", scoring)
    return str(getattr(function, "__name__", "score"))


def fold_metrics(result: Mapping[str, Any], scoring: Any) -> dict[str, list[float]]:
    """Return per-fold values by metric name from a ``cross_validate`` result."""
    is_single = scoring is None or isinstance(scoring, str) or callable(scoring)
    single = scorer_name(scoring) if is_single else None
    metrics: dict[str, list[float]] = {}
    for key, values in result.items():
        if key in _TIMES:
            metric = key
        elif key.startswith("test_"):
            metric = single if key == "test_score" and single else key[len("test_") :]
        elif key.startswith("train_"):
            rest = key[len("train_") :]
            metric = f"train_{single}" if rest == "score" and single else key
        else:
            continue  # "estimator", "indices"
        metrics[metric] = [float(value) for value in values]
    return metrics


def _log(
    name: str,
    arguments: dict[str, Any],
    result: Any,
    captured: list[Any],
    run_id: str,
) -> None:
    if name == "cross_val_predict":
        _log_predictions(arguments, result, run_id)
        return
    if name == "cross_validate":
        folds = fold_metrics(result, arguments.get("scoring"))
    elif captured:
        folds = fold_metrics(captured[-1], arguments.get("scoring"))
    else:  # pragma: no cover - cross_val_score always calls cross_validate
        folds = {scorer_name(arguments.get("scoring")): [float(v) for v in result]}
    _log_folds(run_id, folds)


def _log_folds(run_id: str, folds: Mapping[str, list[float]]) -> None:
    import numpy as np

    from mltrail._entities import Metric
    from mltrail.sklearn.shared import _runs

    now = int(time.time() * 1000)
    points: list[Metric] = []
    for metric, values in folds.items():
        key = f"{CV_PREFIX}_{metric}"
        points.extend(
            Metric(f"{key}{FOLD_SUFFIX}", v, now, step) for step, v in enumerate(values)
        )
        points.append(Metric(f"{key}_mean", float(np.mean(values)), now, 0))
        points.append(Metric(f"{key}_std", float(np.std(values)), now, 0))
    _runs._client().log_batch(run_id, metrics=points)  # one write, synchronous


def _log_predictions(arguments: dict[str, Any], result: Any, run_id: str) -> None:
    """Log the held-out suite of ``cross_val_predict``'s out-of-fold predictions."""
    import numpy as np

    from mltrail.sklearn.shared import _runs
    from mltrail.sklearn.shared._evaluate import (
        Outputs,
        log_evaluation,
        model_kind,
        model_name,
        suite,
    )

    y = arguments.get("y")
    kind = model_kind(arguments["estimator"])
    if y is None or kind not in ("classifier", "regressor"):
        return
    method = arguments.get("method", "predict")
    outputs = Outputs(kind, model=model_name(arguments["estimator"]))
    if kind == "classifier" and method != "predict":
        y_true = np.asarray(y)
        classes = np.unique(y_true)  # cross_val_predict's column order
        score = np.asarray(result)
        if y_true.ndim != 1:
            return  # multi-output: no suite
        if score.ndim == 2 and score.shape[1] == len(classes):
            y_pred = classes.take(score.argmax(axis=1), axis=0)
        elif score.ndim == 1 and len(classes) == 2:  # binary decision_function
            y_pred = classes.take((score > 0).astype(np.intp), axis=0)
        else:
            return
        outputs.classes = classes
        outputs.add(method, result)
        outputs.y_pred = y_pred
    elif method == "predict" and (kind == "regressor" or np.ndim(result) == 1):
        outputs.y_pred = result
    else:
        return
    label = _models.pos_label()
    metrics = suite(outputs, arguments.get("X"), y, pos_label=label)
    log_evaluation(
        _runs._client(),
        run_id,
        CV_PREFIX,
        metrics,
        outputs=outputs,
        y_true=y,
        pos_label=label,
    )
