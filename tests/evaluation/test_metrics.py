"""The metric suites equal scikit-learn's own functions on the same rows."""

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
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine, make_blobs
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from mltrail._errors import InvalidValueError
from mltrail.evaluation._metrics import (
    MAX_SCORE_CLASSES,
    classifier_metrics,
    clusterer_metrics,
    encode_classification,
    regressor_metrics,
)


def _split(loader: Any) -> Any:
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, random_state=0)


@pytest.fixture(scope="module")
def binary() -> Any:
    X_train, X_test, y_train, y_test = _split(load_breast_cancer)
    model = LogisticRegression().fit(X_train, y_train)
    return y_test, model.predict(X_test), model.predict_proba(X_test), model


@pytest.fixture(scope="module")
def multiclass() -> Any:
    X_train, X_test, y_train, y_test = _split(load_wine)
    model = LogisticRegression().fit(X_train, y_train)
    return y_test, model.predict(X_test), model.predict_proba(X_test), model


def _expected_labels(y_true: Any, y_pred: Any, weight: Any = None) -> dict[str, float]:
    expected = {
        "accuracy": metrics.accuracy_score(y_true, y_pred, sample_weight=weight),
        "balanced_accuracy": metrics.balanced_accuracy_score(
            y_true, y_pred, sample_weight=weight
        ),
        "matthews_corrcoef": metrics.matthews_corrcoef(
            y_true, y_pred, sample_weight=weight
        ),
    }
    for average in ("weighted", "macro"):
        for name, function in (
            ("precision", metrics.precision_score),
            ("recall", metrics.recall_score),
            ("f1", metrics.f1_score),
        ):
            expected[f"{name}_{average}"] = function(
                y_true, y_pred, average=average, sample_weight=weight
            )
    return expected


def _assert_close(actual: Any, expected: Any) -> None:
    for name, value in expected.items():
        assert actual[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_binary_metrics_equal_sklearn(binary: Any) -> None:
    y_true, y_pred, proba, model = binary

    result = classifier_metrics(y_true, y_pred, y_score=proba, classes=model.classes_)

    expected = _expected_labels(y_true, y_pred)
    tn, fp, fn, tp = metrics.confusion_matrix(y_true, y_pred).ravel()
    expected.update(
        precision=metrics.precision_score(y_true, y_pred),
        recall=metrics.recall_score(y_true, y_pred),
        f1=metrics.f1_score(y_true, y_pred),
        true_positives=tp,
        false_positives=fp,
        true_negatives=tn,
        false_negatives=fn,
        roc_auc=metrics.roc_auc_score(y_true, proba[:, 1]),
        average_precision=metrics.average_precision_score(y_true, proba[:, 1]),
        log_loss=metrics.log_loss(y_true, proba),
    )
    _assert_close(result, expected)
    assert set(result) == set(expected)


def test_multiclass_metrics_equal_sklearn(multiclass: Any) -> None:
    y_true, y_pred, proba, model = multiclass

    result = classifier_metrics(y_true, y_pred, y_score=proba, classes=model.classes_)

    expected = _expected_labels(y_true, y_pred)
    expected.update(
        roc_auc=metrics.roc_auc_score(y_true, proba, multi_class="ovr"),
        average_precision=metrics.average_precision_score(y_true, proba),
        log_loss=metrics.log_loss(y_true, proba),
    )
    _assert_close(result, expected)
    assert set(result) == set(expected)


def test_string_labels_equal_sklearn(multiclass: Any) -> None:
    y_true, y_pred, proba, _ = multiclass
    names = np.array(["barolo", "grignolino", "barbera"], dtype=object)

    result = classifier_metrics(
        names[y_true], names[y_pred], y_score=proba, classes=names
    )

    expected = _expected_labels(names[y_true], names[y_pred])
    expected["roc_auc"] = metrics.roc_auc_score(y_true, proba, multi_class="ovr")
    expected["log_loss"] = metrics.log_loss(y_true, proba)
    _assert_close(result, expected)


def test_weighted_metrics_equal_sklearn(binary: Any) -> None:
    y_true, y_pred, proba, _ = binary
    weight = np.random.default_rng(0).uniform(0.1, 3.0, y_true.shape[0])

    result = classifier_metrics(y_true, y_pred, y_score=proba, sample_weight=weight)

    expected = _expected_labels(y_true, y_pred, weight)
    expected.update(
        roc_auc=metrics.roc_auc_score(y_true, proba[:, 1], sample_weight=weight),
        average_precision=metrics.average_precision_score(
            y_true, proba[:, 1], sample_weight=weight
        ),
        log_loss=metrics.log_loss(y_true, proba, sample_weight=weight),
    )
    _assert_close(result, expected)


def test_string_pos_label_sets_binary_metrics(binary: Any) -> None:
    y_true, y_pred, proba, _ = binary
    names = np.array(["malignant", "benign"])

    # classes_ is [0, 1], i.e. the proba columns are [malignant, benign].
    result = classifier_metrics(
        names[y_true],
        names[y_pred],
        y_score=proba,
        classes=names,
        pos_label="malignant",
    )
    assert result["precision"] == pytest.approx(
        metrics.precision_score(names[y_true], names[y_pred], pos_label="malignant")
    )
    assert result["roc_auc"] == pytest.approx(
        metrics.roc_auc_score(y_true == 0, proba[:, 0])
    )


def test_decision_function_scores_give_no_log_loss(binary: Any) -> None:
    X_train, X_test, y_train, y_test = _split(load_breast_cancer)
    model = LinearSVC().fit(X_train, y_train)
    scores = model.decision_function(X_test)

    result = classifier_metrics(y_test, model.predict(X_test), y_score=scores)

    assert "log_loss" not in result
    assert result["roc_auc"] == pytest.approx(metrics.roc_auc_score(y_test, scores))
    assert result["average_precision"] == pytest.approx(
        metrics.average_precision_score(y_test, scores)
    )


def test_multiclass_decision_function_roc_auc_is_mean_of_one_vs_rest() -> None:
    X_train, X_test, y_train, y_test = _split(load_wine)
    model = LinearSVC().fit(X_train, y_train)
    scores = model.decision_function(X_test)

    result = classifier_metrics(y_test, model.predict(X_test), y_score=scores)

    per_class = [
        metrics.roc_auc_score(y_test == label, scores[:, index])
        for index, label in enumerate(model.classes_)
    ]
    assert "log_loss" not in result
    assert result["roc_auc"] == pytest.approx(np.mean(per_class))


def test_single_class_present_omits_roc_auc(binary: Any) -> None:
    y_true, y_pred, proba, model = binary
    ones = y_true == 1

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = classifier_metrics(
            y_true[ones], y_pred[ones], y_score=proba[ones], classes=model.classes_
        )

    assert "roc_auc" not in result
    assert result["accuracy"] == pytest.approx(
        metrics.accuracy_score(y_true[ones], y_pred[ones])
    )
    assert result["log_loss"] == pytest.approx(
        metrics.log_loss(y_true[ones], proba[ones], labels=[0, 1])
    )


def test_only_one_label_anywhere_gives_label_metrics_only() -> None:
    result = classifier_metrics(
        ["a", "a", "a"], ["a", "a", "a"], y_score=[0.9, 0.8, 0.7]
    )

    assert result["accuracy"] == 1.0
    assert result["matthews_corrcoef"] == 0.0
    assert "roc_auc" not in result
    assert "true_positives" not in result


def test_missing_labels_are_left_out() -> None:
    y_true = np.array(["a", None, "b", float("nan"), "b"], dtype=object)
    y_pred = np.array(["a", "a", "b", "b", "a"], dtype=object)

    result = classifier_metrics(y_true, y_pred)

    assert result["accuracy"] == pytest.approx(2 / 3)


def test_pandas_na_labels_are_left_out() -> None:
    pd = pytest.importorskip("pandas")
    y_true = pd.Series(["a", pd.NA, "b", "b"], dtype=object)

    result = classifier_metrics(y_true, ["a", "a", "b", "a"])

    assert result["accuracy"] == pytest.approx(2 / 3)


def test_non_finite_scores_omit_score_metrics() -> None:
    result = classifier_metrics([0, 1, 1], [0, 1, 0], y_score=[0.1, np.nan, 0.4])

    assert "roc_auc" not in result
    assert "log_loss" not in result
    assert result["accuracy"] == pytest.approx(2 / 3)


def test_score_columns_that_do_not_match_labels_are_ignored() -> None:
    result = classifier_metrics([0, 1, 2], [0, 1, 2], y_score=[[0.5, 0.5]] * 3)

    assert "roc_auc" not in result


def test_all_rows_missing_gives_nothing() -> None:
    assert classifier_metrics([np.nan, np.nan], [1.0, 0.0]) == {}


def test_zero_total_weight_gives_nothing() -> None:
    assert classifier_metrics([0, 1], [0, 1], sample_weight=[0.0, 0.0]) == {}


def test_unknown_pos_label_raises() -> None:
    with pytest.raises(InvalidValueError, match="pos_label must be one of the classes"):
        classifier_metrics([0, 1], [0, 1], pos_label=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_pred": [0, 1]}, "length of y_pred must be 3"),
        ({"sample_weight": [1.0]}, "length of sample_weight must be 3"),
        ({"y_score": [0.1, 0.2]}, "length of y_score must be 3"),
        ({"y_score": ["x", "y", "z"]}, "y_score must be numeric scores"),
        (
            {"y_pred": [[0, 1], [1, 0], [0, 0]]},
            r"shape of y_pred must be \(n_samples,\)",
        ),
    ],
    ids=["y_pred", "sample_weight", "y_score", "y_score-text", "multilabel"],
)
def test_malformed_input_raises(kwargs: dict[str, Any], message: str) -> None:
    arguments = {"y_true": [0, 1, 1], "y_pred": [0, 1, 0], **kwargs}
    with pytest.raises(InvalidValueError, match=message):
        classifier_metrics(**arguments)


def test_mixed_label_types_raise() -> None:
    with pytest.raises(InvalidValueError, match="values of one comparable type"):
        classifier_metrics(
            np.array(["a", 1], dtype=object), np.array([1, "a"], dtype=object)
        )


def test_column_vector_labels_are_accepted() -> None:
    result = classifier_metrics([[0], [1]], [[0], [0]])

    assert result["accuracy"] == 0.5


def test_unseen_test_label_is_counted_but_drops_scores() -> None:
    data = encode_classification(
        [0, 1, 2], [0, 1, 1], y_score=[[0.9, 0.1]] * 3, classes=[0, 1]
    )

    assert data is not None
    assert data.labels == [0, 1, 2]
    assert data.scores is None


def test_one_dimensional_probability_is_positive_class(binary: Any) -> None:
    y_true, y_pred, proba, _ = binary

    result = classifier_metrics(y_true, y_pred, y_score=proba[:, 1])

    assert result["log_loss"] == pytest.approx(metrics.log_loss(y_true, proba))


def test_no_warning_escapes_on_degenerate_input() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = classifier_metrics([0, 0, 0], [1, 1, 1], y_score=[0.2, 0.3, 0.9])

    assert result["precision_macro"] == 0.0
    assert result["balanced_accuracy"] == 0.0


def test_weighted_single_predicted_class_gives_sklearn_matthews() -> None:
    y_true = np.array([0, 0] + [1] * 36)
    y_pred = np.zeros(38, dtype=int)
    weight = np.full(38, 0.17511107893000566)  # its sums once made a variance < 0

    result = classifier_metrics(y_true, y_pred, sample_weight=weight)

    assert result["matthews_corrcoef"] == metrics.matthews_corrcoef(
        y_true, y_pred, sample_weight=weight
    )


def test_matthews_is_left_out_where_sklearn_finds_it_undefined() -> None:
    y_true, y_pred, weight = [0, 0, 0, 0], [1, 0, 1, 1], [5.36, 5.66, 9.06, 3.92]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert math.isnan(
            metrics.matthews_corrcoef(y_true, y_pred, sample_weight=weight)
        )

    result = classifier_metrics(y_true, y_pred, sample_weight=weight)

    assert "matthews_corrcoef" not in result
    assert result["accuracy"] == metrics.accuracy_score(
        y_true, y_pred, sample_weight=weight
    )


@pytest.fixture(scope="module")
def regression() -> Any:
    X_train, X_test, y_train, y_test = _split(load_diabetes)
    return y_test, LinearRegression().fit(X_train, y_train).predict(X_test)


def _expected_regression(
    y_true: Any, y_pred: Any, weight: Any = None
) -> dict[str, float]:
    return {
        "mse": metrics.mean_squared_error(y_true, y_pred, sample_weight=weight),
        "rmse": metrics.root_mean_squared_error(y_true, y_pred, sample_weight=weight),
        "mae": metrics.mean_absolute_error(y_true, y_pred, sample_weight=weight),
        "r2": metrics.r2_score(y_true, y_pred, sample_weight=weight),
        "mape": metrics.mean_absolute_percentage_error(
            y_true, y_pred, sample_weight=weight
        ),
        "explained_variance": metrics.explained_variance_score(
            y_true, y_pred, sample_weight=weight
        ),
    }


def test_regressor_metrics_equal_sklearn(regression: Any) -> None:
    y_true, y_pred = regression

    result = regressor_metrics(y_true, y_pred)

    expected = _expected_regression(y_true, y_pred)
    expected["max_error"] = metrics.max_error(y_true, y_pred)
    _assert_close(result, expected)
    assert set(result) == set(expected)


def test_weighted_regressor_metrics_equal_sklearn(regression: Any) -> None:
    y_true, y_pred = regression
    weight = np.random.default_rng(1).uniform(0.5, 2.0, y_true.shape[0])

    result = regressor_metrics(y_true, y_pred, sample_weight=weight)

    _assert_close(result, _expected_regression(y_true, y_pred, weight))


def test_multioutput_regressor_averages_outputs(regression: Any) -> None:
    y_true, y_pred = regression
    true = np.column_stack([y_true, y_true / 10])
    pred = np.column_stack([y_pred, y_pred / 7])

    result = regressor_metrics(true, pred)

    _assert_close(result, _expected_regression(true, pred))
    assert "max_error" not in result


def test_constant_target_follows_sklearn_force_finite() -> None:
    result = regressor_metrics([2.0, 2.0, 2.0], [2.0, 2.0, 3.0])

    assert result["r2"] == metrics.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 3.0])
    assert regressor_metrics([2.0, 2.0], [2.0, 2.0])["r2"] == 1.0


def test_single_row_omits_r2() -> None:
    result = regressor_metrics([1.0], [2.0])

    assert "r2" not in result
    assert result["mse"] == 1.0


def test_non_finite_rows_are_left_out() -> None:
    result = regressor_metrics([1.0, np.nan, 3.0], [1.0, 2.0, np.inf])

    assert result == {
        "mse": 0.0,
        "rmse": 0.0,
        "mae": 0.0,
        "mape": 0.0,
        "max_error": 0.0,
    }


def test_no_finite_row_gives_nothing() -> None:
    assert regressor_metrics([np.nan], [1.0]) == {}


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        (["a", "b"], [1.0, 2.0], "y_true must be numeric targets"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], r"shape of y_pred must be \(2, 1\)"),
        (np.zeros((2, 1, 1)), np.zeros((2, 1, 1)), "shape of y_true must be"),
    ],
    ids=["text", "length", "three-d"],
)
def test_malformed_targets_raise(y_true: Any, y_pred: Any, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        regressor_metrics(y_true, y_pred)


def test_regressor_sample_weight_length_is_checked() -> None:
    with pytest.raises(InvalidValueError, match="length of sample_weight"):
        regressor_metrics([1.0, 2.0], [1.0, 2.0], sample_weight=[1.0])


@pytest.fixture(scope="module")
def blobs() -> Any:
    X, y = make_blobs(n_samples=600, centers=4, random_state=0)
    return X, KMeans(n_clusters=4, n_init=3, random_state=0).fit_predict(X), y


def test_clusterer_metrics_equal_sklearn(blobs: Any) -> None:
    X, labels, y = blobs

    result = clusterer_metrics(X, labels, y_true=y)

    assert result == pytest.approx(
        {
            "silhouette": metrics.silhouette_score(X, labels),
            "calinski_harabasz": metrics.calinski_harabasz_score(X, labels),
            "davies_bouldin": metrics.davies_bouldin_score(X, labels),
            "adjusted_rand": metrics.adjusted_rand_score(y, labels),
        }
    )


def test_silhouette_uses_a_bounded_deterministic_sample(blobs: Any) -> None:
    X, labels, _ = blobs

    result = clusterer_metrics(X, labels, max_samples=100, random_state=3)

    assert result["silhouette"] == pytest.approx(
        metrics.silhouette_score(X, labels, sample_size=100, random_state=3)
    )
    assert result == clusterer_metrics(X, labels, max_samples=100, random_state=3)


def test_one_cluster_keeps_only_adjusted_rand(blobs: Any) -> None:
    X, _, y = blobs

    result = clusterer_metrics(X, np.zeros(X.shape[0], dtype=int), y_true=y)

    assert result == {"adjusted_rand": 0.0}


def test_non_finite_data_omits_geometry_metrics(blobs: Any) -> None:
    X, labels, _ = blobs
    broken = X.copy()
    broken[0, 0] = np.nan

    assert clusterer_metrics(broken, labels) == {}


def test_clusterer_labels_length_is_checked(blobs: Any) -> None:
    X, labels, _ = blobs
    with pytest.raises(InvalidValueError, match="length of labels must be 600"):
        clusterer_metrics(X, labels[:-1])


def test_clusterer_accepts_lists() -> None:
    result = clusterer_metrics([[0.0], [0.2], [5.0], [5.2]], [0, 0, 1, 1])

    assert math.isclose(
        result["silhouette"],
        metrics.silhouette_score([[0.0], [0.2], [5.0], [5.2]], [0, 0, 1, 1]),
    )


def test_column_of_scores_is_the_positive_class(binary: Any) -> None:
    y_true, y_pred, proba, _ = binary

    result = classifier_metrics(y_true, y_pred, y_score=proba[:, [1]])

    assert result["roc_auc"] == pytest.approx(
        metrics.roc_auc_score(y_true, proba[:, 1])
    )


def test_many_classes_skip_one_vs_rest_but_keep_log_loss() -> None:
    n_classes = MAX_SCORE_CLASSES + 1
    labels = np.arange(n_classes)
    proba = np.full((n_classes, n_classes), 0.5 / (n_classes - 1))
    np.fill_diagonal(proba, 0.5)

    result = classifier_metrics(labels, labels, y_score=proba)

    assert "roc_auc" not in result
    assert "average_precision" not in result
    assert result["log_loss"] == pytest.approx(metrics.log_loss(labels, proba))


_CLASS_NAMES = {
    "ints": np.array([-3, 0, 7, 12, 40]),
    "strings": np.array(["ant", "bee", "cat", "dog", "eel"], dtype=object),
}


@st.composite
def _predictions(draw: Any) -> dict[str, Any]:
    """Labels, predictions and probability rows (often tied), maybe weights."""
    k = draw(st.integers(2, 5))
    n_samples = draw(st.integers(2, 40))
    codes = st.integers(0, k - 1)
    true = draw(hnp.arrays(np.intp, n_samples, elements=codes))
    pred = draw(hnp.arrays(np.intp, n_samples, elements=codes))
    counts = draw(hnp.arrays(np.float64, (n_samples, k), elements=st.integers(0, 4)))
    if draw(st.booleans()):  # constant scores
        counts = np.ones((n_samples, k))
    counts[counts.sum(axis=1) == 0] = 1.0
    weight = None
    if draw(st.booleans()):
        weight = draw(hnp.arrays(np.float64, n_samples, elements=st.floats(0.01, 10.0)))
    classes = _CLASS_NAMES[draw(st.sampled_from(sorted(_CLASS_NAMES)))][:k]
    return {
        "y_true": classes[true],
        "y_pred": classes[pred],
        "y_score": counts / counts.sum(axis=1, keepdims=True),
        "classes": classes,
        "sample_weight": weight,
    }


def _expected_suite(data: dict[str, Any]) -> dict[str, float]:
    """The suite as documented, each value from its ``sklearn.metrics`` function."""
    y_true, y_pred, proba, classes, weight = (
        data["y_true"],
        data["y_pred"],
        data["y_score"],
        data["classes"],
        data["sample_weight"],
    )
    with warnings.catch_warnings():
        # sklearn warns where a class is absent from y_true or y_pred.
        warnings.simplefilter("ignore")
        expected = _expected_labels(y_true, y_pred, weight)
        for average in ("weighted", "macro"):
            for name, function in (
                ("precision", metrics.precision_score),
                ("recall", metrics.recall_score),
                ("f1", metrics.f1_score),
            ):
                expected[f"{name}_{average}"] = function(
                    y_true,
                    y_pred,
                    average=average,
                    sample_weight=weight,
                    zero_division=0.0,
                )
    expected["log_loss"] = metrics.log_loss(
        y_true, proba, labels=classes, sample_weight=weight
    )
    if len(classes) == 2:
        positive = classes[1]
        matrix = metrics.confusion_matrix(
            y_true, y_pred, labels=classes, sample_weight=weight
        )
        (tn, fp), (fn, tp) = matrix
        for name, function in (
            ("precision", metrics.precision_score),
            ("recall", metrics.recall_score),
            ("f1", metrics.f1_score),
        ):
            expected[name] = function(
                y_true,
                y_pred,
                labels=classes,
                pos_label=positive,
                sample_weight=weight,
                zero_division=0.0,
            )
        expected.update(
            true_positives=tp,
            false_positives=fp,
            true_negatives=tn,
            false_negatives=fn,
        )
        columns = [1]
    else:
        columns = [c for c, label in enumerate(classes) if label in set(y_true)]
    aucs, precisions = [], []
    for c in columns:
        is_class = y_true == classes[c]
        if is_class.any():
            precisions.append(
                metrics.average_precision_score(
                    is_class, proba[:, c], sample_weight=weight
                )
            )
        if is_class.any() and not is_class.all():
            aucs.append(
                metrics.roc_auc_score(is_class, proba[:, c], sample_weight=weight)
            )
    if aucs:
        expected["roc_auc"] = float(np.mean(aucs))
    if precisions:
        expected["average_precision"] = float(np.mean(precisions))
    # NaN is sklearn's undefined (Matthews' with one weighted class, where rounding
    # leaves a negative variance product): the suite leaves those out.
    return {key: value for key, value in expected.items() if not math.isnan(value)}


@settings(max_examples=200, deadline=None)
@given(data=_predictions())
def test_classifier_suite_equals_sklearn_on_random_predictions(
    data: dict[str, Any],
) -> None:
    result = classifier_metrics(**data)

    expected = _expected_suite(data)
    assert set(result) == set(expected)
    for name, value in expected.items():
        assert math.isclose(result[name], value, rel_tol=1e-12, abs_tol=1e-12), name


# Millis in [-1000, 1000]: tiny magnitudes overflow R²'s ratio in sklearn and in
# the suite alike.
_TARGETS = st.integers(-(10**6), 10**6).map(lambda value: value / 1000)


# Zero or at least 0.01: subnormal weights overflow R²'s ratio, as in sklearn.
_WEIGHTS = st.just(0.0) | st.floats(0.01, 10.0)


@st.composite
def _regressions(draw: Any) -> tuple[Any, Any, Any]:
    n_samples = draw(st.integers(2, 40))
    shape: tuple[int, ...] = (n_samples,)
    if draw(st.booleans()):
        shape = (n_samples, draw(st.integers(1, 3)))
    y_true = draw(hnp.arrays(np.float64, shape, elements=_TARGETS))
    if draw(st.booleans()):  # constant targets: sklearn's force_finite
        y_true = np.full(shape, draw(_TARGETS))
    y_pred = draw(hnp.arrays(np.float64, shape, elements=_TARGETS))
    weight = None
    if draw(st.booleans()):
        weight = draw(hnp.arrays(np.float64, n_samples, elements=_WEIGHTS))
        weight[0] = max(weight[0], 0.5)  # a positive total
    return y_true, y_pred, weight


@settings(max_examples=200, deadline=None)
@given(data=_regressions())
def test_regressor_suite_equals_sklearn_on_random_predictions(
    data: tuple[Any, Any, Any],
) -> None:
    y_true, y_pred, weight = data

    result = regressor_metrics(y_true, y_pred, sample_weight=weight)

    options = {"sample_weight": weight}
    expected = {
        "mse": metrics.mean_squared_error(y_true, y_pred, **options),
        "rmse": metrics.root_mean_squared_error(y_true, y_pred, **options),
        "mae": metrics.mean_absolute_error(y_true, y_pred, **options),
        "mape": metrics.mean_absolute_percentage_error(y_true, y_pred, **options),
        "r2": metrics.r2_score(y_true, y_pred, **options),
        "explained_variance": metrics.explained_variance_score(
            y_true, y_pred, **options
        ),
    }
    if y_true.ndim == 1 or y_true.shape[1] == 1:
        expected["max_error"] = metrics.max_error(y_true, y_pred)
    assert set(result) == set(expected)
    for name, value in expected.items():
        assert math.isclose(result[name], value, rel_tol=1e-12, abs_tol=1e-12), name
