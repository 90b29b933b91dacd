"""Feature importance and iteration curves are read from real fitted estimators."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mltrail.evaluation import _drawing
from mltrail.evaluation._estimator_plots import (
    feature_importance_plot,
    iteration_curves,
    iteration_curves_plot,
)
from tests.evaluation._helpers import PNG_SIGNATURE, assert_json, assert_png, drawn


def test_feature_importances_are_sorted_with_names() -> None:
    X, y = load_wine(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)

    png, data = drawn(feature_importance_plot(model))

    order = np.argsort(-model.feature_importances_, kind="stable")
    assert data["features"] == [X.columns[index] for index in order]
    assert data["importances"] == pytest.approx(
        model.feature_importances_[order].tolist()
    )
    assert data["source"] == "feature_importances_"
    assert data["n_features"] == X.shape[1]
    assert png.startswith(PNG_SIGNATURE)
    assert_json(data)


def test_coef_importance_is_mean_absolute_over_classes() -> None:
    X, y = load_wine(return_X_y=True)
    model = LogisticRegression().fit(StandardScaler().fit_transform(X), y)

    _, data = drawn(feature_importance_plot(model, max_features=3))

    expected = np.abs(model.coef_).mean(axis=0)
    order = np.argsort(-expected, kind="stable")[:3]
    assert data["features"] == [f"x{index}" for index in order]
    assert data["importances"] == pytest.approx(expected[order].tolist())
    assert data["aggregation"] == "mean |coef_| over 3 classes"
    assert data["title"] == (
        "Feature importance (LogisticRegression, mean |coef_| over 3 classes)"
    )


def test_multi_output_coef_importance_says_outputs() -> None:
    from sklearn.linear_model import Ridge

    X, y = load_wine(return_X_y=True)
    model = Ridge().fit(X, np.c_[y, y * 2.0])

    _, data = drawn(feature_importance_plot(model, model="my ridge"))

    assert data["aggregation"] == "mean |coef_| over 2 outputs"
    assert data["model"] == "my ridge"


def test_binary_coef_importance_is_the_absolute_coef() -> None:
    X, y = load_wine(return_X_y=True)
    model = LogisticRegression().fit(StandardScaler().fit_transform(X), y == 0)

    _, data = drawn(feature_importance_plot(model))

    assert data["aggregation"] == "|coef_|"
    assert data["importances"][0] == pytest.approx(float(np.abs(model.coef_).max()))


def test_pipeline_importances_use_feature_names_out() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {"color": ["red", "blue", "red", "green"], "size": [1.0, 2.0, 3.0, 4.0]}
    )
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                ("onehot", OneHotEncoder(), ["color"]),
                ("scale", StandardScaler(), ["size"]),
            ]
        ),
        LinearRegression(),
    ).fit(frame, [1.0, 2.0, 3.0, 5.0])

    _, data = drawn(feature_importance_plot(pipeline))

    assert set(data["features"]) == {
        "onehot__color_blue",
        "onehot__color_green",
        "onehot__color_red",
        "scale__size",
    }


def test_mismatched_names_fall_back_to_positions() -> None:
    model = LinearRegression().fit([[0, 1], [1, 0], [2, 2]], [0, 2, 4])

    _, data = drawn(feature_importance_plot(model, ["only-one"]))

    assert sorted(data["features"]) == ["x0", "x1"]


def test_estimator_without_importances_draws_nothing() -> None:
    assert feature_importance_plot(StandardScaler().fit([[0.0], [1.0]])) is None


def test_non_finite_importances_draw_nothing() -> None:
    model = LinearRegression().fit([[0, 1], [1, 0], [2, 2]], [0, 2, 4])
    model.coef_ = np.array([np.nan, 1.0])

    assert feature_importance_plot(model) is None


def test_sparse_coef_is_read() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = LogisticRegression().fit(X, y).sparsify()

    _, data = drawn(feature_importance_plot(model, max_features=1))

    assert data["importances"] == [
        pytest.approx(float(np.abs(model.coef_.toarray()).max()))
    ]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mlp_curves_are_read() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    model = MLPClassifier(
        hidden_layer_sizes=(5,), max_iter=8, early_stopping=True, random_state=0
    )
    model.fit(X / X.max(0), y)

    curves = iteration_curves(make_pipeline(StandardScaler(), model).fit(X, y))

    assert list(curves) == ["loss", "validation_score"]
    fitted = curves["loss"]
    assert len(fitted) == model.n_iter_
    assert all(isinstance(value, float) for value in fitted)


def test_gradient_boosting_curves_are_read() -> None:
    X, y = load_diabetes(return_X_y=True)
    model = GradientBoostingRegressor(
        n_estimators=20, subsample=0.8, random_state=0
    ).fit(X, y)

    curves = iteration_curves(model)

    assert curves["train_score"] == pytest.approx(model.train_score_.tolist())
    assert curves["oob_improvement"] == pytest.approx(model.oob_improvement_.tolist())
    assert set(curves) == {"train_score", "oob_improvement", "oob_score"}


def test_evals_result_shape_is_read() -> None:
    class Booster:
        def __init__(self) -> None:
            self.evals_result_ = {
                "validation_0": {"logloss": [0.6, 0.5], "auc@5": [0.7, 0.8]},
                "ignored": "not a mapping",
                "validation_1": {"empty": []},
            }
            self.oob_improvement_ = ["not", "floats"]
            self.loss_curve_ = "not numbers"
            self.train_score_ = [[1.0, 2.0]]

    curves = iteration_curves(Booster())

    assert curves == {
        "validation_0_logloss": [0.6, 0.5],
        "validation_0_auc_5": [0.7, 0.8],
    }


def test_iteration_curves_plot_draws_one_panel_per_curve() -> None:
    curves = {
        "loss": np.linspace(1.0, 0.1, 3000).tolist(),
        "validation_score": [0.5, 0.6, 0.7],
    }

    png, data = drawn(iteration_curves_plot(curves))

    assert_png(png, 640, 290)  # 0.3 inch more for the title
    assert_json(data)
    loss, score = data["curves"]
    assert len(loss["value"]) <= _drawing.MAX_POINTS
    assert loss["step"][0] == 0
    assert loss["step"][-1] == 2999
    assert score == {
        "name": "validation_score",
        "step": [0, 1, 2],
        "value": [0.5, 0.6, 0.7],
    }


def test_no_iteration_curves_draw_nothing() -> None:
    assert iteration_curves_plot({}) is None
