"""Writes that a ``RestStore`` sends on a background thread, in order.

Writes that answer nothing the caller needs and that no other write can contradict
(a batch of metric points or tags, a run's inputs) are queued here, so the user's
thread does not wait for the round trip: an autologged ``fit`` goes on while they
travel. One daemon thread per store sends them in the order they were queued.

- **Read your writes:** every other call of the store first waits until the queue
  is empty (``drain``), so a read sees every write queued before it, and a write
  sent at once comes after them. The one exception is ``create_run``, which no
  queued write can concern: the run it creates did not exist when they were
  queued.
- **Nothing lost:** a write that cannot reach the server is spooled to disk by the
  store's own path, as any write; the queue is drained at interpreter exit; a
  forked child starts with an empty queue and a thread of its own.
- **Errors are not dropped:** the first error of a queued write (a deleted run, a
  refused value) is raised by the next ``drain``, that is by the store's next call
  (or ``flush``), with a note naming the write.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from mltrail._errors import MltrailError, MltrailWarning

__all__ = ["BackgroundSender", "Write", "drain_all"]

# (method, path, fields, idempotent)
Write = tuple[str, str, dict[str, Any], bool]

_senders: weakref.WeakSet[BackgroundSender] = weakref.WeakSet()


class BackgroundSender:
    """An ordered queue of writes and the daemon thread that sends them.

    Parameters
    ----------
    send : callable
        ``send(method, path, fields, idempotent)``: sends one write (or spools it).
    """

    def __init__(self, send: Callable[[str, str, dict[str, Any], bool], object]):
        self._send = send
        self._queue: collections.deque[Write] = collections.deque()
        self._condition = threading.Condition()
        self._busy = False
        self._error: MltrailError | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        _senders.add(self)

    def submit(self, write: Write) -> None:
        """Queue a write; it is sent after every write queued before it."""
        with self._condition:
            if self._pid != os.getpid():  # a forked child: the parent's thread is gone
                self._forget_parent()
            self._queue.append(write)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mltrail-rest-sender", daemon=True
                )
                self._thread.start()
            self._condition.notify_all()

    def drain(self) -> None:
        """Wait until every queued write is sent; raise the first error of one.

        Raises
        ------
        MltrailError
            The error of a queued write that the server refused (once).
        """
        with self._condition:
            if self._pid != os.getpid():
                self._forget_parent()
            while self._queue or self._busy:
                self._condition.wait()
            error, self._error = self._error, None
        if error is not None:
            raise error

    def _forget_parent(self) -> None:
        # The parent process sends its own queue; the child keeps none of it.
        self._queue.clear()
        self._busy = False
        self._error = None
        self._thread = None
        self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._queue:
                    self._condition.wait()
                method, path, fields, idempotent = self._queue.popleft()
                self._busy = True
            try:
                self._send(method, path, fields, idempotent)
            except MltrailError as error:
                error.add_note(f"It was the answer to {method} {path}, sent earlier.")
                with self._condition:
                    self._error = self._error or error
            except BaseException as error:  # pragma: no cover - a bug: keep the thread
                with self._condition:
                    self._error = self._error or MltrailError(
                        f"mltrail could not send {method} {path}: {error!r}"
                    )
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()


def drain_all() -> None:
    """Send what every sender of this process still holds; warn about errors.

    Runs at interpreter exit, and from the tracking layer's exit hook, which also
    runs when a ``multiprocessing`` child leaves through ``os._exit``.
    """
    for sender in list(_senders):
        try:
            sender.drain()
        except MltrailError as error:
            # A warning turned into an error must not hide the other senders' writes.
            with contextlib.suppress(MltrailWarning):
                warnings.warn(
                    f"mltrail could not send a write to the tracking server: {error}",
                    MltrailWarning,
                    stacklevel=1,
                )


def _drain_at_exit() -> None:
    from mltrail.store._rest_client import mark_exiting

    mark_exiting()  # a server that is gone is not waited for (see _rest_client)
    drain_all()


atexit.register(_drain_at_exit)
