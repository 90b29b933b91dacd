"""Cross-validation functions: fold scores and out-of-fold suites, in one run.

``cross_validate`` and ``cross_val_score`` log, per metric, ``cv_<metric>_fold`` once
per fold (step = fold index: a history whose latest value is the last fold, named so
that nobody takes it for the summary), ``cv_<metric>_mean`` and ``cv_<metric>_std``
(population standard deviation, as ``cv_results_``). ``<metric>`` is the scorer's name:
``score`` for the estimator's default scorer, the string given as ``scoring``, the
function name of a callable scorer, or each key of a multi-metric ``scoring``;
``train_<name>`` for training scores, and ``fit_time`` and ``score_time``.
``cross_val_predict`` logs the held-out suite of its out-of-fold predictions as
``cv_<metric>`` (``cv_accuracy``, ``cv_r2``, ...) and their plots as ``plots/cv_*``.

Which run, and the estimator's params, tags, code and data in it: the session's
``_validation``, which hands this recorder ``CrossValidated`` once the call
returned.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mltrail.sklearn.shared import _models

if TYPE_CHECKING:
    from mltrail.sklearn.shared._events import CrossValidated

__all__ = [
    "CV_PREFIX",
    "fold_metrics",
    "on_cross_validated",
    "scorer_name",
]

CV_PREFIX = "cv"
FOLD_SUFFIX = "_fold"
_TIMES = ("fit_time", "score_time")


def scorer_name(scoring: Any) -> str:
    """Return the name of a single-metric ``scoring`` argument."""
    if scoring is None:
        return "score"
    if isinstance(scoring, str):
        return scoring
    function = getattr(scoring, "_score_func", scoring)
    return str(getattr(function, "__name__", "score"))


def fold_metrics(result: Mapping[str, Any], scoring: Any) -> dict[str, list[float]]:
    """Return per-fold values by metric name from a ``cross_validate`` result."""
    is_single = scoring is None or isinstance(scoring, str) or callable(scoring)
    single = scorer_name(scoring) if is_single else None
    metrics: dict[str, list[float]] = {}
    for key, values in result.items():
        if key in _TIMES:
            metric = key
        elif key.startswith("test_"):
            metric = single if key == "test_score" and single else key[len("test_") :]
        elif key.startswith("train_"):
            rest = key[len("train_") :]
            metric = f"train_{single}" if rest == "score" and single else key
        else:
            continue  # "estimator", "indices"
        metrics[metric] = [float(value) for value in values]
    return metrics


def on_cross_validated(event: CrossValidated) -> None:
    """Log the fold metrics, or the out-of-fold suite, of a finished call."""
    _log(event.name, event.arguments, event.result, event.captured, event.run_id)


def _log(
    name: str,
    arguments: dict[str, Any],
    result: Any,
    captured: list[Any],
    run_id: str,
) -> None:
    if name == "cross_val_predict":
        _log_predictions(arguments, result, run_id)
        return
    if name == "cross_validate":
        folds = fold_metrics(result, arguments.get("scoring"))
    elif captured:
        folds = fold_metrics(captured[-1], arguments.get("scoring"))
    else:  # pragma: no cover - cross_val_score always calls cross_validate
        folds = {scorer_name(arguments.get("scoring")): [float(v) for v in result]}
    _log_folds(run_id, folds)


def _log_folds(run_id: str, folds: Mapping[str, list[float]]) -> None:
    import numpy as np

    from mltrail._entities import Metric
    from mltrail.sklearn.shared import _runs

    now = int(time.time() * 1000)
    points: list[Metric] = []
    for metric, values in folds.items():
        key = f"{CV_PREFIX}_{metric}"
        points.extend(
            Metric(f"{key}{FOLD_SUFFIX}", v, now, step) for step, v in enumerate(values)
        )
        points.append(Metric(f"{key}_mean", float(np.mean(values)), now, 0))
        points.append(Metric(f"{key}_std", float(np.std(values)), now, 0))
    _runs._client().log_batch(run_id, metrics=points)  # one write, synchronous


def _log_predictions(arguments: dict[str, Any], result: Any, run_id: str) -> None:
    """Log the held-out suite of ``cross_val_predict``'s out-of-fold predictions."""
    import numpy as np

    from mltrail.sklearn.shared import _runs
    from mltrail.sklearn.shared._evaluate import (
        Outputs,
        log_evaluation,
        model_kind,
        model_name,
        suite,
    )

    y = arguments.get("y")
    kind = model_kind(arguments["estimator"])
    if y is None or kind not in ("classifier", "regressor"):
        return
    method = arguments.get("method", "predict")
    outputs = Outputs(kind, model=model_name(arguments["estimator"]))
    if kind == "classifier" and method != "predict":
        y_true = np.asarray(y)
        classes = np.unique(y_true)  # cross_val_predict's column order
        score = np.asarray(result)
        if y_true.ndim != 1:
            return  # multi-output: no suite
        if score.ndim == 2 and score.shape[1] == len(classes):
            y_pred = classes.take(score.argmax(axis=1), axis=0)
        elif score.ndim == 1 and len(classes) == 2:  # binary decision_function
            y_pred = classes.take((score > 0).astype(np.intp), axis=0)
        else:
            return
        outputs.classes = classes
        outputs.add(method, result)
        outputs.y_pred = y_pred
    elif method == "predict" and (kind == "regressor" or np.ndim(result) == 1):
        outputs.y_pred = result
    else:
        return
    label = _models.pos_label()
    metrics = suite(outputs, arguments.get("X"), y, pos_label=label)
    log_evaluation(
        _runs._client(),
        run_id,
        CV_PREFIX,
        metrics,
        outputs=outputs,
        y_true=y,
        pos_label=label,
    )
