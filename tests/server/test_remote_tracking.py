"""mltrail's own client over HTTP: ``MLTRAIL_TRACKING_URI=http://...`` does it all."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette

import mltrail
from mltrail.cli._main import cli
from mltrail.store._artifacts_http import HttpArtifactStore, proxy_location
from mltrail.store._open import open_store
from mltrail.store._rest import RestStore
from mltrail.store._sql import SqlStore
from tests.server._live import free_port, threaded_server


@pytest.fixture
def server_url(
    sqlite_app: Starlette, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("MLTRAIL_SPOOL_DIR", str(tmp_path / "spool"))
    with threaded_server(sqlite_app) as url:
        monkeypatch.setenv("MLTRAIL_TRACKING_URI", url)
        yield url


def test_open_store_picks_rest_for_http(server_url: str) -> None:
    store = open_store(server_url)
    assert isinstance(store, RestStore)
    assert open_store(server_url + "/") is store


def test_fluent_api_over_http(
    server_url: str, sqlite_store: SqlStore, tmp_path: Path
) -> None:
    mltrail.set_experiment("remote")
    note = tmp_path / "note.txt"
    note.write_text("hello")
    with mltrail.start_run(run_name="manual") as run:
        for step in range(1000):
            mltrail.log_metric("loss", 1 / (step + 1), step=step)
        mltrail.log_params({"C": 1.0, "kernel": "rbf"})
        mltrail.set_tags({"team": "risk"})
        mltrail.log_artifact(note, "docs")
        mltrail.log_dict({"a": 1}, "meta/a.json")
    run_id = run.info.run_id
    stored = sqlite_store.get_run(run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.artifact_uri.startswith("mlflow-artifacts:/")
    assert stored.data.params == {"C": "1.0", "kernel": "rbf"}
    assert len(sqlite_store.get_metric_history(run_id, "loss")) == 1000
    client = mltrail.TrackingClient()
    assert [f.path for f in client.list_artifacts(run_id, "docs")] == ["docs/note.txt"]
    copy = client.download_artifacts(run_id, "docs", tmp_path / "copy")
    assert (Path(copy) / "note.txt").read_text() == "hello"
    assert mltrail.search_runs(filter_string="params.C = '1.0'")["run_id"].tolist() == [
        run_id
    ]


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_autolog_over_http_logs_a_loadable_model(server_url: str) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    mltrail.sklearn.autolog()
    try:
        X, y = load_iris(return_X_y=True, as_frame=True)
        X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
        model = LogisticRegression(max_iter=300).fit(X_train, y_train)
        model.predict(X_test)
        mltrail.flush()
    finally:
        mltrail.sklearn.autolog(disable=True)
    run = mltrail.last_active_run()
    assert run is not None
    read = mltrail.get_run(run.info.run_id)
    assert read.info.status == "FINISHED"
    assert "test_accuracy" in read.data.metrics
    loaded = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert loaded.predict(X_test[:5]).tolist() == model.predict(X_test[:5]).tolist()


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_autolog_sends_its_own_run_s_params_in_the_background(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fit waits for no params round trip on its own run; on the user's, it does."""
    import threading

    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from mltrail.store._rest_client import RestClient

    sent: list[tuple[str, str]] = []  # (thread, run id) of each batch with params
    request = RestClient.request

    def recording(
        self: RestClient, method: str, path: str, **options: object
    ) -> object:
        body = options.get("body")
        if path.endswith("/runs/log-batch") and isinstance(body, bytes):
            fields = json.loads(body)
            if fields.get("params"):
                sent.append((threading.current_thread().name, fields["run_id"]))
        return request(self, method, path, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(RestClient, "request", recording)
    X, y = load_iris(return_X_y=True, as_frame=True)
    mltrail.sklearn.autolog()
    try:
        LogisticRegression(max_iter=300).fit(X, y)
        own = mltrail.last_active_run()
        with mltrail.start_run() as users:
            LogisticRegression(max_iter=300).fit(X, y)
        mltrail.flush()
    finally:
        mltrail.sklearn.autolog(disable=True)
    assert own is not None
    assert own.info.run_id != users.info.run_id
    assert sent == [
        ("mltrail-rest-sender", own.info.run_id),
        (threading.current_thread().name, users.info.run_id),
    ]
    for run_id in (own.info.run_id, users.info.run_id):
        assert mltrail.get_run(run_id).data.params["max_iter"] == "300"


def test_proxy_locations() -> None:
    assert proxy_location("mlflow-artifacts://other:9/1/r", "https://h") == (
        "https://other:9",
        "1/r",
    )
    assert proxy_location(
        "http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/r", "http://x"
    ) == ("http://h:5000", "1/r")
    with pytest.raises(mltrail.InvalidValueError, match="http"):
        proxy_location("mlflow-artifacts:/1/r", "sqlite:///db")
    with pytest.raises(mltrail.InvalidValueError, match="mlflow-artifacts"):
        proxy_location("ftp://h/x", "http://h")


def test_http_artifact_store_streams_and_deletes(
    server_url: str, tmp_path: Path
) -> None:
    store = HttpArtifactStore(server_url)
    uri = "mlflow-artifacts:/0/abc/artifacts"
    size = store.write_stream(uri, "big.bin", (bytes([i]) * 100_000 for i in range(30)))
    assert size == 3_000_000
    total, chunks = store.open_stream(uri, "big.bin", chunk_size=1 << 20)
    assert total == 3_000_000
    assert sum(len(c) for c in chunks) == 3_000_000
    store.write_bytes(uri, "dir/a.txt", b"a")
    assert store.read_bytes(uri, "dir/a.txt") == b"a"
    assert [f.path for f in store.list(uri)] == ["big.bin", "dir"]
    store.delete(uri, "dir")
    assert [f.path for f in store.list(uri)] == ["big.bin"]
    with pytest.raises(mltrail.NotFoundError):
        store.read_bytes(uri, "dir/a.txt")
    with pytest.raises(mltrail.NotFoundError):
        store.download(uri, "nothing", tmp_path)
    with pytest.raises(mltrail.InvalidValueError):
        store.write_bytes(uri, "../escape", b"x")


@pytest.fixture
def quick_spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A spool of this test's own; a server that is down is found so at once."""
    monkeypatch.setenv("MLTRAIL_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_MAX_RETRIES", "1")
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_BACKOFF_FACTOR", "0.01")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.usefixtures("quick_spool")
def test_fit_returns_and_nothing_is_lost_while_the_server_is_down(
    sqlite_app: Starlette, sqlite_store: SqlStore
) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    port = free_port()
    X, y = load_iris(return_X_y=True, as_frame=True)
    with threaded_server(sqlite_app, port=port) as url:
        mltrail.set_tracking_uri(url)
        run = mltrail.start_run(run_name="outage")
    mltrail.sklearn.autolog()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = LogisticRegression(max_iter=300).fit(X, y)
            for step in range(100):
                mltrail.log_metric("loss", 1 / (step + 1), step=step)
            mltrail.end_run()
    finally:
        mltrail.sklearn.autolog(disable=True)
    assert any(issubclass(w.category, mltrail.MltrailWarning) for w in caught)
    assert model.predict(X[:1]).shape == (1,)
    assert sqlite_store.get_metric_history(run.info.run_id, "loss") == []
    with threaded_server(sqlite_app, port=port):
        result = CliRunner().invoke(cli, ["--tracking-uri", url, "sync"])
    assert result.exit_code == 0, result.output
    stored = sqlite_store.get_run(run.info.run_id)
    assert len(sqlite_store.get_metric_history(run.info.run_id, "loss")) == 100
    assert stored.info.status == "FINISHED"
    assert "training_accuracy_score" in stored.data.metrics


# Logs to a server that the test stops in the middle, then trains and exits. Once
# the server is found gone, the client's retries are made to last minutes: the
# script ends in time only if nothing waits on them (not a fit's background work,
# not the exit's flush, heartbeat or run end).
VANISHED_SERVER_SCRIPT = textwrap.dedent(
    """
    import sys
    import mltrail
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from mltrail.store._rest_client import rest_client

    url = sys.argv[1]
    mltrail.set_tracking_uri(url)
    mltrail.sklearn.autolog()
    run = mltrail.start_run(run_name="vanished")
    mltrail.log_param("before", 1)
    print(run.info.run_id, flush=True)
    sys.stdin.readline()  # the server is stopped now
    mltrail.log_param("after", 2)  # finds it gone (one quick retry)
    client = rest_client(url)
    client.retries, client.backoff = 5, 60.0
    for step in range(50):
        mltrail.log_metric("loss", 1 / (step + 1), step=step)
    X, y = load_iris(return_X_y=True)
    LogisticRegression(max_iter=300).fit(X, y)
    mltrail.set_tag("stage", "trained")
    """
)


@pytest.mark.slow
@pytest.mark.usefixtures("quick_spool")
def test_a_script_whose_server_vanished_exits_at_once_and_loses_no_write(
    sqlite_app: Starlette, sqlite_store: SqlStore
) -> None:
    port = free_port()
    with threaded_server(sqlite_app, port=port) as url:
        script = subprocess.Popen(
            [sys.executable, "-c", VANISHED_SERVER_SCRIPT, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert script.stdout is not None
        run_id = script.stdout.readline().decode().strip()
    try:
        _, errors = script.communicate(b"go\n", timeout=120)
    finally:
        script.kill()
    assert script.returncode == 0, errors.decode()
    assert sqlite_store.get_run(run_id).data.params == {"before": "1"}
    with threaded_server(sqlite_app, port=port):
        result = CliRunner().invoke(cli, ["--tracking-uri", url, "sync"])
    assert result.exit_code == 0, result.output
    stored = sqlite_store.get_run(run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params["after"] == "2"
    assert stored.data.params["C"] == "1.0"  # the fit's, logged while down
    assert stored.data.tags["stage"] == "trained"
    assert "training_accuracy_score" in stored.data.metrics
    assert len(sqlite_store.get_metric_history(run_id, "loss")) == 50


def test_http_store_deletes_a_run_s_files(server_url: str) -> None:
    store = HttpArtifactStore(server_url)
    uri = "mlflow-artifacts:/0/gone/artifacts"
    store.write_bytes(uri, "a/b.txt", b"x")
    store.delete_run_artifacts(uri)
    store.delete_run_artifacts(uri)  # nothing left is fine
    assert store.list(uri) == []
    with pytest.raises(mltrail.InvalidValueError):
        store.delete_run_artifacts("mlflow-artifacts:/")
