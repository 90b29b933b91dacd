"""``log_model`` logs a model as MLflow 3 does: an id, a ``models:/`` URI, its run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import mltrail
from mltrail._entities import LoggedModel, Run
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail._system_tags import MODEL_ARTIFACT_PATH_TAG
from mltrail.models import Model, _uris
from mltrail.models._model import save_model_directory
from mltrail.store import Store
from mltrail.tracking import TrackingClient

X, y = load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def estimator():
    return LogisticRegression(max_iter=1000).fit(X, y)


def _store() -> Store:
    return TrackingClient()._store


def test_log_model_returns_the_logged_model(estimator):
    with mltrail.start_run() as run:
        mltrail.log_param("C", 1.0)
        info = mltrail.sklearn.log_model(
            estimator, name="clf", params={"threshold": 0.5}, tags={"team": "ml"}
        )
    assert info.model_id is not None
    assert info.model_id.startswith("m-")
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run.info.run_id
    assert info.name == info.artifact_path == "clf"
    assert info.params == {"C": "1.0", "threshold": "0.5"}
    assert info.tags == {"team": "ml", MODEL_ARTIFACT_PATH_TAG: "clf"}
    logged = _store().get_logged_model(info.model_id)
    assert logged.status == "READY"
    assert logged.source_run_id == run.info.run_id
    assert logged.params == info.params
    assert Path(logged.artifact_location) == Path(run.info.artifact_uri) / "clf"
    assert _store().get_run_models(run.info.run_id) == ([], [(info.model_id, 0)])


def test_mlmodel_carries_the_model_id(estimator):
    with mltrail.start_run():
        info = mltrail.sklearn.log_model(estimator, name="model")
    model = Model.load(info.model_uri)
    assert model.model_id == model.model_uuid == info.model_id
    assert model.artifact_path == "model"


@pytest.mark.parametrize(
    "uri",
    ["models:/{model_id}", "runs:/{run_id}/model"],
    ids=["model-id", "run-path"],
)
def test_logged_model_loads_by_either_uri(estimator, uri):
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(estimator, "model")
    loaded = mltrail.pyfunc.load_model(
        uri.format(model_id=info.model_id, run_id=run.info.run_id)
    )
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        (("model",), {}),
        ((), {"artifact_path": "model"}),
        ((), {"name": "model", "artifact_path": "model"}),
    ],
    ids=["default", "positional", "artifact-path", "both"],
)
def test_name_and_artifact_path_are_both_accepted(estimator, args, kwargs):
    with mltrail.start_run():
        info = mltrail.sklearn.log_model(estimator, *args, **kwargs)
    assert info.name == "model"


def test_name_and_artifact_path_must_agree(estimator):
    with (
        mltrail.start_run(),
        pytest.raises(InvalidValueError, match="pass only name='model'"),
    ):
        mltrail.sklearn.log_model(estimator, "a", name="b")


@pytest.mark.parametrize("name", ["", "/", 5], ids=["empty", "slash", "int"])
def test_model_name_must_be_text(estimator, name):
    with mltrail.start_run(), pytest.raises(InvalidValueError, match="model name"):
        mltrail.sklearn.log_model(estimator, name=name)


def test_a_model_that_fails_to_save_is_marked_failed(estimator):
    with (
        mltrail.start_run() as run,
        pytest.raises(InvalidValueError, match="serialization_format"),
    ):
        mltrail.sklearn.log_model(estimator, serialization_format="joblib")
    found = _store().search_logged_models([run.info.experiment_id])
    assert [model.status for model in found] == ["FAILED"]
    assert _store().get_run_models(run.info.run_id) == ([], [])


def test_registered_model_name_registers_a_version(estimator):
    with mltrail.start_run():
        info = mltrail.sklearn.log_model(estimator, registered_model_name="iris")
    assert info.registered_model_version == 1
    version = TrackingClient().get_model_version("iris", 1)
    assert version.source == info.model_uri
    assert version.model_id == info.model_id
    loaded = mltrail.pyfunc.load_model("models:/iris/1")
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))


def test_register_model_takes_a_logged_model_uri(estimator):
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(estimator, input_example=X)
    version = mltrail.register_model(info.model_uri, "wine")
    assert version.run_id == run.info.run_id
    assert sorted(version.signature or {}) == ["inputs", "outputs"]
    assert Model.load("models:/wine/1").model_id == info.model_id


def _logged_elsewhere(estimator: object, tmp_path: Path) -> tuple[Run, LoggedModel]:
    """A logged model whose files are at its own location, as MLflow 3 writes them."""
    store = _store()
    with mltrail.start_run() as active:
        pass
    run = TrackingClient().get_run(active.info.run_id)
    logged = store.create_logged_model(
        run.info.experiment_id, name="model", source_run_id=run.info.run_id
    )
    save_model_directory(estimator, logged.artifact_location, model_id=logged.model_id)
    store.finalize_logged_model(logged.model_id, "READY")
    return run, logged


def test_a_logged_model_at_its_own_location_loads(estimator, tmp_path):
    run, logged = _logged_elsewhere(estimator, tmp_path)
    directory = _uris.resolve_model_uri(f"models:/{logged.model_id}")
    assert directory == Path(logged.artifact_location)
    # MLflow 3 finds it from its run too, by name.
    by_run = _uris.resolve_model_uri(f"runs:/{run.info.run_id}/model")
    assert by_run == directory


def test_a_remote_logged_model_is_downloaded(estimator, tmp_path, monkeypatch):
    _, logged = _logged_elsewhere(estimator, tmp_path)
    monkeypatch.setattr(_uris, "local_path_of_uri", lambda uri: None)
    directory = _uris.resolve_model_uri(f"models:/{logged.model_id}")
    assert (directory / "MLmodel").is_file()
    assert directory != Path(logged.artifact_location)


def test_a_logged_model_without_files_is_not_found(tmp_path):
    with mltrail.start_run() as run:
        pass
    logged = _store().create_logged_model(run.info.experiment_id, name="model")
    with pytest.raises(NotFoundError, match="has no files yet"):
        _uris.resolve_model_uri(f"models:/{logged.model_id}")
    Path(logged.artifact_location).mkdir(parents=True)
    with pytest.raises(NotFoundError, match="no MLmodel file"):
        mltrail.register_model(f"models:/{logged.model_id}", "empty")


def test_a_run_path_that_is_not_there_stays_not_found():
    with mltrail.start_run() as run:
        pass
    with pytest.raises(NotFoundError, match="artifact"):
        _uris.resolve_model_uri(f"runs:/{run.info.run_id}/model")


def test_mlmodel_keeps_metadata(tmp_path, estimator):
    mltrail.sklearn.save_model(estimator, tmp_path / "m", metadata={"owner": "ml"})
    content = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert content["metadata"] == {"owner": "ml"}


def test_log_model_without_a_run_starts_one(estimator):
    info = mltrail.sklearn.log_model(estimator)
    active = mltrail.active_run()
    assert active is not None
    assert info.run_id == active.info.run_id
    mltrail.end_run()
