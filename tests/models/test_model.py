"""The model directory: MLmodel content, environment files, and model URIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
import yaml
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import mltrail
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail._version import __version__
from mltrail.capture import pinned_requirement, python_version
from mltrail.models import ColSpec, ModelSignature, Schema, _uris
from mltrail.models._model import (
    read_model_info,
    resolve_model_uri,
    save_model_directory,
)
from mltrail.tracking import start_run
from tests.models._mlflow import import_mlflow

X, y = load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def estimator():
    return LogisticRegression(max_iter=1000).fit(X, y)


def _mlmodel(path: Path) -> dict[str, Any]:
    content: dict[str, Any] = yaml.safe_load((path / "MLmodel").read_text())
    return content


def test_mlmodel_has_mlflow_fields(tmp_path, estimator):
    save_model_directory(estimator, tmp_path / "m", input_example=X)
    content = _mlmodel(tmp_path / "m")
    assert content["flavors"] == {
        "python_function": {
            "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            "loader_module": "mlflow.sklearn",
            "model_path": "model.skops",
            "predict_fn": "predict",
            "python_version": python_version(),
        },
        "sklearn": {
            "code": None,
            "pickled_model": "model.skops",
            "serialization_format": "skops",
            "sklearn_version": sklearn.__version__,
            "skops_trusted_types": None,
        },
    }
    assert "mlflow_version" not in content  # MLflow did not write it
    assert content["mltrail_version"] == __version__
    assert len(content["model_uuid"]) == 32
    assert content["signature"]["params"] is None
    assert content["saved_input_example_info"]["type"] == "dataframe"
    assert "run_id" not in content


def test_model_size_counts_model_and_example_files(tmp_path, estimator):
    save_model_directory(estimator, tmp_path, input_example=X)
    expected = sum(
        (tmp_path / name).stat().st_size
        for name in ("model.skops", "input_example.json", "serving_input_example.json")
    )
    assert _mlmodel(tmp_path)["model_size_bytes"] == expected


def test_utc_time_is_naive_string(tmp_path, estimator):
    info = save_model_directory(estimator, tmp_path)
    assert pd.Timestamp(info.utc_time_created).tzinfo is None


def test_signature_is_inferred_from_example_and_prediction(tmp_path, estimator):
    info = save_model_directory(estimator, tmp_path, input_example=X)
    assert info.signature is not None
    assert info.signature.inputs is not None
    assert info.signature.inputs.names() == list(X.columns)
    assert info.signature.outputs is not None
    assert info.signature.outputs.to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}
    ]


def test_signature_false_writes_none(tmp_path, estimator):
    save_model_directory(estimator, tmp_path, input_example=X, signature=False)
    assert "signature" not in _mlmodel(tmp_path)


def test_given_signature_is_written(tmp_path, estimator):
    signature = ModelSignature(Schema((ColSpec("double", "a"),)))
    save_model_directory(estimator, tmp_path, signature=signature)
    assert read_model_info(tmp_path).signature == signature


def test_no_example_means_no_signature_and_no_files(tmp_path, estimator):
    save_model_directory(estimator, tmp_path)
    assert "signature" not in _mlmodel(tmp_path)
    assert not (tmp_path / "input_example.json").exists()


def test_numpy_example_gives_tensor_signature(tmp_path):
    estimator = LogisticRegression(max_iter=1000).fit(X.to_numpy(), y)
    info = save_model_directory(estimator, tmp_path, input_example=X.to_numpy())
    assert info.signature is not None
    assert info.signature.inputs is not None
    assert info.signature.inputs.to_dict()[0]["tensor-spec"] == {
        "dtype": "float64",
        "shape": [-1, 4],
    }
    assert json.loads((tmp_path / "serving_input_example.json").read_text())["inputs"]


def test_estimator_without_predict_fn_has_no_pyfunc_flavor(tmp_path, estimator):
    info = save_model_directory(estimator, tmp_path, pyfunc_predict_fn="score")
    assert "python_function" in info.flavors
    transformer = sklearn.preprocessing.StandardScaler().fit(X)
    other = save_model_directory(transformer, tmp_path / "t", input_example=X)
    assert "python_function" not in other.flavors
    assert other.signature is not None
    assert other.signature.outputs is not None
    assert other.signature.outputs.to_dict()[0]["tensor-spec"]["shape"] == [-1, 4]


def test_score_fn_gives_no_output_schema(tmp_path, estimator):
    info = save_model_directory(
        estimator, tmp_path, input_example=X, pyfunc_predict_fn="score"
    )
    assert info.signature is not None
    assert info.signature.outputs is None


def test_predict_proba_is_recorded(tmp_path, estimator):
    info = save_model_directory(
        estimator, tmp_path, input_example=X, pyfunc_predict_fn="predict_proba"
    )
    assert info.flavors["python_function"]["predict_fn"] == "predict_proba"
    assert info.signature is not None
    assert info.signature.outputs is not None
    assert info.signature.outputs.to_dict()[0]["tensor-spec"]["shape"] == [-1, 3]


def test_unknown_predict_fn_is_rejected(tmp_path, estimator):
    with pytest.raises(InvalidValueError, match="pyfunc_predict_fn must be one of"):
        save_model_directory(estimator, tmp_path, pyfunc_predict_fn="fit")


def test_requirements_pin_what_loading_needs_and_not_mltrail(tmp_path, estimator):
    save_model_directory(estimator, tmp_path, input_example=X)
    lines = (tmp_path / "requirements.txt").read_text().splitlines()
    assert lines == sorted(lines, key=str.lower)
    for name in ("numpy", "pandas", "scikit-learn", "scipy", "skops"):
        assert pinned_requirement(name) in lines
    conda = yaml.safe_load((tmp_path / "conda.yaml").read_text())
    pins = [*lines, *conda["dependencies"][-1]["pip"]]
    assert not [line for line in pins if line.startswith("mltrail")]


def test_requirements_come_from_an_index(tmp_path, estimator):
    """Each pin is a distribution installed from a package index, not a folder."""
    import importlib.metadata

    save_model_directory(estimator, tmp_path)
    for line in (tmp_path / "requirements.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        distribution = importlib.metadata.distribution(name)
        assert distribution.version == version
        assert distribution.read_text("direct_url.json") is None, name


def test_explicit_requirements_replace_inferred(tmp_path, estimator):
    save_model_directory(
        estimator,
        tmp_path,
        pip_requirements=["scikit-learn"],
        extra_pip_requirements=["extra==1"],
    )
    assert (tmp_path / "requirements.txt").read_text() == "scikit-learn\nextra==1"


def test_python_env_and_conda_follow_mlflow(tmp_path, estimator):
    save_model_directory(estimator, tmp_path)
    python_env = (tmp_path / "python_env.yaml").read_text()
    assert python_env.startswith(f"python: {python_version()}\nbuild_dependencies:\n")
    assert yaml.safe_load(python_env)["dependencies"] == ["-r requirements.txt"]
    conda = yaml.safe_load((tmp_path / "conda.yaml").read_text())
    requirements = (tmp_path / "requirements.txt").read_text().splitlines()
    assert conda["name"] == "mlflow-env"
    assert conda["channels"] == ["conda-forge"]
    assert conda["dependencies"][0] == f"python={python_version()}"
    assert conda["dependencies"][-1] == {"pip": requirements}


def test_non_empty_directory_is_refused(tmp_path, estimator):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(InvalidValueError, match="never overwrites"):
        save_model_directory(estimator, tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_failed_save_leaves_no_directory(tmp_path):
    with pytest.raises(InvalidValueError, match="serialization_format"):
        save_model_directory(
            LogisticRegression(), tmp_path / "m", serialization_format="x"
        )
    assert not (tmp_path / "m").exists()


def test_clusterer_saves_with_its_labels_as_output(tmp_path):
    kmeans = KMeans(n_clusters=2, n_init=1, random_state=0).fit(X)
    info = save_model_directory(kmeans, tmp_path, input_example=X)
    assert info.signature is not None
    assert info.signature.outputs is not None
    assert info.signature.outputs.inputs[0].to_dict()["tensor-spec"]["dtype"] == "int32"


def test_read_model_info_round_trips(tmp_path, estimator):
    saved = save_model_directory(estimator, tmp_path, input_example=X)
    read = read_model_info(tmp_path)
    assert read == saved


def test_read_model_info_without_mlmodel_is_not_found(tmp_path):
    with pytest.raises(NotFoundError, match="No MLmodel file"):
        read_model_info(tmp_path)


def test_read_model_info_of_malformed_file_raises(tmp_path):
    (tmp_path / "MLmodel").write_text("- just a list\n")
    with pytest.raises(InvalidValueError, match="'flavors' mapping"):
        read_model_info(tmp_path)


def test_serialization_format_defaults_to_pickle(tmp_path):
    (tmp_path / "MLmodel").write_text("flavors:\n  sklearn: {}\n")
    assert read_model_info(tmp_path).serialization_format == "pickle"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("some/dir", "some/dir"),
        ("file:///srv/a%20b", "/srv/a b"),
        ("C:/models", "C:/models"),
    ],
    ids=["path", "file-uri", "drive"],
)
def test_local_uris_resolve_to_paths(uri, expected):
    assert resolve_model_uri(uri) == Path(expected)


def test_remote_uri_is_rejected():
    with pytest.raises(InvalidValueError, match="'runs:/<run_id>/<artifact_path>'"):
        resolve_model_uri("s3://bucket/model")


@pytest.mark.parametrize("uri", ["runs:/", "runs:/abc", "runs://model"])
def test_incomplete_runs_uri_is_rejected(uri):
    with pytest.raises(InvalidValueError, match="runs:/<run_id>/<artifact_path>"):
        resolve_model_uri(uri)


def test_runs_uri_reads_local_artifacts_in_place(estimator):
    with start_run() as run:
        mltrail.sklearn.log_model(estimator)
    directory = resolve_model_uri(f"runs:/{run.info.run_id}/model")
    assert directory == (Path(run.info.artifact_uri) / "model").resolve()


def test_runs_uri_outside_the_run_is_refused(estimator):
    with start_run() as run:
        mltrail.sklearn.log_model(estimator)
    with pytest.raises(InvalidValueError, match="stays inside the run"):
        resolve_model_uri(f"runs:/{run.info.run_id}/../../other")


def test_runs_uri_without_model_is_not_found():
    with start_run() as run:
        pass
    with pytest.raises(NotFoundError, match="no artifact there"):
        resolve_model_uri(f"runs:/{run.info.run_id}/model")


def test_remote_run_artifacts_are_downloaded(estimator, monkeypatch):
    with start_run() as run:
        mltrail.sklearn.log_model(estimator)
    monkeypatch.setattr(
        _uris, "local_artifact_directory", lambda uri, path, root=None: None
    )
    directory = resolve_model_uri(f"runs:/{run.info.run_id}/model")
    assert (directory / "MLmodel").is_file()
    assert Path(run.info.artifact_uri) not in directory.parents


def test_example_output_uses_only_first_rows(tmp_path):
    seen = []

    class Recorder(LogisticRegression):  # type: ignore[misc]  # sklearn is untyped
        def predict(self, X):
            seen.append(len(X))
            return super().predict(X)

    model = Recorder(max_iter=1000).fit(X, y)
    save_model_directory(
        model, tmp_path, input_example=X, serialization_format="cloudpickle"
    )
    assert seen == [5]


def test_requirements_are_read_line_by_line(tmp_path, estimator):
    save_model_directory(
        estimator, tmp_path, pip_requirements=["a ; python_version>'3'"]
    )
    with open(tmp_path / "requirements.txt", "a") as file:
        file.write("\n# a comment\n\nb==1\n")
    assert read_model_info(tmp_path).requirements == ["a ; python_version>'3'", "b==1"]


def halve(X):
    return X / 2


def negate(X):
    return -X


@pytest.mark.mlflow
def test_mlflow_loads_pipelines_whose_user_functions_differ(tmp_path):
    mlflow = import_mlflow()
    for func in (halve, negate):
        pipeline = make_pipeline(
            FunctionTransformer(func), LogisticRegression(max_iter=1000)
        ).fit(X, y)
        save_model_directory(pipeline, tmp_path / func.__name__)
        flavor = _mlmodel(tmp_path / func.__name__)["flavors"]["sklearn"]
        assert flavor["skops_trusted_types"] == [f"{__name__}.{func.__name__}"]
        loaded = mlflow.sklearn.load_model(str(tmp_path / func.__name__))
        np.testing.assert_array_equal(loaded.predict(X), pipeline.predict(X))
