"""``--auth basic``: users, argon2 passwords, tokens, per-experiment permissions."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from mltrail import ConflictError, InvalidValueError, NotFoundError
from mltrail.cli._main import cli
from mltrail.server import ServerSettings, create_app
from mltrail.server._auth import (
    PERMISSIONS_TTL,
    Accounts,
    BasicAuthenticator,
    parse_permission,
)
from mltrail.store._sql import SqlStore

API = "/api/2.0/mlflow"
ADMIN_PASSWORD = "correct horse battery"  # noqa: S105 - a test account
ADA_PASSWORD = "ada's long passphrase"  # noqa: S105 - a test account


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


ADMIN = _basic("admin", ADMIN_PASSWORD)
ADA = _basic("ada", ADA_PASSWORD)


def _client(store: SqlStore, tmp_path: Path, default: str = "READ") -> TestClient:
    accounts = Accounts(store)
    accounts.bootstrap_admin(
        {"MLTRAIL_ADMIN_USERNAME": "admin", "MLTRAIL_ADMIN_PASSWORD": ADMIN_PASSWORD}
    )
    settings = ServerSettings(
        artifacts_destination=str(tmp_path / "files"),
        auth="basic",
        default_permission=default,
    )
    app = create_app(
        store, settings=settings, authenticator=BasicAuthenticator(accounts, default)
    )
    client = TestClient(app, base_url="http://localhost")
    created = client.post(
        f"{API}/users/create",
        json={"username": "ada", "password": ADA_PASSWORD},
        headers=ADMIN,
    )
    assert created.status_code == 200, created.text
    return client


@pytest.fixture
def client(sqlite_store: SqlStore, tmp_path: Path) -> TestClient:
    return _client(sqlite_store, tmp_path)


def test_requests_without_credentials_get_401(client: TestClient) -> None:
    response = client.get(f"{API}/experiments/get", params={"experiment_id": "0"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="mltrail"'
    assert response.json()["error_code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "headers",
    [
        _basic("ada", "wrong password!!"),
        _basic("nobody", ADA_PASSWORD),
        {"Authorization": "Basic !!!"},
        {"Authorization": "Digest abc"},
        {"Authorization": "Bearer mlt_nope"},
    ],
    ids=["wrong-password", "unknown-user", "malformed", "scheme", "bad-token"],
)
def test_bad_credentials_get_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get(f"{API}/users/current", headers=headers)
    assert response.status_code == 401


def test_health_needs_no_credentials(client: TestClient) -> None:
    assert client.get("/health").status_code == 200


def test_default_permission_reads_but_does_not_write(client: TestClient) -> None:
    experiment_id = client.post(
        f"{API}/experiments/create", json={"name": "admins"}, headers=ADMIN
    ).json()["experiment_id"]
    read = client.get(
        f"{API}/experiments/get", params={"experiment_id": experiment_id}, headers=ADA
    )
    assert read.status_code == 200
    write = client.post(
        f"{API}/runs/create", json={"experiment_id": experiment_id}, headers=ADA
    )
    assert write.status_code == 403
    assert "EDIT on experiment" in write.json()["message"]


def test_creator_manages_their_experiment(client: TestClient) -> None:
    experiment_id = client.post(
        f"{API}/experiments/create", json={"name": "mine"}, headers=ADA
    ).json()["experiment_id"]
    run = client.post(
        f"{API}/runs/create", json={"experiment_id": experiment_id}, headers=ADA
    )
    assert run.status_code == 200
    run_id = run.json()["run"]["info"]["run_id"]
    logged = client.post(
        f"{API}/runs/log-metric",
        json={"run_id": run_id, "key": "m", "value": 1, "timestamp": 1},
        headers=ADA,
    )
    assert logged.status_code == 200
    deleted = client.post(
        f"{API}/experiments/delete", json={"experiment_id": experiment_id}, headers=ADA
    )
    assert deleted.status_code == 200


def test_grants_change_what_a_user_may_do(client: TestClient) -> None:
    experiment_id = client.post(
        f"{API}/experiments/create", json={"name": "shared"}, headers=ADMIN
    ).json()["experiment_id"]
    body = {"experiment_id": experiment_id, "username": "ada", "permission": "EDIT"}
    granted = client.post(
        f"{API}/experiments/permissions/create", json=body, headers=ADMIN
    )
    assert granted.json()["experiment_permission"]["permission"] == "EDIT"
    ada_run = client.post(
        f"{API}/runs/create", json={"experiment_id": experiment_id}, headers=ADA
    )
    assert ada_run.status_code == 200
    got = client.get(
        f"{API}/experiments/permissions/get",
        params={"experiment_id": experiment_id, "username": "ada"},
        headers=ADMIN,
    )
    assert got.json()["experiment_permission"]["permission"] == "EDIT"
    not_hers = client.patch(
        f"{API}/experiments/permissions/update",
        json={**body, "permission": "MANAGE"},
        headers=ADA,
    )
    assert not_hers.status_code == 403
    client.request(
        "DELETE",
        f"{API}/experiments/permissions/delete",
        json={"experiment_id": experiment_id, "username": "ada"},
        headers=ADMIN,
    )
    again = client.post(
        f"{API}/runs/create", json={"experiment_id": experiment_id}, headers=ADA
    )
    assert again.status_code == 403
    bad = client.post(
        f"{API}/experiments/permissions/create",
        json={**body, "permission": "ALL"},
        headers=ADMIN,
    )
    assert bad.status_code == 400
    assert (
        "Invalid" in bad.json()["message"] or "must be one of" in bad.json()["message"]
    )


def test_search_shows_only_readable_experiments(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    client = _client(sqlite_store, tmp_path, default="NO_PERMISSIONS")
    client.post(f"{API}/experiments/create", json={"name": "secret"}, headers=ADMIN)
    client.post(f"{API}/experiments/create", json={"name": "hers"}, headers=ADA)
    names = [
        e["name"]
        for e in client.get(f"{API}/experiments/search", headers=ADA).json()[
            "experiments"
        ]
    ]
    assert names == ["hers"]
    everything = client.get(f"{API}/experiments/search", headers=ADMIN).json()
    assert {e["name"] for e in everything["experiments"]} == {
        "Default",
        "secret",
        "hers",
    }


def test_admin_only_routes(client: TestClient) -> None:
    denied = client.post(
        f"{API}/users/create",
        json={"username": "bob", "password": "bob's passphrase"},
        headers=ADA,
    )
    assert denied.status_code == 403
    promoted = client.patch(
        f"{API}/users/update-admin",
        json={"username": "ada", "is_admin": True},
        headers=ADMIN,
    )
    assert promoted.status_code == 200
    assert client.get(f"{API}/users/current", headers=ADA).json()["user"]["is_admin"]


def test_users_see_themselves_and_change_their_password(client: TestClient) -> None:
    me = client.get(f"{API}/users/get", params={"username": "ada"}, headers=ADA)
    assert me.json()["user"]["username"] == "ada"
    other = client.get(f"{API}/users/get", params={"username": "admin"}, headers=ADA)
    assert other.status_code == 403
    listed = client.get(f"{API}/users/list", headers=ADA).json()["users"]
    assert [u["username"] for u in listed] == ["ada", "admin"]
    wrong = client.patch(
        f"{API}/users/update-password",
        json={
            "username": "ada",
            "password": "a new passphrase",
            "current_password": "x",
        },
        headers=ADA,
    )
    assert wrong.status_code == 403
    changed = client.patch(
        f"{API}/users/update-password",
        json={
            "username": "ada",
            "password": "a new passphrase",
            "current_password": ADA_PASSWORD,
        },
        headers=ADA,
    )
    assert changed.status_code == 200
    assert client.get(f"{API}/users/current", headers=ADA).status_code == 401
    fresh = _basic("ada", "a new passphrase")
    assert client.get(f"{API}/users/current", headers=fresh).status_code == 200


def test_short_passwords_are_refused(client: TestClient) -> None:
    response = client.post(
        f"{API}/users/create",
        json={"username": "bob", "password": "short"},
        headers=ADMIN,
    )
    assert response.status_code == 400
    assert "at least 12 characters" in response.json()["message"]
    assert "short" not in response.json()["message"]


def test_tokens_authenticate_machines(client: TestClient) -> None:
    created = client.post(
        "/api/2.0/mltrail/users/tokens/create", json={"name": "ci"}, headers=ADA
    ).json()
    token = created["token"]
    assert token.startswith("mlt_")
    bearer = {"Authorization": f"Bearer {token}"}
    assert (
        client.get(f"{API}/users/current", headers=bearer).json()["user"]["username"]
        == "ada"
    )
    listed = client.get("/api/2.0/mltrail/users/tokens/list", headers=ADA).json()
    assert [t["name"] for t in listed["tokens"]] == ["ci"]
    client.request(
        "DELETE",
        "/api/2.0/mltrail/users/tokens/delete",
        json={"token_id": created["token_info"]["token_id"]},
        headers=ADA,
    )
    assert client.get(f"{API}/users/current", headers=bearer).status_code == 401


def test_admin_deletes_a_user_but_not_themselves(client: TestClient) -> None:
    own = client.request(
        "DELETE", f"{API}/users/delete", json={"username": "admin"}, headers=ADMIN
    )
    assert own.status_code == 400
    gone = client.request(
        "DELETE", f"{API}/users/delete", json={"username": "ada"}, headers=ADMIN
    )
    assert gone.status_code == 200
    assert client.get(f"{API}/users/current", headers=ADA).status_code == 401


def test_first_start_needs_an_admin_from_the_environment(
    sqlite_store: SqlStore,
) -> None:
    accounts = Accounts(sqlite_store)
    with pytest.raises(InvalidValueError, match="MLTRAIL_ADMIN_USERNAME"):
        accounts.bootstrap_admin({})
    with pytest.raises(InvalidValueError, match="at least 12"):
        accounts.bootstrap_admin(
            {"MLTRAIL_ADMIN_USERNAME": "root", "MLTRAIL_ADMIN_PASSWORD": "password"}
        )
    env = {"MLTRAIL_ADMIN_USERNAME": "root", "MLTRAIL_ADMIN_PASSWORD": ADMIN_PASSWORD}
    assert accounts.bootstrap_admin(env) is True
    assert accounts.bootstrap_admin(env) is False
    stored = sqlite_store.get_user("root")
    assert stored.is_admin
    assert stored.password_hash.startswith("$argon2")
    assert ADMIN_PASSWORD not in stored.password_hash


@pytest.mark.parametrize("name", ["a:b", "", " ada", "x" * 300, "tab\there"])
def test_bad_usernames_are_refused(sqlite_store: SqlStore, name: str) -> None:
    with pytest.raises(InvalidValueError, match="username"):
        Accounts(sqlite_store).create_user(name, ADMIN_PASSWORD)


def test_permission_names() -> None:
    assert parse_permission("edit") == "EDIT"
    with pytest.raises(InvalidValueError, match="one of READ"):
        parse_permission("OWNER")


def test_users_cli(sqlite_store: SqlStore, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["users", "--backend-store-uri", sqlite_store.uri]
    created = runner.invoke(
        cli,
        [*base, "create", "carol", "--admin", "--password-stdin"],
        input=ADA_PASSWORD + "\n",
    )
    assert created.output == "Created administrator 'carol'.\n", created.output
    assert runner.invoke(cli, [*base, "list"]).output == "carol (admin)\n"
    granted = runner.invoke(
        cli, [*base, "grant", "carol", "--experiment", "0", "--permission", "EDIT"]
    )
    assert granted.output == "'carol' has EDIT on experiment 0.\n"
    token = runner.invoke(cli, [*base, "token", "carol", "--name", "ci"]).output.strip()
    owner = sqlite_store.find_token_user(hashlib.sha256(token.encode()).hexdigest())
    assert owner is not None
    assert owner.username == "carol"
    runner.invoke(cli, [*base, "set-admin", "carol", "--no-admin"])
    runner.invoke(
        cli,
        [*base, "set-password", "carol", "--password-stdin"],
        input="another passphrase\n",
    )
    assert Accounts(sqlite_store).check_password("carol", "another passphrase")
    assert not sqlite_store.get_user("carol").is_admin
    runner.invoke(cli, [*base, "delete", "carol"])
    assert runner.invoke(cli, [*base, "list"]).output == ""
    refused = runner.invoke(
        cli, [*base, "create", "dan", "--password-stdin"], input="short\n"
    )
    assert refused.exit_code == 1
    assert "at least 12 characters" in refused.output


def test_purging_an_experiment_drops_its_grants(sqlite_store: SqlStore) -> None:
    Accounts(sqlite_store).create_user("ada", ADA_PASSWORD)
    experiment_id = sqlite_store.create_experiment("gone")
    sqlite_store.set_permission("experiment", experiment_id, "ada", "MANAGE")
    sqlite_store.update_experiment(experiment_id, lifecycle_stage="deleted")
    sqlite_store.purge_experiments([experiment_id])
    assert sqlite_store.get_permission("experiment", experiment_id, "ada") is None


def test_run_routes_check_the_run_s_experiment(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    client = _client(sqlite_store, tmp_path, default="NO_PERMISSIONS")
    experiment_id = client.post(
        f"{API}/experiments/create", json={"name": "private"}, headers=ADMIN
    ).json()["experiment_id"]
    run_id = client.post(
        f"{API}/runs/create", json={"experiment_id": experiment_id}, headers=ADMIN
    ).json()["run"]["info"]["run_id"]
    calls = [
        ("GET", f"{API}/runs/get", {"run_id": run_id}),
        ("POST", f"{API}/runs/search", {"experiment_ids": [experiment_id]}),
        ("GET", f"{API}/experiments/get-by-name", {"experiment_name": "private"}),
        (
            "GET",
            f"{API}/metrics/get-history-bulk-interval",
            {"run_ids": [run_id], "metric_key": "m"},
        ),
    ]

    def statuses() -> list[int]:
        answers = []
        for method, url, fields in calls:
            if method == "GET":
                response = client.get(url, params=fields, headers=ADA)
            else:
                response = client.post(url, json=fields, headers=ADA)
            answers.append(response.status_code)
        return answers

    assert statuses() == [403, 403, 403, 403]
    sqlite_store.set_permission("experiment", experiment_id, "ada", "READ")
    time.sleep(PERMISSIONS_TTL)
    assert statuses() == [200, 200, 200, 200]


def test_store_lists_and_revokes_grants(sqlite_store: SqlStore) -> None:
    accounts = Accounts(sqlite_store)
    accounts.create_user("ada", ADA_PASSWORD)
    accounts.grant("experiment", "0", "ada", "edit")
    assert [
        (p.resource_id, p.permission) for p in sqlite_store.list_permissions("ada")
    ] == [("0", "EDIT")]
    assert sqlite_store.permissions_of("experiment", [], "ada") == {}
    sqlite_store.delete_permission("experiment", "0", "ada")
    with pytest.raises(NotFoundError):
        sqlite_store.delete_permission("experiment", "0", "ada")
    with pytest.raises(NotFoundError):
        sqlite_store.delete_token("ada", "nope")
    with pytest.raises(ConflictError, match="already exists"):
        accounts.create_user("ada", ADA_PASSWORD)
    with pytest.raises(NotFoundError):
        sqlite_store.get_user("nobody")
