"""Deleting, restoring and purging: ``runs delete|restore``, ``experiments
delete|restore`` and ``gc``, on every backend."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail._entities import RunInfo
from mltrail._errors import NotFoundError
from mltrail.cli import cli
from mltrail.cli._gc import format_duration, parse_duration
from mltrail.store import _schema as schema
from mltrail.store._artifacts import artifact_root_path
from mltrail.tracking import TrackingClient


def _run(
    client: TrackingClient, name: str, tmp_path: Path, experiment_id: str = "0"
) -> RunInfo:
    info = client.create_run(experiment_id, run_name=name).info
    source = tmp_path / f"{name}.txt"
    source.write_text(name)
    client.log_artifact(info.run_id, source)
    client.set_terminated(info.run_id)
    return info


def _stage(client: TrackingClient, run_id: str) -> str:
    return client.get_run(run_id).info.lifecycle_stage


def _invoke(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_delete_and_restore_runs_by_name_and_prefix(
    runner: CliRunner, backend: TrackingClient, tmp_path: Path
) -> None:
    first = _run(backend, "first", tmp_path)
    second = _run(backend, "second", tmp_path)
    out = _invoke(runner, "runs", "delete", "first", second.run_id[:8])
    assert out == (
        f"Deleted run {first.run_id} ('first').\n"
        f"Deleted run {second.run_id} ('second').\n"
    )
    assert _stage(backend, first.run_id) == _stage(backend, second.run_id) == "deleted"
    out = _invoke(runner, "runs", "restore", "first")
    assert out == f"Restored run {first.run_id} ('first').\n"
    assert _stage(backend, first.run_id) == "active"


def test_delete_refuses_all_when_one_run_is_wrong(
    runner: CliRunner, backend: TrackingClient, tmp_path: Path
) -> None:
    first = _run(backend, "first", tmp_path)
    result = runner.invoke(cli, ["runs", "delete", "first", "missing"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: run 'missing' does not exist.")
    assert _stage(backend, first.run_id) == "active"


@pytest.mark.parametrize(
    ("command", "stage", "message"),
    [
        ("delete", "deleted", "run must be an active run; got 'first'. It is deleted."),
        ("restore", "active", "run must be a deleted run; got 'first'. It is active."),
    ],
    ids=["delete-deleted", "restore-active"],
)
def test_delete_and_restore_say_when_the_run_is_already_there(
    runner: CliRunner,
    backend: TrackingClient,
    tmp_path: Path,
    command: str,
    stage: str,
    message: str,
) -> None:
    info = _run(backend, "first", tmp_path)
    if stage == "deleted":
        backend.delete_run(info.run_id)
    result = runner.invoke(cli, ["runs", command, "first"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"


def test_delete_and_restore_experiments_by_name_and_id(
    runner: CliRunner, backend: TrackingClient
) -> None:
    churn = backend.create_experiment("churn")
    fraud = backend.create_experiment("fraud")
    out = _invoke(runner, "experiments", "delete", "churn", fraud)
    assert out == (
        f"Deleted experiment {churn} ('churn').\n"
        f"Deleted experiment {fraud} ('fraud').\n"
    )
    assert backend.get_experiment(churn).lifecycle_stage == "deleted"
    assert _invoke(runner, "experiments", "restore", fraud) == (
        f"Restored experiment {fraud} ('fraud').\n"
    )
    result = runner.invoke(cli, ["experiments", "restore", "nope"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: deleted experiment 'nope' does not exist.")


def test_experiment_named_like_another_ones_id_is_ambiguous(
    runner: CliRunner, backend: TrackingClient
) -> None:
    named = backend.create_experiment("x")
    other = backend.create_experiment(named)  # its name is the first one's id
    result = runner.invoke(cli, ["experiments", "delete", named])
    assert result.exit_code == 1
    assert f"It names experiment {other} and is the id of experiment 'x'" in (
        result.stderr
    )


def test_gc_purges_deleted_runs_and_their_artifacts(
    runner: CliRunner, backend: TrackingClient, tmp_path: Path
) -> None:
    gone = _run(backend, "gone", tmp_path)
    kept = _run(backend, "kept", tmp_path)
    backend.delete_run(gone.run_id)
    assert _invoke(runner, "gc") == f"Purged run {gone.run_id} ('gone').\n"
    with pytest.raises(NotFoundError):
        backend.get_run(gone.run_id)
    assert not artifact_root_path(gone.artifact_uri).exists()
    assert artifact_root_path(kept.artifact_uri).exists()
    assert _invoke(runner, "gc") == "Nothing to purge.\n"


def test_gc_dry_run_purges_nothing(
    runner: CliRunner, backend: TrackingClient, tmp_path: Path
) -> None:
    gone = _run(backend, "gone", tmp_path)
    backend.delete_run(gone.run_id)
    experiment_id = backend.create_experiment("old")
    _run(backend, "inside", tmp_path, experiment_id)
    backend.delete_experiment(experiment_id)
    out = _invoke(runner, "gc", "--dry-run")
    assert out == (
        f"Would purge run {gone.run_id} ('gone').\n"
        f"Would purge experiment {experiment_id} ('old') and its 1 run.\n"
    )
    assert _stage(backend, gone.run_id) == "deleted"
    assert backend.get_experiment(experiment_id).name == "old"


def test_gc_purges_deleted_experiments_with_their_runs(
    runner: CliRunner, backend: TrackingClient, tmp_path: Path
) -> None:
    experiment_id = backend.create_experiment("old")
    inside = [_run(backend, f"r{i}", tmp_path, experiment_id) for i in range(2)]
    backend.delete_experiment(experiment_id)
    out = _invoke(runner, "gc", "--experiment-ids", "old")
    assert out == f"Purged experiment {experiment_id} ('old') and its 2 runs.\n"
    assert backend.get_experiment_by_name("old") is None
    assert not any(artifact_root_path(i.artifact_uri).exists() for i in inside)


def test_gc_run_ids_purges_only_those(
    runner: CliRunner, backend: TrackingClient, tmp_path: Path
) -> None:
    first = _run(backend, "first", tmp_path)
    second = _run(backend, "second", tmp_path)
    for info in (first, second):
        backend.delete_run(info.run_id)
    out = _invoke(runner, "gc", "--run-ids", f"{first.run_id[:8]},first")
    assert out == f"Purged run {first.run_id} ('first').\n"
    assert _stage(backend, second.run_id) == "deleted"


def test_gc_refuses_an_active_run_and_purges_nothing(
    runner: CliRunner, backend: TrackingClient, tmp_path: Path
) -> None:
    deleted = _run(backend, "deleted", tmp_path)
    _run(backend, "active", tmp_path)
    backend.delete_run(deleted.run_id)
    result = runner.invoke(cli, ["gc", "--run-ids", "deleted", "--run-ids", "active"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: run must be a deleted run; got 'active'. It is active.\n"
    )
    assert _stage(backend, deleted.run_id) == "deleted"


def test_gc_older_than_spares_recent_deletions(
    runner: CliRunner, backend: TrackingClient, tmp_path: Path
) -> None:
    old = _run(backend, "old", tmp_path)
    recent = _run(backend, "recent", tmp_path)
    for info in (old, recent):
        backend.delete_run(info.run_id)
    long_ago = int(
        (datetime.datetime.now() - datetime.timedelta(days=40)).timestamp() * 1000
    )
    store = backend._store
    with store._engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            schema.runs.update()
            .where(schema.runs.c.run_id == old.run_id)
            .values(deleted_time=long_ago)
        )
    assert _invoke(runner, "gc", "--older-than", "30d") == (
        f"Purged run {old.run_id} ('old').\n"
    )
    result = runner.invoke(cli, ["gc", "--older-than", "1d12h", "--run-ids", "recent"])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: --run-ids entry must be a run deleted at least 1d12h ago; "
        "got 'recent'. Leave out --older-than to purge it now."
    )


def test_gc_older_than_spares_recently_deleted_experiments(
    runner: CliRunner, backend: TrackingClient
) -> None:
    experiment_id = backend.create_experiment("recent")
    backend.delete_experiment(experiment_id)
    assert _invoke(runner, "gc", "--older-than", "1h") == "Nothing to purge.\n"
    result = runner.invoke(
        cli, ["gc", "--older-than", "1h", "--experiment-ids", experiment_id]
    )
    assert result.exit_code == 1
    assert "must be an experiment deleted at least 1h ago" in result.stderr
    assert _invoke(runner, "gc", "--experiment-ids", experiment_id).startswith(
        f"Purged experiment {experiment_id}"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", datetime.timedelta(days=30)),
        ("1d2h3m4s", datetime.timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("1.5h", datetime.timedelta(minutes=90)),
        (" 45s ", datetime.timedelta(seconds=45)),
    ],
    ids=["days", "all-units", "fraction", "spaces"],
)
def test_older_than_reads_mlflow_durations(
    text: str, expected: datetime.timedelta
) -> None:
    assert parse_duration(None, None, text) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (datetime.timedelta(days=1, hours=12), "1d12h"),
        (datetime.timedelta(seconds=90.5), "1m30.5s"),
        (datetime.timedelta(0), "0s"),
        (datetime.timedelta(days=2), "2d"),
    ],
    ids=["days-hours", "fraction", "zero", "whole-days"],
)
def test_durations_are_written_as_older_than_reads_them(
    duration: datetime.timedelta, text: str
) -> None:
    assert format_duration(duration) == text
    assert parse_duration(None, None, text) == duration  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "30", "1x", "d", "-1d", "1h1d"])
def test_older_than_rejects_other_text(runner: CliRunner, text: str) -> None:
    result = runner.invoke(cli, ["gc", "--older-than", text])
    assert result.exit_code == 2
    assert "is not a duration. Use days, hours, minutes and seconds" in result.stderr
