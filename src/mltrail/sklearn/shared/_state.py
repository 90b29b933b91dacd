"""The state autologging shares: the settings in force, the fit in progress, claims.

Every stage reads this module and none owns it: the patches (is a fit in progress?
is a hook busy?), the session (which run does a fit take?) and the recorders (the
settings; warnings that never break the user's call). Nothing here imports another
module of ``mltrail.sklearn``.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from mltrail import _warnings
from mltrail._system_tags import (
    ERROR_MESSAGE_TAG,
    ERROR_TRACEBACK_TAG,
    ERROR_TYPE_TAG,
)

__all__ = [
    "DURATION_METRIC",
    "PATCH_MARKER",
    "WARN_STACKLEVEL",
    "AutologSettings",
    "busy",
    "claim_run",
    "error_tags",
    "in_fit",
    "is_called_by_library",
    "is_number",
    "problem",
    "quiet",
    "run_quietly",
    "settings",
    "warn_fit",
    "warn_problems",
]

# Set on every wrapper autologging installs, so that it is never wrapped twice.
PATCH_MARKER = "__mltrail_patched__"
ERROR_TAGS = (ERROR_TYPE_TAG, ERROR_MESSAGE_TAG, ERROR_TRACEBACK_TAG)
DURATION_METRIC = "training_duration_seconds"
# As the tracking layer: a deep traceback fits whole, a runaway one cannot flood.
MAX_ERROR_TEXT = 100_000
# The user's ``fit`` call is this many frames above ``_warn``.
WARN_STACKLEVEL = 5
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


# True while a patched method or function, or a recorder, is running: anything
# called meanwhile is an implementation detail and is not recorded.
busy: ContextVar[bool] = ContextVar("mltrail_heldout_busy", default=False)


@contextmanager
def quiet() -> Iterator[None]:
    """Run a block whose estimator and metric calls are not recorded."""
    token = busy.set(True)
    try:
        yield
    finally:
        busy.reset(token)


def warn_problems(problems: list[str], config: AutologSettings) -> None:
    """Warn once about what autologging failed to log of a fit that succeeded."""
    warn_fit(problems, config, stacklevel=WARN_STACKLEVEL + 1)


def warn_fit(
    problems: list[str],
    config: AutologSettings,
    stacklevel: int = WARN_STACKLEVEL,
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


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number a metric can hold (not a bool)."""
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def error_tags(exc: BaseException) -> dict[str, str]:
    """Return the error tags of a failed fit, written as the tracking layer does."""
    text = "".join(traceback.format_exception(exc))
    if len(text) > MAX_ERROR_TEXT:
        text = "...\n" + text[-MAX_ERROR_TEXT:]
    kind = type(exc)
    values = (f"{kind.__module__}.{kind.__qualname__}", str(exc)[:MAX_ERROR_TEXT], text)
    return dict(zip(ERROR_TAGS, values, strict=True))


def problem(step: str, exc: BaseException) -> str:
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
