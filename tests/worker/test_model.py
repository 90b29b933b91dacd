"""A model directory lands in a run's artifacts whole, whoever writes it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from mltrail._errors import MltrailError
from mltrail._worker._model import save_model_to_artifacts
from mltrail._worker._tasks import RunArtifacts
from mltrail.sklearn import load_model

RUN_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def estimator() -> Any:
    X, y = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=500).fit(X, y)


@pytest.fixture
def artifacts(tmp_path: Path) -> RunArtifacts:
    """A run's artifacts under a store's root, laid out as the store lays them."""
    return RunArtifacts(str(tmp_path / "0" / RUN_ID / "artifacts"), str(tmp_path))


def _run_files(artifacts: RunArtifacts) -> list[str]:
    return sorted(path.name for path in Path(artifacts.uri).iterdir())


def test_model_is_published_whole(estimator: Any, artifacts: RunArtifacts) -> None:
    save_model_to_artifacts(estimator, artifacts, "model")
    assert _run_files(artifacts) == ["model"]
    X, _ = load_iris(return_X_y=True)
    model = load_model(Path(artifacts.uri) / "model")
    assert model.predict(X[:3]).tolist() == [0, 0, 0]


def test_whole_model_already_there_is_kept(
    estimator: Any, artifacts: RunArtifacts
) -> None:
    model = Path(artifacts.uri) / "model"
    model.mkdir(parents=True)
    (model / "MLmodel").write_text("written by the helper")
    save_model_to_artifacts(estimator, artifacts, "model")
    assert (model / "MLmodel").read_text() == "written by the helper"


def test_writer_that_lost_the_race_leaves_the_winner(
    estimator: Any, artifacts: RunArtifacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    replace = os.replace

    def replace_after_the_winner(source: Any, target: Any) -> None:
        if Path(target).name == "model":
            Path(target).mkdir(parents=True)
            (Path(target) / "MLmodel").write_text("winner")
            raise OSError(39, "Directory not empty")
        replace(source, target)

    monkeypatch.setattr(os, "replace", replace_after_the_winner)
    save_model_to_artifacts(estimator, artifacts, "model")
    assert (Path(artifacts.uri) / "model" / "MLmodel").read_text() == "winner"
    assert _run_files(artifacts) == ["model"]


def test_failure_with_no_model_there_raises(
    estimator: Any, artifacts: RunArtifacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    replace = os.replace

    def broken_replace(source: Any, target: Any) -> None:
        if Path(target).name == "model":
            raise OSError(18, "Invalid cross-device link")
        replace(source, target)

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises((OSError, MltrailError)):
        save_model_to_artifacts(estimator, artifacts, "model")
    assert not (Path(artifacts.uri) / "model").exists()


def test_remote_artifacts_get_the_model_through_a_temporary_directory(
    estimator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail.store import _artifacts

    uploaded: dict[str, Any] = {}

    class Remote:
        def log_dir(self, artifact_uri: str, local_dir: Path, path: str) -> None:
            uploaded.update(
                uri=artifact_uri,
                path=path,
                files=sorted(file.name for file in Path(local_dir).iterdir()),
            )

    monkeypatch.setattr(_artifacts, "open_artifact_store", lambda uri, root: Remote())
    save_model_to_artifacts(
        estimator, RunArtifacts("s3://bucket/runs/1/artifacts"), "model"
    )
    assert uploaded["uri"] == "s3://bucket/runs/1/artifacts"
    assert uploaded["path"] == "model"
    assert {"MLmodel", "model.skops", "requirements.txt"} <= set(uploaded["files"])
