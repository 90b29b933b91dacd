"""Every page, as HTML and as JSON, on runs logged with the library (TestClient)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

import mltrail
from mltrail._entities import Metric, Param, RunTag
from mltrail._system_tags import PARENT_RUN_ID_TAG
from mltrail.store._sql import SqlStore
from mltrail.tracking import _pending
from mltrail.ui._render import CONTENT_SECURITY_POLICY

JSON = {"accept": "application/json"}
PAGE_DATA = re.compile(
    r'<script type="application/json" id="page-data">(.*?)</script>', re.S
)
RUN_TABS = ("", "/params", "/metrics", "/plots", "/datasets", "/pipeline", "/model")
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08"
    b"\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00"
    b"\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _embedded(html: str) -> Any:
    match = PAGE_DATA.search(html)
    assert match is not None
    return json.loads(match.group(1))


def _run(
    store: SqlStore,
    name: str,
    start: int = 0,
    *,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    experiment_id: str = "0",
) -> str:
    run = store.create_run(
        experiment_id, user_id="ada", start_time=start, run_name=name
    )
    store.log_batch(
        run.info.run_id,
        metrics=[Metric(k, v, start, 0) for k, v in (metrics or {}).items()],
        params=[Param(k, v) for k, v in (params or {}).items()],
        tags=[RunTag(k, v) for k, v in (tags or {}).items()],
    )
    store.update_run_info(run.info.run_id, status="FINISHED", end_time=start + 1500)
    return run.info.run_id


@pytest.fixture
def logged_run(store: SqlStore, tmp_path: Path) -> str:
    """A run with params, a metric history, tags and one artifact of each kind."""
    with mltrail.start_run(run_name="full") as run:
        mltrail.log_params({"C": "1.0", "solver": "lbfgs"})
        for step in range(30):
            mltrail.log_metric("loss", 1 / (step + 1), step=step)
        mltrail.log_metric("test_accuracy", 0.9)
        mltrail.set_tag("team", "vision")
        mltrail.log_text("hello\n", "notes/readme.txt")
        mltrail.log_dict({"b": [1, 2]}, "config.json")
        mltrail.log_text("a,b\n1,2\n3,4\n", "data/table.csv")
        mltrail.log_text("<h1>report</h1><script>parent.x = 1</script>", "report.html")
        image = tmp_path / "pixel.png"
        image.write_bytes(PNG)
        mltrail.log_artifact(str(image), "images")
        binary = tmp_path / "weights.bin"
        binary.write_bytes(b"\x00\x01")
        mltrail.log_artifact(str(binary))
    return run.info.run_id


def test_every_page_is_html_and_the_same_data_as_json(
    client: TestClient, logged_run: str
) -> None:
    paths = [
        "/",
        "/experiments/0",
        *(f"/runs/{logged_run}{tab}" for tab in RUN_TABS),
        f"/runs/{logged_run}/artifacts?path=config.json",
        f"/compare?run_ids={logged_run}",
    ]
    for path in paths:
        html = client.get(path)
        data = client.get(path, headers=JSON)
        assert html.status_code == data.status_code == 200, path
        assert html.headers["content-type"].startswith("text/html")
        assert html.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "accept" in html.headers["vary"].lower()
        assert data.headers["content-type"] == "application/json"
        assert _embedded(html.text) == data.json(), path


def test_pages_link_only_scripts_and_styles_of_the_package(
    client: TestClient, logged_run: str
) -> None:
    html = client.get(f"/runs/{logged_run}/metrics").text
    sources = re.findall(r'<script[^>]+src="([^"]+)"', html)
    sources += re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert sources
    assert all(source.startswith("/static/") for source in sources)
    assert "<script>" not in html
    assert "style=" not in html
    for source in sources:
        assert client.get(source).status_code == 200, source
    preloads = re.findall(r'<link rel="preload" as="fetch"[^>]+href="([^"]+)"', html)
    assert preloads == [
        f"/history?run_ids={logged_run}&amp;key=loss&amp;x=step&amp;points=1000"
    ]
    assert (
        client.get(preloads[0].replace("&amp;", "&")).json()["runs"][0]["total"] == 30
    )


def test_static_assets_fit_the_size_budget() -> None:
    static = Path(mltrail.__file__).parent / "ui" / "static"
    sizes = {
        path.name: path.stat().st_size
        for path in static.rglob("*")
        if path.suffix in (".js", ".css")
    }
    assert "uPlot.iife.min.js" in sizes
    assert sum(sizes.values()) < 300 * 1024


def test_experiments_page_counts_runs(client: TestClient, store: SqlStore) -> None:
    other = store.create_experiment("other")
    _run(store, "a", 1000)
    _run(store, "b", 5000)
    deleted = store.create_experiment("gone")
    store.update_experiment(deleted, lifecycle_stage="deleted")
    page = client.get("/", headers=JSON).json()
    rows = {row["name"]: row for row in page["experiments"]}
    assert rows["Default"]["run_count"] == 2
    assert rows["other"]["run_count"] == 0
    assert "gone" not in rows
    assert other == rows["other"]["experiment_id"]
    shown = client.get("/?view=deleted", headers=JSON).json()
    assert [row["name"] for row in shown["experiments"]] == ["gone"]
    assert client.get("/?view=bogus").status_code == 400


def test_runs_table_shows_the_columns_that_differ(
    client: TestClient, store: SqlStore
) -> None:
    for i, C in enumerate(("1", "10")):
        _run(
            store,
            f"r{i}",
            i,
            params={"C": C, "solver": "sgd"},
            metrics={
                "test_accuracy": 0.5 + i / 10,
                "training_score": 0.9,
                "x": float(i),
            },
        )
    page = client.get("/experiments/0", headers=JSON).json()
    names = [c["name"] for c in page["columns"]]
    assert "params.C" in names
    assert "params.solver" not in names  # the same in every run
    assert names.index("metrics.test_accuracy") < names.index("metrics.x")
    assert "metrics.training_score" not in names
    assert [r["run_name"] for r in page["rows"]] == ["r1", "r0"]
    assert page["rows"][0]["values"]["params.C"] == "10"
    chosen = client.get(
        "/experiments/0?columns=params.solver&columns=metrics.x", headers=JSON
    ).json()
    assert [c["name"] for c in chosen["columns"]] == ["params.solver", "metrics.x"]
    none = client.get("/experiments/0?columns=", headers=JSON).json()
    assert none["columns"] == []


def test_runs_table_sorts_and_pages(client: TestClient, store: SqlStore) -> None:
    for i in range(30):
        _run(store, f"r{i:02d}", i, metrics={"acc": float(i % 7)})
    url = "/experiments/0?order_by=metrics.acc+DESC&max_results=25&columns=metrics.acc"
    first = client.get(url, headers=JSON).json()
    assert len(first["rows"]) == 25
    values = [r["values"]["metrics.acc"] for r in first["rows"]]
    assert values == sorted(values, reverse=True)
    second = client.get(
        url + "&page_token=" + first["next_page_token"], headers=JSON
    ).json()
    assert len(second["rows"]) == 5
    assert second["next_page_token"] is None
    names = {r["run_name"] for r in first["rows"] + second["rows"]}
    assert len(names) == 30
    html = client.get(url).text
    assert 'aria-sort="descending"' in html
    assert 'rel="next"' in html


def test_a_filter_error_is_shown_where_it_is(client: TestClient) -> None:
    response = client.get("/experiments/0?filter=metrics.acc+%3E+0.5+AND+(")
    assert response.status_code == 200  # the page itself shows the error
    as_json = client.get(
        "/experiments/0?filter=metrics.acc+%3E+0.5+AND+(", headers=JSON
    )
    assert as_json.status_code == 400
    data = _embedded(response.text)
    assert data == as_json.json()
    assert data["error"]["field"] == "filter"
    assert data["error"]["position"] == 23
    assert "<mark> </mark>" in response.text
    assert 'role="alert"' in response.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("columns=params.", "columns"),
        ("order_by=metrics.acc+SIDEWAYS", "order_by"),
        ("group_by=metrics.acc", "group_by"),
        ("page_token=bogus", "page_token"),
    ],
)
def test_other_errors_name_their_field(
    client: TestClient, query: str, field: str
) -> None:
    response = client.get(f"/experiments/0?{query}", headers=JSON)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_a_bad_page_size_is_refused(client: TestClient) -> None:
    assert client.get("/experiments/0?max_results=7").status_code == 400


def test_children_nest_and_list_under_their_parent(
    client: TestClient, store: SqlStore
) -> None:
    parent = _run(store, "search", 0)
    for i in range(3):
        _run(store, f"child{i}", i + 1, tags={PARENT_RUN_ID_TAG: parent})
    page = client.get("/experiments/0", headers=JSON).json()
    assert [(r["run_name"], r["child_count"]) for r in page["rows"]] == [("search", 3)]
    children = client.get(f"/experiments/0?parent_run_id={parent}", headers=JSON).json()
    assert [r["run_name"] for r in children["rows"]] == ["child2", "child1", "child0"]
    html = client.get("/experiments/0").text
    assert f'data-run-id="{parent}"' in html
    assert "parent_run_id=" + parent in html  # the expand link
    flat = client.get("/experiments/0?nested=0", headers=JSON).json()
    assert len(flat["rows"]) == 4


def test_group_by_draws_a_header_per_group(client: TestClient, store: SqlStore) -> None:
    _run(store, "a", 0, params={"solver": "sgd"})
    _run(store, "b", 1, params={"solver": "adam"})
    _run(store, "c", 2, params={"solver": "sgd"})
    response = client.get("/experiments/0?group_by=params.solver")
    data = _embedded(response.text)
    assert data["groups"] == [
        {"value": "adam", "count": 1},
        {"value": "sgd", "count": 2},
    ]
    assert response.text.count('class="group"') == 2
    assert "(2 runs)" in response.text


def test_differences_only_hides_constant_columns(
    client: TestClient, store: SqlStore
) -> None:
    _run(store, "a", 0, params={"C": "1", "same": "x"})
    _run(store, "b", 1, params={"C": "2", "same": "x"})
    url = "/experiments/0?columns=params.C&columns=params.same&diff=1"
    page = client.get(url, headers=JSON).json()
    assert [c["name"] for c in page["columns"]] == ["params.C"]
    assert page["hidden_columns"] == ["params.same"]


def test_count_endpoint_applies_the_filter(client: TestClient, store: SqlStore) -> None:
    _run(store, "a", 0, metrics={"acc": 0.9})
    _run(store, "b", 1, metrics={"acc": 0.1})
    html = client.get("/experiments/0?filter=metrics.acc+%3E+0.5").text
    assert 'data-count-url="/experiments/0/count?filter=metrics.acc+%3E+0.5"' in html
    count = client.get("/experiments/0/count?filter=metrics.acc+%3E+0.5")
    assert count.json() == {"count": 1}
    assert client.get("/experiments/0/count").json() == {"count": 2}


def test_history_keeps_the_spike_and_zooms(client: TestClient, store: SqlStore) -> None:
    run = store.create_run("0", user_id="ada", start_time=0, run_name="long")
    points = [Metric("loss", 1.0, i, i) for i in range(5000)]
    points[4321] = Metric("loss", 99.0, 4321, 4321)
    store.log_batch(run.info.run_id, metrics=points)
    url = f"/history?run_ids={run.info.run_id}&key=loss&points=100"
    whole = client.get(url).json()["runs"][0]
    assert whole["is_sampled"]
    assert len(whole["x"]) <= 100
    assert max(whole["max"]) == 99.0
    zoomed = client.get(url + "&start=4300&end=4340").json()["runs"][0]
    assert not zoomed["is_sampled"]
    assert zoomed["x"][0] == 4300
    assert 99.0 in zoomed["value"]
    fractional = client.get(url + "&start=4300.5&end=4301.5").json()["runs"][0]
    assert fractional["x"] == [4300.0, 4301.0, 4302.0]


@pytest.mark.parametrize(
    "query",
    ["key=loss", "run_ids=x", "run_ids=x&key=loss&points=abc", "run_ids=x&key=l&x=y"],
)
def test_history_rejects_bad_queries(client: TestClient, query: str) -> None:
    assert client.get(f"/history?{query}").status_code in (400, 404)


def test_history_of_non_finite_values_is_valid_json(
    client: TestClient, store: SqlStore
) -> None:
    run_id = _run(store, "r", 0)
    store.log_batch(run_id, metrics=[Metric("m", math.nan, 0, 1)])
    data = client.get(f"/history?run_ids={run_id}&key=m").json()
    assert data["runs"][0]["value"] == ["NaN"]


def test_run_overview_lists_tags_family_and_highlights(
    client: TestClient, store: SqlStore
) -> None:
    parent = _run(store, "search", 0)
    child = _run(
        store,
        "candidate",
        1,
        metrics={"mean_test_score": 0.8, "rank_test_score": 1.0},
        tags={PARENT_RUN_ID_TAG: parent, "team": "x"},
    )
    parent_page = client.get(f"/runs/{parent}", headers=JSON).json()
    rows = parent_page["overview"]["children"]["rows"]
    assert [r["run_name"] for r in rows] == ["candidate"]
    child_page = client.get(f"/runs/{child}", headers=JSON).json()
    overview = child_page["overview"]
    assert overview["parent"] == {"run_id": parent, "run_name": "search"}
    assert overview["tags"] == {"team": "x"}
    assert PARENT_RUN_ID_TAG in overview["system_tags"]
    assert child_page["run"]["parent_run_id"] == parent


def test_an_orphan_child_names_its_missing_parent(
    client: TestClient, store: SqlStore
) -> None:
    orphan = _run(store, "orphan", 0, tags={PARENT_RUN_ID_TAG: "f" * 32})
    overview = client.get(f"/runs/{orphan}", headers=JSON).json()["overview"]
    assert overview["parent"] == {"run_id": "f" * 32, "run_name": None}


def test_params_without_pipeline_have_no_origin(
    client: TestClient, logged_run: str
) -> None:
    page = client.get(f"/runs/{logged_run}/params", headers=JSON).json()
    assert page["has_pipeline"] is False
    assert {p["key"]: p["status"] for p in page["params"]} == {
        "C": None,
        "solver": None,
    }
    found = client.get(f"/runs/{logged_run}/params?q=SOLV", headers=JSON).json()
    assert [p["key"] for p in found["params"]] == ["solver"]


def test_metrics_page_counts_each_history(client: TestClient, logged_run: str) -> None:
    page = client.get(f"/runs/{logged_run}/metrics", headers=JSON).json()
    metrics = {
        m["key"]: (group["kind"], m["has_history"])
        for group in page["metric_groups"]
        for m in group["metrics"]
    }
    assert metrics == {"loss": ("other", True), "test_accuracy": ("held_out", False)}
    html = client.get(f"/runs/{logged_run}/metrics").text
    assert 'data-key="loss"' in html
    assert 'data-key="test_accuracy"' not in html  # one point: no chart


@pytest.mark.parametrize(
    ("path", "kind", "check"),
    [
        ("notes/readme.txt", "text", ("text", "hello\n")),
        ("config.json", "text", ("text", '{\n  "b": [\n    1,\n    2\n  ]\n}')),
        (
            "data/table.csv",
            "table",
            (
                "table",
                {
                    "header": ["a", "b"],
                    "rows": [["1", "2"], ["3", "4"]],
                    "is_truncated": False,
                },
            ),
        ),
        ("images/pixel.png", "image", None),
        ("report.html", "html", None),
        ("weights.bin", "download", None),
    ],
)
def test_artifact_previews(
    client: TestClient,
    logged_run: str,
    path: str,
    kind: str,
    check: tuple[str, object] | None,
) -> None:
    page = client.get(f"/runs/{logged_run}/artifacts?path={path}", headers=JSON).json()
    preview = page["preview"]
    assert preview["kind"] == kind
    if check is not None:
        assert preview[check[0]] == check[1]
    assert page["selected"] == path
    assert "" in page["tree"]


def test_artifact_tree_opens_folders(client: TestClient, logged_run: str) -> None:
    page = client.get(f"/runs/{logged_run}/artifacts?path=data", headers=JSON).json()
    assert page["preview"] is None
    assert [f["name"] for f in page["tree"]["data"]] == ["table.csv"]


@pytest.mark.parametrize(
    ("path", "status"),
    [("missing.txt", 404), ("../../etc/passwd", 400), ("notes/%2e%2e/%2e%2e/x", 400)],
)
def test_bad_artifact_paths(
    client: TestClient, logged_run: str, path: str, status: int
) -> None:
    response = client.get(f"/runs/{logged_run}/artifacts?path={path}")
    assert response.status_code == status
    assert "text/html" in response.headers["content-type"]


@pytest.mark.parametrize(
    ("path", "media", "disposition"),
    [
        ("report.html", "text/html; charset=utf-8", "inline"),
        ("images/pixel.png", "image/png", "inline"),
        ("config.json", "application/json; charset=utf-8", "inline"),
        ("weights.bin", "application/octet-stream", "attachment"),
    ],
)
def test_files_are_served_sandboxed(
    client: TestClient, logged_run: str, path: str, media: str, disposition: str
) -> None:
    response = client.get(f"/runs/{logged_run}/files/{path}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media
    assert response.headers["content-disposition"].startswith(disposition)
    assert response.headers["content-security-policy"].startswith("sandbox")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_files_outside_the_run_are_refused(client: TestClient, logged_run: str) -> None:
    assert client.get(f"/runs/{logged_run}/files/..%2F..%2Fmltrail.db").status_code in (
        400,
        404,
    )
    assert client.get(f"/runs/{logged_run}/files/nothing.txt").status_code == 404


def test_compare_marks_differences_and_extremes(
    client: TestClient, store: SqlStore
) -> None:
    a = _run(store, "a", 0, params={"C": "1", "k": "x"}, metrics={"acc": 0.5})
    b = _run(store, "b", 1, params={"C": "2", "k": "x"}, metrics={"acc": 0.9})
    page = client.get(f"/compare?run_ids={a},{b}", headers=JSON).json()
    params = {row["key"]: row for row in page["params"]}
    assert params["C"]["differs"]
    assert not params["k"]["differs"]
    acc = page["metrics"][0]
    assert (acc["lowest"], acc["highest"]) == (0, 1)
    only = client.get(f"/compare?run_ids={a}&run_ids={b}&diff=1", headers=JSON).json()
    assert [row["key"] for row in only["params"]] == ["C"]


def test_compare_needs_between_one_and_100_runs(
    client: TestClient, store: SqlStore
) -> None:
    assert client.get("/compare").status_code == 400
    many = ",".join(f"{i:032x}" for i in range(101))
    assert client.get(f"/compare?run_ids={many}").status_code == 400


def test_unknown_things_are_404_pages(client: TestClient) -> None:
    for path in ("/experiments/999", f"/runs/{'a' * 32}", f"/runs/{'a' * 32}/params"):
        html = client.get(path)
        assert html.status_code == 404
        assert "Not found" in html.text
        assert client.get(path, headers=JSON).json()["error_code"] == (
            "RESOURCE_DOES_NOT_EXIST"
        )


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_names_are_escaped(client: TestClient, store: SqlStore) -> None:
    run_id = _run(
        store,
        HOSTILE,
        0,
        params={HOSTILE: HOSTILE},
        metrics={"m<b>": 1.0},
        tags={HOSTILE: HOSTILE, "mlflow.source.name": HOSTILE},
    )
    paths = [
        "/",
        "/experiments/0",
        f"/experiments/0?columns=params.`{HOSTILE}`&filter=params.x+%3D+'%3Cscript%3E'",
        *(f"/runs/{run_id}{tab}" for tab in RUN_TABS),
        f"/compare?run_ids={run_id}",
    ]
    for path in paths:
        html = client.get(path).text
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
        assert "&lt;script&gt;" in html or path == "/", path


@pytest.mark.slow
def test_tabs_of_an_autologged_pipeline(client: TestClient, store: SqlStore) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mltrail.sklearn.autolog()  # before the split, so that it knows the test set
    X, y = load_iris(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    try:
        with mltrail.start_run(run_name="iris") as run:
            model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5))
            model.fit(X_train, y_train).predict(X_test)
    finally:
        mltrail.sklearn.autolog(disable=True)
    _pending.wait()  # held-out metrics and plots are written after predict
    run_id = run.info.run_id
    params = client.get(f"/runs/{run_id}/params", headers=JSON).json()
    status = {p["key"]: p["status"] for p in params["params"]}
    assert status["logisticregression__C"] == "set"
    assert status["logisticregression__max_iter"] == "default"
    assert status["steps"] == "structure"
    plots = client.get(f"/runs/{run_id}/plots", headers=JSON).json()["plots"]
    kinds = {(p["dataset"], p["data"]["kind"]) for p in plots}
    assert ("test", "roc_curve") in kinds
    assert ("test", "confusion_matrix") in kinds
    assert all(p["data"] is not None for p in plots)
    datasets = client.get(f"/runs/{run_id}/datasets", headers=JSON).json()
    assert {d["name"] for d in datasets["datasets"]} == {"train", "test"}
    lineage = datasets["lineage"]
    assert len(lineage) == 1
    assert {part["name"] for part in lineage[0]["parts"]} == {"train", "test"}
    assert lineage[0]["arguments"]["random_state"] == 0
    assert datasets["shared_rows"] == 0
    pipeline = client.get(f"/runs/{run_id}/pipeline", headers=JSON).json()["pipeline"]
    assert pipeline["tree"]["class"] == "sklearn.pipeline.Pipeline"
    assert pipeline["html"] == "estimator.html"
    models = client.get(f"/runs/{run_id}/model", headers=JSON).json()["models"]
    assert models[0]["uri"] == f"runs:/{run_id}/model"
    assert [c["name"] for c in models[0]["inputs"]][:2] == [
        "sepal length (cm)",
        "sepal width (cm)",
    ]
    assert "mltrail.pyfunc.load_model" in models[0]["snippets"]["load"]
    assert models[0]["snippets"]["serve"].startswith("mltrail models serve -m runs:/")
    assert models[0]["files"]["input_example.json"]
