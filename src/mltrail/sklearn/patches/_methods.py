"""The patched prediction methods of estimators that autolog logged.

``predict``, ``predict_proba``, ``predict_log_proba``, ``decision_function`` and
``score`` of a model autolog logged report what they computed as ``Predicted`` or
``Scored``, which the session hands to the held-out recorder (``_heldout``) and to
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

from mltrail.sklearn.session import _registry
from mltrail.sklearn.shared import _events, _models, _state

__all__ = ["wrap_method"]

# (estimator, X, outputs by method) of the hooked method call running now.
_capture: ContextVar[tuple[Any, Any, dict[str, Any]] | None] = ContextVar(
    "mltrail_heldout_capture", default=None
)


def wrap_method(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``function`` (the method ``name`` of an estimator class) with the hook.

    The original runs with the hooks quiet (a ``score`` calling ``predict`` and
    ``accuracy_score`` records nothing), then the recorders see its result.
    Estimators that autolog did not fit cost one dict lookup.
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
        frame = sys._getframe(1)  # the caller's: MLflow's names of datasets
        event: _events.Predicted | _events.Scored
        if name == "score":
            y = args[1] if len(args) > 1 else kwargs.get("y")
            event = _events.Scored(
                self, X, y, result, captured, function, args, kwargs, frame
            )
        else:
            event = _events.Predicted(self, name, X, result, captured, frame)
        _registry.dispatch(event)
        return result

    functools.update_wrapper(patched, function)
    setattr(patched, _state.PATCH_MARKER, True)
    return patched


def _is_plain_call(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> bool:
    """Whether a prediction method got X alone, so its output is the plain kind."""
    return len(args) + len(kwargs) == 1 and (bool(args) or "X" in kwargs)


def _is_own_method(estimator: Any, name: str, patched: Callable[..., Any]) -> bool:
    """Whether ``patched`` is what ``estimator.<name>`` resolves to (not a base's)."""
    entry = inspect.getattr_static(type(estimator), name, None)
    return entry is patched or getattr(entry, "fn", None) is patched
