"""Scenarios of the tracking server (issue 10): ``mltrail server`` vs ``mlflow server``.

Each snippet starts its tool's own server (``python -m mltrail.cli server`` or
``python -m mlflow server``) on a free port of 127.0.0.1, on the SQLite store that
the runner prepared, with artifacts in the working directory; it stops the server
(and every worker) before reporting. The shared code is ``bench/_server_harness.py``,
pasted before each snippet.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from bench._model import Scenario, Target
from bench.scenarios.tracking import SEARCH_RUNS

ORDER = 20

_HARNESS = (Path(__file__).resolve().parent.parent / "_server_harness.py").read_text()
HARNESS = _HARNESS.replace("from __future__ import annotations\n", "")

START = """
process, url, started = start_server(TOOL, TRACKING_URI, os.path.abspath("artifacts"))
try:
    ready = wait_healthy(process, url)
"""
STOP = """
finally:
    stop_server(process)
"""


def _served(tool: str, body: str) -> str:
    """Wrap ``body`` (indented 4) between starting and stopping the tool's server."""
    lines = "\n".join("    " + line if line else line for line in body.splitlines())
    return f'TOOL = "{tool}"\n{START}{lines}\n{STOP}'


SERVER_START = Scenario(
    name="server_start",
    description=(
        "From spawning `mltrail server` / `mlflow server` (one worker, a fresh "
        "SQLite store) until /health answers 200."
    ),
    preamble=HARNESS,
    code={
        tool: _served(tool, "report(ready - started)") for tool in ("mltrail", "mlflow")
    },
    target=Target(1.0),
    max_repeat={"mlflow": 3},
    timeout=600.0,
)

SERVER_MEMORY = Scenario(
    name="server_memory",
    description=(
        "Resident memory of the server and all its processes, idle: after start, "
        "one experiment search, and 3 s of rest."
    ),
    preamble=HARNESS,
    code={
        tool: _served(
            tool,
            """
Api(url).call("GET", "/api/2.0/mlflow/experiments/search?max_results=10")
time.sleep(3)
report(tree_rss_mb(process.pid), processes="server and children")
""",
        )
        for tool in ("mltrail", "mlflow")
    },
    unit="MB",
    target=Target(150.0),
    max_repeat={"mlflow": 3},
    timeout=600.0,
)

SERVER_LOG_METRIC = Scenario(
    name="server_log_metric",
    description=(
        "SIZE log_metric calls from the tool's own client through its server, into "
        "one run, until durable (end_run). mltrail buffers and sends log-batch; "
        "MLflow's client sends one request per call, so it runs min(SIZE, 500) calls "
        "and the time is scaled to SIZE (details.calls says how many ran)."
    ),
    preamble=HARNESS,
    code={
        "mltrail": _served(
            "mltrail",
            """
import mltrail
mltrail.set_tracking_uri(url)
with mltrail.start_run():
    mltrail.log_metric("warm", 1.0)
with mltrail.start_run() as run:
    began = time.perf_counter()
    for step in range(SIZE):
        mltrail.log_metric("loss", 1.0 / (step + 1), step=step)
elapsed = time.perf_counter() - began
stored = len(mltrail.TrackingClient().get_metric_history(run.info.run_id, "loss"))
report(elapsed, check=stored, calls=SIZE)
""",
        ),
        "mlflow": _served(
            "mlflow",
            """
import mlflow
mlflow.set_tracking_uri(url)
with mlflow.start_run():
    mlflow.log_metric("warm", 1.0)
calls = min(SIZE, 500)
with mlflow.start_run() as run:
    began = time.perf_counter()
    for step in range(calls):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
elapsed = (time.perf_counter() - began) * SIZE / calls
stored = len(mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss"))
report(elapsed, check=stored * SIZE // calls, calls=calls)
""",
        ),
    },
    sizes=(10_000,),
    quick_sizes=(1_000,),
    size_unit="calls",
    target=Target(1.0, size=10_000),
    max_repeat={"mlflow": 3},
    timeout=900.0,
)

_LOG_BATCH = """
import threading
api = Api(url)
threads, per_request = 4, 1000
create = "/api/2.0/mlflow/runs/create"
runs = [
    api.call("POST", create, {"experiment_id": "0"})["run"]["info"]["run_id"]
    for _ in range(threads)
]
now = int(time.time() * 1000)


def send(run_id, requests, offset):
    client = Api(url)
    for index in range(requests):
        start = offset + index * per_request
        metrics = [
            {"key": "m", "value": float(i), "timestamp": now, "step": start + i}
            for i in range(per_request)
        ]
        body = {"run_id": run_id, "metrics": metrics}
        client.call("POST", "/api/2.0/mlflow/runs/log-batch", body)
    client.close()


send(runs[0], 2, 10_000_000)  # warm-up
requests = max(1, SIZE // (threads * per_request))
workers = [threading.Thread(target=send, args=(r, requests, 0)) for r in runs]
began = time.perf_counter()
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
elapsed = time.perf_counter() - began
items = threads * requests * per_request
history = api.call(
    "GET", f"/api/2.0/mlflow/metrics/get-history?run_id={runs[1]}&metric_key=m"
)
report(items / elapsed, check=len(history["metrics"]), seconds=elapsed)
"""

SERVER_LOG_BATCH = Scenario(
    name="server_log_batch",
    description=(
        "log-batch throughput of the server: 4 HTTP clients in threads send "
        "requests of 1,000 metric points (MLflow's limit) until SIZE points, the "
        "same raw requests to both servers; items stored per second."
    ),
    preamble=HARNESS,
    code={tool: _served(tool, _LOG_BATCH) for tool in ("mltrail", "mlflow")},
    sizes=(200_000,),
    quick_sizes=(40_000,),
    size_unit="points",
    unit="items/s",
    higher_is_better=True,
    target=Target(100_000.0),
    max_repeat={"mlflow": 3},
    timeout=900.0,
)

SERVER_SEARCH_RUNS = Scenario(
    name="server_search_runs",
    description=(
        "The `search_runs` scenario through the server: the same SIZE runs, filter, "
        "order and page of 1,000, with each tool's own client against its server."
    ),
    preamble=textwrap.dedent(SEARCH_RUNS.preamble) + HARNESS,
    setup=SEARCH_RUNS.setup,
    code={
        "mltrail": _served(
            "mltrail",
            """
import mltrail
mltrail.set_tracking_uri(url)
experiment_id = mltrail.get_experiment_by_name("search").experiment_id
ids = [experiment_id]
query = {"order_by": ORDER_BY, "max_results": MAX_RESULTS}
mltrail.search_runs(ids, filter_string=WARM_UP_FILTER, **query)
began = time.perf_counter()
frame = mltrail.search_runs(ids, filter_string=FILTER, **query)
report(time.perf_counter() - began, check=check_of(frame))
""",
        ),
        "mlflow": _served(
            "mlflow",
            """
import mlflow
mlflow.set_tracking_uri(url)
experiment_id = mlflow.get_experiment_by_name("search").experiment_id
ids = [experiment_id]
query = {"order_by": ORDER_BY, "max_results": MAX_RESULTS}
mlflow.search_runs(ids, filter_string=WARM_UP_FILTER, **query)
began = time.perf_counter()
frame = mlflow.search_runs(ids, filter_string=FILTER, **query)
report(time.perf_counter() - began, check=check_of(frame))
""",
        ),
    },
    sizes=(10_000,),
    quick_sizes=(1_000,),
    size_unit="runs",
    target=Target(0.15, size=10_000),
    max_repeat={"mlflow": 3},
    timeout=1800.0,
)

_MLFLOW_CLIENT = """
import mlflow
mlflow.set_tracking_uri(url)
with mlflow.start_run():
    for step in range(20):
        mlflow.log_metric("warm", 1.0, step=step)
with mlflow.start_run() as run:
    began = time.perf_counter()
    for step in range(SIZE):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    elapsed = time.perf_counter() - began
stored = len(mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss"))
report(elapsed, check=stored, per_call_ms=elapsed / SIZE * 1000)
"""

SERVER_MLFLOW_CLIENT = Scenario(
    name="server_mlflow_client",
    description=(
        "MLflow's own client (3.17.2 in both interpreters), SIZE log_metric calls "
        "(one request each): against `mltrail server` vs against `mlflow server`. "
        "Target: at least 5x faster."
    ),
    preamble=HARNESS,
    code={tool: _served(tool, _MLFLOW_CLIENT) for tool in ("mltrail", "mlflow")},
    sizes=(1_000,),
    quick_sizes=(200,),
    size_unit="calls",
    max_repeat={"mlflow": 3},
    timeout=900.0,
)

_AUTOLOG = """
import statistics
import warnings
warnings.simplefilter("ignore")
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True, as_frame=True)


def fits(count):
    times = []
    for _ in range(count):
        began = time.perf_counter()
        LogisticRegression(max_iter=300).fit(X, y)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


fits(3)
plain = fits(FITS)
AUTOLOG()
fits(1)  # warm-up with autolog
logged = fits(FITS)
DURABLE()  # everything sent before the harness stops the server (MLflow: at return)
report(logged - plain, plain=plain, with_autolog=logged, fits=FITS)
"""

SERVER_AUTOLOG = Scenario(
    name="server_autolog_overhead",
    description=(
        "Autolog overhead per warm `fit` (iris LogisticRegression, model logged, "
        "defaults), logging to the tool's server: median with autolog minus median "
        "without, in one process. MLflow: 3 fits (its requirement inference takes "
        "seconds per model); mltrail: 10."
    ),
    preamble=HARNESS,
    code={
        "mltrail": _served(
            "mltrail",
            "import mltrail\nmltrail.set_tracking_uri(url)\n"
            "AUTOLOG = mltrail.sklearn.autolog\nFITS = 10\nDURABLE = mltrail.flush\n"
            + _AUTOLOG,
        ),
        "mlflow": _served(
            "mlflow",
            "import mlflow\nmlflow.set_tracking_uri(url)\n"
            "AUTOLOG = mlflow.sklearn.autolog\nFITS = 3\nDURABLE = lambda: None\n"
            + _AUTOLOG,
        ),
    },
    target=Target(0.05),
    max_repeat={"mltrail": 3, "mlflow": 1},
    timeout=1800.0,
)

_LOAD = """
import uuid
import psycopg
admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
name = "bench_" + uuid.uuid4().hex[:10]
with psycopg.connect(admin_url, autocommit=True) as conn:
    conn.execute(f"CREATE DATABASE {name}")
store_url = admin_url.rsplit("/", 1)[0] + "/" + name
process, url, started = start_server(
    "mltrail", store_url, os.path.abspath("artifacts"), workers=4
)
try:
    wait_healthy(process, url)
    totals = run_load(url, clients=32, duration=SIZE, points_per_batch=100)
finally:
    stop_server(process)
with psycopg.connect(store_url) as conn:
    stored = dict(conn.execute("SELECT run_id, COUNT(*) FROM metrics GROUP BY run_id"))
lost = sum(points - stored.get(run_id, 0) for run_id, points in totals["runs"])
with psycopg.connect(admin_url, autocommit=True) as conn:
    conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
report(
    totals["requests_per_s"],
    points_per_s=totals["points_per_s"],
    p50_ms=totals["p50_ms"],
    p99_ms=totals["p99_ms"],
    failures=totals["failures"],
    lost_points=lost,
    runs=len(totals["runs"]),
    points=totals["points"],
)
"""

SERVER_LOAD = Scenario(
    name="server_load",
    description=(
        "Bounded load test: `mltrail server --workers 4` on PostgreSQL "
        "(BENCH_POSTGRES_URL), 32 concurrent HTTP clients for SIZE seconds, each "
        "creating a run, sending 10 log-batch requests of 100 points and ending it, "
        "in a loop. Requests per second; details: points/s, p50/p99 latency, "
        "failures, and points lost (stored vs sent, counted in the database)."
    ),
    preamble=HARNESS,
    code={"mltrail": _LOAD},
    sizes=(60,),
    quick_sizes=(10,),
    size_unit="s",
    unit="requests/s",
    higher_is_better=True,
    max_repeat={"mltrail": 1},
    timeout=900.0,
)

_STREAM = """
import threading
peak = [0.0]
done = threading.Event()


def watch():
    while not done.is_set():
        peak[0] = max(peak[0], tree_rss_mb(process.pid))
        time.sleep(0.05)


baseline = tree_rss_mb(process.pid)
watcher = threading.Thread(target=watch)
watcher.start()
chunk = b"x" * (1 << 20)
path = "/api/2.0/mlflow-artifacts/artifacts/0/stream/artifacts/big.bin"
api = Api(url)
began = time.perf_counter()
api.connection.putrequest("PUT", path)
api.connection.putheader("Content-Length", str(SIZE << 20))
api.connection.putheader("Content-Type", "application/octet-stream")
api.connection.endheaders()
for _ in range(SIZE):
    api.connection.send(chunk)
answer = api.connection.getresponse()
answer.read()
uploaded = time.perf_counter() - began
api.connection.request("GET", path)
answer = api.connection.getresponse()
received = 0
while data := answer.read(1 << 20):
    received += len(data)
elapsed = time.perf_counter() - began
done.set()
watcher.join()
report(
    peak[0],
    baseline_mb=baseline,
    upload_s=uploaded,
    total_s=elapsed,
    check=received >> 20,
)
"""

SERVER_STREAM = Scenario(
    name="server_stream",
    description=(
        "A SIZE MiB artifact up (PUT) and down (GET) through the artifact proxy to "
        "a local destination: peak resident memory of the server during the "
        "transfer (details: idle baseline, seconds)."
    ),
    preamble=HARNESS,
    code={tool: _served(tool, _STREAM) for tool in ("mltrail", "mlflow")},
    sizes=(1024,),
    quick_sizes=(128,),
    size_unit="MiB",
    unit="MB",
    target=Target(100.0),
    max_repeat={"mltrail": 1, "mlflow": 1},
    timeout=1800.0,
)

SCENARIOS = [
    SERVER_START,
    SERVER_MEMORY,
    SERVER_LOG_METRIC,
    SERVER_LOG_BATCH,
    SERVER_SEARCH_RUNS,
    SERVER_MLFLOW_CLIENT,
    SERVER_AUTOLOG,
    SERVER_STREAM,
    SERVER_LOAD,
]
