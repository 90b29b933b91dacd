from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from mltrail._errors import InvalidValueError, MltrailWarning, StoreError
from mltrail.store._sql import SqlStore
from mltrail.tracking import TrackingClient, _heartbeat


class RecordingStore:
    """Counts heartbeats; raises the queued errors first."""

    def __init__(self, errors: Sequence[StoreError] = ()) -> None:
        self.errors = list(errors)
        self.touched: list[list[str]] = []

    def touch_heartbeat(self, run_ids: Sequence[str], time: int) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.touched.append(list(run_ids))


def _wait_until(condition: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]  # a callable
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def fast_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_HEARTBEAT_INTERVAL", "0.05")
    _heartbeat.reset()


@pytest.mark.usefixtures("fast_heartbeat")
def test_run_lives_while_heartbeat_beats_and_dies_without(tmp_path: Path) -> None:
    store = SqlStore(
        f"sqlite:///{tmp_path}/h.db",
        artifact_root=str(tmp_path / "a"),
        heartbeat_timeout=0.5,
    )
    client = TrackingClient(store.uri)
    client._opened_store = store
    run_id = client.create_run("0").info.run_id
    time.sleep(1.0)
    assert client.get_run(run_id).info.status == "RUNNING"
    _heartbeat.reset()  # the process "dies": no more heartbeats
    assert _wait_until(lambda: client.get_run(run_id).info.status == "KILLED")
    store.close()


@pytest.mark.usefixtures("fast_heartbeat")
def test_new_run_is_touched_at_the_next_tick() -> None:
    store = RecordingStore()
    _heartbeat.register(store, "a" * 32)  # type: ignore[arg-type]  # duck-typed
    assert _wait_until(lambda: store.touched)
    assert store.touched[0] == ["a" * 32]


def test_a_run_shorter_than_the_interval_costs_no_heartbeat_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Its first heartbeat was written with the run: no early beat comes in the
    # middle of a short autologged fit.
    monkeypatch.setenv("MLTRAIL_HEARTBEAT_INTERVAL", "1.0")
    _heartbeat.reset()
    store = RecordingStore()
    try:
        _heartbeat.register(store, "a" * 32)  # type: ignore[arg-type]  # duck-typed
        time.sleep(0.3)  # longer than the early beat of old (0.1 s), within a tick
        _heartbeat.unregister(store, "a" * 32)  # type: ignore[arg-type]  # duck-typed
        _heartbeat.register(store, "b" * 32)  # type: ignore[arg-type]  # duck-typed
        assert _wait_until(lambda: store.touched)
        assert store.touched[0] == ["b" * 32]  # never "a", which ended in time
    finally:
        _heartbeat.reset()  # no thread left beating for the next tests


def _stored_heartbeat(store: SqlStore, run_id: str) -> int | None:
    with store._engine.connect() as connection:
        beat: int | None = connection.exec_driver_sql(
            "SELECT heartbeat_time FROM runs WHERE run_id = ?", (run_id,)
        ).scalar_one()
    return beat


def test_a_created_run_carries_its_first_heartbeat(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/h.db", artifact_root=str(tmp_path / "a"))
    client = TrackingClient(store.uri)
    client._opened_store = store
    before = time.time_ns() // 1_000_000
    run_id = client.create_run("0").info.run_id
    _heartbeat.reset()  # no thread beats it
    beat = _stored_heartbeat(store, run_id)
    assert beat is not None
    assert before <= beat <= time.time_ns() // 1_000_000
    store.close()


def test_a_run_set_running_again_carries_a_heartbeat_at_once(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/h.db", artifact_root=str(tmp_path / "a"))
    client = TrackingClient(store.uri)
    client._opened_store = store
    run_id = client.create_run("0").info.run_id
    client.set_terminated(run_id, "FINISHED")
    assert _stored_heartbeat(store, run_id) is None  # ended on purpose
    _heartbeat.reset()  # no thread beats it
    client.set_terminated(run_id, "RUNNING")
    assert _stored_heartbeat(store, run_id) is not None
    _heartbeat.reset()
    store.close()


@pytest.mark.usefixtures("fast_heartbeat")
def test_unregistered_runs_are_not_touched() -> None:
    store = RecordingStore()
    _heartbeat.register(store, "a" * 32)  # type: ignore[arg-type]  # duck-typed
    _heartbeat.unregister(store, "a" * 32)  # type: ignore[arg-type]  # duck-typed
    _heartbeat.unregister(store, "b" * 32)  # type: ignore[arg-type]  # duck-typed
    _heartbeat.beat()
    assert store.touched == []


@pytest.mark.usefixtures("fast_heartbeat")
def test_failed_heartbeat_warns_once() -> None:
    store = RecordingStore([StoreError("down")] * 3)

    def register_and_wait() -> bool:
        _heartbeat.register(store, "a" * 32)  # type: ignore[arg-type]  # duck-typed
        return _wait_until(lambda: store.touched)

    with pytest.warns(MltrailWarning, match="heartbeat") as caught:
        touched = register_and_wait()
    assert touched
    assert len(caught) == 1


def test_failed_heartbeat_does_not_kill_thread_under_error_filter(
    fast_heartbeat: None,
) -> None:
    store = RecordingStore([StoreError("down")])
    _heartbeat.register(store, "a" * 32)  # type: ignore[arg-type]  # duck-typed
    assert _wait_until(lambda: store.touched)


def test_stopped_heartbeat_starts_no_thread() -> None:
    _heartbeat.stop()
    _heartbeat.register(RecordingStore(), "a" * 32)  # type: ignore[arg-type]
    assert _heartbeat._heartbeat.thread is None


def test_forked_child_forgets_runs() -> None:
    _heartbeat.register(RecordingStore(), "a" * 32)  # type: ignore[arg-type]
    _heartbeat._reset_after_fork()  # what a forked child runs first
    assert _heartbeat._heartbeat.runs == {}


def test_interval_never_exceeds_half_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLTRAIL_HEARTBEAT_INTERVAL", "60")
    monkeypatch.setenv("MLTRAIL_HEARTBEAT_TIMEOUT", "0.2")
    store = RecordingStore()
    _heartbeat.register(store, "a" * 32)  # type: ignore[arg-type]  # duck-typed
    assert _wait_until(lambda: len(store.touched) >= 3, timeout=3.0)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf"])
def test_bad_interval_setting_is_rejected(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MLTRAIL_HEARTBEAT_INTERVAL", value)
    with pytest.raises(InvalidValueError, match="MLTRAIL_HEARTBEAT_INTERVAL"):
        _heartbeat.register(RecordingStore(), "a" * 32)  # type: ignore[arg-type]
