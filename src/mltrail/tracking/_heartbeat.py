"""The heartbeat: proof, written every few seconds, that this process's runs are alive.

While this process has RUNNING runs that it created or resumed, a daemon thread calls
``store.touch_heartbeat`` every ``MLTRAIL_HEARTBEAT_INTERVAL`` seconds (default 5). The
store marks a RUNNING run KILLED once its heartbeat is older than
``MLTRAIL_HEARTBEAT_TIMEOUT``, so a process killed with SIGKILL leaves no run RUNNING.

A run's first heartbeat is written with the run itself (``create_run``, or the update
that resumes it), so the thread's first beat of a new run comes at its next tick, at
most one interval later: a run shorter than that costs no heartbeat write at all (an
early beat used to land in the middle of every short autologged fit).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import warnings

from mltrail import _config
from mltrail._errors import MltrailError, MltrailWarning
from mltrail.store._base import Store

__all__ = ["beat", "register", "reset", "stop", "unregister"]


class _Heartbeat:
    """The runs to keep alive, per store, and the thread that does it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[int, tuple[Store, set[str]]] = {}
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.stopping = False
        self.has_warned = False

    def register(self, store: Store, run_id: str) -> None:
        with self.lock:
            entry = self.runs.setdefault(id(store), (store, set()))
            entry[1].add(run_id)
            if self.thread is None and not self.stopping:
                # Beat at least twice per timeout, whatever the settings say, so a
                # live run is never taken for a dead one.
                interval = min(
                    _config.get_float_setting("MLTRAIL_HEARTBEAT_INTERVAL"),
                    _config.get_float_setting("MLTRAIL_HEARTBEAT_TIMEOUT") / 2,
                )
                self.thread = threading.Thread(
                    target=self._loop,
                    args=(interval,),
                    name="mltrail-heartbeat",
                    daemon=True,
                )
                self.thread.start()

    def unregister(self, store: Store, run_id: str) -> None:
        with self.lock:
            entry = self.runs.get(id(store))
            if entry is not None:
                entry[1].discard(run_id)
                if not entry[1]:
                    del self.runs[id(store)]

    def _loop(self, interval: float) -> None:
        while not self.stopping:
            self.stopped.wait(interval)
            if not self.stopping:
                self.beat()

    def beat(self) -> None:
        """Touch the heartbeat of every registered run now."""
        with self.lock:
            snapshot = [(store, sorted(ids)) for store, ids in self.runs.values()]
        now = time.time_ns() // 1_000_000
        for store, run_ids in snapshot:
            try:
                store.touch_heartbeat(run_ids, now)
            except MltrailError as error:
                self._warn_once(error)
            else:
                self.has_warned = False

    def _warn_once(self, error: MltrailError) -> None:
        if self.has_warned:
            return
        self.has_warned = True
        # A warning turned into an error by the user's filters must not stop the thread.
        with contextlib.suppress(MltrailWarning):
            warnings.warn(
                f"mltrail could not record the heartbeat of its running runs: {error} "
                "It retries; runs may read KILLED if this lasts longer than "
                "MLTRAIL_HEARTBEAT_TIMEOUT.",
                MltrailWarning,
                stacklevel=2,
            )

    def stop(self) -> None:
        self.stopping = True
        self.stopped.set()


_heartbeat = _Heartbeat()


def register(store: Store, run_id: str) -> None:
    """Keep ``run_id`` alive until ``unregister``; starts the thread on first use."""
    _heartbeat.register(store, run_id)


def unregister(store: Store, run_id: str) -> None:
    """Stop touching the heartbeat of ``run_id``."""
    _heartbeat.unregister(store, run_id)


def beat() -> None:
    """Touch every registered run's heartbeat now (for tests and exit)."""
    _heartbeat.beat()


def stop() -> None:
    """Stop the thread (at interpreter exit)."""
    _heartbeat.stop()


def reset() -> None:
    """Forget every run and stop the thread (for tests, and in a forked child)."""
    global _heartbeat
    old, _heartbeat = _heartbeat, _Heartbeat()
    old.stop()
    if old.thread is not None:
        old.thread.join(timeout=10)


def _reset_after_fork() -> None:
    # The child owns none of its parent's runs, and the parent's thread is gone.
    global _heartbeat
    _heartbeat = _Heartbeat()


os.register_at_fork(after_in_child=_reset_after_fork)
