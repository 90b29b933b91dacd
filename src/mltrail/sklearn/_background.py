"""The background worker of autologging: plots, git subprocesses and Parquet files.

One process-wide :class:`~mltrail.evaluation._render.PlotRenderer` runs every job that
must stay off the calling thread. A job returns ``(artifact path, bytes)`` pairs that
the worker writes to the run's artifacts through the client that was current when
the job was submitted; a job may also log tags itself. ``wait(run_id)`` makes a run's
jobs durable and is what the end of a run calls.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from mltrail.tracking import _pending

if TYPE_CHECKING:
    from mltrail.evaluation._render import PlotRenderer

__all__ = ["client_of", "renderer", "submit", "wait", "wait_for_object"]

Job = Callable[[], Iterable[tuple[str, bytes]]]

MAX_REMEMBERED_RUNS = 10_000
# Jobs start when the run ends (or anything else waits for them), else after this
# pause, so that they do not slow the user's next lines down (see PlotRenderer's
# start_delay) and are still durable within a second.
START_DELAY = 0.5

_lock = threading.RLock()
_renderer: PlotRenderer | None = None
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


def _write(run_id: str, path: str, data: bytes) -> None:
    store, uri = client_of(run_id)._artifacts(run_id)
    store.write_bytes(uri, path, data)


def renderer() -> PlotRenderer:
    """Return the process-wide renderer, created on first use."""
    global _renderer
    if _renderer is None:
        from mltrail.evaluation._render import PlotRenderer

        with _lock:
            if _renderer is None:
                _renderer = PlotRenderer(_write, start_delay=START_DELAY)
    return _renderer


def submit(run_id: str, job: Job, *, name: str, reads: Any = None) -> None:
    """Queue ``job`` for ``run_id`` on the background worker.

    ``reads`` is an estimator the job reads: a later fit of it waits for the job.
    Every read or end of the run in this process waits for the job too.
    """

    def pending_job() -> Iterable[tuple[str, bytes]]:
        with _pending.working():
            return list(job())

    client_of(run_id)
    _pending.register(_wait_pending)
    if reads is not None:
        # An estimator that refuses weak references cannot be tracked.
        with contextlib.suppress(TypeError):
            _objects[reads] = run_id
    renderer().submit(run_id, pending_job, name=name)


def _wait_pending(run_id: str | None) -> None:
    wait(run_id)


def wait_for_object(estimator: Any) -> None:
    """Block until no queued job reads ``estimator`` any more."""
    try:
        run_id = _objects.pop(estimator, None)
    except TypeError:  # pragma: no cover - an estimator that refuses weakrefs
        return
    if run_id is not None:
        wait(run_id)


def wait(run_id: str | None = None, timeout: float | None = None) -> bool:
    """Block until the background jobs of ``run_id`` (or of all runs) are written.

    A failed job becomes one ``MltrailWarning``. Returns False on timeout.
    """
    if _renderer is None:
        return True
    is_done = _renderer.wait(run_id, timeout=timeout)
    if is_done and run_id is not None:
        _clients.pop(run_id, None)
    return is_done
