"""Scoring servers side by side: ``mltrail models serve`` and ``mlflow models serve``.

Setup logs the seed's wine forest (100 trees, depth 6), registers it as ``wine``
and points ``champion`` at it, for each tool (as ``model_load``). Each sample
starts the tool's scoring server on ``models:/wine@champion`` on a free port of
127.0.0.1 (MLflow with ``--env-manager local``), measures, and stops it:

- ``serve_start``: from the command until ``/ping`` answers 200, with ``floor_s``:
  a fresh interpreter importing scikit-learn's forest and unpickling the model,
  the part of any start that is scikit-learn's own (``over_floor_s`` is the rest);
- ``serve_latency``: the p50 of 300 sequential one-row ``dataframe_split``
  requests on one kept-alive connection, with ``raw_predict_s``, the forest's own
  ``predict`` on the same row in the client process, and ``overhead_s`` between them;
- ``serve_throughput``: one-row requests per second from 16 concurrent clients
  (threads with kept-alive connections) for 2,000 requests; mltrail with
  ``--max-batch-size 64``, MLflow as it ships.
"""

from __future__ import annotations

from bench._model import Scenario, Target
from bench.scenarios.model_load import _FLOOR, _SETUP

ORDER = 45

_PREAMBLE = r'''
import http.client
import json
import pickle
import signal
import socket
import statistics
import subprocess
import threading
import urllib.request

import pandas as pd

TOOL = os.environ.get("BENCH_TOOL") or (
    "mltrail" if "MLTRAIL_TRACKING_URI" in os.environ else "mlflow"
)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(extra=()):
    """Start the tool's scoring server; return (process, port, seconds to /ping)."""
    port = free_port()
    if TOOL == "mltrail":
        command = [sys.executable, "-m", "mltrail.cli", "models", "serve", "-m",
                   "models:/wine@champion", "--port", str(port), *extra]
    else:
        command = [sys.executable, "-m", "mlflow", "models", "serve", "-m",
                   "models:/wine@champion", "--port", str(port),
                   "--env-manager", "local"]
    # mlflow models serve runs `uvicorn` by name: the venv's bin must be on PATH.
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/ping"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{TOOL} scoring server exited")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return process, port, time.perf_counter() - started
        except OSError:
            time.sleep(0.005)


def stop(process):
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def row_body():
    with open(os.path.join(SETUP_DIR, "row.json")) as file:
        row = json.load(file)
    frame = pd.DataFrame([row])
    split = json.loads(frame.to_json(orient="split", index=False))
    return frame, json.dumps({"dataframe_split": split}).encode()


def post(connection, body):
    connection.request("POST", "/invocations", body,
                       {"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(data[:300])
    return json.loads(data)["predictions"][0]
'''

_START = """
process, port, seconds = start()
stop(process)
floor = subprocess.run(
    [sys.executable, "-c", FLOOR], capture_output=True, text=True, check=True,
    cwd=SETUP_DIR,
)
report(seconds, floor_s=float(floor.stdout), over_floor_s=seconds - float(floor.stdout))
"""

_LATENCY = """
frame, body = row_body()
with open(os.path.join(SETUP_DIR, "forest.pkl"), "rb") as file:
    forest = pickle.load(file)
raw = []
for _ in range(300):
    started = time.perf_counter()
    forest.predict(frame)
    raw.append(time.perf_counter() - started)
process, port, _ = start()
try:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(30):  # warm-up
        prediction = post(connection, body)
    times = []
    for _ in range(300):
        started = time.perf_counter()
        prediction = post(connection, body)
        times.append(time.perf_counter() - started)
    connection.close()
finally:
    stop(process)
latency = statistics.median(times)
raw_predict = statistics.median(raw)
report(
    latency,
    raw_predict_s=raw_predict,
    overhead_s=latency - raw_predict,
    p90_s=sorted(times)[int(len(times) * 0.9)],
    check=int(prediction),
)
"""

_THROUGHPUT = """
frame, body = row_body()
CLIENTS = 16
REQUESTS = 2000
extra = ["--max-batch-size", "64"] if TOOL == "mltrail" else []
process, port, _ = start(extra)
errors = []
predictions = []


def client(count):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for _ in range(count):
            predictions.append(post(connection, body))
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()


try:
    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(20):
        post(warm, body)
    warm.close()
    threads = [
        threading.Thread(target=client, args=(REQUESTS // CLIENTS,))
        for _ in range(CLIENTS)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
finally:
    stop(process)
if errors:
    raise RuntimeError(errors[:3])
report(len(predictions) / elapsed, clients=CLIENTS, check=len(set(predictions)))
"""

SCENARIOS = [
    Scenario(
        name="serve_start",
        description=(
            "Seconds from starting the scoring server on models:/wine@champion "
            "until /ping answers (MLflow: --env-manager local); floor_s is "
            "scikit-learn's own import plus unpickling the same forest."
        ),
        code={"mltrail": _START, "mlflow": _START},
        setup=_SETUP,
        preamble=_PREAMBLE + f"FLOOR = {_FLOOR!r}\n",
        target=Target(1.0),
    ),
    Scenario(
        name="serve_latency",
        description=(
            "p50 of one-row /invocations requests over HTTP (one kept-alive "
            "connection); raw_predict_s is the forest's own predict in process."
        ),
        code={"mltrail": _LATENCY, "mlflow": _LATENCY},
        setup=_SETUP,
        preamble=_PREAMBLE,
    ),
    Scenario(
        name="serve_throughput",
        description=(
            "One-row requests per second from 16 concurrent clients; mltrail with "
            "--max-batch-size 64, MLflow as it ships."
        ),
        code={"mltrail": _THROUGHPUT, "mlflow": _THROUGHPUT},
        setup=_SETUP,
        preamble=_PREAMBLE,
        unit="requests/s",
        higher_is_better=True,
        max_repeat={"mlflow": 3, "mltrail": 3},
    ),
]
