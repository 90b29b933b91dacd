"""Work that a layer above finishes off the calling thread, and that reads wait for.

Autologging writes models, plots and git diffs on a background thread, so that
``fit`` returns quickly. Whatever reads or ends a run in this process first waits
for that run's pending work (``wait``), so it sees everything that was logged: the
same guarantee as the metric buffer's. Workers mark themselves with ``working()``,
so that their own reads never wait for themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = [
    "end",
    "register",
    "register_end",
    "register_start",
    "start",
    "wait",
    "working",
]

# waiter(run_id, renderings): renderings False leaves out pictures drawn from data
# that is durable already (a plot's PNG from its JSON).
Waiter = Callable[[str | None, bool], None]

_waiters: list[Waiter] = []
_end_hooks: list[Callable[[str], None]] = []
_start_hooks: list[Callable[[], None]] = []
_local = threading.local()


def register(waiter: Waiter) -> None:
    """Make ``wait`` call ``waiter(run_id, renderings)``; twice is harmless."""
    if waiter not in _waiters:
        _waiters.append(waiter)


def register_end(hook: Callable[[str], None]) -> None:
    """Make ``end`` call ``hook(run_id)``; registering twice is harmless."""
    if hook not in _end_hooks:
        _end_hooks.append(hook)


def register_start(hook: Callable[[], None]) -> None:
    """Make ``start`` call ``hook()``; registering twice is harmless."""
    if hook not in _start_hooks:
        _start_hooks.append(hook)


def start() -> None:
    """Tell the layers above that the user starts a run that is not nested.

    Autologging ends a ``partial_fit`` loop whose own run is the active one, so
    that the user's run takes its place.
    """
    for hook in list(_start_hooks):
        hook()


def end(run_id: str) -> None:
    """Tell the layers above that ``run_id`` is ending, then wait for its work."""
    for hook in list(_end_hooks):
        hook(run_id)
    wait(run_id, renderings=False)


def wait(run_id: str | None = None, *, renderings: bool = True) -> None:
    """Block until the pending work of ``run_id`` (None: of every run) is done.

    ``renderings`` False leaves out pictures drawn from data that is durable
    already (a plot's PNG from its JSON): the end of a run, ``flush`` and exit do
    not wait for them; reads do.
    """
    if not _waiters or getattr(_local, "is_worker", False):
        return
    for waiter in list(_waiters):
        waiter(run_id, renderings)


@contextmanager
def working() -> Iterator[None]:
    """Mark the current thread as doing pending work while the block runs."""
    was_worker = getattr(_local, "is_worker", False)
    _local.is_worker = True
    try:
        yield
    finally:
        _local.is_worker = was_worker
