"""Dataset plots are valid PNGs whose JSON data matches scikit-learn's curves."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sklearn import calibration, metrics
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mltrail.evaluation import _drawing, _figures, _plots
from mltrail.evaluation._metrics import encode_classification
from mltrail.evaluation._plots import (
    plot_artifacts,
    plot_data_for_regressor,
    plots_for_classifier,
    plots_for_regressor,
)
from tests.evaluation._helpers import PNG_SIGNATURE, assert_json, assert_png, drawn


@pytest.fixture(scope="module")
def binary() -> Any:
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = LogisticRegression().fit(X_train, y_train)
    return y_test, model.predict(X_test), model.predict_proba(X_test)


@pytest.fixture(scope="module")
def binary_plots(binary: Any) -> dict[str, _drawing.Plot]:
    y_true, y_pred, proba = binary
    return plots_for_classifier(y_true, y_pred, y_score=proba)


@pytest.fixture(scope="module")
def multiclass() -> Any:
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = LogisticRegression().fit(X_train, y_train)
    return y_test, model.predict(X_test), model.predict_proba(X_test)


def test_binary_classifier_plots_are_pngs_with_json(binary: Any) -> None:
    y_true, y_pred, proba = binary

    plots = plots_for_classifier(y_true, y_pred, y_score=proba)

    assert sorted(plots) == [
        "calibration_curve",
        "confusion_matrix",
        "precision_recall_curve",
        "roc_curve",
    ]
    for name, (png, data) in plots.items():
        assert_png(png, 800 if name == "confusion_matrix" else 500, 400)
        assert_json(data)
        assert data["kind"] == name


def test_roc_curve_data_equals_sklearn(binary: Any, binary_plots: Any) -> None:
    y_true, _, proba = binary

    _, data = binary_plots["roc_curve"]

    fpr, tpr, _ = metrics.roc_curve(y_true, proba[:, 1])
    (curve,) = data["curves"]
    assert curve["label"] == 1
    assert curve["fpr"] == pytest.approx(fpr.tolist())
    assert curve["tpr"] == pytest.approx(tpr.tolist())
    assert curve["auc"] == pytest.approx(metrics.roc_auc_score(y_true, proba[:, 1]))


def test_precision_recall_data_equals_sklearn(binary: Any, binary_plots: Any) -> None:
    y_true, _, proba = binary

    _, data = binary_plots["precision_recall_curve"]

    precision, recall, _ = metrics.precision_recall_curve(y_true, proba[:, 1])
    (curve,) = data["curves"]
    assert curve["precision"] == pytest.approx(precision.tolist())
    assert curve["recall"] == pytest.approx(recall.tolist())


def test_calibration_data_equals_sklearn(binary: Any, binary_plots: Any) -> None:
    y_true, _, proba = binary

    _, data = binary_plots["calibration_curve"]

    prob_true, prob_pred = calibration.calibration_curve(
        y_true, proba[:, 1], n_bins=data["n_bins"], strategy=data["strategy"]
    )
    (curve,) = data["curves"]
    assert curve["prob_true"] == pytest.approx(prob_true.tolist())
    assert curve["prob_pred"] == pytest.approx(prob_pred.tolist())
    assert sum(curve["count"]) == y_true.shape[0]


def test_a_small_test_set_gets_fewer_quantile_bins(binary: Any) -> None:
    y_true, y_pred, proba = binary
    assert y_true.shape[0] < _plots.CALIBRATION_MIN_UNIFORM_ROWS

    _, data = plots_for_classifier(y_true, y_pred, y_score=proba)["calibration_curve"]

    assert data["strategy"] == "quantile"
    assert data["n_bins"] == y_true.shape[0] // _plots.CALIBRATION_ROWS_PER_BIN
    (curve,) = data["curves"]
    # Quantile bins hold about as many rows each: none is a near-empty zig-zag.
    assert min(curve["count"]) >= _plots.CALIBRATION_ROWS_PER_BIN - 2
    assert "quantile bins" in data["title"]


def test_a_large_test_set_keeps_equal_width_bins() -> None:
    rng = np.random.RandomState(0)
    proba = rng.uniform(size=1000)
    y_true = (rng.uniform(size=1000) < proba).astype(int)

    _, data = plots_for_classifier(y_true, (proba > 0.5).astype(int), y_score=proba)[
        "calibration_curve"
    ]

    prob_true, prob_pred = calibration.calibration_curve(
        y_true, proba, n_bins=_plots.CALIBRATION_BINS
    )
    assert (data["strategy"], data["n_bins"]) == ("uniform", _plots.CALIBRATION_BINS)
    (curve,) = data["curves"]
    assert curve["prob_true"] == pytest.approx(prob_true.tolist())
    assert curve["prob_pred"] == pytest.approx(prob_pred.tolist())


def test_titles_and_legends_say_what_the_plot_shows(
    binary: Any, multiclass: Any
) -> None:
    y_true, y_pred, proba = binary
    plots = plots_for_classifier(
        y_true, y_pred, y_score=proba, dataset="test", model="LogisticRegression"
    )
    for name, (_, data) in plots.items():
        assert data["dataset"] == "test"
        assert data["model"] == "LogisticRegression"
        assert "(test data, LogisticRegression" in data["title"], name
        assert data["x_label"]
        assert data["y_label"]
    _, regressor = plots_for_regressor([1.0, 2.0], [1.5, 2.5], dataset="valid")[
        "residuals"
    ]
    assert regressor["title"] == "Residuals (valid data)"


def test_calibration_legend_names_each_class_and_the_diagonal() -> None:
    y_true = np.array([0, 1, 2] * 20)
    multiclass = encode_classification(y_true, y_true, y_score=np.full((60, 3), 1 / 3))
    binary = encode_classification(y_true % 2, y_true % 2, y_score=np.full(60, 0.5))
    assert multiclass is not None
    assert binary is not None
    legends = [
        _figures.legend_labels(drawn(_plots.calibration_curve_plot(data))[1])
        for data in (multiclass, binary)
    ]
    assert legends[0] == ["0 vs rest", "1 vs rest", "2 vs rest", "perfectly calibrated"]
    assert legends[1] == ["1 (positive class)", "perfectly calibrated"]


def test_multiclass_curves_are_one_vs_rest(multiclass: Any) -> None:
    y_true, y_pred, proba = multiclass

    plots = plots_for_classifier(y_true, y_pred, y_score=proba)

    curves = plots["roc_curve"][1]["curves"]
    assert [curve["label"] for curve in curves] == [0, 1, 2]
    for index, curve in enumerate(curves):
        fpr, tpr, _ = metrics.roc_curve(y_true == index, proba[:, index])
        assert curve["fpr"] == pytest.approx(fpr.tolist())
        assert curve["tpr"] == pytest.approx(tpr.tolist())
    assert len(plots["calibration_curve"][1]["curves"]) == 3


def test_confusion_matrix_holds_counts_and_normalized(multiclass: Any) -> None:
    y_true, y_pred, _ = multiclass
    names = np.array(["barolo", "grignolino", "barbera"], dtype=object)

    _, data = plots_for_classifier(names[y_true], names[y_pred])["confusion_matrix"]

    assert data["labels"] == ["barbera", "barolo", "grignolino"]
    expected = metrics.confusion_matrix(
        names[y_true], names[y_pred], labels=data["labels"]
    )
    assert data["counts"] == expected.tolist()
    normalized = metrics.confusion_matrix(
        names[y_true], names[y_pred], labels=data["labels"], normalize="true"
    )
    np.testing.assert_allclose(data["normalized"], normalized)


def test_weighted_confusion_matrix_holds_weighted_counts() -> None:
    _, data = plots_for_classifier([0, 1, 1], [0, 1, 0], sample_weight=[0.5, 1.0, 2.0])[
        "confusion_matrix"
    ]

    assert data["counts"] == [[0.5, 0.0], [2.0, 1.0]]


def test_decision_function_scores_draw_no_calibration() -> None:
    plots = plots_for_classifier(
        [0, 1, 1, 0], [0, 1, 0, 0], y_score=[-2.0, 1.5, -0.3, -1.0]
    )

    assert "roc_curve" in plots
    assert "calibration_curve" not in plots


def test_labels_alone_draw_only_the_confusion_matrix() -> None:
    assert list(plots_for_classifier([0, 1], [1, 1])) == ["confusion_matrix"]


def test_no_usable_row_draws_nothing() -> None:
    assert plots_for_classifier([np.nan], [1.0]) == {}


def test_single_class_draws_no_curves() -> None:
    plots = plots_for_classifier(
        [1, 1, 1], [1, 0, 1], y_score=[0.9, 0.4, 0.8], classes=[0, 1]
    )

    assert "roc_curve" not in plots
    assert "precision_recall_curve" in plots


def test_too_many_classes_skip_the_confusion_matrix() -> None:
    labels = np.arange(_plots.MAX_MATRIX_CLASSES + 1)

    assert plots_for_classifier(labels, labels) == {}


@pytest.mark.parametrize(
    "n_classes",
    [_figures.MAX_ANNOTATED_CLASSES + 1, _figures.MAX_TICK_LABELED_CLASSES + 1],
    ids=["without-numbers", "without-tick-labels"],
)
def test_many_classes_are_drawn_with_less_text(n_classes: int) -> None:
    labels = np.arange(n_classes)

    png, data = plots_for_classifier(labels, labels)["confusion_matrix"]

    assert_png(png, 800, 400)
    assert len(data["labels"]) == labels.shape[0]


def test_long_curves_are_downsampled_to_sklearn_points() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 20_000)
    score = rng.random(20_000) + y_true * 0.3

    _, data = plots_for_classifier(
        y_true, score > 0.6, y_score=score, is_probability=False
    )["roc_curve"]

    (curve,) = data["curves"]
    fpr, tpr, _ = metrics.roc_curve(y_true, score)
    assert fpr.shape[0] > _drawing.MAX_POINTS
    assert len(curve["fpr"]) <= _drawing.MAX_POINTS
    points = set(zip(fpr.tolist(), tpr.tolist(), strict=True))
    kept = list(zip(curve["fpr"], curve["tpr"], strict=True))
    assert set(kept) <= points
    assert kept[0] == (0.0, 0.0)
    assert kept[-1] == (1.0, 1.0)
    assert len(kept) > _drawing.MAX_POINTS * 0.8


@pytest.fixture(scope="module")
def regression() -> Any:
    X, y = load_diabetes(return_X_y=True)
    return y, LinearRegression().fit(X, y).predict(X)


def test_regressor_plots_are_pngs_with_json(regression: Any) -> None:
    y_true, y_pred = regression

    plots = plots_for_regressor(y_true, y_pred)

    residuals = plots["residuals"][1]
    assert residuals["predicted"] == pytest.approx(y_pred.tolist())
    assert residuals["residuals"] == pytest.approx((y_true - y_pred).tolist())
    assert plots["predicted_vs_actual"][1]["actual"] == pytest.approx(y_true.tolist())
    for name, (png, data) in plots.items():
        assert_png(png, 500, 400)
        assert_json(data)
        assert data["kind"] == name


def test_regressor_scatter_is_sampled(regression: Any) -> None:
    y_true, y_pred = regression
    many_true, many_pred = np.tile(y_true, 3), np.tile(y_pred, 3)

    _, data = plots_for_regressor(many_true, many_pred)["predicted_vs_actual"]

    assert data["n_samples"] == many_true.shape[0]
    assert len(data["actual"]) == _plots.MAX_SCATTER_POINTS
    pairs = set(zip(many_true.tolist(), many_pred.tolist(), strict=True))
    assert set(zip(data["actual"], data["predicted"], strict=True)) <= pairs


def test_regressor_scatter_sample_is_distinct_rows_drawn_the_same_each_time() -> None:
    y_true = np.arange(200_000, dtype=np.float64)
    data = plot_data_for_regressor(y_true, y_true + 1)["residuals"]
    again = plot_data_for_regressor(y_true, y_true + 1)["residuals"]
    other = plot_data_for_regressor(y_true, y_true + 1, random_state=1)["residuals"]
    shown = data["predicted"]
    assert len(set(shown)) == len(shown) == _plots.MAX_SCATTER_POINTS
    assert shown == sorted(shown)
    assert again["predicted"] == shown != other["predicted"]
    assert data["n_samples"] == 200_000


def test_regressor_without_finite_rows_draws_nothing() -> None:
    assert plots_for_regressor([np.nan], [1.0]) == {}


def test_plot_artifacts_names_png_and_json_files(binary_plots: Any) -> None:
    plots = binary_plots

    files = dict(plot_artifacts(plots, dataset="test"))

    assert sorted(files) == sorted(
        f"plots/test_{name}.{extension}"
        for name in plots
        for extension in ("png", "json")
    )
    assert json.loads(files["plots/test_roc_curve.json"]) == plots["roc_curve"][1]
    assert files["plots/test_roc_curve.png"] == plots["roc_curve"][0]


def test_estimator_plot_artifacts_have_no_dataset_prefix() -> None:
    files = plot_artifacts(
        {"feature_importance": (b"png", {"kind": "feature_importance"})}
    )

    assert [path for path, _ in files] == [
        "plots/feature_importance.png",
        "plots/feature_importance.json",
    ]


def test_encoded_data_can_be_drawn_directly(binary: Any) -> None:
    y_true, y_pred, proba = binary
    data = encode_classification(y_true, y_pred, y_score=proba)
    assert data is not None

    png, _ = drawn(_plots.roc_curve_plot(data))

    assert_png(png, 500, 400)


def test_two_threshold_roc_curve_equals_sklearn() -> None:
    y_true = [0, 1, 1, 0, 1]
    score = [0.0, 1.0, 1.0, 0.0, 0.0]

    _, data = plots_for_classifier(y_true, score, y_score=score)["roc_curve"]

    fpr, tpr, _ = metrics.roc_curve(y_true, score)
    (curve,) = data["curves"]
    assert curve["fpr"] == pytest.approx(fpr.tolist())
    assert curve["tpr"] == pytest.approx(tpr.tolist())


def test_absent_positive_class_draws_no_curves() -> None:
    plots = plots_for_classifier(
        [0, 0, 0], [0, 1, 0], y_score=[0.1, 0.8, 0.3], classes=[0, 1]
    )

    assert "roc_curve" not in plots
    assert "precision_recall_curve" not in plots


def test_uniform_weights_do_not_change_the_calibration(
    binary: Any, binary_plots: Any
) -> None:
    y_true, y_pred, proba = binary
    weight = np.full(y_true.shape[0], 2.0)

    weighted = plots_for_classifier(y_true, y_pred, y_score=proba, sample_weight=weight)
    plain = binary_plots

    (weighted_curve,) = weighted["calibration_curve"][1]["curves"]
    (plain_curve,) = plain["calibration_curve"][1]["curves"]
    assert weighted_curve["prob_true"] == pytest.approx(plain_curve["prob_true"])
    assert weighted_curve["prob_pred"] == pytest.approx(plain_curve["prob_pred"])
    assert weighted_curve["count"] == [2 * count for count in plain_curve["count"]]


def test_labels_the_font_cannot_draw_neither_warn_nor_fail() -> None:
    labels = np.array(["中文", "a$b$c", r"$\nocommand$"], dtype=object)

    png, data = plots_for_classifier(labels, labels)["confusion_matrix"]

    assert png.startswith(PNG_SIGNATURE)
    assert data["labels"] == sorted(labels.tolist())
