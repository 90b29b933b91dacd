"""The sklearn flavor: save, log and load, and MLflow reading what mltrail wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mltrail
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail._version import __version__
from mltrail.models import ModelInfo, UntrustedModelError, _uris
from mltrail.tracking import TrackingClient, active_run, end_run, start_run
from tests.models._mlflow import import_mlflow

X, y = load_wine(return_X_y=True, as_frame=True)
FORMATS = ["skops", "cloudpickle", "pickle"]


@pytest.fixture(scope="module")
def forest():
    return RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def pipeline():
    X_cancer, y_cancer = load_breast_cancer(return_X_y=True, as_frame=True)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(
        X_cancer, y_cancer
    ), X_cancer


@pytest.mark.parametrize("serialization_format", FORMATS)
def test_save_and_load_round_trip(tmp_path, forest, serialization_format):
    info = mltrail.sklearn.save_model(
        forest,
        tmp_path / "m",
        serialization_format=serialization_format,
        input_example=X,
    )
    assert isinstance(info, ModelInfo)
    loaded = mltrail.sklearn.load_model(tmp_path / "m", trusted=True)
    np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))


def test_skops_forest_loads_without_trust_arguments(tmp_path, forest):
    mltrail.sklearn.save_model(forest, tmp_path / "m")
    loaded = mltrail.sklearn.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))


def test_skops_trusted_types_are_written_for_mlflow(tmp_path, forest):
    info = mltrail.sklearn.save_model(forest, tmp_path / "m")
    assert info.flavors["sklearn"]["skops_trusted_types"] == ["sklearn.tree._tree.Tree"]


@pytest.mark.parametrize("serialization_format", ["cloudpickle", "pickle"])
def test_pickle_formats_are_refused_without_trust(
    tmp_path, forest, serialization_format
):
    mltrail.sklearn.save_model(
        forest, tmp_path / "m", serialization_format=serialization_format
    )
    with pytest.raises(UntrustedModelError, match="Pass trusted=True"):
        mltrail.sklearn.load_model(tmp_path / "m")


def test_load_accepts_file_uri(tmp_path, forest):
    mltrail.sklearn.save_model(forest, tmp_path / "m")
    assert mltrail.sklearn.load_model((tmp_path / "m").as_uri()) is not None


def test_save_refuses_existing_model(tmp_path, forest):
    mltrail.sklearn.save_model(forest, tmp_path / "m")
    with pytest.raises(InvalidValueError, match="never overwrites"):
        mltrail.sklearn.save_model(forest, tmp_path / "m")


def test_log_model_writes_into_active_run(forest):
    with start_run() as run:
        info = mltrail.sklearn.log_model(forest, input_example=X)
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run.info.run_id
    assert info.artifact_path == "model"
    paths = {f.path for f in TrackingClient().list_artifacts(run.info.run_id, "model")}
    assert paths == {
        f"model/{name}"
        for name in (
            "MLmodel",
            "model.skops",
            "requirements.txt",
            "python_env.yaml",
            "conda.yaml",
            "input_example.json",
            "serving_input_example.json",
        )
    }


def test_logged_model_loads_from_runs_uri(forest):
    with start_run() as run:
        info = mltrail.sklearn.log_model(forest, "nested/forest/", input_example=X)
    assert info.artifact_path == "nested/forest"
    model = mltrail.pyfunc.load_model(f"runs:/{run.info.run_id}/nested/forest")
    np.testing.assert_array_equal(model.predict(X), forest.predict(X))
    assert model.metadata.run_id == info.run_id


def test_log_model_copies_into_remote_artifacts(forest, monkeypatch):
    from mltrail.models import _uris

    monkeypatch.setattr(_uris, "local_artifact_directory", lambda *args, **kwargs: None)
    with start_run() as run:
        info = mltrail.sklearn.log_model(forest, "copied")
    paths = {f.path for f in TrackingClient().list_artifacts(run.info.run_id, "copied")}
    assert "copied/MLmodel" in paths
    assert mltrail.sklearn.load_model(info.model_uri) is not None


def test_log_model_refuses_path_outside_run(forest):
    with start_run(), pytest.raises(InvalidValueError, match="stays inside the run"):
        mltrail.sklearn.log_model(forest, "../escape")


def test_log_model_to_explicit_run(forest):
    client = TrackingClient()
    run_id = client.create_run("0").info.run_id
    info = mltrail.sklearn.log_model(forest, run_id=run_id)
    assert info.run_id == run_id
    assert active_run() is None


def test_log_model_without_run_starts_one(forest):
    try:
        info = mltrail.sklearn.log_model(forest)
        active = active_run()
        assert active is not None
        assert active.info.run_id == info.run_id
    finally:
        end_run()


def test_log_model_to_unknown_run_is_not_found(forest):
    TrackingClient().create_run("0")  # the store exists
    with pytest.raises(NotFoundError):
        mltrail.sklearn.log_model(forest, run_id="0" * 32)


@pytest.mark.mlflow
@pytest.mark.parametrize("serialization_format", FORMATS)
@pytest.mark.parametrize("input_kind", ["dataframe", "numpy"])
def test_mlflow_loads_our_forest_and_predicts_the_same(
    tmp_path, serialization_format, input_kind
):
    mlflow = import_mlflow()
    data = X if input_kind == "dataframe" else X.to_numpy()
    estimator = RandomForestClassifier(n_estimators=100, random_state=0).fit(data, y)
    mltrail.sklearn.save_model(
        estimator,
        tmp_path / "m",
        serialization_format=serialization_format,
        input_example=data,
    )
    ours = mltrail.pyfunc.load_model(tmp_path / "m", trusted=True).predict(data)
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(data)
    np.testing.assert_array_equal(np.asarray(theirs), ours)
    np.testing.assert_array_equal(ours, estimator.predict(data))


@pytest.mark.mlflow
def test_mlflow_loads_our_pipeline(tmp_path, pipeline):
    mlflow = import_mlflow()
    estimator, X_cancer = pipeline
    mltrail.sklearn.save_model(estimator, tmp_path / "m", input_example=X_cancer)
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(X_cancer)
    ours = mltrail.pyfunc.load_model(tmp_path / "m").predict(X_cancer)
    np.testing.assert_array_equal(np.asarray(theirs), ours)
    loaded = mlflow.sklearn.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.predict(X_cancer), estimator.predict(X_cancer))


@pytest.mark.mlflow
def test_mlflow_reads_our_signature_and_example(tmp_path, forest):
    mlflow = import_mlflow()
    info = mltrail.sklearn.save_model(forest, tmp_path / "m", input_example=X)
    model = mlflow.models.Model.load(str(tmp_path / "m"))
    assert model.signature.to_dict() == info.signature.to_dict()  # type: ignore[union-attr]
    example = model.load_input_example(str(tmp_path / "m"))
    pd.testing.assert_frame_equal(example, X.iloc[:5].reset_index(drop=True))
    assert model.mltrail_version == __version__


@pytest.mark.mlflow
def test_mlflow_parses_nullable_and_categorical_signatures():
    mlflow = import_mlflow()
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None, 3], dtype="Int64"),
            "c": pd.Categorical(["a", "b", "a"]),
            "s": pd.array(["x", "y", None], dtype="string"),
        }
    )
    signature = mltrail.models.infer_signature(frame, np.array([0, 1, 0]))
    parsed = mlflow.models.signature.ModelSignature.from_dict(signature.to_dict())
    assert parsed.to_dict() == signature.to_dict()
    assert [spec.required for spec in parsed.inputs.inputs] == [False, True, False]


@pytest.mark.mlflow
def test_mlflow_requirement_check_is_satisfied(tmp_path, forest):
    import_mlflow()
    from mlflow.utils.requirements_utils import _check_requirement_satisfied

    mltrail.sklearn.save_model(forest, tmp_path / "m", input_example=X)
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert [_check_requirement_satisfied(line) for line in requirements] == [
        None
    ] * len(requirements)


def test_model_file_path_is_relative(tmp_path, forest):
    info = mltrail.sklearn.save_model(forest, tmp_path / "m")
    assert Path(info.flavors["python_function"]["model_path"]).name == "model.skops"


@pytest.mark.mlflow
def test_skops_trusted_types_reach_mlflows_loader(tmp_path):
    from tests.models.test_serialization import Doubler

    mlflow = import_mlflow()
    pipeline = make_pipeline(Doubler(), StandardScaler()).fit(X)
    doubler = f"{Doubler.__module__}.Doubler"
    with start_run():
        info = mltrail.sklearn.log_model(
            pipeline, name="m", skops_trusted_types=["x.Y"], await_registration_for=0
        )
    assert info.flavors["sklearn"]["skops_trusted_types"] == [doubler, "x.Y"]
    directory = _uris.resolve_model_uri(info.model_uri)
    loaded = mlflow.sklearn.load_model(str(directory))
    np.testing.assert_allclose(loaded.transform(X), pipeline.transform(X))
