"""`mltrail import` of an MLflow SQLite store: runs and bytes per second.

MLflow has no import of another tool's store, so only mltrail runs; the source is
a store that MLflow's own client writes in the setup.
"""

from __future__ import annotations

from bench._model import Scenario

ORDER = 90

_SETUP = """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    source = f"sqlite:///{os.path.join(SETUP_DIR, 'mlflow.db')}"
    os.environ.pop("MLTRAIL_TRACKING_URI", None)
    mlflow.set_tracking_uri(source)
    client = MlflowClient()
    started = time.perf_counter()
    experiment_id = client.create_experiment(
        "imported", artifact_location=os.path.join(SETUP_DIR, "mlruns")
    )
    files = os.path.join(SETUP_DIR, "files")
    os.makedirs(files, exist_ok=True)
    blob = os.path.join(files, "weights.bin")
    with open(blob, "wb") as file:
        file.write(os.urandom(FILE_BYTES))
    now = int(time.time() * 1000)
    for index in range(SIZE):
        run = client.create_run(experiment_id, run_name=f"run-{index}")
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            params=[Param(f"p{k}", str(index * k)) for k in range(PARAMS)],
            metrics=[
                Metric(f"m{k}", (index + step) / (k + 1), now + step, step)
                for k in range(METRICS)
                for step in range(STEPS)
            ],
        )
        client.log_artifact(run_id, blob)
        client.set_terminated(run_id)
    report(time.perf_counter() - started)
"""

_IMPORT = """
    import tempfile

    from mltrail.importer import import_store, open_source
    from mltrail.store._sql import SqlStore

    source_uri = f"sqlite:///{os.path.join(SETUP_DIR, 'mlflow.db')}"
    target = tempfile.mkdtemp(dir=SETUP_DIR)
    store = SqlStore(
        f"sqlite:///{os.path.join(target, 'mltrail.db')}",
        artifact_root=os.path.join(target, "artifacts"),
    )
    store.get_experiment("0")  # the schema exists before the clock starts
    started = time.perf_counter()
    source = open_source(source_uri)
    summary = import_store(source, store)
    source.close()
    elapsed = time.perf_counter() - started
    store.close()
    report(
        summary.runs / elapsed,
        check=[summary.runs, summary.metric_points, summary.bytes],
        seconds=elapsed,
        bytes_per_s=summary.bytes / elapsed,
        metric_points_per_s=summary.metric_points / elapsed,
    )
"""

_PREAMBLE = """
    PARAMS = 5
    METRICS = 5
    STEPS = 100
    FILE_BYTES = 20_000
"""

SCENARIOS = [
    Scenario(
        name="import_mlflow_sqlite",
        description=(
            "`mltrail import` of an MLflow SQLite store written by MLflow's client: "
            "SIZE runs, each with 5 params, 5 metrics of 100 steps and a 20 kB "
            "artifact (4 MB at 200 runs), into a new SQLite store. Value: runs/s; "
            "details: bytes_per_s, metric_points_per_s."
        ),
        sizes=(200,),
        quick_sizes=(20,),
        size_unit="runs",
        unit="runs/s",
        higher_is_better=True,
        preamble=_PREAMBLE,
        setup={"mltrail": _SETUP},
        code={"mltrail": _IMPORT},
        max_repeat={"mltrail": 3},
    ),
]
