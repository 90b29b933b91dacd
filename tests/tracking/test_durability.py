"""Many writers at once lose nothing; a process killed mid-run loses at most 1 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mltrail.store._sql import SqlStore

PROCESSES = 10
THREADS = 2
POINTS = 5000

WRITER = f"""
import sys, threading, time
import mltrail

start_at = float(sys.argv[1])
run_ids = []

def work():
    with mltrail.start_run() as run:
        run_ids.append(run.info.run_id)
        for step in range({POINTS}):
            mltrail.log_metric("m", step * 0.5, step=step)

threads = [threading.Thread(target=work) for _ in range({THREADS})]
mltrail.get_tracking_uri()
time.sleep(max(0.0, start_at - time.time()))
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(" ".join(run_ids))
"""

VICTIM = """
import time
import mltrail

with mltrail.start_run() as run:
    print("run", run.info.run_id, flush=True)
    step = 0
    while True:
        timestamp = int(time.time() * 1000)
        mltrail.log_metric("m", float(step), step=step, timestamp=timestamp)
        print(step, timestamp, flush=True)
        step += 1
        time.sleep(0.001)
"""


def _environment(uri: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "MLTRAIL_TRACKING_URI": uri,
        "MLTRAIL_ARTIFACT_ROOT": str(tmp_path / "artifacts"),
        **extra,
    }


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(store: SqlStore, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    start_at = time.time() + 4.0  # every process has imported mltrail by then
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=_environment(store.uri, tmp_path),
        )
        for _ in range(PROCESSES)
    ]
    outputs = []
    for writer in writers:
        with writer:
            outputs.append(writer.communicate(timeout=120))
    assert [writer.returncode for writer in writers] == [0] * PROCESSES, outputs
    assert all(stderr == "" for _, stderr in outputs), [e for _, e in outputs if e]
    run_ids = [run_id for stdout, _ in outputs for run_id in stdout.split()]
    assert len(set(run_ids)) == PROCESSES * THREADS
    for run_id in run_ids:
        history = store.get_metric_history(run_id, "m")
        assert [metric.step for metric in history] == list(range(POINTS))
        assert store.get_run(run_id).info.status == "FINISHED"


@pytest.mark.slow
def test_killed_process_loses_at_most_the_last_second(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/victim.db"
    script = tmp_path / "victim.py"
    script.write_text(VICTIM)
    logged: list[tuple[int, int]] = []
    with subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_environment(uri, tmp_path, MLTRAIL_HEARTBEAT_INTERVAL="0.2"),
    ) as victim:
        assert victim.stdout is not None
        run_id = victim.stdout.readline().split()[1]

        def read() -> None:
            assert victim.stdout is not None
            for line in victim.stdout:
                if not line.endswith("\n"):
                    # Cut by the kill: unbuffered (PYTHONUNBUFFERED), print writes
                    # the step, the space, the time and the newline one by one.
                    break
                step, timestamp = line.split()
                logged.append((int(step), int(timestamp)))

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(3.0)
        killed_at = int(time.time() * 1000)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        reader.join(timeout=10)

    store = SqlStore(
        uri, artifact_root=str(tmp_path / "artifacts"), heartbeat_timeout=1.0
    )
    try:
        stored = {metric.step for metric in store.get_metric_history(run_id, "m")}
        old_enough = {
            step for step, timestamp in logged if timestamp < killed_at - 1000
        }
        assert len(old_enough) > 100
        assert old_enough <= stored
        time.sleep(1.5)
        assert store.get_run(run_id).info.status == "KILLED"
    finally:
        store.close()
