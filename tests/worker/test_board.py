"""``TaskBoard``: tasks go to the helper; answers bring follow-up jobs here."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from mltrail._worker import _board, _helper
from mltrail._worker._board import Job, TaskBoard
from mltrail._worker._tasks import RunArtifacts, Task
from mltrail.evaluation._render import PlotRenderer
from tests.worker._tasks import fail, pid_file, wait_for

TIMEOUT = 120.0


class Local:
    """This process's background thread, reduced to a list of jobs run at once."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.failed: list[tuple[str, BaseException]] = []
        self.lock = threading.Lock()

    def submit(self, run_id: str, job: Job, name: str) -> None:
        try:
            list(job())
        except Exception as exc:
            with self.lock:
                self.failed.append((name, exc))
        else:
            with self.lock:
                self.done.append(name)

    def wait(self, run_id: str | None, timeout: float | None) -> bool:
        return True


@pytest.fixture
def local() -> Local:
    return Local()


@pytest.fixture
def board(local: Local) -> TaskBoard:
    return TaskBoard(local.submit, local.wait)


def _pid_task(root: Path, name: str = "pid", *, is_rendering: bool = False) -> Task:
    return Task(
        "run",
        RunArtifacts(str(root)),
        pid_file,
        (str(root / f"{name}.pid"),),
        name=name,
        is_rendering=is_rendering,
    )


def _blocker(root: Path, name: str = "blocker", **kwargs: bool) -> Task:
    return Task(
        "run",
        RunArtifacts(str(root)),
        wait_for,
        (str(root / "go"),),
        name=name,
        **kwargs,
    )


def test_task_is_done_by_the_helper(
    helper: _helper.Helper, board: TaskBoard, local: Local, tmp_path: Path
) -> None:
    board.submit(_pid_task(tmp_path))
    assert board.wait("run", timeout=TIMEOUT)
    assert int((tmp_path / "pid.pid").read_text()) == helper.pid
    assert local.done == []


def test_task_is_done_here_without_a_helper(
    board: TaskBoard, local: Local, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_helper, "_helper", None)
    board.submit(_pid_task(tmp_path))
    assert int((tmp_path / "pid.pid").read_text()) == os.getpid()
    assert local.done == ["pid"]


def test_failure_in_the_helper_fails_a_local_job_of_the_task_name(
    helper: _helper.Helper, board: TaskBoard, local: Local, tmp_path: Path
) -> None:
    board.submit(
        Task("run", RunArtifacts(str(tmp_path)), fail, ("disk full",), name="model")
    )
    assert board.wait("run", timeout=TIMEOUT)
    ((name, error),) = local.failed
    assert name == "model"
    assert isinstance(error, OSError)
    assert str(error) == "disk full"


def test_task_the_helper_gives_back_is_done_here(
    helper: _helper.Helper, board: TaskBoard, local: Local, tmp_path: Path
) -> None:
    board.submit(_blocker(tmp_path))
    board.submit(_pid_task(tmp_path))
    os.kill(helper.pid, 9)  # holding both: both come back
    (tmp_path / "go").touch()
    assert board.wait("run", timeout=TIMEOUT)
    assert int((tmp_path / "pid.pid").read_text()) == os.getpid()
    assert local.done == ["blocker", "pid"]


def _ending(ended: list[str], run: str) -> Job:
    def end() -> list[tuple[str, bytes]]:
        ended.append(run)
        return []

    return end


def test_job_after_tasks_waits_for_the_run_s_tasks(
    helper: _helper.Helper, board: TaskBoard, tmp_path: Path
) -> None:
    ended: list[str] = []
    board.submit(_blocker(tmp_path))
    board.after_tasks("run", _ending(ended, "run"), "end of run")
    board.after_tasks("other run", _ending(ended, "other run"), "end of other run")
    assert ended == ["other run"]
    assert not board.wait("run", timeout=0.05)
    (tmp_path / "go").touch()
    assert board.wait("run", timeout=TIMEOUT)
    assert ended == ["other run", "run"]


def test_job_after_tasks_does_not_wait_for_renderings(
    helper: _helper.Helper, board: TaskBoard, tmp_path: Path
) -> None:
    ended: list[str] = []
    board.submit(_blocker(tmp_path, is_rendering=True))
    board.after_tasks("run", _ending(ended, "run"), "end of run")
    assert ended == ["run"]
    assert board.wait("run", renderings=False, timeout=TIMEOUT)
    assert not board.wait("run", timeout=0.05)
    (tmp_path / "go").touch()
    assert board.wait(timeout=TIMEOUT)


def test_finish_runs_here_after_the_helper_did_the_task(
    helper: _helper.Helper, board: TaskBoard, local: Local, tmp_path: Path
) -> None:
    finished: list[BaseException | None] = []
    board.submit(_pid_task(tmp_path), finish=finished.append)
    assert board.wait("run", timeout=TIMEOUT)
    assert finished == [None]
    assert local.done == ["pid"]  # the finishing job
    assert int((tmp_path / "pid.pid").read_text()) == helper.pid


def test_finish_gets_the_failure_of_the_helper(
    helper: _helper.Helper, board: TaskBoard, local: Local, tmp_path: Path
) -> None:
    finished: list[BaseException | None] = []
    task = Task("run", RunArtifacts(str(tmp_path)), fail, ("disk full",), name="m")
    board.submit(task, finish=finished.append)
    assert board.wait("run", timeout=TIMEOUT)
    (error,) = finished
    assert isinstance(error, OSError)
    assert [name for name, _ in local.failed] == ["m"]


@pytest.mark.parametrize("message", ["disk full", None], ids=["fails", "succeeds"])
def test_finish_follows_a_task_done_here(
    board: TaskBoard,
    local: Local,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    message: str | None,
) -> None:
    monkeypatch.setattr(_helper, "_helper", None)
    finished: list[BaseException | None] = []
    task = (
        _pid_task(tmp_path)
        if message is None
        else Task("run", RunArtifacts(str(tmp_path)), fail, (message,), name="pid")
    )
    board.submit(task, finish=finished.append)
    assert board.wait("run", timeout=TIMEOUT)
    if message is None:
        assert finished == [None]
        assert local.done == ["pid"]
    else:
        assert isinstance(finished[0], OSError)
        assert [name for name, _ in local.failed] == ["pid"]


def test_job_after_tasks_waits_for_tasks_submitted_before_its_turn(
    helper: _helper.Helper, tmp_path: Path
) -> None:
    class Queue:
        """A background thread that runs jobs when told, in order."""

        def __init__(self) -> None:
            self.jobs: list[tuple[str, Job]] = []
            self.done: list[str] = []

        def submit(self, run_id: str, job: Job, name: str) -> None:
            self.jobs.append((name, job))

        def run(self) -> None:
            while self.jobs:
                name, job = self.jobs.pop(0)
                list(job())
                self.done.append(name)

    queue = Queue()
    board = TaskBoard(queue.submit, lambda run_id, timeout: True)
    ended: list[bool] = []

    def model() -> list[tuple[str, bytes]]:  # submits the run's task when it runs
        board.submit(_blocker(tmp_path))
        return []

    def end() -> list[tuple[str, bytes]]:
        ended.append(True)
        return []

    queue.submit("run", model, "model")
    board.after_tasks("run", end, "end")
    queue.run()
    assert (queue.done, ended) == (["model", "end"], [])  # its turn came: it waited
    (tmp_path / "go").touch()
    for _ in range(int(TIMEOUT * 100)):  # the answer queues the end
        if queue.jobs:
            break
        threading.Event().wait(0.01)
    queue.run()
    assert (queue.done, ended) == (["model", "end", "end"], [True])


def test_wait_for_every_run(
    helper: _helper.Helper, board: TaskBoard, tmp_path: Path
) -> None:
    board.submit(_blocker(tmp_path))
    assert not board.wait(timeout=0.05)
    (tmp_path / "go").touch()
    assert board.wait(timeout=TIMEOUT)


def test_wait_runs_the_local_jobs_while_the_helper_works(
    helper: _helper.Helper, tmp_path: Path
) -> None:
    # Queued jobs start only when someone waits for them (or after a long delay);
    # the end of a run must not hold them back until the helper's tasks are done.
    renderer = PlotRenderer(lambda run_id, files: None, start_delay=600.0)
    board = TaskBoard(
        lambda run_id, job, name: renderer.submit(run_id, job, name=name),
        lambda run_id, timeout: renderer.wait(run_id, timeout=timeout),
    )

    def release() -> list[tuple[str, bytes]]:
        (tmp_path / "go").touch()
        return []

    board.submit(_blocker(tmp_path))  # the helper's task waits for the local job
    renderer.submit("run", release, name="release")
    assert board.wait("run", timeout=20.0)
    assert (tmp_path / "go").exists()


def test_wait_times_out_while_the_local_thread_is_busy(local: Local) -> None:
    board = TaskBoard(local.submit, lambda run_id, timeout: False)
    assert not board.wait("run", timeout=0.05)


def test_wait_covers_follow_ups_queued_meanwhile(board: TaskBoard) -> None:
    # A follow-up being queued: no ticket is open, but the run is not idle yet.
    board._handing["run"] = 1
    timer = threading.Timer(0.05, lambda: board._handing.pop("run"))
    timer.start()
    assert board.wait("run", timeout=TIMEOUT)
    timer.join()
    board._handing["run"] = 1
    assert not board.wait("run", timeout=0.02)


def test_forked_child_forgets_the_parent_s_tasks(
    helper: _helper.Helper, board: TaskBoard, tmp_path: Path
) -> None:
    board.submit(_blocker(tmp_path))
    _board._reset_after_fork()  # as os.fork does in the child
    assert board.wait(timeout=TIMEOUT)
    (tmp_path / "go").touch()
