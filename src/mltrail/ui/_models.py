"""``/models`` and ``/models/<name>``: the model registry's pages.

The list shows each registered model the user may read, with its newest version
and its aliases. A model's page shows its versions (newest first, with the run and
the logged model each came from), where each alias points and since when, and the
history of every alias move: which version held ``champion`` when, and who moved
it. Reading a model needs READ on it; runs and logged models are named only when
the user may read their experiment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import BaseRoute

from mltrail._errors import InvalidValueError, NotFoundError
from mltrail._system_tags import MODEL_ARTIFACT_PATH_TAG
from mltrail.server._context import ServerContext
from mltrail.server._policy import SIGNED_IN, Policy, Resource
from mltrail.store._registry_values import filter_literal
from mltrail.ui._registry import MODEL_KIND, readable, registry_of
from mltrail.ui._routes import page_route
from mltrail.ui._run_files import schema_rows

if TYPE_CHECKING:
    from mltrail._entities import LoggedModel, RunInfo
    from mltrail._registry_entities import (
        AliasChange,
        ModelVersion,
        RegisteredModel,
    )
    from mltrail.store._registry_base import RegistryStore
    from mltrail.ui._routes import PageContext

__all__ = ["model_page", "models_page", "routes"]

MODELS_PAGE_SIZE = 100
VERSIONS_PAGE_SIZE = 50
#: The ``order`` query parameter of the list -> the search's order.
ORDERS = {
    "name": ["name ASC"],
    "updated": ["last_updated_timestamp DESC", "name ASC"],
}
# A query with none of these is a piece of a name, not a filter expression.
_FILTER_SYNTAX = re.compile(r"[=<>!'\"`]|\b(?:i?like|in|is)\b", re.IGNORECASE)


def _registry(context: PageContext) -> RegistryStore:
    registry = registry_of(context)
    if registry is None:
        raise InvalidValueError(
            "backend store",
            type(context.services.store).__name__,
            "a store with a model registry",
            "Start the server with --backend-store-uri pointing at a database.",
        )
    return registry


def search_filter(query: str) -> str:
    """Return the registry filter of the list's search box.

    A filter expression (``tags.team = 'risk'``) is used as it is; anything else
    is a piece of a name, matched in any case (``name ILIKE '%wine%'``).

    Examples
    --------
    >>> search_filter("wine")
    "name ILIKE '%wine%'"
    >>> search_filter("tags.team = 'risk'")
    "tags.team = 'risk'"
    """
    query = query.strip()
    if not query or _FILTER_SYNTAX.search(query):
        return query
    return f"name ILIKE {filter_literal('%' + query + '%')}"


def _aliases(model: RegisteredModel) -> list[dict[str, Any]]:
    return [
        {"alias": alias, "version": version}
        for alias, version in sorted(model.aliases.items())
    ]


def _model_row(model: RegisteredModel) -> dict[str, Any]:
    newest = max((v.version for v in model.latest_versions), default=None)
    return {
        "name": model.name,
        "description": model.description,
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
        "latest_version": newest,
        "aliases": _aliases(model),
        "tags": dict(model.tags),
    }


def models_page(context: PageContext) -> dict[str, Any]:
    """Return the registered models the user may read, one page of them."""
    query = context.text("filter")
    order = context.text("order", "name")
    if order not in ORDERS:
        raise InvalidValueError(
            "order", order, "one of " + ", ".join(ORDERS), "Leave it out for name."
        )
    data: dict[str, Any] = {
        "filter": query,
        "order": order,
        "models": [],
        "next_page_token": None,
        "error": None,
    }
    try:
        found = _registry(context).search_registered_models(
            filter_string=search_filter(query),
            max_results=MODELS_PAGE_SIZE,
            order_by=ORDERS[order],
            page_token=context.text("page_token") or None,
        )
    except InvalidValueError as exc:
        if exc.name == "backend store":
            raise
        # A filter that does not parse: the page shows why, in place.
        data["error"] = {"field": exc.name, "message": exc.message}
        data["http_status"] = 400
        return data
    allowed = readable(context, MODEL_KIND, [model.name for model in found])
    data["models"] = [_model_row(m) for m in found if m.name in allowed]
    data["next_page_token"] = found.token
    return data


def _run_json(run_id: str, info: RunInfo | None, allowed: set[str]) -> dict[str, Any]:
    """Return a version's source run, named only if the user may read it."""
    if info is None:
        return {"run_id": run_id, "run_name": None, "readable": False, "exists": False}
    shown = info.experiment_id in allowed
    return {
        "run_id": run_id,
        "run_name": info.run_name if shown else None,
        "experiment_id": info.experiment_id if shown else None,
        "lifecycle_stage": info.lifecycle_stage if shown else None,
        "readable": shown,
        "exists": True,
    }


def _logged_models(
    context: PageContext, versions: Sequence[ModelVersion]
) -> dict[str, LoggedModel | None]:
    """Return the logged model (MLflow 3) of each version that names one."""
    store = context.services.store
    found: dict[str, LoggedModel | None] = {}
    for version in versions:
        model_id = version.model_id
        if not model_id or model_id in found:
            continue
        try:
            found[model_id] = store.get_logged_model(model_id, allow_deleted=True)
        except NotFoundError:
            found[model_id] = None
    return found


def _logged_model_json(
    model_id: str, logged: LoggedModel | None, allowed: set[str]
) -> dict[str, Any]:
    if logged is None or logged.experiment_id not in allowed:
        return {"model_id": model_id, "name": None, "run_id": None, "path": None}
    return {
        "model_id": model_id,
        "name": logged.name,
        "run_id": logged.source_run_id,
        "path": logged.tags.get(MODEL_ARTIFACT_PATH_TAG, logged.name),
    }


def _version_json(
    version: ModelVersion,
    runs: dict[str, RunInfo],
    logged: dict[str, LoggedModel | None],
    allowed: set[str],
) -> dict[str, Any]:
    signature = version.signature or {}
    inputs = schema_rows(signature.get("inputs"))
    outputs = schema_rows(signature.get("outputs"))
    return {
        "version": version.version,
        "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp,
        "user_id": version.user_id,
        "description": version.description,
        "status": version.status,
        "status_message": version.status_message,
        "stage": version.current_stage,
        "source": version.source,
        "aliases": list(version.aliases),
        "tags": dict(version.tags),
        "run": (
            _run_json(version.run_id, runs.get(version.run_id), allowed)
            if version.run_id
            else None
        ),
        "logged_model": (
            _logged_model_json(version.model_id, logged.get(version.model_id), allowed)
            if version.model_id
            else None
        ),
        "signature": {"inputs": inputs, "outputs": outputs},
    }


def _change_json(change: AliasChange) -> dict[str, Any]:
    if change.version is None:
        action = "deleted"
    elif change.previous_version is None:
        action = "set"
    else:
        action = "moved"
    return {
        "alias": change.alias,
        "action": action,
        "version": change.version,
        "previous_version": change.previous_version,
        "user_id": change.user_id,
        "timestamp": change.timestamp,
    }


def _alias_rows(
    model: RegisteredModel, history: Sequence[AliasChange]
) -> list[dict[str, Any]]:
    """Each current alias with the move that put it where it is: when and by whom."""
    rows = []
    for alias, version in sorted(model.aliases.items()):
        last = next(
            (c for c in reversed(history) if c.alias == alias and c.version == version),
            None,
        )
        rows.append(
            {
                "alias": alias,
                "version": version,
                "since": None if last is None else last.timestamp,
                "user_id": None if last is None else last.user_id,
            }
        )
    return rows


def _snippets(name: str, model: RegisteredModel) -> dict[str, str]:
    alias = next(iter(sorted(model.aliases)), None)
    newest = max((v.version for v in model.latest_versions), default=None)
    if alias is not None:
        uri = f"models:/{name}@{alias}"
    elif newest is not None:
        uri = f"models:/{name}/{newest}"
    else:
        return {}
    return {
        "uri": uri,
        "load": (
            "import mltrail\n\n"
            f"model = mltrail.pyfunc.load_model({uri!r})\n"
            "predictions = model.predict(X)"
        ),
        "serve": f"mltrail models serve -m '{uri}' --port 5001",
        "predict": f"mltrail models predict -m '{uri}' -i input.csv -o predictions.csv",
    }


def model_page(context: PageContext) -> dict[str, Any]:
    """Return one registered model: versions, aliases, alias history, sources."""
    name = context.path["name"]
    registry = _registry(context)
    model = registry.get_registered_model(name)
    page = registry.search_model_versions(
        filter_string=f"name = {filter_literal(name)}",
        order_by=["version_number DESC"],
        max_results=VERSIONS_PAGE_SIZE,
        page_token=context.text("page_token") or None,
    )
    versions = list(page)
    history = registry.get_alias_history(name)
    get_runs = getattr(registry, "get_version_runs", None)
    runs: dict[str, RunInfo] = (
        get_runs([v.run_id for v in versions]) if get_runs is not None else {}
    )
    logged = _logged_models(context, versions)
    experiments = {info.experiment_id for info in runs.values()}
    experiments |= {m.experiment_id for m in logged.values() if m is not None}
    allowed = readable(context, "experiment", sorted(experiments))
    return {
        "model": {
            **_model_row(model),
            "aliases": _alias_rows(model, history),
        },
        "versions": [_version_json(v, runs, logged, allowed) for v in versions],
        "has_stages": any(v.current_stage != "None" for v in versions),
        "alias_history": [_change_json(c) for c in reversed(history)],
        "snippets": _snippets(name, model),
        "next_page_token": page.token,
    }


async def _name_in_path(request: Request) -> Sequence[str]:
    return [request.path_params["name"]]


MODEL_IN_PATH = Resource(MODEL_KIND, "name in the path", _name_in_path)


def routes(context: ServerContext) -> list[BaseRoute]:
    """Return the registry's pages: the models list and a model's page."""
    del context  # the pages read the services from each request
    return [
        page_route("/models", models_page, "models.html", policy=SIGNED_IN),
        page_route(
            "/models/{name}",
            model_page,
            "model.html",
            policy=Policy.read(MODEL_IN_PATH),
        ),
    ]
