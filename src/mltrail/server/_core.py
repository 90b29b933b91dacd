"""The routes every server has: ``/health``, ``/version`` and ``server-info``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from mltrail._version import __version__
from mltrail.server._context import ServerContext
from mltrail.server._messages import API_PREFIXES, json_response
from mltrail.server._policy import PUBLIC, PolicyRoute

__all__ = ["MLTRAIL_FEATURES", "routes"]

# What this server reads beyond MLflow's messages; mltrail's client sends these
# fields only to a server that names them, since another would drop them silently.
MLTRAIL_FEATURES = (
    "create_run_heartbeat",  # runs/create takes heartbeat_time
    "update_run_metrics",  # runs/update takes metrics, written with the status
    "artifact_batches",  # PUT /api/2.0/mltrail/artifacts/<dir> takes a tar of files
)


async def health(request: Request) -> Response:
    """Answer ``OK`` as soon as the server accepts requests (as MLflow's does)."""
    return PlainTextResponse("OK")


async def version(request: Request) -> Response:
    """Answer the server's mltrail version as plain text (as MLflow's does)."""
    return PlainTextResponse(__version__)


async def server_info(request: Request) -> Response:
    """Describe the server to clients before they authenticate: no secrets here."""
    services: ServerContext = request.app.state.services
    settings = services.settings
    return json_response(
        {
            "store_type": "SqlStore",
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            # MLflow's client would ask for presigned cloud URLs: it streams through
            # the proxy instead, which handles files of any size.
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
            "presigned_upload_run_id_supported": False,
            "presigned_upload_model_id_supported": False,
            "features_enabled": {"gateway": False},
            "mltrail_version": __version__,
            "mltrail_features": list(MLTRAIL_FEATURES),
            "serve_artifacts": settings.serve_artifacts,
            "auth": settings.auth,
        }
    )


def routes(context: ServerContext) -> list[BaseRoute]:
    """Return the health, version and server-info routes."""
    result: list[BaseRoute] = [
        PolicyRoute("/health", health, methods=["GET"], policy=PUBLIC),
        PolicyRoute("/version", version, methods=["GET"], policy=PUBLIC),
    ]
    result += [
        PolicyRoute(
            f"{prefix}/3.0/mlflow/server-info",
            server_info,
            methods=["GET"],
            policy=PUBLIC,
            name=f"server_info:{prefix}",
        )
        for prefix in API_PREFIXES
    ]
    return result
