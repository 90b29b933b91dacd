"""Work to do when this process leaves: at interpreter exit, or as a child process.

``atexit`` handlers run when the interpreter exits normally, but a ``multiprocessing``
child started with fork leaves through ``os._exit``, which runs none. Such children
(fork, spawn or forkserver, pool workers included) run ``multiprocessing``'s own
finalizers when they leave; ``at_exit`` registers there too, from the child itself.
Each callback must be safe to run twice (a spawned child runs both).

Before the first callback runs, the REST client is told that the process is
leaving (``mark_exiting``): a tracking server that is gone then costs seconds at
exit, not every write's retries.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable

__all__ = ["at_exit"]

# Registered with atexit once per process lineage (a forked child inherits them).
_registered: set[Callable[[], None]] = set()
# The process in which each callback was registered as a multiprocessing finalizer.
_finalizers: dict[Callable[[], None], int] = {}


def at_exit(callback: Callable[[], None]) -> None:
    """Run ``callback`` when this process leaves; registering again is harmless."""
    if callback not in _registered:
        _registered.add(callback)
        atexit.register(_leaving, callback)
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is None or multiprocessing.parent_process() is None:
        return
    pid = os.getpid()
    if _finalizers.get(callback) != pid:
        _finalizers[callback] = pid
        from multiprocessing import util

        # Registered from the child (its bootstrap clears inherited finalizers); an
        # exit priority makes it run when the child leaves, before os._exit.
        util.Finalize(None, _leaving, args=(callback,), exitpriority=0)


def _leaving(callback: Callable[[], None]) -> None:
    client = sys.modules.get("mltrail.store._rest_client")
    if client is not None:  # imported only where a server is tracked to
        client.mark_exiting()
    callback()
