"""Training metrics from the predictions a histogram boosting fit made anyway (#8 §8).

Each test fits for real on more rows than the verification predicts, and checks the
logged training metrics against the same metrics computed from a full ``predict``,
value for value, and that no full ``predict`` of the training set was made when the
fit's own predictions served.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import (
    BaseHistGradientBoosting,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mltrail._entities import Run
from mltrail.sklearn.recorders import _training
from mltrail.sklearn.shared import _fit_outputs
from mltrail.sklearn.shared._state import DURATION_METRIC

ROWS = 12_000  # above 10,000: "auto" early stopping holds rows out for validation
ListRuns = Callable[[], list[Run]]


@pytest.fixture
def predicted_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row counts of every real ``_raw_predict`` of a boosting model."""
    seen: list[int] = []
    original = BaseHistGradientBoosting._raw_predict

    def spy(self: Any, X: Any, n_threads: Any = None) -> Any:
        seen.append(X.shape[0])
        return original(self, X, n_threads=n_threads)

    monkeypatch.setattr(BaseHistGradientBoosting, "_raw_predict", spy)
    return seen


def _regression() -> tuple[Any, Any]:
    X, y = make_regression(n_samples=ROWS, n_features=6, noise=5.0, random_state=0)
    return X, y


def _classification(n_classes: int = 2) -> tuple[Any, Any]:
    X, y = make_classification(
        n_samples=ROWS,
        n_features=6,
        n_informative=4,
        n_classes=n_classes,
        random_state=0,
    )
    return X, y


def _training_metrics(run: Run) -> dict[str, float]:
    metrics = run.data.metrics.items()
    return {key: value for key, value in metrics if key.startswith("training_")}


def _check(
    list_runs: ListRuns,
    model: Any,
    X: Any,
    y: Any,
    predicted_rows: list[int],
    *,
    sample_weight: Any = None,
) -> dict[str, float]:
    """Fit with autolog; the logged metrics equal those of a full predict."""
    predicted_rows.clear()
    weight = {} if sample_weight is None else {"sample_weight": sample_weight}
    model.fit(X, y, **weight)
    assert max(predicted_rows, default=0) <= _fit_outputs.VERIFY_ROWS  # no full pass
    (run,) = list_runs()
    logged = _training_metrics(run)
    expected = _training.training_metrics(model, X, y, sample_weight)
    assert logged == {**expected, DURATION_METRIC: logged[DURATION_METRIC]}
    assert ROWS in predicted_rows  # the check above predicted the whole set
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    assert "_check_early_stopping_loss" not in vars(final)
    assert "_raw_predict" not in vars(final)
    return logged


def test_a_regressor_held_out_rows_by_early_stopping(
    autolog: None, list_runs: ListRuns, predicted_rows: list[int]
) -> None:
    X, y = _regression()
    model = HistGradientBoostingRegressor(max_iter=15, random_state=0)
    logged = _check(list_runs, model, X, y, predicted_rows)
    assert model.do_early_stopping_
    assert logged["training_r2_score"] == metrics.r2_score(y, model.predict(X))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_classifier_with_text_labels(
    autolog: None, list_runs: ListRuns, predicted_rows: list[int], n_classes: int
) -> None:
    X, codes = _classification(n_classes)
    y = np.array(["ant", "bee", "cat"])[codes]
    model = HistGradientBoostingClassifier(max_iter=15, random_state=3)
    logged = _check(list_runs, model, X, y, predicted_rows)
    assert logged["training_accuracy_score"] == metrics.accuracy_score(
        y, model.predict(X)
    )
    assert logged["training_log_loss"] == pytest.approx(
        metrics.log_loss(y, model.predict_proba(X)), rel=1e-12
    )


def test_sample_weights_and_a_frame(
    autolog: None, list_runs: ListRuns, predicted_rows: list[int]
) -> None:
    X, y = _classification()
    frame = pd.DataFrame(X, columns=[f"f{index}" for index in range(X.shape[1])])
    weight = np.random.default_rng(0).uniform(0.5, 2.0, ROWS)
    model = HistGradientBoostingClassifier(max_iter=10, random_state=None)
    _check(list_runs, model, frame, pd.Series(y), predicted_rows, sample_weight=weight)


def test_no_rows_held_out(
    autolog: None, list_runs: ListRuns, predicted_rows: list[int]
) -> None:
    X, y = _regression()
    model = HistGradientBoostingRegressor(
        max_iter=10, early_stopping=True, validation_fraction=None
    )
    _check(list_runs, model, X, y, predicted_rows)


def test_a_pipeline_ending_in_boosting(
    autolog: None, list_runs: ListRuns, predicted_rows: list[int]
) -> None:
    X, y = _classification(3)
    model = make_pipeline(
        StandardScaler(), HistGradientBoostingClassifier(max_iter=10, random_state=0)
    )
    _check(list_runs, model, X, y, predicted_rows)


def test_without_early_stopping_the_training_set_is_predicted(
    autolog: None, list_runs: ListRuns, predicted_rows: list[int]
) -> None:
    X, y = _regression()
    model = HistGradientBoostingRegressor(max_iter=10, early_stopping=False)
    model.fit(X, y)
    assert ROWS in predicted_rows  # nothing was kept: predicted as before
    (run,) = list_runs()
    assert _training_metrics(run)["training_r2_score"] == metrics.r2_score(
        y, model.predict(X)
    )


def test_outputs_that_differ_from_predict_are_not_used(
    autolog: None,
    list_runs: ListRuns,
    predicted_rows: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = _fit_outputs.FitOutputs._raw_in_row_order

    def shuffled(self: Any, n: int, y: Any) -> Any:
        raw = original(self, n, y)
        return None if raw is None else raw[::-1].copy(order="F")

    monkeypatch.setattr(_fit_outputs.FitOutputs, "_raw_in_row_order", shuffled)
    X, y = _regression()
    model = HistGradientBoostingRegressor(max_iter=10, random_state=0)
    model.fit(X, y)
    assert ROWS in predicted_rows  # the check failed: the whole set was predicted
    (run,) = list_runs()
    assert _training_metrics(run)["training_r2_score"] == metrics.r2_score(
        y, model.predict(X)
    )


def test_a_failed_fit_leaves_no_hook(autolog: None) -> None:
    X, y = _regression()
    y[5] = np.nan
    model = HistGradientBoostingRegressor(max_iter=5)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, y)
    assert "_check_early_stopping_loss" not in vars(model)


def test_small_fits_are_not_watched() -> None:
    X, _ = _regression()
    assert _fit_outputs.watch(HistGradientBoostingRegressor(), X[:1000]) is None
    assert _fit_outputs.watch(StandardScaler(), X) is None
    watch = _fit_outputs.watch(HistGradientBoostingRegressor(), X)
    assert watch is not None
    watch.release()
    assert "_check_early_stopping_loss" not in vars(watch.model)


def test_missing_values_and_categories(
    autolog: None, list_runs: ListRuns, predicted_rows: list[int]
) -> None:
    X, y = _regression()
    rng = np.random.default_rng(1)
    X[rng.random(X.shape) < 0.05] = np.nan
    frame = pd.DataFrame(X, columns=[f"f{index}" for index in range(X.shape[1])])
    frame["colour"] = pd.Categorical(rng.choice(["red", "green", "blue"], ROWS))
    y = y + 50.0 * (frame["colour"] == "red").to_numpy()
    model = HistGradientBoostingRegressor(max_iter=10, random_state=0)
    _check(list_runs, model, frame, y, predicted_rows)
