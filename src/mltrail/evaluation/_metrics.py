"""Metric suites computed from labels and predictions that already exist.

Nothing here predicts: the caller passes ``y_pred`` (and ``y_score``, the output of
``predict_proba`` or ``decision_function``) that the model already produced. Every
suite returns a ``dict[str, float]`` keyed by the bare metric name; the caller adds
the prefix (``training_``, ``test_``, ``<dataset>_``). A metric that is undefined for
the data (one class present, no scores, constant target, fewer than two clusters) is
left out; no suite emits a warning. Rows whose label, prediction or weight is missing
(``None``, ``NaN``, ``pd.NA``) are left out of every metric.

Keys of :func:`classifier_metrics`:

- always: ``accuracy``, ``balanced_accuracy``, ``precision_weighted``,
  ``recall_weighted``, ``f1_weighted``, ``precision_macro``, ``recall_macro``,
  ``f1_macro``, ``matthews_corrcoef``;
- binary targets (two classes): ``precision``, ``recall``, ``f1`` of the positive
  class, and the confusion-matrix counts ``true_positives``, ``false_positives``,
  ``true_negatives``, ``false_negatives`` (weighted sums when ``sample_weight`` is
  given). The positive class is ``pos_label``, else the second class (``classes[1]``,
  the column sklearn's ``predict_proba[:, 1]`` scores). A multiclass confusion matrix
  has as many counts as classes squared, so it is not a metric: it lives in the
  ``confusion_matrix`` plot's JSON (``_plots.confusion_matrix_plot``);
- with ``y_score``: ``roc_auc`` and ``average_precision`` (binary: of the positive
  class; multiclass: one-vs-rest, macro average over the classes present in
  ``y_true``, left out above ``MAX_SCORE_CLASSES`` classes since each class costs a
  sort; decision-function scores are accepted too);
- with probabilities: ``log_loss``.

Keys of :func:`regressor_metrics`: ``mse``, ``rmse``, ``mae``, ``r2``, ``mape``,
``max_error`` (one output only), ``explained_variance``. Several outputs are averaged
uniformly (``rmse`` is the mean of the per-output RMSEs, as sklearn's
``root_mean_squared_error``).

Keys of :func:`clusterer_metrics`: ``silhouette``, ``calinski_harabasz``,
``davies_bouldin`` (at least two clusters), ``adjusted_rand`` (when ``y_true`` is
given).

Every value equals what the matching ``sklearn.metrics`` function returns on the same
rows wherever sklearn defines it (sklearn refuses a multiclass ``roc_auc`` on
decision-function scores; here it is the mean of the one-vs-rest AUCs). The classifier
and regressor suites use numpy only (four ``bincount`` calls give every count-based
metric), which is why they take a few milliseconds; nothing in them can warn. The
clusterer suite calls sklearn's scorers with warnings silenced around them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mltrail._errors import InvalidValueError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

PROBABILITY_TOLERANCE = 1e-6
MAX_SCORE_CLASSES = 100
SILHOUETTE_MAX_SAMPLES = 2000
_EPS = float(np.finfo(np.float64).eps)
_MISSING_TYPE_NAMES = frozenset({"NAType", "NaTType"})


@dataclass(frozen=True, slots=True)
class Classification:
    """Encoded labels and scores of one classifier on one dataset.

    ``labels`` lists every class: ``classes`` in their order, then any other label
    seen in ``y_true`` or ``y_pred``, sorted. ``true_codes`` and ``pred_codes`` index
    into it. ``scores`` has one column per label, or is ``None`` when ``y_score`` was
    absent, not finite or did not line up with the labels.
    """

    labels: list[object]
    true_codes: IntArray
    pred_codes: IntArray
    sample_weight: FloatArray | None
    scores: FloatArray | None
    is_probability: bool
    positive: int | None

    @property
    def n_classes(self) -> int:
        """The number of labels."""
        return len(self.labels)

    def counts(self, codes: IntArray, mask: BoolArray | None = None) -> FloatArray:
        """Weighted count of each label in ``codes`` (restricted to ``mask``)."""
        weight = self.sample_weight
        if mask is not None:
            codes = codes[mask]
            weight = None if weight is None else weight[mask]
        counted = np.bincount(codes, weights=weight, minlength=self.n_classes)
        return counted.astype(np.float64, copy=False)

    def confusion_matrix(self) -> FloatArray:
        """Weighted confusion matrix: rows are true labels, columns predictions."""
        k = self.n_classes
        flat = self.true_codes * k + self.pred_codes
        matrix = np.bincount(flat, weights=self.sample_weight, minlength=k * k)
        return matrix.astype(np.float64, copy=False).reshape(k, k)


def classifier_metrics(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    y_score: npt.ArrayLike | None = None,
    classes: npt.ArrayLike | None = None,
    pos_label: object = None,
    sample_weight: npt.ArrayLike | None = None,
    is_probability: bool | None = None,
) -> dict[str, float]:
    """Compute the classification metric suite from existing predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The true labels.
    y_pred : array-like of shape (n_samples,)
        The predicted labels.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes), default=None
        ``predict_proba`` or ``decision_function`` output. Columns follow
        ``classes``; a 1-D array scores the second of two classes.
    classes : array-like, default=None
        The estimator's ``classes_``: the order of the ``y_score`` columns. By
        default the sorted labels of ``y_true`` and ``y_pred``.
    pos_label : object, default=None
        The positive class of a binary target; by default the second class.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row.
    is_probability : bool, default=None
        Whether ``y_score`` holds probabilities (which enables ``log_loss``). By
        default it does when its values lie in [0, 1] and rows sum to one.

    Returns
    -------
    dict of str to float
        The metrics that are defined for this data, keyed by bare name (see the
        module docstring for the list).

    Raises
    ------
    InvalidValueError
        If the arrays differ in length, are not 1-D, or ``pos_label`` is not a class.

    Examples
    --------
    >>> from mltrail.evaluation._metrics import classifier_metrics
    >>> metrics = classifier_metrics([0, 1, 1, 0], [0, 1, 0, 0])
    >>> metrics["accuracy"], metrics["true_positives"]
    (0.75, 1.0)
    """
    data = encode_classification(
        y_true,
        y_pred,
        y_score=y_score,
        classes=classes,
        pos_label=pos_label,
        sample_weight=sample_weight,
        is_probability=is_probability,
    )
    return {} if data is None else metrics_of(data)


def encode_classification(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    y_score: npt.ArrayLike | None = None,
    classes: npt.ArrayLike | None = None,
    pos_label: object = None,
    sample_weight: npt.ArrayLike | None = None,
    is_probability: bool | None = None,
) -> Classification | None:
    """Encode labels and align scores; ``None`` when no row is usable."""
    true = _labels_1d(y_true, "y_true")
    pred = _labels_1d(y_pred, "y_pred")
    n_samples = true.shape[0]
    _check_length("y_pred", pred.shape[0], n_samples)
    keep = ~(_missing(true) | _missing(pred))
    weight = None
    if sample_weight is not None:
        weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        _check_length("sample_weight", weight.shape[0], n_samples)
        keep &= np.isfinite(weight)
    if not keep.all():
        true, pred = true[keep], pred[keep]
        weight = None if weight is None else weight[keep]
    if true.shape[0] == 0:
        return None
    labels, codes = _encode(np.concatenate([true, pred]), classes)
    positive = None
    if len(labels) == 2:
        positive = 1
        if pos_label is not None:
            if pos_label not in labels:
                raise InvalidValueError(
                    "pos_label", pos_label, f"one of the classes {labels}"
                )
            positive = labels.index(pos_label)
    scores, is_probability = _align_scores(
        y_score, keep, n_samples, len(labels), is_probability
    )
    return Classification(
        labels=labels,
        true_codes=codes[: true.shape[0]],
        pred_codes=codes[true.shape[0] :],
        sample_weight=weight,
        scores=scores,
        is_probability=is_probability,
        positive=positive,
    )


def metrics_of(data: Classification) -> dict[str, float]:
    """Compute the classifier suite of already encoded data."""
    k = data.n_classes
    support = data.counts(data.true_codes)
    predicted = data.counts(data.pred_codes)
    correct = data.counts(data.true_codes, data.true_codes == data.pred_codes)
    total = float(support.sum())
    if total <= 0:
        return {}
    # sklearn's default labels: those in y_true or y_pred, whatever their weight.
    present = np.zeros(k, dtype=bool)
    present[data.true_codes] = True
    present[data.pred_codes] = True
    precision = divide_or_zero(correct, predicted)
    recall = divide_or_zero(correct, support)
    f1 = divide_or_zero(2 * correct, support + predicted)
    metrics = {"accuracy": float(correct.sum()) / total}
    metrics["balanced_accuracy"] = float(recall[support > 0].mean())
    for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        metrics[f"{name}_weighted"] = float(
            np.dot(values[present], support[present]) / total
        )
        metrics[f"{name}_macro"] = float(values[present].mean())
    matthews = _matthews(data.confusion_matrix())
    if matthews is not None:
        metrics["matthews_corrcoef"] = matthews
    if data.positive is not None:
        metrics.update(_binary_counts(data.positive, support, predicted, correct))
    if data.scores is not None:
        metrics.update(_score_metrics(data, support))
    return metrics


def regressor_metrics(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> dict[str, float]:
    """Compute the regression metric suite from existing predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The true targets.
    y_pred : array-like of the same shape as ``y_true``
        The predicted targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row.

    Returns
    -------
    dict of str to float
        ``mse``, ``rmse``, ``mae``, ``r2``, ``mape``, ``max_error`` and
        ``explained_variance``, less those undefined for this data (``r2`` and
        ``explained_variance`` need two rows, ``max_error`` one output).

    Raises
    ------
    InvalidValueError
        If the targets are not numeric or their shapes differ.

    Examples
    --------
    >>> from mltrail.evaluation._metrics import regressor_metrics
    >>> metrics = regressor_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    >>> metrics["mae"], metrics["max_error"]
    (0.6666666666666666, 2.0)
    """
    true = _targets_2d(y_true, "y_true")
    pred = _targets_2d(y_pred, "y_pred")
    if pred.shape != true.shape:
        raise InvalidValueError(
            "shape of y_pred", pred.shape, f"{true.shape}, the shape of y_true"
        )
    keep = np.isfinite(true).all(axis=1) & np.isfinite(pred).all(axis=1)
    weight = None
    if sample_weight is not None:
        weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        _check_length("sample_weight", weight.shape[0], true.shape[0])
        keep &= np.isfinite(weight)
        weight = weight[keep]
    true, pred = true[keep], pred[keep]
    if true.shape[0] == 0 or (weight is not None and weight.sum() <= 0):
        return {}
    error = true - pred
    absolute = np.abs(error)
    squared = np.average(error**2, axis=0, weights=weight)
    metrics = {
        "mse": float(squared.mean()),
        "rmse": float(np.sqrt(squared).mean()),
        "mae": float(np.average(absolute, axis=0, weights=weight).mean()),
        "mape": float(
            np.average(
                absolute / np.maximum(np.abs(true), _EPS), axis=0, weights=weight
            ).mean()
        ),
    }
    if true.shape[1] == 1:
        metrics["max_error"] = float(absolute.max())
    if true.shape[0] >= 2:
        column_weight = 1.0 if weight is None else weight[:, None]
        mean_true = np.average(true, axis=0, weights=weight)
        metrics["r2"] = explained_fraction(
            np.sum(column_weight * error**2, axis=0),
            np.sum(column_weight * (true - mean_true) ** 2, axis=0),
        )
        mean_error = np.average(error, axis=0, weights=weight)
        metrics["explained_variance"] = explained_fraction(
            np.average((error - mean_error) ** 2, axis=0, weights=weight),
            np.average((true - mean_true) ** 2, axis=0, weights=weight),
        )
    return metrics


def clusterer_metrics(
    X: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    y_true: npt.ArrayLike | None = None,
    max_samples: int = SILHOUETTE_MAX_SAMPLES,
    random_state: int = 0,
) -> dict[str, float]:
    """Compute the clustering metric suite from existing cluster labels.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data that was clustered.
    labels : array-like of shape (n_samples,)
        The cluster of each row (``labels_`` or ``fit_predict`` output).
    y_true : array-like of shape (n_samples,), default=None
        Known classes, for ``adjusted_rand``.
    max_samples : int, default=2000
        The silhouette, quadratic in the number of rows, is computed on at most this
        many rows, drawn as ``silhouette_score(sample_size=, random_state=)`` does.
    random_state : int, default=0
        Seed of that draw, so the value is reproducible.

    Returns
    -------
    dict of str to float
        ``silhouette``, ``calinski_harabasz`` and ``davies_bouldin`` when there are
        between 2 and ``n_samples - 1`` clusters, and ``adjusted_rand`` with
        ``y_true``.

    Raises
    ------
    InvalidValueError
        If ``labels`` or ``y_true`` do not have one value per row of ``X``.

    Examples
    --------
    >>> from mltrail.evaluation._metrics import clusterer_metrics
    >>> X = [[0.0], [0.1], [5.0], [5.1]]
    >>> metrics = clusterer_metrics(X, [0, 0, 1, 1], y_true=[1, 1, 0, 0])
    >>> metrics["adjusted_rand"]
    1.0
    """
    from sklearn.metrics import (
        adjusted_rand_score,
        calinski_harabasz_score,
        davies_bouldin_score,
        silhouette_score,
    )

    codes = _labels_1d(labels, "labels")
    n_samples = codes.shape[0]
    shape = getattr(X, "shape", None)
    n_rows = int(shape[0]) if shape is not None else len(X)  # type: ignore[arg-type]  # ArrayLike without shape is a sequence
    _check_length("labels", n_samples, n_rows)
    metrics: dict[str, float] = {}
    # sklearn's scorers validate X (finite, numeric) and raise ValueError when it is
    # not; they warn about nothing we can act on, so a warning never reaches the user.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if y_true is not None:
            truth = _labels_1d(y_true, "y_true")
            _check_length("y_true", truth.shape[0], n_samples)
            metrics["adjusted_rand"] = float(adjusted_rand_score(truth, codes))
        n_clusters = len(np.unique(codes))
        if not 2 <= n_clusters <= n_samples - 1:
            return metrics
        sample_size = max_samples if n_samples > max_samples else None
        scorers: dict[str, Callable[[], float]] = {
            "silhouette": lambda: silhouette_score(
                X, codes, sample_size=sample_size, random_state=random_state
            ),
            "calinski_harabasz": lambda: calinski_harabasz_score(X, codes),
            "davies_bouldin": lambda: davies_bouldin_score(X, codes),
        }
        for name, scorer in scorers.items():
            try:
                metrics[name] = float(scorer())
            except (ValueError, TypeError):
                continue  # non-numeric or non-finite X, or a sample with one cluster
    return metrics


def binary_curve(
    is_positive: BoolArray, scores: FloatArray, weight: FloatArray | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Count false and true positives at each distinct threshold, highest first.

    The same arrays as ``sklearn.metrics.confusion_matrix_at_thresholds``.
    """
    if weight is not None:
        nonzero = weight != 0
        is_positive, scores, weight = (
            is_positive[nonzero],
            scores[nonzero],
            weight[nonzero],
        )
    order = np.argsort(scores, kind="stable")[::-1]
    scores = scores[order]
    positive = is_positive[order].astype(np.float64)
    ends = np.r_[np.flatnonzero(np.diff(scores)), scores.shape[0] - 1]
    if weight is None:
        tps = np.cumsum(positive)[ends]
        fps = 1 + ends - tps
    else:
        weight = weight[order]
        tps = np.cumsum(positive * weight)[ends]
        fps = np.cumsum((1 - positive) * weight)[ends]
    return fps, tps, scores[ends]


def roc_auc_of(fps: FloatArray, tps: FloatArray) -> float | None:
    """Area under the ROC curve, or ``None`` when a class has no weight."""
    if fps.shape[0] == 0 or fps[-1] <= 0 or tps[-1] <= 0:
        return None
    return float(np.trapezoid(np.r_[0, tps] / tps[-1], np.r_[0, fps] / fps[-1]))


def average_precision_of(fps: FloatArray, tps: FloatArray) -> float | None:
    """Average precision (step integral of the PR curve), ``None`` without positives."""
    if tps.shape[0] == 0 or tps[-1] <= 0:
        return None
    precision = divide_or_zero(tps, tps + fps)
    recall = tps / tps[-1]
    return max(0.0, float(np.sum(np.diff(np.r_[0, recall]) * precision)))


def _score_metrics(data: Classification, support: FloatArray) -> dict[str, float]:
    scores = data.scores
    assert scores is not None  # noqa: S101 - the caller checked; this narrows the type
    weight = data.sample_weight
    if data.positive is not None:
        class_indices = [data.positive]
    else:
        class_indices = [int(c) for c in np.flatnonzero(support > 0)]
        if len(class_indices) > MAX_SCORE_CLASSES:
            class_indices = []
    aucs, precisions = [], []
    for c in class_indices:
        fps, tps, _ = binary_curve(data.true_codes == c, scores[:, c], weight)
        auc = roc_auc_of(fps, tps)
        if auc is not None:
            aucs.append(auc)
        average_precision = average_precision_of(fps, tps)
        if average_precision is not None:
            precisions.append(average_precision)
    metrics = {}
    if aucs:
        metrics["roc_auc"] = float(np.mean(aucs))
    if precisions:
        metrics["average_precision"] = float(np.mean(precisions))
    if data.is_probability:
        rows = np.arange(data.true_codes.shape[0])
        truth = np.clip(scores[rows, data.true_codes], _EPS, 1 - _EPS)
        metrics["log_loss"] = float(np.average(-np.log(truth), weights=weight))
    return metrics


def _binary_counts(
    positive: int, support: FloatArray, predicted: FloatArray, correct: FloatArray
) -> dict[str, float]:
    true_positives = float(correct[positive])
    false_positives = float(predicted[positive]) - true_positives
    false_negatives = float(support[positive]) - true_positives
    true_negatives = (
        float(support.sum()) - true_positives - false_positives - false_negatives
    )
    ratio = divide_or_zero(
        np.array([true_positives, true_positives, 2 * true_positives]),
        np.array(
            [
                true_positives + false_positives,
                true_positives + false_negatives,
                2 * true_positives + false_positives + false_negatives,
            ]
        ),
    )
    return {
        "precision": float(ratio[0]),
        "recall": float(ratio[1]),
        "f1": float(ratio[2]),
        "true_positives": true_positives,
        "false_positives": false_positives,
        "true_negatives": true_negatives,
        "false_negatives": false_negatives,
    }


def _matthews(matrix: FloatArray) -> float | None:
    """Matthews' correlation from the confusion matrix, summed as sklearn sums it.

    With weights, rounding can leave the product of the two variances below zero
    (sklearn then returns NaN with a RuntimeWarning): None, left out.
    """
    true_sums = matrix.sum(axis=1)
    pred_sums = matrix.sum(axis=0)
    total = float(pred_sums.sum())
    covariance = float(np.trace(matrix)) * total - float(np.dot(true_sums, pred_sums))
    spread = (total**2 - float(np.dot(pred_sums, pred_sums))) * (
        total**2 - float(np.dot(true_sums, true_sums))
    )
    if spread == 0:
        return 0.0
    return None if spread < 0 else covariance / math.sqrt(spread)


def explained_fraction(numerator: FloatArray, denominator: FloatArray) -> float:
    """Average the fraction of explained deviance, with sklearn's ``force_finite``."""
    scores = np.ones(numerator.shape[0])
    valid = (numerator != 0) & (denominator != 0)
    scores[valid] = 1 - numerator[valid] / denominator[valid]
    scores[(numerator != 0) & (denominator == 0)] = 0.0
    return float(scores.mean())


def divide_or_zero(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Element-wise division that gives 0 where the denominator is 0, silently."""
    out = np.zeros(numerator.shape[0], dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _align_scores(
    y_score: npt.ArrayLike | None,
    keep: BoolArray,
    n_samples: int,
    n_classes: int,
    is_probability: bool | None,
) -> tuple[FloatArray | None, bool]:
    """One score column per label, or ``None`` when they do not line up."""
    if y_score is None:
        return None, False
    try:
        scores = np.asarray(y_score, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(
            "y_score", y_score, "numeric scores", "Pass predict_proba output."
        ) from exc
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    _check_length("y_score", scores.shape[0] if scores.ndim else 0, n_samples)
    scores = scores[keep]
    if not np.isfinite(scores).all():
        return None, False
    if is_probability is None:
        is_probability = bool(np.all((scores >= 0) & (scores <= 1))) and (
            scores.ndim == 1
            or bool(np.all(np.abs(scores.sum(axis=1) - 1) <= PROBABILITY_TOLERANCE))
        )
    if scores.ndim == 1 and n_classes == 2:
        other = 1 - scores if is_probability else -scores
        return np.column_stack([other, scores]), is_probability
    if scores.ndim == 2 and scores.shape[1] == n_classes:
        return scores, is_probability
    return None, False


def _encode(
    values: npt.NDArray[np.generic], classes: npt.ArrayLike | None
) -> tuple[list[object], IntArray]:
    """Labels (``classes`` first, then the others sorted) and each value's code."""
    try:
        seen, inverse = _unique(values)
    except TypeError as exc:
        raise InvalidValueError(
            "class labels",
            values[:5].tolist(),
            "values of one comparable type",
            "Do not mix str and numbers in y_true and y_pred.",
        ) from exc
    if classes is None:
        labels = seen
    else:
        labels = list(np.asarray(classes).reshape(-1).tolist())
        known = set(labels)
        labels += [value for value in seen if value not in known]
    position = {label: index for index, label in enumerate(labels)}
    lookup = np.array([position[value] for value in seen], dtype=np.intp)
    return labels, lookup[inverse]


def _unique(values: npt.NDArray[np.generic]) -> tuple[list[object], IntArray]:
    """Sorted distinct values and the index of each value among them."""
    if values.dtype.kind != "O":
        unique, inverse = np.unique(values, return_inverse=True)
        return unique.tolist(), inverse.reshape(-1).astype(np.intp, copy=False)
    # A dict factorizes Python objects several times faster than np.unique sorts them.
    first_seen: dict[object, int] = {}
    codes = np.fromiter(
        (first_seen.setdefault(value, len(first_seen)) for value in values.tolist()),
        dtype=np.intp,
        count=values.shape[0],
    )
    seen = sorted(first_seen)  # type: ignore[type-var]  # TypeError when mixed, handled
    rank = np.empty(len(seen), dtype=np.intp)
    rank[[first_seen[value] for value in seen]] = np.arange(len(seen))
    return seen, rank[codes]


def _labels_1d(values: npt.ArrayLike, name: str) -> npt.NDArray[np.generic]:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InvalidValueError(
            f"shape of {name}",
            array.shape,
            "(n_samples,)",
            "Multilabel and multioutput targets have no metric suite.",
        )
    return array


def _targets_2d(values: npt.ArrayLike, name: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(
            name, values, "numeric targets", "Use classifier_metrics for labels."
        ) from exc
    if array.ndim == 1:
        return array.reshape(-1, 1)
    if array.ndim != 2:
        raise InvalidValueError(
            f"shape of {name}", array.shape, "(n_samples,) or (n_samples, n_outputs)"
        )
    return array


def _missing(array: npt.NDArray[np.generic]) -> BoolArray:
    if array.dtype.kind in "fc":
        return np.asarray(np.isnan(array), dtype=bool)
    if array.dtype.kind != "O":
        return np.zeros(array.shape[0], dtype=bool)
    try:
        # NaN is the one value not equal to itself.
        nan = np.not_equal(array, array)
        none = np.equal(array, np.asarray(None, dtype=object))
        return np.asarray(nan | none, dtype=bool)
    except TypeError:  # pd.NA refuses to be a bool
        return np.fromiter(
            (
                value is None
                or (isinstance(value, float) and math.isnan(value))
                or type(value).__name__ in _MISSING_TYPE_NAMES
                for value in array.tolist()
            ),
            dtype=bool,
            count=array.shape[0],
        )


def _check_length(name: str, length: int, expected: int) -> None:
    if length != expected:
        raise InvalidValueError(
            f"length of {name}",
            length,
            f"{expected}, one value per row",
            f"Pass {name} for exactly the rows that were predicted.",
        )
