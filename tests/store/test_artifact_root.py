"""The artifact root is a setting of the store, not of whoever came first (#8 §4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mltrail.store._sql import SqlStore
from tests._stores import BACKENDS, SERVER_VARIABLES, ServerDatabase

LOG_FROM_HERE = """
import sys
import mltrail

mltrail.set_tracking_uri(sys.argv[1])
mltrail.set_experiment(sys.argv[2])
with mltrail.start_run() as run:
    mltrail.log_text("hello", "notes.txt")
print(run.info.artifact_uri)
"""


def _log_from(directory: Path, uri: str, experiment: str, **env: str) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLTRAIL_", "MLFLOW_")) or k.startswith("MLTRAIL_TEST_")
    }
    done = subprocess.run(
        [sys.executable, "-c", LOG_FROM_HERE, uri, experiment],
        capture_output=True,
        text=True,
        cwd=directory,
        env={**environment, **env},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_sqlite_artifacts_go_beside_the_file_whoever_logs(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    uri = f"sqlite:///{shared / 'mltrail.db'}"
    first = _log_from(tmp_path / "ada", uri, "first")
    second = _log_from(tmp_path / "bob", uri, "second")
    third = _log_from(tmp_path / "bob", uri, "first")  # bob into ada's experiment
    for artifact_uri in (first, second, third):
        assert Path(artifact_uri).is_relative_to(shared / "mltrail-artifacts")
        assert (Path(artifact_uri) / "notes.txt").read_text() == "hello"
    assert not (tmp_path / "ada" / "mltrail-artifacts").exists()
    assert not (tmp_path / "bob" / "mltrail-artifacts").exists()


def test_environment_chooses_the_root(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    root = tmp_path / "big-disk"
    artifact_uri = _log_from(
        tmp_path / "work", uri, "e", MLTRAIL_ARTIFACT_ROOT=str(root)
    )
    assert Path(artifact_uri).is_relative_to(root)


def test_default_sqlite_store_keeps_files_in_working_directory(tmp_path: Path) -> None:
    artifact_uri = _log_from(tmp_path / "here", "sqlite:///mltrail.db", "e")
    assert Path(artifact_uri).is_relative_to(tmp_path / "here" / "mltrail-artifacts")


@pytest.mark.parametrize(
    "backend", [b for b in BACKENDS if b != "sqlite"] or ["postgresql"]
)
def test_server_database_keeps_the_root_recorded_at_creation(
    tmp_path: Path, backend: str
) -> None:
    if not os.environ.get(SERVER_VARIABLES[backend]):
        pytest.skip(f"{SERVER_VARIABLES[backend]} is not set")
    database = ServerDatabase(backend, os.environ[SERVER_VARIABLES[backend]])
    try:
        root = tmp_path / "team-artifacts"
        first = _log_from(
            tmp_path / "ada", database.uri, "churn", MLTRAIL_ARTIFACT_ROOT=str(root)
        )
        second = _log_from(tmp_path / "bob", database.uri, "fraud")
        assert Path(first).is_relative_to(root)
        assert Path(second).is_relative_to(root)
        assert not (tmp_path / "bob" / "mltrail-artifacts").exists()
    finally:
        database.drop()


def test_explicit_root_wins(tmp_path: Path) -> None:
    store = SqlStore(
        f"sqlite:///{tmp_path / 'a.db'}", artifact_root=str(tmp_path / "x")
    )
    experiment = store.get_experiment(store.create_experiment("e"))
    assert experiment.artifact_location == f"{tmp_path / 'x'}/1"
    store.close()


def test_relative_artifact_location_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = SqlStore(f"sqlite:///{tmp_path / 'a.db'}")
    experiment_id = store.create_experiment("e", artifact_location="runs/e")
    location = store.get_experiment(experiment_id).artifact_location
    assert location == str(tmp_path / "runs" / "e")
    uri_id = store.create_experiment("s", artifact_location="s3://bucket/e")
    assert store.get_experiment(uri_id).artifact_location == "s3://bucket/e"
    store.close()


def test_cli_shows_the_setting() -> None:
    from click.testing import CliRunner

    from mltrail.cli import cli

    result = CliRunner().invoke(cli, ["--help"])
    assert "--artifact-root" in result.output
    assert "MLTRAIL_ARTIFACT_ROOT" in result.output
    assert "beside a SQLite file" in result.output.replace("\n", " ").replace("  ", " ")
