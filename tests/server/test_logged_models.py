"""Logged-model routes and runs' model outputs, as MLflow 3's client calls them."""

from __future__ import annotations

from starlette.testclient import TestClient

API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def _run_id(client: TestClient) -> str:
    response = client.post(f"{API}/runs/create", json={"experiment_id": "0"})
    return str(response.json()["run"]["info"]["run_id"])


def _model(client: TestClient, **fields: object) -> dict[str, object]:
    response = client.post(
        f"{API}/logged-models", json={"experiment_id": "0", **fields}
    )
    assert response.status_code == 200, response.text
    model: dict[str, object] = response.json()["model"]
    return model


def test_create_model_as_autolog_does(client: TestClient) -> None:
    run_id = _run_id(client)
    model = _model(
        client,
        name="model",
        source_run_id=run_id,
        params=[{"key": "C", "value": "1.0"}],
        tags=[{"key": "mlflow.user", "value": "ada"}],
    )
    info = model["info"]
    assert isinstance(info, dict)
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert (
        info["artifact_uri"]
        == f"mlflow-artifacts:/0/models/{info['model_id']}/artifacts"
    )
    assert info["source_run_id"] == run_id
    assert model["data"] == {"params": [{"key": "C", "value": "1.0"}], "metrics": []}


def test_model_gets_a_name_when_none_is_given(client: TestClient) -> None:
    info = _model(client)["info"]
    assert info["name"]  # type: ignore[index]


def test_get_finalize_and_delete(client: TestClient) -> None:
    model_id = _model(client, name="m")["info"]["model_id"]  # type: ignore[index]
    url = f"{API}/logged-models/{model_id}"
    assert client.get(url).json()["model"]["info"]["name"] == "m"
    ready = client.patch(
        url, json={"model_id": model_id, "status": "LOGGED_MODEL_READY"}
    )
    assert ready.json()["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    bad = client.patch(url, json={"status": "DONE"})
    assert bad.status_code == 400
    assert client.delete(url).json() == {}
    assert client.get(url).status_code == 404
    deleted = client.get(url, params={"allow_deleted": "true"})
    assert deleted.json()["model"]["info"]["model_id"] == model_id


def test_tags_and_params(client: TestClient) -> None:
    model_id = _model(client)["info"]["model_id"]  # type: ignore[index]
    url = f"{API}/logged-models/{model_id}"
    tagged = client.patch(f"{url}/tags", json={"tags": [{"key": "a/b", "value": "1"}]})
    assert tagged.json()["model"]["info"]["tags"] == [{"key": "a/b", "value": "1"}]
    client.post(f"{url}/params", json={"params": [{"key": "depth", "value": 3}]})
    data = client.get(url).json()["model"]["data"]
    assert data["params"] == [{"key": "depth", "value": "3"}]
    assert client.delete(f"{url}/tags/a/b").json() == {}
    assert client.get(url).json()["model"]["info"]["tags"] == []


def test_metrics_with_a_model_id_land_on_the_model(client: TestClient) -> None:
    run_id = _run_id(client)
    model_id = _model(client, source_run_id=run_id)["info"]["model_id"]  # type: ignore[index]
    client.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [
                {
                    "key": "training_score",
                    "value": 0.97,
                    "timestamp": 5,
                    "step": 0,
                    "model_id": model_id,
                    "dataset_name": "dataset",
                    "dataset_digest": "5a5c68bf",
                },
                {"key": "plain", "value": 1, "timestamp": 5},
            ],
        },
    )
    client.post(
        f"{API}/runs/log-metric",
        json={
            "run_id": run_id,
            "key": "accuracy_score_X",
            "value": 0.9,
            "timestamp": 6,
            "model_id": model_id,
        },
    )
    metrics = client.get(f"{API}/logged-models/{model_id}").json()["model"]["data"][
        "metrics"
    ]
    assert metrics == [
        {
            "key": "training_score",
            "value": 0.97,
            "timestamp": 5,
            "step": 0,
            "model_id": model_id,
            "run_id": run_id,
            "dataset_name": "dataset",
            "dataset_digest": "5a5c68bf",
        },
        {
            "key": "accuracy_score_X",
            "value": 0.9,
            "timestamp": 6,
            "step": 0,
            "model_id": model_id,
            "run_id": run_id,
        },
    ]
    run = client.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    keys = {m["key"] for m in run["data"]["metrics"]}
    assert keys == {"training_score", "plain", "accuracy_score_X"}


def test_metric_for_an_unknown_model_writes_nothing(client: TestClient) -> None:
    run_id = _run_id(client)
    response = client.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [{"key": "m", "value": 1, "timestamp": 1, "model_id": "m-none"}],
        },
    )
    assert response.status_code == 404
    run = client.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    assert run["data"]["metrics"] == []


def test_outputs_and_model_inputs_show_on_the_run(client: TestClient) -> None:
    run_id = _run_id(client)
    made = _model(client)["info"]["model_id"]  # type: ignore[index]
    used = _model(client)["info"]["model_id"]  # type: ignore[index]
    client.post(
        f"{API}/runs/outputs",
        json={"run_id": run_id, "models": [{"model_id": made, "step": "2"}]},
    )
    client.post(
        f"{API}/runs/log-inputs",
        json={"run_id": run_id, "models": [{"model_id": used}]},
    )
    run = client.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    assert run["outputs"] == {"model_outputs": [{"model_id": made, "step": 2}]}
    assert run["inputs"]["model_inputs"] == [{"model_id": used}]
    bad = client.post(
        f"{API}/runs/outputs",
        json={"run_id": run_id, "models": [{"model_id": made, "step": "x"}]},
    )
    assert bad.status_code == 400


def test_search_by_name_as_runs_uri_resolution_does(client: TestClient) -> None:
    run_id = _run_id(client)
    wanted = _model(client, name="model", source_run_id=run_id)["info"]["model_id"]  # type: ignore[index]
    _model(client, name="other")
    body = client.post(
        f"{API}/logged-models/search",
        json={"experiment_ids": ["0"], "filter": "name = 'model'", "max_results": 1},
    ).json()
    assert [m["info"]["model_id"] for m in body["models"]] == [wanted]
    assert "next_page_token" not in body
    paged = client.post(
        f"{API}/logged-models/search",
        json={
            "experiment_ids": ["0"],
            "max_results": 1,
            "order_by": [{"field_name": "name", "ascending": True}],
            "datasets": [],
        },
    ).json()
    assert paged["next_page_token"]


def test_model_artifacts_are_listed(client: TestClient) -> None:
    info = _model(client)["info"]
    model_id = info["model_id"]  # type: ignore[index]
    relative = str(info["artifact_uri"]).removeprefix("mlflow-artifacts:/")  # type: ignore[index]
    client.put(f"{PROXY}/{relative}/MLmodel", content=b"flavors: {}")
    client.put(f"{PROXY}/{relative}/sub/x.txt", content=b"x")
    url = f"{API}/logged-models/{model_id}/artifacts/directories"
    top = client.get(url).json()
    assert top["files"] == [
        {"path": "MLmodel", "is_dir": False, "file_size": 11},
        {"path": "sub", "is_dir": True},
    ]
    sub = client.get(url, params={"artifact_directory_path": "sub"}).json()
    assert sub["files"] == [{"path": "sub/x.txt", "is_dir": False, "file_size": 1}]
