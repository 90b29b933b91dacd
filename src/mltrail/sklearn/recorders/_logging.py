"""Everything a finished top-level fit writes to its run, in few store calls.

Each step that fails adds one line to ``problems`` (the caller warns once) and leaves
the others to run: a broken metric never costs the model, nor the model the params.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mltrail._system_tags import (
    AUTOLOGGING_TAG,
    BEST_CHILD_RUN_ID_TAG,
)
from mltrail.sklearn.shared import _model

if TYPE_CHECKING:
    from mltrail._worker import RunArtifacts
    from mltrail.sklearn.shared._fit_outputs import FitOutputs
    from mltrail.sklearn.shared._state import AutologSettings

__all__ = [
    "FitCall",
    "FitLog",
    "model_files",
    "record_estimator",
]

PACKAGES_ARTIFACT = _model.PACKAGES_ARTIFACT
MODEL_ARTIFACT = _model.MODEL_ARTIFACT
BEST_ESTIMATOR_ARTIFACT = "best_estimator"
CV_RESULTS_ARTIFACT = "cv_results.csv"


@dataclass(frozen=True, slots=True)
class FitCall:
    """The arguments and outcome of one fit call."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any
    duration: float
    # What the fit left of its own predictions on X (see _fit_outputs), if watched.
    outputs: FitOutputs | None = None


class FitLog:
    """What one finished fit writes to its run; ``problems`` collects failures."""

    def __init__(
        self,
        run_id: str,
        config: AutologSettings,
        estimator: Any,
        call: FitCall,
        params: dict[str, str],
        problems: list[str],
    ) -> None:
        from mltrail.sklearn.shared import _fit, _search, _state

        self.run_id = run_id
        self.config = config
        self.estimator = estimator
        self.call = call
        self.problems = problems
        self.X, self.y, self.sample_weight = _fit.fit_arguments(
            call.function, call.args, call.kwargs
        )
        self.params = dict(params)
        self.metrics: dict[str, float] = {_state.DURATION_METRIC: call.duration}
        self.tags = {
            AUTOLOGGING_TAG: "sklearn",
            **_fit.estimator_tags(estimator),
            **_model.version_tags(),
        }
        # Training predictions, made once by the metrics step: y_pred, y_score.
        self.predictions: dict[str, Any] = {}
        self.is_search = _search.is_search(estimator)
        self.model = (
            getattr(estimator, "best_estimator_", None) if self.is_search else estimator
        )

    def step(self, name: str, action: Callable[[], None]) -> None:
        """Run one logging step; a failure becomes a line of ``problems``."""
        try:
            action()
        except Exception as exc:  # autolog must never break the user's fit
            self.problems.append(f"{name}: {type(exc).__name__}: {exc}")

    def write(self) -> None:
        """Write the cheap parts now; queue the model and files for the worker."""
        from mltrail.sklearn.recorders import _extras

        self.step("training metrics", self._add_metrics)
        if self.is_search:
            self.step("search child runs", self._add_search)
        self.step("params, metrics and tags", self._log_batch)
        self.problems.extend(
            _extras.on_fit_end(
                self.run_id,
                self.estimator,
                self.X,
                self.y,
                self.config,
                sample_weight=self.sample_weight,
                y_pred=self.predictions.get("y_pred"),
                y_score=self.predictions.get("y_score"),
            )
        )
        self.step("held-out tracking", self._track_model)
        self.step("preprocessing", self._record_preprocessing)
        self.step("files", self._queue_files)

    def _record_preprocessing(self) -> None:
        """Record the standalone transformers that X went through, if any."""
        from mltrail.sklearn.recorders import _preprocessing

        _preprocessing.on_model_fit(self.run_id, self.X, self.config)

    def _track_model(self) -> None:
        """Let predictions of this model on held-out data log their metrics."""
        from mltrail.sklearn.shared import _models

        _models.on_fit_end(self.estimator, self.run_id, self.X, self.y)

    def _queue_files(self) -> None:
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
        if self.config.log_models and self.model is not None:
            model = _snapshot.snapshot(self.estimator)
            best = getattr(model, "best_estimator_", None) if self.is_search else None
            if self.X is not None:
                example = copy.deepcopy(_fit.head(self.X))
        cv_results = _search.cv_results_csv(self.estimator) if self.is_search else None
        run_id, config = self.run_id, self.config
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

        _background.submit(run_id, job, name="model")

    def _add_metrics(self) -> None:
        from mltrail.sklearn.recorders import _training

        if self.is_search and self.model is None:
            return  # refit=False: nothing can predict
        self.metrics.update(
            _training.training_metrics(
                self.estimator,
                self.X,
                self.y,
                self.sample_weight,
                pos_label=self.config.pos_label,
                fit_result=self.call.result,
                predictions=self.predictions,
                fit_outputs=self.call.outputs,
            )
        )

    def _add_search(self) -> None:
        from mltrail.sklearn.shared import _fit, _runs, _search

        search = self.estimator
        self.params.update(_search.best_params(search))
        best_score = getattr(search, "best_score_", None)
        if best_score is not None:
            self.metrics["best_cv_score"] = float(best_score)
        rows = _search.candidate_order(search, self.config.max_tuning_runs)
        best_row = getattr(search, "best_index_", None)
        child_ids = _runs.log_child_runs(
            self.run_id,
            _search.candidates(search, rows),
            tags={
                AUTOLOGGING_TAG: "sklearn",
                **_fit.estimator_tags(search.estimator),
                **self.config.extra_tags,
            },
            best_row=best_row,
        )
        if child_ids and rows[0] == best_row:
            self.tags[BEST_CHILD_RUN_ID_TAG] = child_ids[0]

    def _log_batch(self) -> None:
        from mltrail.sklearn.shared import _runs

        _runs.log_batch(self.run_id, self.params, self.metrics, self.tags)


def record_estimator(
    run_id: str,
    config: AutologSettings,
    estimator: Any,
    params: dict[str, str],
    X: Any,
    y: Any,
    tags: dict[str, str],
) -> list[str]:
    """Write what a run records of an estimator it did not fit itself.

    For ``cross_validate`` and its kin: params, the estimator and version tags,
    code, git and author tags, the environment, the pipeline and the training data
    as a run input; the same in a run of its own or in the user's. Returns the
    problems met, one line each.
    """
    import dataclasses

    from mltrail.sklearn.recorders import _code, _extras
    from mltrail.sklearn.shared import _background, _fit, _runs

    problems = _code.on_run_start(run_id, config)
    all_tags = {
        AUTOLOGGING_TAG: "sklearn",
        **_fit.estimator_tags(estimator),
        **_model.version_tags(),
        **tags,
    }
    try:
        _runs.log_batch(run_id, params=params, tags=all_tags)
    except Exception as exc:  # autolog must never break the user's call
        problems.append(f"params and tags: {type(exc).__name__}: {exc}")
    # Nothing is fitted: no iteration curves, no training plots.
    unfitted = dataclasses.replace(config, log_iterations=False, log_plots=False)
    problems.extend(_extras.on_fit_end(run_id, estimator, X, y, unfitted))
    try:
        _background.submit(
            run_id,
            lambda: [(PACKAGES_ARTIFACT, _model.packages_text().encode())],
            name="environment",
        )
    except Exception as exc:  # autolog must never break the user's call
        problems.append(f"environment: {type(exc).__name__}: {exc}")
    return problems


def _queue_model_task(
    run_id: str,
    config: AutologSettings,
    artifacts: RunArtifacts,
    model: Any,
    example: Any,
    cv_results: str | None,
    artifact_path: str = MODEL_ARTIFACT,
) -> None:
    """On the background thread: create the logged model, then give the files away.

    Only the run's ``model`` is registered under ``registered_model_name``.
    """
    from mltrail._worker import Task
    from mltrail.models._log import finish_logged_model, start_logged_model
    from mltrail.sklearn.shared import _background

    client = _background.client_of(run_id)
    start = None
    if model is not None:
        start = start_logged_model(name=artifact_path, run_id=run_id, client=client)

    def finish(error: BaseException | None) -> None:
        if start is None:
            return
        finish_logged_model(start, is_failed=error is not None, client=client)
        name = config.registered_model_name
        if error is None and name is not None and artifact_path == MODEL_ARTIFACT:
            from mltrail.registry._register import register_with_client

            register_with_client(client, f"models:/{start.model_id}", name)

    options = {} if start is None else start.options
    task = Task(
        run_id,
        artifacts,
        model_files,
        (config, artifacts, model, example, cv_results, options, artifact_path),
        name=artifact_path,
    )
    _background.submit(run_id, task, name=artifact_path, finish=finish)


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
