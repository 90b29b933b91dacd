"""``ServerSettings``: defaults, environment variables, validation."""

from __future__ import annotations

import pytest

from mltrail import InvalidValueError
from mltrail.server import ServerSettings
from mltrail.server._settings import is_loopback


def test_defaults_follow_mlflow_server() -> None:
    settings = ServerSettings()
    assert (settings.host, settings.port, settings.serve_artifacts) == (
        "127.0.0.1",
        5000,
        True,
    )
    assert settings.backend_store_uri == "sqlite:///mltrail.db"


@pytest.mark.parametrize(
    ("kwargs", "root"),
    [
        ({}, "mlflow-artifacts:"),
        ({"serve_artifacts": False, "artifacts_destination": "/data"}, "/data"),
        ({"default_artifact_root": "s3://bucket/runs/"}, "s3://bucket/runs"),
    ],
)
def test_artifact_root(kwargs: dict[str, object], root: str) -> None:
    assert ServerSettings(**kwargs).artifact_root == root  # type: ignore[arg-type]


def test_environment_is_read_and_overrides_win() -> None:
    settings = ServerSettings.from_environment(
        {
            "MLTRAIL_BACKEND_STORE_URI": "postgresql://db/x",
            "MLTRAIL_WORKERS": "4",
            "MLTRAIL_SERVE_ARTIFACTS": "false",
            "MLTRAIL_CORS_ALLOWED_ORIGINS": "http://a, http://b",
            "MLTRAIL_PORT": "",
        },
        workers=2,
        port=None,
    )
    assert settings.backend_store_uri == "postgresql://db/x"
    assert settings.workers == 2
    assert settings.port == 5000
    assert settings.serve_artifacts is False
    assert settings.cors_allowed_origins == ("http://a", "http://b")


@pytest.mark.parametrize(
    ("environ", "match"),
    [
        ({"MLTRAIL_PORT": "http"}, "MLTRAIL_PORT must be an integer"),
        ({"MLTRAIL_NO_AUTH": "maybe"}, "MLTRAIL_NO_AUTH must be true or false"),
        ({"MLTRAIL_AUTH": "ldap"}, "auth must be 'none' or 'basic'"),
        ({"MLTRAIL_WORKERS": "0"}, "workers must be a positive int"),
        ({"MLTRAIL_PORT": "70000"}, "port must be at most 65535"),
        ({"MLTRAIL_DEFAULT_PERMISSION": "ALL"}, "default_permission must be one of"),
    ],
)
def test_bad_values_are_refused(environ: dict[str, str], match: str) -> None:
    with pytest.raises(InvalidValueError, match=match):
        ServerSettings.from_environment(environ)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),  # noqa: S104 - an address under test, not a bind
        ("10.1.2.3", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
