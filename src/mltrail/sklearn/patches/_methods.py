"""The patched prediction methods of estimators that autolog logged.

``predict``, ``predict_proba``, ``predict_log_proba``, ``decision_function`` and
``score`` report what they computed to the held-out recorder (``_heldout``) and to
MLflow's post-training names (``_post_training``); estimators autolog did not fit
pass straight through.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

from mltrail.sklearn.recorders import _heldout, _post_training
from mltrail.sklearn.shared import _models, _state

__all__ = ["wrap_method"]

# (estimator, X, outputs by method) of the hooked method call running now.
_capture: ContextVar[tuple[Any, Any, dict[str, Any]] | None] = ContextVar(
    "mltrail_heldout_capture", default=None
)


def wrap_method(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``function`` (the method ``name`` of an estimator class) with the hook.

    The original runs with the hooks quiet (a ``score`` calling ``predict`` and
    ``accuracy_score`` records nothing), then :func:`on_predict` or :func:`on_score`
    sees its result. Estimators that autolog did not fit cost one dict lookup.
    """

    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _models.is_logged(self):
            return function(self, *args, **kwargs)
        X = args[0] if args else kwargs.get("X")
        outer = _capture.get()
        if outer is not None:
            # Nested in a hooked call: keep what the model computes on the same X
            # (forests' predict calls predict_proba), so we need not call it again.
            # Only the instance's own method called on X alone says what it returns:
            # XGBoost's and LightGBM's predict_proba call their base class's
            # predict, which returns probabilities, not labels.
            result = function(self, *args, **kwargs)
            if (
                outer[0] is self
                and outer[1] is X
                and name != "score"
                and _is_plain_call(args, kwargs)
                and _is_own_method(self, name, patched)
            ):
                outer[2].setdefault(name, result)
            return result
        if not _models.is_listening():
            return function(self, *args, **kwargs)
        if name != "score" and not (
            _is_plain_call(args, kwargs) and _is_own_method(self, name, patched)
        ):
            # Extra arguments (raw_score=True, return_std=True) or a base class's
            # method: the output is not the kind its name promises.
            with _state.quiet():
                return function(self, *args, **kwargs)
        captured: dict[str, Any] = {}
        token = _state.busy.set(True)
        capture_token = _capture.set((self, X, captured))
        try:
            result = function(self, *args, **kwargs)
        finally:
            _capture.reset(capture_token)
            _state.busy.reset(token)
        if name == "score":
            y = args[1] if len(args) > 1 else kwargs.get("y")
            _heldout.on_score(self, X, y, result, captured)
        else:
            _heldout.on_predict(self, name, X, result, captured)
        if _post_training.is_enabled():
            _follow_for_mlflow(self, name, function, args, kwargs, result)
        return result

    functools.update_wrapper(patched, function)
    setattr(patched, _state.PATCH_MARKER, True)
    return patched


def _follow_for_mlflow(
    estimator: Any,
    name: str,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    result: Any,
) -> None:
    """Give a prediction or score to ``_post_training`` for MLflow's metric names.

    Called from the patched method: the frame two above is the method's caller.
    """
    target = _models.post_training_run(estimator)
    if target is None:
        return
    run_id, client = target
    frame = sys._getframe(2)
    try:
        with _state.quiet():
            if name != "score":
                X = args[0] if args else kwargs.get("X")
                _post_training.on_predict(run_id, client, X, result, frame)
            elif _heldout._is_number(result):
                _post_training.on_score(
                    run_id,
                    client,
                    estimator,
                    function,
                    args,
                    kwargs,
                    float(result),
                    frame,
                )
    except Exception as exc:  # autolog must never break the user's call
        _models.warn(exc)


def _is_plain_call(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> bool:
    """Whether a prediction method got X alone, so its output is the plain kind."""
    return len(args) + len(kwargs) == 1 and (bool(args) or "X" in kwargs)


def _is_own_method(estimator: Any, name: str, patched: Callable[..., Any]) -> bool:
    """Whether ``patched`` is what ``estimator.<name>`` resolves to (not a base's)."""
    entry = inspect.getattr_static(type(estimator), name, None)
    return entry is patched or getattr(entry, "fn", None) is patched
