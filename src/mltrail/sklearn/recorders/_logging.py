"""A fit's params, metrics and tags in one batch; its model and files, queued.

Two recorders of ``FitEnded`` (the batch, once the training metrics and the search
are in; the files, last), and two of ``EstimatorUsed``: what ``cross_validate``
and its kin record of an estimator they did not fit.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from mltrail._system_tags import AUTOLOGGING_TAG
from mltrail.sklearn.shared import _model

if TYPE_CHECKING:
    from mltrail._worker import RunArtifacts
    from mltrail.sklearn.shared._events import EstimatorUsed, FitEnded
    from mltrail.sklearn.shared._state import AutologSettings

__all__ = [
    "model_files",
    "on_estimator_used",
    "on_fit_ended",
    "queue_environment",
    "queue_files",
]

PACKAGES_ARTIFACT = _model.PACKAGES_ARTIFACT
MODEL_ARTIFACT = _model.MODEL_ARTIFACT
BEST_ESTIMATOR_ARTIFACT = "best_estimator"
CV_RESULTS_ARTIFACT = "cv_results.csv"


def on_fit_ended(event: FitEnded) -> None:
    """Write the fit's params, metrics and tags to its run, in one batch."""
    from mltrail.sklearn.shared import _runs

    _runs.log_batch(event.run_id, event.params, event.metrics, event.tags)


def queue_files(event: FitEnded) -> None:
    """Queue the model, ``cv_results.csv`` and the package list.

    They are written from a snapshot of the estimator and a copy of the
    example rows, so later changes to the user's objects cannot reach what
    this fit logs. The background thread creates the model's logged model,
    the helper process writes the files (``model_files``), and the background
    thread marks the logged model READY. A search's model is the search
    itself, as in MLflow (its ``cv_results_`` and ``best_params_`` load with
    it), and its ``best_estimator_`` is a second model, ``best_estimator``.
    """
    from mltrail.sklearn.shared import _background, _fit, _search, _snapshot

    model = best = example = None
    # A search without refit cannot predict: it logs no model (cv_results.csv
    # holds what it found).
    if event.config.log_models and event.model is not None:
        model = _snapshot.snapshot(event.estimator)
        best = getattr(model, "best_estimator_", None) if event.is_search else None
        if event.X is not None:
            example = copy.deepcopy(_fit.head(event.X))
    cv_results = _search.cv_results_csv(event.estimator) if event.is_search else None
    run_id, config = event.run_id, event.config
    artifacts = _background.run_artifacts(run_id)

    def job() -> list[tuple[str, bytes]]:
        _queue_model_task(run_id, config, artifacts, model, example, cv_results)
        if best is not None:
            _queue_model_task(
                run_id,
                config,
                artifacts,
                best,
                example,
                None,
                artifact_path=BEST_ESTIMATOR_ARTIFACT,
            )
        return []

    # At once, and before the run's other jobs: the helper saves the model on the
    # other core while the script goes on, and the run's end waits for less.
    _background.submit(run_id, job, name="model", first=True)


def on_estimator_used(event: EstimatorUsed) -> None:
    """Write the params and tags of an estimator that the run did not fit itself.

    For ``cross_validate`` and its kin: params, the estimator and version tags,
    and the event's tags; the same in a run of its own or in the user's.
    """
    from mltrail.sklearn.shared import _fit, _runs

    tags = {
        AUTOLOGGING_TAG: "sklearn",
        **_fit.estimator_tags(event.estimator),
        **_model.version_tags(),
        **event.tags,
    }
    _runs.log_batch(event.run_id, params=event.params, tags=tags)


def queue_environment(event: EstimatorUsed) -> None:
    """Queue the package list of a run whose estimator the run did not fit."""
    from mltrail.sklearn.shared import _background

    _background.submit(
        event.run_id,
        lambda: [(PACKAGES_ARTIFACT, _model.packages_text().encode())],
        name="environment",
    )


def _queue_model_task(
    run_id: str,
    config: AutologSettings,
    artifacts: RunArtifacts,
    model: Any,
    example: Any,
    cv_results: str | None,
    artifact_path: str = MODEL_ARTIFACT,
) -> None:
    """On the background thread: create the logged model and give the files away.

    A store that takes the model's id from its caller (SQL) gets the files' task
    first, so the helper writes them on the other core while the logged model's
    record is made here; a server's logged model is made first, as its id names
    the files. The background thread marks it READY (``finish``) once the files
    are written. Only the run's ``model`` is registered under
    ``registered_model_name``. If the record cannot be made, the error becomes
    the job's warning, as before; on a SQL store the files are then written all
    the same, under the id that no record names.
    """
    from mltrail._worker import Task
    from mltrail.models._log import (
        LoggedModelStart,
        choose_model_id,
        file_options,
        finish_logged_model,
        start_logged_model,
    )
    from mltrail.sklearn.shared import _background

    client = _background.client_of(run_id)
    start: LoggedModelStart | None = None

    def finish(error: BaseException | None) -> None:
        # Runs on this thread after this job: ``start`` is set unless it failed.
        if start is None:
            return
        finish_logged_model(start, is_failed=error is not None, client=client)
        name = config.registered_model_name
        if error is None and name is not None and artifact_path == MODEL_ARTIFACT:
            from mltrail.registry._register import register_with_client

            register_with_client(client, f"models:/{start.model_id}", name)

    def give_files_away(options: dict[str, Any]) -> None:
        task = Task(
            run_id,
            artifacts,
            model_files,
            (config, artifacts, model, example, cv_results, options, artifact_path),
            name=artifact_path,
        )
        _background.submit(run_id, task, name=artifact_path, finish=finish)

    model_id = None if model is None else choose_model_id(client)
    if model_id is not None:
        give_files_away(file_options(run_id, artifact_path, model_id))
    if model is not None:
        start = start_logged_model(
            name=artifact_path, run_id=run_id, client=client, model_id=model_id
        )
    if model_id is None:
        give_files_away({} if start is None else start.options)


def model_files(
    config: AutologSettings,
    artifacts: RunArtifacts,
    model: Any,
    example: Any,
    cv_results: str | None,
    options: dict[str, Any],
    artifact_path: str = MODEL_ARTIFACT,
) -> list[tuple[str, bytes]]:
    """Save the model; return the package list and ``cv_results.csv`` to write.

    A task, run by the helper process or the background thread. ``options`` are
    those of the model's logged model (see ``start_logged_model``). A second model
    of the run (``best_estimator``) comes without the package list.
    """
    from mltrail._worker._model import save_model_to_artifacts

    files = []
    if artifact_path == MODEL_ARTIFACT:
        files.append((PACKAGES_ARTIFACT, _model.packages_text().encode()))
    if cv_results is not None:
        files.append((CV_RESULTS_ARTIFACT, cv_results.encode()))
    if model is not None:
        save_model_to_artifacts(
            model,
            artifacts,
            artifact_path,
            **_model.model_options(config, model, example),
            **options,
        )
    return files
