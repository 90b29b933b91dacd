"""The background worker of autologging: plots, git subprocesses and Parquet files.

One process-wide :class:`~mltrail.evaluation._render.PlotRenderer` runs every job that
must stay off the calling thread. A job returns ``(artifact path, bytes)`` pairs that
the worker writes to the run's artifacts through the client that was current when
the job was submitted; a job may also log tags itself. ``wait(run_id)`` makes a run's
jobs durable and is what the end of a run calls.

A job may also be a ``mltrail._worker.Task``: the helper process does it (see
``mltrail._worker.TaskBoard``), and the worker thread does it only when the helper
cannot. The end of an autologged run waits for the run's tasks.

A plot's JSON that a job writes (``plots/*.json`` of a kind ``_figures`` draws)
brings its PNG: a rendering task, which the helper draws from the JSON. The JSON
is durable when the run ends; the PNG may follow (reads of the run's artifacts
in this process wait for it, the end of the run does not), and
``mltrail runs render`` draws it again if it never came.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from mltrail.tracking import _pending

if TYPE_CHECKING:
    from mltrail._worker import RunArtifacts, Task, TaskBoard
    from mltrail.evaluation._render import PlotRenderer

__all__ = [
    "board",
    "client_of",
    "fit_started",
    "renderer",
    "run_artifacts",
    "submit",
    "wait",
    "wait_for_object",
]

Job = Callable[[], Iterable[tuple[str, bytes]]]

MAX_REMEMBERED_RUNS = 10_000
PLOTS_FOLDER = "plots/"
# Jobs start when the run ends (or anything else waits for them), else after this
# pause, so that they do not slow the user's next lines down (see PlotRenderer's
# start_delay) and are still durable within a second.
START_DELAY = 0.5

_lock = threading.RLock()
_renderer: PlotRenderer | None = None
_board: TaskBoard | None = None
# The client each run's files go to, remembered at submit time: the tracking URI or
# working directory may change before the worker runs the job.
_clients: dict[str, Any] = {}
# Estimators a queued job still reads, with the run of that job: fitting one again
# first waits for the job, so the job sees what the earlier fit produced.
_objects: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def client_of(run_id: str) -> Any:
    """Return the client that ``run_id``'s jobs write with (the current one if new)."""
    client = _clients.get(run_id)
    if client is None:
        from mltrail.tracking._runs import current_client

        with _lock:
            client = _clients.setdefault(run_id, current_client())
            while len(_clients) > MAX_REMEMBERED_RUNS:  # runs nobody waited for
                del _clients[next(iter(_clients))]
    return client


def run_artifacts(run_id: str) -> RunArtifacts:
    """Return where the files of ``run_id`` go, for a task of the helper process."""
    from mltrail._worker import RunArtifacts

    client = client_of(run_id)
    _, uri = client._artifacts(run_id)
    return RunArtifacts(uri, client._store.artifact_root, client._tracking_uri)


def _write(run_id: str, files: Sequence[tuple[str, bytes]]) -> None:
    store, uri = client_of(run_id)._artifacts(run_id)
    store.write_files(uri, files)


def renderer() -> PlotRenderer:
    """Return the process-wide renderer, created on first use."""
    global _renderer
    if _renderer is None:
        from mltrail.evaluation._render import PlotRenderer

        with _lock:
            if _renderer is None:
                _renderer = PlotRenderer(_write, start_delay=START_DELAY)
    return _renderer


def board() -> TaskBoard:
    """Return the process-wide board of the tasks given to the helper process."""
    global _board
    if _board is None:
        from mltrail._worker import TaskBoard

        with _lock:
            if _board is None:
                _board = TaskBoard(_submit_local, _wait_local)
    return _board


def submit(
    run_id: str,
    job: Job | Task,
    *,
    name: str,
    reads: Any = None,
    after_tasks: bool = False,
    first: bool = False,
    finish: Callable[[BaseException | None], object] | None = None,
) -> None:
    """Queue ``job`` for ``run_id`` on the background worker.

    ``reads`` is an estimator the job reads: a later fit of it waits for the job.
    A ``Task`` goes to the helper process at once (its arguments are snapshots
    already, so ``reads`` does not apply), and ``finish(error)`` runs here once it
    is done. ``after_tasks`` holds the job back until the run's tasks are done.
    ``first`` runs the job at once, before the jobs queued without it (a short
    one that hands a task to the helper, which works on it on another core).
    Every read or end of the run in this process waits for the job too.
    """
    from mltrail._worker import Task

    client_of(run_id)
    _pending.register(_wait_pending)
    if isinstance(job, Task):
        board().submit(job, finish=finish)
        return
    if reads is not None:
        # An estimator that refuses weak references cannot be tracked.
        with contextlib.suppress(TypeError):
            _objects[reads] = run_id
    if after_tasks:
        board().after_tasks(run_id, job, name)
    else:
        _submit_local(run_id, job, name, first=first)


def fit_started() -> None:
    """Tell the helper process that a fit started: its model will come soon."""
    from mltrail._worker import _helper

    helper = _helper.current()
    if helper is not None:
        # A hint, in the user's fit: whatever goes wrong must not break it.
        with contextlib.suppress(Exception):
            helper.hold_renderings()


def _submit_local(run_id: str, job: Job, name: str, *, first: bool = False) -> None:
    def pending_job() -> Iterable[tuple[str, bytes]]:
        with _pending.working():
            files = list(job())
        _render_plots(run_id, files)
        return files

    renderer().submit(run_id, pending_job, name=name, first=first)


def _render_plots(run_id: str, files: list[tuple[str, bytes]]) -> None:
    """Hand the drawing of each plot JSON among ``files`` to the helper."""
    plots = [
        (path, data)
        for path, data in files
        if path.startswith(PLOTS_FOLDER) and path.endswith(".json")
    ]
    if not plots:
        return
    from mltrail._worker import Task
    from mltrail.evaluation import _figures

    artifacts = run_artifacts(run_id)
    for path, data in plots:
        task = Task(
            run_id,
            artifacts,
            _figures.render_png,
            (path, data),
            name=_figures.png_path(path),
            is_rendering=True,
        )
        board().submit(task)


def _wait_local(run_id: str | None, timeout: float | None) -> bool:
    return renderer().wait(run_id, timeout=timeout)


def _wait_pending(run_id: str | None, renderings: bool) -> None:
    wait(run_id, renderings=renderings)


def wait_for_object(estimator: Any) -> None:
    """Block until no queued job reads ``estimator`` any more."""
    try:
        run_id = _objects.pop(estimator, None)
    except TypeError:  # pragma: no cover - an estimator that refuses weakrefs
        return
    if run_id is not None and _renderer is not None:
        # Only this thread's jobs read the estimator; the helper's tasks read a
        # snapshot, so a new fit never waits for the helper.
        _renderer.wait(run_id)


def wait(
    run_id: str | None = None,
    timeout: float | None = None,
    *,
    renderings: bool = True,
) -> bool:
    """Block until the background jobs of ``run_id`` (or of all runs) are written.

    ``renderings`` False leaves out the helper's plot PNGs (drawn from JSON that
    is written already). A failed job becomes one ``MltrailWarning``. Returns
    False on timeout.
    """
    if _renderer is None and _board is None:
        return True
    is_done = board().wait(run_id, renderings=renderings, timeout=timeout)
    if is_done and run_id is not None and renderings:
        _clients.pop(run_id, None)
    return is_done
