"""``mltrail server``: refuses unsafe exposure, starts uvicorn, serves real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail import InvalidValueError
from mltrail.cli._main import cli
from mltrail.server import ServerSettings
from mltrail.server._serve import check_exposure
from tests.server._live import live_server

ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - the address under test, never bound here


@pytest.mark.parametrize(
    "settings",
    [
        ServerSettings(),
        ServerSettings(host="localhost"),
        ServerSettings(host=ANY_ADDRESS, no_auth=True),
        ServerSettings(host=ANY_ADDRESS, auth="basic"),
    ],
    ids=["loopback", "localhost", "no-auth", "basic"],
)
def test_safe_exposures_are_accepted(settings: ServerSettings) -> None:
    check_exposure(settings)


def test_open_address_without_auth_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="--no-auth"):
        check_exposure(ServerSettings(host=ANY_ADDRESS))


def test_cli_refuses_an_open_address_without_auth() -> None:
    result = CliRunner().invoke(cli, ["server", "--host", ANY_ADDRESS])
    assert result.exit_code == 1
    assert "Error: host must be a loopback address" in result.output


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local
        return json.loads(response.read())


@pytest.mark.slow
def test_server_process_serves_the_api(tmp_path: Path) -> None:
    with live_server(tmp_path / "server") as server:
        body = _get(f"{server.url}/api/2.0/mlflow/experiments/get?experiment_id=0")
        assert body == {
            "experiment": {
                **body["experiment"],  # type: ignore[index]
                "name": "Default",
                "artifact_location": "mlflow-artifacts:/0",
            }
        }
    assert server.process.returncode is not None


def test_serve_runs_one_process_on_the_built_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from mltrail.server._serve import serve

    calls: list[tuple[object, dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    serve(ServerSettings(backend_store_uri=f"sqlite:///{tmp_path}/a.db", port=5123))
    app, options = calls[0]
    assert hasattr(app, "state")
    assert (options["host"], options["port"]) == ("127.0.0.1", 5123)


def test_serve_hands_settings_to_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from mltrail.server._serve import SETTINGS_VARIABLE, app_from_environment, serve

    calls: list[tuple[object, dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv(SETTINGS_VARIABLE, raising=False)
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path}/a.db",
        workers=3,
        allowed_hosts=("a.example",),
        artifacts_destination=str(tmp_path / "files"),
    )
    serve(settings)
    target, options = calls[0]
    assert target == "mltrail.server._serve:app_from_environment"
    assert (options["workers"], options["factory"]) == (3, True)
    worker_app = app_from_environment()
    assert worker_app.state.services.settings == settings
    worker_app.state.services.store.close()


@pytest.mark.slow
@pytest.mark.mlflow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_auth_server_works_with_both_clients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    import mltrail

    password = "correct horse battery"  # noqa: S105 - a test account
    env = {"MLTRAIL_ADMIN_USERNAME": "admin", "MLTRAIL_ADMIN_PASSWORD": password}
    with live_server(tmp_path / "auth", args=["--auth", "basic"], env=env) as server:
        with pytest.raises(urllib.error.HTTPError) as refused:
            _get(f"{server.url}/api/2.0/mlflow/users/current")
        assert refused.value.code == 401
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
        monkeypatch.setenv("MLFLOW_ENABLE_TELEMETRY", "false")
        mlflow.set_tracking_uri(server.url)
        try:
            with mlflow.start_run() as run:
                mlflow.log_metric("m", 1.0)
        finally:
            mlflow.set_tracking_uri("")
        monkeypatch.setenv("MLTRAIL_TRACKING_URI", server.url)
        assert mltrail.get_run(run.info.run_id).data.metrics == {"m": 1.0}


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[ServerSettings]:
    """Capture the settings ``mltrail server`` would serve, instead of serving."""
    captured: list[ServerSettings] = []
    monkeypatch.setattr("mltrail.server._serve.serve", captured.append)
    return captured


@pytest.mark.parametrize(
    ("arguments", "environment", "expected"),
    [
        ([], {}, "mltrail-artifacts"),
        (["--backend-store-uri", "sqlite:///sub/x.db"], {}, "sub/mltrail-artifacts"),
        (["--backend-store-uri", "postgresql://db/x"], {}, "mltrail-artifacts"),
        ([], {"MLTRAIL_ARTIFACT_ROOT": "{tmp}/library"}, "library"),
        ([], {"MLTRAIL_ARTIFACT_ROOT": "s3://bucket/runs"}, "mltrail-artifacts"),
        ([], {"MLTRAIL_ARTIFACTS_DESTINATION": "{tmp}/given"}, "given"),
        (["--artifacts-destination", "{tmp}/given"], {}, "given"),
    ],
    ids=[
        "default store",
        "beside a sqlite file",
        "server database",
        "library root",
        "library root not local",
        "environment",
        "option",
    ],
)
def test_artifacts_default_to_where_the_library_writes_them(
    served: list[ServerSettings],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    arguments: list[str],
    environment: dict[str, str],
    expected: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    arguments = [argument.format(tmp=tmp_path) for argument in arguments]
    result = CliRunner().invoke(cli, ["server", *arguments])
    assert result.exit_code == 0, result.output
    assert served[0].artifacts_destination == str(tmp_path / expected)
    # The store is not opened first: a new database gets the proxy as its root.
    assert not (tmp_path / "mltrail.db").exists()
