"""Import through a real ``mlflow server`` process that the real client wrote to."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.importer import ImportSummary, import_store, open_source
from mltrail.store._sql import SqlStore
from tests import _processes
from tests.importer._compare import assert_store_equal, hash_tree
from tests.importer.conftest import MlflowStore, mlflow_environment, write_mlflow_store
from tests.server._live import free_port

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]

# MLflow's server takes a minute or more to start on a busy two-core machine.
STARTUP_TIMEOUT = 300.0


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - a local URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"mlflow server not healthy:\n{log.read_text()}")


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowStore]:
    """An MLflow server (SQLite backend, proxied artifacts), written to once."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    url = f"http://127.0.0.1:{free_port()}"
    log = folder / "server.log"
    with open(log, "wb") as output:
        process = _processes.start(
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                url.rsplit(":", 1)[1],
                "--workers",
                "1",
                "--backend-store-uri",
                f"sqlite:///{folder / 'mlflow.db'}",
                "--artifacts-destination",
                str(folder / "artifacts"),
            ],
            cwd=folder,
            env=mlflow_environment(),
            stdout=output,
            stderr=output,
        )
    try:
        _wait_until_healthy(url, process, log)
        yield MlflowStore(url, folder, write_mlflow_store(url, folder))
    finally:
        _processes.stop(process)


def _import(uri: str, store: SqlStore) -> ImportSummary:
    source = open_source(uri)
    try:
        return import_store(source, store)
    finally:
        source.close()


def test_import_copies_every_field(
    mlflow_server: MlflowStore, sqlite_store: SqlStore
) -> None:
    summary = _import(mlflow_server.uri, sqlite_store)

    assert summary.runs == 4
    assert summary.mapped == []
    assert_store_equal(sqlite_store, mlflow_server.truth)


def test_import_again_copies_nothing_new(
    mlflow_server: MlflowStore, sqlite_store: SqlStore
) -> None:
    _import(mlflow_server.uri, sqlite_store)

    again = _import(mlflow_server.uri, sqlite_store)

    assert (again.experiments, again.runs, again.logged_models) == (0, 0, 0)
    assert (again.model_versions, again.bytes) == (0, 0)
    assert_store_equal(sqlite_store, mlflow_server.truth)


def test_import_leaves_the_server_store_unchanged(
    mlflow_server: MlflowStore, sqlite_store: SqlStore
) -> None:
    stored = [mlflow_server.folder / "mlflow.db", mlflow_server.folder / "artifacts"]
    before = hash_tree(*stored)

    _import(mlflow_server.uri, sqlite_store)

    assert hash_tree(*stored) == before


def test_registry_keeps_deleted_version_numbers(
    mlflow_server: MlflowStore, sqlite_store: SqlStore
) -> None:
    _import(mlflow_server.uri, sqlite_store)

    versions = sqlite_store.search_model_versions(filter_string="name = 'iris'")
    assert sorted(v.version for v in versions) == [2, 3]
    assert sqlite_store.get_model_version_by_alias("iris", "champion").version == 2
    assert Path(mlflow_server.folder / "mlflow.db").exists()
