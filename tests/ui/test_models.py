"""The registry's pages, as HTML and as JSON, on models logged and registered with
the library (TestClient); the browser drives them in ``test_browser.py``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from starlette.testclient import TestClient

import mltrail
from mltrail.store._sql import SqlStore
from mltrail.ui import _models
from mltrail.ui._render import CONTENT_SECURITY_POLICY
from tests.ui._hostile import PAYLOADS, register_hostile_model

JSON = {"accept": "application/json"}
PAGE_DATA = re.compile(
    r'<script type="application/json" id="page-data">(.*?)</script>', re.S
)


def _embedded(html: str) -> Any:
    match = PAGE_DATA.search(html)
    assert match is not None
    return json.loads(match.group(1))


@dataclass
class Registered:
    """Two runs of one model, registered three times, with an alias moved twice."""

    first_run: str
    second_run: str
    model_id: str


def _log_model(run_name: str, C: float) -> tuple[str, str]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    with mltrail.start_run(run_name=run_name) as run:
        estimator = LogisticRegression(C=C, max_iter=500).fit(X, y)
        info = mltrail.sklearn.log_model(estimator, name="model", input_example=X[:2])
    assert info.model_id is not None
    return run.info.run_id, info.model_id


@pytest.fixture
def registered(store: SqlStore) -> Registered:
    first_run, _ = _log_model("first", 1.0)
    second_run, model_id = _log_model("second", 0.1)
    mltrail.register_model(f"runs:/{first_run}/model", "iris")
    mltrail.register_model(f"runs:/{second_run}/model", "iris")
    mltrail.register_model(f"models:/{model_id}", "iris")  # a logged model
    client = mltrail.TrackingClient()
    client.update_registered_model("iris", description="Iris species.\nSecond line")
    client.set_registered_model_tag("iris", "team", "botany")
    client.set_registered_model_alias("iris", "champion", 1)
    client.set_registered_model_alias("iris", "champion", 2)
    client.set_registered_model_alias("iris", "canary", 3)
    client.delete_registered_model_alias("iris", "canary")
    client.set_registered_model_alias("iris", "challenger", 3)
    client.create_registered_model("empty")
    return Registered(first_run, second_run, model_id)


def test_pages_are_html_and_the_same_data_as_json(
    client: TestClient, registered: Registered
) -> None:
    for path in ("/models", "/models/iris", "/models/empty", "/models?filter=ir"):
        html = client.get(path)
        data = client.get(path, headers=JSON)
        assert html.status_code == data.status_code == 200, path
        assert html.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert data.headers["content-type"] == "application/json"
        assert _embedded(html.text) == data.json(), path


def test_the_list_shows_each_model_with_its_newest_version_and_aliases(
    client: TestClient, registered: Registered
) -> None:
    page = client.get("/models", headers=JSON).json()
    rows = {row["name"]: row for row in page["models"]}
    assert list(rows) == ["empty", "iris"]
    assert rows["iris"]["latest_version"] == 3
    assert rows["iris"]["aliases"] == [
        {"alias": "challenger", "version": 3},
        {"alias": "champion", "version": 2},
    ]
    assert rows["iris"]["description"] == "Iris species.\nSecond line"
    assert rows["iris"]["tags"] == {"team": "botany"}
    assert rows["empty"]["latest_version"] is None
    html = client.get("/models").text
    assert '<a href="/models/iris">iris</a>' in html
    assert '<a href="/models/iris#version-3">v3</a>' in html
    assert "@champion → v2" in html
    assert "Iris species." in html
    assert "Second line" not in PAGE_DATA.sub("", html)  # the first line only


def test_the_list_searches_by_name_piece_or_filter_and_sorts(
    client: TestClient, registered: Registered
) -> None:
    def names(query: str) -> list[str]:
        page = client.get(f"/models?{query}", headers=JSON).json()
        return [row["name"] for row in page["models"]]

    assert names("filter=IRI") == ["iris"]
    assert names("filter=tags.team+%3D+%27botany%27") == ["iris"]
    assert names("filter=nothing") == []
    assert names("order=updated")[0] == "empty"  # created after iris's last change
    assert _models.search_filter("") == ""
    assert _models.search_filter(" wine ") == "name ILIKE '%wine%'"
    assert _models.search_filter("it's") == "it's"  # a quote: a filter
    assert _models.search_filter("name like 'w%'") == "name like 'w%'"


def test_a_bad_filter_is_shown_in_place(
    client: TestClient, registered: Registered
) -> None:
    data = client.get("/models?filter=name+%3D", headers=JSON)
    assert data.status_code == 400
    assert data.json()["error"]["field"] == "filter"
    assert data.json()["models"] == []
    html = client.get("/models?filter=name+%3D")
    assert html.status_code == 200
    assert 'id="filter-error"' in html.text
    assert "Fix the search above" in html.text


def test_a_bad_order_is_refused(client: TestClient) -> None:
    response = client.get("/models?order=size", headers=JSON)
    assert response.status_code == 400
    assert "one of name, updated" in response.json()["message"]
    assert client.get("/models?order=size").status_code == 400


def test_the_list_pages(
    client: TestClient, registered: Registered, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_models, "MODELS_PAGE_SIZE", 1)
    first = client.get("/models", headers=JSON).json()
    assert [row["name"] for row in first["models"]] == ["empty"]
    token = first["next_page_token"]
    assert token
    assert urlencode({"page_token": token}) in client.get("/models").text
    second = client.get(f"/models?page_token={token}", headers=JSON).json()
    assert [row["name"] for row in second["models"]] == ["iris"]


def test_a_model_page_shows_versions_sources_and_aliases(
    client: TestClient, registered: Registered
) -> None:
    page = client.get("/models/iris", headers=JSON).json()
    assert page["model"]["name"] == "iris"
    assert page["model"]["latest_version"] == 3
    versions = {v["version"]: v for v in page["versions"]}
    assert list(versions) == [3, 2, 1]
    assert versions[1]["run"]["run_id"] == registered.first_run
    assert versions[1]["run"]["run_name"] == "first"
    assert versions[1]["source"] == f"runs:/{registered.first_run}/model"
    assert versions[1]["logged_model"] is None
    assert versions[3]["run"]["run_name"] == "second"
    assert versions[3]["logged_model"] == {
        "model_id": registered.model_id,
        "name": "model",
        "run_id": registered.second_run,
        "path": "model",
    }
    assert versions[2]["aliases"] == ["champion"]
    assert [row["name"] for row in versions[1]["signature"]["inputs"]][:1] == [
        "sepal length (cm)"
    ]
    assert page["has_stages"] is False
    aliases = {a["alias"]: a for a in page["model"]["aliases"]}
    assert aliases["champion"]["version"] == 2
    assert aliases["champion"]["user_id"]
    history = page["alias_history"]
    # Newest first: every move, with what it did.
    assert [
        (c["alias"], c["action"], c["previous_version"], c["version"]) for c in history
    ] == [
        ("challenger", "set", None, 3),
        ("canary", "deleted", 3, None),
        ("canary", "set", None, 3),
        ("champion", "moved", 1, 2),
        ("champion", "set", None, 1),
    ]
    assert aliases["champion"]["since"] == history[3]["timestamp"]
    assert page["snippets"]["uri"] == "models:/iris@challenger"


def test_a_model_page_links_runs_logged_models_and_versions(
    client: TestClient, registered: Registered
) -> None:
    html = client.get("/models/iris").text
    assert f'<a href="/runs/{registered.first_run}">first</a>' in html
    assert f'href="/runs/{registered.second_run}/model"' in html
    assert 'id="version-2"' in html
    assert (
        'moved from <a href="#version-1">v1</a> to <a href="#version-2">v2</a>' in html
    )
    assert 'deleted (was <a href="#version-3">v3</a>)' in html
    assert "models:/iris@challenger" in html
    assert "Second line" in html  # the full description
    assert "botany" in html
    empty = client.get("/models/empty").text
    assert "No versions yet" in empty
    assert "No alias was ever set" in empty


def test_a_model_page_pages_its_versions(
    client: TestClient, registered: Registered, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_models, "VERSIONS_PAGE_SIZE", 2)
    first = client.get("/models/iris", headers=JSON).json()
    assert [v["version"] for v in first["versions"]] == [3, 2]
    token = first["next_page_token"]
    older = client.get(f"/models/iris?page_token={token}", headers=JSON).json()
    assert [v["version"] for v in older["versions"]] == [1]
    assert older["next_page_token"] is None
    assert "Older versions" in client.get("/models/iris").text


def test_stages_show_only_when_a_version_has_one(
    client: TestClient, registered: Registered
) -> None:
    mltrail.TrackingClient().transition_model_version_stage("iris", 1, "Staging")
    page = client.get("/models/iris", headers=JSON).json()
    assert page["has_stages"] is True
    assert ">Staging<" in client.get("/models/iris").text


def test_a_run_page_links_the_versions_registered_from_it(
    client: TestClient, registered: Registered
) -> None:
    for tab in ("", "/model", "/params"):
        page = client.get(f"/runs/{registered.second_run}{tab}", headers=JSON).json()
        assert page["registered"] == [
            {"name": "iris", "version": 3, "aliases": ["challenger"]},
            {"name": "iris", "version": 2, "aliases": ["champion"]},
        ]
    html = client.get(f"/runs/{registered.second_run}").text
    assert '<a href="/models/iris#version-3">iris v3</a>' in html
    other = _log_model("unregistered", 2.0)[0]
    assert client.get(f"/runs/{other}", headers=JSON).json()["registered"] == []
    assert "registered as" not in client.get(f"/runs/{other}").text


def test_unknown_models_are_404(client: TestClient) -> None:
    assert client.get("/models/nope").status_code == 404
    data = client.get("/models/nope", headers=JSON)
    assert data.status_code == 404
    assert data.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_every_page_links_the_models_list(
    client: TestClient, registered: Registered
) -> None:
    for path, current in (
        ("/", "Experiments"),
        ("/models", "Models"),
        ("/models/iris", "Models"),
        (f"/runs/{registered.first_run}", "Experiments"),
    ):
        html = client.get(path).text
        nav = re.search(r'<nav class="sections".*?</nav>', html, re.S)
        assert nav is not None, path
        assert '<a href="/models"' in nav.group(0)
        assert re.search(rf'class="current">{current}<', nav.group(0)), path


def test_hostile_names_are_escaped(client: TestClient, store: SqlStore) -> None:
    run_id = _log_model(PAYLOADS[0], 1.0)[0]
    names = [
        register_hostile_model(run_id, run_id, f"m{i}{payload}")
        for i, payload in enumerate(PAYLOADS)
    ]
    raw = [text for text in (*PAYLOADS, *names) if "<" in text or '"' in text]
    listed = client.get("/models")
    assert listed.status_code == 200
    assert not [text for text in raw if text in listed.text]
    for name in names:
        assert f'href="/models/{quote(name, safe="")}"' in listed.text
        page = client.get(f"/models/{quote(name, safe='')}")
        assert page.status_code == 200, name
        assert not [text for text in raw if text in page.text], name
        assert _embedded(page.text)["model"]["name"] == name
    run_page = client.get(f"/runs/{run_id}").text
    assert not [text for text in raw if text in run_page]
    assert f'href="/models/{quote(names[-1], safe="")}#version-2"' in run_page
    # 24 versions come from this run; its page lists the newest 20.
    registered = client.get(f"/runs/{run_id}", headers=JSON).json()["registered"]
    assert len(registered) == 20
    assert registered[0] == {"name": names[-1], "version": 2, "aliases": ["champion"]}


def test_pages_follow_the_registry_permissions(store: SqlStore) -> None:
    import base64

    from mltrail.server import ServerSettings, create_app
    from mltrail.server._auth import Accounts, BasicAuthenticator

    def basic(username: str, password: str) -> dict[str, str]:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    admin = basic("admin", "correct horse battery")
    ada = basic("ada", "ada's long passphrase")
    accounts = Accounts(store)
    accounts.bootstrap_admin(
        {
            "MLTRAIL_ADMIN_USERNAME": "admin",
            "MLTRAIL_ADMIN_PASSWORD": "correct horse battery",
        }
    )
    accounts.create_user("ada", "ada's long passphrase")
    hidden_run = _log_model("hidden run", 1.0)[0]
    mltrail.register_model(f"runs:/{hidden_run}/model", "shared")
    mltrail.register_model(f"runs:/{hidden_run}/model", "secret")
    accounts.grant("registered_model", "shared", "ada", "READ")
    settings = ServerSettings(
        artifacts_destination=store.artifact_root,
        auth="basic",
        default_permission="NO_PERMISSIONS",
    )
    authenticator = BasicAuthenticator(accounts, "NO_PERMISSIONS")
    app = create_app(store, settings=settings, authenticator=authenticator)
    client = TestClient(app, base_url="http://localhost")

    assert client.get("/models").status_code == 401
    listed = client.get("/models", headers={**ada, **JSON}).json()
    assert [m["name"] for m in listed["models"]] == ["shared"]
    assert client.get("/models/secret", headers=ada).status_code == 403
    assert client.get("/models/secret", headers={**ada, **JSON}).status_code == 403
    page = client.get("/models/shared", headers={**ada, **JSON}).json()
    # The version's run is in an experiment ada may not read: no name, no link.
    assert page["versions"][0]["run"] == {
        "run_id": hidden_run,
        "run_name": None,
        "experiment_id": None,
        "lifecycle_stage": None,
        "readable": False,
        "exists": True,
    }
    assert (
        f'href="/runs/{hidden_run}'
        not in client.get("/models/shared", headers=ada).text
    )
    assert client.get(f"/runs/{hidden_run}", headers=ada).status_code == 403
    everything = client.get("/models", headers={**admin, **JSON}).json()
    assert [m["name"] for m in everything["models"]] == ["secret", "shared"]
    admin_page = client.get("/models/shared", headers={**admin, **JSON}).json()
    assert admin_page["versions"][0]["run"]["run_name"] == "hidden run"
    # The run page lists only the versions of models its reader may read.
    accounts.grant("experiment", "0", "ada", "READ")
    authenticator.forget()  # cached permissions
    run_page = client.get(f"/runs/{hidden_run}", headers={**ada, **JSON}).json()
    assert [v["name"] for v in run_page["registered"]] == ["shared"]
    run_page = client.get(f"/runs/{hidden_run}", headers={**admin, **JSON}).json()
    assert [v["name"] for v in run_page["registered"]] == ["secret", "shared"]
