"""``RestStore``: the Store protocol over HTTP, against a real server on 127.0.0.1."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from mltrail import (
    ConflictError,
    Dataset,
    DatasetInput,
    InputTag,
    InvalidValueError,
    LoggedModelMetric,
    Metric,
    NotFoundError,
    Param,
    RunTag,
    StoreError,
    ViewType,
)
from mltrail.server import ServerSettings, create_app
from mltrail.store._rest import RestStore
from mltrail.store._sql import SqlStore
from tests.server._live import free_port, threaded_server


@pytest.fixture
def server_url(app: Starlette) -> Iterator[str]:
    with threaded_server(app) as url:
        yield url


@pytest.fixture
def rest(server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RestStore:
    monkeypatch.setenv("MLTRAIL_SPOOL_DIR", str(tmp_path / "spool"))
    return RestStore(server_url)


def _run_id(rest: RestStore, **tags: str) -> str:
    run = rest.create_run(
        "0",
        user_id="ada",
        start_time=1000,
        run_name="r",
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    return run.info.run_id


def test_experiments_round_trip(rest: RestStore) -> None:
    experiment_id = rest.create_experiment("iris", tags=[RunTag("team", "ml")])
    experiment = rest.get_experiment(experiment_id)
    assert (experiment.name, experiment.tags) == ("iris", {"team": "ml"})
    assert rest.get_experiment_by_name("iris") == experiment
    assert rest.get_experiment_by_name("nope") is None
    with pytest.raises(ConflictError, match="already exists"):
        rest.create_experiment("iris")
    rest.update_experiment(experiment_id, new_name="wine", tags=[RunTag("k", "v")])
    rest.delete_experiment_tag(experiment_id, "team")
    assert rest.get_experiment(experiment_id).tags == {"k": "v"}
    rest.update_experiment(experiment_id, lifecycle_stage="deleted")
    deleted = rest.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [e.name for e in deleted] == ["wine"]
    rest.update_experiment(experiment_id, lifecycle_stage="active")
    page = rest.search_experiments(max_results=1, order_by=["name ASC"])
    assert [e.name for e in page] == ["Default"]
    assert page.token is not None
    with pytest.raises(NotFoundError):
        rest.get_experiment("99")


def test_runs_round_trip(rest: RestStore) -> None:
    run_id = _run_id(rest, team="ml")
    rest.log_batch(
        run_id,
        metrics=[Metric("loss", 0.5, 1, 0), Metric("loss", math.nan, 2, 1)],
        params=[Param("C", "1.0")],
        tags=[RunTag("stage", "dev")],
    )
    rest.log_inputs(
        run_id,
        [
            DatasetInput(
                Dataset("d", "ab12", "code", "{}"),
                [InputTag("mlflow.data.context", "train")],
            )
        ],
    )
    run = rest.get_run(run_id)
    assert run.data.params == {"C": "1.0"}
    assert math.isnan(run.data.metrics["loss"])
    assert run.data.tags["stage"] == "dev"
    assert run.inputs.dataset_inputs[0].dataset.digest == "ab12"
    history = rest.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == [0, 1]
    info = rest.update_run_info(run_id, status="FINISHED", end_time=2000)
    assert (info.status, info.end_time) == ("FINISHED", 2000)
    rest.delete_tag(run_id, "stage")
    assert "stage" not in rest.get_run(run_id).data.tags
    found = rest.search_runs(["0"], filter_string="params.C = '1.0'")
    assert [r.info.run_id for r in found] == [run_id]
    rest.update_run_info(run_id, lifecycle_stage="deleted")
    assert rest.search_runs(["0"]) == []
    assert (
        rest.update_run_info(run_id, lifecycle_stage="active").lifecycle_stage
        == "active"
    )


def test_end_run_writes_buffered_points_first(rest: RestStore) -> None:
    run_id = _run_id(rest)
    info = rest.update_run_info(
        run_id,
        status="FINISHED",
        end_time=5,
        metric_batches=[(run_id, [Metric("m", float(i), i, i) for i in range(50)])],
    )
    assert info.status == "FINISHED"
    assert len(rest.get_metric_history(run_id, "m")) == 50


def test_changed_param_is_refused_whole(rest: RestStore) -> None:
    run_id = _run_id(rest)
    rest.log_batch(run_id, params=[Param("C", "1")])
    with pytest.raises(InvalidValueError, match="C"):
        rest.log_batch(run_id, metrics=[Metric("m", 1, 1)], params=[Param("C", "2")])
    assert rest.get_run(run_id).data.metrics == {}


def test_big_batch_is_one_request_on_mltrail(rest: RestStore) -> None:
    run_id = _run_id(rest)
    metrics = [Metric("m", float(i), i, i) for i in range(12_000)]
    assert len(rest._batches(metrics, [], [])) == 1
    rest.log_metric_batches([(run_id, metrics)])
    assert len(rest.get_metric_history(run_id, "m")) == 12_000


def test_batches_follow_mlflow_limits_elsewhere(rest: RestStore) -> None:
    rest._client._server_info = {}  # as if the server were MLflow's
    requests = rest._batches(
        [Metric("m", 1, i) for i in range(2500)],
        [Param(f"p{i}", "1") for i in range(150)],
        [],
    )
    assert [len(r["params"]) for r in requests] == [100, 50, 0, 0]
    assert [len(r["metrics"]) for r in requests] == [0, 950, 1000, 550]
    assert all(sum(len(v) for v in r.values()) <= 1000 for r in requests)


def _paths_sent(rest: RestStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the path of every request ``rest`` sends from now on."""
    rest._client.server_info()  # asked once per client, before counting
    sent: list[str] = []
    request = rest._client.request

    def recording(method: str, path: str, **options: object) -> object:
        sent.append(path.partition("?")[0])
        return request(method, path, **options)  # type: ignore[arg-type]  # as given

    monkeypatch.setattr(rest._client, "request", recording)
    return sent


def test_run_and_first_heartbeat_are_one_request(
    rest: RestStore, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _paths_sent(rest, monkeypatch)
    run = rest.create_run(
        "0", user_id="ada", start_time=1000, run_name="r", heartbeat_time=1500
    )
    assert sent == ["/api/2.0/mlflow/runs/create"]
    row = store._read(lambda conn: store._fetch_run(conn, run.info.run_id))
    assert row is not None
    assert row.heartbeat_time == 1500


def test_end_and_last_points_are_one_request(
    rest: RestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _run_id(rest)
    sent = _paths_sent(rest, monkeypatch)
    info = rest.update_run_info(
        run_id,
        status="FINISHED",
        end_time=5,
        metric_batches=[(run_id, [Metric("m", math.nan, 1, 0), Metric("m", 2, 2, 1)])],
    )
    assert sent == ["/api/2.0/mlflow/runs/update"]
    assert (info.status, info.end_time) == ("FINISHED", 5)
    history = rest.get_metric_history(run_id, "m")
    assert [m.step for m in history] == [0, 1]
    assert math.isnan(history[0].value)
    assert rest.get_run(run_id).info.status == "FINISHED"


def test_points_travel_apart_to_a_server_without_the_feature(
    rest: RestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _run_id(rest)
    sent = _paths_sent(rest, monkeypatch)
    rest._client._server_info = {"mltrail_version": "0.0.1"}  # an older server
    rest.update_run_info(
        run_id,
        status="FINISHED",
        end_time=5,
        metric_batches=[(run_id, [Metric("m", 1, 1, 0)])],
    )
    rest.create_run("0", user_id="ada", start_time=1, run_name="r", heartbeat_time=2)
    assert sent == [
        "/api/2.0/mlflow/runs/log-batch",
        "/api/2.0/mlflow/runs/update",
        "/api/2.0/mlflow/runs/create",
        "/api/2.0/mltrail/runs/heartbeat",
    ]
    assert len(rest.get_metric_history(run_id, "m")) == 1


def test_heartbeat_reaches_the_store(rest: RestStore, store: SqlStore) -> None:
    run_id = _run_id(rest)
    rest.touch_heartbeat([run_id], 123)
    assert rest._heartbeats


def test_logged_models_round_trip(rest: RestStore) -> None:
    run_id = _run_id(rest)
    model = rest.create_logged_model(
        "0", name="model", source_run_id=run_id, params=[Param("C", "1")]
    )
    rest.log_model_outputs(run_id, [(model.model_id, 0)])
    rest.set_logged_model_tags(model.model_id, [RunTag("t", "v")])
    rest.log_logged_model_params(model.model_id, [Param("d", "2")])
    rest.log_logged_model_metrics(
        model.model_id, [LoggedModelMetric("acc", 0.9, 1, 0, run_id, "train", "x")]
    )
    ready = rest.finalize_logged_model(model.model_id, "READY")
    assert ready.status == "READY"
    read = rest.get_logged_model(model.model_id)
    assert (read.tags, read.params) == ({"t": "v"}, {"C": "1", "d": "2"})
    assert read.metrics == [LoggedModelMetric("acc", 0.9, 1, 0, run_id, "train", "x")]
    assert rest.get_run_models(run_id) == ([], [(model.model_id, 0)])
    assert [
        m.model_id
        for m in rest.search_logged_models(["0"], filter_string="name = 'model'")
    ] == [model.model_id]
    rest.delete_logged_model_tag(model.model_id, "t")
    other = rest.create_logged_model("0", name="other")
    rest.log_model_inputs(run_id, [other.model_id])
    rest.delete_logged_model(other.model_id)
    assert (
        rest.get_logged_model(other.model_id, allow_deleted=True).model_id
        == other.model_id
    )
    with pytest.raises(NotFoundError):
        rest.log_logged_model_metrics(model.model_id, [LoggedModelMetric("a", 1, 1)])


def test_unreachable_server_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_SPOOL_DIR", str(tmp_path))
    url = f"http://127.0.0.1:{free_port()}"
    rest = RestStore(url)
    rest._client.retries = 1
    rest._client.backoff = 0.01
    with pytest.raises(StoreError, match=f"tracking server at {url} is unreachable"):
        rest.get_experiment("0")


def test_writes_spool_while_the_server_is_down(
    store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail import MltrailWarning

    monkeypatch.setenv("MLTRAIL_SPOOL_DIR", str(tmp_path / "spool"))
    app = create_app(
        store, settings=ServerSettings(artifacts_destination=str(tmp_path))
    )
    port = free_port()
    with threaded_server(app, port=port) as url:
        rest = RestStore(url)
        rest._client.retries = 1
        rest._client.backoff = 0.01
        run_id = _run_id(rest)
    with pytest.warns(MltrailWarning, match="keeps the writes"):
        rest.log_batch(
            run_id, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("p", "1")]
        )
    rest.log_metric_batches([(run_id, [Metric("m", 2.0, 2, 1)])])
    info = rest.update_run_info(run_id, status="FINISHED", end_time=9)
    assert info.status == "FINISHED"
    assert store.get_run(run_id).data.metrics == {}
    with threaded_server(app, port=port):
        run = rest.get_run(run_id)  # sends the spool first, in order
    assert run.data.metrics == {"m": 2.0}
    assert run.data.params == {"p": "1"}
    assert run.info.status == "FINISHED"
    assert rest._spool.is_empty()


def _record_threads(rest: RestStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Return the list that gets the thread name of each request ``rest`` sends."""
    import threading

    rest._client.server_info()  # asked once per client, before counting
    threads: list[str] = []
    request = rest._client.request

    def recording(method: str, path: str, **options: object) -> object:
        threads.append(threading.current_thread().name)
        return request(method, path, **options)  # type: ignore[arg-type]  # as given

    monkeypatch.setattr(rest._client, "request", recording)
    return threads


def test_metrics_and_inputs_travel_in_the_background(
    rest: RestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    run_id = _run_id(rest)
    threads = _record_threads(rest, monkeypatch)
    rest.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)], tags=[RunTag("t", "1")])
    rest.log_inputs(run_id, [DatasetInput(Dataset("d", "ab", "code", "{}"), [])])
    run = rest.get_run(run_id)  # reads see the writes queued before them
    assert run.data.metrics == {"m": 1.0}
    assert run.data.tags["t"] == "1"
    assert [i.dataset.name for i in run.inputs.dataset_inputs] == ["d"]
    assert threads[:2] == ["mltrail-rest-sender"] * 2
    assert threads[2] == threading.current_thread().name


def test_create_run_does_not_wait_for_queued_writes(
    rest: RestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fit's new run is not held up by the last run's metrics still travelling."""
    import threading

    first = _run_id(rest)
    rest._client.server_info()
    release = threading.Event()
    request = rest._client.request

    def slow_batches(method: str, path: str, **options: object) -> object:
        if path.endswith("/runs/log-batch"):
            release.wait(30)
        return request(method, path, **options)  # type: ignore[arg-type]  # as given

    monkeypatch.setattr(rest._client, "request", slow_batches)
    rest.log_batch(first, metrics=[Metric("m", 1.0, 1, 0)])  # queued, held
    created: list[str] = []
    creating = threading.Thread(target=lambda: created.append(_run_id(rest)))
    creating.start()
    creating.join(30)
    held = not release.is_set()
    release.set()
    assert held, "create_run waited for the queued write"
    assert created
    rest.drain_writes()
    assert rest.get_run(first).data.metrics == {"m": 1.0}
    assert rest.get_run(created[0]).info.status == "RUNNING"


def test_params_travel_in_the_background_when_asked(
    rest: RestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    run_id = _run_id(rest)
    threads = _record_threads(rest, monkeypatch)
    rest.log_batch(run_id, params=[Param("C", "1")], background=True)
    assert rest.get_run(run_id).data.params == {"C": "1"}
    assert threads == ["mltrail-rest-sender", threading.current_thread().name]


def test_params_are_sent_at_once(rest: RestStore) -> None:
    run_id = _run_id(rest)
    rest.log_batch(run_id, params=[Param("C", "1")])
    with pytest.raises(InvalidValueError, match="C"):
        rest.log_batch(run_id, params=[Param("C", "2")], tags=[RunTag("t", "1")])


def test_a_refused_background_write_is_raised_by_the_next_call(
    rest: RestStore,
) -> None:
    run_id = _run_id(rest)
    rest.update_run_info(run_id, lifecycle_stage="deleted")
    rest.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    with pytest.raises(InvalidValueError) as caught:
        rest.drain_writes()
    assert "/runs/log-batch, sent earlier" in " ".join(caught.value.__notes__)
    assert rest.get_run(run_id).data.metrics == {}
