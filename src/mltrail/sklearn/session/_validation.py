"""Cross-validation functions: which run a call logs to, and the call itself.

Where: into the active run. With no active run, the call gets a run of its own,
tagged like an autolog run (plus ``mlflow.mltrail.cross_validation`` = the function's
name) and holding the estimator's params; it ends ``FINISHED``, or ``FAILED`` if the
call raises (the exception propagates unchanged). With ``autolog(exclusive=True)``
and an active run, nothing is logged. The folds' own fits log nothing (they run
inside a training session), and neither does a cross-validation called inside a
fit or inside another cross-validation. Before the call, the run gets
``RunStarted`` and ``EstimatorUsed``; after it, ``CrossValidated`` (what the
recorders make of it: ``recorders/_crossval``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from mltrail._system_tags import AUTOLOGGING_TAG, CROSS_VALIDATION_TAG
from mltrail.sklearn.session import _registry
from mltrail.sklearn.shared import _events, _fit, _models, _state

__all__ = ["call"]

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
            _registry.dispatch(
                _events.CrossValidated(name, arguments, result, captured, run_id)
            )
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
    _registry.dispatch(_events.RunStarted(run_id, config), problems)
    used = _events.EstimatorUsed(
        run_id,
        config,
        estimator,
        params,
        arguments.get("X"),
        arguments.get("y"),
        {CROSS_VALIDATION_TAG: name},
    )
    _registry.dispatch(used, problems)
    if problems:
        _models.warn(RuntimeError("; ".join(problems)), "your call goes on")
    return run_id, is_owned


def _end(run_id: str, status: str, outcome: str = "your call itself succeeded") -> None:
    from mltrail.sklearn.shared import _runs

    try:
        _runs.end_run(run_id, status)
    except Exception as exc:  # autolog must never break the user's call
        _models.warn(exc, outcome)
