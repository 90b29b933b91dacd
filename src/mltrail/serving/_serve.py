"""Run a scoring server with uvicorn: one process, or several workers.

The model is loaded once in this process before the port is bound, so a bad URI
or an untrusted file fails at once; with ``--workers N`` each worker loads it
again (from the settings in ``MLTRAIL_SERVING_SETTINGS``) and Prometheus counts are
summed over workers through ``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass

from starlette.applications import Starlette

from mltrail.serving._app import ServingSettings, create_scoring_app

__all__ = ["ServeOptions", "app_from_environment", "build_scoring_app", "serve"]

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
    """Build a worker's app from ``MLTRAIL_SERVING_SETTINGS``."""
    return build_scoring_app(ServeOptions(**json.loads(os.environ[SETTINGS_VARIABLE])))


def serve(options: ServeOptions) -> None:
    """Load the model, then serve it until interrupted."""
    import uvicorn

    if options.workers > 1:
        # Counters of every worker go to one directory, summed by /metrics. It must
        # be set before prometheus_client is imported by the app.
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
