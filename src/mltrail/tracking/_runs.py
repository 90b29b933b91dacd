"""The active run: starting and ending runs, the active experiment and tracking URI.

Active runs live on a stack in a ``contextvars.ContextVar``. Each thread starts with an
empty stack (a new thread runs in a new, empty context), each asyncio task sees a
copy of its creator's stack, and ``contextvars.copy_context().run`` carries a stack
into another thread. The active experiment, like MLflow's, is one per process.

Runs the fluent API started and nobody ended are ended FINISHED at interpreter exit,
after the metric buffer is flushed; those of every thread count.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
import traceback
import warnings
from collections.abc import Mapping
from types import TracebackType

from mltrail import _config
from mltrail._entities import Experiment, LifecycleStage, Run, RunStatus, RunTag
from mltrail._errors import (
    ConflictError,
    InvalidValueError,
    MltrailError,
    MltrailWarning,
)
from mltrail._system_tags import (
    ERROR_MESSAGE_TAG,
    ERROR_TRACEBACK_TAG,
    ERROR_TYPE_TAG,
    NOTE_TAG,
    PARENT_RUN_ID_TAG,
)
from mltrail.tracking import _heartbeat, _pending
from mltrail.tracking._buffer import MetricBuffer, buffer_for, flush_all
from mltrail.tracking._client import TrackingClient
from mltrail.tracking._client_base import now_ms, to_mapping, to_status
from mltrail.tracking._context import system_tags
from mltrail.tracking._exit import at_exit

__all__ = [
    "ActiveRun",
    "active_run",
    "current_client",
    "end_run",
    "get_tracking_uri",
    "last_active_run",
    "set_experiment",
    "set_tracking_uri",
    "start_run",
]

RUN_ID_VARIABLES = ("MLTRAIL_RUN_ID", "MLFLOW_RUN_ID")
# Generous: a deep traceback fits whole, and a runaway one cannot flood the store.
MAX_ERROR_TEXT = 100_000


class ActiveRun(Run):
    """A run started by ``start_run``: a ``Run`` that is also a context manager.

    ``info`` and ``data`` are as they were when the run started; call
    ``mltrail.get_run(run.info.run_id)`` for the current values. Leaving the ``with``
    block ends the run FINISHED, FAILED if an exception escapes (the run records its
    type, message and traceback), or KILLED on ``KeyboardInterrupt``.

    Parameters
    ----------
    run : Run
        The run as created or resumed.
    client : TrackingClient
        The client of the run's store.
    buffer : MetricBuffer
        The metric buffer of that store.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run(run_name="demo") as run:
    ...     mltrail.log_metric("loss", 0.5)
    >>> mltrail.get_run(run.info.run_id).info.status
    'FINISHED'
    """

    __slots__ = ("_buffer", "_client", "_run_id")

    _buffer: MetricBuffer
    _client: TrackingClient
    _run_id: str

    def __init__(self, run: Run, client: TrackingClient, buffer: MetricBuffer) -> None:
        super().__init__(run.info, run.data, run.inputs)
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_buffer", buffer)
        object.__setattr__(self, "_run_id", run.info.run_id)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack = _stack.get()
        if not any(run._run_id == self._run_id for run in stack):
            return  # ended already, by end_run
        if exc is None or (isinstance(exc, SystemExit) and exc.code in (0, None)):
            status = RunStatus.FINISHED
        elif isinstance(exc, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        while _stack.get()[-1]._run_id != self._run_id:
            end_run(status)  # nested runs left open end with their parent
        try:
            if status is RunStatus.FAILED and exc is not None:
                self._client.log_batch(
                    self._run_id, tags=_error_tags(exc_type, exc, tb)
                )
        finally:
            end_run(status)


def _error_tags(
    exc_type: type[BaseException] | None,
    exc: BaseException,
    tb: TracebackType | None,
) -> list[RunTag]:
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    if len(text) > MAX_ERROR_TEXT:
        text = "...\n" + text[-MAX_ERROR_TEXT:]
    error_type = type(exc)
    return [
        RunTag(ERROR_TYPE_TAG, f"{error_type.__module__}.{error_type.__qualname__}"),
        RunTag(ERROR_MESSAGE_TAG, str(exc)[:MAX_ERROR_TEXT]),
        RunTag(ERROR_TRACEBACK_TAG, text),
    ]


_stack: contextvars.ContextVar[tuple[ActiveRun, ...]] = contextvars.ContextVar(
    "mltrail_active_runs", default=()
)
_last_run: contextvars.ContextVar[tuple[TrackingClient, str] | None] = (
    contextvars.ContextVar("mltrail_last_active_run", default=None)
)
_lock = threading.Lock()
_clients: dict[tuple[str, str], TrackingClient] = {}
_open_runs: dict[str, ActiveRun] = {}
# Whether start_run(log_system_metrics=True) has warned in this process.
_warned_system_metrics = False
# The client is per URI and working directory, so a relative SQLite path that now
# means another file does not inherit the experiment.
_active_experiment: tuple[TrackingClient, str] | None = None


def current_client() -> TrackingClient:
    """Return the client of the current tracking URI (one per URI and directory)."""
    uri = _config.get_tracking_uri()
    # A relative SQLite path means another file once the working directory changes.
    key = (uri, os.getcwd())
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.setdefault(key, TrackingClient(uri))
    return client


def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Set where this process stores runs; the active experiment is forgotten.

    Parameters
    ----------
    uri : str or os.PathLike
        ``sqlite:///path.db``, ``postgresql://...``, ``mysql://...`` or an
        ``http(s)://`` server.

    Examples
    --------
    >>> import mltrail
    >>> mltrail.set_tracking_uri("sqlite:///other.db")
    >>> mltrail.get_tracking_uri()
    'sqlite:///other.db'
    """
    global _active_experiment
    _config.set_tracking_uri(uri)
    _active_experiment = None


def get_tracking_uri() -> str:
    """Return where this process stores runs.

    Returns
    -------
    str
        The URI set by ``set_tracking_uri``, else ``MLTRAIL_TRACKING_URI`` (or
        ``MLFLOW_TRACKING_URI``), else ``sqlite:///mltrail.db``.

    Examples
    --------
    >>> import mltrail
    >>> mltrail.get_tracking_uri()
    'sqlite:///mltrail.db'
    """
    return _config.get_tracking_uri()


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment the active one, creating it by name if it does not exist.

    Parameters
    ----------
    experiment_name : str or None, default=None
        The experiment's name.
    experiment_id : str or None, default=None
        The experiment's id, instead of its name.

    Returns
    -------
    Experiment
        The active experiment.

    Raises
    ------
    InvalidValueError
        If neither or both are given, or the experiment is deleted.
    NotFoundError
        If no experiment has ``experiment_id``.

    Examples
    --------
    >>> import mltrail
    >>> experiment = mltrail.set_experiment("churn")
    >>> with mltrail.start_run() as run:
    ...     pass
    >>> run.info.experiment_id == experiment.experiment_id
    True
    """
    global _active_experiment
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidValueError(
            "set_experiment arguments",
            {"experiment_name": experiment_name, "experiment_id": experiment_id},
            "exactly one of experiment_name and experiment_id",
            "Pass set_experiment('my experiment').",
        )
    client = current_client()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        experiment = _get_or_create_experiment(client, str(experiment_name))
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidValueError(
            "experiment",
            experiment.name,
            "an active experiment",
            "It is deleted; restore it with TrackingClient().restore_experiment"
            "(experiment_id), or choose another name.",
        )
    _active_experiment = (client, experiment.experiment_id)
    return experiment


def _get_or_create_experiment(client: TrackingClient, name: str) -> Experiment:
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.get_experiment(client.create_experiment(name))
        except ConflictError:  # another process created it meanwhile
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
    return experiment


def active_experiment_id(client: TrackingClient) -> str:
    """Return the id of the active experiment, else the environment's, else ``"0"``."""
    if _active_experiment is not None and _active_experiment[0] is client:
        return _active_experiment[1]
    name, experiment_id = _config.get_experiment_from_environment()
    if name:
        return _get_or_create_experiment(client, name).experiment_id
    return experiment_id or "0"


def active_run() -> ActiveRun | None:
    """Return the run that ``log_*`` calls log to in this context, or None.

    Returns
    -------
    ActiveRun or None
        The innermost run started and not yet ended in this thread or task.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.active_run().info.run_id == run.info.run_id
    True
    >>> mltrail.active_run() is None
    True
    """
    stack = _stack.get()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """Return the active run, else the last run ended in this context, else None.

    Returns
    -------
    Run or None
        The active run, or the last ended run as stored now.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run() as run:
    ...     mltrail.log_metric("acc", 0.9)
    >>> mltrail.last_active_run().data.metrics
    {'acc': 0.9}
    """
    stack = _stack.get()
    if stack:
        return stack[-1]
    last = _last_run.get()
    if last is None:
        return None
    client, run_id = last
    return client.get_run(run_id)


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, object] | None = None,
    description: str | None = None,
    *,
    parent_run_id: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run, or resume one, and make it the active run of this context.

    Use it as a context manager, or end the run with ``end_run``. The run records
    ``mlflow.user``, ``mlflow.source.name``, ``mlflow.source.type`` and
    ``mlflow.runName``, and ``mlflow.parentRunId`` when nested.

    Parameters
    ----------
    run_id : str or None, default=None
        Resume this run (its status becomes RUNNING again) instead of creating one.
        ``MLTRAIL_RUN_ID`` or ``MLFLOW_RUN_ID`` does the same once.
    experiment_id : str or None, default=None
        The experiment of a new run; None for the active experiment, else
        ``MLTRAIL_EXPERIMENT_NAME``/``MLTRAIL_EXPERIMENT_ID``, else Default.
    run_name : str or None, default=None
        The run's name; None for a random one such as ``brave-otter-417``.
    nested : bool, default=False
        Start a child of the active run.
    tags : mapping or None, default=None
        Tags; values are converted with ``str``.
    description : str or None, default=None
        A note, stored as the ``mlflow.note.content`` tag.
    parent_run_id : str or None, default=None
        Start the new run as a child of this run, as MLflow 3 does. It must not be
        deleted, and must be the active run of this context if there is one.
    log_system_metrics : bool or None, default=None
        Accepted for MLflow; mltrail records no system metrics, and True warns so
        once per process.

    Returns
    -------
    ActiveRun
        The run, usable as a context manager.

    Raises
    ------
    ConflictError
        If a run is active in this context and ``nested`` is False.
    InvalidValueError
        If the run to resume or the parent run is deleted, or ``parent_run_id``
        is not the active run.

    Examples
    --------
    >>> import mltrail
    >>> with mltrail.start_run(run_name="parent") as parent:
    ...     with mltrail.start_run(run_name="child", nested=True) as child:
    ...         pass
    >>> child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    True
    """
    if not nested:
        _pending.start()
    stack = _stack.get()
    if stack and not nested:
        raise ConflictError(
            f"run {stack[-1]._run_id!r} is already active in this context. End it "
            "with mltrail.end_run() first, or pass nested=True to start a child run."
        )
    if log_system_metrics:
        _warn_no_system_metrics()
    client = current_client()
    if run_id is None:
        run_id = _run_id_from_environment()
    tag_values = {
        key: str(value)
        for key, value in to_mapping("tags", tags, "Pass {'team': 'risk'}.").items()
    }
    if description is not None:
        tag_values[NOTE_TAG] = description
    if run_id is not None:
        run = _resume(client, run_id, run_name, tag_values)
    else:
        if parent_run_id is not None:
            _check_parent(client, parent_run_id, stack)
            tag_values[PARENT_RUN_ID_TAG] = parent_run_id
        elif stack:
            tag_values[PARENT_RUN_ID_TAG] = stack[-1]._run_id
        run = client.create_run(
            experiment_id
            if experiment_id is not None
            else active_experiment_id(client),
            tags={**system_tags(), **tag_values},
            run_name=run_name,
        )
    active = ActiveRun(run, client, buffer_for(client._store))
    _stack.set((*stack, active))
    with _lock:
        _open_runs[active._run_id] = active
    _register_exit_handler()
    return active


def _warn_no_system_metrics() -> None:
    global _warned_system_metrics
    with _lock:
        if _warned_system_metrics:
            return
        _warned_system_metrics = True
    from mltrail._warnings import warn

    warn(
        "log_system_metrics=True: mltrail records no system metrics (CPU, memory, "
        "GPU); the run is tracked without them.",
        stacklevel=3,
    )


def _check_parent(
    client: TrackingClient, parent_run_id: str, stack: tuple[ActiveRun, ...]
) -> None:
    """Refuse a parent that is deleted or is not the active run, as MLflow does."""
    if stack and stack[-1]._run_id != parent_run_id:
        raise InvalidValueError(
            "parent_run_id",
            parent_run_id,
            f"the active run {stack[-1]._run_id!r}",
            "End the active run with mltrail.end_run() first, or pass "
            "nested=True without parent_run_id.",
        )
    if client.get_run(parent_run_id).info.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidValueError(
            "parent_run_id",
            parent_run_id,
            "a run that is not deleted",
            "Restore it with TrackingClient().restore_run(run_id).",
        )


def _run_id_from_environment() -> str | None:
    for variable in RUN_ID_VARIABLES:
        value = os.environ.pop(variable, None)
        if value:
            return value
    return None


def _resume(
    client: TrackingClient, run_id: str, run_name: str | None, tags: dict[str, str]
) -> Run:
    run = client.get_run(run_id)
    if run.info.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidValueError(
            "run to resume",
            run_id,
            "an active run",
            "It is deleted; restore it with TrackingClient().restore_run(run_id).",
        )
    client._store.update_run_info(
        run_id,
        status=RunStatus.RUNNING.value,
        run_name=run_name,
        heartbeat_time=now_ms(),
    )
    _heartbeat.register(client._store, run_id)
    if tags:
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    return client.get_run(run_id)


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run of this context, if there is one.

    Buffered metric points are written first: they are durable when this returns.

    Parameters
    ----------
    status : RunStatus or str, default="FINISHED"
        ``"FINISHED"``, ``"FAILED"`` or ``"KILLED"``.

    Raises
    ------
    InvalidValueError
        If ``status`` is not a run status.
    MltrailError
        If buffered points or the status could not be written; the run stays
        active, so ``end_run`` can be called again.

    Examples
    --------
    >>> import mltrail
    >>> run = mltrail.start_run()
    >>> mltrail.end_run("KILLED")
    >>> mltrail.get_run(run.info.run_id).info.status
    'KILLED'
    """
    checked = to_status(status)
    stack = _stack.get()
    if not stack:
        return
    run = stack[-1]
    _pending.end(run._run_id)
    # The buffered points and the status are written in one transaction.
    run._client._set_status(run._run_id, checked, None, run._buffer)
    _stack.set(stack[:-1])
    with _lock:
        _open_runs.pop(run._run_id, None)
    _last_run.set((run._client, run._run_id))


def detach_run(run_id: str) -> None:
    """Stop ``run_id`` being this context's active run, without ending it yet.

    For work that ends the run later, off the calling thread, with
    ``end_detached_run``; until then the run still ends at exit like any open run.
    """
    stack = _stack.get()
    if stack and stack[-1]._run_id == run_id:
        run = stack[-1]
        _stack.set(stack[:-1])
        _last_run.set((run._client, run_id))


def end_detached_run(run_id: str, status: RunStatus | str, end_time: int) -> None:
    """End a run that ``detach_run`` detached, with its buffered points."""
    with _lock:
        run = _open_runs.pop(run_id, None)
    client = current_client() if run is None else run._client
    client.set_terminated(run_id, status, end_time)


def _register_exit_handler() -> None:
    # Registered after the first store opened, so that it runs before any exit handler
    # of the store (atexit runs handlers in reverse order); in a child process too.
    at_exit(_end_runs_at_exit)


def _end_runs_at_exit() -> None:
    """Flush every buffer, then end FINISHED the runs the fluent API left open."""
    _pending.wait(renderings=False)
    problems: list[str] = [str(error) for error in flush_all(stop=True)]
    with _lock:
        runs = list(_open_runs.values())
        _open_runs.clear()
    for run in runs:
        try:
            run._client.set_terminated(run._run_id, RunStatus.FINISHED)
        except MltrailError as error:
            problems.append(f"run {run._run_id!r} could not be ended: {error}")
    _heartbeat.stop()
    for problem in problems:
        # A warning turned into an error must not stop the next ones.
        with contextlib.suppress(MltrailWarning):
            warnings.warn(f"mltrail at exit: {problem}", MltrailWarning, stacklevel=1)


# The logged model this process created last (``mltrail.last_logged_model``). MLflow
# keeps it per thread; autolog creates models on its own thread, so here it is one
# value for the process, under the key "model_id".
last_logged_model_id: dict[str, str] = {}


def reset() -> None:
    """Forget clients, open runs, the active experiment and this context's stack."""
    global _active_experiment, _warned_system_metrics
    _clients.clear()
    _open_runs.clear()
    _active_experiment = None
    _warned_system_metrics = False
    _stack.set(())
    _last_run.set(None)
    last_logged_model_id.clear()


def _reset_after_fork() -> None:
    # The parent's open runs are the parent's to end.
    global _lock
    _lock = threading.Lock()
    _open_runs.clear()


os.register_at_fork(after_in_child=_reset_after_fork)
