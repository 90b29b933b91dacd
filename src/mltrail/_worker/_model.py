"""A model directory written into a run's artifacts all at once, by whichever process.

The helper process or, when it is gone, the user's process writes the model; either
may find that the other finished first. On local artifacts the directory is built
aside and renamed into place (``publish_directory``), so a reader sees no model or a
whole one, even when the writer is killed. Remote artifacts go through a local
temporary directory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mltrail._errors import MltrailError
from mltrail._worker._tasks import RunArtifacts

__all__ = ["save_model_to_artifacts"]

MLMODEL_FILE = "MLmodel"


def save_model_to_artifacts(
    estimator: Any, artifacts: RunArtifacts, directory: str, **options: Any
) -> None:
    """Save ``estimator`` at ``directory`` of the run unless a whole model is there.

    ``options`` are those of ``mltrail.models._model.save_model_directory``.
    """
    from mltrail.models._model import save_model_directory
    from mltrail.store._artifacts import LocalArtifactStore, publish_directory

    store = artifacts.store()
    if not isinstance(store, LocalArtifactStore):
        with tempfile.TemporaryDirectory(prefix="mltrail-model-") as scratch:
            local = Path(scratch) / "model"
            save_model_directory(estimator, local, **options)
            store.log_dir(artifacts.uri, local, directory)
        return
    target = store.local_path(artifacts.uri, directory)
    if (target / MLMODEL_FILE).is_file():
        return  # written already, by a writer that died before it could say so
    try:
        publish_directory(
            target, lambda folder: save_model_directory(estimator, folder, **options)
        )
    except (MltrailError, OSError):
        if not (target / MLMODEL_FILE).is_file():
            raise
