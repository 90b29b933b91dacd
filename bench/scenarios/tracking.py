"""Scenarios of the tracking core (issue 2): import, logging, search, run creation.

Each snippet runs after ``bench._model.PRELUDE`` (``SIZE``, ``TRACKING_URI``,
``report``) in a fresh interpreter whose working directory holds a fresh SQLite store
(``mltrail.db`` or ``mlflow.db``) that the environment variables point to.
"""

from __future__ import annotations

from bench._model import Scenario, Target

IMPORT = Scenario(
    name="import",
    description=(
        "Cold `import mltrail` vs `import mlflow` in a fresh interpreter: perf_counter "
        "around the import statement (interpreter start-up excluded)."
    ),
    code={
        "mltrail": """
            started = time.perf_counter()
            import mltrail
            elapsed = time.perf_counter() - started
            report(elapsed, modules=len(sys.modules))
        """,
        "mlflow": """
            started = time.perf_counter()
            import mlflow
            elapsed = time.perf_counter() - started
            report(elapsed, modules=len(sys.modules))
        """,
    },
    target=Target(0.1),
    discard_first=True,  # the first run may compile bytecode; later runs find it cached
)

FIRST_RUN = Scenario(
    name="first_run",
    description=(
        "Cold start of a script: import, create the store, one run with a param and "
        "a metric, end it (fresh interpreter, fresh store)."
    ),
    code={
        "mltrail": """
            started = time.perf_counter()
            import mltrail
            with mltrail.start_run():
                mltrail.log_param("alpha", "0.5")
                mltrail.log_metric("loss", 0.25)
            report(time.perf_counter() - started)
        """,
        "mlflow": """
            started = time.perf_counter()
            import mlflow
            with mlflow.start_run():
                mlflow.log_param("alpha", "0.5")
                mlflow.log_metric("loss", 0.25)
            report(time.perf_counter() - started)
        """,
    },
    discard_first=True,
)

LOG_METRIC = Scenario(
    name="log_metric",
    description=(
        "SIZE `log_metric` calls (one key, steps 0..SIZE-1) into one run, then "
        "`end_run`; timed after a warm-up run; the stored history is counted after."
    ),
    code={
        "mltrail": """
            import mltrail
            with mltrail.start_run(run_name="warm-up"):
                for step in range(100):
                    mltrail.log_metric("warm", float(step), step=step)
            run = mltrail.start_run(run_name="measured")
            started = time.perf_counter()
            for step in range(SIZE):
                mltrail.log_metric("loss", 1.0 / (step + 1), step=step)
            mltrail.end_run()
            elapsed = time.perf_counter() - started
            client = mltrail.TrackingClient()
            history = client.get_metric_history(run.info.run_id, "loss")
            report(elapsed, calls_per_second=SIZE / elapsed, check=len(history))
        """,
        "mlflow": """
            import mlflow
            with mlflow.start_run(run_name="warm-up"):
                for step in range(100):
                    mlflow.log_metric("warm", float(step), step=step)
            run = mlflow.start_run(run_name="measured")
            started = time.perf_counter()
            for step in range(SIZE):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
            mlflow.end_run()
            elapsed = time.perf_counter() - started
            client = mlflow.MlflowClient()
            history = client.get_metric_history(run.info.run_id, "loss")
            report(elapsed, calls_per_second=SIZE / elapsed, check=len(history))
        """,
    },
    sizes=(10_000,),
    quick_sizes=(1_000,),
    size_unit="calls",
    target=Target(0.2, size=10_000),
    max_repeat={"mlflow": 3},  # about 100 s per repeat
)

LOG_BATCH = Scenario(
    name="log_batch",
    description=(
        "One client `log_batch` of SIZE metric points (built before timing) into a "
        "new run, after a warm-up batch; the stored history is counted after."
    ),
    code={
        "mltrail": """
            from mltrail import Metric, TrackingClient
            client = TrackingClient()
            experiment_id = client.create_experiment("bench")
            now = int(time.time() * 1000)
            warm = client.create_run(experiment_id).info.run_id
            warm_up = [Metric("warm", float(i), now, i) for i in range(100)]
            client.log_batch(warm, metrics=warm_up)
            run_id = client.create_run(experiment_id).info.run_id
            metrics = [Metric("loss", 1.0 / (i + 1), now, i) for i in range(SIZE)]
            started = time.perf_counter()
            client.log_batch(run_id, metrics=metrics)
            elapsed = time.perf_counter() - started
            report(elapsed, check=len(client.get_metric_history(run_id, "loss")))
        """,
        "mlflow": """
            from mlflow import MlflowClient
            from mlflow.entities import Metric
            client = MlflowClient()
            experiment_id = client.create_experiment("bench")
            now = int(time.time() * 1000)
            warm = client.create_run(experiment_id).info.run_id
            warm_up = [Metric("warm", float(i), now, i) for i in range(100)]
            client.log_batch(warm, metrics=warm_up)
            run_id = client.create_run(experiment_id).info.run_id
            metrics = [Metric("loss", 1.0 / (i + 1), now, i) for i in range(SIZE)]
            started = time.perf_counter()
            client.log_batch(run_id, metrics=metrics)
            elapsed = time.perf_counter() - started
            report(elapsed, check=len(client.get_metric_history(run_id, "loss")))
        """,
    },
    sizes=(10_000,),
    size_unit="points",
    target=Target(0.1, size=10_000),
)

_SEARCH_PREAMBLE = """
    import random

    # About a third of the runs match, so 10,000 runs fill a page of 1,000.
    FILTER = "metrics.m0 > 0.5 and params.p2 != 'sgd'"
    WARM_UP_FILTER = "metrics.m0 > 0.4 and params.p2 != 'adam'"
    ORDER_BY = ["metrics.m1 DESC"]
    # Both tools return one page of 1,000 rows: the fluent mlflow.search_runs would
    # otherwise return every match (up to 100,000) and mltrail's first 1,000.
    MAX_RESULTS = 1000


    def run_values(index):
        \"\"\"Return the params and metrics of run ``index``, for both tools.\"\"\"
        rng = random.Random(index)
        params = {
            "p0": rng.choice("abcde"),
            "p1": str(rng.randint(1, 100)),
            "p2": rng.choice(["adam", "sgd", "rmsprop"]),
            "p3": f"{rng.random():.4f}",
            "p4": str(index),
        }
        metrics = {f"m{j}": rng.random() for j in range(5)}
        return params, metrics


    def check_of(frame):
        \"\"\"Return what both tools must agree on: row count and first run.\"\"\"
        names = frame.get("tags.mlflow.runName")
        first = None if names is None or not len(frame) else str(names.iloc[0])
        return [len(frame), first]
"""

SEARCH_RUNS = Scenario(
    name="search_runs",
    description=(
        "`search_runs` as a DataFrame over SIZE runs (5 params, 5 metrics each) with "
        "a filter on a metric and a param, ordered by a metric, max_results=1000 "
        "(about a third match, so 10,000 runs fill the page), after a warm-up "
        "search with other values. Setup (built once, reused by every repeat, timed "
        "apart): mltrail through its client; MLflow through its API for one run, "
        "then that run's rows copied with SQL."
    ),
    preamble=_SEARCH_PREAMBLE,
    setup={
        "mltrail": """
            from mltrail import Metric, Param, TrackingClient
            client = TrackingClient()
            experiment_id = client.create_experiment("search")
            now = int(time.time() * 1000)
            started = time.perf_counter()
            for index in range(SIZE):
                run = client.create_run(experiment_id, run_name=f"run-{index}")
                run_id = run.info.run_id
                params, metrics = run_values(index)
                client.log_batch(
                    run_id,
                    metrics=[Metric(k, v, now + index, 0) for k, v in metrics.items()],
                    params=[Param(k, v) for k, v in params.items()],
                )
                client.set_terminated(run_id)
            report(time.perf_counter() - started)
        """,
        # Logging 10,000 runs through MLflow's API takes minutes, so one run goes
        # through the API (every table gets MLflow's own rows) and is then copied.
        "mlflow": """
            import sqlite3
            import mlflow
            started = time.perf_counter()
            experiment_id = mlflow.create_experiment("search")
            params, metrics = run_values(0)
            with mlflow.start_run(experiment_id=experiment_id, run_name="run-0") as run:
                mlflow.log_params(params)
                mlflow.log_metrics(metrics)
            template_id = run.info.run_id
            connection = sqlite3.connect(TRACKING_URI.removeprefix("sqlite:///"))
            tables = {}
            for table in ("runs", "params", "metrics", "latest_metrics", "tags"):
                cursor = connection.execute(
                    f"SELECT * FROM {table} WHERE run_uuid = ?", (template_id,)
                )
                columns = [column[0] for column in cursor.description]
                found = [dict(zip(columns, r)) for r in cursor.fetchall()]
                tables[table] = (columns, found)
            rows = {table: [] for table in tables}
            for index in range(1, SIZE):
                run_id = f"{index:032x}"
                name = f"run-{index}"
                params, metrics = run_values(index)
                for table, (columns, templates) in tables.items():
                    for template_row in templates:
                        row = dict(template_row, run_uuid=run_id)
                        if table == "runs":
                            row["name"] = name
                            uri = row["artifact_uri"]
                            row["artifact_uri"] = uri.replace(template_id, run_id)
                            row["start_time"] += index
                            row["end_time"] += index
                        elif table == "params":
                            row["value"] = params[row["key"]]
                        elif table in ("metrics", "latest_metrics"):
                            row["value"] = metrics[row["key"]]
                            row["timestamp"] += index
                        elif row["key"] == "mlflow.runName":
                            row["value"] = name
                        rows[table].append(tuple(row[c] for c in columns))
            for table, (columns, _) in tables.items():
                names = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join("?" for _ in columns)
                connection.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})", rows[table]
                )
            connection.commit()
            connection.close()
            report(time.perf_counter() - started)
        """,
    },
    code={
        "mltrail": """
            import mltrail
            experiment_id = mltrail.get_experiment_by_name("search").experiment_id
            ids = [experiment_id]
            query = {"order_by": ORDER_BY, "max_results": MAX_RESULTS}
            mltrail.search_runs(ids, filter_string=WARM_UP_FILTER, **query)
            started = time.perf_counter()
            frame = mltrail.search_runs(ids, filter_string=FILTER, **query)
            elapsed = time.perf_counter() - started
            report(elapsed, check=check_of(frame))
        """,
        "mlflow": """
            import mlflow
            experiment_id = mlflow.get_experiment_by_name("search").experiment_id
            ids = [experiment_id]
            query = {"order_by": ORDER_BY, "max_results": MAX_RESULTS}
            mlflow.search_runs(ids, filter_string=WARM_UP_FILTER, **query)
            started = time.perf_counter()
            frame = mlflow.search_runs(ids, filter_string=FILTER, **query)
            elapsed = time.perf_counter() - started
            report(elapsed, check=check_of(frame))
        """,
    },
    sizes=(1_000, 10_000),
    size_unit="runs",
    target=Target(0.1, size=10_000),
)

CREATE_RUNS = Scenario(
    name="create_runs",
    description=(
        "Runs per second for SIZE runs of the fluent API: `start_run`, `log_params` "
        "(5), `log_metrics` (5), end; after 10 warm-up runs; runs counted after."
    ),
    code={
        "mltrail": """
            import mltrail
            mltrail.set_experiment("bench")
            params = {f"p{j}": str(j) for j in range(5)}
            metrics = {f"m{j}": j / 10 for j in range(5)}
            for _ in range(10):
                with mltrail.start_run():
                    mltrail.log_params(params)
                    mltrail.log_metrics(metrics)
            started = time.perf_counter()
            for _ in range(SIZE):
                with mltrail.start_run():
                    mltrail.log_params(params)
                    mltrail.log_metrics(metrics)
            elapsed = time.perf_counter() - started
            found = mltrail.search_runs(
                experiment_names=["bench"], output_format="list", max_results=SIZE + 10
            )
            report(SIZE / elapsed, seconds=elapsed, check=len(found))
        """,
        "mlflow": """
            import mlflow
            mlflow.set_experiment("bench")
            params = {f"p{j}": str(j) for j in range(5)}
            metrics = {f"m{j}": j / 10 for j in range(5)}
            for _ in range(10):
                with mlflow.start_run():
                    mlflow.log_params(params)
                    mlflow.log_metrics(metrics)
            started = time.perf_counter()
            for _ in range(SIZE):
                with mlflow.start_run():
                    mlflow.log_params(params)
                    mlflow.log_metrics(metrics)
            elapsed = time.perf_counter() - started
            found = mlflow.search_runs(
                experiment_names=["bench"], output_format="list", max_results=SIZE + 10
            )
            report(SIZE / elapsed, seconds=elapsed, check=len(found))
        """,
    },
    sizes=(1_000,),
    quick_sizes=(200,),
    size_unit="runs",
    unit="runs/s",
    higher_is_better=True,
    target=Target(1_000.0),
    max_repeat={"mlflow": 3},  # about 40 s per repeat
)

ORDER = 0  # the foundation's scenarios come first
SCENARIOS = [IMPORT, FIRST_RUN, LOG_METRIC, LOG_BATCH, SEARCH_RUNS, CREATE_RUNS]
