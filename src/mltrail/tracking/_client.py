"""``TrackingClient``: experiments, runs and artifacts addressed by explicit ids.

The client writes synchronously: every method returns once the store has the data,
and errors raise immediately. The fluent API (``start_run``, ``log_metric``, ...) is
built on it.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mltrail import _config
from mltrail._entities import (
    DatasetInput,
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail._errors import InvalidValueError
from mltrail.tracking import _heartbeat, _pending
from mltrail.tracking._buffer import MetricBuffer, check_metric, existing_buffer
from mltrail.tracking._context import (
    RUN_NAME_TAG,
    USER_TAG,
    generate_run_name,
    get_user,
)

if TYPE_CHECKING:
    from mltrail.store._base import ArtifactStore, Store

__all__ = ["TrackingClient"]

# MLflow's integer codes for view types, accepted for compatibility.
_VIEW_TYPE_CODES = {1: ViewType.ACTIVE_ONLY, 2: ViewType.DELETED_ONLY, 3: ViewType.ALL}
_YAML_SUFFIXES = (".yaml", ".yml")


def now_ms() -> int:
    """Return the current time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def to_view_type(value: ViewType | str | int) -> ViewType:
    """Return the ViewType for a ViewType, its name, or MLflow's integer code."""
    if isinstance(value, ViewType):
        return value
    if isinstance(value, int) and value in _VIEW_TYPE_CODES:
        return _VIEW_TYPE_CODES[value]
    if isinstance(value, str) and value.upper() in ViewType.__members__:
        return ViewType[value.upper()]
    raise InvalidValueError(
        "view type",
        value,
        "one of 'ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'",
        "Pass mltrail.ViewType.ALL to include deleted items.",
    )


def to_status(value: RunStatus | str) -> RunStatus:
    """Return the RunStatus named by ``value``, or raise InvalidValueError."""
    try:
        return RunStatus(value)
    except ValueError:
        raise InvalidValueError(
            "run status",
            value,
            "one of " + ", ".join(repr(status.value) for status in RunStatus),
            "Pass 'FINISHED', 'FAILED' or 'KILLED' to end a run.",
        ) from None


class TrackingClient:
    """A client of one tracking store, addressing runs by their ids.

    Parameters
    ----------
    tracking_uri : str or os.PathLike or None, default=None
        Where runs are stored, such as ``"sqlite:///mltrail.db"`` or
        ``"postgresql://user@host/db"``. None uses ``mltrail.get_tracking_uri()``.

    Examples
    --------
    >>> from mltrail import TrackingClient
    >>> client = TrackingClient()
    >>> run = client.create_run("0")
    >>> client.log_metric(run.info.run_id, "loss", 0.25, step=1)
    >>> client.set_terminated(run.info.run_id)
    >>> client.get_run(run.info.run_id).data.metrics
    {'loss': 0.25}
    """

    def __init__(self, tracking_uri: str | os.PathLike[str] | None = None) -> None:
        self._tracking_uri = (
            _config.get_tracking_uri()
            if tracking_uri is None
            else os.fspath(tracking_uri)
        )
        self._opened_store: Store | None = None
        self._artifact_uris: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"TrackingClient(tracking_uri={self._tracking_uri!r})"

    @property
    def tracking_uri(self) -> str:
        """The URI of the store this client writes to."""
        return self._tracking_uri

    @property
    def _store(self) -> Store:
        store = self._opened_store
        if store is None:
            from mltrail.store._open import open_store

            store = self._opened_store = open_store(self._tracking_uri)
        return store

    def _flush_pending(self, run_id: str | None = None) -> None:
        """Finish this process's pending work and buffered points, so reads see them."""
        _pending.wait(run_id)
        buffer = existing_buffer(self._store)
        if buffer is not None and len(buffer):
            buffer.flush()

    # Experiments -------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> str:
        """Create an experiment and return its id.

        Parameters
        ----------
        name : str
            A name no other experiment has.
        artifact_location : str or None, default=None
            Where its runs' artifacts go; None for ``<artifact root>/<id>``.
        tags : mapping or None, default=None
            Experiment tags; values are converted with ``str``.

        Returns
        -------
        str
            The new experiment's id.

        Raises
        ------
        ConflictError
            If an experiment already has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> experiment_id = client.create_experiment("churn", tags={"team": "risk"})
        >>> client.get_experiment(experiment_id).tags
        {'team': 'risk'}
        """
        tag_list = [RunTag(key, str(value)) for key, value in (tags or {}).items()]
        return self._store.create_experiment(
            name, artifact_location=artifact_location, tags=tag_list
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment by id, deleted or not.

        Parameters
        ----------
        experiment_id : str
            The experiment's id; ``"0"`` is Default.

        Returns
        -------
        Experiment
            The experiment.

        Raises
        ------
        NotFoundError
            If no experiment has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> TrackingClient().get_experiment("0").name
        'Default'
        """
        return self._store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return the experiment with this name, or None.

        Parameters
        ----------
        name : str
            The experiment's name.

        Returns
        -------
        Experiment or None
            The experiment, or None if no experiment has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> TrackingClient().get_experiment_by_name("Default").experiment_id
        '0'
        """
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Return one page of experiments.

        Parameters
        ----------
        view_type : ViewType or str or int, default=ViewType.ACTIVE_ONLY
            Which lifecycle stages to include.
        max_results : int, default=1000
            The page size.
        filter_string : str or None, default=None
            A filter such as ``"name LIKE 'churn%'"``.
        order_by : sequence of str or None, default=None
            Such as ``["name ASC"]``.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        PagedList of Experiment
            The experiments, with the token of the next page.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> TrackingClient().search_experiments(order_by=["name"])[0].name
        'Default'
        """
        return self._store.search_experiments(
            view_type=to_view_type(view_type),
            max_results=max_results,
            filter_string=filter_string or "",
            order_by=tuple(order_by or ()),
            page_token=page_token,
        )

    def delete_experiment(self, experiment_id: str) -> None:
        """Move an experiment and its runs to the trash.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.

        Raises
        ------
        NotFoundError
            If no experiment has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> experiment_id = client.create_experiment("old")
        >>> client.delete_experiment(experiment_id)
        >>> client.get_experiment(experiment_id).lifecycle_stage
        'deleted'
        """
        self._store.update_experiment(
            str(experiment_id), lifecycle_stage=LifecycleStage.DELETED.value
        )

    def restore_experiment(self, experiment_id: str) -> None:
        """Take an experiment out of the trash.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.

        Raises
        ------
        NotFoundError
            If no experiment has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> experiment_id = client.create_experiment("archived")
        >>> client.delete_experiment(experiment_id)
        >>> client.restore_experiment(experiment_id)
        >>> client.get_experiment(experiment_id).lifecycle_stage
        'active'
        """
        self._store.update_experiment(
            str(experiment_id), lifecycle_stage=LifecycleStage.ACTIVE.value
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Give an experiment a new name.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.
        new_name : str
            A name no other experiment has.

        Raises
        ------
        ConflictError
            If another experiment has ``new_name``.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> experiment_id = client.create_experiment("draft")
        >>> client.rename_experiment(experiment_id, "final")
        >>> client.get_experiment(experiment_id).name
        'final'
        """
        self._store.update_experiment(str(experiment_id), new_name=new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: object) -> None:
        """Set a tag on an experiment; the value is converted with ``str``.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.
        key : str
            The tag's name.
        value : object
            The tag's value.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> client.set_experiment_tag("0", "team", "risk")
        >>> client.get_experiment("0").tags["team"]
        'risk'
        """
        self._store.update_experiment(
            str(experiment_id), tags=[RunTag(key, str(value))]
        )

    # Runs --------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, object] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run; end it with ``set_terminated``.

        While the run is RUNNING, this process records its heartbeat, so the run
        reads KILLED if the process dies without ending it.

        Parameters
        ----------
        experiment_id : str
            The experiment to create the run in.
        start_time : int or None, default=None
            Milliseconds since the epoch; None for now.
        tags : mapping or None, default=None
            Run tags; values are converted with ``str``. ``mlflow.user`` sets the
            run's user.
        run_name : str or None, default=None
            The run's name; None for a random one such as ``brave-otter-417``.

        Returns
        -------
        Run
            The new run.

        Raises
        ------
        NotFoundError
            If the experiment does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> run = TrackingClient().create_run("0", run_name="baseline")
        >>> run.info.run_name, run.info.status
        ('baseline', 'RUNNING')
        """
        tag_values = {key: str(value) for key, value in (tags or {}).items()}
        name = run_name or tag_values.get(RUN_NAME_TAG) or generate_run_name()
        tag_values[RUN_NAME_TAG] = name
        run = self._store.create_run(
            str(experiment_id),
            user_id=tag_values.get(USER_TAG) or get_user(),
            start_time=now_ms() if start_time is None else start_time,
            run_name=name,
            tags=[RunTag(key, value) for key, value in tag_values.items()],
        )
        self._artifact_uris[run.info.run_id] = run.info.artifact_uri
        _heartbeat.register(self._store, run.info.run_id)
        return run

    def get_run(self, run_id: str) -> Run:
        """Return a run with its params, latest metrics, tags and inputs.

        Parameters
        ----------
        run_id : str
            The run's id.

        Returns
        -------
        Run
            The run as stored now.

        Raises
        ------
        NotFoundError
            If no run has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.get_run(run_id).info.run_id == run_id
        True
        """
        self._flush_pending(run_id)
        return self._store.get_run(run_id)

    def set_terminated(
        self,
        run_id: str,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
    ) -> None:
        """End a run: set its status and end time.

        Parameters
        ----------
        run_id : str
            The run's id.
        status : RunStatus or str or None, default=None
            ``"FINISHED"`` (the default), ``"FAILED"`` or ``"KILLED"``.
        end_time : int or None, default=None
            Milliseconds since the epoch; None for now.

        Raises
        ------
        InvalidValueError
            If ``status`` is not a run status.
        NotFoundError
            If no run has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.set_terminated(run_id, "FAILED")
        >>> client.get_run(run_id).info.status
        'FAILED'
        """
        checked = to_status(status or RunStatus.FINISHED)
        _pending.wait(run_id)
        self._set_status(run_id, checked, end_time, existing_buffer(self._store))

    def _set_status(
        self,
        run_id: str,
        status: RunStatus,
        end_time: int | None,
        buffer: MetricBuffer | None,
    ) -> None:
        """Write ``buffer``'s points and the run's status in one transaction."""
        end_time = now_ms() if end_time is None else end_time
        if buffer is not None and len(buffer):
            buffer.end_run(run_id, status.value, end_time)
        else:
            self._store.update_run_info(run_id, status=status.value, end_time=end_time)
        if status.is_terminated:
            _heartbeat.unregister(self._store, run_id)
        else:
            _heartbeat.register(self._store, run_id)

    def delete_run(self, run_id: str) -> None:
        """Move a run to the trash.

        Parameters
        ----------
        run_id : str
            The run's id.

        Raises
        ------
        NotFoundError
            If no run has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.delete_run(run_id)
        >>> client.get_run(run_id).info.lifecycle_stage
        'deleted'
        """
        self._flush_pending()
        self._store.update_run_info(
            run_id, lifecycle_stage=LifecycleStage.DELETED.value
        )

    def restore_run(self, run_id: str) -> None:
        """Take a run out of the trash.

        Parameters
        ----------
        run_id : str
            The run's id.

        Raises
        ------
        NotFoundError
            If no run has this id.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.delete_run(run_id)
        >>> client.restore_run(run_id)
        >>> client.get_run(run_id).info.lifecycle_stage
        'active'
        """
        self._store.update_run_info(run_id, lifecycle_stage=LifecycleStage.ACTIVE.value)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Return one page of the runs that match a filter.

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments to search.
        filter_string : str, default=""
            MLflow's filter grammar plus ``OR``, ``NOT`` and parentheses, such as
            ``"metrics.acc > 0.9 and params.model = 'rf'"``.
        run_view_type : ViewType or str or int, default=ViewType.ACTIVE_ONLY
            Which lifecycle stages to include.
        max_results : int, default=1000
            The page size.
        order_by : sequence of str or None, default=None
            Such as ``["metrics.acc DESC"]``; missing values sort last.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        PagedList of Run
            The runs, with the token of the next page.

        Raises
        ------
        FilterSyntaxError
            If the filter or an order clause does not parse.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_metric(run_id, "acc", 0.95)
        >>> [r.info.run_id for r in client.search_runs(["0"], "metrics.acc > 0.9")] == [
        ...     run_id]
        True
        """
        self._flush_pending()
        return self._store.search_runs(
            [str(experiment_id) for experiment_id in experiment_ids],
            filter_string=filter_string,
            view_type=to_view_type(run_view_type),
            max_results=max_results,
            order_by=tuple(order_by or ()),
            page_token=page_token,
        )

    # Params, metrics and tags ------------------------------------------------------

    def log_param(self, run_id: str, key: str, value: object) -> object:
        """Log a param; the value is converted with ``str``, as MLflow does.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The param's name.
        value : object
            The param's value.

        Returns
        -------
        object
            ``value``, unchanged.

        Raises
        ------
        ConflictError
            If the run already has this param with another value.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_param(run_id, "C", 1.0)
        1.0
        >>> client.get_run(run_id).data.params
        {'C': '1.0'}
        """
        self._store.log_batch(run_id, params=[Param(key, str(value))])
        return value

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
    ) -> None:
        """Log one metric point, synchronously.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The metric's name: any non-empty text up to 1,000 characters.
        value : float
            A real number; NaN and infinities are kept.
        timestamp : int or None, default=None
            Milliseconds since the epoch; None for now.
        step : int or None, default=None
            The step, such as the epoch; None for 0.

        Raises
        ------
        InvalidValueError
            If the key, value, timestamp or step is invalid.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_metric(run_id, "loss", float("nan"), step=2)
        >>> client.get_metric_history(run_id, "loss")[0].step
        2
        """
        metric = check_metric(key, value, step, timestamp)
        self._store.log_batch(run_id, metrics=[metric])

    def set_tag(self, run_id: str, key: str, value: object) -> None:
        """Set a tag on a run; the value is converted with ``str``.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The tag's name.
        value : object
            The tag's value.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.set_tag(run_id, "team", "risk")
        >>> client.get_run(run_id).data.tags["team"]
        'risk'
        """
        self._store.log_batch(run_id, tags=[RunTag(key, str(value))])

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from a run.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The tag's name.

        Raises
        ------
        NotFoundError
            If the run has no such tag.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.set_tag(run_id, "team", "risk")
        >>> client.delete_tag(run_id, "team")
        >>> "team" in client.get_run(run_id).data.tags
        False
        """
        self._store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log metrics, params and tags at once: all of them or, on error, none.

        Parameters
        ----------
        run_id : str
            The run's id.
        metrics : sequence of Metric, default=()
            Metric points.
        params : sequence of Param, default=()
            Params.
        tags : sequence of RunTag, default=()
            Tags.

        Raises
        ------
        InvalidValueError
            If any item is invalid; nothing is written.
        ConflictError
            If a param already has another value; nothing is written.

        Examples
        --------
        >>> from mltrail import Metric, Param, TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_batch(run_id, metrics=[Metric("acc", 0.9, 1700000000000, 0)],
        ...                  params=[Param("C", "1.0")])
        >>> client.get_run(run_id).data.metrics
        {'acc': 0.9}
        """
        self._store.log_batch(
            run_id, metrics=list(metrics), params=list(params), tags=list(tags)
        )

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, ordered by step, then timestamp.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The metric's name.

        Returns
        -------
        list of Metric
            The points; empty if the run has no such metric.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> for step in range(3):
        ...     client.log_metric(run_id, "loss", 1 / (step + 1), step=step)
        >>> [m.value for m in client.get_metric_history(run_id, "loss")]
        [1.0, 0.5, 0.3333333333333333]
        """
        self._flush_pending(run_id)
        return self._store.get_metric_history(run_id, key)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets as inputs of a run; repeats are ignored.

        Parameters
        ----------
        run_id : str
            The run's id.
        datasets : sequence of DatasetInput
            The datasets and the tags of their use, such as their context.

        Examples
        --------
        >>> from mltrail import Dataset, DatasetInput, InputTag, TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> dataset = Dataset("train", "ab12", "code", "{}")
        >>> context = InputTag("mlflow.data.context", "train")
        >>> client.log_inputs(run_id, [DatasetInput(dataset, [context])])
        >>> client.get_run(run_id).inputs.dataset_inputs[0].dataset.name
        'train'
        """
        self._store.log_inputs(run_id, list(datasets))

    # Artifacts ---------------------------------------------------------------------

    def _artifacts(self, run_id: str) -> tuple[ArtifactStore, str]:
        from mltrail.store._artifacts import open_artifact_store

        uri = self._artifact_uris.get(run_id)
        if uri is None:
            uri = self._artifact_uris[run_id] = self._store.get_run(
                run_id
            ).info.artifact_uri
        return open_artifact_store(uri), uri

    def log_artifact(
        self,
        run_id: str,
        local_path: str | os.PathLike[str],
        artifact_path: str | None = None,
    ) -> None:
        """Copy a local file into the run's artifacts.

        Parameters
        ----------
        run_id : str
            The run's id.
        local_path : str or os.PathLike
            The file to copy.
        artifact_path : str or None, default=None
            The run-relative directory to put it in; None for the root.

        Raises
        ------
        NotFoundError
            If ``local_path`` is not an existing file.
        InvalidValueError
            If ``artifact_path`` would leave the run's artifact directory.

        Examples
        --------
        >>> from pathlib import Path
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> _ = Path("notes.txt").write_text("hello")
        >>> client.log_artifact(run_id, "notes.txt", artifact_path="docs")
        >>> [f.path for f in client.list_artifacts(run_id, "docs")]
        ['docs/notes.txt']
        """
        store, uri = self._artifacts(run_id)
        store.log_file(uri, Path(local_path), artifact_path)

    def log_artifacts(
        self,
        run_id: str,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None = None,
    ) -> None:
        """Copy a local directory's contents into the run's artifacts.

        Parameters
        ----------
        run_id : str
            The run's id.
        local_dir : str or os.PathLike
            The directory whose contents are copied.
        artifact_path : str or None, default=None
            The run-relative directory to put them in; None for the root.

        Raises
        ------
        NotFoundError
            If ``local_dir`` is not an existing directory.
        InvalidValueError
            If ``artifact_path`` would leave the run's artifact directory.

        Examples
        --------
        >>> from pathlib import Path
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> Path("out").mkdir()
        >>> _ = Path("out/a.txt").write_text("a")
        >>> client.log_artifacts(run_id, "out", artifact_path="results")
        >>> [f.path for f in client.list_artifacts(run_id, "results")]
        ['results/a.txt']
        """
        store, uri = self._artifacts(run_id)
        store.log_dir(uri, Path(local_dir), artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Write text, UTF-8 encoded, to a file of the run's artifacts.

        Parameters
        ----------
        run_id : str
            The run's id.
        text : str
            The content.
        artifact_file : str
            The run-relative file path, such as ``"notes/summary.txt"``.

        Raises
        ------
        InvalidValueError
            If ``artifact_file`` is empty or would leave the run's artifact directory.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_text(run_id, "all good", "summary.txt")
        >>> [f.path for f in client.list_artifacts(run_id)]
        ['summary.txt']
        """
        store, uri = self._artifacts(run_id)
        store.write_bytes(uri, artifact_file, text.encode("utf-8"))

    def log_dict(self, run_id: str, dictionary: object, artifact_file: str) -> None:
        """Write a dict to the run's artifacts as YAML (``.yaml``, ``.yml``) or JSON.

        Parameters
        ----------
        run_id : str
            The run's id.
        dictionary : object
            A JSON-serializable value, usually a dict.
        artifact_file : str
            The run-relative file path; its suffix picks the format.

        Raises
        ------
        InvalidValueError
            If ``dictionary`` cannot be serialized, or ``artifact_file`` is unsafe.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_dict(run_id, {"classes": [0, 1]}, "meta/classes.yaml")
        >>> [f.path for f in client.list_artifacts(run_id, "meta")]
        ['meta/classes.yaml']
        """
        import json

        store, uri = self._artifacts(run_id)
        try:
            if artifact_file.lower().endswith(_YAML_SUFFIXES):
                import yaml

                text = yaml.safe_dump(dictionary, default_flow_style=False)
            else:
                text = json.dumps(dictionary, indent=2)
        except (TypeError, ValueError) as error:
            raise InvalidValueError(
                "dictionary",
                dictionary,
                "a value made of dicts, lists, str, numbers, bools and None",
                f"Convert other objects first ({error}).",
            ) from error
        store.write_bytes(uri, artifact_file, text.encode("utf-8"))

    def log_figure(self, run_id: str, figure: object, artifact_file: str) -> None:
        """Save a matplotlib figure to the run's artifacts, in the suffix's format.

        The figure is saved with its own ``savefig``; pyplot is never imported.

        Parameters
        ----------
        run_id : str
            The run's id.
        figure : matplotlib.figure.Figure
            The figure.
        artifact_file : str
            The run-relative file path, such as ``"plots/roc.png"``.

        Raises
        ------
        InvalidValueError
            If ``figure`` has no ``savefig``, or the suffix is not an image format.

        Examples
        --------
        >>> from matplotlib.figure import Figure
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> figure = Figure()
        >>> _ = figure.subplots().plot([0, 1], [1, 0])
        >>> client.log_figure(run_id, figure, "plots/line.png")
        >>> [f.path for f in client.list_artifacts(run_id, "plots")]
        ['plots/line.png']
        """
        savefig = getattr(figure, "savefig", None)
        if not callable(savefig):
            raise InvalidValueError(
                "figure",
                figure,
                "a matplotlib Figure",
                "Pass the Figure (fig from fig, ax = plt.subplots()), not an Axes.",
            )
        suffix = PurePosixPath(artifact_file).suffix.lstrip(".").lower()
        data = io.BytesIO()
        try:
            savefig(data, format=suffix or None)
        except ValueError as error:
            raise InvalidValueError(
                "figure file",
                artifact_file,
                "a name ending in an image format such as .png, .svg or .pdf",
                str(error),
            ) from error
        store, uri = self._artifacts(run_id)
        store.write_bytes(uri, artifact_file, data.getvalue())

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """List one directory level of the run's artifacts.

        Parameters
        ----------
        run_id : str
            The run's id.
        path : str or None, default=None
            The run-relative directory; None for the root.

        Returns
        -------
        list of FileInfo
            Files and directories with run-relative paths, sorted.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_text(run_id, "x", "a/b.txt")
        >>> client.list_artifacts(run_id)
        [FileInfo(path='a', is_dir=True, file_size=None)]
        """
        _pending.wait(run_id)
        store, uri = self._artifacts(run_id)
        return store.list(uri, path)

    def download_artifacts(
        self, run_id: str, path: str, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy an artifact file or directory to the local disk.

        Parameters
        ----------
        run_id : str
            The run's id.
        path : str
            The run-relative path; ``""`` for all of the run's artifacts.
        dst_path : str or os.PathLike or None, default=None
            The local directory to copy into; None for a new temporary directory.

        Returns
        -------
        str
            The local path of the copy.

        Raises
        ------
        NotFoundError
            If the run has no artifact at ``path``.

        Examples
        --------
        >>> from pathlib import Path
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> run_id = client.create_run("0").info.run_id
        >>> client.log_text(run_id, "hello", "notes/a.txt")
        >>> Path(client.download_artifacts(run_id, "notes/a.txt", "copy")).read_text()
        'hello'
        """
        import tempfile

        _pending.wait(run_id)
        store, uri = self._artifacts(run_id)
        target = Path(tempfile.mkdtemp() if dst_path is None else dst_path)
        return str(store.download(uri, path, target))
