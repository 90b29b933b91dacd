"""A tracked script whose helper is killed or stuck mid-run leaves a complete run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sklearn.datasets import load_wine

import mltrail
from mltrail.tracking import TrackingClient
from tests.worker.conftest import wait_until_gone

TIMEOUT = 300.0
ROOT = Path(__file__).parents[2]

SCRIPT = """
import os, sys
import mltrail
from mltrail._worker import _helper
from mltrail._worker._tasks import RunArtifacts, Task
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from tests.worker._tasks import pid_file, wait_for

root = sys.argv[1]
mltrail.sklearn.autolog()
helper = _helper.current()
artifacts = RunArtifacts(root)
helper.submit(Task("none", artifacts, pid_file, (os.path.join(root, "helper.pid"),)))
# The helper stays busy until it is killed: every task of the run waits behind.
helper.submit(Task("none", artifacts, wait_for, (os.path.join(root, "never"), 600)))
X, y = load_wine(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
with mltrail.start_run() as run:
    model = RandomForestClassifier(n_estimators=10, random_state=0)
    model.fit(X_train, y_train)
    model.predict(X_test)
    # Whole or not at all: the test reads it as soon as the name exists.
    with open(os.path.join(root, "run_id.tmp"), "w") as file:
        file.write(run.info.run_id)
    os.replace(os.path.join(root, "run_id.tmp"), os.path.join(root, "run_id"))
"""


def _start(tmp_path: Path, source: str) -> subprocess.Popen[bytes]:
    """Write ``source`` as a script in ``tmp_path`` and start it."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _read(path: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        assert process.poll() is None, "the script ended early"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return path.read_text()


@pytest.mark.slow
def test_script_whose_helper_is_killed_mid_run_logs_everything(
    tmp_path: Path,
) -> None:
    process = _start(tmp_path, SCRIPT)
    try:
        helper_pid = int(_read(tmp_path / "helper.pid", process))
        run_id = _read(tmp_path / "run_id", process)
        os.kill(helper_pid, signal.SIGKILL)
        assert process.wait(TIMEOUT) == 0
    finally:
        process.kill()
        process.wait(TIMEOUT)
    assert wait_until_gone(helper_pid)
    _assert_complete(run_id)


def _assert_complete(run_id: str) -> None:
    """Check that the run has its metrics, its model and every plot's PNG."""
    client = TrackingClient()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert {"training_accuracy_score", "test_accuracy"} <= set(run.data.metrics)
    model = mltrail.sklearn.load_model(f"runs:/{run_id}/model")
    X, _ = load_wine(return_X_y=True, as_frame=True)
    assert model.predict(X).shape == (X.shape[0],)
    plots = {info.path for info in client.list_artifacts(run_id, "plots")}
    pictures = {path.removesuffix(".png") for path in plots if path.endswith(".png")}
    data = {path.removesuffix(".json") for path in plots if path.endswith(".json")}
    assert "plots/test_roc_curve" in data
    assert "plots/training_confusion_matrix" in data
    # The process drew what the helper could not: every plot has its PNG.
    assert pictures == data


STOPPED_SCRIPT = """
import os, signal, sys, time
import mltrail
from mltrail._worker import _helper
from mltrail._worker._tasks import RunArtifacts, Task
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from tests.worker._tasks import pid_file

root = sys.argv[1]
mltrail.sklearn.autolog()
helper = _helper.current()
pid_path = os.path.join(root, "helper.pid")
_helper.wait(helper.submit(Task("none", RunArtifacts(root), pid_file, (pid_path,))))
# Alive but stuck from here on, as if it were stopped in a debugger.
_helper.STALL_TIMEOUT, _helper.STALL_CHECK = 2.0, 0.1
os.kill(helper.pid, signal.SIGSTOP)
X, y = load_wine(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
with mltrail.start_run() as run:
    model = RandomForestClassifier(n_estimators=10, random_state=0)
    model.fit(X_train, y_train)
    model.predict(X_test)
with open(os.path.join(root, "run_id"), "w") as file:
    file.write(run.info.run_id)
"""


@pytest.mark.slow
def test_script_whose_helper_is_stuck_ends_it_and_logs_everything(
    tmp_path: Path,
) -> None:
    process = _start(tmp_path, STOPPED_SCRIPT)
    try:
        assert process.wait(TIMEOUT) == 0
    finally:
        process.kill()
        process.wait(TIMEOUT)
    # The stuck helper was killed, not left stopped forever.
    assert wait_until_gone(int((tmp_path / "helper.pid").read_text()))
    _assert_complete((tmp_path / "run_id").read_text())


HANGING_SCRIPT = """
import os, sys, time
import mltrail
from mltrail._worker import _helper
from mltrail._worker._tasks import RunArtifacts, Task
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from tests.worker._tasks import pid_file

root = sys.argv[1]
mltrail.sklearn.autolog()
pid_path = os.path.join(root, "helper.pid")
_helper.current().submit(Task("none", RunArtifacts(root), pid_file, (pid_path,)))
X, y = load_wine(return_X_y=True, as_frame=True)
RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
with open(os.path.join(root, "run_id.tmp"), "w") as file:
    file.write(mltrail.last_active_run().info.run_id)
os.replace(os.path.join(root, "run_id.tmp"), os.path.join(root, "run_id"))
time.sleep(600)  # killed here
"""


@pytest.mark.slow
def test_helper_of_a_killed_script_exits(tmp_path: Path) -> None:
    process = _start(tmp_path, HANGING_SCRIPT)
    try:
        helper_pid = int(_read(tmp_path / "helper.pid", process))
        _read(tmp_path / "run_id", process)
        process.kill()
        process.wait(TIMEOUT)
    finally:
        process.kill()
        process.wait(TIMEOUT)
    assert wait_until_gone(helper_pid)
