"""``TrackingClient.purge_runs``, ``purge_experiments`` and ``list_deleted_runs``."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest

from mltrail._entities import RunInfo
from mltrail._errors import ConflictError, InvalidValueError, StoreError
from mltrail.store._artifacts import artifact_root_path
from mltrail.tracking import TrackingClient


def _run_with_file(
    client: TrackingClient, tmp_path: Path, experiment_id: str = "0"
) -> RunInfo:
    run = client.create_run(experiment_id, run_name="scratch")
    source = tmp_path / "notes.txt"
    source.write_text("hello")
    client.log_artifact(run.info.run_id, source, artifact_path="docs")
    return run.info


def test_purge_runs_removes_rows_and_artifacts(
    client: TrackingClient, tmp_path: Path
) -> None:
    info = _run_with_file(client, tmp_path)
    root = artifact_root_path(info.artifact_uri)
    assert (root / "docs" / "notes.txt").is_file()
    client.delete_run(info.run_id)
    purged = client.purge_runs([info.run_id])
    assert [p.run_id for p in purged] == [info.run_id]
    assert not root.exists()
    assert not root.parent.exists()  # the run's folder, empty, goes too
    assert client.list_deleted_runs() == []


def test_purge_runs_accepts_a_single_id(client: TrackingClient, tmp_path: Path) -> None:
    info = _run_with_file(client, tmp_path)
    client.delete_run(info.run_id)
    assert [p.run_id for p in client.purge_runs(info.run_id)] == [info.run_id]


def test_purge_runs_keeps_what_a_symlinked_folder_points_to(
    client: TrackingClient, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    info = client.create_run("0").info
    root = artifact_root_path(info.artifact_uri)
    root.parent.mkdir(parents=True)
    root.symlink_to(outside, target_is_directory=True)
    client.delete_run(info.run_id)
    client.purge_runs([info.run_id])
    assert not os.path.lexists(root)
    assert (outside / "precious.txt").read_text() == "keep me"


def test_purge_runs_keeps_what_a_planted_link_points_to(
    client: TrackingClient, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    info = _run_with_file(client, tmp_path)
    root = artifact_root_path(info.artifact_uri)
    (root / "docs" / "link").symlink_to(outside, target_is_directory=True)
    client.delete_run(info.run_id)
    client.purge_runs([info.run_id])
    assert not root.exists()
    assert (outside / "precious.txt").read_text() == "keep me"


def test_purge_runs_without_artifacts_is_fine(client: TrackingClient) -> None:
    info = client.create_run("0").info
    client.delete_run(info.run_id)
    assert [p.run_id for p in client.purge_runs([info.run_id])] == [info.run_id]


def test_purge_runs_keeps_a_folder_that_holds_more(
    client: TrackingClient, tmp_path: Path
) -> None:
    info = _run_with_file(client, tmp_path)
    root = artifact_root_path(info.artifact_uri)
    (root.parent / "other.txt").write_text("not the run's")
    client.delete_run(info.run_id)
    client.purge_runs([info.run_id])
    assert not root.exists()
    assert (root.parent / "other.txt").exists()


def test_purge_runs_names_artifacts_it_could_not_remove(
    client: TrackingClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = _run_with_file(client, tmp_path)
    client.delete_run(info.run_id)

    def refuse(path: object) -> None:
        # What read-only media or a foreign owner does (tests run as root, which
        # file permissions do not stop).
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("shutil.rmtree", refuse)
    with pytest.raises(
        StoreError,
        match=r"1 run was purged, but 1 artifact folder could not be removed\. "
        r"no permission to write or read .* Remove them by hand\.",
    ):
        client.purge_runs([info.run_id])
    assert client.list_deleted_runs() == []  # the rows are gone all the same
    assert artifact_root_path(info.artifact_uri).exists()


def test_purge_runs_names_artifacts_of_a_scheme_it_cannot_delete(
    client: TrackingClient,
) -> None:
    # S3 and HTTP stores delete; a scheme mltrail serves no store for cannot.
    info = RunInfo("a" * 32, "r", "0", "ada", "FINISHED", 0, 1, "gs://b/r", "deleted")
    with pytest.raises(StoreError, match="gs://b/r: the artifact store cannot delete"):
        client._delete_artifacts([info], [info.artifact_uri])


def test_purge_runs_refuses_an_active_run(
    client: TrackingClient, tmp_path: Path
) -> None:
    info = _run_with_file(client, tmp_path)
    with pytest.raises(ConflictError, match="only deleted runs can be purged"):
        client.purge_runs([info.run_id])
    assert artifact_root_path(info.artifact_uri).exists()


def test_purge_experiments_removes_their_runs_artifacts(
    client: TrackingClient, tmp_path: Path
) -> None:
    experiment_id = client.create_experiment("old")
    info = _run_with_file(client, tmp_path, experiment_id)
    client.delete_experiment(experiment_id)
    purged = client.purge_experiments(experiment_id)
    assert [p.run_id for p in purged] == [info.run_id]
    assert not artifact_root_path(info.artifact_uri).exists()
    assert client.get_experiment_by_name("old") is None


def test_purge_experiments_removes_their_logged_models_files(
    client: TrackingClient,
) -> None:
    experiment_id = client.create_experiment("old")
    model = client._store.create_logged_model(experiment_id, name="m")
    folder = artifact_root_path(model.artifact_location)
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    client.delete_experiment(experiment_id)
    assert client.purge_experiments([experiment_id]) == []
    assert not folder.exists()
    assert not folder.parent.exists()


def test_list_deleted_runs_filters_by_age(client: TrackingClient) -> None:
    info = client.create_run("0").info
    client.delete_run(info.run_id)
    assert [i.run_id for i in client.list_deleted_runs()] == [info.run_id]
    now = datetime.timedelta(0)
    assert [i.run_id for i in client.list_deleted_runs(now)] == [info.run_id]
    assert client.list_deleted_runs(datetime.timedelta(hours=1)) == []


@pytest.mark.parametrize(
    "older_than",
    [datetime.timedelta(seconds=-1), 30, "30d"],
    ids=["negative", "int", "str"],
)
def test_list_deleted_runs_rejects_a_bad_age(
    client: TrackingClient, older_than: object
) -> None:
    with pytest.raises(InvalidValueError, match="older_than must be a datetime"):
        client.list_deleted_runs(older_than)  # type: ignore[arg-type]


def test_a_store_that_cannot_purge_says_so(client: TrackingClient) -> None:
    class _Remote:
        """A store without the purge methods, as a REST store may be."""

    client._opened_store = _Remote()  # type: ignore[assignment]
    with pytest.raises(StoreError, match=r"cannot purge runs\. Purge through"):
        client.purge_runs(["a" * 32])
