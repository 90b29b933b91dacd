"""Server processes of the tests that never outlive the test process.

A server runs in a session of its own (``start_new_session``) so that ``stop`` can
signal it with its workers; the same isolation lets it survive the test process
when that dies without tearing its fixtures down (an xdist worker torn down after
``-x``, a timeout, a ``SIGKILL``). So each one gets a guard: a small process that
waits on a pipe whose only writer is the test process. The pipe closes when the
test process dies, however it dies; the guard then kills the server's process
group. ``stop`` ends the server itself and dismisses its guard.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["GUARD_SCRIPT", "start", "stop"]

STOP_TIMEOUT = 15.0
# Reads the group id, then blocks until EOF: the test process closed the pipe or
# died. Then SIGTERM the group, and SIGKILL what is left after a grace period.
GUARD_SCRIPT = """
import os, signal, sys, time
line = sys.stdin.buffer.readline()
if not line.strip():
    sys.exit(0)
group = int(line)
sys.stdin.buffer.read()
for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 0.0)):
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        sys.exit(0)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            sys.exit(0)
        time.sleep(0.05)
"""

_guards: dict[int, subprocess.Popen[bytes]] = {}


def start(command: Sequence[str], **options: Any) -> subprocess.Popen[bytes]:
    """Start ``command`` in a new session, guarded; ``options`` go to ``Popen``.

    The guard starts first and learns the group id through its pipe, so there is
    no moment when the server runs unguarded.
    """
    guard = subprocess.Popen(
        [sys.executable, "-c", GUARD_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        process: subprocess.Popen[bytes] = subprocess.Popen(
            command, start_new_session=True, **options
        )
    except BaseException:
        _dismiss(guard)
        raise
    assert guard.stdin is not None
    guard.stdin.write(f"{process.pid}\n".encode())
    guard.stdin.flush()
    _guards[process.pid] = guard
    return process


def _dismiss(guard: subprocess.Popen[bytes]) -> None:
    """End a guard without letting it signal anything."""
    guard.kill()
    guard.wait()
    if guard.stdin is not None:
        guard.stdin.close()


def stop(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    """Stop the process and its group: SIGINT, then SIGKILL; dismiss its guard."""
    try:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGINT)
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=timeout)
            except ProcessLookupError:
                process.wait(timeout=timeout)
    finally:
        guard = _guards.pop(process.pid, None)
        if guard is not None:
            _dismiss(guard)
