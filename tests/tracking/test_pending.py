"""Reads and ends of a run wait for work other layers finish off the calling thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from mltrail import tracking
from mltrail.tracking import _pending


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    waiters, hooks = list(_pending._waiters), list(_pending._end_hooks)
    yield
    _pending._waiters[:] = waiters
    _pending._end_hooks[:] = hooks


def test_wait_calls_each_waiter_once_with_the_run_id() -> None:
    seen: list[tuple[str | None, bool]] = []

    def waiter(run_id: str | None, renderings: bool) -> None:
        seen.append((run_id, renderings))

    _pending.register(waiter)
    _pending.register(waiter)
    _pending.wait("abc")
    assert seen == [("abc", True)]


def test_workers_never_wait_for_themselves() -> None:
    seen: list[str | None] = []
    _pending.register(lambda run_id, renderings: seen.append(run_id))
    with _pending.working():
        _pending.wait("abc")
    _pending.wait("def")
    assert seen == ["def"]


def test_end_runs_hooks_then_waits() -> None:
    events: list[str] = []
    _pending.register_end(lambda run_id: events.append(f"end {run_id}"))
    _pending.register_end(events.append)  # a second, different hook
    _pending.register(
        lambda run_id, renderings: events.append(f"wait {run_id} {renderings}")
    )
    _pending.end("r1")
    # The end of a run does not wait for renderings (a plot's PNG) of durable data.
    assert events == ["end r1", "r1", "wait r1 False"]


def test_end_run_and_get_run_wait_for_pending_work() -> None:
    written = threading.Event()
    calls: list[str | None] = []

    def waiter(run_id: str | None, renderings: bool) -> None:
        calls.append(run_id)
        written.set()

    _pending.register(waiter)
    with tracking.start_run() as run:
        pass
    tracking.get_run(run.info.run_id)
    assert written.is_set()
    assert calls[:2] == [run.info.run_id, run.info.run_id]
