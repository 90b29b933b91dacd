"""The training session: what a patched ``fit`` does around the original one.

A fit called while no other fit is in progress in the same context (thread, task,
or joblib worker of that fit) is a top-level fit: it gets a run, or logs into the
active one. Fits nested inside it (pipeline steps, search folds, ``cross_validate``,
``fit_transform`` calling ``fit``) see the session in ``_state.in_fit`` and run
untouched. The state it shares with the other stages lives in ``_state``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mltrail._system_tags import AUTOLOGGING_TAG
from mltrail.sklearn.session import _registry
from mltrail.sklearn.shared import _events, _fit, _fit_outputs, _state

__all__ = ["Carrier", "run_fit"]


class Carrier:
    """A joblib task that runs inside the fit that dispatched it."""

    __slots__ = ("function", "state")

    def __init__(self, function: Callable[..., Any], state: object) -> None:
        self.function = function
        self.state = state

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        token = _state.in_fit.set(self.state)
        try:
            return self.function(*args, **kwargs)
        finally:
            _state.in_fit.reset(token)

    def __reduce__(self) -> tuple[Any, ...]:
        # Another process has no fit in progress: send the bare task.
        return (_identity, (self.function,))


def _identity(value: Any) -> Any:
    return value


def run_fit(
    function: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run a top-level fit inside a training session, logging it to a run."""
    from sklearn.base import BaseEstimator

    from mltrail.sklearn.recorders import _preprocessing
    from mltrail.sklearn.session import _loops
    from mltrail.sklearn.shared import _background

    config = _state.settings
    if config is None or not isinstance(estimator, BaseEstimator):
        return function(estimator, *args, **kwargs)
    # A job still saving this estimator's last fit must finish before it changes.
    _background.wait_for_object(estimator)
    _background.fit_started()
    token = _state.in_fit.set(True)
    try:
        if _preprocessing.is_standalone_transformer(estimator):
            return _transformer_fit(config, function, estimator, args, kwargs)
        _loops.end_partial_loops()
        return _TopLevelFit(config, function, estimator, args, kwargs).run()
    finally:
        _state.in_fit.reset(token)


def _transformer_fit(
    config: _state.AutologSettings,
    function: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run a transformer's top-level fit (inside a session) and remember it.

    A transformer takes no run of its own: inside a user's run it is recorded
    there at once, else the model its output trains records it. The user's
    exception propagates unchanged and records nothing. Returns what the fit
    returned.
    """
    from mltrail.sklearn.recorders import _preprocessing
    from mltrail.sklearn.shared import _runs

    start = time.perf_counter()
    result = function(estimator, *args, **kwargs)
    duration = time.perf_counter() - start
    problems: list[str] = []
    try:
        step = _preprocessing.remember_fit(
            function, estimator, args, kwargs, result, duration
        )
        active = _runs.active_run_id()
        if active is not None and not config.exclusive:
            _registry.dispatch(_events.RunStarted(active, config), problems)
            _registry.dispatch(_events.TransformerFitted(active, config, step))
    except Exception as exc:  # autolog must never break the user's fit
        problems.append(f"preprocessing: {type(exc).__name__}: {exc}")
    _state.warn_problems(problems, config)
    return result


class _TopLevelFit:
    """One top-level fit: its run, its arguments and what goes wrong while logging."""

    def __init__(
        self,
        config: _state.AutologSettings,
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
            self.problems.append(_state.problem("starting the run", exc))
        if self.run_id is None:
            try:
                result = self.function(self.estimator, *self.args, **self.kwargs)
            except BaseException as exc:
                _state.warn_fit(self.problems, self.config, error=exc)
                raise
            _state.warn_fit(self.problems, self.config)
            return result
        watch = self._watch()
        start = time.perf_counter()
        try:
            result = self.function(self.estimator, *self.args, **self.kwargs)
        except BaseException as exc:
            self._fail(exc)
            raise
        finally:
            if watch is not None:
                watch.release()
        duration = time.perf_counter() - start
        try:
            self._log(result, duration, None if watch is None else watch.outputs)
        except Exception as exc:  # autolog must never break the user's fit
            self.problems.append(_state.problem("logging", exc))
        finally:
            self._end("FINISHED")
        _state.warn_fit(self.problems, self.config)
        return result

    def _begin(self) -> None:
        from mltrail.sklearn.shared import _runs, _search

        active = _runs.active_run_id()
        if active is not None and self.config.exclusive:
            return
        deep = not _search.is_search(self.estimator)
        self.params = _fit.estimator_params(self.estimator, deep=deep)
        tags = {AUTOLOGGING_TAG: "sklearn", **self.config.extra_tags}
        if active is None:
            self.run_id = _runs.start_run(tags)
            self.is_owned = True
            self._record_code()
            return
        if _state.claim_run(active, self.estimator, self.params, is_model=True):
            self.run_id = active
        else:
            self.run_id = _runs.start_run(tags, nested=True)
            self.is_owned = True
        self._record_code()

    def _record_code(self) -> None:
        assert self.run_id is not None  # noqa: S101 - set by the caller
        _registry.dispatch(_events.RunStarted(self.run_id, self.config), self.problems)

    def _fail(self, exc: BaseException) -> None:
        """Record the failed fit; the exception itself propagates unchanged."""
        from mltrail.sklearn.shared import _runs

        assert self.run_id is not None  # noqa: S101 - checked by the caller
        try:
            tags = _fit.estimator_tags(self.estimator)
            if self.is_owned:
                tags.update(_state.error_tags(exc))
            _runs.log_batch(self.run_id, params=self.params, tags=tags)
        except Exception as log_exc:  # autolog must never hide the user's error
            self.problems.append(_state.problem("recording the failure", log_exc))
        self._end("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        _state.warn_fit(
            self.problems, self.config, _state.WARN_STACKLEVEL + 1, error=exc
        )

    def _end(self, status: str) -> None:
        from mltrail.sklearn.shared import _runs

        if self.is_owned and self.run_id is not None:
            try:
                if status == "FINISHED":
                    # After the model and the other queued jobs of this run.
                    _runs.end_run_later(self.run_id, status)
                else:
                    _runs.end_run(self.run_id, status)
            except Exception as exc:  # autolog must never break the user's fit
                self.problems.append(_state.problem("ending the run", exc))

    def _watch(self) -> _fit_outputs.Watch | None:
        """Keep what the fit computes of its training predictions, where it can."""
        try:
            X = _fit.fit_arguments(self.function, self.args, self.kwargs)[0]
            return _fit_outputs.watch(self.estimator, X)
        except Exception as exc:  # autolog must never break the user's fit
            self.problems.append(_state.problem("watching the fit", exc))
            return None

    def _log(
        self, result: Any, duration: float, outputs: _fit_outputs.FitOutputs | None
    ) -> None:
        assert self.run_id is not None  # noqa: S101 - checked by the caller
        call = _events.FitCall(
            self.function, self.args, self.kwargs, result, duration, outputs
        )
        event = _events.FitEnded(
            self.run_id, self.config, self.estimator, call, self.params, self.problems
        )
        _registry.dispatch(event, self.problems)
