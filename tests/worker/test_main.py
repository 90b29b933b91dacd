"""The helper's loop, run here on pipes: tasks in, one answer per task out."""

from __future__ import annotations

import gc
import importlib.util
import os
import pickle
import select
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mltrail._errors import NotFoundError
from mltrail._worker import _main
from mltrail._worker._main import serve
from mltrail._worker._protocol import (
    DESCRIBE,
    StoreCall,
    dumps_task,
    load_error,
    read_frame,
    read_message,
    write_frame,
    write_message,
)
from mltrail._worker._tasks import RunArtifacts, Task, modules_needed
from tests.worker._tasks import fail, files, wait_for


class Loop:
    """A helper loop in a thread, with the pipe ends of its parent.

    ``shutdown`` closes every end only after the loop's reader thread has seen the
    end of its input: a file descriptor closed under a blocked reader would be
    reused by the next test's pipe, and the stale reader would steal its frames.
    """

    def __init__(self, *, is_parent_alive: Any = None) -> None:
        self.input_fd, self.to_loop = os.pipe()
        self.from_loop, self.output_fd = os.pipe()
        self.open = {self.input_fd, self.to_loop, self.from_loop, self.output_fd}
        self.thread = threading.Thread(
            target=serve,
            args=(self.input_fd, self.output_fd),
            kwargs={"is_parent_alive": is_parent_alive},
            daemon=True,
        )
        self.thread.start()

    def send(self, task_id: int, task: object) -> None:
        header = pickle.dumps(("task", task_id))
        write_frame(self.to_loop, [header, *dumps_task(task)])

    def frame(self) -> list[bytearray] | None:
        """Read the loop's next frame that is not a pulse (None at the end)."""
        while True:
            frame = read_frame(self.from_loop)
            if frame is None or pickle.loads(frame[0]) != ("alive", -1):  # noqa: S301
                return frame

    def answer(self) -> tuple[Any, ...]:
        frame = self.frame()
        assert frame is not None
        message = pickle.loads(frame[0])  # noqa: S301 - our own pipe
        if message[0] == "failed":
            return (*message, load_error(frame[1]))
        return tuple(message)

    def close(self, fd: int) -> None:
        if fd in self.open:
            self.open.discard(fd)
            os.close(fd)

    def join(self) -> None:
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()

    def shutdown(self) -> None:
        self.close(self.to_loop)
        self.join()
        for _ in range(600):
            names = {thread.name for thread in threading.enumerate()}
            if "mltrail-helper-reader" not in names:
                break
            threading.Event().wait(0.05)
        for fd in list(self.open):
            self.close(fd)


@pytest.fixture
def loop() -> Iterator[Loop]:
    started = Loop()
    yield started
    started.shutdown()


def _task(root: Path, function: Any, *args: Any) -> Task:
    return Task("run", RunArtifacts(str(root)), function, args, name="test task")


def test_task_is_done_and_its_files_written(loop: Loop, tmp_path: Path) -> None:
    loop.send(1, _task(tmp_path, files, {"plots/a.png": b"png"}))
    assert loop.answer() == ("done", 1)
    assert (tmp_path / "plots" / "a.png").read_bytes() == b"png"


def test_failed_task_sends_its_exception(loop: Loop, tmp_path: Path) -> None:
    loop.send(2, _task(tmp_path, fail, "no space left"))
    kind, task_id, error = loop.answer()
    assert (kind, task_id) == ("failed", 2)
    assert isinstance(error, OSError)
    assert str(error) == "no space left"


def test_exception_that_cannot_travel_is_sent_as_text(
    loop: Loop, tmp_path: Path
) -> None:
    loop.send(3, _task(tmp_path, fail, "unpicklable"))
    kind, task_id, error = loop.answer()
    assert (kind, task_id) == ("failed", 3)
    assert isinstance(error, RuntimeError)
    assert str(error) == "Unpicklable: cannot travel"


def test_task_that_cannot_be_loaded_is_refused(loop: Loop) -> None:
    header = pickle.dumps(("task", 4))
    write_frame(loop.to_loop, [header, b"not a pickle"])
    kind, task_id, reason = loop.answer()
    assert (kind, task_id) == ("refused", 4)
    assert "UnpicklingError" in reason


def test_object_that_is_not_a_task_is_refused(loop: Loop) -> None:
    loop.send(5, {"not": "a task"})
    kind, task_id, reason = loop.answer()
    assert (kind, task_id) == ("refused", 5)
    assert reason == "TypeError: not a task: dict"


def test_warm_imports_the_modules_named(loop: Loop) -> None:
    name = "tests.worker._warm_target"
    sys.modules.pop(name, None)
    write_message(loop.to_loop, ("warm", ["no.such.module", name]))
    loop.send(6, _task(Path("."), files, {}))
    assert loop.answer() == ("done", 6)  # tasks first, imports when idle
    for _ in range(600):
        if name in sys.modules:
            break
        threading.Event().wait(0.05)
    assert name in sys.modules


def test_tasks_sent_before_the_end_are_all_done(loop: Loop, tmp_path: Path) -> None:
    for task_id in range(5):
        loop.send(task_id, _task(tmp_path, files, {f"f{task_id}.txt": b"x"}))
    loop.close(loop.to_loop)  # the parent exits right after sending
    answers = [read_message(loop.from_loop) for _ in range(5)]
    loop.join()
    assert answers == [("done", task_id) for task_id in range(5)]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        f"f{task_id}.txt" for task_id in range(5)
    ]


def test_loop_pulses_while_a_task_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_main, "PULSE_INTERVAL", 0.05)
    loop = Loop()
    try:
        release = tmp_path / "release"
        loop.send(1, _task(tmp_path, wait_for, str(release)))
        frame = read_frame(loop.from_loop)  # the task has not answered yet
        assert frame is not None
        assert pickle.loads(frame[0]) == ("alive", -1)  # noqa: S301 - our own pipe
        release.touch()
        assert loop.answer() == ("done", 1)
    finally:
        loop.shutdown()


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Give this process's objects back to the collector after the test."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_import_keeps_the_new_modules_out_of_the_collector_s_way(
    unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_main, "IS_HELPER", True)  # only the helper freezes
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)  # a new import
    monkeypatch.setattr(_main, "_modules_frozen", len(sys.modules))
    _main._freeze_modules()  # nothing imported since: nothing frozen
    assert gc.get_freeze_count() == 0
    _main._import("colorsys")
    assert "colorsys" in sys.modules
    assert gc.get_freeze_count() > 0
    assert _main._modules_frozen == len(sys.modules)


def test_import_outside_the_helper_freezes_nothing(
    unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    monkeypatch.setattr(_main, "_modules_frozen", len(sys.modules))
    _main._import("colorsys")  # as in a test's own loop, in this process
    assert "colorsys" in sys.modules
    assert gc.get_freeze_count() == 0


def _module_that_records_the_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, fails: bool = False
) -> str:
    """Write a module that records whether the collector is on while it runs."""
    name = f"collector_probe_{tmp_path.name}_{int(fails)}"
    body = "import gc\nIMPORTED_WITH_COLLECTOR = gc.isenabled()\n"
    (tmp_path / f"{name}.py").write_text(body + ("raise ValueError\n" if fails else ""))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def test_the_helper_imports_with_the_collector_off(
    unfrozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_main, "IS_HELPER", True)
    monkeypatch.setattr(_main, "_modules_frozen", len(sys.modules))
    name = _module_that_records_the_collector(tmp_path, monkeypatch)
    assert gc.isenabled()
    _main._import(name)
    assert sys.modules[name].IMPORTED_WITH_COLLECTOR is False
    assert gc.isenabled()  # on again after the import
    assert gc.get_freeze_count() > 0  # and what it made is frozen


def test_a_failed_import_turns_the_collector_back_on(
    unfrozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_main, "IS_HELPER", True)
    name = _module_that_records_the_collector(tmp_path, monkeypatch, fails=True)
    _main._import(name)  # never fails
    assert name not in sys.modules
    assert gc.isenabled()


def test_imports_outside_the_helper_leave_the_collector_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _module_that_records_the_collector(tmp_path, monkeypatch)
    _main._import(name)
    assert sys.modules[name].IMPORTED_WITH_COLLECTOR is True


def test_exit_message_ends_the_loop(loop: Loop) -> None:
    write_message(loop.to_loop, ("exit",))
    loop.join()


def test_frame_cut_by_a_dying_parent_ends_the_loop(loop: Loop) -> None:
    os.write(loop.to_loop, (1).to_bytes(4, "big") + (99).to_bytes(8, "big") + b"ab")
    loop.close(loop.to_loop)
    loop.join()
    loop.close(loop.output_fd)
    assert loop.frame() is None


def test_gone_parent_ends_the_loop_although_the_pipe_stays_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail._worker import _main

    monkeypatch.setattr(_main, "PARENT_CHECK_INTERVAL", 0.01)
    is_alive = threading.Event()
    is_alive.set()
    loop = Loop(is_parent_alive=is_alive.is_set)
    try:
        loop.send(1, _task(tmp_path, files, {"a.txt": b"a"}))
        assert loop.answer() == ("done", 1)
        is_alive.clear()
        loop.join()
    finally:
        loop.shutdown()


def test_tasks_in_the_pipe_of_a_dead_parent_are_all_done(tmp_path: Path) -> None:
    input_fd, to_loop = os.pipe()
    from_loop, output_fd = os.pipe()
    try:
        for task_id in range(3):  # written, then the parent died
            header = pickle.dumps(("task", task_id))
            task = _task(tmp_path, files, {f"f{task_id}.txt": b"x"})
            write_frame(to_loop, [header, *dumps_task(task)])
        # The pipe stays open (a child of the parent holds it): only the watchdog
        # can tell that the parent is gone, and it tells at once.
        serve(input_fd, output_fd, is_parent_alive=lambda: False)
        assert [read_message(from_loop) for _ in range(3)] == [
            ("done", task_id) for task_id in range(3)
        ]
    finally:
        os.close(to_loop)
        deadline = threading.Event()
        for _ in range(600):
            names = {thread.name for thread in threading.enumerate()}
            if "mltrail-helper-reader" not in names:
                break
            deadline.wait(0.05)
        for fd in (input_fd, from_loop, output_fd):
            os.close(fd)


def test_answers_to_a_gone_parent_are_dropped(loop: Loop, tmp_path: Path) -> None:
    loop.close(loop.from_loop)  # nobody reads the answers any more
    loop.send(1, _task(tmp_path, files, {"a.txt": b"a"}))
    loop.send(2, _task(tmp_path, fail, "no space left"))
    loop.close(loop.to_loop)
    loop.join()
    assert (tmp_path / "a.txt").read_bytes() == b"a"


def _rendering(root: Path, name: str) -> Task:
    return Task(
        "run", RunArtifacts(str(root)), files, ({name: b"x"},), is_rendering=True
    )


def test_renderings_wait_for_the_tasks_sent_after_them(
    loop: Loop, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    loop.send(1, _task(tmp_path, wait_for, str(release)))  # the loop is busy
    for task_id in (2, 3):
        rendering = _rendering(tmp_path, f"picture{task_id}.png")
        header = pickle.dumps(("task", task_id, True))
        write_frame(loop.to_loop, [header, *dumps_task(rendering)])
    loop.send(4, _task(tmp_path, files, {"model.txt": b"m"}))
    # The frames are in the pipe; give the loop's reader thread, which a loaded
    # machine may keep waiting, the time to queue them before the busy task ends.
    time.sleep(0.5)
    release.touch()
    answers = [loop.answer() for _ in range(4)]
    assert answers == [("done", 1), ("done", 4), ("done", 2), ("done", 3)]


def test_renderings_wait_for_a_quiet_moment(
    loop: Loop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail._worker import _main

    # The loop reads the setting at each turn: long enough that a task sent
    # moments after the rendering always comes first, on any machine.
    monkeypatch.setattr(_main, "RENDER_QUIET", 3.0)
    header = pickle.dumps(("task", 1, True))
    write_frame(loop.to_loop, [header, *dumps_task(_rendering(tmp_path, "p.png"))])
    time.sleep(0.2)  # the loop is idle: without the rule it would draw now
    loop.send(2, _task(tmp_path, files, {"model.txt": b"m"}))
    assert loop.answer() == ("done", 2)
    assert not (tmp_path / "p.png").exists()
    assert loop.answer() == ("done", 1)  # drawn once nothing came for a while
    assert (tmp_path / "p.png").read_bytes() == b"x"


def test_busy_parent_holds_renderings_back(
    loop: Loop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four times the pause between the fits: a loaded machine may delay a write.
    monkeypatch.setattr(_main, "RENDER_QUIET", 2.0)
    header = pickle.dumps(("task", 1, True))
    write_frame(loop.to_loop, [header, *dumps_task(_rendering(tmp_path, "p.png"))])
    # A fit starts every half second: never two quiet seconds, never a picture.
    for _ in range(8):
        write_message(loop.to_loop, ("busy",))
        time.sleep(0.5)
    assert not (tmp_path / "p.png").exists()
    assert loop.answer() == ("done", 1)  # drawn once the fits stopped
    assert (tmp_path / "p.png").read_bytes() == b"x"


def test_renderings_are_drawn_after_the_input_ends(loop: Loop, tmp_path: Path) -> None:
    release = tmp_path / "release"
    loop.send(1, _task(tmp_path, wait_for, str(release)))
    rendering = _rendering(tmp_path, "picture.png")
    write_frame(loop.to_loop, [pickle.dumps(("task", 2, True)), *dumps_task(rendering)])
    loop.close(loop.to_loop)  # the parent exits
    release.touch()
    loop.join()
    assert (tmp_path / "picture.png").read_bytes() == b"x"


def _call(loop: Loop, call_id: int, call: StoreCall) -> tuple[Any, ...]:
    header = pickle.dumps(("store", call_id))
    write_frame(loop.to_loop, [header, pickle.dumps(call)])
    frame = loop.frame()
    assert frame is not None
    message = pickle.loads(frame[0])  # noqa: S301 - our own pipe
    if message[0] == "failed":
        return (*message, load_error(frame[1]))
    if message[0] == "done":
        return (*message, pickle.loads(frame[1]))  # noqa: S301 - our own pipe
    return tuple(message)


def test_store_calls_are_made_in_order_on_the_named_store(
    loop: Loop, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'calls.db'}"
    root = str(tmp_path / "artifacts")
    created = _call(loop, 1, StoreCall(uri, root, "create_experiment", ("churn",)))
    assert created[:2] == ("done", 1)
    found = _call(loop, 2, StoreCall(uri, root, "get_experiment", (created[2],)))
    assert found[:2] == ("done", 2)
    assert found[2].name == "churn"
    assert _call(loop, 3, StoreCall(uri, root, "artifact_root")) == ("done", 3, root)
    names = _call(loop, 4, StoreCall(uri, root, DESCRIBE))[2]
    assert names["create_run"] is True
    assert names["artifact_root"] is False


def test_store_error_comes_back_as_its_own_class(loop: Loop, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'calls.db'}"
    kind, call_id, error = _call(loop, 1, StoreCall(uri, None, "get_run", ("f" * 32,)))
    assert (kind, call_id) == ("failed", 1)
    assert isinstance(error, NotFoundError)
    assert error.key == "f" * 32
    assert error.get_error_code() == "RESOURCE_DOES_NOT_EXIST"


def test_store_call_the_helper_cannot_make_is_refused(loop: Loop) -> None:
    header = pickle.dumps(("store", 7))
    write_frame(loop.to_loop, [header, b"not a pickle"])
    assert _read_kind(loop) == ("refused", 7)


def _read_kind(loop: Loop) -> tuple[Any, ...]:
    frame = loop.frame()
    assert frame is not None
    return tuple(pickle.loads(frame[0])[:2])  # noqa: S301 - our own pipe


def test_store_call_is_answered_while_a_task_runs(loop: Loop, tmp_path: Path) -> None:
    release = tmp_path / "release"
    loop.send(1, _task(tmp_path, wait_for, str(release), 60))
    uri = f"sqlite:///{tmp_path / 'calls.db'}"
    # The task thread is busy until the file appears; the store thread is not.
    assert _call(loop, 2, StoreCall(uri, None, "get_experiment", ("0",)))[:2] == (
        "done",
        2,
    )
    release.write_text("")
    assert loop.answer() == ("done", 1)


def test_store_call_goes_on_once_the_store_is_imported_under_a_held_lock(
    loop: Loop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The task thread imports the store, then at once takes the import lock again
    # for skops (a second or more): the store call must not wait for skops.
    monkeypatch.setattr(_main, "_store_imported", threading.Event())
    held, release = threading.Event(), threading.Event()

    def import_something_long() -> None:
        with _main._import_lock:
            held.set()
            release.wait(60)

    holder = threading.Thread(target=import_something_long, daemon=True)
    holder.start()
    assert held.wait(10)
    try:
        call = StoreCall(f"sqlite:///{tmp_path / 'calls.db'}", None, "artifact_root")
        header = pickle.dumps(("store", 1))
        write_frame(loop.to_loop, [header, pickle.dumps(call)])
        readable, _, _ = select.select([loop.from_loop], [], [], 0.3)
        assert not readable  # the store is not imported yet: the call waits
        _main._store_imported.set()  # imported; the lock stays held
        readable, _, _ = select.select([loop.from_loop], [], [], 10)
        assert readable
        assert _read_kind(loop) == ("done", 1)
        assert not release.is_set()
    finally:
        release.set()
        holder.join(timeout=30)


@pytest.mark.parametrize("log_plots", [True, False])
@pytest.mark.parametrize("serialization_format", ["skops", "cloudpickle"])
def test_the_helper_imports_what_tasks_need_in_a_useful_order(
    serialization_format: str, log_plots: bool
) -> None:
    modules = modules_needed(
        log_models=True, serialization_format=serialization_format, log_plots=log_plots
    )
    assert all(importlib.util.find_spec(name) is not None for name in modules)
    assert len(set(modules)) == len(modules)
    saver = "mltrail.models._skops" if serialization_format == "skops" else "sklearn"
    # The store early (the first fit's run waits for it), what the model's save
    # imports after skops, the plots' module last.
    assert modules.index("mltrail.store._sql") < modules.index(saver)
    assert modules.index(saver) < modules.index("yaml")
    assert ("mltrail.evaluation._figures" in modules) is log_plots
    if log_plots:
        assert modules[-1] == "mltrail.evaluation._figures"
    # scipy's ufuncs loaded ahead of SQLAlchemy's modules (see modules_needed).
    assert (modules[0] == "scipy.special") is (serialization_format == "skops")


def test_the_helper_imports_no_model_code_when_no_model_is_logged() -> None:
    modules = modules_needed(
        log_models=False, serialization_format="skops", log_plots=False
    )
    assert modules == [
        "mltrail.store._sql",
        "mltrail.sklearn.recorders._logging",
        "mltrail._worker._model",
    ]
