from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from mltrail._entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from mltrail._errors import ConflictError, InvalidValueError, NotFoundError
from mltrail._worker import _helper
from mltrail.tracking import TrackingClient, _buffer, _heartbeat


def test_default_uri_comes_from_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", "sqlite:///elsewhere.db")
    assert TrackingClient().tracking_uri == "sqlite:///elsewhere.db"
    assert repr(TrackingClient(Path("x.db"))) == "TrackingClient(tracking_uri='x.db')"


def test_experiment_lifecycle(client: TrackingClient) -> None:
    experiment_id = client.create_experiment("churn", tags={"team": "risk"})
    experiment = client.get_experiment(experiment_id)
    assert (experiment.name, experiment.tags) == ("churn", {"team": "risk"})
    client.rename_experiment(experiment_id, "churn-v2")
    client.set_experiment_tag(experiment_id, "stage", 2)
    client.delete_experiment(experiment_id)
    deleted = client.get_experiment_by_name("churn-v2")
    assert deleted is not None
    assert (deleted.lifecycle_stage, deleted.tags["stage"]) == ("deleted", "2")
    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"


def test_duplicate_experiment_name_conflicts(client: TrackingClient) -> None:
    client.create_experiment("twice")
    with pytest.raises(ConflictError):
        client.create_experiment("twice")


def test_search_experiments_pages(client: TrackingClient) -> None:
    for name in ("a", "b"):
        client.create_experiment(name)
    page = client.search_experiments(max_results=2, order_by=["name"])
    assert [e.name for e in page] == ["Default", "a"]
    rest = client.search_experiments(page_token=page.token, order_by=["name"])
    assert [e.name for e in rest] == ["b"]
    assert client.search_experiments(ViewType.DELETED_ONLY) == []


def test_create_run_names_and_tags(client: TrackingClient) -> None:
    run = client.create_run("0", start_time=1000, tags={"mlflow.user": "ada", "n": 1})
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", run.info.run_name)
    assert (run.info.user_id, run.info.start_time) == ("ada", 1000)
    stored = client.get_run(run.info.run_id)
    assert stored.data.tags["mlflow.runName"] == run.info.run_name
    assert stored.data.tags["n"] == "1"


def test_create_run_takes_name_from_tag(client: TrackingClient) -> None:
    run = client.create_run("0", tags={"mlflow.runName": "tagged"})
    assert run.info.run_name == "tagged"


def test_create_run_in_missing_experiment_raises(client: TrackingClient) -> None:
    with pytest.raises(NotFoundError, match="experiment"):
        client.create_run("12345")


def test_log_and_read_back(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    assert client.log_param(run_id, "C", 0.1) == 0.1
    client.log_metric(run_id, "loss", 0.5, timestamp=10, step=2)
    client.log_metric(run_id, "loss", 0.25, timestamp=20, step=3)
    client.set_tag(run_id, "team", "risk")
    client.log_batch(
        run_id,
        metrics=[Metric("acc", 0.9, 30, 0)],
        params=[Param("penalty", "l2")],
        tags=[RunTag("ticket", "ML-1")],
    )
    client.delete_tag(run_id, "team")
    data = client.get_run(run_id).data
    assert data.metrics == {"loss": 0.25, "acc": 0.9}
    assert data.params == {"C": "0.1", "penalty": "l2"}
    assert data.tags["ticket"] == "ML-1"
    assert "team" not in data.tags
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp, m.value) for m in history] == [
        (2, 10, 0.5),
        (3, 20, 0.25),
    ]


def test_log_metric_validates_before_writing(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidValueError, match="step of metric 'm'"):
        client.log_metric(run_id, "m", 1.0, step=1.5)  # type: ignore[arg-type]
    assert client.get_metric_history(run_id, "m") == []


def test_log_batch_is_atomic(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "C", "1")
    with pytest.raises(ConflictError, match="'C'"):
        client.log_batch(
            run_id, metrics=[Metric("m", 1.0, 0, 0)], params=[Param("C", "2")]
        )
    assert client.get_run(run_id).data.metrics == {}


def test_set_terminated_and_status(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    client.set_terminated(run_id, "KILLED", end_time=99)
    info = client.get_run(run_id).info
    assert (info.status, info.end_time) == ("KILLED", 99)
    client.set_terminated(run_id, "RUNNING")
    assert client.get_run(run_id).info.status == "RUNNING"
    client.set_terminated(run_id)
    assert client.get_run(run_id).info.status == "FINISHED"


def test_set_terminated_rejects_unknown_status(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidValueError, match="'DONE'"):
        client.set_terminated(run_id, "DONE")


def test_delete_and_restore_run(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    client.delete_run(run_id)
    assert client.search_runs(["0"]) == []
    assert len(client.search_runs(["0"], run_view_type="ALL")) == 1
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"


def test_search_runs_filters_and_orders(client: TrackingClient) -> None:
    ids = []
    for accuracy in (0.7, 0.9, 0.8):
        run_id = client.create_run("0").info.run_id
        client.log_metric(run_id, "acc", accuracy)
        ids.append(run_id)
    found = client.search_runs(
        ["0"], "metrics.acc >= 0.8", order_by=["metrics.acc DESC"]
    )
    assert [r.info.run_id for r in found] == [ids[1], ids[2]]


def test_log_inputs(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    dataset = Dataset("train", "ab12", "code", "{}")
    client.log_inputs(
        run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])]
    )
    (found,) = client.get_run(run_id).inputs.dataset_inputs
    assert found.dataset.digest == "ab12"


def test_artifacts_round_trip(client: TrackingClient, tmp_path: Path) -> None:
    run_id = client.create_run("0").info.run_id
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "b.txt").write_text("b")
    client.log_artifact(run_id, tmp_path / "a.txt")
    client.log_artifacts(run_id, tmp_path / "dir", "more")
    client.log_text(run_id, "t", "more/t.txt")
    assert [f.path for f in client.list_artifacts(run_id)] == ["a.txt", "more"]
    assert [(f.path, f.file_size) for f in client.list_artifacts(run_id, "more")] == [
        ("more/b.txt", 1),
        ("more/t.txt", 1),
    ]
    local = Path(client.download_artifacts(run_id, "more", tmp_path / "dst"))
    assert sorted(p.name for p in local.iterdir()) == ["b.txt", "t.txt"]


def test_download_artifacts_to_temporary_directory(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_text(run_id, "hello", "a.txt")
    assert Path(client.download_artifacts(run_id, "a.txt")).read_text() == "hello"


def test_artifacts_of_run_created_elsewhere(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    other = TrackingClient(client.tracking_uri)
    other._opened_store = client._store
    other.log_text(run_id, "x", "x.txt")
    assert [f.path for f in client.list_artifacts(run_id)] == ["x.txt"]


def test_artifacts_of_unknown_run_raise(client: TrackingClient) -> None:
    with pytest.raises(NotFoundError, match="run"):
        client.list_artifacts("f" * 32)


def test_running_runs_get_heartbeats_until_terminated(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    state = _heartbeat._heartbeat
    assert run_id in state.runs[id(client._store)][1]
    client.set_terminated(run_id)
    assert id(client._store) not in state.runs


def test_read_waits_for_points_the_buffer_is_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store itself, not its calls through an autolog helper left by a test.
    monkeypatch.setattr(_helper, "_helper", None)
    client = TrackingClient(f"sqlite:///{tmp_path / 'slow.db'}")
    run_id = client.create_run("0").info.run_id
    store = client._store
    writing, release = threading.Event(), threading.Event()
    original = type(store).log_metric_batches

    def slow_write(self: object, batches: object) -> None:
        writing.set()
        release.wait(5)
        original(self, batches)  # type: ignore[arg-type]

    monkeypatch.setattr(type(store), "log_metric_batches", slow_write)
    buffer = _buffer.buffer_for(store)
    buffer.add(run_id, "m", 1.0, 0, 0)
    buffer.wake.set()
    assert writing.wait(5)  # the buffer's thread took the point and is writing it
    assert len(buffer) == 0
    threading.Timer(0.2, release.set).start()

    metrics = client.get_run(run_id).data.metrics

    assert metrics == {"m": 1.0}
    _buffer.reset()
