"""Tests of what a fit logs: params, metrics, tags, inputs, model, environment."""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn import metrics
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, make_blobs
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

import mltrail
from mltrail._entities import Run
from mltrail._version import __version__
from mltrail.models._model import read_model_info
from mltrail.sklearn import autolog
from mltrail.sklearn.recorders import _training
from mltrail.sklearn.shared import _fit

ListRuns = Callable[[], list[Run]]


def _only_run(list_runs: ListRuns) -> Run:
    (run,) = list_runs()
    return run


def _model_dir(run: Run) -> Path:
    return Path(run.info.artifact_uri.removeprefix("file://")) / "model"


def test_params_are_every_deep_param_as_str(autolog: None, list_runs: ListRuns) -> None:
    X, y = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5))
    model.fit(X, y)
    params = _only_run(list_runs).data.params
    expected = {key: str(value) for key, value in model.get_params(deep=True).items()}
    assert params == expected
    assert params["logisticregression__C"] == "0.5"
    assert params["logisticregression__tol"] == "0.0001"  # a default


def test_long_param_values_are_not_truncated(
    autolog: None, list_runs: ListRuns
) -> None:
    X, y = load_iris(return_X_y=True)
    weights = {label: 1.0 + label / 3 for label in range(3)}
    many = {**weights, **dict.fromkeys(range(3, 2000), 1.0)}
    LogisticRegression(class_weight=many).fit(X, y)
    assert _only_run(list_runs).data.params["class_weight"] == str(many)


# 100,000 words: the vocabulary's str is 1.4 million characters, past the store's
# 1 MiB limit on a param value (#9 §2).
WORDS = [f"word{i:06d}" for i in range(100_000)]
DOCUMENTS = [" ".join(WORDS[i::50][:30]) for i in range(60)]


def _artifact_text(run: Run, path: str) -> str:
    root = Path(run.info.artifact_uri.removeprefix("file://"))
    return (root / path).read_text()


@pytest.mark.slow  # saving a 100,000-word vocabulary takes seconds
def test_oversized_param_is_an_artifact_and_the_rest_is_logged(
    autolog: None, list_runs: ListRuns
) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    y = np.arange(len(DOCUMENTS)) % 2
    model = make_pipeline(CountVectorizer(vocabulary=WORDS), LogisticRegression())
    model.fit(DOCUMENTS, y)

    run = _only_run(list_runs)
    path = "params/countvectorizer__vocabulary.txt"
    expected = {key: str(value) for key, value in model.get_params(deep=True).items()}
    assert run.data.params.pop("countvectorizer__vocabulary") == (
        f"({len(str(WORDS)):,} characters, logged whole as artifact {path})"
    )
    del expected["countvectorizer__vocabulary"]
    assert run.data.params == expected
    assert _artifact_text(run, path) == str(WORDS)
    assert "training_accuracy_score" in run.data.metrics
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert (_model_dir(run) / "MLmodel").is_file()


@pytest.mark.slow  # saving a 100,000-word vocabulary takes seconds
def test_oversized_param_of_a_preprocessing_step_is_an_artifact(
    autolog: None, list_runs: ListRuns
) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    y = np.arange(len(DOCUMENTS)) % 2
    with mltrail.start_run() as active:
        X = CountVectorizer(vocabulary=WORDS).fit_transform(DOCUMENTS)
        LogisticRegression().fit(X, y)

    run = mltrail.get_run(active.info.run_id)
    path = "params/countvectorizer__vocabulary.txt"
    assert run.data.params["countvectorizer__vocabulary"] == (
        f"({len(str(WORDS)):,} characters, logged whole as artifact {path})"
    )
    assert run.data.params["C"] == "1.0"
    assert _artifact_text(run, path) == str(WORDS)


def _sparse_inputs() -> dict[str, tuple[Any, Any]]:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    X, y = load_iris(return_X_y=True)
    tfidf = TfidfVectorizer().fit_transform(DOCUMENTS)
    return {
        "csr_matrix": (sparse.csr_matrix(X), y),
        "csc_matrix": (sparse.csc_matrix(X), y),
        "tfidf": (tfidf, np.arange(len(DOCUMENTS)) % 2),
    }


@pytest.mark.parametrize("kind", ["csr_matrix", "csc_matrix", "tfidf"])
def test_fit_on_sparse_X_logs_the_model(
    autolog: None, list_runs: ListRuns, kind: str
) -> None:
    X, y = _sparse_inputs()[kind]
    model = LogisticRegression(max_iter=500).fit(X, y)

    model_dir = _model_dir(_only_run(list_runs))
    info = read_model_info(model_dir)
    assert info.signature is not None
    assert info.signature.inputs is not None
    assert info.signature.inputs.to_dict() == [
        {
            "type": "tensor",
            "tensor-spec": {"dtype": "float64", "shape": [-1, X.shape[1]]},
        }
    ]
    assert info.saved_input_example_info is not None
    assert info.saved_input_example_info["type"] == f"sparse_matrix_{X.format}"
    example = mltrail.models.Model.load(model_dir).load_input_example(model_dir)
    np.testing.assert_array_equal(example.toarray(), X[:5].toarray())
    loaded = mltrail.pyfunc.load_model(str(model_dir))
    np.testing.assert_array_equal(loaded.predict(example), model.predict(X[:5]))


@pytest.mark.slow
def test_mlflow_reads_the_sparse_example_and_predicts(
    autolog: None, list_runs: ListRuns
) -> None:
    from tests.models._mlflow import import_mlflow

    X, y = _sparse_inputs()["tfidf"]
    model = LogisticRegression().fit(X, y)
    model_dir = _model_dir(_only_run(list_runs))

    mlflow = import_mlflow()
    example = mlflow.models.Model.load(str(model_dir)).load_input_example(
        str(model_dir)
    )
    loaded = mlflow.pyfunc.load_model(str(model_dir))
    np.testing.assert_array_equal(example.toarray(), X[:5].toarray())
    np.testing.assert_array_equal(loaded.predict(example), model.predict(X[:5]))


def test_classifier_metrics_equal_sklearn(autolog: None, list_runs: ListRuns) -> None:
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    logged = _only_run(list_runs).data.metrics
    y_pred = model.predict(X)
    proba = model.predict_proba(X)
    expected = {
        "training_accuracy_score": metrics.accuracy_score(y, y_pred),
        "training_precision_score": metrics.precision_score(
            y, y_pred, average="weighted"
        ),
        "training_recall_score": metrics.recall_score(y, y_pred, average="weighted"),
        "training_f1_score": metrics.f1_score(y, y_pred, average="weighted"),
        "training_log_loss": metrics.log_loss(y, proba),
        "training_roc_auc": metrics.roc_auc_score(
            y, proba, average="weighted", multi_class="ovo"
        ),
        "training_score": model.score(X, y),
    }
    assert {key: logged[key] for key in expected} == pytest.approx(expected)


def test_forest_metrics_equal_sklearn(autolog: None, list_runs: ListRuns) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    logged = _only_run(list_runs).data.metrics
    y_pred = model.predict(X)
    assert logged["training_accuracy_score"] == metrics.accuracy_score(y, y_pred)
    assert logged["training_roc_auc"] == pytest.approx(
        metrics.roc_auc_score(y, model.predict_proba(X)[:, 1])
    )


def test_pos_label_makes_binary_metrics(list_runs: ListRuns) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    autolog(pos_label=0)
    try:
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    finally:
        autolog(disable=True)
    logged = _only_run(list_runs).data.metrics
    y_pred = model.predict(X)
    assert logged["training_precision_score"] == pytest.approx(
        metrics.precision_score(y, y_pred, pos_label=0)
    )
    assert logged["training_f1_score"] == pytest.approx(
        metrics.f1_score(y, y_pred, pos_label=0)
    )


def test_sample_weight_reaches_the_metrics(autolog: None, list_runs: ListRuns) -> None:
    X, y = load_iris(return_X_y=True)
    weight = np.linspace(0.1, 2.0, len(y))
    model = DecisionTreeClassifier(max_depth=1).fit(X, y, sample_weight=weight)
    logged = _only_run(list_runs).data.metrics
    expected = metrics.accuracy_score(y, model.predict(X), sample_weight=weight)
    assert logged["training_accuracy_score"] == pytest.approx(expected)
    assert "training_roc_auc" not in logged  # one-vs-one AUC takes no weights


def test_classifier_without_predict_proba_has_no_log_loss(
    autolog: None, list_runs: ListRuns
) -> None:
    X, y = load_iris(return_X_y=True)
    SVC().fit(X, y)
    logged = _only_run(list_runs).data.metrics
    assert "training_log_loss" not in logged
    assert "training_roc_auc" not in logged
    assert "training_f1_score" in logged


def test_regressor_metrics_equal_sklearn(autolog: None, list_runs: ListRuns) -> None:
    X, y = load_diabetes(return_X_y=True)
    model = Ridge().fit(X, y)
    logged = _only_run(list_runs).data.metrics
    y_pred = model.predict(X)
    mse = metrics.mean_squared_error(y, y_pred)
    expected = {
        "training_mean_squared_error": mse,
        "training_root_mean_squared_error": math.sqrt(mse),
        "training_mean_absolute_error": metrics.mean_absolute_error(y, y_pred),
        "training_r2_score": metrics.r2_score(y, y_pred),
        "training_score": model.score(X, y),
    }
    assert {key: logged[key] for key in expected} == pytest.approx(expected)


def test_clusterer_metrics_equal_sklearn(autolog: None, list_runs: ListRuns) -> None:
    X, _ = make_blobs(n_samples=300, centers=3, random_state=0)
    model = KMeans(n_clusters=3, n_init=1, random_state=0).fit(X)
    logged = _only_run(list_runs).data.metrics
    expected = {
        "training_silhouette_score": metrics.silhouette_score(X, model.labels_),
        "training_calinski_harabasz_score": metrics.calinski_harabasz_score(
            X, model.labels_
        ),
        "training_davies_bouldin_score": metrics.davies_bouldin_score(X, model.labels_),
    }
    assert {key: logged[key] for key in expected} == pytest.approx(expected)
    assert "training_score" not in logged


def test_clusterer_metrics_use_a_bounded_evenly_spaced_sample() -> None:
    X, _ = make_blobs(n_samples=5000, centers=4, random_state=0)
    model = KMeans(n_clusters=4, n_init=1, random_state=0).fit(X)
    values = _training.training_metrics(model, X, None)
    index = np.linspace(0, len(X) - 1, _training.CLUSTER_SAMPLE_SIZE).astype(np.intp)
    expected = metrics.silhouette_score(X[index], model.labels_[index])
    assert values["training_silhouette_score"] == pytest.approx(expected)


def test_fit_predict_labels_feed_the_cluster_metrics() -> None:
    X, _ = make_blobs(n_samples=200, centers=3, random_state=1)
    model = KMeans(n_clusters=3, n_init=1, random_state=0)
    labels = model.fit_predict(X)
    values = _training.training_metrics(model, X, None, fit_result=labels)
    assert values["training_silhouette_score"] == pytest.approx(
        metrics.silhouette_score(X, labels)
    )


def test_single_cluster_logs_no_cluster_metrics() -> None:
    X = np.zeros((20, 2))
    model = KMeans(n_clusters=1, n_init=1).fit(X)
    assert _training.training_metrics(model, X, None) == {}


def test_duration_metric_is_logged(autolog: None, list_runs: ListRuns) -> None:
    X, y = load_iris(return_X_y=True)
    DecisionTreeClassifier().fit(X, y)
    run = _only_run(list_runs)
    duration = run.data.metrics["training_duration_seconds"]
    assert run.info.end_time is not None
    assert 0 < duration < (run.info.end_time - run.info.start_time) / 1000 + 1


def test_tags_name_the_estimator_and_versions(
    autolog: None, list_runs: ListRuns
) -> None:
    X, y = load_iris(return_X_y=True)
    LogisticRegression(max_iter=1000).fit(X, y)
    tags = _only_run(list_runs).data.tags
    assert tags["estimator_name"] == "LogisticRegression"
    assert (
        tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    )
    assert tags["mlflow.autologging"] == "sklearn"
    assert tags["mlflow.mltrail.python_version"] == platform.python_version()
    assert tags["mlflow.mltrail.sklearn_version"] == sklearn.__version__
    assert tags["mlflow.mltrail.version"] == __version__


def test_training_data_is_a_run_input(autolog: None, list_runs: ListRuns) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    DecisionTreeClassifier().fit(X, y)
    (dataset_input,) = _only_run(list_runs).inputs.dataset_inputs
    assert dataset_input.dataset.name == "train"
    assert len(dataset_input.dataset.digest) == 32
    profile = json.loads(dataset_input.dataset.profile or "{}")
    assert (profile["num_rows"], profile["num_elements"]) == (150, 600)
    assert profile["target"]["class_counts"] == {"0": 50, "1": 50, "2": 50}
    assert [(t.key, t.value) for t in dataset_input.tags] == [
        ("mlflow.data.context", "train")
    ]


def test_log_datasets_false_logs_no_input(list_runs: ListRuns) -> None:
    X, y = load_iris(return_X_y=True)
    autolog(log_datasets=False)
    try:
        DecisionTreeClassifier().fit(X, y)
    finally:
        autolog(disable=True)
    assert _only_run(list_runs).inputs.dataset_inputs == []


def test_model_directory_holds_the_mlflow_files(
    autolog: None, list_runs: ListRuns
) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    DecisionTreeClassifier().fit(X, y)
    run = _only_run(list_runs)
    files = {path.name for path in _model_dir(run).iterdir()}
    assert {
        "MLmodel",
        "model.skops",
        "requirements.txt",
        "python_env.yaml",
        "conda.yaml",
        "input_example.json",
        "serving_input_example.json",
    } <= files


def test_model_signature_names_the_columns(autolog: None, list_runs: ListRuns) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    DecisionTreeClassifier().fit(X, y)
    info = read_model_info(_model_dir(_only_run(list_runs)))
    assert info.signature is not None
    assert info.signature.inputs is not None
    names = [spec.name for spec in info.signature.inputs.inputs]
    assert names == list(X.columns)


def test_loaded_model_predicts_identically(autolog: None, list_runs: ListRuns) -> None:
    X, y = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    run = _only_run(list_runs)
    loaded = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_log_input_examples_false_saves_no_example(list_runs: ListRuns) -> None:
    X, y = load_iris(return_X_y=True)
    autolog(log_input_examples=False, log_model_signatures=False)
    try:
        DecisionTreeClassifier().fit(X, y)
    finally:
        autolog(disable=True)
    model_dir = _model_dir(_only_run(list_runs))
    assert not (model_dir / "input_example.json").exists()
    assert read_model_info(model_dir).signature is None


def test_serialization_format_is_honoured(list_runs: ListRuns) -> None:
    X, y = load_iris(return_X_y=True)
    autolog(serialization_format="cloudpickle")
    try:
        DecisionTreeClassifier().fit(X, y)
    finally:
        autolog(disable=True)
    assert (_model_dir(_only_run(list_runs)) / "model.pkl").exists()


def test_log_models_false_saves_no_model(list_runs: ListRuns) -> None:
    X, y = load_iris(return_X_y=True)
    autolog(log_models=False)
    try:
        DecisionTreeClassifier().fit(X, y)
    finally:
        autolog(disable=True)
    assert not _model_dir(_only_run(list_runs)).exists()


def test_environment_snapshot_lists_installed_packages(
    autolog: None, list_runs: ListRuns
) -> None:
    X, y = load_iris(return_X_y=True)
    LinearRegression().fit(X, y)
    run = _only_run(list_runs)
    root = Path(run.info.artifact_uri.removeprefix("file://"))
    lines = (root / "environment" / "packages.txt").read_text().splitlines()
    assert f"scikit-learn=={sklearn.__version__}" in lines


@pytest.mark.parametrize(
    "make",
    [
        lambda: ("sklearn.ensemble", "HistGradientBoostingClassifier", {}),
        lambda: ("sklearn.neighbors", "KNeighborsRegressor", {}),
        lambda: ("sklearn.mixture", "GaussianMixture", {"n_components": 2}),
        lambda: ("sklearn.naive_bayes", "GaussianNB", {}),
        lambda: ("sklearn.cluster", "AgglomerativeClustering", {}),
        lambda: ("sklearn.ensemble", "IsolationForest", {"random_state": 0}),
        lambda: ("sklearn.compose", "TransformedTargetRegressor", {}),
    ],
    ids=[
        "hist_gradient_boosting",
        "knn",
        "mixture",
        "naive_bayes",
        "agglomerative",
        "isolation_forest",
        "transformed_target",
    ],
)
def test_diverse_estimators_create_exactly_one_run(
    autolog: None, list_runs: ListRuns, make: Any
) -> None:
    import importlib

    module, name, params = make()
    estimator = getattr(importlib.import_module(module), name)(**params)
    X, y = load_iris(return_X_y=True)
    estimator.fit(X, y.astype(float) if "Regressor" in name else y)
    run = _only_run(list_runs)
    assert run.info.status == "FINISHED"
    assert run.data.tags["estimator_name"] == name
    assert (_model_dir(run) / "MLmodel").exists()


def test_pipeline_forest_metrics_equal_sklearn(
    autolog: None, list_runs: ListRuns
) -> None:
    X, y = load_iris(return_X_y=True)
    model = make_pipeline(
        StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)
    ).fit(X, y)
    logged = _only_run(list_runs).data.metrics
    assert logged["training_f1_score"] == pytest.approx(
        metrics.f1_score(y, model.predict(X), average="weighted")
    )
    assert logged["training_score"] == pytest.approx(model.score(X, y))


class _ScoredRegressor(Ridge):  # type: ignore[misc]  # sklearn is untyped
    """A regressor whose score is not R²."""

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return -1.5


def test_custom_score_is_called_for_training_score() -> None:
    X, y = load_diabetes(return_X_y=True)
    model = _ScoredRegressor().fit(X, y)
    values = _training.training_metrics(model, X, y)
    assert values["training_score"] == -1.5
    assert values["training_r2_score"] == pytest.approx(
        metrics.r2_score(y, model.predict(X))
    )


def test_custom_score_gets_the_sample_weight() -> None:
    X, y = load_diabetes(return_X_y=True)
    model = _ScoredRegressor().fit(X, y)
    values = _training.training_metrics(model, X, y, np.ones(len(y)))
    assert values["training_score"] == -1.5


class _Clusterer:
    """A clusterer with predict but no labels_."""

    _estimator_type = "clusterer"

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import Tags, TargetTags

        tags = Tags(estimator_type="clusterer", target_tags=TargetTags(required=False))
        return tags

    def predict(self, X: Any) -> Any:
        return (np.asarray(X)[:, 0] > 0).astype(int)


def test_clusterer_without_labels_is_predicted() -> None:
    X, _ = make_blobs(n_samples=100, centers=2, random_state=0)
    values = _training.training_metrics(_Clusterer(), X, None)
    labels = _Clusterer().predict(X)
    assert values["training_silhouette_score"] == pytest.approx(
        metrics.silhouette_score(X, labels)
    )


def test_clusterer_without_labels_or_predict_has_no_metrics() -> None:
    from sklearn.cluster import AgglomerativeClustering

    X, _ = make_blobs(n_samples=50, centers=2, random_state=0)
    model = AgglomerativeClustering().fit(X)
    del model.labels_
    assert _training.training_metrics(model, X, None) == {}


def test_sparse_clustering_gets_only_the_silhouette() -> None:
    from scipy import sparse

    X, _ = make_blobs(n_samples=100, centers=3, random_state=0)
    X_sparse = sparse.csr_matrix(np.abs(X))
    model = KMeans(n_clusters=3, n_init=1, random_state=0).fit(X_sparse)
    assert set(_training.training_metrics(model, X_sparse, None)) == {
        "training_silhouette_score"
    }


def test_predictions_are_kept_for_reuse() -> None:
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    predictions: dict[str, Any] = {}
    _training.training_metrics(model, X, y, predictions=predictions)
    np.testing.assert_array_equal(predictions["y_pred"], model.predict(X))
    np.testing.assert_allclose(predictions["y_score"], model.predict_proba(X))


def _most_probable_classifiers() -> list[Any]:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import (
        BaggingClassifier,
        ExtraTreesClassifier,
        VotingClassifier,
    )
    from sklearn.semi_supervised import LabelSpreading
    from sklearn.tree import ExtraTreeClassifier

    return [
        RandomForestClassifier(n_estimators=5, random_state=0),
        ExtraTreesClassifier(n_estimators=5, random_state=0),
        DecisionTreeClassifier(max_depth=3, random_state=0),
        ExtraTreeClassifier(random_state=0),
        BaggingClassifier(n_estimators=3, random_state=0),
        CalibratedClassifierCV(LogisticRegression(max_iter=500), cv=3),
        VotingClassifier(
            [
                ("tree", DecisionTreeClassifier(max_depth=2)),
                ("lr", LogisticRegression(max_iter=1000)),
            ],
            voting="soft",
        ),
        LabelSpreading(),
        make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=3)),
    ]


@pytest.mark.parametrize(
    "model",
    _most_probable_classifiers(),
    ids=lambda model: type(model).__name__,
)
def test_predict_is_derived_from_probabilities_where_sklearn_does_so(
    model: Any,
) -> None:
    X, y = load_iris(return_X_y=True)
    model.fit(X, y)

    assert _fit.predicts_most_probable(model)
    derived = model.classes_.take(model.predict_proba(X).argmax(axis=1))
    np.testing.assert_array_equal(derived, model.predict(X))


class _TreeWithOwnProbabilities(DecisionTreeClassifier):  # type: ignore[misc]  # sklearn is untyped
    """A tree whose predict_proba is no longer what its predict mirrors."""

    def predict_proba(self, X: Any, check_input: bool = True) -> Any:
        return super().predict_proba(X, check_input)[:, ::-1]


def _other_classifiers() -> list[Any]:
    from sklearn.ensemble import GradientBoostingClassifier, VotingClassifier

    return [
        LogisticRegression(max_iter=500),
        GradientBoostingClassifier(n_estimators=5),
        VotingClassifier(
            [
                ("tree", DecisionTreeClassifier(max_depth=2)),
                ("lr", LogisticRegression(max_iter=1000)),
            ],
            voting="hard",
        ),
        _TreeWithOwnProbabilities(max_depth=2),
        make_pipeline(StandardScaler(), LogisticRegression()),
    ]


@pytest.mark.parametrize(
    "model", _other_classifiers(), ids=lambda model: type(model).__name__
)
def test_predict_is_called_where_it_decides_otherwise(model: Any) -> None:
    X, y = load_iris(return_X_y=True)
    model.fit(X, y)

    assert not _fit.predicts_most_probable(model)


def test_forest_training_metrics_predict_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y = load_iris(return_X_y=True)
    model = RandomForestClassifier(n_estimators=4, random_state=0).fit(X, y)
    calls: list[int] = []
    tree_proba = DecisionTreeClassifier.predict_proba

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return tree_proba(self, *args, **kwargs)

    monkeypatch.setattr(DecisionTreeClassifier, "predict_proba", counted)

    values = _training.training_metrics(model, X, y)

    assert len(calls) == 4  # one pass over the trees, for predict_proba only
    assert values["training_accuracy_score"] == metrics.accuracy_score(
        y, model.predict(X)
    )


def test_multi_output_forest_predicts_on_its_own() -> None:
    X, y = load_iris(return_X_y=True)
    model = RandomForestClassifier(n_estimators=3).fit(X, np.c_[y, y % 2])

    assert not _fit.predicts_most_probable(model)


def test_float32_weights_are_left_to_sklearn() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    weight = np.linspace(0.5, 2.0, len(y)).astype(np.float32)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)

    values = _training.training_metrics(model, X, y, weight)

    y_pred = model.predict(X)
    proba = model.predict_proba(X)
    assert values["training_f1_score"] == metrics.f1_score(
        y, y_pred, average="weighted", sample_weight=weight
    )
    assert values["training_log_loss"] == metrics.log_loss(
        y, proba, sample_weight=weight
    )
    assert values["training_roc_auc"] == metrics.roc_auc_score(
        y, proba[:, 1], sample_weight=weight
    )


class _Float32Probabilities(LogisticRegression):  # type: ignore[misc]  # sklearn is untyped
    """A classifier whose probabilities sklearn's metrics keep in float32."""

    def predict_proba(self, X: Any) -> Any:
        return super().predict_proba(X).astype(np.float32)


def test_float32_probabilities_are_left_to_sklearn() -> None:
    X, y = load_iris(return_X_y=True)
    model = _Float32Probabilities(max_iter=1000).fit(X, y)

    values = _training.training_metrics(model, X, y)

    proba = model.predict_proba(X)
    assert values["training_log_loss"] == metrics.log_loss(y, proba)
    assert values["training_roc_auc"] == metrics.roc_auc_score(
        y, proba, average="weighted", multi_class="ovo"
    )


class _Float32Regressor(Ridge):  # type: ignore[misc]  # sklearn is untyped
    """A regressor whose predictions sklearn's metrics keep in float32."""

    def predict(self, X: Any) -> Any:
        return super().predict(X).astype(np.float32)


def test_float32_predictions_are_left_to_sklearn() -> None:
    X, y = load_diabetes(return_X_y=True)
    model = _Float32Regressor().fit(X, y)

    values = _training.training_metrics(model, X, y)

    y_pred = model.predict(X)
    assert values["training_mean_squared_error"] == metrics.mean_squared_error(
        y, y_pred
    )
    assert values["training_r2_score"] == metrics.r2_score(y, y_pred)


def test_multiclass_target_with_pos_label_still_fails_as_sklearn_does() -> None:
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(X, y)

    with pytest.raises(ValueError, match="average='binary'"):
        _training.training_metrics(model, X, y, pos_label=1)
