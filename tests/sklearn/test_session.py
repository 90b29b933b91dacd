"""Tests of when a fit gets a run: own, active, child, nested, threads, failures."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import joblib  # type: ignore[import-untyped]  # no type hints
import numpy as np
import pytest
from sklearn import metrics
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_predict, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

from mltrail import tracking
from mltrail._entities import Run
from mltrail._errors import MltrailWarning
from mltrail.sklearn import autolog
from mltrail.sklearn.shared import _runs

ListRuns = Callable[[], list[Run]]


@pytest.fixture
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return X, y


class Broken(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """An estimator whose fit raises."""

    def fit(self, X: Any, y: Any) -> Broken:
        raise ValueError("bad data in row 3")


def test_fit_without_active_run_gets_own_finished_run(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    DecisionTreeClassifier().fit(*iris)
    (run,) = list_runs()
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    assert tracking.active_run() is None


def test_fit_returns_what_the_original_returns(autolog: None, iris: Any) -> None:
    model = DecisionTreeClassifier()
    assert model.fit(*iris) is model


def test_fit_error_propagates_unchanged(autolog: None, iris: Any) -> None:
    with pytest.raises(ValueError, match="bad data in row 3") as caught:
        Broken().fit(*iris)
    assert caught.type is ValueError


def test_fit_error_marks_run_failed_with_error_tags(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    with pytest.raises(ValueError, match="bad data"):
        Broken().fit(*iris)
    (run,) = list_runs()
    assert run.info.status == "FAILED"
    assert run.data.tags["mlflow.mltrail.error.type"] == "builtins.ValueError"
    assert run.data.tags["mlflow.mltrail.error.message"] == "bad data in row 3"
    assert "Traceback" in run.data.tags["mlflow.mltrail.error.traceback"]
    assert (
        'raise ValueError("bad data in row 3")'
        in run.data.tags["mlflow.mltrail.error.traceback"]
    )
    assert run.data.tags["estimator_name"] == "Broken"


def test_failed_fit_records_params(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    with pytest.raises(ValueError, match="C"):
        LogisticRegression(C=-1.0).fit(*iris)
    (run,) = list_runs()
    assert run.info.status == "FAILED"
    assert run.data.params["C"] == "-1.0"


def test_fit_in_active_run_logs_into_it_and_leaves_it_open(
    autolog: None, iris: Any, client: tracking.TrackingClient, list_runs: ListRuns
) -> None:
    with tracking.start_run() as active:
        DecisionTreeClassifier(max_depth=2).fit(*iris)
        assert tracking.active_run() is not None
        tracking.log_metric("accuracy", 0.5)
        stored = client.get_run(active.info.run_id)
        assert stored.info.status == "RUNNING"
    (run,) = list_runs()
    assert run.info.run_id == active.info.run_id
    assert run.data.params["max_depth"] == "2"
    assert run.data.metrics["accuracy"] == 0.5
    assert "training_accuracy_score" in run.data.metrics


def test_second_fit_in_active_run_gets_a_child_run(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    with tracking.start_run() as active:
        DecisionTreeClassifier(max_depth=2).fit(*iris)
        DecisionTreeClassifier(max_depth=3).fit(*iris)
    runs = {run.info.run_id: run for run in list_runs()}
    assert len(runs) == 2
    parent = runs.pop(active.info.run_id)
    (child,) = runs.values()
    assert parent.data.params["max_depth"] == "2"
    assert child.data.params["max_depth"] == "3"
    assert child.data.tags["mlflow.parentRunId"] == active.info.run_id
    assert child.info.status == "FINISHED"


def test_exclusive_logs_nothing_into_user_runs(iris: Any, list_runs: ListRuns) -> None:
    autolog(exclusive=True)
    try:
        with tracking.start_run():
            make_pipeline(StandardScaler(), LogisticRegression()).fit(*iris)
    finally:
        autolog(disable=True)
    (run,) = list_runs()
    assert run.data.params == {}


def test_pipeline_fit_creates_one_run(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    make_pipeline(StandardScaler(), LogisticRegression()).fit(*iris)
    (run,) = list_runs()
    assert run.data.tags["estimator_name"] == "Pipeline"


def test_fit_transform_calling_fit_creates_one_run(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    KMeans(n_clusters=3, n_init=1, random_state=0).fit_transform(iris[0])
    (run,) = list_runs()
    assert run.data.tags["estimator_name"] == "KMeans"


@pytest.mark.parametrize(
    "helper",
    [
        lambda X, y: cross_validate(DecisionTreeClassifier(), X, y, cv=3),
        lambda X, y: cross_val_predict(DecisionTreeClassifier(), X, y, cv=3),
    ],
    ids=["cross_validate", "cross_val_predict"],
)
def test_cross_validation_folds_create_no_runs(
    autolog: None, iris: Any, list_runs: ListRuns, helper: Any
) -> None:
    helper(*iris)
    (run,) = list_runs()  # one run for the whole call, none per fold
    assert "mlflow.mltrail.cross_validation" in run.data.tags
    assert "mlflow.parentRunId" not in run.data.tags


def test_grid_search_in_threading_backend_creates_one_parent(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    search = GridSearchCV(
        DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3]}, cv=3, n_jobs=2
    )
    with joblib.parallel_backend("threading"):
        search.fit(*iris)
    runs = list_runs()
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    assert len(parents) == 1
    assert len(runs) == 1 + 3


def test_user_threads_each_get_their_own_run(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    errors: list[BaseException] = []

    def train(depth: int) -> None:
        try:
            DecisionTreeClassifier(max_depth=depth).fit(*iris)
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=train, args=(depth,)) for depth in (1, 2, 3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    runs = list_runs()
    assert sorted(run.data.params["max_depth"] for run in runs) == ["1", "2", "3", "4"]
    assert all(run.info.status == "FINISHED" for run in runs)


def test_user_threads_inside_one_active_run_get_child_runs(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    import contextvars

    with tracking.start_run() as active:
        context = contextvars.copy_context()
        thread = threading.Thread(
            target=context.run,
            args=(DecisionTreeClassifier(max_depth=1).fit, *iris),
        )
        thread.start()
        thread.join()
        LinearRegression().fit(*iris)
    runs = list_runs()
    assert len(runs) == 2
    child = next(run for run in runs if run.info.run_id != active.info.run_id)
    assert child.data.tags["mlflow.parentRunId"] == active.info.run_id


def test_logging_failure_warns_once_and_keeps_the_fit(
    autolog: None, iris: Any, monkeypatch: pytest.MonkeyPatch, list_runs: ListRuns
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("store is down")

    monkeypatch.setattr(_runs, "log_batch", broken)
    model = DecisionTreeClassifier()
    with pytest.warns(MltrailWarning, match="store is down") as caught:
        result = model.fit(*iris)
    assert result is model
    assert len(caught) == 1
    assert model.predict(iris[0][:1]).shape == (1,)
    (run,) = list_runs()
    assert run.info.status == "FINISHED"


def test_start_failure_warns_and_still_fits(
    autolog: None, iris: Any, monkeypatch: pytest.MonkeyPatch, list_runs: ListRuns
) -> None:
    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("cannot start")

    monkeypatch.setattr(_runs, "start_run", broken)
    model = DecisionTreeClassifier()
    with pytest.warns(MltrailWarning, match="cannot start"):
        assert model.fit(*iris) is model
    assert hasattr(model, "tree_")


def test_silent_suppresses_autolog_warnings(
    iris: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("store is down")

    monkeypatch.setattr(_runs, "log_batch", broken)
    autolog(silent=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            DecisionTreeClassifier().fit(*iris)
    finally:
        autolog(disable=True)


def test_failure_while_recording_a_failed_fit_keeps_the_users_error(
    autolog: None, iris: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("store is down")

    monkeypatch.setattr(_runs, "log_batch", broken)
    monkeypatch.setattr(_runs, "end_run", broken)
    with (
        pytest.warns(MltrailWarning, match="store is down"),
        pytest.raises(ValueError, match="bad data"),
    ):
        Broken().fit(*iris)
    tracking.end_run()


def test_failed_fit_warning_says_the_fit_raised(
    autolog: None, iris: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("store is down")

    monkeypatch.setattr(_runs, "log_batch", broken)
    with (
        pytest.warns(MltrailWarning) as caught,
        pytest.raises(ValueError, match="bad data"),
    ):
        Broken().fit(*iris)

    (warning,) = caught
    message = str(warning.message)
    assert "the fit itself raised ValueError, which propagates" in message
    assert "succeeded" not in message
    assert "store is down" in message
    assert warning.filename == __file__


def test_autolog_trouble_never_escapes_a_fit_under_error_filter(
    autolog: None,
    iris: Any,
    monkeypatch: pytest.MonkeyPatch,
    list_runs: ListRuns,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("store is down")

    monkeypatch.setattr(_runs, "log_batch", broken)
    model = DecisionTreeClassifier()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = model.fit(*iris)

    assert result is model
    assert hasattr(model, "tree_")
    (run,) = list_runs()
    assert run.info.status == "FINISHED"
    (record,) = caplog.records
    assert "(the fit itself succeeded): " in record.getMessage()
    assert "store is down" in record.getMessage()


@pytest.mark.parametrize("broken_step", ["log_batch", "start_run"])
def test_failed_fit_raises_the_users_error_under_error_filter(
    autolog: None,
    iris: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    broken_step: str,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("store is down")

    monkeypatch.setattr(_runs, broken_step, broken)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="bad data in row 3") as raised:
            Broken().fit(*iris)

    assert type(raised.value) is ValueError
    (record,) = caplog.records
    message = record.getMessage()
    assert "the fit itself raised ValueError, which propagates" in message
    assert "store is down" in message


def test_failed_fit_without_autolog_trouble_raises_under_error_filter(
    autolog: None, iris: Any, list_runs: ListRuns, caplog: pytest.LogCaptureFixture
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="bad data in row 3"):
            Broken().fit(*iris)

    (run,) = list_runs()
    assert run.info.status == "FAILED"
    assert caplog.records == []


def test_disabled_autolog_logs_nothing(iris: Any, list_runs: ListRuns) -> None:
    autolog()
    autolog(disable=True)
    DecisionTreeClassifier().fit(*iris)
    assert list_runs() == []


def test_bound_method_taken_while_enabled_logs_nothing_after_disable(
    iris: Any, list_runs: ListRuns
) -> None:
    autolog()
    fit = DecisionTreeClassifier().fit
    autolog(disable=True)
    fit(*iris)
    assert list_runs() == []


def test_non_estimator_using_a_patched_mixin_logs_nothing(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    from sklearn.base import TransformerMixin

    class Plain(TransformerMixin):  # type: ignore[misc]  # sklearn is untyped
        def fit(self, X: Any, y: Any = None) -> Plain:
            return self

        def transform(self, X: Any) -> Any:
            return X

    Plain().fit_transform(iris[0])
    assert list_runs() == []


def test_extra_tags_go_on_autolog_runs(iris: Any, list_runs: ListRuns) -> None:
    autolog(extra_tags={"team": "risk"})
    try:
        DecisionTreeClassifier().fit(*iris)
    finally:
        autolog(disable=True)
    (run,) = list_runs()
    assert run.data.tags["team"] == "risk"


def test_carrier_pickles_as_the_bare_task() -> None:
    import pickle

    from mltrail.sklearn.session._session import Carrier

    assert pickle.loads(pickle.dumps(Carrier(len, True))) is len  # noqa: S301 - ours


@pytest.mark.slow
def test_grid_search_in_process_backend_creates_one_parent(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    search = GridSearchCV(
        DecisionTreeClassifier(), {"max_depth": [1, 2]}, cv=2, n_jobs=2
    )
    with joblib.parallel_backend("loky"):
        search.fit(*iris)
    assert len(list_runs()) == 1 + 2


def test_failure_building_the_log_warns(
    autolog: None, iris: Any, monkeypatch: pytest.MonkeyPatch, list_runs: ListRuns
) -> None:
    from mltrail.sklearn.shared import _events

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("no log today")

    monkeypatch.setattr(_events, "FitEnded", broken)
    with pytest.warns(MltrailWarning, match="logging: RuntimeError: no log today"):
        DecisionTreeClassifier().fit(*iris)
    (run,) = list_runs()
    assert run.info.status == "FINISHED"


def test_failed_fit_in_active_run_leaves_it_running_without_error_tags(
    autolog: None, iris: Any, client: tracking.TrackingClient
) -> None:
    with tracking.start_run() as active:
        with pytest.raises(ValueError, match="bad data"):
            Broken().fit(*iris)
        stored = client.get_run(active.info.run_id)
    assert stored.info.status == "RUNNING"
    assert stored.data.tags["estimator_name"] == "Broken"
    assert "mlflow.mltrail.error.type" not in stored.data.tags


def test_estimator_module_imported_after_autolog_is_logged(
    autolog: None, iris: Any, list_runs: ListRuns, tmp_path: Any, monkeypatch: Any
) -> None:
    (tmp_path / "thirdparty_boost.py").write_text(
        "from sklearn.base import BaseEstimator, ClassifierMixin\n"
        "import numpy as np\n\n"
        "class BoostClassifier(ClassifierMixin, BaseEstimator):\n"
        "    def __init__(self, n_rounds=3):\n"
        "        self.n_rounds = n_rounds\n\n"
        "    def fit(self, X, y, sample_weight=None):\n"
        "        self.classes_ = np.unique(y)\n"
        "        return self\n\n"
        "    def predict(self, X):\n"
        "        return np.full(len(X), self.classes_[0])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    module = importlib.import_module("thirdparty_boost")
    module.BoostClassifier(n_rounds=5).fit(*iris)
    (run,) = list_runs()
    assert run.data.params == {"n_rounds": "5"}
    assert run.data.tags["estimator_class"] == "thirdparty_boost.BoostClassifier"
    assert "training_accuracy_score" in run.data.metrics


class Interrupted(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # untyped
    """An estimator whose fit is interrupted by the user."""

    def fit(self, X: Any, y: Any) -> Interrupted:
        raise KeyboardInterrupt


def test_interrupted_fit_marks_run_killed(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    with pytest.raises(KeyboardInterrupt):
        Interrupted().fit(*iris)
    (run,) = list_runs()
    assert run.info.status == "KILLED"
    assert run.data.tags["mlflow.mltrail.error.type"] == "builtins.KeyboardInterrupt"


def test_error_text_is_bounded() -> None:
    from mltrail.sklearn.shared._state import MAX_ERROR_TEXT, error_tags

    tags = error_tags(ValueError("x" * (MAX_ERROR_TEXT + 10)))
    assert len(tags["mlflow.mltrail.error.message"]) == MAX_ERROR_TEXT
    assert tags["mlflow.mltrail.error.traceback"].startswith("...\n")


# Fits that scikit-learn makes on the user's behalf --------------------------------


def _report(y: Any, y_pred: Any) -> None:
    metrics.classification_report(y, y_pred, zero_division=0)


LIBRARY_CALLS: dict[str, Callable[[Any, Any], object]] = {
    "f1_macro": lambda y, y_pred: metrics.f1_score(y, y_pred, average="macro"),
    "classification_report": _report,
    "log_loss": lambda y, y_pred: metrics.log_loss(y, np.full((len(y), 3), 1 / 3)),
    "jaccard": lambda y, y_pred: metrics.jaccard_score(y, y_pred, average="macro"),
    "multilabel_confusion_matrix": metrics.multilabel_confusion_matrix,
    "compute_class_weight": lambda y, y_pred: compute_class_weight(
        "balanced", classes=np.unique(y), y=y
    ),
    "compute_sample_weight": lambda y, y_pred: compute_sample_weight("balanced", y),
}


@pytest.mark.parametrize("call", list(LIBRARY_CALLS.values()), ids=list(LIBRARY_CALLS))
def test_fits_inside_library_functions_make_no_run(
    autolog: None, iris: Any, list_runs: ListRuns, call: Callable[[Any, Any], object]
) -> None:
    _, y = iris
    call(y, (y + 1) % 3)
    assert list_runs() == []


def test_a_search_score_with_a_scorer_makes_no_run(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    search = GridSearchCV(
        LogisticRegression(max_iter=500), {"C": [0.1, 1.0]}, scoring="f1_macro", cv=3
    ).fit(*iris)
    before = len(list_runs())
    search.score(*iris)
    assert len(list_runs()) == before


def test_a_library_fit_inside_a_user_run_takes_no_slot(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    X, y = iris
    with tracking.start_run() as run:
        metrics.f1_score(y, (y + 1) % 3, average="macro")
        LogisticRegression(max_iter=500).fit(X, y)
    (logged,) = list_runs()
    assert logged.info.run_id == run.info.run_id
    assert logged.data.tags["estimator_name"] == "LogisticRegression"


def test_a_fit_dispatched_by_the_users_parallel_call_is_the_users(
    autolog: None, iris: Any, list_runs: ListRuns
) -> None:
    models = [DecisionTreeClassifier(max_depth=d) for d in (1, 2)]
    joblib.Parallel(n_jobs=1)(joblib.delayed(m.fit)(*iris) for m in models)
    assert len(list_runs()) == 2
