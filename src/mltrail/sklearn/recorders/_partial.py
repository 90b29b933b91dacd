"""Incremental training: one run for a whole ``partial_fit`` loop, a step per call.

The first ``partial_fit`` of an estimator starts a *loop*. With no active run the
loop starts a run of its own with the fluent API: it is the active run while the
loop runs (``active_run()``, ``last_active_run()`` and ``log_metric`` reach it), and
a ``start_run()`` of the user's ends the loop first. With an active run of the
user's it logs into that run (or a child of it, if another estimator holds the
run) and never ends it. Each call logs, at step = call index, the batch size and
what the estimator exposes afterwards (``loss_``, ``n_iter_``, ``t_``, the score
on the batch when y is given), through the metric buffer; predictions on held-out
data after a call log the held-out suite at that call's step.

The loop ends when the next unrelated fit starts (a ``fit``, or ``partial_fit`` of
another estimator, or into another run), when the run it logs to ends, when
:func:`end_partial_loops` is called, or at exit. Then it logs what a ``fit``
logs: the training data as a run input (the first batch's schema and profile, the
digest and row count of every batch), the environment, the pipeline, the
estimator's plots, the last held-out plots, the preprocessing its batches went
through, and the model.
"""

from __future__ import annotations

import atexit
import copy
import dataclasses
import functools
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mltrail import _warnings
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
TRAIN_DATASET = "train"
_WARN_STACKLEVEL = 4

_lock = threading.RLock()
_hooks_registered = False


@dataclass(slots=True)
class _Loop:
    """One ``partial_fit`` loop: its estimator, run and progress."""

    estimator: Any
    run_id: str
    is_owned: bool
    config: Any
    step: int = 0
    example: Any = None
    # The training data: the first batch's description, every batch's digest.
    description: Any = None
    digest: Any = field(default_factory=lambda: hashlib.sha1(usedforsecurity=False))
    n_rows: int = 0
    chain: tuple[int, ...] = ()
    problems: list[str] = field(default_factory=list)


_loop: _Loop | None = None


def _warn(problems: list[str], config: Any) -> None:
    if problems and not getattr(config, "silent", False):
        _warnings.warn(
            "mltrail autologging failed to log part of this partial_fit loop (the "
            "calls themselves succeeded): " + "; ".join(problems),
            stacklevel=_WARN_STACKLEVEL,
        )


def wrap_partial_fit(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return the patched form of a ``partial_fit`` function."""
    from mltrail.sklearn.shared import _state

    def patched_partial_fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _state.settings is None or _state.in_fit.get() is not None:
            return function(self, *args, **kwargs)
        if _state.is_called_by_library():
            return _state.run_quietly(function, self, args, kwargs)
        return run_partial_fit(function, self, args, kwargs)

    functools.update_wrapper(patched_partial_fit, function)
    setattr(patched_partial_fit, _state.PATCH_MARKER, True)
    return patched_partial_fit


def run_partial_fit(
    function: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run one top-level ``partial_fit`` call and log it as a step of its loop."""
    from mltrail.sklearn.recorders import _preprocessing
    from mltrail.sklearn.shared import _state

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
            _log_step(loop, function, args, kwargs)
        except Exception as exc:  # autolog must never break the user's partial_fit
            problems.append(f"logging: {type(exc).__name__}: {exc}")
    _warn(problems, config)
    return result


def _loop_for(estimator: Any, config: Any, problems: list[str]) -> _Loop | None:
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
) -> _Loop:
    """Start the loop's run (or adopt the active one) and log params and tags."""
    from mltrail._entities import RunTag
    from mltrail.sklearn.recorders import _code
    from mltrail.sklearn.shared import _background, _fit, _model, _runs, _state

    tags = {
        AUTOLOGGING_TAG: "sklearn",
        **_fit.estimator_tags(estimator),
        **_model.version_tags(),
    }
    params = _fit.estimator_params(estimator)
    if active is not None and _state.claim_run(
        active, estimator, params, is_model=True
    ):
        loop = _Loop(estimator, active, False, config)
    else:
        run_id = _runs.start_run(
            {**tags, **config.extra_tags}, nested=active is not None
        )
        loop = _Loop(estimator, run_id, True, config)
    client = _background.client_of(loop.run_id)
    client.log_batch(loop.run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    _register_hooks()
    try:
        client.log_batch(loop.run_id, params=_runs.params_that_fit(loop.run_id, params))
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


def _add_batch(loop: _Loop, X: Any, y: Any) -> None:
    """Add one batch to the loop's training data: its digest and row count."""
    from mltrail.capture._datasets import dataset_digest
    from mltrail.sklearn.recorders import _extras
    from mltrail.sklearn.shared import _fit, _splits

    if loop.example is None:
        loop.example = copy.deepcopy(_fit.head(X))
        found = _splits.derived_of(X)
        loop.chain = () if found is None else found.chain
        if getattr(loop.config, "log_datasets", True):
            loop.description = _extras.describe_train(loop.estimator, X, y, None)
    loop.digest.update(dataset_digest(X, y).encode())
    loop.n_rows += _fit.n_rows(X)


def _fail(loop: _Loop, exc: BaseException) -> None:
    """End the loop of a ``partial_fit`` that raised, FAILED if it owns its run."""
    global _loop
    from mltrail._entities import RunTag
    from mltrail.sklearn.shared import _background, _state

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


def _end(loop: _Loop, status: str, *, is_complete: bool = True) -> list[str]:
    """Log the loop's record and model, and end its run if it owns it."""
    from mltrail._entities import RunTag
    from mltrail.sklearn.recorders import _heldout
    from mltrail.sklearn.shared import _background

    problems: list[str] = []
    client = _background.client_of(loop.run_id)

    def attempt(name: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as exc:  # autolog must never break the user's program
            problems.append(f"{name}: {type(exc).__name__}: {exc}")

    attempt(
        "calls",
        lambda: client.log_batch(
            loop.run_id, tags=[RunTag(PARTIAL_FIT_CALLS_TAG, str(loop.step))]
        ),
    )
    if is_complete and loop.step:
        attempt("training data", lambda: _log_training_data(loop, client))
        attempt("record", lambda: problems.extend(_record(loop)))
        attempt("held-out plots", lambda: _heldout.submit_loop_plots(loop.run_id))
    if loop.is_owned:
        attempt("ending the run", lambda: _end_run(loop.run_id, status))
    else:
        attempt(
            "background jobs",
            lambda: _background.wait(loop.run_id, renderings=False),
        )
    return problems


def _log_training_data(loop: _Loop, client: Any) -> None:
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


def _record(loop: _Loop) -> list[str]:
    """Log the pipeline, environment, plots, preprocessing and model of the loop."""
    from mltrail.sklearn.recorders import _extras, _preprocessing
    from mltrail.sklearn.shared import _background, _model, _snapshot

    config = loop.config
    problems = _extras.on_fit_end(loop.run_id, loop.estimator, None, None, config)
    _preprocessing.record_chain(loop.run_id, loop.chain, config)
    model = example = None
    if getattr(config, "log_models", True):
        model, example = _snapshot.snapshot(loop.estimator), loop.example
    run_id = loop.run_id

    def files() -> list[tuple[str, bytes]]:
        if model is not None:
            _model.log_model(run_id, config, model, example)
        return [(_model.PACKAGES_ARTIFACT, _model.packages_text().encode())]

    _background.submit(run_id, files, name="model", reads=loop.estimator)
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
