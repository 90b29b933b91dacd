"""Start, measure and load a tracking server; the server scenarios' shared code.

This file is pasted before each server snippet (the snippets run in the tools' own
interpreters, where the ``bench`` package is not importable), so it uses the
standard library only. Tests import it as ``bench._server_harness``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

SERVER_COMMANDS = {
    "mltrail": [sys.executable, "-m", "mltrail.cli", "server"],
    "mlflow": [sys.executable, "-m", "mlflow", "server"],
}


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    tool: str,
    backend_store_uri: str,
    artifacts: str,
    *,
    workers: int = 1,
    extra: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str, float]:
    """Start a tool's tracking server on a free port; return (process, url, started).

    ``started`` is the ``perf_counter`` time just before the process was spawned.
    """
    port = free_port()
    command = [
        *SERVER_COMMANDS[tool],
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        backend_store_uri,
        "--artifacts-destination",
        artifacts,
        "--workers",
        str(workers),
        *extra,
    ]
    environment = dict(os.environ)
    environment.update(env or {})
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
        start_new_session=True,
    )
    return process, f"http://127.0.0.1:{port}", started


def wait_healthy(
    process: subprocess.Popen[bytes], url: str, timeout: float = 180.0
) -> float:
    """Poll ``/health`` every 5 ms until it answers 200; return that moment."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:  # noqa: S310 - a local http URL
                if response.status == 200:
                    return time.perf_counter()
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"no answer from {url}/health after {timeout} s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and every process it started."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def tree_rss_mb(pid: int) -> float:
    """Return the resident memory (MB) of a process and all its descendants (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        pending.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/statm") as file:
                total += int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total / 1e6


class Api:
    """A keep-alive JSON client of one server, for one thread."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=120
        )
        self.headers = {"Content-Type": "application/json", **(headers or {})}

    def call(self, method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        try:
            self.connection.request(method, path, body=data, headers=self.headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed an idle keep-alive connection: send again on a new one.
            self.connection.close()
            self.connection.request(method, path, body=data, headers=self.headers)
            response = self.connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
        return json.loads(payload) if payload else {}

    def close(self) -> None:
        self.connection.close()


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


class _Totals:
    """What the client threads of one load run add up."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.runs: list[tuple[str, int]] = []
        self.points = 0
        self.failures = 0


def _client_loop(
    url: str,
    deadline: float,
    points_per_batch: int,
    batches_per_run: int,
    result: _Totals,
    lock: threading.Lock,
) -> None:
    api = Api(url)
    latencies: list[float] = []
    runs: list[tuple[str, int]] = []
    points = failures = 0
    experiment_id = "0"
    while time.perf_counter() < deadline:
        try:
            began = time.perf_counter()
            run = api.call(
                "POST",
                "/api/2.0/mlflow/runs/create",
                {"experiment_id": experiment_id, "start_time": int(time.time() * 1000)},
            )["run"]["info"]["run_id"]
            latencies.append(time.perf_counter() - began)
            step = 0
            for _ in range(batches_per_run):
                now = int(time.time() * 1000)
                metrics = [
                    {
                        "key": "loss",
                        "value": 1.0 / (step + i + 1),
                        "timestamp": now,
                        "step": step + i,
                    }
                    for i in range(points_per_batch)
                ]
                began = time.perf_counter()
                api.call(
                    "POST",
                    "/api/2.0/mlflow/runs/log-batch",
                    {"run_id": run, "metrics": metrics},
                )
                latencies.append(time.perf_counter() - began)
                step += points_per_batch
                points += points_per_batch
            began = time.perf_counter()
            api.call(
                "POST",
                "/api/2.0/mlflow/runs/update",
                {
                    "run_id": run,
                    "status": "FINISHED",
                    "end_time": int(time.time() * 1000),
                },
            )
            latencies.append(time.perf_counter() - began)
            runs.append((run, step))
        except (OSError, RuntimeError, http.client.HTTPException):
            failures += 1
            api.close()
            api = Api(url)
    api.close()
    with lock:
        result.latencies.extend(latencies)
        result.runs.extend(runs)
        result.points += points
        result.failures += failures


def run_load(
    url: str,
    *,
    clients: int = 32,
    duration: float = 60.0,
    points_per_batch: int = 100,
    batches_per_run: int = 10,
) -> dict[str, Any]:
    """Run ``clients`` threads logging runs for ``duration`` seconds; return totals.

    Each client loops: create a run, send ``batches_per_run`` log-batch requests of
    ``points_per_batch`` metric points, end the run. Returns requests, failures,
    points, the ``(run_id, points)`` of every finished run, throughput and latency
    quantiles in milliseconds.
    """
    result = _Totals()
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + duration
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(url, deadline, points_per_batch, batches_per_run, result, lock),
        )
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = result.latencies
    return {
        "requests": len(latencies),
        "failures": result.failures,
        "points": result.points,
        "runs": result.runs,
        "seconds": elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "points_per_s": result.points / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }
