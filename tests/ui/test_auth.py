"""The UI under ``--auth basic``: pages ask for credentials and show only what the
user may read; the assets need none."""

from __future__ import annotations

import base64
from pathlib import Path

from starlette.testclient import TestClient

from mltrail._entities import Metric
from mltrail.server import ServerSettings, create_app
from mltrail.server._auth import Accounts, BasicAuthenticator
from mltrail.store._sql import SqlStore

API = "/api/2.0/mlflow"
ADMIN_PASSWORD = "correct horse battery"  # noqa: S105 - a test account
ADA_PASSWORD = "ada's long passphrase"  # noqa: S105 - a test account


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


ADMIN = _basic("admin", ADMIN_PASSWORD)
ADA = _basic("ada", ADA_PASSWORD)


def test_pages_need_credentials_and_permissions(
    store: SqlStore, tmp_path: Path
) -> None:
    accounts = Accounts(store)
    accounts.bootstrap_admin(
        {"MLTRAIL_ADMIN_USERNAME": "admin", "MLTRAIL_ADMIN_PASSWORD": ADMIN_PASSWORD}
    )
    settings = ServerSettings(
        artifacts_destination=store.artifact_root,
        auth="basic",
        default_permission="NO_PERMISSIONS",
    )
    app = create_app(
        store,
        settings=settings,
        authenticator=BasicAuthenticator(accounts, "NO_PERMISSIONS"),
    )
    client = TestClient(app, base_url="http://localhost")
    client.post(
        f"{API}/users/create",
        json={"username": "ada", "password": ADA_PASSWORD},
        headers=ADMIN,
    )
    secret = client.post(
        f"{API}/experiments/create", json={"name": "secret"}, headers=ADMIN
    ).json()["experiment_id"]
    hers = client.post(
        f"{API}/experiments/create", json={"name": "hers"}, headers=ADA
    ).json()["experiment_id"]
    run = store.create_run(secret, user_id="admin", start_time=0, run_name="hidden")
    run_id = run.info.run_id
    store.log_batch(run_id, metrics=[Metric("loss", 1.0, 0, 0)])

    anonymous = client.get("/")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    assert client.get("/static/app.js").status_code == 200

    listed = client.get("/", headers={**ADA, "accept": "application/json"}).json()
    assert [e["name"] for e in listed["experiments"]] == ["hers"]
    assert client.get(f"/experiments/{hers}", headers=ADA).status_code == 200
    for path in (
        f"/experiments/{secret}",
        f"/experiments/{secret}/count",
        f"/runs/{run_id}",
        f"/runs/{run_id}/metrics",
        f"/runs/{run_id}/files/anything.txt",
        f"/history?run_ids={run_id}&key=loss",
        f"/compare?run_ids={run_id}",
    ):
        assert client.get(path, headers=ADA).status_code == 403, path
    assert client.get(f"/runs/{run_id}", headers=ADMIN).status_code == 200
    everything = client.get("/", headers={**ADMIN, "accept": "application/json"})
    assert {e["name"] for e in everything.json()["experiments"]} >= {"secret", "hers"}
