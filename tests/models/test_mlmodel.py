"""``mltrail.models.Model``: the ``MLmodel`` file, read and written as MLflow does."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import yaml
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import mltrail
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.models import ColSpec, Model, ModelSignature, Schema
from tests.models._mlflow import import_mlflow

X, y = load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def estimator():
    return LogisticRegression(max_iter=1000).fit(X, y)


@pytest.fixture
def saved(tmp_path, estimator):
    mltrail.sklearn.save_model(estimator, tmp_path / "m", input_example=X)
    return tmp_path / "m"


def test_load_reads_what_save_model_wrote(saved):
    model = Model.load(saved)
    content = yaml.safe_load((saved / "MLmodel").read_text())
    assert model.to_dict() == content
    assert model.flavors["sklearn"]["serialization_format"] == "skops"
    assert model.signature is not None
    assert model.get_input_schema() == model.signature.inputs
    assert model.mltrail_version == mltrail.__version__


@pytest.mark.parametrize(
    "where", ["directory", "file", "file uri"], ids=["directory", "file", "file-uri"]
)
def test_load_takes_a_directory_its_file_or_a_uri(saved, where):
    path = {
        "directory": str(saved),
        "file": str(saved / "MLmodel"),
        "file uri": f"file://{saved}",
    }[where]
    assert Model.load(path) == Model.load(saved)


def test_load_takes_a_runs_uri(estimator):
    with mltrail.start_run() as run:
        mltrail.sklearn.log_model(estimator, "model")
    model = Model.load(f"runs:/{run.info.run_id}/model")
    assert model.run_id == run.info.run_id
    assert model.artifact_path == "model"


def test_load_input_example_reads_the_saved_rows(saved):
    example = Model.load(saved).load_input_example(saved)
    assert list(example.columns) == list(X.columns)
    np.testing.assert_allclose(example.to_numpy(), X.iloc[:5].to_numpy())


def test_load_input_example_is_none_without_one(tmp_path, estimator):
    mltrail.sklearn.save_model(estimator, tmp_path / "m")
    assert Model.load(tmp_path / "m").load_input_example(tmp_path / "m") is None


def test_load_input_example_finds_the_run_by_itself(estimator):
    with mltrail.start_run():
        info = mltrail.sklearn.log_model(estimator, "model", input_example=X)
    model = Model.load(info.model_uri)
    assert len(model.load_input_example()) == 5


def test_unknown_keys_are_kept(tmp_path):
    model = Model.from_dict({"flavors": {}, "databricks_runtime": "15.4", "x": [1]})
    model.save(tmp_path / "MLmodel")
    content = yaml.safe_load((tmp_path / "MLmodel").read_text())
    assert content["databricks_runtime"] == "15.4"
    assert content["x"] == [1]


def test_unset_optional_keys_are_left_out():
    content = Model(model_uuid="u", utc_time_created="t").to_dict()
    assert content == {"flavors": {}, "model_uuid": "u", "utc_time_created": "t"}


def test_a_new_model_gets_a_uuid_and_a_time():
    first, second = Model(), Model()
    assert len(str(first.model_uuid)) == 32
    assert first.model_uuid != second.model_uuid
    assert first.model_uuid is not None
    assert first.utc_time_created[:2] == "20"


def test_signature_round_trips_as_json_strings():
    signature = ModelSignature(Schema((ColSpec("double", "x"),)))
    content = Model(signature=signature).to_dict()
    assert json.loads(content["signature"]["inputs"]) == [
        {"type": "double", "name": "x", "required": True}
    ]
    assert content["is_signature_from_type_hint"] is False
    assert Model.from_dict(content).signature == signature


def test_add_flavor_returns_the_model():
    model = Model()
    assert model.add_flavor("sklearn", pickled_model="model.pkl") is model
    assert model.flavors == {"sklearn": {"pickled_model": "model.pkl"}}
    assert model.get_params_schema() is None  # type: ignore[func-returns-value]
    assert model.get_output_schema() is None


def test_to_yaml_writes_to_a_stream():
    stream = io.StringIO()
    text = Model(model_uuid="u", utc_time_created="t").to_yaml(stream)
    assert stream.getvalue() == text
    assert yaml.safe_load(text) == json.loads(
        Model(model_uuid="u", utc_time_created="t").to_json()
    )


def test_models_compare_by_content():
    assert Model(model_uuid="u", utc_time_created="t") == Model(
        model_uuid="u", utc_time_created="t"
    )
    assert Model(model_uuid="u") != "u"
    assert "sklearn" in repr(Model().add_flavor("sklearn"))


def test_missing_mlmodel_is_not_found(tmp_path):
    with pytest.raises(NotFoundError, match="No MLmodel file there"):
        Model.load(tmp_path)


def test_broken_mlmodel_is_invalid(tmp_path):
    (tmp_path / "MLmodel").write_text("flavors: 3\n")
    with pytest.raises(InvalidValueError, match="'flavors' mapping"):
        Model.load(tmp_path)


@pytest.mark.mlflow
def test_mlflow_reads_what_mltrail_writes(saved):
    mlflow = import_mlflow()
    theirs = mlflow.models.Model.load(str(saved))
    ours = Model.load(saved)
    assert theirs.flavors == ours.flavors
    assert ours.signature is not None
    assert theirs.signature.to_dict() == ours.signature.to_dict()
    assert theirs.model_uuid == ours.model_uuid


@pytest.mark.mlflow
def test_mltrail_rewrites_an_mlflow_file_unchanged(tmp_path, estimator):
    mlflow = import_mlflow()
    mlflow.sklearn.save_model(
        estimator, tmp_path / "m", pip_requirements=["scikit-learn"]
    )
    written = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    Model.load(tmp_path / "m").save(tmp_path / "copy")
    assert yaml.safe_load((tmp_path / "copy").read_text()) == written
    assert Model.load(tmp_path / "m").mlflow_version == mlflow.__version__
