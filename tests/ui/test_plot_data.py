"""Plot data from artifacts: each kind put in its chart's shape, or refused."""

from __future__ import annotations

import math

import pytest

from mltrail.ui._plot_data import clean_plot


def test_confusion_matrix_keeps_counts_and_shares() -> None:
    data = clean_plot(
        {
            "kind": "confusion_matrix",
            "labels": [0, "b"],
            "counts": [[3, 1], [0, 4]],
            "normalized": [[0.75, 0.25], [0.0, 1.0]],
        }
    )
    assert data is not None
    assert data["labels"] == ["0", "b"]
    assert data["normalized"] == [[0.75, 0.25], [0.0, 1.0]]
    assert data["y_title"] == "True class"


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"kind": "unknown"},
        {"kind": "confusion_matrix", "labels": [0], "counts": [[1, 2]]},
        {"kind": "confusion_matrix", "labels": "ab", "counts": []},
        {"kind": "roc_curve", "curves": [{"fpr": [0, 1], "tpr": [0]}]},
        {"kind": "roc_curve", "curves": ["x"]},
        {"kind": "roc_curve", "curves": []},
        {"kind": "feature_importance", "features": ["a"], "importances": [1, 2]},
        {"kind": "residuals", "predicted": [1], "residuals": "x"},
        {"kind": "iteration_curves", "curves": [{"step": [0], "value": {}}]},
    ],
    ids=[
        "none",
        "list",
        "unknown-kind",
        "ragged-matrix",
        "labels-not-a-list",
        "uneven-curve",
        "curve-not-a-dict",
        "no-curves",
        "uneven-bars",
        "scatter-not-a-list",
        "values-not-a-list",
    ],
)
def test_malformed_data_is_refused(data: object) -> None:
    assert clean_plot(data) is None


def test_numbers_that_cannot_be_drawn_become_gaps() -> None:
    data = clean_plot(
        {
            "kind": "predicted_vs_actual",
            "actual": [1, math.nan, "x", True],
            "predicted": [1.5, 2, 3, 4],
        }
    )
    assert data is not None
    assert data["x"] == [1.0, None, None, None]
    assert data["n_samples"] == 4


def test_feature_importance_and_curves_keep_their_extras() -> None:
    bars = clean_plot(
        {
            "kind": "feature_importance",
            "features": ["a", "b"],
            "importances": [0.7, 0.3],
            "source": "coef_",
            "n_features": 9,
        }
    )
    assert bars is not None
    assert (bars["source"], bars["n_features"]) == ("coef_", 9)
    curves = clean_plot(
        {
            "kind": "precision_recall_curve",
            "curves": [
                {"label": 1, "precision": [1, 0.5], "recall": [0, 1]},
            ],
        }
    )
    assert curves is not None
    assert curves["curves"][0]["average_precision"] is None
    assert curves["curves"][0]["x"] == [0.0, 1.0]


def test_a_matrix_row_that_is_not_a_list_is_refused() -> None:
    data = {"kind": "confusion_matrix", "labels": [0, 1], "counts": [[1, 2], "x"]}
    assert clean_plot(data) is None
