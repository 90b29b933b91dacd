"""Tests of ``on_fit_end``: dataset, leakage, files, pipeline, curves and plots."""

from __future__ import annotations

import io
import json
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_wine
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mltrail._errors import MltrailWarning
from mltrail.capture._datasets import SplitLineage, dataset_digest
from mltrail.sklearn.recorders import _extras
from mltrail.sklearn.shared import _background
from mltrail.sklearn.shared._state import AutologSettings
from mltrail.tracking import TrackingClient

CONFIG = AutologSettings()


@pytest.fixture(autouse=True)
def no_pending_jobs() -> Iterator[None]:
    yield
    _background.wait()


@pytest.fixture
def wine() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    X, y = load_wine(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    return X_train, X_test, y_train, y_test


@pytest.fixture
def mixed() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        {
            "age": rng.randint(18, 80, 60),
            "income": rng.normal(50_000, 10_000, 60),
            "city": rng.choice(["paris", "lyon", "nice"], 60),
        }
    )
    y = (X["age"] > 45).to_numpy().astype(int)
    return X, y


def mixed_pipeline() -> Pipeline:
    columns = ColumnTransformer(
        [
            ("numbers", StandardScaler(), ["age", "income"]),
            ("cities", OneHotEncoder(), ["city"]),
        ]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression())])


def log_fit(
    client: TrackingClient, model: Any, X: Any, y: Any, config: Any = CONFIG, **kw: Any
) -> str:
    run_id = str(client.create_run("0").info.run_id)
    problems = _extras.on_fit_end(run_id, model, X, y, config, **kw)
    assert problems == []
    assert _background.wait(run_id)
    return run_id


def artifact_paths(
    client: TrackingClient, run_id: str, path: str | None = None
) -> set[str]:
    return {f.path for f in client.list_artifacts(run_id, path)}


def profile_of(dataset_input: Any) -> Any:
    return json.loads(dataset_input.dataset.profile)


def read_json(client: TrackingClient, run_id: str, path: str) -> Any:
    store, uri = client._artifacts(run_id)
    return json.loads(store.read_bytes(uri, path))


def test_classifier_logs_its_training_set_as_a_run_input(
    client: TrackingClient, wine: Any
) -> None:
    X_train, _, y_train, _ = wine
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(
        X_train, y_train
    )
    run_id = log_fit(client, model, X_train, y_train)
    (dataset_input,) = client.get_run(run_id).inputs.dataset_inputs
    assert dataset_input.dataset.name == "train"
    assert dataset_input.dataset.digest == dataset_digest(X_train, y_train)
    assert [(t.key, t.value) for t in dataset_input.tags] == [
        ("mlflow.data.context", "train")
    ]
    profile = profile_of(dataset_input)
    assert profile["target"]["n_classes"] == 3


def test_classifier_gets_training_plots_with_their_data(
    client: TrackingClient, wine: Any
) -> None:
    X_train, _, y_train, _ = wine
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(
        X_train, y_train
    )
    run_id = log_fit(client, model, X_train, y_train)
    plots = artifact_paths(client, run_id, "plots")
    for name in (
        "training_confusion_matrix",
        "training_roc_curve",
        "training_precision_recall_curve",
        "training_calibration_curve",
        "feature_importance",
    ):
        assert {f"plots/{name}.png", f"plots/{name}.json"} <= plots
    importance = read_json(client, run_id, "plots/feature_importance.json")
    assert set(importance["features"]) <= set(X_train.columns)
    store, uri = client._artifacts(run_id)
    assert store.read_bytes(uri, "plots/training_roc_curve.png").startswith(b"\x89PNG")


def test_given_predictions_are_used_for_the_plots(
    client: TrackingClient, wine: Any
) -> None:
    X_train, _, y_train, _ = wine
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    y_pred = np.zeros(len(y_train), dtype=int)
    run_id = log_fit(client, model, X_train, y_train, y_pred=y_pred)
    matrix = read_json(client, run_id, "plots/training_confusion_matrix.json")
    counts = np.asarray(matrix["counts"])
    assert counts[:, 1:].sum() == 0  # every row predicted as class 0


def test_regressor_gets_residual_plots(client: TrackingClient) -> None:
    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X, y)
    run_id = log_fit(client, model, X, y)
    plots = artifact_paths(client, run_id, "plots")
    assert "plots/training_residuals.png" in plots
    assert "plots/training_predicted_vs_actual.json" in plots
    assert "plots/feature_importance.png" in plots
    (dataset_input,) = client.get_run(run_id).inputs.dataset_inputs
    assert "min" in profile_of(dataset_input)["target"]


def test_clusterer_logs_its_dataset_and_no_label_plots(client: TrackingClient) -> None:
    X, _ = load_wine(return_X_y=True)
    model = KMeans(n_clusters=3, n_init=1, random_state=0).fit(X)
    run_id = log_fit(client, model, X, None)
    run = client.get_run(run_id)
    assert run.data.tags["mlflow.mltrail.pipeline"] == "KMeans"
    assert len(run.inputs.dataset_inputs) == 1
    assert not [p for p in artifact_paths(client, run_id, "plots") if "training_" in p]


def test_pipeline_with_mixed_columns_logs_structure_tag_and_diagram(
    client: TrackingClient, mixed: Any
) -> None:
    X, y = mixed
    model = mixed_pipeline().fit(X, y)
    run_id = log_fit(client, model, X, y)
    tags = client.get_run(run_id).data.tags
    assert tags["mlflow.mltrail.pipeline"] == (
        "ColumnTransformer(StandardScaler, OneHotEncoder) → LogisticRegression"
    )
    tree = read_json(client, run_id, "pipeline.json")
    assert tree["class"] == "sklearn.pipeline.Pipeline"
    columns = tree["children"][0]
    assert [c["input_columns"] for c in columns["children"]] == [
        ["age", "income"],
        ["city"],
    ]
    store, uri = client._artifacts(run_id)
    assert store.read_bytes(uri, "estimator.html").startswith(b"<!DOCTYPE html>")
    importance = read_json(client, run_id, "plots/feature_importance.json")
    assert "cities__city_lyon" in importance["features"]


def test_search_plots_come_from_the_best_estimator(
    client: TrackingClient, wine: Any
) -> None:
    X_train, _, y_train, _ = wine
    search = GridSearchCV(
        RandomForestClassifier(n_estimators=5, random_state=0),
        {"max_depth": [2, 3]},
        cv=2,
    ).fit(X_train, y_train)
    run_id = log_fit(client, search, X_train, y_train)
    assert "plots/feature_importance.png" in artifact_paths(client, run_id, "plots")
    assert (
        client.get_run(run_id)
        .data.tags["mlflow.mltrail.pipeline"]
        .startswith("GridSearchCV")
    )


def test_lineage_lands_in_the_dataset_profile(
    client: TrackingClient, wine: Any
) -> None:
    X_train, _, y_train, _ = wine
    lineage = SplitLineage("ab12", test_size=0.25, random_state=0)
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    run_id = log_fit(client, model, X_train, y_train, lineage=lineage)
    (dataset_input,) = client.get_run(run_id).inputs.dataset_inputs
    split = profile_of(dataset_input)["split"]
    assert (split["parent_digest"], split["test_size"]) == ("ab12", 0.25)


def test_no_shared_rows_logs_zero_without_warning(
    client: TrackingClient, wine: Any
) -> None:
    X_train, X_test, y_train, _ = wine
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    run_id = log_fit(client, model, X_train, y_train, test_X=X_test)
    assert client.get_run(run_id).data.metrics["train_test_shared_rows"] == 0.0


def test_shared_rows_are_counted_and_warned(client: TrackingClient, wine: Any) -> None:
    X_train, X_test, y_train, _ = wine
    leaky_test = pd.concat([X_test, X_train.iloc[:3]])
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    with pytest.warns(MltrailWarning, match="3 rows of the test set"):
        run_id = log_fit(client, model, X_train, y_train, test_X=leaky_test)
    assert client.get_run(run_id).data.metrics["train_test_shared_rows"] == 3.0


def test_dataset_files_are_off_by_default(client: TrackingClient, wine: Any) -> None:
    X_train, _, y_train, _ = wine
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    run_id = log_fit(client, model, X_train, y_train)
    assert "datasets" not in {p.split("/")[0] for p in artifact_paths(client, run_id)}


def test_dataset_files_store_the_training_data_as_parquet(
    client: TrackingClient, mixed: Any
) -> None:
    X, y = mixed
    model = mixed_pipeline().fit(X, y)
    config = types.SimpleNamespace(log_dataset_files=True)
    run_id = log_fit(client, model, X, y, config=config)
    store, uri = client._artifacts(run_id)
    frame = pd.read_parquet(io.BytesIO(store.read_bytes(uri, "datasets/train.parquet")))
    assert list(frame.columns) == ["age", "income", "city", "target"]
    assert frame["city"].tolist() == X["city"].tolist()


def test_dataset_files_over_the_cap_are_skipped(
    client: TrackingClient, wine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    X_train, _, y_train, _ = wine
    monkeypatch.setattr(_extras, "MAX_DATASET_FILE_BYTES", 100)
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    config = types.SimpleNamespace(log_dataset_files=True)
    run_id = log_fit(client, model, X_train, y_train, config=config)
    assert client.list_artifacts(run_id, "datasets") == []


def test_mlp_loss_curve_is_a_metric_history(client: TrackingClient, wine: Any) -> None:
    X_train, _, y_train, _ = wine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        model = MLPClassifier(max_iter=15, random_state=0).fit(X_train, y_train)
    run_id = log_fit(client, model, X_train, y_train)
    history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(len(model.loss_curve_)))
    assert [m.value for m in history] == pytest.approx(model.loss_curve_)
    assert client.get_run(run_id).data.metrics["n_iter"] == model.n_iter_
    assert "plots/iteration_curves.png" in artifact_paths(client, run_id, "plots")


def test_gradient_boosting_train_score_is_a_metric_history(
    client: TrackingClient,
) -> None:
    X, y = load_diabetes(return_X_y=True)
    model = GradientBoostingRegressor(n_estimators=20, subsample=0.8, random_state=0)
    model.fit(X, y)
    run_id = log_fit(client, model, X, y)
    history = client.get_metric_history(run_id, "train_score")
    assert [m.value for m in history] == pytest.approx(model.train_score_)
    oob = client.get_metric_history(run_id, "oob_improvement")
    assert len(oob) == 20


def test_duck_typed_evals_result_is_a_metric_history() -> None:
    model = types.SimpleNamespace(
        evals_result_={"validation_0": {"logloss": [0.6, 0.5, 0.4]}}
    )
    points = _extras.curve_metrics(model, 0)
    assert [(p.key, p.step, p.value) for p in points] == [
        ("validation_0_logloss", 0, 0.6),
        ("validation_0_logloss", 1, 0.5),
        ("validation_0_logloss", 2, 0.4),
    ]


def test_per_class_n_iter_logs_its_maximum() -> None:
    model = types.SimpleNamespace(n_iter_=np.array([3, 7, 5]))
    assert [(p.key, p.value) for p in _extras.curve_metrics(model, 0)] == [
        ("n_iter", 7.0)
    ]


def test_unusable_n_iter_is_left_out() -> None:
    model = types.SimpleNamespace(n_iter_="many")
    assert _extras.curve_metrics(model, 0) == []


def test_options_off_log_nothing_but_the_dataset(
    client: TrackingClient, wine: Any
) -> None:
    X_train, _, y_train, _ = wine
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X_train, y_train)
    config = types.SimpleNamespace(
        log_plots=False, log_pipeline=False, log_iterations=False
    )
    run_id = log_fit(client, model, X_train, y_train, config=config)
    run = client.get_run(run_id)
    assert "mlflow.mltrail.pipeline" not in run.data.tags
    assert client.list_artifacts(run_id) == []
    assert len(run.inputs.dataset_inputs) == 1


def test_log_datasets_off_skips_the_input_and_leakage(
    client: TrackingClient, wine: Any
) -> None:
    X_train, X_test, y_train, _ = wine
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    config = types.SimpleNamespace(log_datasets=False)
    run_id = log_fit(client, model, X_train, y_train, config=config, test_X=X_test)
    run = client.get_run(run_id)
    assert run.inputs.dataset_inputs == []
    assert "train_test_shared_rows" not in run.data.metrics


def test_decision_function_scores_give_curves(client: TrackingClient) -> None:
    from sklearn.svm import LinearSVC

    X, y = load_wine(return_X_y=True)
    y = (y == 1).astype(int)
    model = LinearSVC().fit(StandardScaler().fit_transform(X), y)
    run_id = log_fit(client, model, StandardScaler().fit_transform(X), y)
    plots = artifact_paths(client, run_id, "plots")
    assert "plots/training_roc_curve.png" in plots
    assert "plots/training_calibration_curve.png" not in plots


def test_multioutput_target_draws_no_label_plots(client: TrackingClient) -> None:
    X, y = load_diabetes(return_X_y=True)
    Y = np.column_stack([y, y * 2])
    model = LinearRegression().fit(X, Y)
    run_id = log_fit(client, model, X, Y)
    assert not [p for p in artifact_paths(client, run_id, "plots") if "training_" in p]


def test_failing_part_is_reported_and_the_others_still_log(
    client: TrackingClient, wine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    X_train, _, y_train, _ = wine
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError("cannot describe")

    monkeypatch.setattr(_extras, "describe_train", broken)
    run_id = str(client.create_run("0").info.run_id)
    problems = _extras.on_fit_end(run_id, model, X_train, y_train, CONFIG)
    _background.wait(run_id)
    assert problems == ["dataset: ValueError: cannot describe"]
    assert "mlflow.mltrail.pipeline" in client.get_run(run_id).data.tags


def test_failing_plot_job_warns_at_wait(
    client: TrackingClient, wine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    X_train, _, y_train, _ = wine
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("no canvas")

    monkeypatch.setattr(_extras, "_training_plots", broken)
    run_id = str(client.create_run("0").info.run_id)
    _extras.on_fit_end(run_id, model, X_train, y_train, CONFIG)
    with pytest.warns(MltrailWarning, match="no canvas"):
        _background.wait(run_id)


def test_wait_without_any_job_returns_true(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_background, "_renderer", None)
    assert _background.wait("no-such-run")


@pytest.fixture
def recorded_split() -> Iterator[Callable[..., list[Any]]]:
    """``train_test_split`` whose call ``_heldout`` records, as autolog does."""
    from mltrail.sklearn.recorders import _heldout

    def split(*arrays: Any, **options: Any) -> list[Any]:
        result: list[Any] = train_test_split(*arrays, **options)
        _heldout.on_split(arrays, options, result)
        return result

    yield split
    _heldout.reset()


def test_recorded_split_gives_lineage_and_leakage(
    client: TrackingClient, recorded_split: Any
) -> None:
    X, y = load_wine(return_X_y=True, as_frame=True)
    X_train, _, y_train, _ = recorded_split(X, y, test_size=0.3, random_state=1)
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    run_id = log_fit(client, model, X_train, y_train)
    run = client.get_run(run_id)
    split = profile_of(run.inputs.dataset_inputs[0])["split"]
    assert split["parent_digest"] == dataset_digest(X, y)
    assert (split["test_size"], split["random_state"]) == (0.3, 1)
    assert run.data.metrics["train_test_shared_rows"] == 0.0


def test_recorded_split_with_duplicate_rows_warns(
    client: TrackingClient, recorded_split: Any
) -> None:
    X, y = load_wine(return_X_y=True)
    X, y = np.vstack([X, X[:40]]), np.concatenate([y, y[:40]])
    X_train, _, y_train, _ = recorded_split(X, y, random_state=0)
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    with pytest.warns(MltrailWarning, match="rows of the test set"):
        run_id = log_fit(client, model, X_train, y_train)
    assert client.get_run(run_id).data.metrics["train_test_shared_rows"] > 0


def test_data_from_no_recorded_split_has_no_lineage(
    client: TrackingClient, recorded_split: Any, wine: Any
) -> None:
    X, y = load_diabetes(return_X_y=True)
    recorded_split(X, y, random_state=0)
    X_train, _, y_train, _ = wine
    model = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    run = client.get_run(log_fit(client, model, X_train, y_train))
    assert "split" not in profile_of(run.inputs.dataset_inputs[0])
    assert "train_test_shared_rows" not in run.data.metrics


def test_curve_attributes_cover_what_iteration_curves_reads() -> None:
    from mltrail.evaluation import _estimator_plots

    expected = {*_estimator_plots.CURVE_ATTRIBUTES, "evals_result_"}
    assert set(_extras.CURVE_ATTRIBUTES) == expected


# End to end through ``mltrail.sklearn.autolog()``.


@pytest.fixture
def wired_autolog(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from mltrail.sklearn import autolog
    from mltrail.sklearn.recorders import _code
    from mltrail.sklearn.session import _loops

    autolog()
    yield
    _loops.end_partial_loops()
    autolog(disable=True)
    _background.wait()
    _code.reset()


def test_autologged_fit_in_a_user_run_logs_everything(
    wired_autolog: None, client: TrackingClient, wine: Any
) -> None:
    from mltrail import tracking

    X_train, X_test, y_train, _ = wine
    with tracking.start_run() as run:
        model = RandomForestClassifier(n_estimators=10, random_state=0)
        model.fit(X_train, y_train)
        model.predict(X_test)
    _background.wait(run.info.run_id)
    stored = client.get_run(run.info.run_id)
    assert stored.data.tags["mlflow.mltrail.pipeline"] == "RandomForestClassifier"
    assert "mlflow.mltrail.author" in stored.data.tags
    names = {entry.dataset.name for entry in stored.inputs.dataset_inputs}
    assert names == {"train", "test"}
    plots = artifact_paths(client, run.info.run_id, "plots")
    assert "plots/training_confusion_matrix.png" in plots
    assert {"pipeline.json", "estimator.html"} <= artifact_paths(
        client, run.info.run_id
    )


def test_autologged_pipeline_gets_its_own_run_with_structure(
    wired_autolog: None, client: TrackingClient, mixed: Any, list_runs: Any
) -> None:
    X, y = mixed
    mixed_pipeline().fit(X, y)
    (run,) = list_runs()
    _background.wait(run.info.run_id)
    assert run.data.tags["mlflow.mltrail.pipeline"] == (
        "ColumnTransformer(StandardScaler, OneHotEncoder) → LogisticRegression"
    )
    assert "estimator.html" in artifact_paths(client, run.info.run_id)


def test_autologged_fit_ends_an_open_partial_fit_loop(
    wired_autolog: None, list_runs: Any, wine: Any
) -> None:
    from sklearn.linear_model import SGDClassifier

    X_train, _, y_train, _ = wine
    scaled = X_train.to_numpy() / X_train.to_numpy().max(axis=0)  # no fit: no run
    model = SGDClassifier(random_state=0)
    model.partial_fit(scaled[:50], y_train[:50], classes=[0, 1, 2])
    model.partial_fit(scaled[50:], y_train[50:])
    DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    loop, fit = list_runs()
    assert loop.info.status == "FINISHED"
    assert loop.data.tags["estimator_name"] == "SGDClassifier"
    assert fit.data.tags["estimator_name"] == "DecisionTreeClassifier"


def test_training_plots_predict_without_held_out_observation(
    wired_autolog: None,
    client: TrackingClient,
    wine: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sklearn.linear_model import SGDClassifier

    from mltrail.sklearn.recorders import _heldout

    X_train, _, y_train, _ = wine
    observed: list[str] = []
    observe = _heldout._observe

    def counting(model: Any, estimator: Any, method: str, *args: Any, **kw: Any) -> Any:
        observed.append(method)
        return observe(model, estimator, method, *args, **kw)

    monkeypatch.setattr(_heldout, "_observe", counting)
    model = SGDClassifier(random_state=0).fit(X_train.to_numpy(), y_train)
    assert _background.wait()
    from mltrail.sklearn.shared import _models

    run_id = _models.model_run(model)
    assert run_id is not None
    assert "plots/training_roc_curve.json" in artifact_paths(client, run_id[0], "plots")
    assert observed == []
