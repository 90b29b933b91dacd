"""Run the tracking server with uvicorn: one process, or several workers.

Workers are separate processes that each build the app from the settings, which the
parent hands over in the ``MLTRAIL_SERVER_SETTINGS`` environment variable (JSON).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os

from starlette.applications import Starlette

from mltrail._errors import InvalidValueError
from mltrail.server._app import create_app
from mltrail.server._settings import ServerSettings, is_loopback

__all__ = [
    "SETTINGS_VARIABLE",
    "app_from_environment",
    "build_app",
    "check_exposure",
    "serve",
]

SETTINGS_VARIABLE = "MLTRAIL_SERVER_SETTINGS"


def check_exposure(settings: ServerSettings) -> None:
    """Refuse to serve a non-loopback address without auth, unless told ``--no-auth``.

    Raises
    ------
    InvalidValueError
        If the server would listen beyond this machine with no credentials asked.
    """
    if settings.is_auth_enabled or settings.no_auth or is_loopback(settings.host):
        return
    raise InvalidValueError(
        "host",
        settings.host,
        "a loopback address (127.0.0.1, localhost, ::1) when auth is off",
        "Anyone who can reach this address could read and change every run. "
        "Start with --auth basic, or pass --no-auth to serve the network "
        "without credentials on purpose.",
    )


def build_app(settings: ServerSettings) -> Starlette:
    """Open the stores that ``settings`` names and build the app on them."""
    from mltrail.store._sql import SqlStore

    store = SqlStore(settings.backend_store_uri, artifact_root=settings.artifact_root)
    authenticator = None
    if settings.is_auth_enabled:
        from mltrail.server._auth import open_authenticator

        authenticator = open_authenticator(store, settings.default_permission)
    return create_app(store, settings=settings, authenticator=authenticator)


def _settings_to_json(settings: ServerSettings) -> str:
    return json.dumps(dataclasses.asdict(settings))


def _freeze_heap() -> None:
    """Leave the objects of the started app out of every later garbage collection.

    A search builds tens of thousands of small objects, which start collections of
    the oldest generation; those walked every module, class and function loaded
    at start, and made a 1,000-run search up to twice as slow.
    """
    gc.collect()
    gc.freeze()


def app_from_environment() -> Starlette:
    """Build the app of a worker process from ``MLTRAIL_SERVER_SETTINGS``."""
    data = json.loads(os.environ[SETTINGS_VARIABLE])
    for name in ("allowed_hosts", "cors_allowed_origins"):
        data[name] = tuple(data[name])
    app = build_app(ServerSettings(**data))
    _freeze_heap()
    return app


def serve(settings: ServerSettings) -> None:
    """Check the settings, prepare the stores, then serve until interrupted.

    The store is opened (and migrated) once here, before any worker starts, so
    workers never race to create the schema, and a bad URI fails at once.
    """
    import uvicorn

    check_exposure(settings)
    # Build once in this process: this migrates the store, bootstraps the admin
    # and reports bad settings before the port is bound.
    app = build_app(settings)
    if settings.workers == 1:
        _freeze_heap()
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            access_log=False,
            log_level="info",
        )
        return
    os.environ[SETTINGS_VARIABLE] = _settings_to_json(settings)
    app.state.services.store.close()
    uvicorn.run(
        "mltrail.server._serve:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=False,
        log_level="info",
    )
