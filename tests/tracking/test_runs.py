from __future__ import annotations

import asyncio
import contextvars
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mltrail import tracking
from mltrail._errors import (
    ConflictError,
    InvalidValueError,
    MltrailWarning,
    NotFoundError,
    StoreError,
)
from mltrail.tracking import _runs


def test_with_block_ends_finished(fluent_store: str) -> None:
    with tracking.start_run() as run:
        assert tracking.get_run(run.info.run_id).info.status == "RUNNING"
    stored = tracking.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.end_time is not None
    assert tracking.active_run() is None


def test_exception_ends_failed_with_error_tags(fluent_store: str) -> None:
    with pytest.raises(ValueError, match="boom"), tracking.start_run() as run:
        raise ValueError("boom")
    stored = tracking.get_run(run.info.run_id)
    assert stored.info.status == "FAILED"
    assert stored.data.tags["mlflow.mltrail.error.type"] == "builtins.ValueError"
    assert stored.data.tags["mlflow.mltrail.error.message"] == "boom"
    assert (
        'raise ValueError("boom")' in stored.data.tags["mlflow.mltrail.error.traceback"]
    )


def test_huge_traceback_keeps_its_end() -> None:
    error = ValueError("x" * (_runs.MAX_ERROR_TEXT + 10))
    tags = {tag.key: tag.value for tag in _runs._error_tags(ValueError, error, None)}
    assert tags["mlflow.mltrail.error.traceback"].startswith("...\n")
    assert len(tags["mlflow.mltrail.error.message"]) == _runs.MAX_ERROR_TEXT


def test_keyboard_interrupt_ends_killed() -> None:
    with pytest.raises(KeyboardInterrupt), tracking.start_run() as run:
        raise KeyboardInterrupt
    stored = tracking.get_run(run.info.run_id)
    assert stored.info.status == "KILLED"
    assert "mlflow.mltrail.error.type" not in stored.data.tags


@pytest.mark.parametrize(
    ("code", "status"),
    [(0, "FINISHED"), (None, "FINISHED"), (2, "FAILED")],
    ids=["zero", "none", "two"],
)
def test_system_exit_status_follows_code(code: int | None, status: str) -> None:
    with pytest.raises(SystemExit), tracking.start_run() as run:
        sys.exit(code)
    assert tracking.get_run(run.info.run_id).info.status == status


def test_exception_ends_open_nested_runs_too() -> None:
    started = []

    def fail_inside_child() -> None:
        with tracking.start_run() as parent:
            started.extend([parent, tracking.start_run(nested=True)])
            raise RuntimeError("inner")

    with pytest.raises(RuntimeError):
        fail_inside_child()
    parent, child = started
    assert tracking.get_run(child.info.run_id).info.status == "FAILED"
    assert tracking.get_run(parent.info.run_id).info.status == "FAILED"
    assert tracking.active_run() is None


def test_with_block_after_end_run_changes_nothing() -> None:
    with tracking.start_run() as run:
        tracking.end_run("KILLED")
    assert tracking.get_run(run.info.run_id).info.status == "KILLED"


def test_end_run_without_run_does_nothing() -> None:
    tracking.end_run()
    assert tracking.active_run() is None


def test_end_run_rejects_unknown_status_and_keeps_the_run() -> None:
    run = tracking.start_run()
    with pytest.raises(InvalidValueError, match="run status must be one of"):
        tracking.end_run("DONE")
    assert tracking.active_run() is run


def test_end_run_that_cannot_write_keeps_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = tracking.start_run()
    tracking.log_metric("m", 1.0)
    store = run._client._store

    def refuse(*args: object, **kwargs: object) -> None:
        raise StoreError("the database is down")

    with monkeypatch.context() as patched:
        patched.setattr(store, "update_run_info", refuse)
        patched.setattr(store, "log_metric_batches", refuse)
        with pytest.raises(StoreError, match="down"):
            tracking.end_run()
    assert tracking.active_run() is run
    tracking.end_run()
    stored = tracking.get_run(run.info.run_id)
    assert (stored.info.status, stored.data.metrics) == ("FINISHED", {"m": 1.0})


def test_nested_run_records_parent(fluent_store: str) -> None:
    with tracking.start_run() as parent, tracking.start_run(nested=True) as child:
        assert tracking.active_run() is child
    tags = tracking.get_run(child.info.run_id).data.tags
    assert tags["mlflow.parentRunId"] == parent.info.run_id


def test_second_run_without_nested_raises() -> None:
    run = tracking.start_run()
    with pytest.raises(ConflictError, match=f"{run.info.run_id}.*nested=True"):
        tracking.start_run()


def test_system_tags_and_name(
    fluent_store: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = tmp_path / "train.py"
    script.write_text("print('training')\n")
    monkeypatch.setattr(sys, "argv", [str(script)])
    with tracking.start_run(
        tags={"team": "risk", "n": 3}, description="first try"
    ) as run:
        pass
    tags = tracking.get_run(run.info.run_id).data.tags
    assert tags["mlflow.user"] == run.info.user_id
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.source.name"] == os.path.realpath(script)
    assert tags["mlflow.note.content"] == "first try"
    assert tags["mlflow.runName"] == run.info.run_name
    assert (tags["team"], tags["n"]) == ("risk", "3")
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", run.info.run_name)


def test_run_name_is_kept() -> None:
    with tracking.start_run(run_name="baseline") as run:
        pass
    assert tracking.get_run(run.info.run_id).info.run_name == "baseline"


def test_resume_sets_running_and_tags(fluent_store: str) -> None:
    with tracking.start_run() as first:
        pass
    with tracking.start_run(run_id=first.info.run_id, tags={"again": "yes"}) as resumed:
        assert tracking.get_run(first.info.run_id).info.status == "RUNNING"
    assert resumed.info.run_id == first.info.run_id
    stored = tracking.get_run(first.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.tags["again"] == "yes"


def test_resume_from_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with tracking.start_run() as first:
        pass
    monkeypatch.setenv("MLTRAIL_RUN_ID", first.info.run_id)
    with tracking.start_run() as resumed:
        pass
    with tracking.start_run() as fresh:
        pass
    assert resumed.info.run_id == first.info.run_id
    assert fresh.info.run_id != first.info.run_id


def test_resume_deleted_run_raises() -> None:
    with tracking.start_run() as run:
        pass
    tracking.delete_run(run.info.run_id)
    with pytest.raises(InvalidValueError, match="restore it"):
        tracking.start_run(run_id=run.info.run_id)


def test_resume_unknown_run_raises() -> None:
    with pytest.raises(NotFoundError, match="run"):
        tracking.start_run(run_id="f" * 32)


def test_set_experiment_creates_once_and_activates(fluent_store: str) -> None:
    experiment = tracking.set_experiment("churn")
    assert tracking.set_experiment("churn").experiment_id == experiment.experiment_id
    with tracking.start_run() as run:
        pass
    assert run.info.experiment_id == experiment.experiment_id


def test_set_experiment_by_id() -> None:
    experiment_id = tracking.TrackingClient().create_experiment("by-id")
    assert tracking.set_experiment(experiment_id=experiment_id).name == "by-id"


@pytest.mark.parametrize(
    "arguments",
    [{}, {"experiment_name": "a", "experiment_id": "0"}],
    ids=["neither", "both"],
)
def test_set_experiment_needs_one_argument(arguments: dict[str, str]) -> None:
    with pytest.raises(InvalidValueError, match="exactly one"):
        tracking.set_experiment(**arguments)


def test_set_experiment_refuses_deleted() -> None:
    client = tracking.TrackingClient()
    client.delete_experiment(client.create_experiment("gone"))
    with pytest.raises(InvalidValueError, match="restore_experiment"):
        tracking.set_experiment("gone")


def test_set_experiment_races_with_another_creator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _runs.current_client()
    real_create = client.create_experiment

    def create_after_rival(name: str, *args: object) -> str:
        real_create(name)  # another process wins the race
        return real_create(name)

    monkeypatch.setattr(client, "create_experiment", create_after_rival)
    assert tracking.set_experiment("raced").name == "raced"


def test_experiment_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_EXPERIMENT_NAME", "from-env")
    with tracking.start_run() as run:
        pass
    assert tracking.get_experiment(run.info.experiment_id).name == "from-env"


def test_experiment_id_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    experiment_id = tracking.TrackingClient().create_experiment("env-id")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment_id)
    with tracking.start_run() as run:
        pass
    assert run.info.experiment_id == experiment_id


def test_set_tracking_uri_forgets_active_experiment(tmp_path: Path) -> None:
    tracking.set_experiment("first-store")
    tracking.set_tracking_uri(f"sqlite:///{tmp_path / 'other.db'}")
    with tracking.start_run() as run:
        pass
    assert run.info.experiment_id == "0"
    assert tracking.get_tracking_uri() == f"sqlite:///{tmp_path / 'other.db'}"


def test_last_active_run(fluent_store: str) -> None:
    assert tracking.last_active_run() is None
    with tracking.start_run() as run:
        assert tracking.last_active_run() is run
    last = tracking.last_active_run()
    assert last is not None
    assert (last.info.run_id, last.info.status) == (run.info.run_id, "FINISHED")


def test_threads_have_their_own_runs() -> None:
    results: dict[str, object] = {}

    def work(name: str) -> None:
        results[f"{name}-before"] = tracking.active_run()
        with tracking.start_run(run_name=name):
            tracking.log_metric("thread", 1.0)
            results[name] = tracking.active_run().info.run_name  # type: ignore[union-attr]

    with tracking.start_run(run_name="main"):
        threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert tracking.active_run().info.run_name == "main"  # type: ignore[union-attr]
    assert results == {"a-before": None, "b-before": None, "a": "a", "b": "b"}


def test_copied_context_carries_the_run_into_a_thread() -> None:
    seen: list[str | None] = []
    with tracking.start_run() as run:
        context = contextvars.copy_context()

        def work() -> None:
            active = tracking.active_run()
            seen.append(active.info.run_id if active else None)

        thread = threading.Thread(target=context.run, args=(work,))
        thread.start()
        thread.join()
    assert seen == [run.info.run_id]


def test_asyncio_tasks_do_not_trample_each_other() -> None:
    async def task(name: str) -> str:
        with tracking.start_run(run_name=name):
            await asyncio.sleep(0.01)
            return tracking.active_run().info.run_name  # type: ignore[union-attr]

    async def main() -> list[str]:
        return list(await asyncio.gather(task("x"), task("y")))

    assert asyncio.run(main()) == ["x", "y"]


def test_logging_without_run_starts_one() -> None:
    tracking.log_param("C", 1)
    run = tracking.active_run()
    assert run is not None
    tracking.end_run()
    assert tracking.get_run(run.info.run_id).data.params == {"C": "1"}


def _run_script(
    tmp_path: Path, code: str, **env: str
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(code)
    environment = {
        **os.environ,
        "MLTRAIL_TRACKING_URI": f"sqlite:///{tmp_path}/m.db",
        **env,
    }
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=60,
        check=True,
    )


@pytest.mark.slow
def test_run_left_open_ends_finished_at_exit(tmp_path: Path) -> None:
    result = _run_script(
        tmp_path,
        "import threading, mltrail\n"
        "run = mltrail.start_run()\n"
        "mltrail.log_metric('loss', 0.5)\n"
        "def other():\n"
        "    r = mltrail.start_run()\n"
        "    mltrail.log_metric('loss', 0.25)\n"
        "    print(r.info.run_id)\n"
        "t = threading.Thread(target=other); t.start(); t.join()\n"
        "print(run.info.run_id)\n",
    )
    client = tracking.TrackingClient(f"sqlite:///{tmp_path}/m.db")
    other_id, main_id = result.stdout.split()
    for run_id, value in ((main_id, 0.5), (other_id, 0.25)):
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert run.data.metrics == {"loss": value}
    assert result.stderr == ""


def test_active_experiment_is_forgotten_in_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracking.set_experiment("here")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    with tracking.start_run() as run:
        pass
    assert run.info.experiment_id == "0"


def test_exit_handler_flushes_and_finishes_open_runs() -> None:
    run = tracking.start_run()
    tracking.log_metric("m", 1.0)
    _runs._end_runs_at_exit()
    stored = tracking.get_run(run.info.run_id)
    assert (stored.info.status, stored.data.metrics) == ("FINISHED", {"m": 1.0})


def test_exit_handler_warns_about_what_it_cannot_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = tracking.start_run()
    tracking.log_metric("m", 1.0)
    run._client._store.update_run_info(run.info.run_id, lifecycle_stage="deleted")

    def refuse(*args: object, **kwargs: object) -> None:
        raise StoreError("database gone")

    monkeypatch.setattr(run._client, "set_terminated", refuse)
    with pytest.warns(MltrailWarning, match="at exit") as caught:
        _runs._end_runs_at_exit()
    messages = " ".join(str(w.message) for w in caught)
    assert "database gone" in messages
    assert len(caught) == 2  # the unwritable points, and the run left open


def test_forked_child_forgets_open_runs() -> None:
    tracking.start_run()
    _runs._reset_after_fork()  # what a forked child runs first
    assert _runs._open_runs == {}
