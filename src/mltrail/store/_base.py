"""The storage protocols: ``Store`` for runs and ``ArtifactStore`` for their files.

Everything above the store talks to these two protocols only. Implementations raise
only ``mltrail`` errors (``NotFoundError``, ``InvalidValueError``, ``ConflictError``,
``StoreError``); driver exceptions never escape them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mltrail._entities import (
    DatasetInput,
    Experiment,
    FileInfo,
    LoggedModel,
    LoggedModelMetric,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)

__all__ = [
    "ArtifactStore",
    "DeletableArtifactStore",
    "FilesInTurn",
    "PurgeableStore",
    "PurgedExperiments",
    "Store",
]


class Store(Protocol):
    """Persistence of experiments, runs, params, metrics, tags and dataset inputs.

    Ids are strings: experiment ids are decimal integers (``"0"`` is Default) and run
    ids are 32-character uuid4 hex. Times are milliseconds since the epoch.
    """

    #: Where experiments created without a location keep their runs' files, as
    #: ``<artifact_root>/<experiment_id>``; artifact paths are checked from it down.
    artifact_root: str

    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: Sequence[RunTag] = (),
    ) -> str:
        """Create an experiment and return its id; a taken name is a ConflictError."""
        ...

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return the experiment, deleted or not; NotFoundError if absent."""
        ...

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return the experiment with this name, or None."""
        ...

    def search_experiments(
        self,
        *,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Return experiments, ordered by ``order_by`` then by id."""
        ...

    def update_experiment(
        self,
        experiment_id: str,
        *,
        new_name: str | None = None,
        lifecycle_stage: str | None = None,
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Rename, delete or restore an experiment (``lifecycle_stage``), or tag it."""
        ...

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment; NotFoundError if it has no such tag."""
        ...

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int,
        run_name: str,
        tags: Sequence[RunTag] = (),
        heartbeat_time: int | None = None,
    ) -> Run:
        """Create a RUNNING run and return it; ``run_name`` is also the runName tag.

        A ``heartbeat_time`` says the creating process sends heartbeats: the run
        reads KILLED if none follows within the heartbeat timeout. Without one (as
        from MLflow's clients) the run stays RUNNING until it is ended.
        """
        ...

    def get_run(self, run_id: str) -> Run:
        """Return the run with its latest metrics, params, tags and inputs."""
        ...

    def update_run_info(
        self,
        run_id: str,
        *,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
        lifecycle_stage: str | None = None,
        metric_batches: Sequence[tuple[str, Sequence[Metric]]] = (),
        heartbeat_time: int | None = None,
    ) -> RunInfo:
        """Change the status, end time, name or lifecycle stage of a run.

        A terminal status stops the heartbeat expiry of the run for good; a
        ``heartbeat_time`` (with status RUNNING, to resume a run) starts it again.

        ``metric_batches`` (pairs of a run id and its points, as for
        ``log_metric_batches``) are written in the same transaction, first, so that
        ending a run with its buffered points is one atomic write.
        """
        ...

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Write all items or none; a changed param value is a ConflictError."""
        ...

    def log_metric_batches(
        self, batches: Sequence[tuple[str, Sequence[Metric]]]
    ) -> None:
        """Write metric points of several runs in one transaction (the write buffer)."""
        ...

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from a run; NotFoundError if it has no such tag."""
        ...

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, ordered by step, then timestamp."""
        ...

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets as inputs of the run; repeats are ignored."""
        ...

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str = "",
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Return runs matching the filter, ordered and paged stably."""
        ...

    def create_logged_model(
        self,
        experiment_id: str,
        *,
        name: str,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        artifact_location: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model; files go to ``.../models/<id>/artifacts``.

        ``artifact_location`` names another place for its files, such as the
        ``model`` folder of its run (stores that cannot record one ignore it).
        """
        ...

    def get_logged_model(
        self, model_id: str, *, allow_deleted: bool = False
    ) -> LoggedModel:
        """Return a logged model with its params, tags and metrics."""
        ...

    def finalize_logged_model(
        self, model_id: str, status: str, *, status_message: str | None = None
    ) -> LoggedModel:
        """Set a logged model's status (READY or FAILED) and return it."""
        ...

    def set_logged_model_tags(self, model_id: str, tags: Sequence[RunTag]) -> None:
        """Set tags on a logged model."""
        ...

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag from a logged model."""
        ...

    def log_logged_model_params(self, model_id: str, params: Sequence[Param]) -> None:
        """Add params to a logged model."""
        ...

    def log_logged_model_metrics(
        self, model_id: str, metrics: Sequence[LoggedModelMetric]
    ) -> None:
        """Record metric points of a logged model, with their run and dataset."""
        ...

    def delete_logged_model(self, model_id: str) -> None:
        """Move a logged model to the trash."""
        ...

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str = "",
        datasets: Sequence[Mapping[str, str]] = (),
        max_results: int = 100,
        order_by: Sequence[Mapping[str, Any]] = (),
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """Return active logged models of experiments that match a filter."""
        ...

    def log_model_outputs(
        self, run_id: str, outputs: Sequence[tuple[str, int]]
    ) -> None:
        """Record ``(model_id, step)`` pairs as outputs of a run."""
        ...

    def log_model_inputs(self, run_id: str, model_ids: Sequence[str]) -> None:
        """Record logged models as inputs of a run."""
        ...

    def get_run_models(self, run_id: str) -> tuple[list[str], list[tuple[str, int]]]:
        """Return a run's model inputs (ids) and outputs (id, step)."""
        ...

    def touch_heartbeat(self, run_ids: Sequence[str], time: int) -> None:
        """Record that the process owning these runs is alive at ``time``.

        A run that was marked KILLED because its heartbeat had stopped (a process
        stopped with SIGSTOP, or a host that slept) is RUNNING again.
        """
        ...

    def close(self) -> None:
        """Release connections and file handles."""
        ...


@dataclass(frozen=True, slots=True)
class PurgedExperiments:
    """What purging experiments removed: their runs, and their logged models' files.

    Parameters
    ----------
    runs : list of RunInfo
        The runs purged with the experiments, as they were.
    model_artifact_uris : list of str
        The artifact locations of the logged models purged with them.
    """

    runs: list[RunInfo]
    model_artifact_uris: list[str]


@runtime_checkable
class PurgeableStore(Protocol):
    """A store that can remove deleted runs and experiments for good (``gc``).

    Optional: a store without these methods (one behind MLflow's REST API, which
    has no purge) is purged through its database instead.
    """

    def list_deleted_runs(self, *, deleted_before: int | None = None) -> list[RunInfo]:
        """Return the deleted runs, those deleted at or before a time if given."""
        ...

    def purge_runs(self, run_ids: Sequence[str]) -> list[RunInfo]:
        """Remove deleted runs and their rows; all or none; return them as they were."""
        ...

    def purge_experiments(self, experiment_ids: Sequence[str]) -> PurgedExperiments:
        """Remove deleted experiments with their runs and logged models."""
        ...


@runtime_checkable
class DeletableArtifactStore(Protocol):
    """An artifact store that can remove a run's files (``gc``); optional too."""

    def delete_run_artifacts(self, artifact_uri: str) -> None:
        """Remove every file of the run at ``artifact_uri``; none there is fine."""
        ...


class FilesInTurn:
    """``write_files`` for an artifact store with no cheaper way than one by one."""

    def write_bytes(self, artifact_uri: str, path: str, data: bytes) -> None:
        raise NotImplementedError

    def write_files(
        self, artifact_uri: str, files: Sequence[tuple[str, bytes]]
    ) -> None:
        """Write ``(path, content)`` pairs with ``write_bytes``, in order."""
        for path, data in files:
            self.write_bytes(artifact_uri, path, data)


class ArtifactStore(Protocol):
    """Files of runs, addressed by a run-relative ``artifact_uri`` and a relative path.

    ``artifact_uri`` is a run's ``info.artifact_uri``. Relative paths use ``/``; every
    path is resolved by one function that refuses to leave the artifact root.
    """

    def log_file(
        self, artifact_uri: str, local_path: Path, artifact_path: str | None = None
    ) -> None:
        """Copy one local file under ``artifact_path`` (a directory) of the run."""
        ...

    def log_dir(
        self, artifact_uri: str, local_dir: Path, artifact_path: str | None = None
    ) -> None:
        """Copy a local directory's contents under ``artifact_path`` of the run."""
        ...

    def write_bytes(self, artifact_uri: str, path: str, data: bytes) -> None:
        """Write ``data`` to the file at ``path`` (a file path) of the run."""
        ...

    def write_files(
        self, artifact_uri: str, files: Sequence[tuple[str, bytes]]
    ) -> None:
        """Write ``(path, content)`` pairs, as ``write_bytes`` would one by one."""
        ...

    def list(self, artifact_uri: str, path: str | None = None) -> list[FileInfo]:
        """List one directory level; paths in the result are run-relative."""
        ...

    def download(self, artifact_uri: str, path: str, dst_path: Path) -> Path:
        """Copy a file or directory into ``dst_path`` and return the local path."""
        ...

    def read_bytes(self, artifact_uri: str, path: str) -> bytes:
        """Return the content of one file."""
        ...

    def write_stream(
        self, artifact_uri: str, path: str, chunks: Iterable[bytes]
    ) -> int:
        """Write the file at ``path`` from ``chunks`` (any size); return its size."""
        ...

    def open_stream(
        self, artifact_uri: str, path: str, chunk_size: int = 1024 * 1024
    ) -> tuple[int, Iterator[bytes]]:
        """Return the size of one file and an iterator over its content."""
        ...

    def delete(self, artifact_uri: str, path: str) -> None:
        """Delete a file, or a folder with everything in it; NotFoundError if none."""
        ...
