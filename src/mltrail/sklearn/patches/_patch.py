"""Patching of estimator ``fit`` methods, and its exact undoing.

Every subclass of scikit-learn's ``BaseEstimator`` gets its ``fit``, ``fit_transform``
and ``fit_predict`` wrapped where the method is defined (once, on the class that owns
it in the MRO). Classes defined later, scikit-learn's own modules imported later
included, are patched as they are created, by an ``__init_subclass__`` hook on
``BaseEstimator``. ``joblib.Parallel.__call__`` is wrapped so that the worker threads
of a fit know they are inside that fit, and the per-fold helpers of
``cross_validate`` and its kin run inside a session. ``unpatch_all`` puts back every
original ``__dict__`` entry, the very same objects.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable, Iterable
from types import FunctionType
from typing import Any

from mltrail.sklearn.session import _loops, _registry, _session
from mltrail.sklearn.shared import _events, _state

__all__ = [
    "FIT_METHODS",
    "PATCHED_METHODS",
    "is_patched",
    "patch_all",
    "patched_entries",
    "unpatch_all",
]

FIT_METHODS = ("fit", "fit_transform", "fit_predict")
# Every method name autologging patches on estimator classes.
PATCHED_METHODS = (
    *FIT_METHODS,
    "partial_fit",
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "score",
    "transform",
)
PATCH_MARKER = "__mltrail_patched__"
_MISSING = object()

_lock = threading.RLock()
# (owner class or module, attribute name) -> (original entry or _MISSING, installed)
_entries: dict[tuple[Any, str], tuple[object, object]] = {}
# The helpers that ``cross_validate`` and its kin run per fold, looked up as module
# globals at call time: whatever way the user imported ``cross_validate``, its folds
# run inside a session and log nothing.
VALIDATION_MODULE = "sklearn.model_selection._validation"
VALIDATION_HELPERS = ("_fit_and_score", "_fit_and_predict", "_permutation_test_score")


def _wrap_function(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return the patched form of one fit-like function."""

    def patched_fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _state.settings is None or _state.in_fit.get() is not None:
            return function(self, *args, **kwargs)
        if _state.is_called_by_library():
            return _state.run_quietly(function, self, args, kwargs)
        return _session.run_fit(function, self, args, kwargs)

    functools.update_wrapper(patched_fit, function)
    setattr(patched_fit, PATCH_MARKER, True)
    return patched_fit


def _wrap_partial_fit(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return the patched form of a ``partial_fit`` function."""

    def patched_partial_fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _state.settings is None or _state.in_fit.get() is not None:
            return function(self, *args, **kwargs)
        if _state.is_called_by_library():
            return _state.run_quietly(function, self, args, kwargs)
        return _loops.run_partial_fit(function, self, args, kwargs)

    functools.update_wrapper(patched_partial_fit, function)
    setattr(patched_partial_fit, _state.PATCH_MARKER, True)
    return patched_partial_fit


def _wrap_transform(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``transform`` that reports the outputs of remembered transformers."""
    from mltrail.sklearn.recorders import _preprocessing
    from mltrail.sklearn.shared import _models

    remembered = _preprocessing.fitted_transformers

    def patched_transform(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not remembered or id(self) not in remembered:
            return function(self, *args, **kwargs)
        step = _preprocessing.fitted_step(self)
        if (
            step is None
            or _state.settings is None
            or _state.in_fit.get() is not None
            or _state.busy.get()
        ):
            return function(self, *args, **kwargs)
        with _state.quiet():
            result = function(self, *args, **kwargs)
        X = args[0] if args else kwargs.get("X")
        try:
            _registry.dispatch(_events.Transformed(step, X, result))
        except Exception as exc:  # autolog must never break the user's call
            _models.warn(exc)
        return result

    functools.update_wrapper(patched_transform, function)
    setattr(patched_transform, PATCH_MARKER, True)
    return patched_transform


def _wrap_entry(
    entry: object, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> object | None:
    """Return the patched form of a class ``__dict__`` entry, or None if unsupported."""
    if isinstance(entry, FunctionType):
        return wrap(entry)
    # scikit-learn's ``available_if`` descriptor (and look-alikes) keep the method in
    # ``fn``; patch a copy so the original descriptor object stays untouched.
    inner = getattr(entry, "fn", None)
    if isinstance(inner, FunctionType) and hasattr(type(entry), "__get__"):
        patched = copy.copy(entry)
        patched.fn = wrap(inner)  # type: ignore[attr-defined]  # checked above
        return patched
    return None


def _wrappers() -> dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """Return, for each patched method name, what wraps the original."""
    from mltrail.sklearn.patches import _methods
    from mltrail.sklearn.recorders import _heldout

    wrappers: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = (
        dict.fromkeys(FIT_METHODS, _wrap_function)
    )
    wrappers["partial_fit"] = _wrap_partial_fit
    wrappers["transform"] = _wrap_transform
    for name in _heldout.METHODS:
        wrappers[name] = functools.partial(_methods.wrap_method, name)
    return wrappers


def _set(owner: Any, name: str, value: object) -> None:
    """Install ``value`` as ``owner.name`` and remember what was there."""
    original = owner.__dict__.get(name, _MISSING)
    setattr(owner, name, value)
    _entries[(owner, name)] = (original, owner.__dict__[name])


def patch_class(cls: type) -> None:
    """Patch the fit-like methods that ``cls`` has, on the classes defining them."""
    with _lock:
        for name, wrap in _wrappers().items():
            owner = next((c for c in cls.__mro__ if name in c.__dict__), None)
            if owner is None or owner is object or (owner, name) in _entries:
                continue
            patched = _wrap_entry(owner.__dict__[name], wrap)
            if patched is None:
                continue
            try:
                _set(owner, name, patched)
            except TypeError:  # pragma: no cover - built-in or extension types
                continue


def _iter_subclasses(root: type) -> Iterable[type]:
    """Yield ``root`` and all its subclasses currently defined, each once."""
    seen: set[type] = set()
    stack = [root]
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        yield cls
        stack.extend(type.__subclasses__(cls))


def _install_subclass_hook(base: type) -> None:
    """Make every class created later under ``base`` patch itself."""
    original = base.__dict__.get("__init_subclass__", _MISSING)

    def __init_subclass__(cls: type, /, **kwargs: Any) -> None:
        if original is _MISSING:
            # mypy cannot tell that ``base`` is a class here.
            super(base, cls).__init_subclass__(**kwargs)  # type: ignore[arg-type]
        else:
            original.__func__(cls, **kwargs)  # a classmethod: call its function
        if _state.settings is not None:
            patch_class(cls)

    _set(base, "__init_subclass__", classmethod(__init_subclass__))


def _install_parallel_hook() -> None:
    """Carry the fit in progress into joblib's workers (threads do not inherit it)."""
    import joblib  # type: ignore[import-untyped]  # joblib ships no type hints

    original = joblib.Parallel.__dict__["__call__"]

    def __call__(self: Any, iterable: Iterable[Any]) -> Any:
        state = _state.in_fit.get()
        if state is None:
            return original(self, iterable)
        carried = ((_session.Carrier(f, state), a, k) for f, a, k in iterable)
        return original(self, carried)

    functools.update_wrapper(__call__, original)
    _set(joblib.Parallel, "__call__", __call__)


def _wrap_validation_helper(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``function`` run inside a training session, so its fits log nothing."""

    def in_session(*args: Any, **kwargs: Any) -> Any:
        if _state.in_fit.get() is not None:
            return function(*args, **kwargs)
        token = _state.in_fit.set(True)
        try:
            return function(*args, **kwargs)
        finally:
            _state.in_fit.reset(token)

    functools.update_wrapper(in_session, function)
    setattr(in_session, PATCH_MARKER, True)
    return in_session


def _install_validation_hooks() -> None:
    """Run the per-fold helpers of ``cross_validate`` and kin inside a session."""
    import importlib

    module = importlib.import_module(VALIDATION_MODULE)
    for name in VALIDATION_HELPERS:
        function = module.__dict__.get(name)
        if isinstance(function, FunctionType):
            _set(module, name, _wrap_validation_helper(function))


def patch_all() -> None:
    """Patch every estimator class defined now and hook the ones defined later."""
    from sklearn.base import BaseEstimator

    from mltrail.sklearn.patches import _functions

    _functions.patch_functions()
    with _lock:
        if (BaseEstimator, "__init_subclass__") not in _entries:
            _install_subclass_hook(BaseEstimator)
            _install_parallel_hook()
            _install_validation_hooks()
        for cls in _iter_subclasses(BaseEstimator):
            patch_class(cls)


def unpatch_all() -> None:
    """Restore every patched ``__dict__`` entry and function to the original object."""
    from mltrail.sklearn.patches import _functions

    _functions.unpatch_functions()
    with _lock:
        for (owner, name), (original, installed) in list(_entries.items()):
            if owner.__dict__.get(name, _MISSING) is installed:
                if original is _MISSING:
                    delattr(owner, name)
                else:
                    setattr(owner, name, original)
        _entries.clear()


def patched_entries() -> dict[tuple[Any, str], object]:
    """Return the original entry of every attribute patched now (for tests)."""
    with _lock:
        return {key: original for key, (original, _) in _entries.items()}


def is_patched(entry: object) -> bool:
    """Whether a class ``__dict__`` entry is one of the patched fit methods."""
    function = getattr(entry, "fn", entry)
    return bool(getattr(function, PATCH_MARKER, False))
