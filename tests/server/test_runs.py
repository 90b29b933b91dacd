"""MLflow's run and metric routes, through the app, on every store backend."""

from __future__ import annotations

import math

import pytest
from starlette.testclient import TestClient

API = "/api/2.0/mlflow"


def _run(client: TestClient, **fields: object) -> dict[str, object]:
    body = {"experiment_id": "0", "start_time": 1000, **fields}
    response = client.post(f"{API}/runs/create", json=body)
    assert response.status_code == 200, response.text
    run: dict[str, object] = response.json()["run"]
    return run


def _run_id(client: TestClient, **fields: object) -> str:
    info = _run(client, **fields)["info"]
    assert isinstance(info, dict)
    return str(info["run_id"])


def _get(client: TestClient, run_id: str) -> dict[str, object]:
    response = client.get(f"{API}/runs/get", params={"run_id": run_id})
    assert response.status_code == 200, response.text
    run: dict[str, object] = response.json()["run"]
    return run


def _data(client: TestClient, run_id: str, kind: str) -> dict[str, object]:
    data = _get(client, run_id)["data"]
    assert isinstance(data, dict)
    return {item["key"]: item["value"] for item in data.get(kind, [])}


def test_create_run_as_mlflow_does(client: TestClient) -> None:
    run = _run(
        client,
        user_id="ada",
        tags=[{"key": "mlflow.source.type", "value": "LOCAL"}],
    )
    info = run["info"]
    assert isinstance(info, dict)
    assert info["run_id"] == info["run_uuid"]
    assert len(str(info["run_id"])) == 32
    assert (info["status"], info["user_id"], info["start_time"]) == (
        "RUNNING",
        "ada",
        1000,
    )
    assert info["artifact_uri"] == f"mlflow-artifacts:/0/{info['run_id']}/artifacts"
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}  # type: ignore[index]
    assert tags["mlflow.runName"] == info["run_name"]
    assert tags["mlflow.source.type"] == "LOCAL"
    assert "end_time" not in info


def test_create_run_keeps_the_given_name(client: TestClient) -> None:
    info = _run(client, run_name="baseline")["info"]
    assert info["run_name"] == "baseline"  # type: ignore[index]


def test_create_run_takes_the_name_from_the_tag(client: TestClient) -> None:
    info = _run(client, tags=[{"key": "mlflow.runName", "value": "tagged"}])["info"]
    assert info["run_name"] == "tagged"  # type: ignore[index]


def test_create_run_in_unknown_experiment_is_404(client: TestClient) -> None:
    response = client.post(f"{API}/runs/create", json={"experiment_id": "42"})
    assert response.status_code == 404


def test_get_accepts_run_uuid(client: TestClient) -> None:
    run_id = _run_id(client)
    response = client.get(f"{API}/runs/get", params={"run_uuid": run_id})
    assert response.json()["run"]["info"]["run_id"] == run_id


def test_get_unknown_run_is_404(client: TestClient) -> None:
    response = client.get(f"{API}/runs/get", params={"run_id": "f" * 32})
    assert (response.status_code, response.json()["error_code"]) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_update_ends_and_renames_the_run(client: TestClient) -> None:
    run_id = _run_id(client)
    response = client.post(
        f"{API}/runs/update",
        json={
            "run_id": run_id,
            "run_uuid": run_id,
            "status": "FINISHED",
            "end_time": 2000,
            "run_name": "renamed",
        },
    )
    info = response.json()["run_info"]
    assert (info["status"], info["end_time"], info["run_name"]) == (
        "FINISHED",
        2000,
        "renamed",
    )


def test_update_refuses_an_unknown_status(client: TestClient) -> None:
    response = client.post(
        f"{API}/runs/update", json={"run_id": _run_id(client), "status": "DONE"}
    )
    assert response.status_code == 400
    assert "'DONE'" in response.json()["message"]


def test_delete_and_restore(client: TestClient) -> None:
    run_id = _run_id(client)
    client.post(f"{API}/runs/delete", json={"run_id": run_id})
    assert _get(client, run_id)["info"]["lifecycle_stage"] == "deleted"  # type: ignore[index]
    client.post(f"{API}/runs/restore", json={"run_id": run_id})
    assert _get(client, run_id)["info"]["lifecycle_stage"] == "active"  # type: ignore[index]


def test_log_metric_param_and_tag(client: TestClient) -> None:
    run_id = _run_id(client)
    client.post(
        f"{API}/runs/log-metric",
        json={"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 5, "step": 2},
    )
    client.post(
        f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "C", "value": "1.0"}
    )
    client.post(
        f"{API}/runs/set-tag", json={"run_id": run_id, "key": "team", "value": "ml"}
    )
    assert _data(client, run_id, "metrics") == {"loss": 0.5}
    assert _data(client, run_id, "params") == {"C": "1.0"}
    assert _data(client, run_id, "tags")["team"] == "ml"


def test_changing_a_param_is_invalid_parameter_value(client: TestClient) -> None:
    run_id = _run_id(client)
    body = {"run_id": run_id, "key": "C", "value": "1.0"}
    client.post(f"{API}/runs/log-parameter", json=body)
    response = client.post(f"{API}/runs/log-parameter", json={**body, "value": "2.0"})
    assert (response.status_code, response.json()["error_code"]) == (
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_setting_the_run_name_tag_renames_the_run(client: TestClient) -> None:
    run_id = _run_id(client)
    client.post(
        f"{API}/runs/set-tag",
        json={"run_id": run_id, "key": "mlflow.runName", "value": "new-name"},
    )
    assert _get(client, run_id)["info"]["run_name"] == "new-name"  # type: ignore[index]


def test_delete_tag(client: TestClient) -> None:
    run_id = _run_id(client)
    client.post(
        f"{API}/runs/set-tag", json={"run_id": run_id, "key": "t", "value": "v"}
    )
    client.post(f"{API}/runs/delete-tag", json={"run_id": run_id, "key": "t"})
    assert "t" not in _data(client, run_id, "tags")


def test_log_batch_writes_everything(client: TestClient) -> None:
    run_id = _run_id(client)
    response = client.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [
                {"key": "m", "value": 1.5, "timestamp": 1, "step": 0},
                {"key": "m", "value": "NaN", "timestamp": 2, "step": 1},
                {"key": "inf", "value": "Infinity", "timestamp": 2},
            ],
            "params": [{"key": "p", "value": "x"}],
            "tags": [{"key": "t", "value": "y"}],
        },
    )
    assert response.json() == {}
    metrics = _data(client, run_id, "metrics")
    assert math.isnan(float(str(metrics["m"])))
    assert metrics["inf"] == "Infinity"
    assert _data(client, run_id, "params") == {"p": "x"}


@pytest.mark.parametrize(
    ("metric", "fragment"),
    [
        ({"value": 1, "timestamp": 1}, "metrics.key"),
        ({"key": "m", "timestamp": 1}, "metrics.value"),
        ({"key": "m", "value": 1}, "metrics.timestamp"),
        ({"key": "m", "value": "x", "timestamp": 1}, "metrics.value"),
        ({"key": "m", "value": 1, "timestamp": 1, "step": 1.5}, "metrics.step"),
        ({"key": "m", "value": 1, "timestamp": True}, "metrics.timestamp"),
        ({"key": "", "value": 1.5, "timestamp": 1}, "metrics.key"),
        ({"key": "m", "value": 1.5, "timestamp": 1, "step": False}, "metrics.step"),
        ({"key": "m", "value": 1.5, "timestamp": 1, "step": None}, "metrics.step"),
    ],
    ids=[
        "no-key",
        "no-value",
        "no-timestamp",
        "bad-value",
        "bad-step",
        "bool-time",
        "empty-key",
        "bool-step",
        "null-step",
    ],
)
def test_bad_batch_writes_nothing(
    client: TestClient, metric: dict[str, object], fragment: str
) -> None:
    run_id = _run_id(client)
    response = client.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [{"key": "good", "value": 1, "timestamp": 1}, metric],
            "params": [{"key": "p", "value": "1"}],
        },
    )
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert _data(client, run_id, "metrics") == {}
    assert _data(client, run_id, "params") == {}


def test_batch_with_a_bad_param_is_refused(client: TestClient) -> None:
    response = client.post(
        f"{API}/runs/log-batch",
        json={"run_id": _run_id(client), "params": [{"key": 3}]},
    )
    assert response.status_code == 400


def test_empty_batch_is_accepted(client: TestClient) -> None:
    response = client.post(f"{API}/runs/log-batch", json={"run_id": _run_id(client)})
    assert response.json() == {}


def test_log_inputs_records_datasets(client: TestClient) -> None:
    run_id = _run_id(client)
    dataset = {
        "name": "dataset",
        "digest": "5a5c68bf",
        "source_type": "code",
        "source": '{"tags": {}}',
        "schema": '{"mlflow_colspec": []}',
        "profile": '{"num_rows": 3}',
    }
    client.post(
        f"{API}/runs/log-inputs",
        json={
            "run_id": run_id,
            "datasets": [
                {
                    "tags": [{"key": "mlflow.data.context", "value": "train"}],
                    "dataset": dataset,
                }
            ],
        },
    )
    inputs = _get(client, run_id)["inputs"]["dataset_inputs"]  # type: ignore[index]
    assert inputs[0]["dataset"] == dataset
    assert inputs[0]["tags"] == [{"key": "mlflow.data.context", "value": "train"}]


def test_search_runs_filters_orders_and_pages(client: TestClient) -> None:
    ids = []
    for index in range(3):
        run_id = _run_id(client, run_name=f"r{index}")
        client.post(
            f"{API}/runs/log-metric",
            json={"run_id": run_id, "key": "acc", "value": index / 10, "timestamp": 1},
        )
        ids.append(run_id)
    body = {
        "experiment_ids": ["0"],
        "filter": "metrics.acc > 0.05",
        "order_by": ["metrics.acc DESC"],
        "max_results": 1,
    }
    first = client.post(f"{API}/runs/search", json=body).json()
    assert [r["info"]["run_id"] for r in first["runs"]] == [ids[2]]
    second = client.post(
        f"{API}/runs/search", json={**body, "page_token": first["next_page_token"]}
    ).json()
    assert [r["info"]["run_id"] for r in second["runs"]] == [ids[1]]


def test_search_runs_understands_or(client: TestClient) -> None:
    a = _run_id(client, run_name="a")
    b = _run_id(client, run_name="b")
    _run_id(client, run_name="c")
    body = {
        "experiment_ids": ["0"],
        "filter": "attributes.run_name = 'a' OR attributes.run_name = 'b'",
    }
    found = client.post(f"{API}/runs/search", json=body).json()["runs"]
    assert {r["info"]["run_id"] for r in found} == {a, b}


def test_search_runs_with_a_bad_filter_is_400(client: TestClient) -> None:
    response = client.post(
        f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": "metrics.a >"}
    )
    assert (response.status_code, response.json()["error_code"]) == (
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_metric_history_pages(client: TestClient) -> None:
    run_id = _run_id(client)
    client.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [
                {
                    "key": "loss",
                    "value": 1 / (step + 1),
                    "timestamp": step,
                    "step": step,
                }
                for step in range(5)
            ],
        },
    )
    url = f"{API}/metrics/get-history"
    everything = client.get(url, params={"run_id": run_id, "metric_key": "loss"}).json()
    assert [m["step"] for m in everything["metrics"]] == [0, 1, 2, 3, 4]
    assert "next_page_token" not in everything
    page = client.get(
        url, params={"run_id": run_id, "metric_key": "loss", "max_results": 3}
    ).json()
    assert [m["step"] for m in page["metrics"]] == [0, 1, 2]
    rest = client.get(
        url,
        params={
            "run_id": run_id,
            "metric_key": "loss",
            "max_results": 3,
            "page_token": page["next_page_token"],
        },
    ).json()
    assert [m["step"] for m in rest["metrics"]] == [3, 4]


def test_bulk_interval_samples_each_run(client: TestClient) -> None:
    run_ids = [_run_id(client), _run_id(client)]
    for run_id in run_ids:
        client.post(
            f"{API}/runs/log-batch",
            json={
                "run_id": run_id,
                "metrics": [
                    {"key": "loss", "value": step, "timestamp": step, "step": step}
                    for step in range(100)
                ],
            },
        )
    response = client.get(
        f"{API}/metrics/get-history-bulk-interval",
        params={
            "run_ids": run_ids,
            "metric_key": "loss",
            "start_step": 10,
            "end_step": 90,
            "max_results": 5,
        },
    ).json()["metrics"]
    steps = [(m["run_id"], m["step"]) for m in response]
    assert steps == [(r, s) for r in run_ids for s in (10, 30, 50, 70, 90)]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"metric_key": "loss"}, 400),
        ({"run_ids": "x", "metric_key": "l", "max_results": 0}, 400),
    ],
)
def test_bulk_interval_validates(
    client: TestClient, params: dict[str, object], status: int
) -> None:
    response = client.get(f"{API}/metrics/get-history-bulk-interval", params=params)  # type: ignore[arg-type]
    assert response.status_code == status


def test_server_info_names_mltrail_features(client: TestClient) -> None:
    body = client.get("/api/3.0/mlflow/server-info").json()
    assert set(body["mltrail_features"]) == {
        "create_run_heartbeat",
        "update_run_metrics",
        "artifact_batches",
    }


def test_create_run_takes_the_first_heartbeat(client: TestClient) -> None:
    run_id = _run_id(client, heartbeat_time=10**15)
    info = _get(client, run_id)["info"]
    assert isinstance(info, dict)
    # A heartbeat from the far future keeps the run from expiring.
    assert info["status"] == "RUNNING"
    old = _run_id(client, heartbeat_time=1)
    stale = _get(client, old)["info"]
    assert isinstance(stale, dict)
    assert stale["status"] == "KILLED"  # its one heartbeat is long stale


def test_update_writes_the_points_it_carries(client: TestClient) -> None:
    run_id = _run_id(client)
    metrics = [
        {"key": "m", "value": "NaN", "timestamp": 1, "step": 0},
        {"key": "m", "value": 2.5, "timestamp": 2, "step": 1},
    ]
    response = client.post(
        f"{API}/runs/update",
        json={
            "run_id": run_id,
            "status": "FINISHED",
            "end_time": 9,
            "metrics": metrics,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["run_info"]["status"] == "FINISHED"
    history = client.get(
        f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"}
    ).json()["metrics"]
    assert [(m["step"], m["value"]) for m in history] == [(0, "NaN"), (1, 2.5)]


def test_update_with_a_bad_point_changes_nothing(client: TestClient) -> None:
    run_id = _run_id(client)
    response = client.post(
        f"{API}/runs/update",
        json={"run_id": run_id, "status": "FINISHED", "metrics": [{"key": ""}]},
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    info = _get(client, run_id)["info"]
    assert isinstance(info, dict)
    assert info["status"] == "RUNNING"
