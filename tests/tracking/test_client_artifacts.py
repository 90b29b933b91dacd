"""Artifacts through ``TrackingClient``: modes, links and atomic model directories."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail._errors import InvalidValueError
from mltrail.store._sql import SqlStore
from mltrail.tracking import TrackingClient


@pytest.fixture
def local_client(sqlite_store: SqlStore) -> TrackingClient:
    client = TrackingClient(sqlite_store.uri)
    client._opened_store = sqlite_store
    return client


@pytest.fixture(params=[0o022, 0o002], ids=["022", "002"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _modes(directory: Path) -> dict[str, int]:
    return {
        path.relative_to(directory).as_posix(): stat.S_IMODE(path.stat().st_mode)
        for path in directory.rglob("*")
    }


def test_every_logged_file_honours_umask(
    local_client: TrackingClient, tmp_path: Path, umask: int
) -> None:
    from matplotlib.figure import Figure
    from sklearn.linear_model import LogisticRegression

    import mltrail

    run = local_client.create_run("0")
    run_id = run.info.run_id
    local_client.log_text(run_id, "text", "notes/a.txt")
    local_client.log_dict(run_id, {"a": 1}, "meta/a.json")
    local_client.log_dict(run_id, {"a": 1}, "meta/a.yaml")
    figure = Figure()
    figure.subplots().plot([0, 1], [1, 0])
    local_client.log_figure(run_id, figure, "plots/line.png")
    source = tmp_path / "src"
    source.mkdir()
    (source / "b.txt").write_text("b")
    local_client.log_artifact(run_id, source / "b.txt", "one")
    local_client.log_artifacts(run_id, source, "many")
    mltrail.set_tracking_uri(local_client.tracking_uri)
    estimator = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    mltrail.sklearn.log_model(estimator, run_id=run_id)
    modes = _modes(Path(run.info.artifact_uri))
    assert "model/model.skops" in modes
    for name, mode in modes.items():
        is_dir = (Path(run.info.artifact_uri) / name).is_dir()
        expected = (0o777 if is_dir else 0o666) & ~umask
        assert mode == expected, name


def test_symlinked_experiment_folder_is_refused(
    local_client: TrackingClient, sqlite_store: SqlStore, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    experiment_id = local_client.create_experiment("shared")
    root = Path(sqlite_store.artifact_root)
    root.mkdir(parents=True, exist_ok=True)
    (root / experiment_id).symlink_to(outside)
    run_id = local_client.create_run(experiment_id).info.run_id
    with pytest.raises(InvalidValueError, match="symlink that points outside"):
        local_client.log_text(run_id, "x", "a.txt")
    assert list(outside.iterdir()) == []
