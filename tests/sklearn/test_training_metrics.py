"""The one-pass training metrics equal ``sklearn.metrics``, or defer to it."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn import metrics
from sklearn.exceptions import UndefinedMetricWarning

from mltrail.sklearn.shared._training_metrics import (
    classifier_metrics,
    regressor_metrics,
)

SETTINGS = settings(max_examples=200, deadline=None)
LABEL_SETS = {
    "ints": np.array([-3, 0, 7, 12, 40]),
    "strings": np.array(["ant", "bee", "cat", "dog", "eel"]),
    "objects": np.array(["ant", "bee", "cat", "dog", "eel"], dtype=object),
    "floats": np.array([0.0, 1.0, 2.0, 5.0, 9.0]),
}


def _assert_equal_values(actual: dict[str, float], expected: dict[str, float]) -> None:
    assert set(actual) == set(expected)
    for key, value in expected.items():
        assert math.isclose(actual[key], value, rel_tol=1e-12, abs_tol=1e-12), key


def _sklearn_classifier(
    y: Any, y_pred: Any, proba: Any, classes: Any, weight: Any, pos_label: Any
) -> dict[str, float]:
    """MLflow's training metrics, each from its own ``sklearn.metrics`` function."""
    scores: dict[str, Any] = (
        {"average": "weighted"}
        if pos_label is None
        else {"average": "binary", "pos_label": pos_label}
    )
    expected = {
        "training_precision_score": metrics.precision_score(
            y, y_pred, sample_weight=weight, zero_division=0.0, **scores
        ),
        "training_recall_score": metrics.recall_score(
            y, y_pred, sample_weight=weight, zero_division=0.0, **scores
        ),
        "training_f1_score": metrics.f1_score(
            y, y_pred, sample_weight=weight, zero_division=0.0, **scores
        ),
        "training_accuracy_score": metrics.accuracy_score(
            y, y_pred, sample_weight=weight
        ),
    }
    if proba is not None and len(classes) > 1:
        expected["training_log_loss"] = metrics.log_loss(
            y, proba, labels=classes, sample_weight=weight
        )
        if len(classes) == 2:
            expected["training_roc_auc"] = metrics.roc_auc_score(
                y, proba[:, 1], sample_weight=weight
            )
        elif weight is None:
            expected["training_roc_auc"] = metrics.roc_auc_score(
                y, proba, average="weighted", multi_class="ovo"
            )
    return expected


@st.composite
def _classifications(draw: Any, *, n_classes: int | None = None) -> dict[str, Any]:
    """Training-like data: every class in y, rows of probabilities, ties often."""
    k = draw(st.integers(2, 5)) if n_classes is None else n_classes
    n_samples = draw(st.integers(k, 40))
    extra = draw(
        st.lists(st.integers(0, k - 1), min_size=n_samples - k, max_size=n_samples - k)
    )
    true = np.array(draw(st.permutations([*range(k), *extra])))
    counts = draw(hnp.arrays(np.float64, (n_samples, k), elements=st.integers(0, 4)))
    if draw(st.booleans()):  # constant scores
        counts = np.ones((n_samples, k))
    counts[counts.sum(axis=1) == 0] = 1.0
    proba = counts / counts.sum(axis=1, keepdims=True)
    if draw(st.booleans()):
        pred = proba.argmax(axis=1)  # as a forest predicts
    else:
        pred = np.array(
            draw(
                st.lists(st.integers(0, k - 1), min_size=n_samples, max_size=n_samples)
            )
        )
    weight = None
    if draw(st.booleans()):
        weight = np.array(
            draw(
                st.lists(st.floats(0.01, 10.0), min_size=n_samples, max_size=n_samples)
            )
        )
    classes = LABEL_SETS[draw(st.sampled_from(sorted(LABEL_SETS)))][:k]
    return {
        "y": classes[true],
        "y_pred": classes[pred],
        "proba": proba,
        "classes": classes,
        "sample_weight": weight,
    }


@SETTINGS
@given(data=_classifications())
def test_classifier_metrics_equal_sklearn(data: dict[str, Any]) -> None:
    actual = classifier_metrics(**data, pos_label=None)

    assert actual is not None
    expected = _sklearn_classifier(
        data["y"],
        data["y_pred"],
        data["proba"],
        data["classes"],
        data["sample_weight"],
        None,
    )
    _assert_equal_values(actual, expected)


@SETTINGS
@given(data=_classifications(n_classes=2), positive=st.integers(0, 1))
def test_binary_pos_label_metrics_equal_sklearn(
    data: dict[str, Any], positive: int
) -> None:
    pos_label = data["classes"][positive]

    actual = classifier_metrics(**data, pos_label=pos_label)

    assert actual is not None
    expected = _sklearn_classifier(
        data["y"],
        data["y_pred"],
        data["proba"],
        data["classes"],
        data["sample_weight"],
        pos_label,
    )
    _assert_equal_values(actual, expected)


@SETTINGS
@given(data=_classifications())
def test_classifier_without_probabilities_equals_sklearn(
    data: dict[str, Any],
) -> None:
    data["proba"] = None

    actual = classifier_metrics(**data, pos_label=None)

    assert actual is not None
    expected = _sklearn_classifier(
        data["y"], data["y_pred"], None, data["classes"], data["sample_weight"], None
    )
    _assert_equal_values(actual, expected)


def test_class_absent_from_y_true_defers_the_auc_to_sklearn() -> None:
    classes = np.array([0, 1, 2])
    y = np.array([0, 1, 0, 1])
    proba = np.full((4, 3), 1 / 3)

    assert classifier_metrics(y, y, proba, classes, None, None) is None
    with pytest.raises(ValueError, match="Number of classes in y_true"):
        metrics.roc_auc_score(y, proba, average="weighted", multi_class="ovo")


def test_class_absent_from_y_true_without_scores_equals_sklearn() -> None:
    classes = np.array([0, 1, 2])
    y = np.array([0, 1, 0, 1, 1])
    y_pred = np.array([0, 2, 0, 1, 2])

    actual = classifier_metrics(y, y_pred, None, classes, None, None)

    assert actual is not None
    _assert_equal_values(
        actual, _sklearn_classifier(y, y_pred, None, classes, None, None)
    )


def test_single_class_equals_sklearn() -> None:
    classes = np.array(["only"])
    y = np.array(["only"] * 4)
    proba = np.ones((4, 1))

    actual = classifier_metrics(y, y, proba, classes, None, None)

    assert actual is not None
    _assert_equal_values(actual, _sklearn_classifier(y, y, proba, classes, None, None))


def test_one_class_in_binary_y_defers_to_sklearn() -> None:
    classes = np.array([0, 1])
    y = np.zeros(4, dtype=int)
    proba = np.array([[0.8, 0.2], [0.6, 0.4], [0.5, 0.5], [0.9, 0.1]])

    assert classifier_metrics(y, y, proba, classes, None, None) is None
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert math.isnan(metrics.roc_auc_score(y, proba[:, 1]))


def test_constant_scores_equal_sklearn() -> None:
    classes = np.array([0, 1, 2])
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    proba = np.full((7, 3), 1 / 3)
    y_pred = classes.take(proba.argmax(axis=1))

    actual = classifier_metrics(y, y_pred, proba, classes, None, None)

    assert actual is not None
    assert actual["training_roc_auc"] == 0.5
    _assert_equal_values(
        actual, _sklearn_classifier(y, y_pred, proba, classes, None, None)
    )


def test_class_without_weight_defers_the_auc_to_sklearn() -> None:
    classes = np.array([0, 1])
    y = np.array([0, 1, 0, 1])
    proba = np.array([[0.8, 0.2], [0.6, 0.4], [0.5, 0.5], [0.9, 0.1]])
    weight = np.array([1.0, 0.0, 2.0, 0.0])

    assert classifier_metrics(y, y, proba, classes, weight, None) is None
    with pytest.warns(UndefinedMetricWarning, match="No positive samples"):
        metrics.roc_auc_score(y, proba[:, 1], sample_weight=weight)


def _ordinary() -> dict[str, Any]:
    return {
        "y": np.array([0, 1, 1, 0, 1]),
        "y_pred": np.array([0, 1, 0, 0, 1]),
        "proba": np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3], [0, 1]]),
        "classes": np.array([0, 1]),
        "sample_weight": None,
        "pos_label": None,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"pos_label": 5},
        {"y": np.array([0, 1, 1, 0, 2])},
        {"y_pred": np.array([0, 1, 0, 0, 3])},
        {"y_pred": np.array([[0], [1], [0], [0], [1]])},
        {"y": np.array(["0", "1", "1", "0", "1"])},
        {"y": np.array([0, 1, 1, 0, 1], dtype=object)},
        {"y": np.array([0.0, 1.0, 1.0, 0.0, np.nan])},
        {"classes": np.array([1, 0])},
        {"classes": [0, 1]},
        {"classes": np.array([0.0, 0.5])},
        {"classes": np.array([0, "a"], dtype=object)},
        {"proba": np.full((5, 2), 0.5, dtype=np.float32)},
        {"proba": np.full((5, 2), 0.6)},
        {"proba": np.array([[1.5, -0.5]] * 5)},
        {"proba": np.array([[np.nan, 1.0]] * 5)},
        {"sample_weight": np.array([1.0, -1.0, 1.0, 1.0, 1.0])},
        {"sample_weight": np.array([1.0, np.nan, 1.0, 1.0, 1.0])},
        {"sample_weight": np.zeros(5)},
        {"sample_weight": np.ones(4)},
        {"sample_weight": np.ones(5, dtype=np.float32)},
        {"sample_weight": ["a", "b", "c", "d", "e"]},
        {"classes": np.array([0j, 1 + 0j])},
        {"y": np.array([], dtype=int), "y_pred": np.array([], dtype=int)},
    ],
    ids=[
        "pos-label-not-a-class",
        "label-not-a-class",
        "prediction-not-a-class",
        "column-predictions",
        "strings-for-numbers",
        "object-numbers",
        "nan-label",
        "unsorted-classes",
        "classes-as-list",
        "non-integral-float-classes",
        "mixed-classes",
        "float32-probabilities",
        "rows-not-summing-to-one",
        "outside-zero-one",
        "nan-probability",
        "negative-weight",
        "nan-weight",
        "zero-total-weight",
        "weight-length",
        "float32-weights",
        "text-weights",
        "complex-classes",
        "no-rows",
    ],
)
def test_unusual_data_defers_to_sklearn(change: dict[str, Any]) -> None:
    assert classifier_metrics(**_ordinary()) is not None

    assert classifier_metrics(**{**_ordinary(), **change}) is None


def test_multiclass_target_with_pos_label_defers_to_sklearn() -> None:
    classes = np.array([0, 1, 2])
    y = np.array([0, 1, 2, 1])

    assert classifier_metrics(y, y, None, classes, None, 1) is None
    with pytest.raises(ValueError, match="average='binary'"):
        metrics.precision_score(y, y, pos_label=1)


def test_pos_label_absent_from_a_binary_target_defers_to_sklearn() -> None:
    classes = np.array([0, 1, 2])
    y = np.array([0, 1, 1, 0])

    assert classifier_metrics(y, y, None, classes, None, 2) is None
    with pytest.raises(ValueError, match="pos_label=2 is not a valid label"):
        metrics.precision_score(y, y, pos_label=2)


def test_labels_that_do_not_compare_with_the_classes_defer_to_sklearn() -> None:
    classes = np.array(["a", "b"])
    y = np.array(["a", None, "b"], dtype=object)

    assert classifier_metrics(y, y, None, classes, None, None) is None


def test_pos_label_absent_from_a_one_class_target_equals_sklearn() -> None:
    classes = np.array([0, 1])
    y = np.zeros(3, dtype=int)

    actual = classifier_metrics(y, y, None, classes, None, 1)

    assert actual is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        expected = _sklearn_classifier(y, y, None, classes, None, 1)
    _assert_equal_values(actual, expected)


def _sklearn_regressor(y: Any, y_pred: Any, weight: Any) -> dict[str, float]:
    options = {"sample_weight": weight, "multioutput": "uniform_average"}
    mse = metrics.mean_squared_error(y, y_pred, **options)
    return {
        "training_mean_squared_error": mse,
        "training_root_mean_squared_error": math.sqrt(mse),
        "training_mean_absolute_error": metrics.mean_absolute_error(
            y, y_pred, **options
        ),
        "training_r2_score": metrics.r2_score(y, y_pred, **options),
    }


# Millis in [-1000, 1000]: tiny magnitudes overflow R²'s ratio in sklearn and here
# alike, with a RuntimeWarning.
_TARGETS = st.integers(-(10**6), 10**6).map(lambda value: value / 1000)


# Zero or at least 0.01: subnormal weights overflow R²'s ratio, as in sklearn.
_WEIGHTS = st.just(0.0) | st.floats(0.01, 10.0)


@st.composite
def _regressions(draw: Any) -> tuple[Any, Any, Any]:
    n_samples = draw(st.integers(2, 40))
    shape: tuple[int, ...] = (n_samples,)
    if draw(st.booleans()):
        shape = (n_samples, draw(st.integers(1, 3)))
    y = draw(hnp.arrays(np.float64, shape, elements=_TARGETS))
    if draw(st.booleans()):  # constant targets: sklearn's force_finite
        y = np.full(shape, draw(_TARGETS))
    y_pred = draw(hnp.arrays(np.float64, shape, elements=_TARGETS))
    if draw(st.booleans()):
        y_pred = y.copy()
    weight = None
    if draw(st.booleans()):
        weight = draw(hnp.arrays(np.float64, n_samples, elements=_WEIGHTS))
        weight[0] = max(weight[0], 0.5)  # a positive total
    return y, y_pred, weight


@SETTINGS
@given(data=_regressions())
def test_regressor_metrics_equal_sklearn(data: tuple[Any, Any, Any]) -> None:
    y, y_pred, weight = data

    actual = regressor_metrics(y, y_pred, weight)

    assert actual is not None
    _assert_equal_values(actual, _sklearn_regressor(y, y_pred, weight))


def test_integer_targets_equal_sklearn() -> None:
    y = np.array([3, 1, 4, 1, 5])
    y_pred = np.array([2.5, 1.0, 4.5, 2.0, 5.0])

    actual = regressor_metrics(y, y_pred, None)

    assert actual is not None
    _assert_equal_values(actual, _sklearn_regressor(y, y_pred, None))


@pytest.mark.parametrize(
    ("y", "y_pred", "weight"),
    [
        ([1.0], [1.0], None),
        ([1.0, np.nan], [1.0, 2.0], None),
        ([1.0, 2.0], [1.0, np.inf], None),
        ([1.0, 2.0], [1.0, 2.0, 3.0], None),
        ([[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0], None),
        (np.array([1.0, 2.0], dtype=np.float32), [1.0, 2.0], None),
        ([1.0, 2.0], np.array([1.0, 2.0], dtype=np.float32), None),
        (["1", "2"], [1.0, 2.0], None),
        ([1.0, 2.0], [1.0, 2.0], [0.0, 0.0]),
        ([1.0, 2.0], [1.0, 2.0], [1.0, -1.0]),
    ],
    ids=[
        "one-row",
        "nan-target",
        "infinite-prediction",
        "lengths-differ",
        "outputs-differ",
        "float32-target",
        "float32-prediction",
        "string-target",
        "zero-total-weight",
        "negative-weight",
    ],
)
def test_unusual_targets_defer_to_sklearn(y: Any, y_pred: Any, weight: Any) -> None:
    assert regressor_metrics(y, y_pred, weight) is None
