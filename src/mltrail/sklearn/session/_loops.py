"""Incremental training: one run for a whole ``partial_fit`` loop, a step per call.

The first ``partial_fit`` of an estimator starts a *loop*. With no active run the
loop starts a run of its own with the fluent API: it is the active run while the
loop runs (``active_run()``, ``last_active_run()`` and ``log_metric`` reach it), and
a ``start_run()`` of the user's ends the loop first. With an active run of the
user's it logs into that run (or a child of it, if another estimator holds the
run) and never ends it. Each call is a ``PartialFitStep`` for the recorders
(``recorders/_partial``: the step's metrics, the training data).

The loop ends when the next unrelated fit starts (a ``fit``, or ``partial_fit`` of
another estimator, or into another run), when the run it logs to ends, when
:func:`end_partial_loops` is called, or at exit. Then the recorders get
``LoopEnded`` and log what a ``fit`` logs: the training data as a run input, the
environment, the pipeline, the estimator's plots, the last held-out plots, the
preprocessing its batches went through, and the model.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import Any

from mltrail import _warnings
from mltrail._system_tags import AUTOLOGGING_TAG
from mltrail.sklearn.session import _registry
from mltrail.sklearn.shared import _events, _state

__all__ = ["end_partial_loops", "run_partial_fit"]

_WARN_STACKLEVEL = 4

_lock = threading.RLock()
_hooks_registered = False
_loop: _events.PartialFitLoop | None = None


def _warn(problems: list[str], config: Any) -> None:
    if problems and not getattr(config, "silent", False):
        _warnings.warn(
            "mltrail autologging failed to log part of this partial_fit loop (the "
            "calls themselves succeeded): " + "; ".join(problems),
            stacklevel=_WARN_STACKLEVEL,
        )


def run_partial_fit(
    function: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run one top-level ``partial_fit`` call and log it as a step of its loop."""
    from mltrail.sklearn.recorders import _preprocessing

    config = _state.settings
    if config is None or not getattr(config, "log_partial_fit", True):
        return function(estimator, *args, **kwargs)
    if _preprocessing.is_standalone_transformer(estimator):
        # Preprocessing of the loop's batches, not a loop of its own.
        return _state.run_quietly(
            _preprocessing.partial_fit_step(config, function), estimator, args, kwargs
        )
    problems: list[str] = []
    loop = None
    try:
        loop = _loop_for(estimator, config, problems)
    except Exception as exc:  # autolog must never break the user's partial_fit
        problems.append(f"starting the run: {type(exc).__name__}: {exc}")
    token = _state.in_fit.set(True)
    try:
        result = function(estimator, *args, **kwargs)
    except BaseException as exc:
        if loop is not None:
            _fail(loop, exc)
        raise
    finally:
        _state.in_fit.reset(token)
    if loop is not None:
        try:
            step = _events.PartialFitStep(loop, function, args, kwargs)
            _registry.dispatch(step)
        except Exception as exc:  # autolog must never break the user's partial_fit
            problems.append(f"logging: {type(exc).__name__}: {exc}")
    _warn(problems, config)
    return result


def _loop_for(
    estimator: Any, config: Any, problems: list[str]
) -> _events.PartialFitLoop | None:
    """Return the loop this call belongs to, ending the previous one if unrelated."""
    global _loop
    from mltrail.sklearn.shared import _runs

    active = _runs.active_run_id()
    with _lock:
        loop = _loop
        if loop is not None and loop.estimator is estimator and active == loop.run_id:
            return loop
    if loop is not None:
        end_partial_loops()
        active = _runs.active_run_id()  # the loop's own run has ended
    if active is not None and getattr(config, "exclusive", False):
        return None
    new = _start(estimator, config, active, problems)
    with _lock:
        _loop = new
    return new


def _start(
    estimator: Any, config: Any, active: str | None, problems: list[str]
) -> _events.PartialFitLoop:
    """Start the loop's run (or adopt the active one) and log params and tags."""
    from mltrail._entities import RunTag
    from mltrail.sklearn.shared import _background, _fit, _model, _runs

    tags = {
        AUTOLOGGING_TAG: "sklearn",
        **_fit.estimator_tags(estimator),
        **_model.version_tags(),
    }
    params = _fit.estimator_params(estimator)
    if active is not None and _state.claim_run(
        active, estimator, params, is_model=True
    ):
        loop = _events.PartialFitLoop(estimator, active, False, config)
    else:
        run_id = _runs.start_run(
            {**tags, **config.extra_tags}, nested=active is not None
        )
        loop = _events.PartialFitLoop(estimator, run_id, True, config)
    client = _background.client_of(loop.run_id)
    client.log_batch(loop.run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    _register_hooks()
    try:
        client.log_batch(loop.run_id, params=_runs.params_that_fit(loop.run_id, params))
    except Exception as exc:  # a user's run may hold other values already
        problems.append(f"params: {type(exc).__name__}: {exc}")
    _registry.dispatch(_events.RunStarted(loop.run_id, config), problems)
    return loop


def _fail(loop: _events.PartialFitLoop, exc: BaseException) -> None:
    """End the loop of a ``partial_fit`` that raised, FAILED if it owns its run."""
    global _loop
    from mltrail._entities import RunTag
    from mltrail.sklearn.shared import _background

    with _lock:
        if _loop is loop:
            _loop = None
    problems: list[str] = []
    if loop.is_owned:
        try:
            _background.client_of(loop.run_id).log_batch(
                loop.run_id,
                tags=[RunTag(k, v) for k, v in _state.error_tags(exc).items()],
            )
        except Exception as log_exc:  # autolog must never hide the user's error
            problems.append(f"recording the failure: {log_exc}")
    problems.extend(_end(loop, "FAILED", is_complete=False))
    _warn(problems, loop.config)


def _end(
    loop: _events.PartialFitLoop, status: str, *, is_complete: bool = True
) -> list[str]:
    """Log the loop's record and model, and end its run if it owns it."""
    from mltrail.sklearn.shared import _background

    problems: list[str] = []

    def attempt(name: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as exc:  # autolog must never break the user's program
            problems.append(f"{name}: {type(exc).__name__}: {exc}")

    _registry.dispatch(_events.LoopEnded(loop, is_complete), problems)
    if loop.is_owned:
        attempt("ending the run", lambda: _end_run(loop.run_id, status))
    else:
        attempt(
            "background jobs",
            lambda: _background.wait(loop.run_id, renderings=False),
        )
    return problems


def _end_run(run_id: str, status: str) -> None:
    """End the loop's own run: the active one, or by id from another context."""
    from mltrail.sklearn.shared import _runs

    _runs.end_run(run_id, status)


def end_partial_loops(run_id: str | None = None) -> None:
    """End the open ``partial_fit`` loop (only if it logs to ``run_id``, when given).

    Call it when a top-level ``fit`` starts (no argument), when a run ends (its
    id), and at exit. Failures warn once; nothing raises.
    """
    global _loop
    with _lock:
        loop = _loop
        if loop is None or (run_id is not None and loop.run_id != run_id):
            return
        _loop = None
    _warn(_end(loop, "FINISHED"), loop.config)


def _on_user_start() -> None:
    """End a loop whose own run is the active one: the user's run takes its place."""
    from mltrail.sklearn.shared import _runs

    with _lock:
        loop = _loop
    if loop is not None and loop.is_owned and _runs.active_run_id() == loop.run_id:
        end_partial_loops()


def _on_run_end(run_id: str) -> None:
    end_partial_loops(run_id)


def _register_hooks() -> None:
    global _hooks_registered
    if _hooks_registered:
        return
    from mltrail.tracking import _pending

    _hooks_registered = True
    _pending.register_start(_on_user_start)
    _pending.register_end(_on_run_end)
    # Registered after the store opened (atexit runs last-in first-out): the
    # loop ends before the tracking layer's own exit handler stops its buffers.
    atexit.register(end_partial_loops)
