"""Scenarios of the web UI (issue 11): server timings at 100,000 runs, and a browser.

- ``ui_runs_table``: the server's answer for the first page of an experiment's runs,
  side by side with what MLflow's UI asks for its first page (``runs/search``, 100
  runs with every param, metric and tag), both in-process (Starlette's and Flask's
  test clients). The runs are the ``search_runs`` scenario's (5 params and 5
  metrics each, built the same way).
- ``ui_metric_history``: one metric's history for a chart, side by side with the
  request MLflow's UI makes (``get-history-bulk-interval``, 320 points). A spike is
  planted; ``details.spike_kept`` tells whether the answer still shows it.
- ``ui_browser``: mltrail only, a headless Chromium: from navigation start to the
  runs table drawn at 100,000 runs, and to a 1,000,000-point history charted.
"""

from __future__ import annotations

import textwrap

from bench._model import Scenario, Target
from bench.scenarios.tracking import _SEARCH_PREAMBLE, SEARCH_RUNS

ORDER = 50


def _join(*parts: str) -> str:
    """Join snippets written at different indentations into one program."""
    return "\n".join(textwrap.dedent(part) for part in parts)


_REQUESTS = """
    import statistics

    REPEAT = 7
    JSON = {"Accept": "application/json"}


    def timed(call):
        \"\"\"Return the median seconds of call() after a warm-up, and a result.\"\"\"
        result = call()
        times = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - started)
        return statistics.median(times), result
"""

_MLTRAIL_CLIENT = """
    from starlette.testclient import TestClient
    from mltrail.server import ServerSettings, create_app
    from mltrail.store import SqlStore

    ARTIFACTS = os.path.join(SETUP_DIR, "mltrail-artifacts")
    store = SqlStore(TRACKING_URI, artifact_root=ARTIFACTS)
    app = create_app(store, settings=ServerSettings(artifacts_destination=ARTIFACTS))
    client = TestClient(app, base_url="http://localhost")
"""

_MLFLOW_CLIENT = """
    os.environ["_MLFLOW_SERVER_FILE_STORE"] = TRACKING_URI
    os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"] = os.path.join(SETUP_DIR, "mlruns")
    from mlflow.server import app

    client = app.test_client()
"""

# One run with a long history of "loss": a sine with noise and one spike, written
# with SQL after one point through the API (as for the runs of search_runs).
_HISTORY_PREAMBLE = """
    import math
    import random

    SPIKE = 1000.0


    def history(size):
        rng = random.Random(0)
        spike_at = int(size * 0.6173)
        for step in range(size):
            value = math.sin(step / 500) + rng.random() * 0.1
            yield step, (SPIKE if step == spike_at else value)
"""

RUNS_TABLE = Scenario(
    name="ui_runs_table",
    description=(
        "The server's first page of an experiment's runs table over SIZE runs "
        "(median of 7 in-process requests after a warm-up): mltrail's "
        "/experiments/<id> as JSON (default columns, newest first, 100 rows, child "
        "runs nested) vs what MLflow's UI fetches for its first page, runs/search "
        "with 100 runs, every param, metric and tag. Details: mltrail's HTML page, "
        "a metric sort, a filter, the second page."
    ),
    preamble=_join(_SEARCH_PREAMBLE, _REQUESTS),
    setup=SEARCH_RUNS.setup,
    code={
        "mltrail": _join(
            _MLTRAIL_CLIENT,
            """
            experiment_id = store.get_experiment_by_name("search").experiment_id
            url = f"/experiments/{experiment_id}"
            seconds, page = timed(lambda: client.get(url, headers=JSON).json())
            html, _ = timed(lambda: client.get(url).text)
            by_metric, _ = timed(
                lambda: client.get(url + "?order_by=metrics.m1+DESC", headers=JSON)
            )
            filtered, _ = timed(
                lambda: client.get(
                    url + "?filter=metrics.m0+%3E+0.5+and+params.p2+%21%3D+%27sgd%27",
                    headers=JSON,
                )
            )
            token = page["next_page_token"]
            second, _ = timed(
                lambda: client.get(url + "?page_token=" + token, headers=JSON)
            )
            report(
                seconds,
                check=len(page["rows"]),
                html=html,
                sorted_by_metric=by_metric,
                filtered=filtered,
                second_page=second,
                columns=len(page["columns"]),
            )
            """,
        ),
        "mlflow": _join(
            _MLFLOW_CLIENT,
            """
            import mlflow

            experiment_id = mlflow.get_experiment_by_name("search").experiment_id
            body = {
                "experiment_ids": [experiment_id],
                "max_results": 100,
                "order_by": ["attributes.start_time DESC"],
                "run_view_type": "ACTIVE_ONLY",
            }
            search = "/ajax-api/2.0/mlflow/runs/search"
            seconds, page = timed(lambda: client.post(search, json=body).get_json())
            report(seconds, check=len(page["runs"]))
            """,
        ),
    },
    sizes=(10_000, 100_000),
    quick_sizes=(10_000,),
    size_unit="runs",
    target=Target(0.3, size=100_000),
    max_repeat={"mltrail": 3, "mlflow": 3},
    timeout=3600.0,
)

METRIC_HISTORY = Scenario(
    name="ui_metric_history",
    description=(
        "One metric's history of SIZE points, as a chart asks for it (median of 7 "
        "in-process requests after a warm-up): mltrail's /history with 1,000 ranges "
        "(mean, min and max each) vs MLflow's get-history-bulk-interval with its "
        "UI's 320 points. details.spike_kept: whether the planted spike survives."
    ),
    preamble=_join(_HISTORY_PREAMBLE, _REQUESTS),
    setup={
        "mltrail": """
            import sqlite3
            from mltrail import Metric, TrackingClient
            from mltrail.store._schema import hash_key

            started = time.perf_counter()
            client = TrackingClient()
            run = client.create_run("0", run_name="long")
            client.log_batch(run.info.run_id, metrics=[Metric("loss", 0.0, 0, 0)])
            client.set_terminated(run.info.run_id)
            connection = sqlite3.connect(TRACKING_URI.removeprefix("sqlite:///"))
            key = hash_key("loss")
            run_id = run.info.run_id
            connection.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            connection.executemany(
                "INSERT INTO metrics (run_id, key_hash, value, kind, timestamp, step) "
                "VALUES (?, ?, ?, 0, ?, ?)",
                (
                    (run_id, key, value, 1_700_000_000_000 + step, step)
                    for step, value in history(SIZE)
                ),
            )
            connection.commit()
            connection.close()
            report(time.perf_counter() - started)
        """,
        "mlflow": """
            import sqlite3
            import mlflow

            started = time.perf_counter()
            with mlflow.start_run(run_name="long") as run:
                mlflow.log_metric("loss", 0.0, step=0)
            connection = sqlite3.connect(TRACKING_URI.removeprefix("sqlite:///"))
            run_id = run.info.run_id
            connection.execute("DELETE FROM metrics WHERE run_uuid = ?", (run_id,))
            connection.executemany(
                "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                "VALUES ('loss', ?, ?, ?, ?, 0)",
                (
                    (value, 1_700_000_000_000 + step, run_id, step)
                    for step, value in history(SIZE)
                ),
            )
            connection.commit()
            connection.close()
            report(time.perf_counter() - started)
        """,
    },
    code={
        "mltrail": _join(
            _MLTRAIL_CLIENT,
            """
            run_id = store.search_runs(["0"])[0].info.run_id
            url = f"/history?run_ids={run_id}&key=loss&points=1000"
            seconds, data = timed(lambda: client.get(url).json())
            sample = data["runs"][0]
            report(
                seconds,
                points=len(sample["x"]),
                spike_kept=max(v for v in sample["max"] if v is not None) == SPIKE,
            )
            """,
        ),
        "mlflow": _join(
            _MLFLOW_CLIENT,
            """
            import mlflow

            run_id = mlflow.search_runs(["0"], output_format="list")[0].info.run_id
            url = (
                "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
                f"?run_ids={run_id}&metric_key=loss&max_results=320"
            )
            seconds, data = timed(lambda: client.get(url).get_json())
            values = [point["value"] for point in data["metrics"]]
            report(seconds, points=len(values), spike_kept=max(values) == SPIKE)
            """,
        ),
    },
    sizes=(100_000, 1_000_000),
    quick_sizes=(100_000,),
    size_unit="points",
    max_repeat={"mltrail": 3, "mlflow": 3},
    timeout=3600.0,
)

BROWSER = Scenario(
    name="ui_browser",
    description=(
        "A headless Chromium on mltrail's UI (server in-process on 127.0.0.1): "
        "milliseconds from navigation start until the runs table of SIZE runs is "
        "drawn (value), and until a 1,000,000-point history is charted on the run's "
        "metrics page (details.history_charted). Browser start-up is not timed."
    ),
    preamble=_join(_SEARCH_PREAMBLE, _HISTORY_PREAMBLE),
    setup={
        "mltrail": SEARCH_RUNS.setup["mltrail"].replace(
            "report(time.perf_counter() - started)", ""
        )
        + METRIC_HISTORY.setup["mltrail"].replace(
            "history(SIZE)", "history(1_000_000)"
        ),
    },
    code={
        "mltrail": """
            import socket
            import statistics
            import threading

            import uvicorn
            from playwright.sync_api import sync_playwright
            from mltrail.server import ServerSettings, create_app
            from mltrail.store import SqlStore

            artifacts = os.path.join(SETUP_DIR, "mltrail-artifacts")
            store = SqlStore(TRACKING_URI, artifact_root=artifacts)
            settings = ServerSettings(artifacts_destination=artifacts)
            app = create_app(store, settings=settings)
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            server = uvicorn.Server(
                uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
            )
            threading.Thread(target=server.run, daemon=True).start()
            while not server.started:
                time.sleep(0.01)
            base = f"http://127.0.0.1:{port}"
            experiment_id = store.get_experiment_by_name("search").experiment_id
            long_run = store.search_runs(["0"])[0].info.run_id
            # Two animation frames after the condition holds: the frame is painted.
            painted = (
                "() => new Promise(done => requestAnimationFrame(() => "
                "requestAnimationFrame(() => done(performance.now()))))"
            )
            tables, charts = [], []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=[
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                    ],
                )
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                for attempt in range(4):  # the first of each is a warm-up
                    page.goto(f"{base}/experiments/{experiment_id}")
                    page.wait_for_selector("#runs-table tbody tr.run")
                    tables.append(page.evaluate(painted))
                    page.goto(f"{base}/runs/{long_run}/metrics")
                    page.wait_for_selector("figure.metric-chart[data-drawn-ms] canvas")
                    charts.append(page.evaluate(painted))
                page.goto(f"{base}/experiments/{experiment_id}")
                count = page.locator("#runs-table tbody tr.run").count()
                browser.close()
            server.should_exit = True
            report(
                statistics.median(tables[1:]) / 1000,
                check=count,
                history_charted=statistics.median(charts[1:]) / 1000,
            )
        """,
    },
    sizes=(100_000,),
    quick_sizes=(10_000,),
    size_unit="runs",
    target=Target(1.0),
    max_repeat={"mltrail": 3},
    timeout=3600.0,
)

SCENARIOS = [RUNS_TABLE, METRIC_HISTORY, BROWSER]
