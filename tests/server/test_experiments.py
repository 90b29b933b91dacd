"""MLflow's experiment routes, through the app, on every store backend."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

API = "/api/2.0/mlflow"


def _create(client: TestClient, name: str, **fields: object) -> str:
    response = client.post(f"{API}/experiments/create", json={"name": name, **fields})
    assert response.status_code == 200, response.text
    return str(response.json()["experiment_id"])


def test_create_then_get(client: TestClient) -> None:
    experiment_id = _create(client, "iris", tags=[{"key": "team", "value": "risk"}])
    body = client.get(
        f"{API}/experiments/get", params={"experiment_id": experiment_id}
    ).json()["experiment"]
    assert body["name"] == "iris"
    assert body["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    assert body["lifecycle_stage"] == "active"
    assert body["tags"] == [{"key": "team", "value": "risk"}]
    assert body["creation_time"] > 0


def test_creating_a_taken_name_is_resource_already_exists(client: TestClient) -> None:
    _create(client, "iris")
    response = client.post(f"{API}/experiments/create", json={"name": "iris"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert "Experiment(name=iris) already exists" in response.json()["message"]


def test_create_needs_a_name(client: TestClient) -> None:
    response = client.post(f"{API}/experiments/create", json={})
    assert response.status_code == 400
    assert "Missing value for required parameter 'name'" in response.json()["message"]


@pytest.mark.parametrize(
    "location", ["/etc", "file:///etc", "../../elsewhere", "relative/dir"]
)
def test_local_artifact_locations_are_refused(
    client: TestClient, location: str
) -> None:
    response = client.post(
        f"{API}/experiments/create", json={"name": "x", "artifact_location": location}
    )
    assert response.status_code == 400
    assert "artifact_location" in response.json()["message"]
    assert (
        client.get(
            f"{API}/experiments/get-by-name", params={"experiment_name": "x"}
        ).status_code
        == 404
    )


def test_a_proxied_location_of_the_clients_choosing_is_refused_at_once(
    client: TestClient,
) -> None:
    """MLflow's client could create it, then no upload into it passed the proxy."""
    response = client.post(
        f"{API}/experiments/create",
        json={"name": "x", "artifact_location": "mlflow-artifacts:/team-a/x"},
    )
    assert response.status_code == 400
    assert "the proxy keeps each experiment's files" in response.json()["message"]


def test_remote_artifact_location_is_kept(client: TestClient) -> None:
    experiment_id = _create(client, "s3", artifact_location="s3://bucket/runs")
    body = client.get(
        f"{API}/experiments/get", params={"experiment_id": experiment_id}
    ).json()
    assert body["experiment"]["artifact_location"] == "s3://bucket/runs"


def test_get_by_name(client: TestClient) -> None:
    experiment_id = _create(client, "wine")
    response = client.get(
        f"{API}/experiments/get-by-name", params={"experiment_name": "wine"}
    )
    assert response.json()["experiment"]["experiment_id"] == experiment_id


def test_get_by_unknown_name_is_404(client: TestClient) -> None:
    response = client.get(
        f"{API}/experiments/get-by-name", params={"experiment_name": "nope"}
    )
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_get_unknown_id_is_404(client: TestClient) -> None:
    response = client.get(f"{API}/experiments/get", params={"experiment_id": "99"})
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_search_pages_through_experiments(client: TestClient, method: str) -> None:
    for name in ("a", "b", "c"):
        _create(client, name)
    url = f"{API}/experiments/search"
    fields: dict[str, Any] = {"max_results": 2, "order_by": ["name ASC"]}
    first = (
        client.get(url, params=fields)
        if method == "GET"
        else client.post(url, json=fields)
    ).json()
    assert [e["name"] for e in first["experiments"]] == ["Default", "a"]
    fields["page_token"] = first["next_page_token"]
    second = (
        client.get(url, params=fields)
        if method == "GET"
        else client.post(url, json=fields)
    ).json()
    assert [e["name"] for e in second["experiments"]] == ["b", "c"]
    assert "next_page_token" not in second


def test_search_filters_and_view_types(client: TestClient) -> None:
    keep = _create(client, "keep-me")
    gone = _create(client, "gone")
    client.post(f"{API}/experiments/delete", json={"experiment_id": gone})
    url = f"{API}/experiments/search"
    filtered = client.post(url, json={"filter": "name LIKE 'keep%'"}).json()
    assert [e["experiment_id"] for e in filtered["experiments"]] == [keep]
    deleted = client.get(url, params={"view_type": "DELETED_ONLY"}).json()
    assert [e["experiment_id"] for e in deleted["experiments"]] == [gone]
    everything = client.get(url, params={"view_type": "3"}).json()
    assert len(everything["experiments"]) == 3
    bad = client.get(url, params={"view_type": "SOME"})
    assert bad.status_code == 400


def test_update_renames(client: TestClient) -> None:
    experiment_id = _create(client, "old")
    client.post(
        f"{API}/experiments/update",
        json={"experiment_id": experiment_id, "new_name": "new"},
    )
    body = client.get(f"{API}/experiments/get", params={"experiment_id": experiment_id})
    assert body.json()["experiment"]["name"] == "new"


def test_delete_and_restore(client: TestClient) -> None:
    experiment_id = _create(client, "x")
    client.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id})
    get = {"experiment_id": experiment_id}
    stage = client.get(f"{API}/experiments/get", params=get).json()["experiment"][
        "lifecycle_stage"
    ]
    assert stage == "deleted"
    client.post(f"{API}/experiments/restore", json={"experiment_id": experiment_id})
    stage = client.get(f"{API}/experiments/get", params=get).json()["experiment"][
        "lifecycle_stage"
    ]
    assert stage == "active"


def test_set_and_delete_tags(client: TestClient) -> None:
    experiment_id = _create(client, "x")
    client.post(
        f"{API}/experiments/set-experiment-tag",
        json={"experiment_id": experiment_id, "key": "k", "value": "v"},
    )
    get = {"experiment_id": experiment_id}
    tags = client.get(f"{API}/experiments/get", params=get).json()["experiment"]["tags"]
    assert tags == [{"key": "k", "value": "v"}]
    response = client.post(
        f"{API}/experiments/delete-experiment-tag",
        json={"experiment_id": experiment_id, "key": "k"},
    )
    assert response.json() == {}
    tags = client.get(f"{API}/experiments/get", params=get).json()["experiment"]["tags"]
    assert tags == []
    again = client.post(
        f"{API}/experiments/delete-experiment-tag",
        json={"experiment_id": experiment_id, "key": "k"},
    )
    assert again.status_code == 404


def test_ajax_prefix_serves_the_same_routes(client: TestClient) -> None:
    response = client.get(
        "/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": "0"}
    )
    assert response.json()["experiment"]["name"] == "Default"
