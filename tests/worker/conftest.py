"""Fixtures for the helper tests: a helper process of this test's own."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

import cloudpickle
import pytest

from mltrail._worker import _helper
from tests.worker import _tasks

# pytest imports the tests by file, not from sys.path: a helper could not import
# this module by name, so its functions travel by value.
cloudpickle.register_pickle_by_value(_tasks)


def wait_until_gone(pid: int, timeout: float = 30.0) -> bool:
    """Whether process ``pid`` ended (or is a zombie) within ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(")")[-1].split()[0] in ("Z", "X"):
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.02)
    return False


def stop(helper: _helper.Helper) -> None:
    """Close and kill a helper process of a test."""
    helper.close()
    with contextlib.suppress(ProcessLookupError):
        os.kill(helper.pid, signal.SIGKILL)


@pytest.fixture(autouse=True)
def own_helper() -> Iterator[None]:
    """Give the test no helper to start with; stop every helper it started."""
    previous = _helper._helper
    _helper._helper = None
    started: list[_helper.Helper] = []
    spawn = _helper._spawn

    def recording_spawn() -> _helper.Helper | None:
        helper = spawn()
        if helper is not None:
            started.append(helper)
        return helper

    _helper._spawn = recording_spawn
    yield
    _helper._spawn = spawn
    for helper in started:
        stop(helper)
    _helper._helper = previous


@pytest.fixture
def helper() -> _helper.Helper:
    """A fresh helper process of this test's own."""
    started = _helper.start()
    assert started is not None
    return started
