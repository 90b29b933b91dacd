"""The fitted models autolog logged, the runs they belong to, and whether to listen.

Several recorders read this: held-out evaluation finds the run of a model that
predicts, MLflow's post-training names find where its metrics go, ``partial_fit``
loops move their model to the step of the last call, and ``mltrail.evaluate``
logs into a model's own run. The estimators are held by weak reference.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from mltrail import _warnings
from mltrail.sklearn.shared import _state

__all__ = [
    "Model",
    "configure",
    "is_listening",
    "is_logged",
    "model_of",
    "model_run",
    "on_fit_end",
    "on_loop_step",
    "pos_label",
    "post_training_run",
    "reset",
    "warn",
]

# The user's call is this many frames above ``warn``.
WARN_STACKLEVEL = 4


@dataclass(slots=True)
class Model:
    """A fitted estimator that autolog logged, and the run it belongs to."""

    serial: int
    ref: Any
    run_id: str
    client: Any
    train_digest: str | None
    kind: str | None
    # A partial_fit loop's model: evaluations log at the step of its last call and
    # leave their plots for the loop's end.
    step: int | None = None


_enabled = True
_lock = threading.RLock()
_serials = itertools.count(1)
_models: dict[int, Model] = {}


def configure(*, log_evaluation: bool = True) -> None:
    """Set autolog's ``log_evaluation`` option: whether predictions are followed."""
    global _enabled
    _enabled = bool(log_evaluation)


def reset() -> None:
    """Forget every model; back to the defaults."""
    global _enabled
    with _lock:
        _enabled = True
        _models.clear()


def is_listening() -> bool:
    """Whether a call now should be recorded: autolog on, outside fits and hooks."""
    return (
        _enabled
        and _state.settings is not None
        and not _state.busy.get()
        and _state.in_fit.get() is None
    )


def pos_label() -> Any:
    """Return autolog's ``pos_label`` option, if autolog is on."""
    config = _state.settings
    return None if config is None else config.pos_label


def warn(
    exc: BaseException,
    outcome: str = "your call itself succeeded",
    *,
    stacklevel: int = WARN_STACKLEVEL,
) -> None:
    """Warn that logging failed; ``outcome`` says what became of the user's call.

    ``stacklevel`` counts from the caller of this function, as ``warnings.warn``.
    """
    config = _state.settings
    if config is None or not config.silent:
        _warnings.warn(
            f"mltrail could not log a held-out evaluation ({outcome}): "
            f"{type(exc).__name__}: {exc}",
            stacklevel=stacklevel,
        )


def on_fit_end(estimator: Any, run_id: str, X: Any, y: Any = None) -> None:
    """Remember that ``estimator``, just fitted on ``X``, belongs to ``run_id``.

    Call it after a top-level fit logged to ``run_id``, inside or outside the
    training session. ``y`` is accepted for symmetry and not kept.
    """
    if not _enabled or _state.settings is None:
        return
    try:
        _register(estimator, run_id, X)
    except Exception as exc:  # autolog must never break the user's fit
        warn(exc)


def on_loop_step(estimator: Any, run_id: str, step: int) -> None:
    """Let predictions after ``partial_fit`` call ``step`` log at that step.

    Each call makes the model new to held-out evaluation: the next prediction on
    a held-out set logs its suite again, at ``step``.
    """
    if not _enabled or _state.settings is None:
        return
    try:
        _register(estimator, run_id, None, step=step)
    except Exception as exc:  # autolog must never break the user's call
        warn(exc)


def _register(estimator: Any, run_id: str, X: Any, *, step: int | None = None) -> None:
    from mltrail.capture._datasets import dataset_digest
    from mltrail.sklearn.shared._fit import model_kind
    from mltrail.tracking._runs import current_client

    key = id(estimator)

    def forget(ref: Any) -> None:
        with _lock:
            model = _models.get(key)
            if model is not None and model.ref is ref:
                del _models[key]

    ref = weakref.ref(estimator, forget)
    digest = None if X is None else dataset_digest(X)
    model = Model(
        next(_serials),
        ref,
        run_id,
        current_client(),
        digest,
        model_kind(estimator),
        step,
    )
    with _lock:
        _models[key] = model


def model_of(estimator: Any) -> Model | None:
    """Return what autolog knows of this very estimator's logged fit, if anything."""
    model = _models.get(id(estimator))
    if model is None or model.ref() is not estimator:
        return None
    return model


def model_run(estimator: Any) -> tuple[str, Any] | None:
    """Return ``(run_id, client)`` of the fit autolog logged for ``estimator``."""
    model = model_of(estimator)
    return None if model is None else (model.run_id, model.client)


def is_logged(estimator: Any) -> bool:
    """Whether autolog logged a fit of this very object (one dict lookup)."""
    return bool(_models) and id(estimator) in _models


def post_training_run(estimator: Any) -> tuple[str, Any] | None:
    """Return ``(run_id, client)`` where MLflow's names for its metrics go, if any.

    None for a model autolog did not log, or one of a ``partial_fit`` loop.
    """
    model = model_of(estimator)
    if model is None or model.step is not None:
        return None
    return model.run_id, model.client
