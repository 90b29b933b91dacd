"""``mltrail ui``: the server with a local user's defaults, printing its URL."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail.cli import _ui, cli
from mltrail.server._settings import ServerSettings
from tests.server._live import free_port, start, stop, wait_until_healthy


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[ServerSettings]:
    """Capture the settings ``mltrail ui`` would serve, instead of serving."""
    captured: list[ServerSettings] = []
    monkeypatch.setattr("mltrail.server._serve.serve", captured.append)
    return captured


def test_defaults_are_the_local_store_and_artifacts(
    served: list[ServerSettings], tmp_path: Path
) -> None:
    result = CliRunner().invoke(cli, ["ui"])
    assert result.exit_code == 0, result.output
    settings = served[0]
    assert settings.backend_store_uri == "sqlite:///mltrail.db"
    assert settings.artifacts_destination == str(tmp_path / "mltrail-artifacts")
    assert settings.default_artifact_root == str(tmp_path / "mltrail-artifacts")
    assert (settings.host, settings.port) == ("127.0.0.1", 5000)
    assert "http://127.0.0.1:5000" in result.output


def test_tracking_uri_and_artifact_root_of_the_library_apply(
    served: list[ServerSettings], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", str(tmp_path / "elsewhere"))
    result = CliRunner().invoke(
        cli, ["--tracking-uri", "sqlite:///other.db", "ui", "--port", "5055"]
    )
    assert result.exit_code == 0, result.output
    settings = served[0]
    assert settings.backend_store_uri == "sqlite:///other.db"
    assert settings.artifacts_destination == str(tmp_path / "elsewhere")
    assert settings.port == 5055


def test_artifacts_default_to_beside_the_sqlite_file(
    served: list[ServerSettings], tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli, ["ui", "--backend-store-uri", "sqlite:///sub/x.db"]
    )
    assert result.exit_code == 0, result.output
    assert served[0].artifacts_destination == str(
        tmp_path / "sub" / "mltrail-artifacts"
    )


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ("mlflow-artifacts:", None),
        ("s3://bucket/runs", None),
        ("/srv/artifacts", "/srv/artifacts"),
        ("C:\\runs", "C:\\runs"),
    ],
)
def test_only_a_local_store_root_becomes_the_destination(
    monkeypatch: pytest.MonkeyPatch, root: str, expected: str | None
) -> None:
    class Store:
        artifact_root = root

        def __init__(self, uri: str) -> None:
            self.uri = uri

        def close(self) -> None:
            pass

    monkeypatch.setattr("mltrail.store._sql.SqlStore", Store)
    assert _ui._store_artifact_root("postgresql://db") == expected


def test_server_options_work_and_win(served: list[ServerSettings]) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "ui",
            "--backend-store-uri",
            "sqlite:///x.db",
            "--default-artifact-root",
            "s3://bucket/runs",
            "--host",
            "::1",
            "--allowed-hosts",
            "a.example, b",
        ],
    )
    assert result.exit_code == 0, result.output
    settings = served[0]
    assert settings.backend_store_uri == "sqlite:///x.db"
    assert settings.default_artifact_root == "s3://bucket/runs"
    assert settings.allowed_hosts == ("a.example", "b")
    assert "http://[::1]:5000" in result.output


def test_help_names_the_defaults() -> None:
    result = CliRunner().invoke(cli, ["ui", "--help"])
    assert result.exit_code == 0
    shown = " ".join(result.output.split())
    assert "http://127.0.0.1:5000" in shown
    assert "sqlite:///mltrail.db" in shown
    assert "[default: the artifacts destination" in shown
    server_help = " ".join(CliRunner().invoke(cli, ["server", "--help"]).output.split())
    assert "[default: mlflow-artifacts: (the proxy)]" in server_help


def test_a_real_process_serves_the_pages(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "ui.log"
    with log.open("wb") as out:
        process = start(
            [sys.executable, "-m", "mltrail.cli", "ui", "--port", str(port)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        with urllib.request.urlopen(url + "/") as response:  # noqa: S310 - local
            html = response.read().decode()
    finally:
        stop(process)
    assert "<h1>Experiments</h1>" in html
    assert f"mltrail UI on {url}" in log.read_text()
    assert (tmp_path / "mltrail.db").exists()
