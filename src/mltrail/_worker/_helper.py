"""The asking side: start the helper process, send it tasks, and fall back to ourselves.

``start()`` spawns one helper per process (``autolog()`` calls it), which at once
imports what its tasks will need (skops, matplotlib) on the machine's other core
while the user's script goes on. ``submit(task)`` returns a ``Ticket`` at once; a
sender thread pickles the task (arrays travel as out-of-band buffers, never copied
here) and writes it, and a reader thread resolves the ticket from the helper's
answer. Whenever the helper cannot take a task (it never started, died, or cannot
load the task) the ticket says ``local`` and the caller does the task itself, so
nothing is lost. The user's thread never blocks on the helper: only the waits of
the tracking layer (end of run, reads, exit) do.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeAlias

from mltrail._worker._main import BOOTSTRAP
from mltrail._worker._protocol import (
    PICKLE_PROTOCOL,
    ProtocolError,
    StoreCall,
    dumps_task,
    load_error,
    read_frame,
    write_frame,
    write_message,
)
from mltrail._worker._tasks import Task

__all__ = ["DISABLE_VARIABLE", "Helper", "Ticket", "current", "start", "wait"]

# What the sender thread writes: a task, a store call, modules to import early, or
# BUSY.
Outgoing: TypeAlias = (
    "tuple[int, Ticket] | tuple[int, Ticket, StoreCall] | list[str] | str"
)
# The message that tells the helper a fit started (see Helper.hold_renderings).
BUSY = "busy"

DISABLE_VARIABLE = "MLTRAIL_HELPER_PROCESS"
_FALSE_VALUES = ("0", "false", "no", "off")
# At exit, how long tasks still queued here may take to reach the helper.
EXIT_SEND_TIMEOUT = 10.0
# The helper pulses every second whatever it does (_main.PULSE_INTERVAL). One that
# has sent nothing for this long while someone waits for it is stuck (stopped, or
# in a call that never gives the GIL back): it is killed and its work done here.
STALL_TIMEOUT = 30.0
# How often a wait for the helper looks whether it still pulses.
STALL_CHECK = 1.0


class Ticket:
    """What became of a submitted task: ``done``, ``failed`` (see ``error``), ``local``.

    ``local`` means the helper did not do it: the submitter must. ``resolved`` is
    set once the outcome is known; callbacks added with ``on_resolved`` run then.
    """

    __slots__ = (
        "_callbacks",
        "_lock",
        "error",
        "outcome",
        "reason",
        "resolved",
        "result",
        "task",
    )

    def __init__(self, task: Task) -> None:
        self.task = task
        self.outcome: str | None = None
        self.result: object = None
        self.error: BaseException | None = None
        self.reason: str | None = None
        self.resolved = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[Ticket], None]] = []

    def resolve(
        self,
        outcome: str,
        error: BaseException | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        """Record the outcome once (``reason`` says why it is local); then no more."""
        with self._lock:
            if self.outcome is not None:
                return
            self.outcome, self.error, self.reason = outcome, error, reason
            callbacks, self._callbacks = self._callbacks, []
        self.resolved.set()
        for callback in callbacks:
            callback(self)

    def on_resolved(self, callback: Callable[[Ticket], None]) -> None:
        """Call ``callback(ticket)`` when resolved (now, if it is already)."""
        with self._lock:
            if self.outcome is None:
                self._callbacks.append(callback)
                return
        callback(self)


class Helper:
    """One running helper process and the threads that talk to it.

    Parameters
    ----------
    pid : int
        The helper's process id.
    to_helper : int
        The file descriptor of the helper's input.
    from_helper : int
        The file descriptor of the helper's answers.
    """

    def __init__(self, pid: int, to_helper: int, from_helper: int) -> None:
        self.pid = pid
        self._to_helper = to_helper
        self._from_helper = from_helper
        self._lock = threading.Lock()
        self._tickets: dict[int, Ticket] = {}
        self._ids = itertools.count()
        # A task with its id, a store call, or the names of modules to import early.
        self._outbox: queue.SimpleQueue[Outgoing] = queue.SimpleQueue()
        self._unsent = 0
        self._sent = threading.Condition(self._lock)
        self._last_heard = time.monotonic()
        self.is_alive = True
        self._threads = [
            threading.Thread(target=target, name=name, daemon=True)
            for target, name in (
                (self._send_loop, "mltrail-to-helper"),
                (self._read_loop, "mltrail-from-helper"),
            )
        ]
        for thread in self._threads:
            thread.start()

    def is_own_thread(self) -> bool:
        """Whether the caller is one of the threads that talk to the helper.

        Such a thread must not wait for an answer: it is the one that reads it.
        """
        return threading.current_thread() in self._threads

    def submit(self, task: Task) -> Ticket:
        """Queue ``task`` for the helper; the ticket says ``local`` if it cannot."""
        ticket = Ticket(task)
        with self._lock:
            if not self.is_alive:
                is_queued = False
            else:
                task_id = next(self._ids)
                self._tickets[task_id] = ticket
                self._unsent += 1
                self._outbox.put((task_id, ticket))
                is_queued = True
        if not is_queued:
            ticket.resolve("local", reason="the helper is gone")
        return ticket

    def call(self, call: StoreCall) -> Ticket:
        """Queue a call of the helper's store; the ticket holds its ``result``.

        The ticket says ``local`` when the helper cannot make the call (it is
        gone, or died before answering): the caller then makes it itself.
        """
        ticket = Ticket(None)  # type: ignore[arg-type]  # a call has no task
        with self._lock:
            is_queued = self.is_alive
            if is_queued:
                call_id = next(self._ids)
                self._tickets[call_id] = ticket
                self._unsent += 1
                self._outbox.put((call_id, ticket, call))
        if not is_queued:
            ticket.resolve("local", reason="the helper is gone")
        return ticket

    def wait(self, ticket: Ticket, timeout: float | None = None) -> bool:
        """Block until ``ticket`` is resolved; False when ``timeout`` passed first.

        A helper that has not pulsed for ``STALL_TIMEOUT`` seconds meanwhile is
        killed: its unanswered tickets, this one too, then say ``local``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = STALL_CHECK
            if deadline is not None:
                step = min(step, max(0.0, deadline - time.monotonic()))
            if ticket.resolved.wait(step):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self._end_if_stalled()

    def _end_if_stalled(self) -> None:
        if not self.is_alive or time.monotonic() - self._last_heard < STALL_TIMEOUT:
            return
        with contextlib.suppress(OSError):  # ended already
            os.kill(self.pid, signal.SIGKILL)
        self._die()

    def warm(self, modules: Iterable[str]) -> None:
        """Ask the helper to import ``modules`` now, before a task needs them."""
        with self._lock:
            self._unsent += 1
            self._outbox.put(list(modules))

    def hold_renderings(self) -> None:
        """Tell the helper that a fit started: its model will come soon.

        The helper starts a picture only after a quiet moment with nothing from
        this process (``_main.RENDER_QUIET``); this message starts a new one, so
        that a fit's model does not arrive in the middle of a drawing.
        """
        with self._lock:
            if self.is_alive:
                self._unsent += 1
                self._outbox.put(BUSY)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been written to the helper."""
        with self._sent:
            return self._sent.wait_for(
                lambda: not self._unsent or not self.is_alive, timeout=timeout
            )

    def close(self) -> None:
        """Stop sending: the helper finishes what it has and exits."""
        with self._lock:
            self.is_alive = False
        with contextlib.suppress(OSError):
            os.close(self._to_helper)

    def _send_loop(self) -> None:
        while True:
            item = self._outbox.get()
            try:
                self._send(item)
            except OSError:  # the helper is gone
                self._die()
            finally:
                with self._sent:
                    self._unsent -= 1
                    self._sent.notify_all()
            if not self.is_alive:
                return

    def _send(self, item: Outgoing) -> None:
        if not self.is_alive:
            return
        if isinstance(item, list):
            write_message(self._to_helper, ("warm", item))
            return
        if isinstance(item, str):
            write_message(self._to_helper, (item,))
            return
        if len(item) == 3:
            self._send_call(*item)
            return
        task_id, ticket = item
        if ticket.resolved.is_set():
            return
        try:
            parts = dumps_task(ticket.task)
        except Exception as exc:  # cannot be pickled (a lock): run it locally
            self._take(task_id)
            ticket.resolve("local", reason=f"not picklable: {exc}")
            return
        # The flag lets the helper put renderings after the tasks someone waits for.
        header = pickle.dumps(
            ("task", task_id, ticket.task.is_rendering), protocol=PICKLE_PROTOCOL
        )
        write_frame(self._to_helper, [header, *parts])

    def _send_call(self, call_id: int, ticket: Ticket, call: StoreCall) -> None:
        try:
            body = pickle.dumps(call, protocol=PICKLE_PROTOCOL)
        except Exception as exc:  # an argument that cannot travel: call it here
            self._take(call_id)
            ticket.resolve("local", reason=f"not picklable: {exc}")
            return
        header = pickle.dumps(("store", call_id), protocol=PICKLE_PROTOCOL)
        write_frame(self._to_helper, [header, body])

    def _read_loop(self) -> None:
        while True:
            try:
                frame = read_frame(self._from_helper)
            except (OSError, ProtocolError):
                frame = None
            if frame is None:
                break
            self._last_heard = time.monotonic()
            message = pickle.loads(frame[0])  # noqa: S301 - our own helper's pipe
            if message[0] == "alive":  # a pulse, sent whatever the helper does
                continue
            ticket = self._take(int(message[1]))
            if ticket is None:
                continue
            if message[0] == "done":
                if len(frame) > 1:  # a store call's result
                    ticket.result = pickle.loads(frame[1])  # noqa: S301 - our pipe
                ticket.resolve("done")
            elif message[0] == "failed":
                ticket.resolve("failed", load_error(frame[1]))
            else:  # refused: the helper could not load it
                ticket.resolve("local", reason=str(message[2]))
        self._die()
        with contextlib.suppress(OSError):
            os.close(self._from_helper)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(self.pid, 0)  # no zombie left behind

    def _take(self, task_id: int) -> Ticket | None:
        with self._lock:
            return self._tickets.pop(task_id, None)

    def _die(self) -> None:
        """Give every task the helper has not answered back to its submitter."""
        with self._lock:
            self.is_alive = False
            tickets = list(self._tickets.values())
            self._tickets.clear()
            self._sent.notify_all()
        for ticket in tickets:
            ticket.resolve("local", reason="the helper is gone")


_lock = threading.Lock()
_helper: Helper | None = None


def is_disabled() -> bool:
    """Whether ``MLTRAIL_HELPER_PROCESS`` turns the helper process off."""
    value = os.environ.get(DISABLE_VARIABLE, "").strip().lower()
    return value in _FALSE_VALUES


def current() -> Helper | None:
    """Return the running helper of this process, if there is one."""
    helper = _helper
    return helper if helper is not None and helper.is_alive else None


def start(warm: Iterable[str] = ()) -> Helper | None:
    """Start this process's helper unless it runs already; None if it cannot.

    Never raises: without a helper, every task runs in this process.
    """
    global _helper
    if is_disabled():
        return None
    with _lock:
        helper = current()
        if helper is None:
            try:
                helper = _spawn()
            except OSError:
                return None
            if helper is None:
                return None
            _helper = helper
    helper.warm(warm)
    return helper


def wait(ticket: Ticket, timeout: float | None = None) -> bool:
    """Block until ``ticket`` is resolved (False on timeout); see ``Helper.wait``."""
    helper = _helper
    if helper is None:
        return ticket.resolved.wait(timeout)
    return helper.wait(ticket, timeout)


def _spawn() -> Helper | None:
    executable = sys.executable
    if not executable or not hasattr(os, "posix_spawn"):
        return None
    to_helper_read, to_helper = os.pipe()
    from_helper, from_helper_write = os.pipe()
    # dup2 onto its own number would keep close-on-exec: keep ends above 2.
    child_read = _above_standard(to_helper_read)
    child_write = _above_standard(from_helper_write)
    # Absolute, as they mean now: '' is the working directory of this moment.
    path = [os.path.abspath(entry) for entry in sys.path]
    arguments = [executable, "-c", BOOTSTRAP, json.dumps(path), str(os.getpid())]
    try:
        pid = os.posix_spawn(
            executable,
            arguments,
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_DUP2, child_read, 0),
                (os.POSIX_SPAWN_DUP2, child_write, 1),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
            # Its own session: Ctrl-C in the terminal is for the user's process.
            setsid=True,
        )
    except OSError:
        for fd in (to_helper, from_helper):
            os.close(fd)
        raise
    finally:
        for fd in {to_helper_read, from_helper_write, child_read, child_write}:
            os.close(fd)
    return Helper(pid, to_helper, from_helper)


def _above_standard(fd: int) -> int:
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) if fd < 3 else fd


def _send_rest_at_exit(timeout: float = EXIT_SEND_TIMEOUT) -> None:
    """Hand the helper what is still queued, then let it finish on its own."""
    helper = current()
    if helper is not None:
        deadline = time.monotonic() + timeout
        helper.flush(timeout=max(0.0, deadline - time.monotonic()))
        helper.close()


def _forget_after_fork() -> None:
    """Drop the parent's helper in a forked child, which starts its own if needed."""
    global _helper, _lock
    helper, _helper = _helper, None
    _lock = threading.Lock()
    if helper is not None:
        # Closed here, so that the helper sees its input end when the parent exits.
        for fd in (helper._to_helper, helper._from_helper):
            with contextlib.suppress(OSError):
                os.close(fd)


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(_send_rest_at_exit)
