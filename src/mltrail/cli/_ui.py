"""``mltrail ui``: the web UI on the store that the library writes by default here.

It is ``mltrail server`` (same options, same app: the UI's pages and the REST API
their actions call) with the defaults of a local user: ``sqlite:///mltrail.db``
and ``./mltrail-artifacts`` in the current directory (or ``MLTRAIL_TRACKING_URI``
and ``MLTRAIL_ARTIFACT_ROOT``), and new experiments keeping their artifacts in
that local folder, where the library writes them.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import click

from mltrail.cli._server import (
    _split,
    default_artifacts_destination,
    is_local_folder,
    server,
)

__all__ = ["ui"]


def _store_artifact_root(uri: str) -> str | None:
    """Return the artifact root the store uses for ``uri``, if it is a local folder.

    As ``mltrail server``'s default, except that a PostgreSQL or MySQL store is
    opened to read the root it recorded when it was created.
    """
    if os.environ.get("MLTRAIL_ARTIFACT_ROOT") or uri.startswith("sqlite:"):
        return default_artifacts_destination(uri)
    from mltrail.store._sql import SqlStore

    store = SqlStore(uri)
    try:
        root = store.artifact_root
    finally:
        store.close()
    return root if is_local_folder(root) else None


def _options() -> list[click.Parameter]:
    """``mltrail server``'s options, with the help of those whose default differs."""
    helps = {
        "backend_store_uri": "Where runs are stored [default: the --tracking-uri "
        "of mltrail, else sqlite:///mltrail.db]",
        "artifacts_destination": "Where artifacts are: a directory or "
        "s3://bucket/prefix [default: where the library writes them: "
        "MLTRAIL_ARTIFACT_ROOT, else mltrail-artifacts beside a SQLite file]",
        "default_artifact_root": "Artifact location of experiments created in the "
        "UI [default: the artifacts destination, so the library writes there]",
    }
    options = []
    for parameter in server.params:
        if parameter.name in helps and isinstance(parameter, click.Option):
            parameter = copy.copy(parameter)
            parameter.help = helps[str(parameter.name)]
        options.append(parameter)
    return options


@click.pass_context
def _ui(ctx: click.Context, /, **options: Any) -> None:
    """Show your runs in the browser: mltrail's web UI, on http://127.0.0.1:5000.

    It serves the store that mltrail writes by default in this directory
    (sqlite:///mltrail.db, artifacts in mltrail-artifacts beside it), or the one
    --tracking-uri names. Every option of `mltrail server` works here too.
    """
    from mltrail.server._serve import serve
    from mltrail.server._settings import ServerSettings

    tracking_uri = getattr(ctx.obj, "tracking_uri", None)
    if options["backend_store_uri"] is None and tracking_uri:
        options["backend_store_uri"] = tracking_uri
    for name in ("allowed_hosts", "cors_allowed_origins"):
        options[name] = _split(options[name])
    settings = ServerSettings.from_environment(**options)
    if options["artifacts_destination"] is None and not os.environ.get(
        "MLTRAIL_ARTIFACTS_DESTINATION"
    ):
        # Where the library writes this store's artifacts (the store decides:
        # MLTRAIL_ARTIFACT_ROOT, else beside a SQLite file, else the recorded root).
        options["artifacts_destination"] = _store_artifact_root(
            settings.backend_store_uri
        )
        settings = ServerSettings.from_environment(**options)
    if settings.default_artifact_root is None and "://" not in (
        settings.artifacts_destination
    ):
        settings = ServerSettings.from_environment(
            **{
                **options,
                "default_artifact_root": os.path.abspath(
                    settings.artifacts_destination
                ),
            }
        )
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    click.echo(
        f"mltrail UI on http://{host}:{settings.port} "
        f"(runs in {settings.backend_store_uri}, "
        f"artifacts in {settings.artifacts_destination}); Ctrl+C to stop."
    )
    serve(settings)


ui = click.Command(
    "ui",
    callback=_ui,
    params=_options(),
    help=_ui.__doc__,
    short_help="Show your runs in the browser (the web UI).",
)
