"""The tracking server: MLflow's REST API and artifact proxy as a Starlette app.

``create_app(store, artifact_store, settings)`` builds the app; ``mltrail server``
runs it with uvicorn. Importing this package loads Starlette, so ``import mltrail``
never does.
"""

from __future__ import annotations

from mltrail.server._app import create_app
from mltrail.server._settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
