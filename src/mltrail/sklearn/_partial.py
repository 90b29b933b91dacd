"""Incremental training: one run for a whole ``partial_fit`` loop, a step per call.

The first ``partial_fit`` of an estimator starts a *loop*. With no active run the
loop owns a run of its own (created through the client, so it never becomes the
active run and the user's ``start_run`` still works); with an active run it logs
into that run and never ends it. Each call logs, at step = call index, the batch
size and what the estimator exposes afterwards (``loss_``, ``n_iter_``, ``t_``, the
score on the batch when y is given), through the metric buffer. The loop ends, and
its model is logged, when the next unrelated fit starts (a ``fit``, or
``partial_fit`` of another estimator, or into another run), when
:func:`end_partial_loops` is called (the end of the user's run), or at exit.
"""

from __future__ import annotations

import atexit
import functools
import threading
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mltrail._errors import MltrailWarning
from mltrail._system_tags import AUTOLOGGING_TAG, PARTIAL_FIT_CALLS_TAG

__all__ = [
    "PARTIAL_FIT_METRICS",
    "end_partial_loops",
    "run_partial_fit",
    "wrap_partial_fit",
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
_WARN_STACKLEVEL = 4

_lock = threading.RLock()
_exit_registered = False


@dataclass(slots=True)
class _Loop:
    """One ``partial_fit`` loop: its estimator, run and progress."""

    estimator: Any
    run_id: str
    is_owned: bool
    config: Any
    step: int = 0
    example: Any = None
    problems: list[str] = field(default_factory=list)


_loop: _Loop | None = None


def _warn(problems: list[str], config: Any) -> None:
    if problems and not getattr(config, "silent", False):
        warnings.warn(
            "mltrail autologging failed to log part of this partial_fit (the call "
            "itself succeeded): " + "; ".join(problems),
            MltrailWarning,
            stacklevel=_WARN_STACKLEVEL,
        )


def wrap_partial_fit(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return the patched form of a ``partial_fit`` function."""
    from mltrail.sklearn import _patch, _session

    def patched_partial_fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _session.settings is None or _session.in_fit.get() is not None:
            return function(self, *args, **kwargs)
        if _session.is_called_by_library():
            return _session.run_quietly(function, self, args, kwargs)
        return run_partial_fit(function, self, args, kwargs)

    functools.update_wrapper(patched_partial_fit, function)
    setattr(patched_partial_fit, _patch.PATCH_MARKER, True)
    return patched_partial_fit


def run_partial_fit(
    function: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run one top-level ``partial_fit`` call and log it as a step of its loop."""
    from mltrail.sklearn import _session

    config = _session.settings
    if config is None or not getattr(config, "log_partial_fit", True):
        return function(estimator, *args, **kwargs)
    problems: list[str] = []
    loop = None
    try:
        loop = _loop_for(estimator, config, problems)
    except Exception as exc:  # autolog must never break the user's partial_fit
        problems.append(f"starting the run: {type(exc).__name__}: {exc}")
    token = _session.in_fit.set(True)
    try:
        result = function(estimator, *args, **kwargs)
    except BaseException as exc:
        if loop is not None:
            _fail(loop, exc)
        raise
    finally:
        _session.in_fit.reset(token)
    if loop is not None:
        try:
            _log_step(loop, function, args, kwargs)
        except Exception as exc:  # autolog must never break the user's partial_fit
            problems.append(f"logging: {type(exc).__name__}: {exc}")
    _warn(problems, config)
    return result


def _loop_for(estimator: Any, config: Any, problems: list[str]) -> _Loop | None:
    """Return the loop this call belongs to, ending the previous one if unrelated."""
    global _loop
    from mltrail.sklearn import _runs

    active = _runs.active_run_id()
    with _lock:
        loop = _loop
        if loop is not None and loop.estimator is estimator:
            is_owned_run = active is None and loop.is_owned
            if is_owned_run or active == loop.run_id:
                return loop
        if loop is not None:
            _loop = None
            problems.extend(_end(loop, "FINISHED"))
        if active is not None and getattr(config, "exclusive", False):
            return None
        _loop = _start(estimator, config, active, problems)
        return _loop


def _start(
    estimator: Any, config: Any, active: str | None, problems: list[str]
) -> _Loop:
    """Create the loop's run (or adopt the active one) and log params and tags."""
    from mltrail._entities import Param, RunTag
    from mltrail.sklearn import _background, _code, _logging, _session, _training
    from mltrail.tracking._context import system_tags
    from mltrail.tracking._runs import active_experiment_id, current_client

    client = current_client()
    tags = {
        AUTOLOGGING_TAG: "sklearn",
        **_training.estimator_tags(estimator),
        **_logging.version_tags(),
        **config.extra_tags,
    }
    if active is None:
        run = client.create_run(
            active_experiment_id(client), tags={**system_tags(), **tags}
        )
        loop = _Loop(estimator, str(run.info.run_id), True, config)
    else:
        _session.claim_run(
            active, estimator, _training.estimator_params(estimator), is_model=True
        )
        loop = _Loop(estimator, active, False, config)
        client.log_batch(active, tags=[RunTag(k, v) for k, v in tags.items()])
    _background.client_of(loop.run_id)
    _register_exit()
    params = _training.estimator_params(estimator)
    try:
        client.log_batch(loop.run_id, params=[Param(k, v) for k, v in params.items()])
    except Exception as exc:  # a user's run may hold other values already
        problems.append(f"params: {type(exc).__name__}: {exc}")
    problems.extend(_code.on_run_start(loop.run_id, config))
    return loop


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
    loop: _Loop,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Log the batch size and the estimator's progress at step = call index."""
    from sklearn.base import is_classifier, is_regressor

    from mltrail import tracking
    from mltrail.sklearn import _training

    estimator = loop.estimator
    X, y, sample_weight = _training.fit_arguments(function, args, kwargs)
    metrics: dict[str, float] = {}
    if X is not None:
        metrics[BATCH_SIZE_METRIC] = float(_training._n_rows(X))
        if loop.example is None:
            loop.example = _training.head(X)
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


def _fail(loop: _Loop, exc: BaseException) -> None:
    """End the loop of a ``partial_fit`` that raised, FAILED if it owns its run."""
    global _loop
    from mltrail._entities import RunTag
    from mltrail.sklearn import _background, _session

    with _lock:
        if _loop is loop:
            _loop = None
    problems: list[str] = []
    if loop.is_owned:
        text = "".join(traceback.format_exception(exc))
        values = (type(exc).__name__, str(exc), text)
        try:
            _background.client_of(loop.run_id).log_batch(
                loop.run_id,
                tags=[
                    RunTag(k, v)
                    for k, v in zip(_session.ERROR_TAGS, values, strict=True)
                ],
            )
        except Exception as log_exc:  # autolog must never hide the user's error
            problems.append(f"recording the failure: {log_exc}")
    problems.extend(_end(loop, "FAILED", log_model=False))
    _warn(problems, loop.config)


def _end(loop: _Loop, status: str, *, log_model: bool = True) -> list[str]:
    """Flush the loop's points, log its model, and end its run if it owns it."""
    from mltrail._entities import RunTag
    from mltrail.sklearn import _background
    from mltrail.tracking import _buffer

    problems: list[str] = []
    client = _background.client_of(loop.run_id)

    def attempt(name: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as exc:  # autolog must never break the user's program
            problems.append(f"{name}: {type(exc).__name__}: {exc}")

    attempt("metrics", lambda: _flush(_buffer))
    attempt(
        "calls",
        lambda: client.log_batch(
            loop.run_id, tags=[RunTag(PARTIAL_FIT_CALLS_TAG, str(loop.step))]
        ),
    )
    if log_model and loop.step and getattr(loop.config, "log_models", True):
        attempt("model", lambda: _log_model(loop))
    attempt("background jobs", lambda: _background.wait(loop.run_id))
    if loop.is_owned:
        attempt("ending the run", lambda: client.set_terminated(loop.run_id, status))
    return problems


def _flush(buffer_module: Any) -> None:
    errors = buffer_module.flush_all()
    if errors:
        raise errors[0]


def _log_model(loop: _Loop) -> None:
    from mltrail.sklearn import _flavor, _logging

    config = loop.config
    example = loop.example
    signature: Any = False
    if getattr(config, "log_model_signatures", True) and example is not None:
        from mltrail.models import infer_signature

        signature = infer_signature(
            example, _logging._output_for_signature(loop.estimator, example)
        )
    _flavor.log_model(
        loop.estimator,
        "model",
        run_id=loop.run_id,
        serialization_format=getattr(config, "serialization_format", "skops"),
        signature=signature,
        input_example=example if getattr(config, "log_input_examples", True) else None,
    )


def end_partial_loops(run_id: str | None = None) -> None:
    """End the open ``partial_fit`` loop (only if it logs to ``run_id``, when given).

    Call it when a top-level ``fit`` starts (no argument), when a user's run ends
    (its id), and at exit. Failures warn once; nothing raises.
    """
    global _loop
    with _lock:
        loop = _loop
        if loop is None or (run_id is not None and loop.run_id != run_id):
            return
        _loop = None
    _warn(_end(loop, "FINISHED"), loop.config)


def _register_exit() -> None:
    global _exit_registered
    if not _exit_registered:
        _exit_registered = True
        # Registered after the store opened (atexit runs last-in first-out): the
        # loop ends before the tracking layer's own exit handler stops its buffers.
        atexit.register(end_partial_loops)
