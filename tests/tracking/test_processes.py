"""Nothing logged is lost across processes: exits, children, kills and stops (#9 §2).

Every test runs real processes: a script that exits normally, ``multiprocessing``
children (spawn and fork), a SIGKILL before the first heartbeat, a SIGSTOP longer
than the heartbeat timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.store._sql import SqlStore
from mltrail.tracking import TrackingClient

POINTS = 100


def _run_script(store: SqlStore, tmp_path: Path, script: str, *args: str) -> str:
    path = tmp_path / "script.py"
    path.write_text(script)
    done = subprocess.run(
        [sys.executable, str(path), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env=_environment(store, tmp_path),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    return done.stdout


def _environment(store: SqlStore, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "MLTRAIL_TRACKING_URI": store.uri,
        "MLTRAIL_ARTIFACT_ROOT": str(tmp_path / "artifacts"),
        **extra,
    }


def _steps(store: SqlStore, run_id: str, key: str = "m") -> list[int]:
    return [metric.step for metric in store.get_metric_history(run_id, key)]


def _new_run(store: SqlStore) -> str:
    return store.create_run("0", user_id="u", start_time=0, run_name="r").info.run_id


EXPLICIT_RUN = f"""
import sys
import mltrail

for step in range({POINTS}):
    mltrail.log_metric("m", step * 0.5, step=step, run_id=sys.argv[1])
"""


def test_points_to_explicit_run_are_written_at_exit(
    store: SqlStore, tmp_path: Path
) -> None:
    run_id = _new_run(store)
    _run_script(store, tmp_path, EXPLICIT_RUN, run_id)
    assert _steps(store, run_id) == list(range(POINTS))


CHILD = f"""
import sys
import multiprocessing
import mltrail


def log(run_id):
    for step in range({POINTS}):
        mltrail.log_metric("m", float(step), step=step, run_id=run_id)


if __name__ == "__main__":
    method, how, run_id = sys.argv[1:]
    context = multiprocessing.get_context(method)
    if how == "process":
        child = context.Process(target=log, args=(run_id,))
        child.start()
        child.join()
        assert child.exitcode == 0, child.exitcode
    else:
        pool = context.Pool(2)
        pool.map(log, [run_id])
        pool.close()
        pool.join()
"""


@pytest.mark.slow
@pytest.mark.parametrize("how", ["process", "pool"])
@pytest.mark.parametrize("method", ["spawn", "fork", "forkserver"])
def test_points_of_multiprocessing_child_are_written(
    store: SqlStore, tmp_path: Path, method: str, how: str
) -> None:
    run_id = _new_run(store)
    _run_script(store, tmp_path, CHILD, method, how, run_id)
    assert _steps(store, run_id) == list(range(POINTS))


FORKED_INTO_ACTIVE_RUN = f"""
import multiprocessing
import mltrail


def log():
    for step in range({POINTS}):
        mltrail.log_metric("child", float(step), step=step)


if __name__ == "__main__":
    with mltrail.start_run() as run:
        mltrail.log_metric("parent", 1.0)
        child = multiprocessing.get_context("fork").Process(target=log)
        child.start()
        child.join()
        assert child.exitcode == 0
        assert mltrail.active_run().info.run_id == run.info.run_id
    print(run.info.run_id)
"""


def test_forked_child_logs_to_parents_active_run(
    store: SqlStore, tmp_path: Path
) -> None:
    run_id = _run_script(store, tmp_path, FORKED_INTO_ACTIVE_RUN).strip()
    assert _steps(store, run_id, "child") == list(range(POINTS))
    run = store.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {"parent": 1.0, "child": float(POINTS - 1)}


def test_unknown_run_is_rejected_at_the_call(fluent_store: str) -> None:
    import mltrail

    with pytest.raises(NotFoundError, match="run 'ffff"):
        mltrail.log_metric("m", 1.0, run_id="f" * 32)
    with pytest.raises(NotFoundError, match="run 'ffff"):
        mltrail.log_metrics({"m": 1.0}, run_id="f" * 32)
    with pytest.raises(InvalidValueError, match="run_id must be a non-empty str"):
        mltrail.log_metric("m", 1.0, run_id=3)  # type: ignore[arg-type]  # the test
    mltrail.flush()


def test_deleted_run_is_rejected_at_the_call(fluent_store: str) -> None:
    import mltrail

    client = TrackingClient()
    run_id = client.create_run("0").info.run_id
    client.delete_run(run_id)
    with pytest.raises(InvalidValueError, match="It is deleted"):
        mltrail.log_metric("m", 1.0, run_id=run_id)


def test_known_run_is_looked_up_once(fluent_store: str) -> None:
    import mltrail
    from mltrail.tracking import _buffer

    run_id = TrackingClient().create_run("0").info.run_id
    mltrail.log_metric("m", 1.0, run_id=run_id)
    buffer = _buffer.existing_buffer(TrackingClient()._store)
    assert buffer is not None
    assert run_id in buffer.known_runs
    mltrail.flush()


# Heartbeats of killed and stopped processes.

KILLED_AT_ONCE = """
import os, signal
import mltrail

run = mltrail.start_run()
print(run.info.run_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _reader(store: SqlStore, tmp_path: Path) -> SqlStore:
    return SqlStore(
        store.uri, artifact_root=str(tmp_path / "artifacts"), heartbeat_timeout=1.0
    )


@pytest.mark.slow
def test_run_killed_before_first_heartbeat_reads_killed(
    store: SqlStore, tmp_path: Path
) -> None:
    path = tmp_path / "killed.py"
    path.write_text(KILLED_AT_ONCE)
    done = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env=_environment(store, tmp_path, MLTRAIL_HEARTBEAT_INTERVAL="30"),
        check=False,
    )
    assert done.returncode == -signal.SIGKILL
    run_id = done.stdout.strip()
    reader = _reader(store, tmp_path)
    try:
        assert _wait_until(lambda: reader.get_run(run_id).info.status == "KILLED", 5)
        run = reader.get_run(run_id)
        assert run.info.end_time is not None
        assert run.info.end_time >= run.info.start_time
    finally:
        reader.close()


STOPPED = """
import sys, time
from pathlib import Path
import mltrail

stop_file = Path(sys.argv[1])
with mltrail.start_run() as run:
    print(run.info.run_id, flush=True)
    step = 0
    while not stop_file.exists():
        mltrail.log_metric("m", float(step), step=step)
        step += 1
        time.sleep(0.005)
print(step, flush=True)
"""


@pytest.mark.slow
def test_stopped_process_comes_back_running_and_loses_nothing(
    store: SqlStore, tmp_path: Path
) -> None:
    path = tmp_path / "stopped.py"
    path.write_text(STOPPED)
    stop_file = tmp_path / "stop"
    reader = _reader(store, tmp_path)
    environment = _environment(
        store,
        tmp_path,
        MLTRAIL_HEARTBEAT_INTERVAL="0.1",
        MLTRAIL_HEARTBEAT_TIMEOUT="1",
    )
    with subprocess.Popen(
        [sys.executable, str(path), str(stop_file)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=environment,
    ) as child:
        try:
            assert child.stdout is not None
            run_id = child.stdout.readline().strip()
            time.sleep(0.5)
            # It may stop in the middle of a write and keep the store's lock: reads
            # must not wait for it (they show the run KILLED without writing).
            child.send_signal(signal.SIGSTOP)
            try:
                assert _wait_until(
                    lambda: reader.get_run(run_id).info.status == "KILLED", 10
                )
            finally:
                child.send_signal(signal.SIGCONT)
            assert _wait_until(
                lambda: reader.get_run(run_id).info.status == "RUNNING", 10
            )
            assert reader.get_run(run_id).info.end_time is None
            time.sleep(0.3)
            stop_file.write_text("")
            steps = int(child.stdout.readline())
            assert child.wait(timeout=60) == 0
        finally:
            if child.poll() is None:  # a failed check: the loop would never end
                child.kill()
    try:
        run = reader.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert _steps(reader, run_id) == list(range(steps))
    finally:
        reader.close()


def test_run_ended_as_killed_is_not_revived(store: SqlStore) -> None:
    run_id = store.create_run(
        "0", user_id="u", start_time=0, run_name="r", heartbeat_time=0
    ).info.run_id
    store.update_run_info(run_id, status="KILLED", end_time=5)
    store.touch_heartbeat([run_id], int(time.time() * 1000))
    info = store.get_run(run_id).info
    assert (info.status, info.end_time) == ("KILLED", 5)


def test_run_without_heartbeat_never_expires(store: SqlStore) -> None:
    store.heartbeat_timeout = 0.001
    run_id = _new_run(store)
    time.sleep(0.01)
    assert store.get_run(run_id).info.status == "RUNNING"


def test_resumed_run_is_not_taken_for_dead(fluent_store: str) -> None:
    import mltrail

    store = TrackingClient()._store
    run_id = store.create_run(
        "0", user_id="u", start_time=0, run_name="r", heartbeat_time=0
    ).info.run_id
    store.update_run_info(run_id, status="KILLED", end_time=0)
    with mltrail.start_run(run_id=run_id):
        assert store.get_run(run_id).info.status == "RUNNING"
    assert store.get_run(run_id).info.status == "FINISHED"


# The exit hooks themselves, in this process (the children above run them for real).


def test_at_exit_registers_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import atexit
    import multiprocessing
    from multiprocessing import util

    from mltrail.store import _rest_client
    from mltrail.tracking import _exit

    registered: list[tuple[object, tuple[object, ...]]] = []
    finalizers: list[tuple[object, tuple[object, ...]]] = []
    monkeypatch.setattr(
        atexit, "register", lambda fn, *args: registered.append((fn, args))
    )
    monkeypatch.setattr(_exit, "_registered", set())
    monkeypatch.setattr(_exit, "_finalizers", {})
    monkeypatch.setattr(_rest_client, "_exiting", False)
    ran: list[bool] = []

    def callback() -> None:
        ran.append(_rest_client._exiting)

    _exit.at_exit(callback)
    assert registered == [(_exit._leaving, (callback,))]
    assert finalizers == []  # not a child process
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())
    monkeypatch.setattr(
        util,
        "Finalize",
        lambda owner, fn, args, exitpriority: finalizers.append((fn, args)),
    )
    _exit.at_exit(callback)
    _exit.at_exit(callback)
    assert len(registered) == 1
    assert finalizers == [(_exit._leaving, (callback,))]
    _exit._leaving(callback)  # what atexit runs: the client knows, then the callback
    assert ran == [True]


def test_exit_flush_warns_about_points_it_could_not_write(
    sqlite_store: SqlStore,
) -> None:
    from mltrail._errors import MltrailWarning
    from mltrail.tracking import _buffer

    buffer = _buffer.buffer_for(sqlite_store)
    run_id = _new_run(sqlite_store)
    buffer.add(run_id, "m", 1.0, 0, None)
    sqlite_store.update_run_info(run_id, lifecycle_stage="deleted")
    with pytest.warns(MltrailWarning, match="mltrail at exit: run"):
        _buffer._flush_at_exit()
    assert len(buffer) == 0


def test_exit_warns_about_runs_it_could_not_end(
    fluent_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mltrail
    from mltrail._errors import MltrailWarning, StoreError
    from mltrail.tracking import _runs

    run = mltrail.start_run()
    client = run._client

    def refuse(*args: object, **kwargs: object) -> None:
        raise StoreError("the database is gone.")

    monkeypatch.setattr(client, "set_terminated", refuse)
    with pytest.warns(MltrailWarning, match="could not be ended: the database"):
        _runs._end_runs_at_exit()
    _runs._stack.set(())
