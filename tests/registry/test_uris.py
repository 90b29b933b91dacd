"""``models:/`` URIs everywhere a model is loaded."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mltrail
from mltrail import TrackingClient
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.models import _uris
from mltrail.registry._uris import registered_model_source
from mltrail.store._sqlite_lookup import SqliteLookup
from tests.registry.conftest import LoggedModel


@pytest.fixture
def registered(logged: LoggedModel) -> LoggedModel:
    client = TrackingClient()
    mltrail.register_model(logged.uri, "wine")
    mltrail.register_model(logged.uri, "wine")
    client.set_registered_model_alias("wine", "champion", 1)
    client.transition_model_version_stage("wine", 2, "Staging")
    return logged


@pytest.mark.parametrize(
    "uri",
    [
        "models:/wine/1",
        "models:/wine@champion",
        "models:/wine/latest",
        "models:/wine/staging",
    ],
    ids=["version", "alias", "latest", "stage"],
)
def test_models_uris_load_the_registered_model(
    registered: LoggedModel, uri: str
) -> None:
    expected = registered.estimator.predict(registered.X)
    np.testing.assert_array_equal(
        mltrail.pyfunc.load_model(uri).predict(registered.X), expected
    )
    np.testing.assert_array_equal(
        mltrail.sklearn.load_model(uri).predict(registered.X), expected
    )


@pytest.mark.parametrize(
    "uri",
    ["models:/", "models:/wine", "models:/a/b/c", "models:/wine@", "models:/a@b/1"],
    ids=["empty", "name-only", "three-parts", "empty-alias", "alias-and-version"],
)
def test_malformed_models_uris_are_rejected(registered: LoggedModel, uri: str) -> None:
    with pytest.raises(InvalidValueError, match="model URI must be"):
        mltrail.pyfunc.load_model(uri)


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("models:/wine/Production", "version in stage 'Production'"),
        ("models:/wine/9", "model version 'wine/9'"),
        ("models:/wine@nope", "alias 'wine@nope'"),
        ("models:/nope/1", "registered model 'nope'"),
    ],
    ids=["stage", "version", "alias", "model"],
)
def test_missing_registered_versions_are_not_found(
    registered: LoggedModel, uri: str, match: str
) -> None:
    with pytest.raises(NotFoundError, match=match):
        mltrail.pyfunc.load_model(uri)


def test_a_loop_of_registered_versions_is_an_error() -> None:
    client = TrackingClient()
    client.create_registered_model("loop")
    client.create_model_version("loop", "models:/loop/1")
    with pytest.raises(InvalidValueError, match="within 10 links"):
        registered_model_source("models:/loop/1")


@pytest.mark.parametrize(
    "uri",
    [
        "models:/wine/1",
        "models:/wine@champion",
        "models:/wine/latest",
        "models:/wine@latest",
        "logged model",
        "run",
        "models:/wine/staging",
        "models:/wine/9",
        "models:/wine@nope",
    ],
)
def test_the_sqlite_lookup_finds_what_the_store_finds(
    registered: LoggedModel, uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = {
        "logged model": registered.uri,
        "run": f"runs:/{registered.run_id}/model",
    }.get(uri, uri)
    looked_up = _uris._looked_up(uri)
    with monkeypatch.context() as patch:
        patch.setattr(_uris, "_looked_up", lambda text: None)
        try:
            expected: object = _uris.resolve_model_uri(uri)
        except NotFoundError:
            expected = None
    if uri in ("models:/wine/staging", "models:/wine/9", "models:/wine@nope"):
        assert looked_up is None  # stages and errors are the store's to answer
    else:
        assert looked_up is not None
        assert looked_up == expected


def test_the_sqlite_lookup_skips_deleted_versions(registered: LoggedModel) -> None:
    client = TrackingClient()
    client.delete_model_version("wine", 2)
    assert _uris._looked_up("models:/wine/2") is None
    assert _uris._looked_up("models:/wine/latest") == _uris.resolve_model_uri(
        "models:/wine/1"
    )
    with pytest.raises(NotFoundError, match="model version 'wine/2'"):
        mltrail.pyfunc.load_model("models:/wine/2")


def test_the_sqlite_lookup_reads_only_this_revision(
    registered: LoggedModel, tmp_path: Path
) -> None:
    assert SqliteLookup.open("sqlite:///mltrail.db") is not None
    assert SqliteLookup.open(f"sqlite:///{tmp_path / 'absent.db'}") is None
    assert not (tmp_path / "absent.db").exists()
    other = tmp_path / "other.db"
    shutil.copy(tmp_path / "mltrail.db", other)
    with sqlite3.connect(other) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()
    assert SqliteLookup.open(f"sqlite:///{other}") is None


def test_a_fresh_process_loads_a_registered_model_without_sqlalchemy(
    registered: LoggedModel,
) -> None:
    code = (
        "import sys, mltrail\n"
        "mltrail.pyfunc.load_model('models:/wine@champion')\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
