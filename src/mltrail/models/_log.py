"""Logging a model to a run as MLflow 3 does: a logged model, its files, its URI.

``log_model_directory`` creates the logged model (``m-<hex>``, PENDING) with the
run's params, writes the model directory into the run's artifacts at its name
(where ``runs:/<run_id>/<name>`` finds it, as before MLflow 3), records it as an
output of the run, and marks it READY, or FAILED when writing fails. Its URI is
``models:/<model_id>``; ``resolve_model_uri`` finds the files from there.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mltrail._errors import InvalidValueError
from mltrail.models._model import ModelInfo

__all__ = ["check_model_name", "log_model_directory"]

Writer = Callable[[Path, dict[str, Any]], ModelInfo]


def check_model_name(name: str | None, artifact_path: str | None) -> str:
    """Return the model's name from MLflow 3's ``name`` or MLflow 2's path."""
    if name is not None and artifact_path is not None and name != artifact_path:
        raise InvalidValueError(
            "name and artifact_path",
            (name, artifact_path),
            "one of them, or the same value",
            "artifact_path is MLflow 2's name for name; pass only name='model'.",
        )
    chosen = name if name is not None else artifact_path
    if chosen is None:
        return "model"
    if not isinstance(chosen, str) or not chosen.strip("/"):
        raise InvalidValueError(
            "model name", chosen, "a non-empty str", "Use a name such as 'model'."
        )
    return chosen.strip("/")


def log_model_directory(
    write: Writer,
    *,
    name: str,
    run_id: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    registered_model_name: str | None = None,
) -> ModelInfo:
    """Log a model directory that ``write(directory, options)`` fills.

    ``options`` are the keyword arguments for ``save_model_directory`` that the
    logged model decides: ``run_id``, ``artifact_path``, ``model_uri`` and
    ``model_id``. Without ``run_id`` the active run is used, or one is started
    and left active, as MLflow does.
    """
    from mltrail._entities import LoggedModelStatus, Param, RunTag
    from mltrail._system_tags import MODEL_ARTIFACT_PATH_TAG
    from mltrail.models._uris import local_artifact_directory
    from mltrail.tracking import TrackingClient, active_run, start_run

    if run_id is None:
        run = active_run()
        run_id = (run if run is not None else start_run()).info.run_id
    client = TrackingClient()
    run_data = client.get_run(run_id)
    artifact_uri = run_data.info.artifact_uri
    # The run's params, then the caller's, as MLflow 3 gives a logged model.
    model_params = {
        **run_data.data.params,
        **{k: str(v) for k, v in (params or {}).items()},
    }
    model_tags = {str(k): str(v) for k, v in (tags or {}).items()}
    model_tags[MODEL_ARTIFACT_PATH_TAG] = name
    target = local_artifact_directory(artifact_uri, name)
    store = client._store
    logged = store.create_logged_model(
        run_data.info.experiment_id,
        name=name,
        source_run_id=run_id,
        model_type=model_type,
        params=[Param(key, value) for key, value in model_params.items()],
        tags=[RunTag(key, value) for key, value in model_tags.items()],
        artifact_location=str(target) if target is not None else None,
    )
    options: dict[str, Any] = {
        "run_id": run_id,
        "artifact_path": name,
        "model_uri": f"models:/{logged.model_id}",
        "model_id": logged.model_id,
    }
    try:
        info = _write(client, write, options, run_id=run_id, name=name, target=target)
    except BaseException:
        store.finalize_logged_model(
            logged.model_id,
            LoggedModelStatus.FAILED.value,
            status_message="Writing the model's files failed.",
        )
        raise
    store.log_model_outputs(run_id, [(logged.model_id, step)])
    store.finalize_logged_model(logged.model_id, LoggedModelStatus.READY.value)
    version = None
    if registered_model_name is not None:
        from mltrail.registry import register_model

        version = register_model(info.model_uri, registered_model_name).version
    return _with_logged_model(info, name, model_params, model_tags, version)


def _write(
    client: Any,
    write: Writer,
    options: dict[str, Any],
    *,
    run_id: str,
    name: str,
    target: Path | None,
) -> ModelInfo:
    if target is not None:
        from mltrail.store._artifacts import publish_directory

        # Saved aside, then renamed into the run: a killed process leaves no half model.
        info: ModelInfo = publish_directory(target, lambda local: write(local, options))
        return info
    with tempfile.TemporaryDirectory(prefix="mltrail-model-") as temporary:
        local = Path(temporary) / "model"
        info = write(local, options)
        client.log_artifacts(run_id, local, name)
    return info


def _with_logged_model(
    info: ModelInfo,
    name: str,
    params: dict[str, str],
    tags: dict[str, str],
    version: int | None,
) -> ModelInfo:
    from dataclasses import replace

    return replace(
        info, name=name, params=params, tags=tags, registered_model_version=version
    )
