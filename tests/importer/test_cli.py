"""``mltrail import URI`` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail.cli import cli
from tests.importer.conftest import MlflowStore


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.mlflow
@pytest.mark.slow
def test_import_prints_what_it_copied(
    runner: CliRunner, mlflow_sqlite: MlflowStore, tmp_path: Path
) -> None:
    target = f"sqlite:///{tmp_path / 'mltrail.db'}"

    first = runner.invoke(
        cli, ["--tracking-uri", target, "import", mlflow_sqlite.uri, "--no-progress"]
    )
    again = runner.invoke(cli, ["--tracking-uri", target, "import", mlflow_sqlite.uri])

    assert first.exit_code == 0, first.output
    assert "  runs: 4 (skipped, already there: 0)" in first.output
    assert "  model versions: 3 (skipped: 0)" in first.output
    assert again.exit_code == 0, again.output
    assert "  runs: 0 (skipped, already there: 4)" in again.output


@pytest.mark.mlflow
@pytest.mark.slow
def test_progress_bar_counts_runs_and_bytes(
    runner: CliRunner, mlflow_sqlite: MlflowStore, tmp_path: Path
) -> None:
    target = f"sqlite:///{tmp_path / 'mltrail.db'}"

    result = runner.invoke(
        cli, ["--tracking-uri", target, "import", mlflow_sqlite.uri, "--progress"]
    )

    assert result.exit_code == 0, result.output
    assert "runs" in result.stderr
    assert "4/4" in result.stderr


def test_folder_that_is_no_store_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    result = runner.invoke(cli, ["import", str(tmp_path / "empty")])

    assert result.exit_code == 1
    assert "source URI" in result.stderr
    assert "MLflow file store folder" in result.stderr


def test_missing_sqlite_source_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["import", f"sqlite:///{tmp_path / 'nope.db'}"])

    assert result.exit_code == 1
    assert "There is no file at" in result.stderr
    assert not (tmp_path / "nope.db").exists()


def test_mltrail_database_is_not_an_mlflow_one(
    runner: CliRunner, tmp_path: Path
) -> None:
    from mltrail.store._sql import SqlStore

    SqlStore(f"sqlite:///{tmp_path / 'own.db'}", artifact_root=str(tmp_path)).close()

    result = runner.invoke(cli, ["import", f"sqlite:///{tmp_path / 'own.db'}"])

    assert result.exit_code == 1
    assert "an MLflow tracking database" in result.stderr


def test_server_target_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["--tracking-uri", "http://127.0.0.1:9", "import", str(tmp_path)]
    )

    assert result.exit_code == 1
    assert "--backend-store-uri" in result.stderr
