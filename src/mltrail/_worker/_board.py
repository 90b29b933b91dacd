"""The tasks a process handed to its helper, per run, and the work that waits on them.

``TaskBoard`` sits beside the process's own background thread (its ``submit_local``
queues a job there). A task goes to the helper at once; nothing on the background
thread blocks on the helper, so a later ``fit`` that waits for the jobs reading its
estimator never waits for the helper. When the helper answers:

- ``done``: nothing more to do;
- ``failed``: a job that raises the helper's exception is queued, so the failure
  becomes the same warning as a failure of a local job;
- ``local`` (no helper, dead, or it could not load the task): the task is queued
  on the background thread, which does it here.

A task may come with ``finish(error)``, which the background thread runs once
the task is done, wherever (``error`` is None on success): the bookkeeping that
only the asking process can do, such as marking a logged model READY.

``after_tasks(run_id, job)`` runs ``job`` (the end of an autologged run) on the
background thread once the run's tasks are answered and finished, so a run is
never ``FINISHED`` before its model is written. It looks when the job's turn
comes, so it also waits for tasks that earlier jobs of the run submit.
``wait(run_id)`` blocks until all of that is done; renderings (a plot's PNG drawn
from its durable JSON) are waited for only when asked.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable

from mltrail._worker import _helper
from mltrail._worker._helper import Ticket
from mltrail._worker._tasks import Task, run_task

__all__ = ["TaskBoard"]

_BOARDS: weakref.WeakSet[TaskBoard] = weakref.WeakSet()

Job = Callable[[], Iterable[tuple[str, bytes]]]
Finish = Callable[[BaseException | None], object]
SubmitLocal = Callable[[str, Job, str], None]
LocalWait = Callable[[str | None, float | None], bool]


def _follow_up(ticket: Ticket, finish: Finish | None) -> Job | None:
    """Return the job that completes an answered task here, if one is needed."""
    task, error = ticket.task, ticket.error
    if ticket.outcome == "done" and finish is None:
        return None

    def job() -> list[tuple[str, bytes]]:
        failure = error if ticket.outcome == "failed" else None
        if ticket.outcome == "local":
            try:
                run_task(task)
            except BaseException as exc:
                failure = exc
        if finish is not None:
            finish(failure)
        if failure is not None:
            raise failure
        return []

    return job


class TaskBoard:
    """Hand tasks to the helper and keep the local background thread in step.

    Parameters
    ----------
    submit_local : callable
        ``submit_local(run_id, job, name)`` queues a job on this process's
        background thread.
    wait_local : callable
        ``wait_local(run_id, timeout)`` blocks until that thread has done the jobs
        of ``run_id`` (None: of every run); returns False on timeout.
    """

    def __init__(self, submit_local: SubmitLocal, wait_local: LocalWait) -> None:
        self._submit_local = submit_local
        self._wait_local = wait_local
        self._reset()
        _BOARDS.add(self)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, set[Ticket]] = {}
        self._renderings: dict[str, set[Ticket]] = {}
        self._deferred: dict[str, list[tuple[Job, str]]] = {}
        # Runs whose follow-up jobs are being queued right now, outside the lock.
        self._handing: dict[str, int] = {}

    def submit(self, task: Task, *, finish: Finish | None = None) -> None:
        """Give ``task`` to the helper, or queue it locally when there is none."""
        helper = _helper.current()
        ticket = Ticket(task) if helper is None else helper.submit(task)
        if helper is None:
            ticket.resolve("local", reason="no helper")
        board = self._renderings if task.is_rendering else self._open
        with self._lock:
            board.setdefault(task.run_id, set()).add(ticket)
        ticket.on_resolved(lambda answered: self._resolved(answered, finish))

    def after_tasks(self, run_id: str, job: Job, name: str) -> None:
        """Run ``job`` locally once the run's tasks (not renderings) are finished."""

        def gate() -> Iterable[tuple[str, bytes]]:
            with self._lock:
                if self._open.get(run_id):
                    self._deferred.setdefault(run_id, []).append((job, name))
                    return []
            return job()

        self._submit_local(run_id, gate, name)

    def _resolved(self, ticket: Ticket, finish: Finish | None) -> None:
        task = ticket.task
        run_id = task.run_id
        follow_ups: list[tuple[Job, str]] = []
        job = _follow_up(ticket, finish)
        if job is not None:
            follow_ups.append((job, task.name))
        with self._lock:
            board = self._renderings if task.is_rendering else self._open
            tickets = board.get(run_id, set())
            tickets.discard(ticket)
            if not tickets:
                board.pop(run_id, None)
                if not task.is_rendering:
                    follow_ups.extend(self._deferred.pop(run_id, []))
            self._handing[run_id] = self._handing.get(run_id, 0) + 1
        try:
            for job, name in follow_ups:
                self._submit_local(run_id, job, name)
        finally:
            with self._lock:
                self._handing[run_id] -= 1
                if not self._handing[run_id]:
                    del self._handing[run_id]

    def _unfinished(self, run_id: str | None, renderings: bool) -> list[Ticket] | None:
        """Return the run's unanswered tickets; None when nothing of it is pending."""
        with self._lock:
            boards = [self._open, self._renderings] if renderings else [self._open]
            tickets = [
                ticket
                for board in boards
                for run, run_tickets in board.items()
                if run_id is None or run == run_id
                for ticket in run_tickets
            ]
            is_handing = any(
                run_id is None or run == run_id for run in self._handing
            ) or any(run_id is None or run == run_id for run in self._deferred)
        return tickets if tickets or is_handing else None

    def wait(
        self,
        run_id: str | None = None,
        *,
        renderings: bool = True,
        timeout: float | None = None,
    ) -> bool:
        """Block until the tasks of ``run_id`` (None: all runs) and follow-ups are done.

        Returns False when ``timeout`` seconds passed first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout

        def remaining() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        # This process's own jobs first: its thread does them while the helper
        # works on the run's tasks on the other core. Waiting for the tasks first
        # would hold these jobs back (they start early only when waited for) and
        # do the two one after the other.
        if not self._wait_local(run_id, remaining()):
            return False
        while True:
            tickets = self._unfinished(run_id, renderings)
            if tickets is None:
                # Follow-ups are queued before a task stops counting as pending, so
                # this wait covers every job that the answers brought.
                if not self._wait_local(run_id, remaining()):
                    return False
                if self._unfinished(run_id, renderings) is None:
                    return True
                continue
            if not tickets:  # follow-ups are being queued right now
                time.sleep(0.001)
            for ticket in tickets:
                if not _helper.wait(ticket, remaining()):
                    return False
            if deadline is not None and time.monotonic() >= deadline:
                return False


def _reset_after_fork() -> None:
    """Forget the parent's tasks in a forked child: it has no helper."""
    for board in list(_BOARDS):
        board._reset()


os.register_at_fork(after_in_child=_reset_after_fork)
