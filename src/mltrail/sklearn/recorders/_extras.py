"""What a finished fit logs beyond MLflow's set: dataset, leakage, structure, plots.

``on_fit_end`` runs after the original ``fit`` returned. On the calling thread it only
fingerprints the training data, checks train/test leakage, describes the pipeline
and reads the iteration curves (a few ms on small data), then writes them in one
batch. Rendering plots, ``estimator.html`` (scikit-learn evaluates every fitted
property for it) and Parquet files run on the background worker; the end of the run
waits for them with :func:`mltrail.sklearn.shared._background.wait`.
"""

from __future__ import annotations

import json
import tempfile
import time
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mltrail import _warnings
from mltrail._system_tags import PIPELINE_TAG
from mltrail.sklearn.shared._fit import describe_train

if TYPE_CHECKING:
    from mltrail.sklearn.shared._events import EstimatorUsed, FitEnded, LoopEnded

__all__ = [
    "ESTIMATOR_HTML_ARTIFACT",
    "LEAKAGE_METRIC",
    "PIPELINE_ARTIFACT",
    "PIPELINE_TAG",
    "curve_metrics",
    "describe_train",
    "on_estimator_used",
    "on_fit_end",
    "on_fit_ended",
    "on_loop_ended",
]

PIPELINE_ARTIFACT = "pipeline.json"
ESTIMATOR_HTML_ARTIFACT = "estimator.html"
LEAKAGE_METRIC = "train_test_shared_rows"
N_ITER_METRIC = "n_iter"
TRAIN_DATASET = "train"
TRAIN_PARQUET_ARTIFACT = "datasets/train.parquet"
TRAINING_PLOT_PREFIX = "training"
MAX_DATASET_FILE_BYTES = 100 << 20
# The attributes ``iteration_curves`` reads; checked first, so that an estimator
# with none of them costs no import.
CURVE_ATTRIBUTES = (
    "loss_curve_",
    "validation_scores_",
    "validation_score_",
    "train_score_",
    "oob_improvement_",
    "oob_scores_",
    "evals_result_",
)
# The session's ``run_fit``, counted from ``_warn_leakage`` through the session's
# dispatch of ``FitEnded``; a best effort, the warning names the run either way.
LEAKAGE_STACKLEVEL = 10


def _option(config: object, name: str, default: bool = True) -> bool:
    return bool(getattr(config, name, default))


def _final_model(estimator: Any) -> Any:
    """Return the estimator that predicts: a search's best estimator, else itself.

    A search fitted with ``refit=False`` has no best estimator and cannot predict:
    its model is None.
    """
    best = getattr(estimator, "best_estimator_", None)
    if best is None and hasattr(estimator, "cv_results_"):
        return None
    return estimator if best is None else best


class _Steps:
    """Runs the parts of ``on_fit_end``; each failure becomes one line of problems."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def run(self, name: str, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:  # autolog must never break the user's fit
            self.problems.append(f"{name}: {type(exc).__name__}: {exc}")


def on_fit_ended(event: FitEnded) -> list[str]:
    """Log what :func:`on_fit_end` logs for a fit, with its training predictions."""
    return on_fit_end(
        event.run_id,
        event.estimator,
        event.X,
        event.y,
        event.config,
        sample_weight=event.sample_weight,
        y_pred=event.predictions.get("y_pred"),
        y_score=event.predictions.get("y_score"),
    )


def on_estimator_used(event: EstimatorUsed) -> list[str]:
    """Log the dataset and pipeline of an estimator that the run did not fit.

    Nothing is fitted: no iteration curves, no training plots.
    """
    import dataclasses

    unfitted = dataclasses.replace(event.config, log_iterations=False, log_plots=False)
    return on_fit_end(event.run_id, event.estimator, event.X, event.y, unfitted)


def on_loop_ended(event: LoopEnded) -> list[str]:
    """Log the pipeline and plots of a ``partial_fit`` loop's estimator."""
    if not event.has_record:
        return []
    loop = event.loop
    return on_fit_end(loop.run_id, loop.estimator, None, None, loop.config)


def on_fit_end(
    run_id: str,
    estimator: Any,
    X: Any,
    y: Any,
    config: object,
    *,
    sample_weight: Any = None,
    y_pred: Any = None,
    y_score: Any = None,
    lineage: Any = None,
    test_X: Any = None,
) -> list[str]:
    """Log the dataset, leakage, pipeline, curves and training plots of a fit.

    Parameters: ``y_pred`` and ``y_score`` (``predict_proba``, else
    ``decision_function``, on X) are the training predictions if the caller already
    has them, else the worker computes them; ``lineage`` is the ``SplitLineage`` of
    X when it came from a recorded ``train_test_split``; ``test_X`` the recorded
    test features of that split (for the leakage check). Options read from
    ``config`` (True when absent, except ``log_dataset_files``): ``log_datasets``,
    ``log_dataset_files``, ``log_pipeline``, ``log_iterations``, ``log_plots``,
    and ``pos_label``. When neither ``lineage`` nor ``test_X`` is given, X is looked
    up among the train parts of the splits ``_heldout`` recorded.

    Returns the problems met, one line each; nothing raises.
    """
    from mltrail._entities import Metric, RunTag
    from mltrail.sklearn.shared import _background

    steps = _Steps()
    model = _final_model(estimator)
    metrics: list[Metric] = []
    tags: list[RunTag] = []
    jobs: list[tuple[str, Callable[[], Iterable[tuple[str, bytes]]]]] = []
    now = int(time.time() * 1000)
    client = _background.client_of(run_id)

    if X is not None and _option(config, "log_datasets"):
        split = _Split(lineage, test_X)
        if lineage is None and test_X is None:
            steps.run("split lineage", lambda: split.find(X))
        steps.run(
            "dataset",
            lambda: client.log_inputs(
                run_id,
                [
                    describe_train(
                        estimator if model is None else model, X, y, split.lineage
                    ).to_dataset_input()
                ],
            ),
        )
        if split.has_test:
            steps.run(
                "leakage check",
                lambda: metrics.append(
                    Metric(LEAKAGE_METRIC, float(split.check(run_id, X)), now, 0)
                ),
            )
    if X is not None and _option(config, "log_dataset_files", False):
        jobs.append(("dataset files", lambda: _parquet_files(X, y)))
    if _option(config, "log_pipeline"):
        steps.run("pipeline", lambda: _pipeline(estimator, tags, jobs))
    if model is not None and _option(config, "log_iterations"):
        steps.run("iteration curves", lambda: metrics.extend(curve_metrics(model, now)))
    if model is not None and _option(config, "log_plots"):
        steps.run(
            "training plots",
            lambda: jobs.append(
                _plot_job(model, X, y, sample_weight, y_pred, y_score, config)
            ),
        )
    if metrics or tags:
        steps.run(
            "metrics and tags",
            lambda: client.log_batch(run_id, metrics=metrics, tags=tags),
        )
    for name, job in jobs:
        steps.run(
            name,
            lambda n=name, j=job: _background.submit(  # type: ignore[misc]  # default args bind the loop values
                run_id, j, name=n, reads=estimator
            ),
        )
    return steps.problems


class _Split:
    """The split the training set came from: its lineage and test rows, if known."""

    def __init__(self, lineage: Any, test_X: Any) -> None:
        self.lineage = lineage
        self.test_X = test_X
        self.shared_rows: int | None = None

    @property
    def has_test(self) -> bool:
        return self.test_X is not None or self.shared_rows is not None

    def find(self, X: Any) -> None:
        """Look X up among the train parts of the recorded splits."""
        from mltrail.sklearn.shared import _splits

        match = _splits.split_of(X)
        if match is not None and match.part == "train":
            self.lineage = match.lineage
            self.shared_rows = match.shared_rows

    def check(self, run_id: str, X: Any) -> int:
        """Count test rows identical to a training row; warn when there are any."""
        from mltrail.capture._datasets import count_shared_rows

        shared = self.shared_rows
        if shared is None:
            shared = count_shared_rows(X, self.test_X)
        _warn_leakage(run_id, shared)
        return shared


def _warn_leakage(run_id: str, shared: int) -> None:
    if shared:
        _warnings.warn(
            f"{shared} rows of the test set also appear, identical, in the training "
            f"set of run {run_id!r}: its test metrics are optimistic. Drop duplicate "
            "rows before train_test_split.",
            stacklevel=LEAKAGE_STACKLEVEL,
        )


def _parquet_files(X: Any, y: Any) -> list[tuple[str, bytes]]:
    """Background job: the training data as ``datasets/train.parquet``, if small."""
    from mltrail.capture._datasets import write_parquet

    with tempfile.TemporaryDirectory(prefix="mltrail-") as directory:
        path = write_parquet(
            X, y, Path(directory) / "train.parquet", max_bytes=MAX_DATASET_FILE_BYTES
        )
        if path is None:
            return []
        return [(TRAIN_PARQUET_ARTIFACT, path.read_bytes())]


def _pipeline(
    estimator: Any,
    tags: list[Any],
    jobs: list[tuple[str, Callable[[], Iterable[tuple[str, bytes]]]]],
) -> None:
    """Add the summary tag, and a job for ``pipeline.json`` and ``estimator.html``."""
    from mltrail._entities import RunTag
    from mltrail.capture._pipeline import pipeline_structure, pipeline_summary

    tags.append(RunTag(PIPELINE_TAG, pipeline_summary(estimator)))
    text = json.dumps(pipeline_structure(estimator), indent=2, allow_nan=False)

    def files() -> list[tuple[str, bytes]]:
        from mltrail.capture._pipeline import estimator_html

        return [
            (PIPELINE_ARTIFACT, text.encode("utf-8")),
            (ESTIMATOR_HTML_ARTIFACT, estimator_html(estimator).encode("utf-8")),
        ]

    jobs.append(("pipeline", files))


def curve_metrics(model: Any, timestamp: int) -> list[Any]:
    """Return the iteration curves of a fitted model as metric points, step = index.

    One metric per curve (``loss``, ``validation_score``, ``train_score``,
    ``oob_improvement``, ``oob_score``, ``<eval set>_<metric>``), and ``n_iter``.
    """
    import numpy as np

    from mltrail._entities import Metric

    steps = getattr(model, "steps", None)
    final = steps[-1][1] if isinstance(steps, list) and steps else model
    points = []
    if any(hasattr(final, attribute) for attribute in CURVE_ATTRIBUTES):
        from mltrail.evaluation._estimator_plots import iteration_curves

        points = [
            Metric(name, value, timestamp, step)
            for name, values in iteration_curves(model).items()
            for step, value in enumerate(values)
        ]
    n_iter = getattr(final, "n_iter_", None)
    if n_iter is not None:
        try:
            value = float(np.max(np.asarray(n_iter, dtype=np.float64)))
        except (TypeError, ValueError):
            value = None
        if value is not None and np.isfinite(value):
            points.append(Metric(N_ITER_METRIC, value, timestamp, 0))
    return points


def _importance_snapshot(model: Any) -> tuple[Any, list[str] | None]:
    """Feature importances and names; read on the worker, where they are costly."""
    from mltrail.evaluation import _estimator_plots

    steps = getattr(model, "steps", None)
    final = steps[-1][1] if isinstance(steps, list) and steps else model
    for attribute in ("feature_importances_", "coef_"):
        values = getattr(final, attribute, None)
        if values is not None:
            if hasattr(values, "toarray"):
                values = values.toarray()
            n = int(getattr(values, "shape", (len(values),))[-1])
            names = _estimator_plots._feature_names(model, final, None, n)
            kept = {attribute: values, "classes_": getattr(final, "classes_", None)}
            return types.SimpleNamespace(**kept), names
    return None, None


def _plot_job(
    model: Any,
    X: Any,
    y: Any,
    sample_weight: Any,
    y_pred: Any,
    y_score: Any,
    config: object,
) -> tuple[str, Callable[[], Iterable[tuple[str, bytes]]]]:
    """Return the job drawing the training plots of ``model`` on the worker."""
    from mltrail.sklearn.shared._fit import model_name

    pos_label = getattr(config, "pos_label", None)
    name = model_name(model)

    def files() -> list[tuple[str, bytes]]:
        from mltrail.evaluation import _estimator_plots, _plots

        plots = {}
        if X is not None:  # a partial_fit loop has no one training set to plot
            plots = _training_plots(
                model, X, y, sample_weight, y_pred, y_score, pos_label, name
            )
        own: dict[str, Any] = {}
        stub, names = _importance_snapshot(model)
        if stub is not None:
            plot = _estimator_plots.feature_importance_data(stub, names, model=name)
            if plot is not None:
                own["feature_importance"] = plot
        curves = _estimator_plots.iteration_curves_data(
            _estimator_plots.iteration_curves(model), model=name
        )
        if curves is not None:
            own["iteration_curves"] = curves
        return [
            *_plots.plot_files(plots, dataset=TRAINING_PLOT_PREFIX),
            *_plots.plot_files(own),
        ]

    return ("training plots", files)


def _training_plots(
    model: Any,
    X: Any,
    y: Any,
    sample_weight: Any,
    y_pred: Any,
    y_score: Any,
    pos_label: Any,
    name: str,
) -> dict[str, Any]:
    """Classifier or regressor plots on the training set, predicting if needed."""
    from sklearn.base import is_classifier, is_regressor

    from mltrail.evaluation import _plots
    from mltrail.sklearn.shared import _state

    if y is None or getattr(y, "ndim", 1) != 1:
        return {}
    if is_classifier(model):
        is_probability = None
        with _state.quiet():  # our own predictions on X_train are not held-out ones
            if y_score is None:
                if hasattr(model, "predict_proba"):
                    y_score, is_probability = model.predict_proba(X), True
                elif hasattr(model, "decision_function"):
                    y_score, is_probability = model.decision_function(X), False
            if y_pred is None:
                y_pred = model.predict(X)
        return _plots.plot_data_for_classifier(
            y,
            y_pred,
            y_score=y_score,
            classes=getattr(model, "classes_", None),
            pos_label=pos_label,
            sample_weight=sample_weight,
            is_probability=is_probability,
            dataset=TRAINING_PLOT_PREFIX,
            model=name,
        )
    if is_regressor(model):
        if y_pred is None:
            with _state.quiet():
                y_pred = model.predict(X)
        return _plots.plot_data_for_regressor(
            y,
            y_pred,
            dataset=TRAINING_PLOT_PREFIX,
            model=name,
        )
    return {}
