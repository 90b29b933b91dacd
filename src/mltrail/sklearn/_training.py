"""What one fit tells about itself: fit arguments, params, tags and training metrics.

Pure functions over a fitted estimator and its training data. They never copy the
data: they read it, predict on it once, and slice at most a few rows.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "CLUSTER_SAMPLE_SIZE",
    "INPUT_EXAMPLE_ROWS",
    "estimator_params",
    "estimator_tags",
    "fit_arguments",
    "head",
    "training_metrics",
]

INPUT_EXAMPLE_ROWS = 5
CLUSTER_SAMPLE_SIZE = 2000
# (module, class) defining a classifier ``predict`` that is the class of highest
# ``predict_proba``: see ``_predicts_most_probable``.
MOST_PROBABLE_PREDICTS = (
    ("sklearn.ensemble._forest", "ForestClassifier"),
    ("sklearn.ensemble._bagging", "BaggingClassifier"),
    ("sklearn.ensemble._voting", "VotingClassifier"),
    ("sklearn.calibration", "CalibratedClassifierCV"),
    ("sklearn.semi_supervised._label_propagation", "BaseLabelPropagation"),
    ("sklearn.tree._classes", "BaseDecisionTree"),
)

_logger = logging.getLogger(__name__)


@functools.cache
def _parameter_names(function: Callable[..., Any]) -> tuple[str, ...]:
    """Return the names of a fit method's parameters after ``self``."""
    try:
        parameters = list(inspect.signature(function).parameters.values())[1:]
    except (TypeError, ValueError):  # pragma: no cover - C functions
        return ()
    positional = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )
    return tuple(p.name for p in parameters if p.kind in positional)


def fit_arguments(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, Any, Any]:
    """Return ``(X, y, sample_weight)`` from the arguments of a fit call."""
    names = _parameter_names(function)
    bound = dict(zip(names, args, strict=False))
    bound.update(kwargs)
    X = args[0] if args else (bound.get(names[0]) if names else None)
    y_name = names[1] if len(names) > 1 and names[1] in ("y", "Y") else "y"
    return X, bound.get(y_name), bound.get("sample_weight")


def estimator_params(estimator: Any, *, deep: bool = True) -> dict[str, str]:
    """Return ``get_params(deep=deep)`` with every value as ``str``, never truncated."""
    return {key: str(value) for key, value in estimator.get_params(deep=deep).items()}


def estimator_tags(estimator: Any) -> dict[str, str]:
    """Return the ``estimator_name`` and ``estimator_class`` tags, as MLflow does."""
    cls = type(estimator)
    return {
        "estimator_name": cls.__name__,
        "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
    }


def head(X: Any, n: int = INPUT_EXAMPLE_ROWS) -> Any:
    """Return the first ``n`` rows of X without copying the rest."""
    iloc = getattr(X, "iloc", None)
    if iloc is not None:
        return iloc[:n]
    return X[:n]


def _n_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)


def _rows(X: Any, index: Any) -> Any:
    iloc = getattr(X, "iloc", None)
    return iloc[index] if iloc is not None else X[index]


def _classifier_metrics(
    estimator: Any,
    X: Any,
    y: Any,
    sample_weight: Any,
    pos_label: Any,
    predictions: dict[str, Any],
) -> dict[str, float]:
    """Return MLflow's classifier training metrics, predicting once."""
    from mltrail.sklearn import _training_metrics
    from mltrail.sklearn._training_metrics import are_labels

    classes: Any = getattr(estimator, "classes_", None)
    has_proba = hasattr(estimator, "predict_proba") and classes is not None
    proba = estimator.predict_proba(X) if has_proba else None
    if proba is not None and _predicts_most_probable(estimator):
        y_pred = classes.take(proba.argmax(axis=1), axis=0)  # what predict computes
    else:
        y_pred = estimator.predict(X)
    if not are_labels(y_pred, classes, _n_rows(X)):
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
    from mltrail.sklearn import _training_metrics

    y_pred = predictions["y_pred"] = estimator.predict(X)
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
    n = _n_rows(X)
    if labels is None or len(labels) != n:
        if not hasattr(estimator, "predict"):
            return {}
        labels = estimator.predict(X)
    labels = np.asarray(labels)
    if n > CLUSTER_SAMPLE_SIZE:
        # Evenly spaced rows: deterministic and spread over the whole data set.
        index = np.linspace(0, n - 1, CLUSTER_SAMPLE_SIZE).astype(np.intp)
        X, labels = _rows(X, index), labels[index]
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


def _predicts_most_probable(estimator: Any) -> bool:
    """Whether ``predict(X)`` is exactly ``classes_.take(predict_proba(X).argmax(1))``.

    Then one pass gives both, instead of two. Checked in scikit-learn's source (1.5
    and 1.9): the ``predict`` of ``MOST_PROBABLE_PREDICTS`` calls
    ``self.predict_proba`` and takes the class of its argmax, or, for trees, takes
    it from the very array that ``predict_proba`` returns. Other classifiers decide
    from ``decision_function`` or raw scores, where a rounding tie could differ.
    """
    from sklearn.pipeline import Pipeline

    predict = _static_method(estimator, "predict")
    if isinstance(estimator, Pipeline) and predict is Pipeline.__dict__["predict"]:
        return _predicts_most_probable(estimator._final_estimator)
    if getattr(estimator, "n_outputs_", 1) != 1:
        return False
    for module_name, class_name in MOST_PROBABLE_PREDICTS:
        # The estimator's own module is loaded: never import one for this check.
        owner = getattr(sys.modules.get(module_name), class_name, None)
        if owner is not None and predict is owner.__dict__.get("predict"):
            break
    else:
        return False
    if class_name == "VotingClassifier":
        return getattr(estimator, "voting", None) == "soft"  # hard voting counts
    if class_name == "BaseDecisionTree":
        # Its predict mirrors DecisionTreeClassifier.predict_proba, not an override.
        tree = sys.modules[module_name].DecisionTreeClassifier
        return _static_method(estimator, "predict_proba") is tree.__dict__.get(
            "predict_proba"
        )
    return True


def _static_method(estimator: Any, name: str) -> Any:
    """Return the class attribute behind ``estimator.name``, descriptors unresolved."""
    return inspect.getattr_static(type(estimator), name, None)


def _score_is_default(estimator: Any) -> bool:
    """Whether ``estimator.score`` is the accuracy or R² of ``predict``, as computed."""
    from sklearn.base import ClassifierMixin, RegressorMixin
    from sklearn.pipeline import Pipeline

    score = _static_method(estimator, "score")
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
) -> dict[str, float]:
    """Return the training metrics of a fitted estimator, with MLflow's names.

    ``fit_result`` is what ``fit_predict`` returned (cluster labels), if anything.
    The predictions made on X are stored in ``predictions``, if given, as
    ``y_pred`` and ``y_score`` (``predict_proba``), for later steps to reuse.
    """
    from sklearn import config_context

    # The arguments are ours and valid: skip scikit-learn's checks of them.
    with config_context(skip_parameter_validation=True):
        return _training_metrics(
            estimator,
            X,
            y,
            sample_weight,
            pos_label,
            fit_result,
            {} if predictions is None else predictions,
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
