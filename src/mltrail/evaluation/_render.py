"""The background plot renderer: plot jobs run on one worker thread, off ``fit``.

A job is a callable that returns ``(relative_path, bytes)`` pairs, such as
``lambda: plot_artifacts(plots_for_classifier(...), dataset="test")``. The worker
runs jobs in order (those submitted with ``first=True`` at once, before the rest)
and hands each file to the ``write`` callback the renderer was built with.
``wait(run_id)`` (which ``end_run`` calls) blocks until that run's jobs are done and
then reports each failed job as one ``MltrailWarning`` on the caller's thread: a
failure never raises into user code and never stops the other jobs.

Standard library only, so importing this module stays cheap. The worker starts with
the first job and ends after ``idle_timeout`` seconds without one. When no thread can
start (a job submitted during interpreter shutdown), the job runs on the caller's
thread instead. After ``fork`` the child starts with an empty renderer (the parent's
jobs are the parent's); at interpreter exit every renderer waits, up to
``EXIT_TIMEOUT`` seconds in all, for its pending jobs.
"""

from __future__ import annotations

import atexit
import collections
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence

from mltrail import _warnings

Job = Callable[[], Iterable[tuple[str, bytes]]]
Write = Callable[[str, Sequence[tuple[str, bytes]]], None]
# A queued job: its run, its label, the job and when it was submitted.
_Item = tuple[str, str, Job, float]

EXIT_TIMEOUT = 10.0
IDLE_TIMEOUT = 30.0

_RENDERERS: weakref.WeakSet[PlotRenderer] = weakref.WeakSet()


class PlotRenderer:
    """Run plot jobs on a daemon worker thread and write their files.

    Parameters
    ----------
    write : callable
        ``write(run_id, files)`` stores a job's ``(relative_path, data)`` pairs, for
        example as run artifacts (in one request to a server). It is called on the
        worker thread, once per job that returned files.
    idle_timeout : float, default=30.0
        Seconds without a job after which the worker thread ends; the next
        ``submit`` starts a new one.
    start_delay : float, default=0.0
        Seconds a job waits after its ``submit`` before it starts, unless someone
        calls ``wait`` first. Jobs running beside the caller's own code slow it
        down far beyond their own cost: a pure-Python worker holds the GIL for a
        whole switch interval each time the caller's thread releases it (a
        forest's ``predict`` releases it once a tree), so it is better to start
        when the caller waits, or after a short pause.

    Examples
    --------
    >>> from mltrail.evaluation._render import PlotRenderer
    >>> written = []
    >>> renderer = PlotRenderer(lambda run_id, files: written.extend(files))
    >>> renderer.submit("run1", lambda: [("plots/a.png", b"...")])
    >>> renderer.wait("run1")
    True
    >>> written
    [('plots/a.png', b'...')]
    """

    def __init__(
        self,
        write: Write,
        *,
        idle_timeout: float = IDLE_TIMEOUT,
        start_delay: float = 0.0,
    ) -> None:
        self._write = write
        self._idle_timeout = idle_timeout
        self._start_delay = start_delay
        self._reset()
        _RENDERERS.add(self)

    def _reset(self) -> None:
        self._condition = threading.Condition()
        # Jobs submitted with first=True, then the others; each in submit order.
        self._first: collections.deque[_Item] = collections.deque()
        self._queue: collections.deque[_Item] = collections.deque()
        self._pending: dict[str, int] = {}
        self._waiters = 0
        self._failures: dict[str, list[str]] = {}
        self._worker: threading.Thread | None = None

    def submit(
        self, run_id: str, job: Job, *, name: str | None = None, first: bool = False
    ) -> None:
        """Queue a job for ``run_id``; it runs on the worker thread.

        Parameters
        ----------
        run_id : str
            The run whose files the job produces.
        job : callable
            Takes no argument and returns ``(relative_path, bytes)`` pairs.
        name : str, default=None
            What the job draws, for the warning if it fails; by default the
            callable's ``__name__``.
        first : bool, default=False
            Run it at once, without ``start_delay``, and before the jobs queued
            without ``first``: a short job that hands work to another process,
            which does it on another core while the caller goes on.

        Examples
        --------
        >>> from mltrail.evaluation._render import PlotRenderer
        >>> renderer = PlotRenderer(lambda run_id, files: None)
        >>> renderer.submit("run1", lambda: [], name="nothing")
        >>> renderer.wait()
        True
        """
        label = name or str(getattr(job, "__name__", type(job).__name__))
        with self._condition:
            self._pending[run_id] = self._pending.get(run_id, 0) + 1
            if self._worker is None or not self._worker.is_alive():
                worker = threading.Thread(
                    target=self._work, name="mltrail-plot-renderer", daemon=True
                )
                try:
                    worker.start()
                except RuntimeError:  # no new thread at interpreter shutdown
                    self._worker = None
                else:
                    self._worker = worker
            # Queued under the lock, so an idle worker cannot exit past this job.
            if self._worker is not None:
                jobs = self._first if first else self._queue
                jobs.append((run_id, label, job, time.monotonic()))
                self._condition.notify_all()
                return
        self._run(run_id, label, job)

    def wait(self, run_id: str | None = None, timeout: float | None = None) -> bool:
        """Block until the jobs of ``run_id`` (or of every run) are done.

        Each job of those runs that failed since the last ``wait`` is reported as
        one ``MltrailWarning``.

        Parameters
        ----------
        run_id : str, default=None
            The run to wait for; ``None`` waits for all.
        timeout : float, default=None
            The longest wait in seconds; ``None`` waits as long as it takes.

        Returns
        -------
        bool
            ``True`` when the jobs are done, ``False`` when the timeout came first.

        Examples
        --------
        >>> from mltrail.evaluation._render import PlotRenderer
        >>> PlotRenderer(lambda run_id, files: None).wait("no-such-run")
        True
        """
        with self._condition:
            self._waiters += 1
            self._condition.notify_all()  # a job held back by start_delay may go
            try:
                is_done = self._condition.wait_for(
                    lambda: self._is_idle(run_id), timeout=timeout
                )
            finally:
                self._waiters -= 1
            failures = self._take_failures(run_id)
        for message in failures:
            _warnings.warn(message, stacklevel=2)
        return is_done

    def _is_idle(self, run_id: str | None) -> bool:
        if run_id is None:
            return not self._pending
        return run_id not in self._pending

    def _take_failures(self, run_id: str | None) -> list[str]:
        if run_id is None:
            taken = [message for run in self._failures.values() for message in run]
            self._failures.clear()
            return taken
        return self._failures.pop(run_id, [])

    def _work(self) -> None:
        while True:
            item = self._next()
            if item is None:
                return
            self._run(*item[:3])

    def _next(self) -> _Item | None:
        """Take the next job once its start time came (or someone waits).

        None when no job came for ``idle_timeout`` seconds: the worker ends. None
        too for a worker of before a ``_reset``, whose condition is not the
        renderer's any more: the reset's own worker serves the new queues.
        """
        condition = self._condition
        with condition:
            while True:
                if self._condition is not condition:
                    return None
                jobs = self._first or self._queue
                if not jobs:
                    if not condition.wait(timeout=self._idle_timeout) and not (
                        self._first or self._queue
                    ):
                        if self._worker is threading.current_thread():
                            self._worker = None
                        return None
                    continue
                delay = 0.0 if jobs is self._first else self._start_delay
                start = jobs[0][3] + delay
                if self._waiters > 0 or time.monotonic() >= start:
                    return jobs.popleft()
                # A job submitted with first=True, or a waiter, wakes us earlier.
                condition.wait(timeout=start - time.monotonic())

    def _run(self, run_id: str, label: str, job: Job) -> None:
        failure = None
        try:
            files = list(job())
            if files:
                self._write(run_id, files)
        # A plot must never break the user's program: any failure, ours or the write
        # callback's, becomes a warning that wait() delivers.
        except Exception as exc:
            failure = (
                f"mltrail could not log {label!r} for run {run_id!r}: "
                f"{type(exc).__name__}: {exc}"
            )
        with self._condition:
            if failure is not None:
                self._failures.setdefault(run_id, []).append(failure)
            remaining = self._pending[run_id] - 1
            if remaining:
                self._pending[run_id] = remaining
            else:
                del self._pending[run_id]
            self._condition.notify_all()


def _reset_after_fork() -> None:
    for renderer in list(_RENDERERS):
        renderer._reset()


def _wait_at_exit(timeout: float = EXIT_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    for renderer in list(_RENDERERS):
        renderer.wait(timeout=max(0.0, deadline - time.monotonic()))


os.register_at_fork(after_in_child=_reset_after_fork)
atexit.register(_wait_at_exit)
