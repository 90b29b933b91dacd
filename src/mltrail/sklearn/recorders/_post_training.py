"""MLflow's names for post-training metrics, logged beside mltrail's ``test_*`` ones.

MLflow logs a ``sklearn.metrics`` call on an autologged model's prediction, and a
``score`` call of that model, as ``<metric>[-<call index>]_<dataset>``: ``<metric>``
is the function's name (``<ModelClass>_score`` for ``score``), a repeated call of it
in the same run adds ``-2``, ``-3``..., and ``<dataset>`` is the name of the variable
that held the ``X`` passed to ``predict`` or ``score`` (``unknown_dataset`` when none
did; another ``X`` under a name already taken adds ``-2``...). ``metric_info.json``
maps each key to the call that gave it. Dashboards keyed on those names carry over.
Only the very prediction object is followed, as in MLflow: not copies or slices.
"""

from __future__ import annotations

import json
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import FrameType
from typing import TYPE_CHECKING, Any

from mltrail.sklearn.shared import _models, _state

if TYPE_CHECKING:
    from mltrail.sklearn.shared._events import MetricComputed, Predicted, Scored

__all__ = [
    "METRIC_INFO_ARTIFACT",
    "UNKNOWN_DATASET",
    "has_predictions",
    "is_enabled",
    "on_metric_call",
    "on_metric_computed",
    "on_predict",
    "on_predicted",
    "on_score",
    "on_scored",
    "reset",
]

UNKNOWN_DATASET = "unknown_dataset"
METRIC_INFO_ARTIFACT = "metric_info.json"
PREDICTION_HISTORY = 256
RUN_HISTORY = 1024
# A string argument longer than this shows cut in metric_info.json, as in MLflow.
MAX_SHOWN_TEXT = 32
# The user's call, counted from ``_models.warn`` through the session's dispatch.
_WARN_STACKLEVEL = _models.WARN_STACKLEVEL + 1

_lock = threading.RLock()  # a prediction collected meanwhile takes it too
# id(prediction) -> (weak reference, run id, dataset name, client)
_predictions: OrderedDict[int, tuple[Any, str, str, Any]] = OrderedDict()
# run id -> dataset variable name -> ids of the X objects seen under that name
_datasets: OrderedDict[str, dict[str, list[int]]] = OrderedDict()
# run id -> metric name -> [(metric key, call)] in call order
_calls: OrderedDict[str, dict[str, list[tuple[str, str]]]] = OrderedDict()


def is_enabled() -> bool:
    """Whether autolog is on with ``log_post_training_metrics``."""
    config = _state.settings
    return config is not None and config.log_post_training_metrics


def has_predictions() -> bool:
    """Whether any prediction is followed (else metric calls need no look)."""
    return bool(_predictions)


def reset() -> None:
    """Forget every prediction, dataset name and call."""
    with _lock:
        _predictions.clear()
        _datasets.clear()
        _calls.clear()


def _is_argument(value: Any, frame: FrameType) -> bool:
    """Whether ``value`` was passed to the function running in ``frame``."""
    code = frame.f_code
    count = code.co_argcount + code.co_kwonlyargcount
    names = list(code.co_varnames[:count])
    flags = code.co_flags
    extra = code.co_varnames[count:]
    values = [frame.f_locals.get(name) for name in names]
    position = 0
    if flags & 0x04 and position < len(extra):  # CO_VARARGS
        values.extend(frame.f_locals.get(extra[position]) or ())
        position += 1
    if flags & 0x08 and position < len(extra):  # CO_VARKEYWORDS
        values.extend((frame.f_locals.get(extra[position]) or {}).values())
    return any(item is value for item in values)


def variable_name(value: Any, frame: FrameType | None, fallback: str) -> str:
    """Return the name of the variable holding ``value`` where it was first passed.

    Frames that received ``value`` as an argument are passed over, up to the code
    that passed it on; there its local variable holding ``value`` names it.
    """
    while frame is not None and _is_argument(value, frame):
        frame = frame.f_back
    if frame is None:
        return fallback
    return next(
        (name for name, item in frame.f_locals.items() if item is value), fallback
    )


def _of_run(history: OrderedDict[str, dict[str, Any]], run_id: str) -> dict[str, Any]:
    """Return the entry of ``run_id`` in ``history``, forgetting the oldest runs."""
    entry = history.setdefault(run_id, {})
    history.move_to_end(run_id)
    while len(history) > RUN_HISTORY:
        history.popitem(last=False)
    return entry


def _dataset_name(run_id: str, X: Any, frame: FrameType | None) -> str:
    name = variable_name(X, frame, UNKNOWN_DATASET)
    with _lock:
        seen = _of_run(_datasets, run_id).setdefault(name, [])
        if id(X) not in seen:
            seen.append(id(X))
        index = seen.index(id(X))
    return name if index == 0 else f"{name}-{index + 1}"


def _shown(value: Any, frame: FrameType | None) -> str:
    """Show one argument of a call as MLflow's ``metric_info.json`` does."""
    import numpy as np

    if value is None or np.isscalar(value):
        if isinstance(value, str) and len(value) > MAX_SHOWN_TEXT:
            return repr(value[:MAX_SHOWN_TEXT] + "...")
        return repr(value)
    return variable_name(value, frame, f"<{type(value).__name__}>")


def _command(
    name: str,
    parameters: tuple[str, ...],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    frame: FrameType | None,
) -> str:
    shown = [
        f"{key}={_shown(value, frame)}"
        for key, value in (*zip(parameters, args, strict=False), *kwargs.items())
    ]
    return f"{name}({', '.join(shown)})"


def _log(
    run_id: str, client: Any, metric: str, dataset: str, command: str, value: float
) -> None:
    """Log ``value`` under the next key of ``metric`` and rewrite metric_info.json."""
    from mltrail.sklearn.shared import _background
    from mltrail.sklearn.shared._runs import add_metrics

    with _lock:
        calls = _of_run(_calls, run_id)
        made = calls.setdefault(metric, [])
        index = len(made)
        key = f"{metric if index == 0 else f'{metric}-{index + 1}'}_{dataset}"
        made.append((key, command))
        info = dict(sorted(item for items in calls.values() for item in items))
    add_metrics(client, run_id, {key: value})
    text = json.dumps(info, indent=2).encode()
    _background.submit(
        run_id, lambda: [(METRIC_INFO_ARTIFACT, text)], name=METRIC_INFO_ARTIFACT
    )


def _follow(estimator: Any, record: Callable[[str, Any], None]) -> None:
    """Call ``record(run_id, client)`` for a call of a logged model, quietly.

    Only with ``log_post_training_metrics``, and only for a model autolog logged
    outside a ``partial_fit`` loop; a failure warns and goes no further.
    """
    if not is_enabled():
        return
    target = _models.post_training_run(estimator)
    if target is None:
        return
    try:
        with _state.quiet():
            record(*target)
    except Exception as exc:  # autolog must never break the user's call
        _models.warn(exc, stacklevel=_WARN_STACKLEVEL + 1)


def on_predicted(event: Predicted) -> None:
    """Follow a logged model's prediction, for the metrics computed on it later."""
    _follow(
        event.estimator,
        lambda run_id, client: on_predict(
            run_id, client, event.X, event.output, event.frame
        ),
    )


def on_scored(event: Scored) -> None:
    """Log a logged model's ``score`` under MLflow's name."""
    if _state.is_number(event.result):
        _follow(
            event.estimator,
            lambda run_id, client: on_score(
                run_id,
                client,
                event.estimator,
                event.function,
                event.args,
                event.kwargs,
                float(event.result),
                event.frame,
            ),
        )


def on_metric_computed(event: MetricComputed) -> None:
    """Log a metric computed on a followed prediction under MLflow's name."""
    if not (is_enabled() and _state.is_number(event.result)):
        return
    try:
        with _state.quiet():
            on_metric_call(
                event.function,
                event.args,
                event.kwargs,
                float(event.result),
                event.frame,
            )
    except Exception as exc:  # autolog must never break the user's call
        _models.warn(exc, stacklevel=_WARN_STACKLEVEL)


def on_predict(
    run_id: str, client: Any, X: Any, output: Any, frame: FrameType | None
) -> None:
    """Follow ``output``, a prediction on X of the model logged to ``run_id``."""
    name = _dataset_name(run_id, X, frame)
    key = id(output)
    try:
        ref: Any = weakref.ref(output, lambda _: _forget(key))
    except TypeError:  # a plain list or scalar: MLflow cannot follow it either
        return
    with _lock:
        _predictions[key] = (ref, run_id, name, client)
        _predictions.move_to_end(key)
        while len(_predictions) > PREDICTION_HISTORY:
            _predictions.popitem(last=False)


def _forget(key: int) -> None:
    with _lock:
        _predictions.pop(key, None)


def on_score(
    run_id: str,
    client: Any,
    estimator: Any,
    score: Any,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    value: float,
    frame: FrameType | None,
) -> None:
    """Log ``value = estimator.score(*args, **kwargs)`` as ``<Class>_score_<X>``."""
    import inspect

    X = args[0] if args else kwargs.get("X")
    name = f"{type(estimator).__name__}_score"
    parameters = tuple(inspect.signature(score).parameters)[1:]
    command = _command(
        f"{type(estimator).__name__}.score", parameters, args, kwargs, frame
    )
    _log(run_id, client, name, _dataset_name(run_id, X, frame), command, value)


def on_metric_call(
    function: Any,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    value: float,
    frame: FrameType | None,
) -> None:
    """Log a metric computed on a followed prediction under MLflow's key."""
    import inspect

    import numpy as np

    found = None
    with _lock:
        for argument in (*args, *kwargs.values()):
            if argument is None or np.isscalar(argument):
                continue
            entry = _predictions.get(id(argument))
            if entry is not None and entry[0]() is argument:
                found = entry
                break
    if found is None:
        return
    _, run_id, dataset, client = found
    name = function.__name__
    parameters = tuple(inspect.signature(function).parameters)
    command = _command(name, parameters, args, kwargs, frame)
    _log(run_id, client, name, dataset, command, value)


def caller_frame(depth: int) -> FrameType | None:
    """Return the frame ``depth`` levels above the caller of this function."""
    try:
        return sys._getframe(depth + 1)
    except ValueError:  # pragma: no cover - a stack that shallow has no caller
        return None
