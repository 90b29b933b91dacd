"""A plot's PNG is drawn from its JSON alone, after a trip through a file."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from mltrail import InvalidValueError
from mltrail.evaluation import _estimator_plots, _figures, _plots
from tests.evaluation._helpers import PNG_SIGNATURE


def _all_kinds() -> dict[str, dict[str, object]]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    scores = rng.dirichlet(np.ones(3), 200)
    X = rng.normal(size=(200, 4))
    model = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y)
    plots = {
        **_plots.plot_data_for_classifier(y, scores.argmax(axis=1), y_score=scores),
        **_plots.plot_data_for_regressor(y * 1.0, y + rng.normal(size=200)),
        "feature_importance": _estimator_plots.feature_importance_data(model),
        "iteration_curves": _estimator_plots.iteration_curves_data(
            _estimator_plots.iteration_curves(model)
        ),
    }
    return {name: data for name, data in plots.items() if data is not None}


def test_every_kind_is_drawn_from_its_json_file() -> None:
    plots = _all_kinds()
    assert {data["kind"] for data in plots.values()} == _figures.KINDS
    for path, text in _plots.plot_files(plots, dataset="test"):
        ((png_path, png),) = _figures.render_png(path, text)
        assert png_path == path.removesuffix(".json") + ".png"
        assert png.startswith(PNG_SIGNATURE)
        name = path.removeprefix("plots/test_").removesuffix(".json")
        assert png == _figures.draw(plots[name])


def test_unknown_kind_is_refused_with_a_hint() -> None:
    with pytest.raises(InvalidValueError, match="plot kind must be one of"):
        _figures.draw({"kind": "pie"})


def test_curves_without_the_one_vs_rest_flag_are_named_by_their_count() -> None:
    # Runs logged before the flag existed: one curve is the positive class's.
    curve = {"label": 1, "fpr": [0.0, 1.0], "tpr": [0.0, 1.0], "auc": 0.5}
    binary = {"kind": "roc_curve", "curves": [curve]}
    multiclass = {"kind": "roc_curve", "curves": [curve, {**curve, "label": 2}]}

    assert _figures.legend_labels(binary) == ["1 (positive class) (AUC 0.500)"]
    assert _figures.legend_labels(multiclass)[1] == "2 vs rest (AUC 0.500)"
    assert _figures.draw(binary).startswith(PNG_SIGNATURE)
