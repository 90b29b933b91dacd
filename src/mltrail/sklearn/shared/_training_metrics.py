"""MLflow's training metrics, equal to scikit-learn's, without its repeated checks.

Each ``sklearn.metrics`` function validates and encodes its inputs again (type of
target, labels, lengths, finiteness); on a fit's own predictions, one confusion
matrix and a few numpy expressions give the same numbers, to float rounding. The
functions here do that for the data they recognise as ordinary and return None for
anything else (labels outside ``classes_``, non-finite or negative weights, scores
that are not probabilities, a single class...), so that the caller lets
scikit-learn compute, warn or raise exactly as it did.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from mltrail.evaluation._metrics import (
    binary_curve,
    divide_or_zero,
    explained_fraction,
    roc_auc_of,
)

__all__ = ["are_labels", "classifier_metrics", "regressor_metrics"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

# Stricter than log_loss's own check (rtol=sqrt(eps), atol=1e-8) and roc_auc_score's
# (np.allclose): rows further from one go to scikit-learn, which warns or raises.
PROBABILITY_SUM_TOLERANCE = 1e-9
_EPS = float(np.finfo(np.float64).eps)


def classifier_metrics(
    y: Any,
    y_pred: Any,
    proba: Any,
    classes: Any,
    sample_weight: Any,
    pos_label: Any,
) -> dict[str, float] | None:
    """Return MLflow's classifier training metrics, or None to ask scikit-learn.

    The values equal ``precision_recall_fscore_support`` (``average="binary"`` with
    ``pos_label``, else ``"weighted"``; ``zero_division=0``), ``accuracy_score``,
    ``log_loss(labels=classes)`` and ``roc_auc_score`` (binary, or weighted
    one-vs-one without ``sample_weight``), keyed by MLflow's names.
    """
    if not _is_sorted(classes):
        return None
    true = _codes(y, classes)
    pred = _codes(y_pred, classes)
    if true is None or pred is None or true.shape != pred.shape or not true.size:
        return None
    is_valid, weight = _weights(sample_weight, true.shape[0])
    if not is_valid:
        return None
    scores = _set_wise_scores(true, pred, len(classes), weight, classes, pos_label)
    if scores is None:
        return None
    precision, recall, f1 = scores
    values = {
        "training_precision_score": precision,
        "training_recall_score": recall,
        "training_f1_score": f1,
        "training_accuracy_score": float(np.average(true == pred, weights=weight)),
    }
    if proba is not None and len(classes) > 1:
        probability_values = _probability_metrics(true, proba, len(classes), weight)
        if probability_values is None:
            return None
        values.update(probability_values)
    return values


def regressor_metrics(
    y: Any, y_pred: Any, sample_weight: Any
) -> dict[str, float] | None:
    """Return MLflow's regressor training metrics, or None to ask scikit-learn.

    The values equal ``mean_squared_error``, its square root, ``mean_absolute_error``
    and ``r2_score``, each with ``multioutput="uniform_average"``.
    """
    true = _targets(y)
    pred = _targets(y_pred)
    if true is None or pred is None or true.shape != pred.shape or true.shape[0] < 2:
        return None
    is_valid, weight = _weights(sample_weight, true.shape[0])
    if not is_valid:
        return None
    error = true - pred
    squared = error**2
    mse = float(np.average(np.average(squared, axis=0, weights=weight)))
    mae = float(np.average(np.average(np.abs(error), axis=0, weights=weight)))
    column_weight = 1.0 if weight is None else weight[:, None]
    numerator = np.sum(column_weight * squared, axis=0)
    deviation = true - np.average(true, axis=0, weights=weight)
    denominator = np.sum(column_weight * deviation**2, axis=0)
    return {
        "training_mean_squared_error": mse,
        "training_root_mean_squared_error": math.sqrt(mse),
        "training_mean_absolute_error": mae,
        "training_r2_score": explained_fraction(numerator, denominator),
    }


def _set_wise_scores(
    true: IntArray,
    pred: IntArray,
    n_classes: int,
    weight: FloatArray | None,
    classes: Any,
    pos_label: Any,
) -> tuple[float, float, float] | None:
    """Precision, recall and F1 as ``precision_recall_fscore_support`` averages them."""
    is_correct = true == pred
    correct_weight = None if weight is None else weight[is_correct]
    correct = np.bincount(true[is_correct], weights=correct_weight, minlength=n_classes)
    predicted = np.bincount(pred, weights=weight, minlength=n_classes)
    support = np.bincount(true, weights=weight, minlength=n_classes)
    # sklearn's labels: those in y_true or y_pred, whatever their weight.
    present = np.zeros(n_classes, dtype=bool)
    present[true] = True
    present[pred] = True
    n_present = int(np.count_nonzero(present))
    if pos_label is None:
        selected = np.flatnonzero(present)
    else:
        positive = _position(classes, pos_label)
        # sklearn raises for a multiclass target, or a pos_label it does not see.
        if positive is None or n_present > 2:
            return None
        if not present[positive] and n_present >= 2:
            return None
        selected = np.array([positive])
    tp: FloatArray = correct[selected].astype(np.float64)
    # The sums as sklearn rebuilds them from its confusion matrices, for equal
    # rounding with weights.
    pred_sum: FloatArray = tp + (predicted[selected].astype(np.float64) - tp)
    true_sum: FloatArray = tp + (support[selected].astype(np.float64) - tp)
    scores = (
        divide_or_zero(tp, pred_sum),
        divide_or_zero(tp, true_sum),
        divide_or_zero(2.0 * tp, true_sum + pred_sum),
    )
    # Weighted by support, whose sum (the total weight) is positive; sklearn's
    # unweighted fallback for a zero sum never applies.
    average_weight = true_sum if pos_label is None else None
    precision, recall, f1 = (
        float(np.average(s, weights=average_weight)) for s in scores
    )
    return precision, recall, f1


def _probability_metrics(
    true: IntArray, proba: Any, n_classes: int, weight: FloatArray | None
) -> dict[str, float] | None:
    """``log_loss`` and ``roc_auc`` of ``predict_proba``, as MLflow asks for them."""
    if not isinstance(proba, np.ndarray) or proba.dtype != np.float64:
        return None
    n_samples = true.shape[0]
    if proba.shape != (n_samples, n_classes) or not np.isfinite(proba).all():
        return None
    if proba.min() < 0 or proba.max() > 1:
        return None
    if np.any(np.abs(proba.sum(axis=1) - 1) > PROBABILITY_SUM_TOLERANCE):
        return None
    truth = np.clip(proba[np.arange(n_samples), true], _EPS, 1 - _EPS)
    values = {"training_log_loss": float(np.average(-np.log(truth), weights=weight))}
    if n_classes == 2:
        auc = roc_auc_of(*binary_curve(true == 1, proba[:, 1], weight)[:2])
        if auc is None:  # a class without weight: sklearn warns and returns NaN
            return None
        values["training_roc_auc"] = auc
    elif weight is None:  # one-vs-one AUC takes no sample weights
        auc = _one_vs_one_auc(true, proba, n_classes)
        if auc is None:
            return None
        values["training_roc_auc"] = auc
    return values


def _one_vs_one_auc(true: IntArray, proba: FloatArray, n_classes: int) -> float | None:
    """Hand and Till's AUC, averaged by pair prevalence as sklearn's ``"weighted"``."""
    if np.count_nonzero(np.bincount(true, minlength=n_classes)) != n_classes:
        return None  # sklearn needs every class of y_score in y_true
    pair_scores, prevalence = [], []
    for a, b in itertools.combinations(range(n_classes), 2):
        is_a = true == a
        is_b = true == b
        is_pair = is_a | is_b
        prevalence.append(np.average(is_pair))
        a_auc = roc_auc_of(*binary_curve(is_a[is_pair], proba[is_pair, a], None)[:2])
        b_auc = roc_auc_of(*binary_curve(is_b[is_pair], proba[is_pair, b], None)[:2])
        if a_auc is None or b_auc is None:  # pragma: no cover - both classes present
            return None
        pair_scores.append((a_auc + b_auc) / 2)
    return float(np.average(pair_scores, weights=prevalence))


def _is_sorted(classes: Any) -> bool:
    """Whether ``classes`` is a 1-D array of distinct labels in increasing order.

    sklearn orders labels by sorting; ``predict_proba`` columns follow ``classes_``.
    """
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or not classes.size:
        return False
    kind = classes.dtype.kind
    if kind == "f" and not (
        np.isfinite(classes).all() and (np.mod(classes, 1) == 0).all()
    ):
        return False  # sklearn sees non-integral floats as continuous
    if kind == "O" and not all(isinstance(label, str) for label in classes.tolist()):
        return False
    if kind not in "biufUSO":
        return False
    return bool(np.all(classes[1:] > classes[:-1]))


def _codes(labels: Any, classes: npt.NDArray[Any]) -> IntArray | None:
    """Return the index of each label in ``classes``, or None if one is not a class.

    Numbers match numbers and strings match strings, as sklearn's ``unique_labels``
    demands; an object array must hold strings (sklearn's ``type_of_target``).
    """
    array = np.asarray(labels)
    if array.ndim != 1:
        return None
    is_text = classes.dtype.kind in "USO"
    if array.dtype.kind not in ("USO" if is_text else "biuf"):
        return None
    if not array.size:
        return np.zeros(0, dtype=np.intp)
    try:
        codes = np.searchsorted(classes, array)
        codes = np.minimum(codes, classes.shape[0] - 1).astype(np.intp, copy=False)
        is_class = classes[codes] == array
    except (TypeError, ValueError):
        return None
    return codes if bool(np.all(is_class)) else None


def _weights(sample_weight: Any, n_samples: int) -> tuple[bool, FloatArray | None]:
    """``(is_usable, weights)``: finite, non-negative, one per row, a positive sum."""
    if sample_weight is None:
        return True, None
    dtype = getattr(sample_weight, "dtype", None)
    if dtype is not None and dtype.kind == "f" and dtype != np.float64:
        return False, None  # sklearn may compute in float32 then
    try:
        weight = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        return False, None
    if weight.shape != (n_samples,) or not np.isfinite(weight).all():
        return False, None
    if weight.min() < 0 or weight.sum() <= 0:
        return False, None
    return True, weight


def _targets(values: Any) -> FloatArray | None:
    """Regression targets as float64 rows, or None when sklearn would compute otherwise.

    sklearn keeps float32 targets in float32; those, and non-finite ones, go to it.
    """
    array = np.asarray(values)
    if array.dtype.kind not in "iuf" or array.ndim not in (1, 2):
        return None
    if array.dtype.kind == "f" and array.dtype != np.float64:
        return None
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        return None
    return array.reshape(-1, 1) if array.ndim == 1 else array


def _position(classes: npt.NDArray[Any], label: Any) -> int | None:
    """Return the index of ``label`` in ``classes`` by ``==``, as ``in`` finds it."""
    for index, value in enumerate(classes.tolist()):
        if value == label:
            return index
    return None


def are_labels(y_pred: Any, classes: Any, n_rows: int | None) -> bool:
    """Whether ``y_pred`` is one class label per row, every one a known class."""
    array = np.asarray(y_pred)
    if array.ndim != 1 or (n_rows is not None and array.shape[0] != n_rows):
        return False
    if isinstance(classes, np.ndarray) and classes.ndim == 1 and classes.size:
        try:
            return bool(np.isin(array, classes).all())
        except TypeError:  # labels and classes of types that do not compare
            return False
    if array.dtype.kind == "f":  # no classes to check: labels are whole numbers
        finite = array[np.isfinite(array)]
        return bool(np.all(np.mod(finite, 1) == 0))
    return array.dtype.kind in "biuUSO"
