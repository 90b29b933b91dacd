"""Patching of scikit-learn functions in place, whatever the order of imports.

Every public function of ``sklearn.metrics`` (except the scorer helpers) and
``train_test_split``, ``cross_validate``, ``cross_val_score`` and
``cross_val_predict`` are wrapped by scikit-learn's ``validate_params`` decorator:
the object users import is a wrapper whose closure cell ``func`` holds the real
function. We swap the content of that cell, so a name imported before ``autolog()``
(``from sklearn.metrics import accuracy_score`` at the top of a script) is
intercepted too; MLflow patches module attributes, and such early names escape it.
A function without that cell (``confusion_matrix_at_thresholds`` in scikit-learn
1.9) is patched as a module attribute instead, in ``sklearn.metrics`` and in the
module defining it: names imported before ``autolog()`` escape that fallback.
``unpatch_functions`` puts back the very same original objects.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType
from typing import Any

from mltrail.sklearn.recorders import _heldout, _post_training
from mltrail.sklearn.session import _registry
from mltrail.sklearn.shared import _events, _models, _state

__all__ = [
    "METRICS_EXCLUDED",
    "MODEL_SELECTION_FUNCTIONS",
    "patch_functions",
    "patched_functions",
    "unpatch_functions",
]

CELL_NAME = "func"
METRICS_MODULE = "sklearn.metrics"
MODEL_SELECTION_MODULE = "sklearn.model_selection"
METRICS_EXCLUDED = frozenset(
    {"make_scorer", "get_scorer", "check_scoring", "get_scorer_names"}
)
CROSS_VALIDATION_FUNCTIONS = ("cross_validate", "cross_val_score", "cross_val_predict")
MODEL_SELECTION_FUNCTIONS = ("train_test_split", *CROSS_VALIDATION_FUNCTIONS)
PATCH_MARKER = _state.PATCH_MARKER


@dataclass(frozen=True, slots=True)
class _CellPatch:
    """A ``validate_params`` wrapper whose ``func`` cell now holds our wrapper."""

    public: Any
    cell: Any
    original: Any
    installed: Any

    def undo(self) -> None:
        if self.cell.cell_contents is self.installed:
            self.cell.cell_contents = self.original


@dataclass(frozen=True, slots=True)
class _AttributePatch:
    """A module attribute replaced by our wrapper (the fallback)."""

    owner: Any
    name: str
    original: Any
    installed: Any

    def undo(self) -> None:
        if self.owner.__dict__.get(self.name) is self.installed:
            setattr(self.owner, self.name, self.original)


_lock = threading.RLock()
# public function name -> the patches that installed its wrapper
_patches: dict[str, list[_CellPatch | _AttributePatch]] = {}


def _wrap_metric(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``function`` that reports its result as ``MetricComputed``."""

    def metric(*args: Any, **kwargs: Any) -> Any:
        # Nothing predicted yet, autolog off, or nested in a fit or another call.
        if (
            not (_heldout._predictions or _post_training.has_predictions())
            or not _models.is_listening()
        ):
            return function(*args, **kwargs)
        token = _state.busy.set(True)
        try:
            result = function(*args, **kwargs)
        finally:
            _state.busy.reset(token)
        frame = sys._getframe(1)  # the caller's: MLflow's record of the call
        _registry.dispatch(
            _events.MetricComputed(name, function, args, kwargs, result, frame)
        )
        return result

    return metric


def _wrap_split(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``train_test_split`` that reports its parts as ``SplitMade``."""

    def split(*arrays: Any, **options: Any) -> Any:
        if not _models.is_listening():
            return function(*arrays, **options)
        token = _state.busy.set(True)
        try:
            result = function(*arrays, **options)
        finally:
            _state.busy.reset(token)
        _registry.dispatch(_events.SplitMade(arrays, options, result))
        return result

    return split


def _wrap_cross_validation(
    name: str, function: Callable[..., Any]
) -> Callable[..., Any]:
    """Return a cross-validation function that the session runs and logs."""

    def cross_validation(*args: Any, **kwargs: Any) -> Any:
        from mltrail.sklearn.session import _validation

        return _validation.call(name, function, args, kwargs)

    return cross_validation


def _wrapper_for(
    name: str, module: str, function: Callable[..., Any]
) -> Callable[..., Any]:
    if module == METRICS_MODULE:
        wrapper = _wrap_metric(name, function)
    elif name == "train_test_split":
        wrapper = _wrap_split(function)
    else:
        wrapper = _wrap_cross_validation(name, function)
    # __wrapped__ keeps inspect.signature (which validate_params calls) exact, and the
    # copied __dict__ keeps scikit-learn's _skl_parameter_constraints.
    functools.update_wrapper(wrapper, function)
    setattr(wrapper, PATCH_MARKER, True)
    return wrapper


def _targets() -> list[tuple[str, str]]:
    """Return (module, name) of every function to patch."""
    metrics = importlib.import_module(METRICS_MODULE)
    names = [
        (METRICS_MODULE, name)
        for name in sorted(metrics.__all__)
        if name not in METRICS_EXCLUDED
        and isinstance(getattr(metrics, name, None), FunctionType)
    ]
    names.extend((MODEL_SELECTION_MODULE, name) for name in MODEL_SELECTION_FUNCTIONS)
    return names


def _patch_one(module_name: str, name: str) -> list[_CellPatch | _AttributePatch]:
    module = importlib.import_module(module_name)
    public = getattr(module, name)
    code = getattr(public, "__code__", None)
    closure = getattr(public, "__closure__", None)
    if code is not None and closure and CELL_NAME in code.co_freevars:
        cell = closure[code.co_freevars.index(CELL_NAME)]
        original = cell.cell_contents
        if getattr(original, PATCH_MARKER, False):  # pragma: no cover - patched twice
            return []
        wrapper = _wrapper_for(name, module_name, original)
        cell.cell_contents = wrapper
        return [_CellPatch(public, cell, original, wrapper)]
    # No validate_params cell: replace the attribute where users look it up.
    wrapper = _wrapper_for(name, module_name, public)
    patches: list[_CellPatch | _AttributePatch] = []
    owners = [module, importlib.import_module(public.__module__)]
    for owner in dict.fromkeys(owners):
        if owner.__dict__.get(name) is public:
            setattr(owner, name, wrapper)
            patches.append(_AttributePatch(owner, name, public, wrapper))
    return patches


def patch_functions() -> None:
    """Patch every target function once; calling it again changes nothing."""
    with _lock:
        for module_name, name in _targets():
            if name not in _patches:
                _patches[name] = _patch_one(module_name, name)


def unpatch_functions() -> None:
    """Restore every patched cell and attribute to the original object."""
    with _lock:
        for patches in _patches.values():
            for patch in patches:
                patch.undo()
        _patches.clear()


def patched_functions() -> dict[str, list[tuple[object, object]]]:
    """Return, per function name, (where, original object) of each patch (tests)."""
    with _lock:
        return {
            name: [
                (
                    patch.cell if isinstance(patch, _CellPatch) else patch.owner,
                    patch.original,
                )
                for patch in patches
            ]
            for name, patches in _patches.items()
        }
