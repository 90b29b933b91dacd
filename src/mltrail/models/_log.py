"""Logging a model to a run as MLflow 3 does: a logged model, its files, its URI.

``log_model_directory`` creates the logged model (``m-<hex>``, PENDING) with the
run's params, writes the model directory into the run's artifacts at its name
(where ``runs:/<run_id>/<name>`` finds it, as before MLflow 3), records it as an
output of the run, and marks it READY, or FAILED when writing fails. The run's
metric points at the model's step become the model's too, as in MLflow 3. Its URI
is ``models:/<model_id>``; ``resolve_model_uri`` finds the files from there.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mltrail._errors import InvalidValueError
from mltrail.models._model import ModelInfo

__all__ = [
    "LoggedModelStart",
    "check_model_name",
    "choose_model_id",
    "file_options",
    "finish_logged_model",
    "log_model_directory",
    "start_logged_model",
]

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


def choose_model_id(client: Any) -> str | None:
    """Return a new logged model's id if ``client``'s store takes one, else None.

    A SQL store takes the id its caller chose, so the model's files, which name
    it, can be written while its record is created; a server chooses its own.
    """
    if not getattr(client._store, "takes_model_ids", False):
        return None
    from mltrail._entities import new_model_id

    return new_model_id()


def file_options(run_id: str, name: str, model_id: str) -> dict[str, Any]:
    """Return what a logged model decides of its files (``save_model_directory``)."""
    return {
        "run_id": run_id,
        "artifact_path": name,
        "model_uri": f"models:/{model_id}",
        "model_id": model_id,
    }


@dataclass(frozen=True, slots=True)
class LoggedModelStart:
    """A logged model created PENDING for a run, whose files are still to be written.

    ``options`` are the keyword arguments for ``save_model_directory`` that the
    logged model decides (``run_id``, ``artifact_path``, ``model_uri``,
    ``model_id``); ``target`` is the model's local directory, or None when the
    run's artifacts are remote.
    """

    model_id: str
    run_id: str
    name: str
    params: dict[str, str]
    tags: dict[str, str]
    target: Path | None
    options: dict[str, Any]


def start_logged_model(
    *,
    name: str,
    run_id: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    client: Any = None,
    model_id: str | None = None,
) -> LoggedModelStart:
    """Create the logged model (PENDING) of a model about to be written to a run.

    Without ``run_id`` the active run is used, or one is started and left active,
    as MLflow does; ``client`` is the run's ``TrackingClient`` (the current one by
    default). ``model_id`` is the id given by ``choose_model_id``, or None for the
    store's own. Finish it with ``finish_logged_model`` once the files are written.
    """
    from mltrail._entities import Param, RunTag
    from mltrail._system_tags import MODEL_ARTIFACT_PATH_TAG
    from mltrail.models._uris import local_artifact_directory
    from mltrail.tracking import TrackingClient, active_run, start_run
    from mltrail.tracking._fluent_models import remember_logged_model

    if run_id is None:
        run = active_run()
        run_id = (run if run is not None else start_run()).info.run_id
    client = TrackingClient() if client is None else client
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
    chosen = {} if model_id is None else {"model_id": model_id}
    logged = client._store.create_logged_model(
        run_data.info.experiment_id,
        name=name,
        source_run_id=run_id,
        model_type=model_type,
        params=[Param(key, value) for key, value in model_params.items()],
        tags=[RunTag(key, value) for key, value in model_tags.items()],
        artifact_location=str(target) if target is not None else None,
        **chosen,
    )
    remember_logged_model(logged.model_id)  # for mltrail.last_logged_model()
    options = file_options(run_id, name, logged.model_id)
    return LoggedModelStart(
        logged.model_id, run_id, name, model_params, model_tags, target, options
    )


def finish_logged_model(
    start: LoggedModelStart,
    *,
    step: int = 0,
    is_failed: bool = False,
    client: Any = None,
) -> None:
    """Mark the logged model READY, as an output of its run, or FAILED."""
    from mltrail._entities import LoggedModelStatus
    from mltrail.tracking import TrackingClient

    store = (TrackingClient() if client is None else client)._store
    if is_failed:
        store.finalize_logged_model(
            start.model_id,
            LoggedModelStatus.FAILED.value,
            status_message="Writing the model's files failed.",
        )
        return
    store.log_model_outputs(start.run_id, [(start.model_id, step)])
    store.finalize_logged_model(start.model_id, LoggedModelStatus.READY.value)


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
    from mltrail.tracking import TrackingClient

    client = TrackingClient()
    start = start_logged_model(
        name=name,
        run_id=run_id,
        params=params,
        tags=tags,
        model_type=model_type,
        client=client,
    )
    try:
        info = _write(
            client,
            write,
            start.options,
            run_id=start.run_id,
            name=name,
            target=start.target,
        )
    except BaseException:
        finish_logged_model(start, is_failed=True, client=client)
        raise
    finish_logged_model(start, step=step, client=client)
    _link_run_metrics(client, start, step)
    version = None
    if registered_model_name is not None:
        from mltrail.registry import register_model

        version = register_model(info.model_uri, registered_model_name).version
    return _with_logged_model(info, name, start.params, start.tags, version)


def _link_run_metrics(client: Any, start: LoggedModelStart, step: int) -> None:
    """Give the model the run's metric points at its step, as MLflow 3's log_model."""
    from mltrail._entities import LoggedModelMetric

    store = client._store
    points = [
        LoggedModelMetric(
            point.key, point.value, point.timestamp, point.step, run_id=start.run_id
        )
        for key in client.get_run(start.run_id).data.metrics
        for point in store.get_metric_history(start.run_id, key)
        if point.step == step
    ]
    if points:
        store.log_logged_model_metrics(start.model_id, points)


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
