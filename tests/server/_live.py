"""Real ``mltrail server`` processes on 127.0.0.1, on free ports, always stopped.

They start guarded (``tests._processes``): a server never outlives the test process,
even one killed before its fixtures are torn down.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests._processes import start, stop

__all__ = [
    "LiveServer",
    "free_port",
    "live_server",
    "start",
    "stop",
    "threaded_server",
    "wait_until_healthy",
]

STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    """A running server: its URL, its process and where its log goes."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    directory: Path

    def read_log(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{log.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - a local URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(
        f"server not healthy after {STARTUP_TIMEOUT} s:\n{log.read_text()}"
    )


@contextmanager
def live_server(
    directory: Path,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    backend_store_uri: str | None = None,
) -> Iterator[LiveServer]:
    """Run ``mltrail server`` in ``directory`` until the block ends."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = directory / "server.log"
    command = [
        sys.executable,
        "-m",
        "mltrail.cli",
        "server",
        "--port",
        str(port),
        "--backend-store-uri",
        backend_store_uri or f"sqlite:///{directory / 'mltrail.db'}",
        "--artifacts-destination",
        str(directory / "artifacts"),
        *args,
    ]
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLTRAIL_", "MLFLOW_"))
        or key.startswith("MLTRAIL_TEST_")
    }
    environment.update(env or {})
    with log.open("wb") as output:
        process = start(
            command,
            cwd=directory,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        yield LiveServer(url, process, log, directory)
    finally:
        stop(process)


@contextmanager
def threaded_server(app: object, *, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread of this process; yield its URL.

    The app's code runs in this process, so coverage sees it; a real socket on
    127.0.0.1 carries real HTTP.
    """
    import threading

    import uvicorn

    config = uvicorn.Config(
        app,  # type: ignore[arg-type]  # an ASGI app
        host="127.0.0.1",
        port=port or free_port(),
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the threaded server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
