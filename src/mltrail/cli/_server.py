"""``mltrail server``: run the tracking server (MLflow's REST API) with uvicorn."""

from __future__ import annotations

import dataclasses
import os

import click

__all__ = ["default_artifacts_destination", "is_local_folder", "server"]

#: Help shared with ``mltrail ui``: the default both commands give artifacts.
ARTIFACTS_DEFAULT = (
    "where the library writes this store's artifacts: MLTRAIL_ARTIFACT_ROOT, else "
    "mltrail-artifacts beside a SQLite file, else ./mltrail-artifacts"
)


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


def is_local_folder(root: str) -> bool:
    """Whether an artifact root is a folder of this machine, not ``s3://`` and such.

    A one-letter scheme is a Windows drive letter (``C:``).
    """
    scheme, colon, _ = root.partition(":")
    return not colon or len(scheme) == 1


def default_artifacts_destination(backend_store_uri: str) -> str:
    """Return where the library writes a store's artifacts, without opening it.

    ``MLTRAIL_ARTIFACT_ROOT`` when it is a local folder, else ``mltrail-artifacts``
    beside a SQLite file (``./mltrail-artifacts`` for ``sqlite:///mltrail.db``), else
    ``./mltrail-artifacts``. Opening the store here would create a new database
    with that folder as its root, where the server's clients need the proxy's.
    """
    root = os.environ.get("MLTRAIL_ARTIFACT_ROOT")
    if root and is_local_folder(root):
        return root
    prefix = "sqlite:///"
    if backend_store_uri.startswith(prefix):
        path = os.path.abspath(backend_store_uri[len(prefix) :])
        return os.path.join(os.path.dirname(path), "mltrail-artifacts")
    return os.path.abspath("mltrail-artifacts")


@click.command()
@click.option(
    "--backend-store-uri",
    metavar="URI",
    help="Where runs are stored: sqlite:///path.db, postgresql://..., mysql://... "
    "[default: sqlite:///mltrail.db; env: MLTRAIL_BACKEND_STORE_URI]",
)
@click.option(
    "--artifacts-destination",
    metavar="URI",
    help="Where the artifact proxy keeps files: a directory or s3://bucket/prefix "
    f"[default: {ARTIFACTS_DEFAULT}; env: MLTRAIL_ARTIFACTS_DESTINATION]",
)
@click.option(
    "--default-artifact-root",
    metavar="URI",
    help="Artifact location of new experiments, such as s3://bucket/prefix for "
    "clients that write to S3 themselves [default: mlflow-artifacts: (the proxy)]",
)
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=None,
    help="Serve the artifact proxy routes [default: on]",
)
@click.option(
    "--host",
    "-h",
    metavar="HOST",
    help="Address to listen on; other than loopback it needs --auth basic or "
    "--no-auth [default: 127.0.0.1]",
)
@click.option("--port", "-p", type=int, help="Port to listen on [default: 5000]")
@click.option(
    "--workers", "-w", type=int, help="Number of server processes [default: 1]"
)
@click.option(
    "--allowed-hosts",
    metavar="LIST",
    help="Comma-separated Host names or patterns (*.example.com) to accept, "
    "besides loopback and private addresses",
)
@click.option(
    "--cors-allowed-origins",
    metavar="LIST",
    help="Comma-separated origins that browsers may call the API from "
    "[default: none, CORS off]",
)
@click.option(
    "--auth",
    type=click.Choice(["none", "basic"]),
    help="'basic': users with passwords and tokens, per-experiment permissions "
    "[default: none]",
)
@click.option(
    "--no-auth",
    is_flag=True,
    default=None,
    help="Serve a non-loopback address without credentials, on purpose",
)
@click.option(
    "--default-permission",
    type=click.Choice(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"]),
    help="With --auth basic: what users may do on experiments without a grant "
    "[default: READ]",
)
def server(
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    default_artifact_root: str | None,
    serve_artifacts: bool | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    allowed_hosts: str | None,
    cors_allowed_origins: str | None,
    auth: str | None,
    no_auth: bool | None,
    default_permission: str | None,
) -> None:
    """Run the tracking server: MLflow's REST API and artifact proxy.

    Point mltrail (MLTRAIL_TRACKING_URI) or MLflow (mlflow.set_tracking_uri) at
    http://HOST:PORT. Every option can also be set with MLTRAIL_<OPTION>, such as
    MLTRAIL_BACKEND_STORE_URI.
    """
    from mltrail.server._serve import serve
    from mltrail.server._settings import ServerSettings

    settings = ServerSettings.from_environment(
        backend_store_uri=backend_store_uri,
        artifacts_destination=artifacts_destination,
        default_artifact_root=default_artifact_root,
        serve_artifacts=serve_artifacts,
        host=host,
        port=port,
        workers=workers,
        allowed_hosts=_split(allowed_hosts),
        cors_allowed_origins=_split(cors_allowed_origins),
        auth=auth,
        no_auth=no_auth,
        default_permission=default_permission,
    )
    if artifacts_destination is None and not os.environ.get(
        "MLTRAIL_ARTIFACTS_DESTINATION"
    ):
        destination = default_artifacts_destination(settings.backend_store_uri)
        settings = dataclasses.replace(settings, artifacts_destination=destination)
    serve(settings)
