"""The renderer runs jobs off the calling thread and reports failures as warnings."""

from __future__ import annotations

import os
import threading
import time
import warnings
import weakref
from typing import Any

import pytest

from mltrail._errors import MltrailWarning
from mltrail.evaluation import _render
from mltrail.evaluation._plots import plot_artifacts, plots_for_classifier
from mltrail.evaluation._render import PlotRenderer


class Recorder:
    def __init__(self) -> None:
        self.files: list[tuple[str, str, bytes]] = []
        self.threads: set[int] = set()
        self.lock = threading.Lock()

    def __call__(self, run_id: str, files: Any) -> None:
        with self.lock:
            self.files += [(run_id, path, data) for path, data in files]
            self.threads.add(threading.get_ident())


def test_jobs_run_off_the_calling_thread() -> None:
    recorder = Recorder()
    renderer = PlotRenderer(recorder)
    job_threads = []

    def job():
        job_threads.append(threading.get_ident())
        return [("plots/a.png", b"a")]

    renderer.submit("run", job)

    assert renderer.wait("run", timeout=30)
    assert len(job_threads) == 1
    assert job_threads[0] != threading.get_ident()
    assert recorder.threads == set(job_threads)
    assert recorder.files == [("run", "plots/a.png", b"a")]


def test_wait_blocks_until_the_run_is_done() -> None:
    recorder = Recorder()
    renderer = PlotRenderer(recorder)
    release = threading.Event()

    def slow_job():
        release.wait(30)
        return [("plots/slow.png", b"s")]

    renderer.submit("run", slow_job)

    assert renderer.wait("run", timeout=0.05) is False
    assert recorder.files == []
    release.set()
    assert renderer.wait("run", timeout=30) is True
    assert recorder.files == [("run", "plots/slow.png", b"s")]


def test_wait_for_one_run_ignores_other_runs() -> None:
    renderer = PlotRenderer(Recorder())
    release = threading.Event()
    renderer.submit("first", lambda: [("a", b"")])
    assert renderer.wait("first", timeout=30)

    renderer.submit("blocked", lambda: [("b", b"")] if release.wait(30) else [])

    assert renderer.wait("other", timeout=0) is True
    assert renderer.wait(timeout=0.05) is False
    release.set()
    assert renderer.wait(timeout=30) is True


def test_failing_job_warns_once_and_others_still_run() -> None:
    recorder = Recorder()
    renderer = PlotRenderer(recorder)

    def broken():
        raise RuntimeError("no ink")

    renderer.submit("run", lambda: [("plots/before.png", b"1")])
    renderer.submit("run", broken, name="roc_curve")
    renderer.submit("run", lambda: [("plots/after.png", b"2")])

    with pytest.warns(
        MltrailWarning, match="'roc_curve' for run 'run'.*no ink"
    ) as caught:
        assert renderer.wait("run", timeout=30)

    assert len(caught) == 1
    assert [path for _, path, _ in recorder.files] == [
        "plots/before.png",
        "plots/after.png",
    ]
    renderer.wait("run", timeout=30)  # reported once: no second warning


def test_failing_write_becomes_a_warning() -> None:
    def refuse(run_id, files):
        raise OSError("disk full")

    renderer = PlotRenderer(refuse)
    renderer.submit("run", lambda: [("plots/a.png", b"")])

    with pytest.warns(MltrailWarning, match="disk full"):
        renderer.wait(timeout=30)


def test_failing_job_never_raises_from_wait_under_error_filter(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(run_id, files):
        raise OSError("disk full")

    renderer = PlotRenderer(refuse)
    renderer.submit("run", lambda: [("plots/a.png", b"")])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert renderer.wait(timeout=30)

    (record,) = caplog.records
    assert "disk full" in record.getMessage()


def test_job_name_defaults_to_the_function_name() -> None:
    renderer = PlotRenderer(Recorder())

    def draw_roc():
        raise ValueError("bad")

    renderer.submit("run", draw_roc)

    with pytest.warns(MltrailWarning, match="'draw_roc'"):
        renderer.wait("run", timeout=30)


def test_real_plots_are_written_through_the_callback() -> None:
    recorder = Recorder()
    renderer = PlotRenderer(recorder)

    renderer.submit(
        "run",
        lambda: plot_artifacts(
            plots_for_classifier(
                [0, 1, 1, 0], [0, 1, 0, 0], y_score=[0.2, 0.9, 0.4, 0.1]
            ),
            dataset="test",
        ),
    )

    assert renderer.wait("run", timeout=60)
    paths = [path for _, path, _ in recorder.files]
    assert "plots/test_roc_curve.png" in paths
    assert "plots/test_confusion_matrix.json" in paths


def test_exit_handler_waits_for_pending_jobs() -> None:
    recorder = Recorder()
    renderer = PlotRenderer(recorder)
    release = threading.Event()
    renderer.submit("run", lambda: [("late", b"")] if release.wait(30) else [])
    threading.Timer(0.05, release.set).start()

    _render._wait_at_exit(timeout=30)

    assert recorder.files == [("run", "late", b"")]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
@pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded:DeprecationWarning"
)
def test_child_after_fork_starts_empty() -> None:
    renderer = PlotRenderer(Recorder())
    release = threading.Event()
    renderer.submit("run", lambda: [("x", b"")] if release.wait(30) else [])
    read_end, write_end = os.pipe()

    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child; reported through the pipe
        is_idle = renderer.wait("run", timeout=0)
        os.write(write_end, b"1" if is_idle else b"0")
        os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 1)
    os.close(read_end)
    os.waitpid(pid, 0)
    release.set()

    assert answer == b"1"
    assert renderer.wait("run", timeout=30)


def test_reset_after_fork_leaves_a_working_renderer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = Recorder()
    renderer = PlotRenderer(recorder)
    renderer.submit("before", lambda: [("a", b"")])
    assert renderer.wait(timeout=30)
    # As in a forked child, where no other thread runs: the hook resets only this
    # renderer, not those of earlier tests whose worker threads still wait here
    # (a reset swaps the condition a waiting thread holds).
    monkeypatch.setattr(_render, "_RENDERERS", weakref.WeakSet([renderer]))

    _render._reset_after_fork()
    renderer.submit("after", lambda: [("b", b"")])

    assert renderer.wait("after", timeout=30)
    assert [path for _, path, _ in recorder.files] == ["a", "b"]


def test_a_worker_from_before_a_reset_ends_quietly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A reset happens in a forked child, where the parent's worker does not run;
    # in one process (a test), that worker still waits on the old condition.
    errors: list[BaseException | None] = []
    monkeypatch.setattr(
        threading, "excepthook", lambda args: errors.append(args.exc_value)
    )
    recorder = Recorder()
    renderer = PlotRenderer(recorder)
    renderer.submit("before", lambda: [("a", b"")])
    assert renderer.wait(timeout=30)
    old_worker, old_condition = renderer._worker, renderer._condition
    assert old_worker is not None
    assert old_worker.is_alive()  # waiting for the next job

    renderer._reset()
    # A job of the new queues, not due for a while, then the old worker wakes.
    renderer._queue.append(("after", "late", list, time.monotonic() + 60))
    with old_condition:
        old_condition.notify_all()
    old_worker.join(timeout=10)

    assert not old_worker.is_alive()
    assert errors == []
    assert [path for _, path, _ in recorder.files] == ["a"]


def test_job_runs_inline_when_no_thread_can_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse_to_start(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse_to_start)
    recorder = Recorder()
    renderer = PlotRenderer(recorder)

    renderer.submit("run", lambda: [("plots/late.png", b"")])

    assert recorder.files == [("run", "plots/late.png", b"")]
    assert recorder.threads == {threading.get_ident()}
    assert renderer.wait("run", timeout=0)


def test_idle_worker_ends_and_the_next_job_starts_another() -> None:
    recorder = Recorder()
    renderer = PlotRenderer(recorder, idle_timeout=0.01)
    workers = []

    def job() -> list[tuple[str, bytes]]:
        workers.append(threading.current_thread())
        return [(f"plots/{len(workers)}.png", b"")]

    renderer.submit("run", job)
    assert renderer.wait("run", timeout=30)
    workers[0].join(timeout=30)
    renderer.submit("run", job)

    assert renderer.wait("run", timeout=30)
    assert not workers[0].is_alive()
    assert workers[1] is not workers[0]
    assert [path for _, path, _ in recorder.files] == ["plots/1.png", "plots/2.png"]


def test_worker_takes_a_job_that_arrives_as_its_wait_times_out() -> None:
    recorder = Recorder()
    renderer = PlotRenderer(recorder, idle_timeout=0.01)
    late = ("run", "late", lambda: [("plots/late.png", b"")], 0.0)
    wait = renderer._condition.wait
    arrived: list[object] = []

    def wait_that_times_out_as_a_job_arrives(timeout: float | None = None) -> bool:
        if not arrived:
            arrived.append(late)
            renderer._queue.append(late)
            return False  # timed out: the job came in the same instant
        return wait(timeout)

    renderer._condition.wait = wait_that_times_out_as_a_job_arrives  # type: ignore[method-assign]
    renderer._pending["run"] = 1

    renderer._work()  # on this thread: it is not the renderer's worker

    assert [path for _, path, _ in recorder.files] == ["plots/late.png"]
    assert renderer.wait("run", timeout=0)


def test_first_job_runs_before_the_jobs_queued_earlier() -> None:
    renderer = PlotRenderer(Recorder(), start_delay=30)
    order: list[str] = []

    def job(name: str) -> Any:
        def run() -> list[tuple[str, bytes]]:
            order.append(name)
            return []

        return run

    renderer.submit("run", job("plots"))
    renderer.submit("run", job("dataset"))
    renderer.submit("run", job("model"), first=True)

    assert renderer.wait("run", timeout=10)
    assert order == ["model", "plots", "dataset"]


def test_first_job_starts_at_once_whatever_the_delay() -> None:
    renderer = PlotRenderer(Recorder(), start_delay=30)
    started, later = threading.Event(), threading.Event()

    def job(event: threading.Event) -> Any:
        def run() -> list[tuple[str, bytes]]:
            event.set()
            return []

        return run

    renderer.submit("run", job(later))
    renderer.submit("run", job(started), first=True)

    assert started.wait(10)  # nobody waits, yet it ran
    assert not later.wait(0.3)  # the other job is still held back
    assert renderer.wait("run", timeout=10)


def test_delayed_job_waits_for_its_delay_or_a_waiter() -> None:
    recorder = Recorder()
    renderer = PlotRenderer(recorder, start_delay=30)
    started = threading.Event()

    def job():
        started.set()
        return [("plots/a.png", b"a")]

    renderer.submit("run", job)

    assert not started.wait(0.3)  # nobody waits: the job is held back
    assert renderer.wait("run", timeout=10)  # a waiter lets it start at once
    assert recorder.files == [("run", "plots/a.png", b"a")]


def test_delayed_job_starts_by_itself_after_its_delay() -> None:
    recorder = Recorder()
    renderer = PlotRenderer(recorder, start_delay=0.2)
    started = threading.Event()
    submitted = time.monotonic()

    def job():
        started.set()
        return []

    renderer.submit("run", job)

    assert started.wait(10)
    assert time.monotonic() - submitted >= 0.2
