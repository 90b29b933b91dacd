"""A real Chromium through every page and action, on real autologged runs.

One store (filled once per module by ``_fill.fill_store`` and the hostile corpus),
one server (uvicorn in a thread, on a free port of 127.0.0.1) and one browser are
shared by the tests; each test gets a fresh page and fails on any console error or
uncaught exception, and on any script of the hostile corpus running.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

import mltrail
from mltrail.server import ServerSettings, create_app
from mltrail.store._sql import SqlStore
from mltrail.tracking import _pending
from tests.server._live import free_port
from tests.ui._fill import FilledStore, fill_store
from tests.ui._hostile import PAYLOADS, log_hostile_run, register_hostile_model

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TABS = (
    "",
    "/params",
    "/metrics",
    "/plots",
    "/datasets",
    "/pipeline",
    "/model",
    "/artifacts",
)


@dataclass
class Site:
    """The shared server: its URL, its store and what was logged into it."""

    url: str
    store: SqlStore
    runs: FilledStore
    hostile: str
    directory: Path
    hostile_model: str

    def run(self, name: str) -> str:
        return str(getattr(self.runs, name))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Fill a store with autologged runs and the hostile corpus, and serve it."""
    import uvicorn

    directory = tmp_path_factory.mktemp("ui-site")
    saved = {k: os.environ.get(k) for k in ("MLTRAIL_ARTIFACT_ROOT",)}
    os.environ["MLTRAIL_ARTIFACT_ROOT"] = str(directory / "artifacts")
    uri = f"sqlite:///{directory / 'mltrail.db'}"
    try:
        runs = fill_store(uri)
        mltrail.set_experiment("hostile")
        hostile = log_hostile_run(directory)
        _pending.wait()
        hostile_model = register_hostile_model(runs.classifier, hostile)
    finally:
        mltrail.sklearn.autolog(disable=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    store = SqlStore(uri, artifact_root=str(directory / "artifacts"))
    settings = ServerSettings(artifacts_destination=str(directory / "artifacts"))
    app = create_app(store, settings=settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the UI server did not start"
    yield Site(
        f"http://127.0.0.1:{port}", store, runs, hostile, directory, hostile_model
    )
    server.should_exit = True
    thread.join(timeout=15)
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    """A fresh page; the test fails on a console error, an exception or a dialog."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    artifact_messages: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # An artifact's own page (in its sandboxed frame) is the user's content:
        # its errors are kept apart, for the tests that expect some.
        if "/files/" in message.location.get("url", ""):
            artifact_messages.append(message.text)
        else:
            problems.append(f"console: {message.text}")

    page.on("console", console)
    page.artifact_messages = artifact_messages  # type: ignore[attr-defined]  # for tests
    page.on("pageerror", lambda error: problems.append(f"exception: {error}"))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    yield page
    fired = page.evaluate("window.__xss === 1")
    context.close()
    assert not fired, "a hostile payload ran"
    assert not problems, "\n".join(problems)


def visit(page: Page, site: Site, path: str) -> None:
    response = page.goto(site.url + path)
    assert response is not None
    assert response.status == 200, f"{path}: {response.status}"
    page.wait_for_load_state("networkidle")


# --- experiments ------------------------------------------------------------------


def test_experiments_list_counts_runs(page: Page, site: Site) -> None:
    visit(page, site, "/")
    row = page.locator("tr", has=page.get_by_role("link", name="ui", exact=True))
    expect(row.locator("td.num")).to_have_text("12")
    expect(page.locator("caption")).to_contain_text("experiments")


def test_create_rename_delete_and_restore_an_experiment(page: Page, site: Site) -> None:
    visit(page, site, "/")
    page.get_by_label("New experiment").fill("made in the browser")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/experiments/\d+$"))
    expect(page.locator("h1")).to_have_text("made in the browser")
    visit(page, site, "/")
    row = page.locator("tr[data-name='made in the browser']")
    row.get_by_role("button", name="Rename").click()
    page.get_by_label("New name").fill("renamed in the browser")
    page.get_by_role("button", name="Rename", exact=True).last.click()
    expect(page.locator("tr[data-name='renamed in the browser']")).to_be_visible()
    page.locator("tr[data-name='renamed in the browser']").get_by_role(
        "button", name="Delete"
    ).click()
    page.locator("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("tr[data-name='renamed in the browser']")).to_have_count(0)
    page.get_by_role("link", name="Deleted").click()
    deleted = page.locator("tr[data-name='renamed in the browser']")
    expect(deleted).to_contain_text("deleted")
    deleted.get_by_role("button", name="Restore").click()
    expect(page.locator("tr[data-name='renamed in the browser']")).to_have_count(0)
    visit(page, site, "/")
    expect(page.locator("tr[data-name='renamed in the browser']")).to_have_count(1)


# --- the runs table ---------------------------------------------------------------


def experiment(site: Site) -> str:
    return f"/experiments/{site.runs.experiment_id}"


def test_runs_table_shows_runs_and_nests_children(page: Page, site: Site) -> None:
    visit(page, site, experiment(site))
    names = page.locator("#runs-table tbody th.name a:not(.expand)")
    expect(names).to_have_count(6)
    expect(page.locator("#run-count")).to_have_text("12 runs")
    search = page.locator(f"tr[data-run-id='{site.run('search')}']")
    expand = search.locator("a.expand")
    expect(expand).to_contain_text("6")
    expand.click()
    children = page.locator("tr.child")
    expect(children).to_have_count(6)
    expect(expand).to_have_attribute("aria-expanded", "true")
    expect(children.first.locator("th.name")).to_contain_text("search-candidate")
    expand.click()
    expect(page.locator("tr.child")).to_have_count(0)


def test_filter_completes_keys_and_filters(page: Page, site: Site) -> None:
    visit(page, site, experiment(site))
    box = page.locator("#filter")
    box.click()
    box.press_sequentially("metrics.test_acc")
    option = page.locator("#filter-keys li", has_text="metrics.test_accuracy")
    expect(option.first).to_be_visible()
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value(re.compile(r"^metrics\.test_accuracy "))
    box.press_sequentially("> 0.9")
    box.press("Enter")
    page.wait_for_url(re.compile(r"filter=metrics.test_accuracy"))
    names = page.locator("#runs-table tbody th.name a:not(.expand)")
    expect(names).to_have_text(["pipeline", "forest"])
    expect(page.locator("#run-count")).to_have_text("2 matching runs")


def test_a_bad_filter_shows_where_it_fails(page: Page, site: Site) -> None:
    visit(page, site, experiment(site) + "?filter=metrics.test_accuracy+%3E+AND")
    alert = page.locator("#filter-error")
    expect(alert).to_contain_text("position 24")
    expect(alert.locator("mark")).to_have_text("A")
    assert page.evaluate("document.activeElement.id") == "filter"


def test_sort_group_columns_and_differences_live_in_the_url(
    page: Page, site: Site
) -> None:
    visit(page, site, experiment(site) + "?columns=metrics.test_accuracy")
    page.locator("th[data-column='metrics.test_accuracy'] a").click()
    page.wait_for_url(re.compile(r"order_by=metrics.test_accuracy\+DESC"))
    first = page.locator("#runs-table tbody tr.run").first
    expect(first.locator("th.name")).to_contain_text("pipeline")
    expect(page.locator("th[aria-sort='descending']")).to_have_count(1)
    page.get_by_label("Group by").select_option("status")
    page.wait_for_url(re.compile(r"group_by=status"))
    expect(page.locator("tr.group")).to_contain_text("Status = FINISHED")
    page.locator("summary", has_text="Columns").click()
    page.locator("#columns-filter").fill("max_depth")
    page.locator("label.check", has_text="params.max_depth").locator("input").check()
    page.locator("#columns-form").get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"columns=params.max_depth"))
    expect(page.locator("th[data-column='params.max_depth']")).to_be_visible()
    assert "group_by=status" in page.url
    page.get_by_role("switch", name="Differences only").click()
    page.wait_for_url(re.compile(r"diff=1"))
    expect(page.get_by_role("switch", name="Differences only")).to_have_attribute(
        "aria-checked", "true"
    )


def test_scrolling_loads_the_next_pages_in_place(page: Page, site: Site) -> None:
    experiment_id = site.store.create_experiment("many")
    for index in range(60):
        site.store.create_run(
            experiment_id, user_id="ada", start_time=index, run_name=f"run-{index:02d}"
        )
    pages: list[str] = []
    page.on(
        "request",
        lambda request: (
            pages.append(request.url) if "page_token" in request.url else None
        ),
    )
    visit(page, site, f"/experiments/{experiment_id}?max_results=25")
    rows = page.locator("#runs-table tbody tr.run")
    expect(page.locator("#run-count")).to_have_text("60 runs")
    for _ in range(50):  # until the last page is in
        if not page.locator("#next-page").count():
            break
        page.locator("#next-page").scroll_into_view_if_needed()
        page.wait_for_timeout(100)
    expect(rows).to_have_count(60)
    assert len(pages) == 2  # two more pages of 25, then the last 10
    names = rows.locator("th.name a").all_inner_texts()
    assert names == [f"run-{index:02d}" for index in range(59, -1, -1)]


def test_keyboard_moves_selects_and_opens(page: Page, site: Site) -> None:
    visit(page, site, experiment(site))
    page.keyboard.press("j")
    page.keyboard.press("j")
    current = page.locator("#runs-table tr.current")
    expect(current).to_have_count(1)
    page.keyboard.press("x")
    expect(current.locator("input[name=run_ids]")).to_be_checked()
    expect(page.locator("#selection-count")).to_have_text("1 run selected")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "filter"
    page.locator("#filter").press("Escape")
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("k")
    name = page.locator("#runs-table tr.current th.name a:not(.expand)").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/runs/[0-9a-f]{32}$"))
    expect(page.locator("h1")).to_contain_text(name)


def test_select_runs_and_compare(page: Page, site: Site) -> None:
    visit(page, site, experiment(site))
    for name in ("classifier", "pipeline", "regressor"):
        row = page.locator(f"tr[data-run-id='{site.run(name)}']")
        row.locator("input[name=run_ids]").check()
    expect(page.locator("#selection-count")).to_have_text("3 runs selected")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"/compare\?"))
    expect(page.locator("h1")).to_have_text("Compare 3 runs")
    parallel = page.locator("#parallel-chart .plot svg path")
    expect(parallel).to_have_count(3)
    expect(page.locator("#scatter-chart .plot[data-drawn=true] svg")).to_have_count(1)
    metrics = page.locator("table.compare.metrics")
    expect(metrics).to_contain_text("test_accuracy")
    expect(metrics.locator(".badge", has_text="max").first).to_be_visible()


def test_delete_restore_and_tag_selected_runs(page: Page, site: Site) -> None:
    ridge = site.run("regressor")
    visit(page, site, experiment(site))
    page.locator(f"tr[data-run-id='{ridge}'] input[name=run_ids]").check()
    page.get_by_role("button", name="Tag…").click()
    page.get_by_label("Key").fill("reviewed")
    page.get_by_label("Value").fill("yes")
    # The page reloads itself once the server has tagged the runs; a dialog
    # opened before that reload would vanish with the old page.
    with page.expect_navigation():
        page.get_by_role("button", name="Set tag").click()
    assert site.store.get_run(ridge).data.tags["reviewed"] == "yes"
    page.locator(f"tr[data-run-id='{ridge}'] input[name=run_ids]").check()
    page.get_by_role("button", name="Delete").click()
    page.locator("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(f"tr[data-run-id='{ridge}']")).to_have_count(0)
    page.get_by_role("link", name="Deleted").click()
    row = page.locator(f"tr[data-run-id='{ridge}']")
    expect(row).to_be_visible()
    row.locator("input[name=run_ids]").check()
    page.get_by_role("button", name="Restore").click()
    page.locator("dialog").get_by_role("button", name="Restore").click()
    expect(page.locator(f"tr[data-run-id='{ridge}']")).to_have_count(0)
    assert site.store.get_run(ridge).info.lifecycle_stage == "active"


# --- a run ------------------------------------------------------------------------


def test_overview_shows_numbers_and_edits_tags(page: Page, site: Site) -> None:
    run_id = site.run("classifier")
    visit(page, site, f"/runs/{run_id}")
    accuracy = site.store.get_run(run_id).data.metrics["test_accuracy"]
    card = page.locator("section.card", has_text="Held-out")
    expect(card.locator("tr", has_text="test_accuracy")).to_contain_text(
        f"{accuracy:.6g}"
    )
    expect(page.locator("#tags-table")).to_contain_text("ML-1234")
    page.get_by_label("Key", exact=True).fill("owner")
    page.get_by_label("Value", exact=True).fill("ada")
    page.get_by_role("button", name="Set tag").click()
    expect(page.locator("tr[data-tag-key='owner']")).to_contain_text("ada")
    page.locator("tr[data-tag-key='owner']").get_by_role("button", name="Edit").click()
    page.locator("dialog input").fill("grace")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("tr[data-tag-key='owner']")).to_contain_text("grace")
    page.locator("tr[data-tag-key='owner']").get_by_role(
        "button", name="Delete"
    ).click()
    page.locator("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("tr[data-tag-key='owner']")).to_have_count(0)
    assert "owner" not in site.store.get_run(run_id).data.tags


def test_search_overview_lists_candidates_best_first(page: Page, site: Site) -> None:
    visit(page, site, f"/runs/{site.run('search')}")
    rows = page.locator("#children tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.first.locator(".badge")).to_have_text("best")
    rows.first.locator("th a").click()
    expect(page.locator("main")).to_contain_text("Child of")


def test_params_tell_set_values_from_defaults(page: Page, site: Site) -> None:
    visit(page, site, f"/runs/{site.run('classifier')}/params")
    expect(page.locator("tr", has_text="max_depth").locator(".badge")).to_have_text(
        "set"
    )
    expect(page.locator("tr", has_text="criterion").locator(".badge")).to_have_text(
        "default"
    )
    page.locator("#params-filter").fill("estim")
    expect(page.locator("#params-table tbody tr:visible")).to_have_count(1)


def test_metric_charts_draw_zoom_and_keep_the_spike(page: Page, site: Site) -> None:
    visit(page, site, f"/runs/{site.run('long_history')}/metrics")
    figure = page.locator("figure.metric-chart")
    expect(figure.locator("canvas")).to_have_count(1)
    expect(figure.locator(".chart-status")).to_contain_text("ranges")
    figure.locator("summary", has_text="Data table").click()
    expect(figure.locator("details.chart-data td").nth(2)).to_have_text("25")
    box = figure.locator(".u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.65, box["y"] + 40, steps=5)
    page.mouse.up()
    expect(figure.locator(".chart-status")).to_contain_text("Zoomed in")
    figure.dblclick()
    expect(figure.locator(".chart-status")).not_to_contain_text("Zoomed in")
    page.get_by_label("Wall time").check()
    expect(figure.locator(".chart-status")).to_contain_text("20,000 points")
    page.get_by_label("Log scale").check()
    expect(figure.locator("canvas")).to_have_count(1)


def test_incremental_training_has_history_charts(page: Page, site: Site) -> None:
    visit(page, site, f"/runs/{site.run('incremental')}/metrics")
    charts = page.locator("figure.metric-chart")
    assert charts.count() >= 1
    expect(charts.first.locator("canvas")).to_have_count(1)


def test_plots_are_drawn_from_their_data(page: Page, site: Site) -> None:
    visit(page, site, f"/runs/{site.run('classifier')}/plots")
    drawn = page.locator(".plot[data-drawn=true] svg")
    expect(drawn.first).to_be_visible()
    assert drawn.count() >= 7
    confusion = page.locator("table.confusion").first
    expect(confusion.locator("td.diagonal").first).to_be_visible()
    visit(page, site, f"/runs/{site.run('regressor')}/plots")
    expect(
        page.locator("figure", has_text="residuals").locator("svg circle").first
    ).to_be_visible()


def test_datasets_show_lineage_and_leakage(page: Page, site: Site) -> None:
    visit(page, site, f"/runs/{site.run('pipeline')}/datasets")
    lineage = page.locator("figure.lineage")
    expect(lineage).to_contain_text("train")
    expect(lineage).to_contain_text("random_state=1")
    expect(page.locator("p.ok")).to_contain_text("No test row appears")
    expect(page.locator("section.dataset").first.locator("tbody tr")).to_have_count(14)


def test_pipeline_tree_and_sandboxed_html(page: Page, site: Site) -> None:
    visit(page, site, f"/runs/{site.run('pipeline')}/pipeline")
    tree = page.locator("ol.tree.root")
    expect(tree).to_contain_text("ColumnTransformer")
    expect(tree).to_contain_text("OneHotEncoder")
    expect(tree.locator("code", has_text="10")).to_have_count(1)
    frame = page.frame_locator("iframe.artifact-frame")
    expect(frame.locator("body")).to_contain_text("RandomForestClassifier")
    assert page.locator("iframe.artifact-frame").get_attribute("sandbox") == (
        "allow-scripts"
    )


def test_model_signature_and_snippets(page: Page, site: Site) -> None:
    run_id = site.run("classifier")
    visit(page, site, f"/runs/{run_id}/model")
    expect(page.locator("table", has_text="Inputs")).to_contain_text("alcohol")
    expect(page.locator(".snippet").first).to_contain_text(f"runs:/{run_id}/model")


# --- the model registry -----------------------------------------------------------


def test_models_list_and_model_page(page: Page, site: Site) -> None:
    visit(page, site, "/")
    page.locator("nav.sections").get_by_role("link", name="Models").click()
    page.wait_for_url(re.compile(r"/models$"))
    row = page.locator("tr[data-name='wine-forest']")
    expect(row.locator("td.num")).to_have_text("v2")
    expect(row).to_contain_text("@champion → v2")
    expect(row).to_contain_text("@challenger → v1")
    row.get_by_role("link", name="wine-forest", exact=True).click()
    page.wait_for_url(re.compile(r"/models/wine-forest$"))
    expect(page.locator("h1")).to_have_text("wine-forest")
    versions = page.locator("table.versions > tbody > tr")
    expect(versions).to_have_count(2)
    expect(versions.nth(0).locator(":scope > th")).to_have_text("v2")
    expect(versions.nth(0)).to_contain_text("@champion")
    expect(versions.nth(1)).to_contain_text("@challenger")
    expect(
        versions.nth(1).get_by_role("link", name="forest", exact=True)
    ).to_have_attribute("href", f"/runs/{site.run('classifier')}")
    versions.nth(0).locator("details summary").click()
    expect(versions.nth(0).locator("details table").first).to_contain_text("region")
    aliases = page.locator("table.aliases tbody tr")
    expect(aliases).to_have_count(2)
    expect(page.locator("tr[data-alias='champion']").first).to_contain_text("v2")
    history = page.locator("table.alias-history tbody tr")
    expect(history).to_have_count(3)
    expect(history.nth(0)).to_contain_text("moved from v1 to v2")
    expect(history.nth(2)).to_contain_text("set to v1")
    expect(page.locator(".snippet").first).to_contain_text(
        "models:/wine-forest@challenger"
    )
    page.locator("tr[data-alias='champion']").first.get_by_role("link").click()
    assert page.url.endswith("#version-2")
    versions.nth(0).get_by_role("link", name="pipeline", exact=True).click()
    page.wait_for_url(re.compile(f"/runs/{site.run('pipeline')}$"))
    registered = page.locator(".run-heading .registered")
    expect(registered).to_contain_text("wine-forest v2")
    registered.get_by_role("link", name="wine-forest v2").click()
    page.wait_for_url(re.compile(r"/models/wine-forest#version-2$"))
    expect(page.locator("h1")).to_have_text("wine-forest")


def test_models_search_keeps_its_query_in_the_url(page: Page, site: Site) -> None:
    visit(page, site, "/models")
    page.get_by_label("Search").fill("FOREST")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"filter=FOREST"))
    expect(page.locator("table.models tbody tr")).to_have_count(1)
    page.get_by_label("Search").fill("name =")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#filter-error")).to_contain_text("position 6")


def test_artifact_browser_previews_and_moves_with_keys(page: Page, site: Site) -> None:
    run_id = site.run("search")
    visit(page, site, f"/runs/{run_id}/artifacts")
    page.locator("#artifact-tree a").first.focus()
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() != ""
    visit(page, site, f"/runs/{run_id}/artifacts?path=cv_results.csv")
    expect(page.locator(".preview table")).to_contain_text("mean_test_score")
    visit(page, site, f"/runs/{run_id}/artifacts?path=model/MLmodel")
    expect(page.locator(".preview pre")).to_contain_text("flavors")
    visit(page, site, f"/runs/{run_id}/artifacts?path=estimator.html")
    expect(page.frame_locator(".preview iframe").locator("body")).to_contain_text(
        "GridSearchCV"
    )


def test_theme_follows_the_system_and_switches(browser: Browser, site: Site) -> None:
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(site.url + "/")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 23, 29)"
    page.get_by_role("button", name=re.compile("Theme")).click()
    expect(page.get_by_role("button", name=re.compile("Theme"))).to_have_text(
        "Theme: light"
    )
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == (
        "rgb(255, 255, 255)"
    )
    page.goto(site.url + experiment(site))
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    context.close()


def test_every_page_has_no_console_error(page: Page, site: Site) -> None:
    for name in ("classifier", "regressor", "search", "incremental", "pipeline"):
        for tab in TABS:
            visit(page, site, f"/runs/{site.run(name)}{tab}")
    ids = ",".join(site.run(n) for n in ("classifier", "search", "long_history"))
    visit(page, site, f"/compare?run_ids={ids}")
    expect(page.locator("#history-chart canvas")).to_have_count(1)


def test_hostile_corpus_fires_no_script(page: Page, site: Site) -> None:
    run_id = site.hostile
    paths: list[str] = [
        "/",
        f"/experiments/{site.store.get_run(run_id).info.experiment_id}",
        *(f"/runs/{run_id}{tab}" for tab in TABS),
        f"/runs/{run_id}/artifacts?path=report.html",
        f"/runs/{run_id}/artifacts?path=picture.svg",
        f"/runs/{run_id}/artifacts?path=notes.txt",
        f"/runs/{run_id}/artifacts?path=table.csv",
        f"/runs/{run_id}/artifacts?path=names",
        f"/compare?run_ids={run_id},{site.run('classifier')}",
        "/models",
        f"/models/{quote(site.hostile_model, safe='')}",
    ]
    for path in paths:
        visit(page, site, path)
        page.mouse.move(300, 300)
        page.mouse.move(600, 500)
        assert page.evaluate("window.__xss") is None, path
    visit(page, site, f"/runs/{run_id}")
    expect(page.locator("h1")).to_contain_text(PAYLOADS[0])
    visit(page, site, f"/runs/{run_id}/artifacts?path=report.html")
    frame = page.frame_locator(".preview iframe")
    expect(frame.locator("h1")).to_have_text("hostile report")
    page.wait_for_timeout(500)
    blocked = " ".join(page.artifact_messages)  # type: ignore[attr-defined]
    assert "allow-top-navigation" in blocked  # the sandbox refused to navigate us
    assert "Content Security Policy" in blocked  # and refused its fetch
    assert site.store.get_run(run_id).info.lifecycle_stage == "active"
    assert "stolen" not in page.evaluate("document.cookie")
    assert "hijacked" not in page.url
