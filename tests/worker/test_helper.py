"""A real helper process: it does tasks, and whatever it cannot do comes back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from mltrail._worker import _helper
from mltrail._worker._tasks import RunArtifacts, Task
from tests.worker._tasks import fail, files, pid_file, wait_for
from tests.worker.conftest import wait_until_gone

TIMEOUT = 120


def _task(root: Path, function: object, *args: object) -> Task:
    return Task("run", RunArtifacts(str(root)), function, args, name="test task")  # type: ignore[arg-type]


def test_helper_does_tasks_in_another_process(
    helper: _helper.Helper, tmp_path: Path
) -> None:
    ticket = helper.submit(_task(tmp_path, pid_file, str(tmp_path / "pid")))
    assert ticket.resolved.wait(TIMEOUT)
    assert (ticket.outcome, ticket.reason) == ("done", None)
    assert int((tmp_path / "pid").read_text()) == helper.pid != os.getpid()


def test_helper_runs_below_the_user_process(
    helper: _helper.Helper, tmp_path: Path
) -> None:
    # Its work must not take a core from the user's own threads (BLAS, OpenMP);
    # when the user's process waits for it, it has the cores anyway.
    ticket = helper.submit(_task(tmp_path, pid_file, str(tmp_path / "pid")))
    assert ticket.resolved.wait(TIMEOUT)  # its set-up is done
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, helper.pid) == min(19, ours + 10)


def test_helper_writes_the_files_a_task_returns(
    helper: _helper.Helper, tmp_path: Path
) -> None:
    ticket = helper.submit(_task(tmp_path, files, {"plots/a.json": b"{}"}))
    assert ticket.resolved.wait(TIMEOUT)
    assert (tmp_path / "plots" / "a.json").read_bytes() == b"{}"


def test_failure_in_the_helper_comes_back_as_the_exception(
    helper: _helper.Helper, tmp_path: Path
) -> None:
    ticket = helper.submit(_task(tmp_path, fail, "disk full"))
    assert ticket.resolved.wait(TIMEOUT)
    assert ticket.outcome == "failed"
    assert isinstance(ticket.error, OSError)
    assert str(ticket.error) == "disk full"


def test_task_that_cannot_be_pickled_comes_back_local(
    helper: _helper.Helper, tmp_path: Path
) -> None:
    ticket = helper.submit(_task(tmp_path, files, {"lock": threading.Lock()}))
    assert ticket.resolved.wait(TIMEOUT)
    assert ticket.outcome == "local"


def test_task_the_helper_cannot_load_comes_back_local(
    helper: _helper.Helper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A function of a module the helper cannot import, sent by reference.
    module = tmp_path / "only_here.py"
    module.write_text("def make():\n    return []\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # after the helper started
    import only_here  # type: ignore[import-not-found]

    ticket = helper.submit(_task(tmp_path, only_here.make))
    assert ticket.resolved.wait(TIMEOUT)
    assert ticket.outcome == "local"
    assert ticket.reason == "ModuleNotFoundError: No module named 'only_here'"


def test_killed_helper_gives_every_unanswered_task_back(
    helper: _helper.Helper, tmp_path: Path
) -> None:
    blocker = helper.submit(_task(tmp_path, wait_for, str(tmp_path / "never")))
    waiting = [helper.submit(_task(tmp_path, files, {"a": b"a"})) for _ in range(3)]
    os.kill(helper.pid, signal.SIGKILL)
    for ticket in (blocker, *waiting):
        assert ticket.resolved.wait(TIMEOUT)
        assert ticket.outcome == "local"
    assert wait_until_gone(helper.pid)
    assert not helper.is_alive
    assert _helper.current() is None
    late = helper.submit(_task(tmp_path, files, {}))
    assert late.outcome == "local"


def test_stuck_helper_is_killed_and_gives_its_tasks_back(
    helper: _helper.Helper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = helper.submit(_task(tmp_path, files, {}))
    assert _helper.wait(ready, TIMEOUT)
    assert ready.outcome == "done"  # up and pulsing: from now on, a short timeout
    monkeypatch.setattr(_helper, "STALL_TIMEOUT", 1.0)
    monkeypatch.setattr(_helper, "STALL_CHECK", 0.05)
    os.kill(helper.pid, signal.SIGSTOP)  # alive, but it will never answer
    ticket = helper.submit(_task(tmp_path, files, {"a": b"a"}))
    assert _helper.wait(ticket, TIMEOUT)
    assert (ticket.outcome, ticket.reason) == ("local", "the helper is gone")
    assert wait_until_gone(helper.pid)
    assert _helper.current() is None


def test_busy_helper_that_pulses_is_waited_for(
    helper: _helper.Helper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Busy for three times the stall timeout, but its pulses say it is alive.
    ready = helper.submit(_task(tmp_path, files, {}))
    assert _helper.wait(ready, TIMEOUT)
    monkeypatch.setattr(_helper, "STALL_TIMEOUT", 2.0)
    monkeypatch.setattr(_helper, "STALL_CHECK", 0.05)
    release = tmp_path / "release"
    ticket = helper.submit(_task(tmp_path, wait_for, str(release)))
    timer = threading.Timer(6.0, release.touch)
    timer.start()
    try:
        assert _helper.wait(ticket, TIMEOUT)
    finally:
        timer.cancel()
    assert ticket.outcome == "done"
    assert helper.is_alive


def test_wait_gives_up_after_its_timeout(
    helper: _helper.Helper, tmp_path: Path
) -> None:
    ticket = helper.submit(_task(tmp_path, wait_for, str(tmp_path / "never")))
    assert not _helper.wait(ticket, 0.2)
    assert not ticket.resolved.is_set()
    (tmp_path / "never").touch()
    assert _helper.wait(ticket, TIMEOUT)


def test_wait_without_a_helper_waits_for_the_ticket() -> None:
    ticket = _helper.Ticket(None)  # type: ignore[arg-type]
    assert not _helper.wait(ticket, 0.01)
    ticket.resolve("local")
    assert _helper.wait(ticket)


def test_busy_message_reaches_the_helper_which_goes_on(
    helper: _helper.Helper, tmp_path: Path
) -> None:
    helper.hold_renderings()
    assert helper.flush(TIMEOUT)  # written to the helper's pipe
    ticket = helper.submit(_task(tmp_path, files, {"a": b"a"}))
    assert _helper.wait(ticket, TIMEOUT)
    assert ticket.outcome == "done"
    helper.close()
    helper.hold_renderings()  # a closed helper takes nothing more
    assert helper.flush(TIMEOUT)


def test_start_reuses_the_running_helper(helper: _helper.Helper) -> None:
    assert _helper.start(["json"]) is helper


def test_start_replaces_a_dead_helper(helper: _helper.Helper) -> None:
    os.kill(helper.pid, signal.SIGKILL)
    assert wait_until_gone(helper.pid)
    deadline = time.monotonic() + TIMEOUT
    while helper.is_alive and time.monotonic() < deadline:
        time.sleep(0.01)
    replacement = _helper.start()
    assert replacement is not None
    assert replacement.pid != helper.pid


@pytest.mark.parametrize("value", ["0", "false", "OFF", " no "])
def test_variable_turns_the_helper_off(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setattr(_helper, "_helper", None)
    monkeypatch.setenv("MLTRAIL_HELPER_PROCESS", value)
    assert _helper.start() is None
    assert _helper.current() is None


def test_no_helper_without_a_python_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_helper, "_helper", None)
    monkeypatch.setattr(sys, "executable", "")
    assert _helper.start() is None


def test_no_helper_when_it_cannot_be_spawned(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(_helper, "_helper", None)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    created: list[int] = []
    pipe = os.pipe

    def recording_pipe() -> tuple[int, int]:
        ends = pipe()
        created.extend(ends)
        return ends

    monkeypatch.setattr(os, "pipe", recording_pipe)
    assert _helper.start() is None
    assert len(created) == 4
    for fd in created:  # no pipe end left open
        with pytest.raises(OSError, match="Bad file descriptor"):
            os.fstat(fd)


def test_pipe_ends_below_three_are_moved_above(monkeypatch: pytest.MonkeyPatch) -> None:
    read_end, write_end = os.pipe()
    saved = os.dup(0)
    try:
        os.dup2(read_end, 0)
        moved = _helper._above_standard(0)
        assert moved >= 3
        os.close(moved)
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read_end, write_end):
            os.close(fd)
    assert _helper._above_standard(write_end + 100) == write_end + 100


PARENT = """
import os, sys, time
from mltrail._worker import _helper
from mltrail._worker._tasks import RunArtifacts, Task
from tests.worker._tasks import pid_file, wait_for

root = sys.argv[1]
artifacts = RunArtifacts(root)
if sys.argv[2] == "orphan":  # a helper that may outlive its parent by one second
    _helper.BOOTSTRAP = _helper.BOOTSTRAP.replace(
        "from mltrail._worker._main import main; main()",
        "from mltrail._worker import _main; _main.ORPHAN_GRACE = 1.0; _main.main()",
    )
helper = _helper.start()
helper.submit(Task("run", artifacts, pid_file, (os.path.join(root, "helper.pid"),)))
helper.submit(Task("run", artifacts, wait_for, (os.path.join(root, "go"), 600)))
helper.submit(Task("run", artifacts, pid_file, (os.path.join(root, "after.pid"),)))
helper.flush()
with open(os.path.join(root, "parent.pid"), "w") as file:
    file.write(str(os.getpid()))
if sys.argv[2] == "hang":
    time.sleep(600)
"""


def _run_parent(tmp_path: Path, mode: str) -> subprocess.Popen[bytes]:
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(PARENT))
    root = Path(__file__).parents[2]
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), mode],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def _read_pid(path: Path) -> int:
    deadline = time.monotonic() + TIMEOUT
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return int(path.read_text())


@pytest.mark.slow
def test_helper_finishes_its_tasks_after_its_parent_exits(tmp_path: Path) -> None:
    parent = _run_parent(tmp_path, "exit")
    assert parent.wait(TIMEOUT) == 0
    helper_pid = _read_pid(tmp_path / "helper.pid")
    assert not (tmp_path / "after.pid").exists()
    (tmp_path / "go").touch()
    assert _read_pid(tmp_path / "after.pid") == helper_pid
    assert wait_until_gone(helper_pid)


@pytest.mark.slow
def test_helper_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent = _run_parent(tmp_path, "hang")
    try:
        helper_pid = _read_pid(tmp_path / "helper.pid")
        _read_pid(tmp_path / "parent.pid")
        parent.kill()
        parent.wait(TIMEOUT)
        (tmp_path / "go").touch()
        assert _read_pid(tmp_path / "after.pid") == helper_pid
        assert wait_until_gone(helper_pid)
    finally:
        parent.kill()
        parent.wait(TIMEOUT)


@pytest.mark.slow
def test_helper_whose_task_hangs_ends_soon_after_its_parent(tmp_path: Path) -> None:
    parent = _run_parent(tmp_path, "orphan")
    try:
        helper_pid = _read_pid(tmp_path / "helper.pid")
        assert parent.wait(TIMEOUT) == 0
        # Its task waits for a file that never comes; the helper ends all the same.
        assert wait_until_gone(helper_pid)
        assert not (tmp_path / "after.pid").exists()
    finally:
        parent.kill()
        parent.wait(TIMEOUT)
