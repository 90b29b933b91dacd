"""``models:/`` URIs everywhere a model is loaded."""

from __future__ import annotations

import numpy as np
import pytest

import mltrail
from mltrail import TrackingClient
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.registry._uris import registered_model_source
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
