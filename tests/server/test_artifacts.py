"""The artifact proxy and ``artifacts/list``: upload, download, list, delete."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mltrail.server import ServerSettings, create_app
from mltrail.server._artifacts import download_headers
from mltrail.store._sql import SqlStore

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
API = "/api/2.0/mlflow"


def _run(client: TestClient) -> tuple[str, str]:
    info = client.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"][
        "info"
    ]
    return info["run_id"], info["artifact_uri"]


def test_upload_then_download(client: TestClient, settings: ServerSettings) -> None:
    response = client.put(
        f"{PROXY}/0/abc/artifacts/notes/a.txt",
        content=b"hello",
        headers={"content-type": "text/plain"},
    )
    assert (response.status_code, response.json()) == (200, {})
    stored = Path(settings.artifacts_destination) / "0/abc/artifacts/notes/a.txt"
    assert stored.read_bytes() == b"hello"
    download = client.get(f"{PROXY}/0/abc/artifacts/notes/a.txt")
    assert download.content == b"hello"
    assert download.headers["content-type"] == "text/plain; charset=utf-8"
    assert download.headers["content-length"] == "5"
    assert download.headers["x-content-type-options"] == "nosniff"


def test_upload_replaces_a_file(client: TestClient) -> None:
    client.put(f"{PROXY}/1/x.bin", content=b"one")
    client.put(f"{PROXY}/1/x.bin", content=b"two")
    assert client.get(f"{PROXY}/1/x.bin").content == b"two"


def test_download_of_a_missing_file_is_404(client: TestClient) -> None:
    response = client.get(f"{PROXY}/0/nothing.txt")
    assert (response.status_code, response.json()["error_code"]) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


@pytest.mark.parametrize(
    ("name", "media", "disposition"),
    [
        ("page.html", "text/html", "attachment"),
        ("drawing.svg", "image/svg+xml", "attachment"),
        ("code.js", "text/javascript", "attachment"),
        ("roc.png", "image/png", "inline"),
        ("model.pkl", "application/octet-stream", "inline"),
        ("weird name é.txt", "text/plain; charset=utf-8", "inline"),
    ],
)
def test_download_headers(name: str, media: str, disposition: str) -> None:
    headers = download_headers(f"0/r/artifacts/{name}", 7)
    assert headers["content-type"] == media
    assert headers["content-disposition"].startswith(disposition + ";")
    assert (
        "'" + name.replace(" ", "%20").replace("é", "%C3%A9")
        in headers["content-disposition"]
    )
    assert "sandbox" in headers["content-security-policy"]


def test_html_artifact_downloads_as_an_attachment(client: TestClient) -> None:
    client.put(f"{PROXY}/0/r/artifacts/estimator.html", content=b"<script>1</script>")
    response = client.get(f"{PROXY}/0/r/artifacts/estimator.html")
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["content-type"].startswith("text/html")


def test_listing_is_relative_to_the_folder(client: TestClient) -> None:
    client.put(f"{PROXY}/0/r/artifacts/model/MLmodel", content=b"m")
    client.put(f"{PROXY}/0/r/artifacts/model/model.pkl", content=b"123")
    client.put(f"{PROXY}/0/r/artifacts/plot.png", content=b"p")
    files = client.get(PROXY, params={"path": "0/r/artifacts"}).json()["files"]
    assert files == [
        {"path": "model", "is_dir": True},
        {"path": "plot.png", "is_dir": False, "file_size": 1},
    ]
    nested = client.get(PROXY, params={"path": "0/r/artifacts/model"}).json()["files"]
    assert [f["path"] for f in nested] == ["MLmodel", "model.pkl"]


def test_listing_the_root_shows_experiments(client: TestClient) -> None:
    client.put(f"{PROXY}/3/a.txt", content=b"x")
    files = client.get(PROXY).json()["files"]
    assert files == [{"path": "3", "is_dir": True}]


def test_delete_removes_a_folder(client: TestClient) -> None:
    client.put(f"{PROXY}/0/r/artifacts/model/MLmodel", content=b"m")
    assert client.delete(f"{PROXY}/0/r/artifacts/model").json() == {}
    assert client.get(PROXY, params={"path": "0/r/artifacts"}).json()["files"] == []
    assert client.delete(f"{PROXY}/0/r/artifacts/model").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["notes/a.txt", "abc/0/x", "%2e%2e/x", "0/%252e%252e/%252e%252e/x", "0/a%00b"],
)
def test_paths_must_start_with_an_experiment_and_stay_inside(
    client: TestClient, path: str
) -> None:
    response = client.put(f"{PROXY}/{path}", content=b"x")
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_artifacts_list_reads_a_proxied_run(client: TestClient) -> None:
    run_id, artifact_uri = _run(client)
    relative = artifact_uri.removeprefix("mlflow-artifacts:/")
    client.put(f"{PROXY}/{relative}/model/MLmodel", content=b"m")
    client.put(f"{PROXY}/{relative}/estimator.html", content=b"<p>")
    top = client.get(f"{API}/artifacts/list", params={"run_id": run_id}).json()
    assert top["root_uri"] == artifact_uri
    assert top["files"] == [
        {"path": "estimator.html", "is_dir": False, "file_size": 3},
        {"path": "model", "is_dir": True},
    ]
    model = client.get(
        f"{API}/artifacts/list", params={"run_id": run_id, "path": "model"}
    ).json()
    assert model["files"] == [
        {"path": "model/MLmodel", "is_dir": False, "file_size": 1}
    ]


def test_artifacts_list_refuses_traversal(client: TestClient) -> None:
    run_id, _ = _run(client)
    response = client.get(
        f"{API}/artifacts/list", params={"run_id": run_id, "path": "../../.."}
    )
    assert response.status_code == 400


def test_no_serve_artifacts_removes_the_proxy(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    settings = ServerSettings(
        artifacts_destination=str(tmp_path), serve_artifacts=False
    )
    client = TestClient(
        create_app(sqlite_store, settings=settings), base_url="http://localhost"
    )
    assert client.put(f"{PROXY}/0/a.txt", content=b"x").status_code == 404
