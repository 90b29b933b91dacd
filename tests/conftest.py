"""Fixtures shared by the whole suite: a clean environment and a private working dir."""

from __future__ import annotations

import os
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mltrail import _config
from mltrail.store._open import clear_store_cache
from mltrail.tracking import _buffer, _heartbeat, _pending, _runs

OUR_VARIABLES = ("MLTRAIL_", "MLFLOW_")
# The message of CPython 3.11's guard against two threads installing a trace
# function at the same moment (python/cpython#98257).
_SETTRACE_RACE = "another trace function is being installed"


class _ThreadStartSys(types.ModuleType):
    """``sys`` as ``threading`` sees it when a thread starts, with ``settrace`` retried.

    Under coverage, every new thread installs coverage's tracer with ``settrace``.
    On Python 3.11 a thread that does so while another thread installs one dies
    before running its target ("Cannot install a trace function while another
    trace function is being installed"): the request it was to serve (a test
    server's worker thread) is never answered. The guard is one flag for the whole
    process and holds only for the moment of the other installation, so trying
    again succeeds. Python 3.12 and later trace through ``sys.monitoring``.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(sys, name)

    @staticmethod
    def settrace(function: Callable[..., Any] | None) -> None:
        for _ in range(1000):
            try:
                sys.settrace(function)
                return
            except RuntimeError as error:
                if _SETTRACE_RACE not in str(error):
                    raise
                time.sleep(0.001)
        sys.settrace(function)


if sys.version_info < (3, 12):
    setattr(threading, "_sys", _ThreadStartSys("sys"))  # noqa: B010 - private name


def _our_variables() -> list[str]:
    return [
        name
        for name in os.environ
        if name.startswith(OUR_VARIABLES) and not name.startswith("MLTRAIL_TEST_")
    ]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Remove mltrail's and MLflow's settings, except the test database URLs.

    Settings a test's code writes straight into ``os.environ`` (the real MLflow's
    ``set_experiment`` sets ``MLFLOW_EXPERIMENT_ID`` for its subprocesses) go too,
    so that they never reach the next test or a module's fixture.
    """
    for name in _our_variables():
        monkeypatch.delenv(name)
    yield
    for name in _our_variables():
        del os.environ[name]  # monkeypatch then restores what the test began with
    fluent = sys.modules.get("mlflow.tracking.fluent")
    if fluent is not None and hasattr(fluent, "_active_experiment_id"):
        # The real MLflow's set_experiment also keeps the id in a module global,
        # which would send the next test's runs to an experiment of another store.
        setattr(fluent, "_active_experiment_id", None)  # noqa: B010


@pytest.fixture(autouse=True)
def tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run each test in its own directory, so default stores never collide."""
    monkeypatch.chdir(tmp_path)
    _config.reset()
    yield tmp_path
    _config.reset()


@pytest.fixture(autouse=True)
def clean_tracking_state() -> Iterator[None]:
    """Forget active runs, clients, buffers, heartbeats and stores around a test."""
    _runs.reset()
    yield
    _pending.wait()  # background jobs of this test write to this test's store
    _runs.reset()
    _buffer.reset()
    _heartbeat.reset()
    clear_store_cache()
