"""Run a scoring server with uvicorn: one process, or several workers.

The model is loaded once in this process before the port is bound, so a bad URI
or an untrusted file fails at once, and ``/ping`` never answers before the model
can predict. With ``--workers N`` the workers are forked from this process after
the load (where ``os.fork`` exists): they share the loaded model instead of
importing scikit-learn and loading it N times. Elsewhere uvicorn spawns them and
each loads it again (from the settings in ``MLTRAIL_SERVING_SETTINGS``).
Prometheus counts are summed over workers through ``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = [
    "ServeOptions",
    "app_from_environment",
    "build_scoring_app",
    "run_forked",
    "serve",
]

SETTINGS_VARIABLE = "MLTRAIL_SERVING_SETTINGS"


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What ``mltrail models serve`` was asked for."""

    model_uri: str
    host: str = "127.0.0.1"
    port: int = 5001
    workers: int = 1
    trusted: bool = False
    tracking_uri: str | None = None
    strict: bool = False
    max_batch_size: int = 0
    max_batch_delay_ms: float = 2.0


def build_scoring_app(options: ServeOptions) -> Starlette:
    """Load the model and return its scoring app."""
    # The app (and prometheus_client) are imported here, after serve() has named
    # the metrics directory of several workers: prometheus_client reads it once.
    from mltrail.serving._app import ServingSettings, create_scoring_app
    from mltrail.serving._model import load_served_model

    model = load_served_model(
        options.model_uri, trusted=options.trusted, tracking_uri=options.tracking_uri
    )
    settings = ServingSettings(
        strict=options.strict,
        max_batch_size=options.max_batch_size,
        max_batch_delay_ms=options.max_batch_delay_ms,
    )
    return create_scoring_app(model, settings)


def app_from_environment() -> Starlette:
    """Build a worker's app from ``MLTRAIL_SERVING_SETTINGS`` (a spawned worker)."""
    with frozen_startup():
        return build_scoring_app(
            ServeOptions(**json.loads(os.environ[SETTINGS_VARIABLE]))
        )


@contextlib.contextmanager
def frozen_startup(owns_process: bool = True) -> Iterator[None]:
    """Start a server process without the cyclic collector, then freeze what it made.

    Importing scikit-learn and loading a model make hundreds of thousands of objects
    that live as long as the process and hold no garbage; meanwhile, each full
    collection walks them all. They are made with the collector off, then moved
    out of every later collection (``gc.freeze``, as Python's documentation advises
    before forking workers, whose pages then stay shared), so neither the start
    nor a request later pays for them. Only for a process that the server owns
    (``owns_process``): the freeze keeps whatever else is alive at that moment.
    """
    if not owns_process:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def serve(options: ServeOptions, *, owns_process: bool = False) -> None:
    """Load the model, then serve it until interrupted.

    ``owns_process``: this process exists to serve (``mltrail models serve``), so
    its startup is frozen (``frozen_startup``).
    """
    import uvicorn

    with frozen_startup(owns_process):
        if options.workers > 1:
            # Counters of every worker go to one directory, summed by /metrics. It
            # must be set before prometheus_client is imported by the app.
            os.environ.setdefault(
                "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="mltrail-metrics-")
            )
        app = build_scoring_app(options)
    if options.workers <= 1:
        uvicorn.run(
            app,
            host=options.host,
            port=options.port,
            access_log=False,
            log_level="warning",
        )
        return
    if hasattr(os, "fork") and _counts_per_process():
        run_forked(app, options)
        return
    os.environ[SETTINGS_VARIABLE] = json.dumps(dataclasses.asdict(options))
    uvicorn.run(
        "mltrail.serving._serve:app_from_environment",
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        access_log=False,
        log_level="warning",
    )


def _counts_per_process() -> bool:
    """Whether prometheus_client keeps counts in per-process files, summed by /metrics.

    It decides when first imported; imported before ``PROMETHEUS_MULTIPROC_DIR``
    was set (by the code that called ``serve``), forked workers would each count
    in memory alone, so they are spawned instead.
    """
    from prometheus_client import values

    return values.ValueClass is not values.MutexValue


def run_forked(app: Starlette, options: ServeOptions) -> None:
    """Serve ``app`` from ``options.workers`` processes forked from this one.

    This process binds the port, forks the workers (each runs uvicorn on the
    shared socket with the model already loaded) and waits for them. SIGINT or
    SIGTERM here stops them gracefully; a worker that dies is not replaced.
    """
    import signal

    import uvicorn

    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        access_log=False,
        log_level="warning",
    )
    sock = config.bind_socket()
    children: list[int] = []
    for _ in range(options.workers):
        pid = os.fork()
        if pid == 0:  # a worker: serve until told to stop, then leave at once
            code = 0
            try:
                uvicorn.Server(config).run(sockets=[sock])
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    sock.close()

    def stop(signum: int, frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = {
        signum: signal.signal(signum, stop)
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        for pid in children:
            os.waitpid(pid, 0)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
