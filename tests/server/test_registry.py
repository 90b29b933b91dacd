"""The registry routes: MLflow's requests and answers, sources, permissions."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from starlette.requests import Request
from starlette.testclient import TestClient

import mltrail
from mltrail.server import ServerSettings, create_app
from mltrail.server._errors import ApiError
from mltrail.server._policy import Access, User
from mltrail.store._sql import SqlStore

API = "/api/2.0/mlflow"
MODELS = f"{API}/registered-models"
VERSIONS = f"{API}/model-versions"
HISTORY = "/api/2.0/mltrail/registered-models/alias-history"


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    assert "Traceback" not in body["message"]
    message: str = body["message"]
    return message


def _delete(client: TestClient, path: str, body: dict[str, Any]) -> Any:
    return client.request("DELETE", path, json=body)


def _create(client: TestClient, name: str = "wine", **fields: Any) -> dict[str, Any]:
    model: dict[str, Any] = _ok(
        client.post(f"{MODELS}/create", json={"name": name, **fields})
    )["registered_model"]
    return model


def _version(
    client: TestClient,
    name: str = "wine",
    source: str = "s3://bucket/model",
    **fields: Any,
) -> dict[str, Any]:
    version: dict[str, Any] = _ok(
        client.post(
            f"{VERSIONS}/create", json={"name": name, "source": source, **fields}
        )
    )["model_version"]
    return version


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    X, y = load_iris(return_X_y=True, as_frame=True)
    estimator = LogisticRegression(max_iter=500).fit(X, y)
    path = tmp_path / "saved-model"
    mltrail.sklearn.save_model(estimator, path, input_example=X)
    return path


def _run_with_model(
    client: TestClient, model_dir: Path, settings: ServerSettings
) -> str:
    """Create a run through the API and put a model in its proxied artifacts."""
    run = _ok(client.post(f"{API}/runs/create", json={"experiment_id": "0"}))["run"]
    run_id: str = run["info"]["run_id"]
    for file in model_dir.iterdir():
        response = client.put(
            f"/api/2.0/mlflow-artifacts/artifacts/0/{run_id}/artifacts/model/{file.name}",
            content=file.read_bytes(),
        )
        assert response.status_code == 200, response.text
    return run_id


# Registered models.


def test_create_and_get_a_registered_model(client: TestClient) -> None:
    created = _create(
        client, tags=[{"key": "team", "value": "risk"}], description="red or white"
    )
    got = _ok(client.get(f"{MODELS}/get", params={"name": "wine"}))
    assert got["registered_model"] == created
    assert created["tags"] == [{"key": "team", "value": "risk"}]
    assert created["description"] == "red or white"
    assert created["aliases"] == []
    assert created["latest_versions"] == []
    assert isinstance(created["creation_timestamp"], int)


def test_creating_a_taken_name_is_resource_already_exists(client: TestClient) -> None:
    _create(client)
    message = _error(
        client.post(f"{MODELS}/create", json={"name": "wine"}),
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    assert message.startswith("Registered Model (name=wine) already exists.")


@pytest.mark.parametrize(
    ("request_", "status", "code", "match"),
    [
        (("GET", "/get", {"name": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST", "'nope'"),
        (("GET", "/get", {}), 400, "INVALID_PARAMETER_VALUE", "'name'"),
        (("POST", "/create", {"name": "a/b"}), 400, "INVALID_PARAMETER_VALUE", "'/'"),
        (
            ("POST", "/rename", {"name": "wine"}),
            400,
            "INVALID_PARAMETER_VALUE",
            "new_name",
        ),
    ],
    ids=["unknown", "missing-name", "slash", "missing-new-name"],
)
def test_registered_model_errors_use_mlflows_codes(
    client: TestClient,
    request_: tuple[str, str, dict[str, str]],
    status: int,
    code: str,
    match: str,
) -> None:
    _create(client)
    method, path, fields = request_
    if method == "GET":
        response = client.get(f"{MODELS}{path}", params=fields)
    else:
        response = client.post(f"{MODELS}{path}", json=fields)
    assert match in _error(response, status, code)


def test_rename_update_tags_and_delete(client: TestClient) -> None:
    _create(client)
    _create(client, "taken")
    _ok(
        client.post(
            f"{MODELS}/set-tag", json={"name": "wine", "key": "k", "value": "v"}
        )
    )
    renamed = _ok(
        client.post(f"{MODELS}/rename", json={"name": "wine", "new_name": "red"})
    )["registered_model"]
    assert (renamed["name"], renamed["tags"]) == ("red", [{"key": "k", "value": "v"}])
    _error(
        client.post(f"{MODELS}/rename", json={"name": "red", "new_name": "taken"}),
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    updated = _ok(
        client.patch(f"{MODELS}/update", json={"name": "red", "description": "d"})
    )
    assert updated["registered_model"]["description"] == "d"
    _ok(_delete(client, f"{MODELS}/delete-tag", {"name": "red", "key": "k"}))
    got = _ok(client.get(f"{MODELS}/get", params={"name": "red"}))
    assert got["registered_model"]["tags"] == []
    _ok(_delete(client, f"{MODELS}/delete", {"name": "red"}))
    _error(
        client.get(f"{MODELS}/get", params={"name": "red"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_search_registered_models_filters_and_pages(client: TestClient) -> None:
    for name in ("wine-red", "wine-white", "iris"):
        _create(client, name)
    body = _ok(
        client.get(
            f"{MODELS}/search",
            params={"filter": "name LIKE 'wine%'", "max_results": 1},
        )
    )
    assert [m["name"] for m in body["registered_models"]] == ["wine-red"]
    assert json.loads(base64.b64decode(body["next_page_token"])) == {"offset": 1}
    rest = _ok(
        client.get(
            f"{MODELS}/search",
            params={
                "filter": "name LIKE 'wine%'",
                "page_token": body["next_page_token"],
            },
        )
    )
    assert [m["name"] for m in rest["registered_models"]] == ["wine-white"]
    assert "next_page_token" not in rest
    ordered = _ok(client.get(f"{MODELS}/search", params={"order_by": ["name DESC"]}))
    assert ordered["registered_models"][0]["name"] == "wine-white"
    message = _error(
        client.get(f"{MODELS}/search", params={"max_results": 1001}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "1,000" in message


# Model versions.


def test_versions_are_strings_on_the_wire(client: TestClient) -> None:
    _create(client)
    first = _version(
        client,
        tags=[{"key": "validated", "value": "yes"}],
        description="baseline",
        run_link="http://runs/1",
    )
    assert first["version"] == "1"
    assert first["status"] == "READY"
    assert first["current_stage"] == "None"
    assert first["user_id"] == "anonymous"
    assert first["run_id"] == ""
    assert first["tags"] == [{"key": "validated", "value": "yes"}]
    got = _ok(client.get(f"{VERSIONS}/get", params={"name": "wine", "version": "1"}))
    assert got["model_version"] == first
    assert _version(client)["version"] == "2"


def test_version_updates_stages_tags_and_deletes(client: TestClient) -> None:
    _create(client)
    for _ in range(2):
        _version(client)
    key = {"name": "wine", "version": "1"}
    updated = _ok(client.patch(f"{VERSIONS}/update", json={**key, "description": "x"}))
    assert updated["model_version"]["description"] == "x"
    moved = _ok(
        client.post(
            f"{VERSIONS}/transition-stage",
            json={**key, "stage": "production", "archive_existing_versions": False},
        )
    )
    assert moved["model_version"]["current_stage"] == "Production"
    _ok(
        client.post(
            f"{VERSIONS}/transition-stage",
            json={
                "name": "wine",
                "version": "2",
                "stage": "Production",
                "archive_existing_versions": True,
            },
        )
    )
    latest = _ok(
        client.get(
            f"{MODELS}/get-latest-versions",
            params={"name": "wine", "stages": ["Archived"]},
        )
    )
    assert [v["version"] for v in latest["model_versions"]] == ["1"]
    posted = _ok(
        client.post(
            f"{MODELS}/get-latest-versions", json={"name": "wine", "stages": []}
        )
    )
    assert [v["current_stage"] for v in posted["model_versions"]] == [
        "Production",
        "Archived",
    ]
    _ok(client.post(f"{VERSIONS}/set-tag", json={**key, "key": "k", "value": "v"}))
    assert _ok(client.get(f"{VERSIONS}/get", params=key))["model_version"]["tags"] == [
        {"key": "k", "value": "v"}
    ]
    _ok(_delete(client, f"{VERSIONS}/delete-tag", {**key, "key": "k"}))
    _ok(_delete(client, f"{VERSIONS}/delete", key))
    _error(client.get(f"{VERSIONS}/get", params=key), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"version": "abc"}, "model version must be a positive integer"),
        ({"version": "9"}, "'wine/9'"),
        ({}, "'version'"),
    ],
    ids=["not-integer", "unknown", "missing"],
)
def test_version_errors(client: TestClient, fields: dict[str, str], match: str) -> None:
    _create(client)
    _version(client)
    response = client.get(f"{VERSIONS}/get", params={"name": "wine", **fields})
    assert match in response.json()["message"]
    assert response.status_code in (400, 404)


def test_bad_stage_is_invalid_parameter_value(client: TestClient) -> None:
    _create(client)
    _version(client)
    message = _error(
        client.post(
            f"{VERSIONS}/transition-stage",
            json={"name": "wine", "version": "1", "stage": "Bogus"},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "None, Staging, Production, Archived" in message


def test_search_model_versions(client: TestClient) -> None:
    _create(client)
    for _ in range(3):
        _version(client)
    body = _ok(
        client.get(
            f"{VERSIONS}/search",
            params={"filter": "name = 'wine' AND version_number > 1", "max_results": 1},
        )
    )
    assert [v["version"] for v in body["model_versions"]] == ["3"]
    assert "next_page_token" in body


def test_download_uri_is_the_stored_source(client: TestClient) -> None:
    _create(client)
    _version(client, source="s3://bucket/wine")
    body = _ok(
        client.get(
            f"{VERSIONS}/get-download-uri", params={"name": "wine", "version": "1"}
        )
    )
    assert body == {"artifact_uri": "s3://bucket/wine"}


# Sources.


def test_a_runs_source_links_the_run_and_copies_the_signature(
    client: TestClient, model_dir: Path, settings: ServerSettings
) -> None:
    run_id = _run_with_model(client, model_dir, settings)
    _create(client)
    version = _version(client, source=f"runs:/{run_id}/model")
    assert version["run_id"] == run_id
    assert '"name": "sepal length (cm)"' in version["signature"]["inputs"]


def test_a_proxied_source_inside_its_run_is_accepted(
    client: TestClient, model_dir: Path, settings: ServerSettings
) -> None:
    run_id = _run_with_model(client, model_dir, settings)
    _create(client)
    source = f"mlflow-artifacts:/0/{run_id}/artifacts/model"
    version = _version(client, source=source, run_id=run_id)
    assert (version["source"], version["run_id"]) == (source, run_id)
    assert "signature" in version


def test_a_models_source_points_at_the_original_files(client: TestClient) -> None:
    _create(client, "dev")
    _version(client, "dev", source="s3://bucket/dev")
    _ok(
        client.post(
            f"{MODELS}/alias", json={"name": "dev", "alias": "best", "version": "1"}
        )
    )
    _create(client, "prod")
    for source in ("models:/dev/1", "models:/dev@best"):
        version = _version(client, "prod", source=source)
        assert version["source"] == "models:/dev/1"
    body = _ok(
        client.get(
            f"{VERSIONS}/get-download-uri", params={"name": "prod", "version": "2"}
        )
    )
    assert body["artifact_uri"] == "s3://bucket/dev"


@pytest.mark.parametrize(
    ("source", "run", "status", "match"),
    [
        ("/etc/passwd", None, 400, "comes with the run_id"),
        ("file:///etc/passwd", "RUN", 400, "inside the artifacts of run"),
        (
            "mlflow-artifacts:/0/other/artifacts/model",
            "RUN",
            400,
            "inside the artifacts",
        ),
        ("runs:/OTHER/model", "RUN", 400, "a runs:/ URI of run"),
        ("s3://bucket/../secret", None, 400, "'..'"),
        ("s3://bucket/%2e%2e/secret", None, 400, "'..'"),
        ("runs:/RUN/nothing", None, 404, "no MLmodel file"),
        ("runs:/", None, 400, "runs:/<run_id>"),
        ("models:/dev", None, 400, "models:/<name>/<version>"),
        ("ftp://host/model", None, 400, "object store URI"),
    ],
    ids=[
        "local-without-run",
        "local-outside-run",
        "proxy-outside-run",
        "other-run",
        "dotdot",
        "encoded-dotdot",
        "missing-mlmodel",
        "empty-run",
        "models-name-only",
        "ftp",
    ],
)
def test_unsafe_or_missing_sources_are_refused(
    client: TestClient,
    model_dir: Path,
    settings: ServerSettings,
    source: str,
    run: str | None,
    status: int,
    match: str,
) -> None:
    run_id = _run_with_model(client, model_dir, settings)
    _create(client)
    fields: dict[str, str] = {
        "name": "wine",
        "source": source.replace("RUN", run_id).replace("OTHER", "f" * 32),
    }
    if run is not None:
        fields["run_id"] = run_id
    response = client.post(f"{VERSIONS}/create", json=fields)
    assert response.status_code == status, response.text
    assert match in response.json()["message"]
    assert "error_code" in response.json()
    found = _ok(client.get(f"{VERSIONS}/search"))
    assert found.get("model_versions", []) == []


# Aliases and their history.


def test_aliases_and_their_history(client: TestClient) -> None:
    _create(client)
    for _ in range(2):
        _version(client)
    for version in ("1", "2"):
        _ok(
            client.post(
                f"{MODELS}/alias",
                json={"name": "wine", "alias": "champion", "version": version},
            )
        )
    got = _ok(
        client.get(f"{MODELS}/alias", params={"name": "wine", "alias": "champion"})
    )
    assert (got["model_version"]["version"], got["model_version"]["aliases"]) == (
        "2",
        ["champion"],
    )
    model = _ok(client.get(f"{MODELS}/get", params={"name": "wine"}))[
        "registered_model"
    ]
    assert model["aliases"] == [{"alias": "champion", "version": "2"}]
    _ok(_delete(client, f"{MODELS}/alias", {"name": "wine", "alias": "champion"}))
    history = _ok(client.get(HISTORY, params={"name": "wine", "alias": "champion"}))
    moves = [
        (c.get("previous_version"), c.get("version"), c["user_id"])
        for c in history["alias_history"]
    ]
    assert moves == [
        (None, "1", "anonymous"),
        ("1", "2", "anonymous"),
        ("2", None, "anonymous"),
    ]


def test_unknown_alias_is_a_400_as_in_mlflow(client: TestClient) -> None:
    _create(client)
    message = _error(
        client.get(f"{MODELS}/alias", params={"name": "wine", "alias": "none"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert message.startswith("Registered model alias none not found.")
    _error(
        client.get(f"{MODELS}/alias", params={"name": "nope", "alias": "none"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


@pytest.mark.parametrize("alias", ["latest", "v3"])
def test_reserved_aliases_are_refused(client: TestClient, alias: str) -> None:
    _create(client)
    _version(client)
    message = _error(
        client.post(
            f"{MODELS}/alias", json={"name": "wine", "alias": alias, "version": "1"}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "reserved" in message


# Permissions.


class RegistryAuthenticator:
    """Users from the ``X-User`` header; records the registry's grant hooks."""

    def __init__(self) -> None:
        self.grants: dict[tuple[str, str, str], Access] = {}
        self.events: list[tuple[object, ...]] = []

    async def authenticate(self, request: Request) -> User:
        name = request.headers.get("x-user")
        if not name:
            raise ApiError("UNAUTHENTICATED", "Sign in.")
        return User(name, is_admin=name == "admin")

    async def permission(self, user: User, kind: str, resource_id: str) -> Access:
        return self.grants.get(
            (user.username, kind, resource_id), Access.NO_PERMISSIONS
        )

    def grant_creator(self, user: User, kind: str, resource_id: str) -> None:
        self.grants[(user.username, kind, resource_id)] = Access.MANAGE
        self.events.append(("grant", user.username, kind, resource_id))

    def readable(self, user: User, kind: str, ids: list[str]) -> list[str]:
        if user.is_admin:
            return ids
        return [
            i
            for i in ids
            if self.grants.get((user.username, kind, i), 0) >= Access.READ
        ]

    def forget(self) -> None:
        self.events.append(("forget",))


@pytest.fixture
def guarded(
    sqlite_store: SqlStore, settings: ServerSettings
) -> Iterator[tuple[TestClient, RegistryAuthenticator]]:
    authenticator = RegistryAuthenticator()
    app = create_app(sqlite_store, settings=settings, authenticator=authenticator)
    with TestClient(app, base_url="http://localhost") as client:
        yield client, authenticator


def _as(user: str) -> dict[str, str]:
    return {"x-user": user}


def test_the_creator_manages_a_model_and_others_need_grants(
    guarded: tuple[TestClient, RegistryAuthenticator],
) -> None:
    client, authenticator = guarded
    _ok(client.post(f"{MODELS}/create", json={"name": "wine"}, headers=_as("ada")))
    assert authenticator.events == [("grant", "ada", "registered_model", "wine")]
    get = {"name": "wine"}
    _ok(client.get(f"{MODELS}/get", params=get, headers=_as("ada")))
    _error(
        client.get(f"{MODELS}/get", params=get, headers=_as("bob")),
        403,
        "PERMISSION_DENIED",
    )
    authenticator.grants[("bob", "registered_model", "wine")] = Access.READ
    _ok(client.get(f"{MODELS}/get", params=get, headers=_as("bob")))
    message = _error(
        client.post(
            f"{VERSIONS}/create",
            json={"name": "wine", "source": "s3://b/m"},
            headers=_as("bob"),
        ),
        403,
        "PERMISSION_DENIED",
    )
    assert "EDIT on registered_model" in message
    authenticator.grants[("bob", "registered_model", "wine")] = Access.EDIT
    version = _ok(
        client.post(
            f"{VERSIONS}/create",
            json={"name": "wine", "source": "s3://b/m"},
            headers=_as("bob"),
        )
    )
    assert version["model_version"]["user_id"] == "bob"
    _error(
        _delete_as(client, f"{MODELS}/delete", {"name": "wine"}, "bob"),
        403,
        "PERMISSION_DENIED",
    )
    _ok(
        client.post(
            f"{MODELS}/rename",
            json={"name": "wine", "new_name": "red"},
            headers=_as("admin"),
        )
    )
    _ok(_delete_as(client, f"{MODELS}/delete", {"name": "red"}, "admin"))
    assert authenticator.events[-2:] == [("forget",), ("forget",)]


def _delete_as(client: TestClient, path: str, body: dict[str, Any], user: str) -> Any:
    return client.request("DELETE", path, json=body, headers=_as(user))


def test_searches_show_only_readable_models(
    guarded: tuple[TestClient, RegistryAuthenticator],
) -> None:
    client, _ = guarded
    for user, name in (("ada", "a"), ("bob", "b")):
        _ok(client.post(f"{MODELS}/create", json={"name": name}, headers=_as(user)))
        _ok(
            client.post(
                f"{VERSIONS}/create",
                json={"name": name, "source": "s3://b/m"},
                headers=_as(user),
            )
        )
    models = _ok(client.get(f"{MODELS}/search", headers=_as("ada")))
    assert [m["name"] for m in models["registered_models"]] == ["a"]
    versions = _ok(client.get(f"{VERSIONS}/search", headers=_as("bob")))
    assert [v["name"] for v in versions["model_versions"]] == ["b"]
    everything = _ok(client.get(f"{MODELS}/search", headers=_as("admin")))
    assert len(everything["registered_models"]) == 2


def test_registering_a_run_needs_read_on_its_experiment(
    guarded: tuple[TestClient, RegistryAuthenticator],
    model_dir: Path,
    settings: ServerSettings,
) -> None:
    client, authenticator = guarded
    admin = _as("admin")
    run = _ok(
        client.post(f"{API}/runs/create", json={"experiment_id": "0"}, headers=admin)
    )["run"]["info"]["run_id"]
    for file in model_dir.iterdir():
        client.put(
            f"/api/2.0/mlflow-artifacts/artifacts/0/{run}/artifacts/model/{file.name}",
            content=file.read_bytes(),
            headers=admin,
        )
    _ok(client.post(f"{MODELS}/create", json={"name": "wine"}, headers=_as("ada")))
    fields = {"name": "wine", "source": f"runs:/{run}/model"}
    message = _error(
        client.post(f"{VERSIONS}/create", json=fields, headers=_as("ada")),
        403,
        "PERMISSION_DENIED",
    )
    assert "READ on the experiment of run" in message
    authenticator.grants[("ada", "experiment", "0")] = Access.READ
    _ok(client.post(f"{VERSIONS}/create", json=fields, headers=_as("ada")))


def test_alias_moves_record_the_signed_in_user(
    guarded: tuple[TestClient, RegistryAuthenticator],
) -> None:
    client, _ = guarded
    _ok(client.post(f"{MODELS}/create", json={"name": "wine"}, headers=_as("ada")))
    _ok(
        client.post(
            f"{VERSIONS}/create",
            json={"name": "wine", "source": "s3://b/m"},
            headers=_as("ada"),
        )
    )
    _ok(
        client.post(
            f"{MODELS}/alias",
            json={"name": "wine", "alias": "champion", "version": "1"},
            headers=_as("ada"),
        )
    )
    history = _ok(client.get(HISTORY, params={"name": "wine"}, headers=_as("ada")))
    assert history["alias_history"][0]["user_id"] == "ada"


def test_a_local_source_inside_its_run_is_accepted(
    client: TestClient,
    store: SqlStore,
    model_dir: Path,
    settings: ServerSettings,
) -> None:
    location = Path(settings.artifacts_destination) / "local"
    experiment_id = store.create_experiment("local", artifact_location=str(location))
    run = store.create_run(experiment_id, user_id="ada", start_time=1, run_name="r")
    model = Path(run.info.artifact_uri) / "model"
    model.mkdir(parents=True)
    for file in model_dir.iterdir():
        (model / file.name).write_bytes(file.read_bytes())
    _create(client)
    version = _version(client, source=str(model), run_id=run.info.run_id)
    assert version["run_id"] == run.info.run_id
    assert "signature" in version
    proxied = client.post(
        f"{VERSIONS}/create",
        json={
            "name": "wine",
            "source": f"mlflow-artifacts:/{experiment_id}/model",
            "run_id": run.info.run_id,
        },
    )
    assert "inside the artifacts" in _error(proxied, 400, "INVALID_PARAMETER_VALUE")
    outside = client.post(
        f"{VERSIONS}/create",
        json={"name": "wine", "source": str(location), "run_id": run.info.run_id},
    )
    assert "inside the artifacts" in _error(outside, 400, "INVALID_PARAMETER_VALUE")


def test_a_run_root_without_a_model_is_not_found(
    client: TestClient, model_dir: Path, settings: ServerSettings
) -> None:
    run_id = _run_with_model(client, model_dir, settings)
    _create(client)
    response = client.post(
        f"{VERSIONS}/create",
        json={
            "name": "wine",
            "source": f"mlflow-artifacts:/0/{run_id}/artifacts",
            "run_id": run_id,
        },
    )
    assert "no MLmodel file" in _error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_deeply_encoded_sources_are_refused(client: TestClient) -> None:
    from urllib.parse import quote

    hidden = "%2e%2e"
    for _ in range(6):
        hidden = quote(hidden, safe="")
    _create(client)
    response = client.post(
        f"{VERSIONS}/create", json={"name": "wine", "source": f"s3://b/{hidden}/x"}
    )
    assert "'..'" in _error(response, 400, "INVALID_PARAMETER_VALUE")


def test_a_store_without_a_registry_is_unavailable(client: TestClient) -> None:
    client.app.state.services.store = object()  # type: ignore[attr-defined]  # a store of runs only
    response = client.get(f"{MODELS}/search")
    _error(response, 503, "TEMPORARILY_UNAVAILABLE")


def test_a_logged_model_source_points_at_its_location(
    client: TestClient, store: SqlStore
) -> None:
    run = store.create_run("0", user_id="ada", start_time=1, run_name="r")
    logged = store.create_logged_model("0", name="model", source_run_id=run.info.run_id)
    _create(client)
    version = _version(client, source=f"models:/{logged.model_id}")
    assert (version["source"], version["run_id"]) == (
        f"models:/{logged.model_id}",
        run.info.run_id,
    )
    assert "signature" not in version  # no files uploaded yet
    body = _ok(
        client.get(
            f"{VERSIONS}/get-download-uri", params={"name": "wine", "version": "1"}
        )
    )
    assert body["artifact_uri"] == logged.artifact_location
