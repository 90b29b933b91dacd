"""``create_app``: the tracking server as a Starlette app, built from route providers.

A route provider is a function ``routes(context: ServerContext) -> list[BaseRoute]``
in some module; ``ROUTE_PROVIDERS`` lists them, in the order their routes match.
Every route a provider returns must carry a policy (``PolicyRoute``,
``PolicyMount``): ``create_app`` refuses to build an app with one that does not.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute

from mltrail.server._context import ServerContext
from mltrail.server._errors import PathScrubber, exception_handlers
from mltrail.server._policy import Authenticator, routes_without_policy
from mltrail.server._security import SecurityMiddleware
from mltrail.server._settings import ServerSettings

if TYPE_CHECKING:
    from mltrail.store._base import ArtifactStore, Store

__all__ = ["ROUTE_PROVIDERS", "create_app"]

# "module:function" of every route provider, in matching order. Add a line here to
# serve more routes (the UI's catch-all pages come last). Starlette tries routes one
# by one: the run routes, which clients call most (log-metric, log-batch), go first.
ROUTE_PROVIDERS: tuple[str, ...] = (
    "mltrail.server._core:routes",
    "mltrail.server._runs:routes",
    "mltrail.server._experiments:routes",
    "mltrail.server._artifacts:routes",
    "mltrail.server._logged_models:routes",
    "mltrail.server._users:routes",
    "mltrail.server._registry:routes",
    "mltrail.ui._models:routes",
    "mltrail.ui._routes:routes",
)

RouteProvider = Callable[[ServerContext], Sequence[BaseRoute]]


def _load_provider(spec: str | RouteProvider) -> RouteProvider:
    if callable(spec):
        return spec
    module_name, _, function = spec.partition(":")
    provider: RouteProvider = getattr(importlib.import_module(module_name), function)
    return provider


def _store_paths(store: object) -> list[str]:
    uri = str(getattr(store, "uri", ""))
    if uri.startswith("sqlite:///"):
        return [os.path.dirname(os.path.abspath(uri[len("sqlite:///") :]))]
    return []


def create_app(
    store: Store,
    artifact_store: ArtifactStore | None = None,
    settings: ServerSettings | None = None,
    *,
    authenticator: Authenticator | None = None,
    providers: Sequence[str | RouteProvider] | None = None,
) -> Starlette:
    """Build the tracking server's ASGI app on a store.

    Parameters
    ----------
    store : Store
        Where runs are kept, such as a ``SqlStore``.
    artifact_store : ArtifactStore or None, default=None
        What serves the artifact proxy, rooted at
        ``settings.artifacts_destination``; by default the store that the
        destination's scheme names (a local directory or S3).
    settings : ServerSettings or None, default=None
        How the server is configured; ``ServerSettings()`` by default.
    authenticator : Authenticator or None, default=None
        Checks credentials and permissions; None serves everyone (auth off).
    providers : sequence of str or callable, or None, default=None
        The route providers (``"module:function"`` or the function itself);
        ``ROUTE_PROVIDERS`` by default.

    Returns
    -------
    starlette.applications.Starlette
        The app; ``app.state.services`` is its ``ServerContext``.

    Raises
    ------
    TypeError
        If a provider returns a route that declares no policy.

    Examples
    --------
    >>> from starlette.testclient import TestClient
    >>> from mltrail.server import create_app
    >>> from mltrail.store import SqlStore
    >>> store = SqlStore("sqlite:///server.db", artifact_root="mlflow-artifacts:")
    >>> client = TestClient(create_app(store), base_url="http://localhost")
    >>> client.get("/health").text
    'OK'
    >>> response = client.get("/api/2.0/mlflow/nothing-here")
    >>> response.status_code, response.json()["error_code"]
    (404, 'ENDPOINT_NOT_FOUND')
    >>> store.close()
    """
    settings = settings or ServerSettings()
    destination = settings.artifacts_destination
    if "://" not in destination:
        destination = os.path.abspath(destination)
    if artifact_store is None:
        from mltrail.store._artifacts import open_artifact_store

        artifact_store = open_artifact_store(destination, root=destination)
    context = ServerContext(
        store=store,
        artifact_store=artifact_store,
        artifacts_destination=destination,
        settings=settings,
        authenticator=authenticator,
    )
    routes: list[BaseRoute] = []
    for spec in ROUTE_PROVIDERS if providers is None else providers:
        routes.extend(_load_provider(spec)(context))
    missing = routes_without_policy(routes)
    if missing:
        raise TypeError(
            "every route needs a policy (PolicyRoute or PolicyMount); these have "
            f"none: {', '.join(missing)}"
        )
    middleware = [
        Middleware(
            SecurityMiddleware,
            listen_host=settings.host,
            allowed_hosts=settings.allowed_hosts,
            cors_allowed_origins=settings.cors_allowed_origins,
        )
    ]
    if settings.cors_allowed_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_allowed_origins),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["Authorization", "Content-Type"],
                allow_credentials="*" not in settings.cors_allowed_origins,
            )
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=exception_handlers(),
        max_body_size=settings.max_request_bytes,
    )
    app.state.services = context
    local_destination = "" if "://" in destination else destination
    app.state.scrub = PathScrubber(
        [local_destination, os.getcwd(), *_store_paths(store)]
    )
    return app
