"""The training session: what a patched ``fit`` does around the original one.

A fit called while no other fit is in progress in the same context (thread, task,
or joblib worker of that fit) is a top-level fit: it gets a run, or logs into the
active one. Fits nested inside it (pipeline steps, search folds, ``cross_validate``,
``fit_transform`` calling ``fit``) see the session in ``in_fit`` and run untouched.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from mltrail import _warnings
from mltrail._system_tags import (
    AUTOLOGGING_TAG,
    ERROR_MESSAGE_TAG,
    ERROR_TRACEBACK_TAG,
    ERROR_TYPE_TAG,
)

__all__ = [
    "AutologSettings",
    "Carrier",
    "claim_run",
    "error_tags",
    "in_fit",
    "is_called_by_library",
    "run_fit",
    "run_quietly",
    "settings",
    "warn_problems",
]

ERROR_TAGS = (ERROR_TYPE_TAG, ERROR_MESSAGE_TAG, ERROR_TRACEBACK_TAG)
DURATION_METRIC = "training_duration_seconds"
# As the tracking layer: a deep traceback fits whole, a runaway one cannot flood.
MAX_ERROR_TEXT = 100_000
# The user's ``fit`` call is this many frames above ``_warn``.
_WARN_STACKLEVEL = 5
# Modules that only pass a call on (joblib's, scikit-learn's wrapper of it): the
# module that decides whose call it is lies above them.
_DISPATCH_MODULES = ("joblib.", "sklearn.utils.parallel")


@dataclass(frozen=True, slots=True)
class AutologSettings:
    """The options of ``autolog()`` in force."""

    log_models: bool = True
    log_input_examples: bool = True
    log_model_signatures: bool = True
    log_datasets: bool = True
    max_tuning_runs: int | None = None
    log_post_training_metrics: bool = True
    serialization_format: str = "skops"
    registered_model_name: str | None = None
    pos_label: Any = None
    extra_tags: Mapping[str, str] = field(default_factory=dict)
    exclusive: bool = False
    silent: bool = False
    log_evaluation: bool = True
    log_plots: bool = True
    log_dataset_files: bool = False
    log_code: bool = True
    log_tags: bool = True
    log_pipeline: bool = True
    log_iterations: bool = True
    log_partial_fit: bool = True


# None while autolog is off; read on every patched call, so a plain module global.
settings: AutologSettings | None = None
# The fit in progress in this context, if any.
in_fit: ContextVar[object | None] = ContextVar("mltrail_sklearn_in_fit", default=None)

_claims_lock = threading.Lock()
# User runs that autologging wrote an estimator's params to: (its class, those
# params, whether a model took the run). A later model, or another estimator, gets
# a child run; a cross-validation of the same estimator shares the run.
_claims: dict[str, tuple[type, dict[str, str], bool]] = {}
MAX_CLAIMS = 10_000


def claim_run(
    run_id: str, estimator: Any, params: Mapping[str, str], *, is_model: bool
) -> bool:
    """Whether ``estimator`` with ``params`` may log into the user's run ``run_id``.

    The first claim always may. Later, only an estimator of the same class whose
    params agree with those logged so far, and a model only if no model took the
    run yet. A successful claim adds ``params`` to the run's.
    """
    kind = type(estimator)
    with _claims_lock:
        claim = _claims.get(run_id)
        if claim is not None:
            logged_kind, logged, has_model = claim
            agree = logged_kind is kind and all(
                logged.get(key, value) == value for key, value in params.items()
            )
            if not agree or (is_model and has_model):
                return False
            params = {**logged, **params}
            is_model = is_model or has_model
        _claims[run_id] = (kind, dict(params), is_model)
        while len(_claims) > MAX_CLAIMS:
            del _claims[next(iter(_claims))]
    return True


class Carrier:
    """A joblib task that runs inside the fit that dispatched it."""

    __slots__ = ("function", "state")

    def __init__(self, function: Callable[..., Any], state: object) -> None:
        self.function = function
        self.state = state

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        token = in_fit.set(self.state)
        try:
            return self.function(*args, **kwargs)
        finally:
            in_fit.reset(token)

    def __reduce__(self) -> tuple[Any, ...]:
        # Another process has no fit in progress: send the bare task.
        return (_identity, (self.function,))


def _identity(value: Any) -> Any:
    return value


def warn_problems(problems: list[str], config: AutologSettings) -> None:
    """Warn once about what autologging failed to log of a fit that succeeded."""
    _warn(problems, config, stacklevel=_WARN_STACKLEVEL + 1)


def _warn(
    problems: list[str],
    config: AutologSettings,
    stacklevel: int = _WARN_STACKLEVEL,
    *,
    error: BaseException | None = None,
) -> None:
    """Warn once about ``problems``; ``error`` is the exception the fit raised, if any.

    The warning never raises, whatever the warning filters: see ``mltrail._warnings``.
    """
    if not problems or config.silent:
        return
    if error is None:
        outcome = "the fit itself succeeded"
    else:
        outcome = f"the fit itself raised {type(error).__name__}, which propagates"
    _warnings.warn(
        f"mltrail autologging failed to log part of this fit ({outcome}): "
        + "; ".join(problems),
        stacklevel=stacklevel,
    )


def error_tags(exc: BaseException) -> dict[str, str]:
    """Return the error tags of a failed fit, written as the tracking layer does."""
    text = "".join(traceback.format_exception(exc))
    if len(text) > MAX_ERROR_TEXT:
        text = "...\n" + text[-MAX_ERROR_TEXT:]
    kind = type(exc)
    values = (f"{kind.__module__}.{kind.__qualname__}", str(exc)[:MAX_ERROR_TEXT], text)
    return dict(zip(ERROR_TAGS, values, strict=True))


def _problem(step: str, exc: BaseException) -> str:
    return f"{step}: {type(exc).__name__}: {exc}"


def is_called_by_library(depth: int = 2) -> bool:
    """Whether scikit-learn's own code made this call on the user's behalf.

    ``depth`` counts the frames from here to the patched method's caller. Metric
    functions fit a ``LabelEncoder``, ``compute_class_weight`` a ``LabelEncoder``, a
    search's ``score`` a scorer's: those fits are implementation details, never runs.
    Frames of joblib and scikit-learn's ``Parallel`` wrapper are looked through, so a
    fit dispatched by the user's own ``Parallel`` call is still the user's.
    """
    frame: FrameType | None = sys._getframe(depth)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if module == "joblib" or module.startswith(_DISPATCH_MODULES):
            frame = frame.f_back
            continue
        return module == "sklearn" or module.startswith("sklearn.")
    return False  # pragma: no cover - the interpreter's outermost frame is a module


def run_quietly(
    function: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run a fit that is not the user's: it and everything it calls log nothing."""
    token = in_fit.set(True)
    try:
        return function(estimator, *args, **kwargs)
    finally:
        in_fit.reset(token)


def run_fit(
    function: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run a top-level fit inside a training session, logging it to a run."""
    from sklearn.base import BaseEstimator

    from mltrail.sklearn import _background, _partial, _preprocessing

    config = settings
    if config is None or not isinstance(estimator, BaseEstimator):
        return function(estimator, *args, **kwargs)
    # A job still saving this estimator's last fit must finish before it changes.
    _background.wait_for_object(estimator)
    token = in_fit.set(True)
    try:
        if _preprocessing.is_standalone_transformer(estimator):
            return _preprocessing.run_fit(config, function, estimator, args, kwargs)
        _partial.end_partial_loops()
        return _TopLevelFit(config, function, estimator, args, kwargs).run()
    finally:
        in_fit.reset(token)


class _TopLevelFit:
    """One top-level fit: its run, its arguments and what goes wrong while logging."""

    def __init__(
        self,
        config: AutologSettings,
        function: Callable[..., Any],
        estimator: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self.config = config
        self.function = function
        self.estimator = estimator
        self.args = args
        self.kwargs = kwargs
        self.problems: list[str] = []
        self.run_id: str | None = None
        self.is_owned = False
        self.params: dict[str, str] = {}

    def run(self) -> Any:
        try:
            self._begin()
        except Exception as exc:  # autolog must never break the user's fit
            self.problems.append(_problem("starting the run", exc))
        if self.run_id is None:
            try:
                result = self.function(self.estimator, *self.args, **self.kwargs)
            except BaseException as exc:
                _warn(self.problems, self.config, error=exc)
                raise
            _warn(self.problems, self.config)
            return result
        start = time.perf_counter()
        try:
            result = self.function(self.estimator, *self.args, **self.kwargs)
        except BaseException as exc:
            self._fail(exc)
            raise
        duration = time.perf_counter() - start
        try:
            self._log(result, duration)
        except Exception as exc:  # autolog must never break the user's fit
            self.problems.append(_problem("logging", exc))
        finally:
            self._end("FINISHED")
        _warn(self.problems, self.config)
        return result

    def _begin(self) -> None:
        from mltrail.sklearn import _runs, _search, _training

        active = _runs.active_run_id()
        if active is not None and self.config.exclusive:
            return
        deep = not _search.is_search(self.estimator)
        self.params = _training.estimator_params(self.estimator, deep=deep)
        tags = {AUTOLOGGING_TAG: "sklearn", **self.config.extra_tags}
        if active is None:
            self.run_id = _runs.start_run(tags)
            self.is_owned = True
            self._record_code()
            return
        if claim_run(active, self.estimator, self.params, is_model=True):
            self.run_id = active
        else:
            self.run_id = _runs.start_run(tags, nested=True)
            self.is_owned = True
        self._record_code()

    def _record_code(self) -> None:
        from mltrail.sklearn import _code

        assert self.run_id is not None  # noqa: S101 - set by the caller
        self.problems.extend(_code.on_run_start(self.run_id, self.config))

    def _fail(self, exc: BaseException) -> None:
        """Record the failed fit; the exception itself propagates unchanged."""
        from mltrail.sklearn import _runs, _training

        assert self.run_id is not None  # noqa: S101 - checked by the caller
        try:
            tags = _training.estimator_tags(self.estimator)
            if self.is_owned:
                tags.update(error_tags(exc))
            _runs.log_batch(self.run_id, params=self.params, tags=tags)
        except Exception as log_exc:  # autolog must never hide the user's error
            self.problems.append(_problem("recording the failure", log_exc))
        self._end("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        _warn(self.problems, self.config, _WARN_STACKLEVEL + 1, error=exc)

    def _end(self, status: str) -> None:
        from mltrail.sklearn import _runs

        if self.is_owned and self.run_id is not None:
            try:
                if status == "FINISHED":
                    # After the model and the other queued jobs of this run.
                    _runs.end_run_later(self.run_id, status)
                else:
                    _runs.end_run(self.run_id, status)
            except Exception as exc:  # autolog must never break the user's fit
                self.problems.append(_problem("ending the run", exc))

    def _log(self, result: Any, duration: float) -> None:
        from mltrail.sklearn import _logging

        assert self.run_id is not None  # noqa: S101 - checked by the caller
        call = _logging.FitCall(self.function, self.args, self.kwargs, result, duration)
        _logging.FitLog(
            self.run_id, self.config, self.estimator, call, self.params, self.problems
        ).write()
