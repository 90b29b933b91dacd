"""The held-out metric suite, and the one place that logs a held-out evaluation.

Both the automatic path (``_heldout``, ``_crossval``) and the explicit
``mltrail.evaluate`` (``_explicit``) end in :func:`log_evaluation`: the metric suite
as ``<name>_<metric>`` metrics, the dataset as a run input, and the plots submitted
to the background worker (``_background``), which the end of a run waits for. For
``_heldout`` the metrics go through the write buffer and the dataset input through
the worker as well, so that the user's ``predict`` never waits for the store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mltrail.sklearn.shared._fit import model_kind, model_name, predicts_most_probable

__all__ = [
    "Outputs",
    "complete_outputs",
    "log_evaluation",
    "model_kind",
    "model_name",
    "suite",
]

TEST_NAME = "test"
TEST_CONTEXT = "test"
EVAL_CONTEXT = "eval"
# Rows of predict_proba further from summing to one are not probabilities (float32
# models such as XGBoost's sum to one within about 1e-7).
PROBABILITY_SUM_TOLERANCE = 1e-4

_logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Outputs:
    """What one model predicted on one dataset; each method is called at most once."""

    kind: str
    y_pred: Any = None
    y_score: Any = None
    is_probability: bool | None = None
    classes: Any = None
    # The estimator's name in plot titles (see ``model_name``).
    model: str | None = None

    def add(self, method: str, output: Any) -> None:
        """Keep the output of ``method`` (a prediction method) if still missing."""
        import numpy as np

        if method == "predict":
            if self.y_pred is None:
                self.y_pred = output
        elif self.y_score is None or (
            method != "decision_function" and not self.is_probability
        ):
            if method == "predict_log_proba":
                self.y_score, self.is_probability = np.exp(output), True
            elif method == "predict_proba":
                self.y_score, self.is_probability = output, True
            else:
                self.y_score, self.is_probability = output, False


def complete_outputs(estimator: Any, X: Any, outputs: Outputs) -> None:
    """Compute what the suite needs and the caller did not, each method once.

    The caller keeps the held-out hooks quiet meanwhile: these calls are ours.
    """
    import numpy as np

    if outputs.kind != "classifier":
        if outputs.y_pred is None and hasattr(estimator, "predict"):
            outputs.y_pred = estimator.predict(X)
        return
    if outputs.classes is None:
        outputs.classes = getattr(estimator, "classes_", None)
    if not outputs.is_probability:
        for method in ("predict_proba", "decision_function"):
            if method == "decision_function" and outputs.y_score is not None:
                break
            if hasattr(estimator, method):
                outputs.add(method, getattr(estimator, method)(X))
                break
    if outputs.y_pred is None:
        classes = outputs.classes
        score = outputs.y_score
        if (
            outputs.is_probability
            and isinstance(classes, np.ndarray)
            and getattr(score, "ndim", 0) == 2
            and predicts_most_probable(estimator)
        ):
            outputs.y_pred = classes.take(np.asarray(score).argmax(axis=1), axis=0)
        else:
            outputs.y_pred = estimator.predict(X)


def _note(problem: str) -> None:
    _logger.debug("mltrail left held-out metrics out: %s", problem)


def _rows(value: Any) -> int | None:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) else None
    try:
        return len(value)
    except TypeError:
        return None


def _are_scores(outputs: Outputs, n_rows: int | None) -> bool:
    """Whether ``y_score`` is what its method returns: one row per sample, finite.

    Probabilities lie in [0, 1], one column per class, and each row sums to one.
    """
    import numpy as np

    score = outputs.y_score
    if not isinstance(score, np.ndarray) or score.dtype.kind not in "biuf":
        return False
    if n_rows is not None and (score.ndim == 0 or score.shape[0] != n_rows):
        return False
    n_classes = None if outputs.classes is None else len(outputs.classes)
    if score.ndim == 1:
        is_shaped = n_classes in (None, 2) and not outputs.is_probability
    else:
        is_shaped = score.ndim == 2 and n_classes in (None, score.shape[1])
    if not is_shaped or not np.isfinite(score).all():
        return False
    if outputs.is_probability:
        return bool(
            score.min(initial=0.0) >= 0
            and score.max(initial=0.0) <= 1
            and np.all(np.abs(score.sum(axis=1) - 1) <= PROBABILITY_SUM_TOLERANCE)
        )
    return True


def vet_outputs(outputs: Outputs, n_rows: int | None) -> None:
    """Drop, with a debug note, the outputs whose kind is not certain.

    A wrong held-out metric is worse than none: labels must be one known class per
    row, scores one row per sample (probabilities in [0, 1], summing to one), and
    regression predictions numbers, one row per sample.
    """
    import numpy as np

    from mltrail.sklearn.shared import _training_metrics

    if outputs.kind == "classifier":
        if outputs.y_score is not None and not _are_scores(outputs, n_rows):
            _note(f"scores of shape {np.shape(outputs.y_score)} are not scores")
            outputs.y_score = outputs.is_probability = None
        if outputs.y_pred is not None and not _training_metrics.are_labels(
            outputs.y_pred, outputs.classes, n_rows
        ):
            _note("the predictions are not class labels of the model")
            outputs.y_pred = None
        return
    y_pred = outputs.y_pred
    if y_pred is None:
        return
    array = np.asarray(y_pred)
    is_sure = array.ndim in (1, 2) and (n_rows is None or array.shape[0] == n_rows)
    if outputs.kind == "regressor":
        is_sure = is_sure and array.dtype.kind in "biuf"
    else:  # a clusterer's labels
        is_sure = is_sure and array.ndim == 1 and array.dtype.kind in "biu"
    if not is_sure:
        _note(f"{outputs.kind} predictions of shape {array.shape} are not one per row")
        outputs.y_pred = None


def suite(
    outputs: Outputs, X: Any, y_true: Any, *, pos_label: Any = None
) -> dict[str, float]:
    """Return the bare-named metric suite of ``outputs`` (empty when undefined).

    Outputs whose kind is not certain are dropped first (:func:`vet_outputs`).
    """
    import numpy as np

    from mltrail.evaluation._metrics import (
        classifier_metrics,
        clusterer_metrics,
        regressor_metrics,
    )

    vet_outputs(outputs, _rows(X) if y_true is None else _rows(y_true))
    if outputs.kind == "clusterer":
        if outputs.y_pred is None or X is None:
            return {}
        return clusterer_metrics(X, outputs.y_pred, y_true=y_true)
    if y_true is None or outputs.y_pred is None:
        return {}
    if outputs.kind == "regressor":
        return regressor_metrics(y_true, outputs.y_pred)
    if np.ndim(y_true) != 1 or np.ndim(outputs.y_pred) != 1:
        return {}  # multi-output classification has no suite
    classes = outputs.classes
    if pos_label is not None and (classes is None or pos_label not in list(classes)):
        pos_label = None
    score = outputs.y_score
    if score is not None and not isinstance(score, np.ndarray):
        score = None  # multi-output predict_proba returns a list
    return classifier_metrics(
        y_true,
        outputs.y_pred,
        y_score=score,
        classes=classes,
        pos_label=pos_label,
        is_probability=outputs.is_probability if score is not None else None,
    )


def plot_job(outputs: Outputs, y_true: Any, name: str, pos_label: Any) -> Any:
    """Return the worker job writing the plots of one evaluation, or None.

    The job writes each plot's JSON; the helper process draws the PNGs from it.
    """
    if y_true is None or outputs.y_pred is None:
        return None
    y_pred, y_score, model = outputs.y_pred, outputs.y_score, outputs.model
    if outputs.kind == "regressor":

        def regressor_job() -> Any:
            from mltrail.evaluation._plots import plot_data_for_regressor, plot_files

            plots = plot_data_for_regressor(y_true, y_pred, dataset=name, model=model)
            return plot_files(plots, dataset=name)

        return regressor_job
    if outputs.kind != "classifier":
        return None
    classes, is_probability = outputs.classes, outputs.is_probability
    classes_list = [] if classes is None else list(classes)
    positive = pos_label if pos_label in classes_list else None

    def classifier_job() -> Any:
        from mltrail.evaluation._plots import plot_data_for_classifier, plot_files

        plots = plot_data_for_classifier(
            y_true,
            y_pred,
            y_score=y_score,
            classes=classes,
            pos_label=positive,
            is_probability=is_probability if y_score is not None else None,
            dataset=name,
            model=model,
        )
        return plot_files(plots, dataset=name)

    return classifier_job


def log_evaluation(
    client: Any,
    run_id: str,
    name: str,
    metrics: dict[str, float],
    *,
    outputs: Outputs | None = None,
    X: Any = None,
    y_true: Any = None,
    lineage: Any = None,
    pos_label: Any = None,
    step: int = 0,
    is_deferred: bool = False,
    with_plots: bool = True,
) -> dict[str, float]:
    """Log ``<name>_<metric>`` metrics, the dataset input and plots; return them.

    ``X`` may be None (the dataset is no longer alive, or its input is logged
    already): then no dataset input. ``with_plots`` False leaves the plots to the
    caller (a ``partial_fit`` loop draws its last evaluation's at its end).
    ``is_deferred`` (autolog) queues the metrics on the write buffer and the
    dataset input on the background worker, so that the user's call does not wait
    for the store; reads and the end of the run wait for both. Otherwise both are
    written before returning, and a store's refusal raises.
    """
    from mltrail._entities import Metric
    from mltrail.sklearn.shared import _runs

    named = {f"{name}_{key}": float(value) for key, value in metrics.items()}
    if is_deferred:
        _runs.add_metrics(client, run_id, named, step=step)
    else:
        now = int(time.time() * 1000)
        client.log_batch(
            run_id, metrics=[Metric(k, v, now, step) for k, v in named.items()]
        )
    if X is not None:
        from mltrail.capture._datasets import describe_dataset
        from mltrail.tracking._context import system_tags

        description = describe_dataset(
            X,
            y_true,
            name=name,
            context=TEST_CONTEXT if name == TEST_NAME else EVAL_CONTEXT,
            lineage=lineage,
            source_tags=system_tags(),
            is_classification=None if outputs is None else outputs.kind == "classifier",
        )
        dataset_input = description.to_dataset_input()
        if is_deferred:
            from mltrail.sklearn.shared import _background

            _background.submit(
                run_id,
                _input_job(client, run_id, dataset_input),
                name=f"{name} dataset input",
            )
        else:
            client.log_inputs(run_id, [dataset_input])
    if outputs is not None and with_plots and wants_plots():
        job = plot_job(outputs, y_true, name, pos_label)
        if job is not None:
            from mltrail.sklearn.shared import _background

            _background.submit(run_id, job, name=f"{name} evaluation plots")
    return named


def _input_job(
    client: Any, run_id: str, dataset_input: Any
) -> Callable[[], list[tuple[str, bytes]]]:
    """Return the background job that logs one dataset input and writes no file."""

    def job() -> list[tuple[str, bytes]]:
        client.log_inputs(run_id, [dataset_input])
        return []

    return job


def wants_plots() -> bool:
    """Whether to plot: always when called directly, per ``log_plots`` under autolog."""
    from mltrail.sklearn.shared import _state

    settings = _state.settings
    return settings is None or settings.log_plots
