"""``mltrail.register_model``: what a registration checks, links and copies."""

from __future__ import annotations

from pathlib import Path

import pytest

import mltrail
from mltrail import TrackingClient
from mltrail._errors import InvalidValueError, NotFoundError
from tests.registry.conftest import LoggedModel


def _names() -> list[str]:
    return [m.name for m in TrackingClient().search_registered_models()]


def test_register_creates_the_model_and_links_the_run(logged: LoggedModel) -> None:
    version = mltrail.register_model(logged.uri, "wine", tags={"stage": 1})
    assert (version.name, version.version, version.run_id) == ("wine", 1, logged.run_id)
    assert version.source == logged.uri  # models:/<model_id>, as log_model returns
    assert version.tags == {"stage": "1"}
    assert version.user_id
    assert version.signature is not None
    assert '"name": "alcohol"' in version.signature["inputs"]
    assert _names() == ["wine"]


def test_registering_again_adds_the_next_version(logged: LoggedModel) -> None:
    mltrail.register_model(logged.uri, "wine")
    assert mltrail.register_model(logged.uri + "/", "wine").version == 2


def test_register_a_missing_model_changes_nothing(logged: LoggedModel) -> None:
    with pytest.raises(NotFoundError, match="has no MLmodel file at 'nothing'"):
        mltrail.register_model(f"runs:/{logged.run_id}/nothing", "wine")
    assert _names() == []


def test_register_from_an_unknown_run_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="run"):
        mltrail.register_model("runs:/" + "f" * 32 + "/model", "wine")
    assert _names() == []


@pytest.mark.parametrize(
    "uri",
    ["runs:/", "runs:/abc", "ftp://host/model", ""],
    ids=["no-run", "no-path", "ftp", "empty"],
)
def test_malformed_uris_are_rejected(uri: str) -> None:
    with pytest.raises(InvalidValueError, match="model_uri must be"):
        mltrail.register_model(uri, "wine")
    assert _names() == []


def test_a_bad_name_creates_nothing(logged: LoggedModel) -> None:
    with pytest.raises(InvalidValueError, match="without '/' or ':'"):
        mltrail.register_model(logged.uri, "a/b")
    assert _names() == []


def test_register_a_directory_records_its_absolute_path(
    logged: LoggedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mltrail.sklearn.save_model(logged.estimator, tmp_path / "saved")
    monkeypatch.chdir(tmp_path)
    version = mltrail.register_model("saved", "local")
    assert version.source == str((tmp_path / "saved").resolve())
    assert version.run_id == ""
    assert version.signature is None  # saved without an example or signature
    by_file_uri = mltrail.register_model((tmp_path / "saved").as_uri(), "local")
    assert by_file_uri.source == version.source


def test_a_directory_inside_a_run_is_linked_to_it(logged: LoggedModel) -> None:
    run = TrackingClient().get_run(logged.run_id)
    directory = Path(run.info.artifact_uri) / "model"
    version = mltrail.register_model(directory, "local")
    assert version.run_id == logged.run_id


def test_a_directory_from_another_store_is_not_linked(
    logged: LoggedModel, tmp_path: Path
) -> None:
    path = tmp_path / "elsewhere"
    mltrail.sklearn.save_model(logged.estimator, path)
    text = (path / "MLmodel").read_text()
    (path / "MLmodel").write_text(text + "run_id: " + "e" * 32 + "\n")
    assert mltrail.register_model(path, "copied").run_id == ""


def test_a_directory_without_mlmodel_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="No MLmodel file there"):
        mltrail.register_model(tmp_path, "empty")


def test_register_a_registered_version_points_at_its_files(
    logged: LoggedModel,
) -> None:
    mltrail.register_model(logged.uri, "dev")
    copy = mltrail.register_model("models:/dev/1", "prod")
    client = TrackingClient()
    assert copy.source == "models:/dev/1"
    assert copy.run_id == logged.run_id
    assert client.get_model_version_download_uri("prod", 1) == logged.uri
    model = mltrail.pyfunc.load_model("models:/prod/1")
    assert model.predict(logged.X.iloc[:3]).tolist() == [0, 0, 0]


def test_remote_uris_are_recorded_unchecked() -> None:
    version = mltrail.register_model("s3://bucket/models/wine", "remote")
    assert version.source == "s3://bucket/models/wine"
    assert version.signature is None


def test_an_mlmodel_that_is_not_a_mapping_has_no_signature(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text("- just\n- a list\n")
    version = mltrail.register_model(tmp_path, "odd")
    assert (version.signature, version.run_id) == (None, "")
