"""What one fit tells about itself: fit arguments, params, tags and training metrics.

Pure functions over a fitted estimator and its training data. They never copy the
data: they read it, predict on it once, and slice at most a few rows.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from mltrail.sklearn.shared import _fit

if TYPE_CHECKING:
    from mltrail.sklearn.shared._events import FitEnded
    from mltrail.sklearn.shared._fit_outputs import FitOutputs

__all__ = [
    "CLUSTER_SAMPLE_SIZE",
    "on_fit_ended",
    "training_metrics",
]

CLUSTER_SAMPLE_SIZE = 2000
_logger = logging.getLogger(__name__)


def _classifier_metrics(
    estimator: Any,
    X: Any,
    y: Any,
    sample_weight: Any,
    pos_label: Any,
    predictions: dict[str, Any],
) -> dict[str, float]:
    """Return MLflow's classifier training metrics, predicting once."""
    from mltrail.sklearn.shared import _training_metrics
    from mltrail.sklearn.shared._training_metrics import are_labels

    classes: Any = getattr(estimator, "classes_", None)
    if "y_score" in predictions:  # from the fit's own outputs
        proba, y_pred = predictions["y_score"], predictions["y_pred"]
    else:
        has_proba = hasattr(estimator, "predict_proba") and classes is not None
        proba = estimator.predict_proba(X) if has_proba else None
        if proba is not None and _fit.predicts_most_probable(estimator):
            y_pred = classes.take(proba.argmax(axis=1), axis=0)  # as predict does
        else:
            y_pred = estimator.predict(X)
    if not are_labels(y_pred, classes, _fit.n_rows(X)):
        _logger.debug("mltrail left training metrics out: predict gave no labels")
        return {}
    predictions["y_pred"] = y_pred
    if proba is not None:
        predictions["y_score"] = proba
    values = _training_metrics.classifier_metrics(
        y, y_pred, proba, classes, sample_weight, pos_label
    )
    if values is None:
        values = _sklearn_classifier_metrics(
            y, y_pred, proba, classes, sample_weight, pos_label
        )
    if _score_is_default(estimator):
        values["training_score"] = values["training_accuracy_score"]
    return values


def _sklearn_classifier_metrics(
    y: Any, y_pred: Any, proba: Any, classes: Any, sample_weight: Any, pos_label: Any
) -> dict[str, float]:
    """Ask ``sklearn.metrics`` for what ``_training_metrics`` does not recognise."""
    import numpy as np
    from sklearn import metrics

    binary = pos_label is not None
    average = "binary" if binary else "weighted"
    extra = {"pos_label": pos_label} if binary else {}
    weight = {"sample_weight": sample_weight}
    # One pass for the three scores that precision_score, recall_score and f1_score
    # would each compute the same way, and accuracy as accuracy_score computes it
    # for one-dimensional labels.
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        y, y_pred, average=average, zero_division=0.0, **extra, **weight
    )
    accuracy = np.average(np.asarray(y) == y_pred, weights=sample_weight)
    values = {
        "training_precision_score": precision,
        "training_recall_score": recall,
        "training_f1_score": f1,
        "training_accuracy_score": accuracy,
    }
    if proba is not None and len(classes) > 1:
        values["training_log_loss"] = metrics.log_loss(
            y, proba, labels=classes, **weight
        )
        if len(classes) == 2:
            values["training_roc_auc"] = metrics.roc_auc_score(y, proba[:, 1], **weight)
        elif sample_weight is None:  # one-vs-one AUC takes no sample weights
            values["training_roc_auc"] = metrics.roc_auc_score(
                y, proba, average="weighted", multi_class="ovo"
            )
    return values


def _regressor_metrics(
    estimator: Any, X: Any, y: Any, sample_weight: Any, predictions: dict[str, Any]
) -> dict[str, float]:
    """Return MLflow's regressor training metrics, predicting once."""
    from mltrail.sklearn.shared import _training_metrics

    if "y_pred" not in predictions:  # not from the fit's own outputs
        predictions["y_pred"] = estimator.predict(X)
    y_pred = predictions["y_pred"]
    values = _training_metrics.regressor_metrics(y, y_pred, sample_weight)
    if values is None:
        values = _sklearn_regressor_metrics(y, y_pred, sample_weight)
    if _score_is_default(estimator):
        values["training_score"] = values["training_r2_score"]
    return values


def _sklearn_regressor_metrics(
    y: Any, y_pred: Any, sample_weight: Any
) -> dict[str, float]:
    """Ask ``sklearn.metrics`` for what ``_training_metrics`` does not recognise."""
    from sklearn import metrics

    weight = {"sample_weight": sample_weight, "multioutput": "uniform_average"}
    mse = float(metrics.mean_squared_error(y, y_pred, **weight))
    values = {
        "training_mean_squared_error": mse,
        "training_root_mean_squared_error": math.sqrt(mse),
        "training_mean_absolute_error": metrics.mean_absolute_error(
            y, y_pred, **weight
        ),
        "training_r2_score": metrics.r2_score(y, y_pred, **weight),
    }
    return values


def _cluster_metrics(estimator: Any, X: Any, labels: Any) -> dict[str, float]:
    """Return silhouette, Calinski-Harabasz and Davies-Bouldin on a bounded sample."""
    import numpy as np
    from sklearn import metrics

    if labels is None:
        labels = getattr(estimator, "labels_", None)
    n = _fit.n_rows(X)
    if labels is None or len(labels) != n:
        if not hasattr(estimator, "predict"):
            return {}
        labels = estimator.predict(X)
    labels = np.asarray(labels)
    if n > CLUSTER_SAMPLE_SIZE:
        # Evenly spaced rows: deterministic and spread over the whole data set.
        index = np.linspace(0, n - 1, CLUSTER_SAMPLE_SIZE).astype(np.intp)
        X, labels = _fit.take_rows(X, index), labels[index]
    n_labels = len(np.unique(labels))
    if not 2 <= n_labels < len(labels):
        return {}
    values = {"training_silhouette_score": metrics.silhouette_score(X, labels)}
    if not hasattr(X, "tocsr"):  # the other two do not take sparse matrices
        values["training_calinski_harabasz_score"] = metrics.calinski_harabasz_score(
            X, labels
        )
        values["training_davies_bouldin_score"] = metrics.davies_bouldin_score(
            X, labels
        )
    return values


def _score_is_default(estimator: Any) -> bool:
    """Whether ``estimator.score`` is the accuracy or R² of ``predict``, as computed."""
    from sklearn.base import ClassifierMixin, RegressorMixin
    from sklearn.pipeline import Pipeline

    score = _fit.static_method(estimator, "score")
    if score is ClassifierMixin.score or score is RegressorMixin.score:
        return True
    if isinstance(estimator, Pipeline) and score is Pipeline.__dict__["score"]:
        return _score_is_default(estimator._final_estimator)
    return False


def training_metrics(
    estimator: Any,
    X: Any,
    y: Any,
    sample_weight: Any = None,
    *,
    pos_label: Any = None,
    fit_result: Any = None,
    predictions: dict[str, Any] | None = None,
    fit_outputs: FitOutputs | None = None,
) -> dict[str, float]:
    """Return the training metrics of a fitted estimator, with MLflow's names.

    ``fit_result`` is what ``fit_predict`` returned (cluster labels), if anything;
    ``fit_outputs`` what the fit left of its own training predictions, if it was
    watched. The predictions made on X are stored in ``predictions``, if given, as
    ``y_pred`` and ``y_score`` (``predict_proba``), for later steps to reuse.
    """
    from sklearn import config_context

    if predictions is None:
        predictions = {}
    # The arguments are ours and valid: skip scikit-learn's checks of them.
    with config_context(skip_parameter_validation=True):
        if fit_outputs is not None and X is not None and y is not None:
            predictions.update(fit_outputs.predictions(estimator, X, y) or {})
        return _training_metrics(
            estimator, X, y, sample_weight, pos_label, fit_result, predictions
        )


def _training_metrics(
    estimator: Any,
    X: Any,
    y: Any,
    sample_weight: Any,
    pos_label: Any,
    fit_result: Any,
    predictions: dict[str, Any],
) -> dict[str, float]:
    from sklearn.base import is_classifier, is_clusterer, is_regressor

    values: dict[str, float] = {}
    one_output = y is not None and getattr(y, "ndim", 1) == 1
    if y is not None and is_classifier(estimator) and one_output:
        values = _classifier_metrics(
            estimator, X, y, sample_weight, pos_label, predictions
        )
    elif y is not None and is_regressor(estimator):
        values = _regressor_metrics(estimator, X, y, sample_weight, predictions)
    elif is_clusterer(estimator):
        labels = fit_result if getattr(fit_result, "ndim", 0) == 1 else None
        values = _cluster_metrics(estimator, X, labels)
    if y is not None and "training_score" not in values and hasattr(estimator, "score"):
        weight = {} if sample_weight is None else {"sample_weight": sample_weight}
        values["training_score"] = estimator.score(X, y, **weight)
    return {key: float(value) for key, value in values.items()}


def on_fit_ended(event: FitEnded) -> None:
    """Add a fit's training metrics to its record, and the predictions they made."""
    if event.is_search and event.model is None:
        return  # refit=False: nothing can predict
    event.metrics.update(
        training_metrics(
            event.estimator,
            event.X,
            event.y,
            event.sample_weight,
            pos_label=event.config.pos_label,
            fit_result=event.call.result,
            predictions=event.predictions,
            fit_outputs=event.call.outputs,
        )
    )
