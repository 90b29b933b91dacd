"""MLflow's model registry routes (``registered-models/...``, ``model-versions/...``).

Each handler reads the request's fields, calls one method of the store's
``RegistryStore`` protocol and writes MLflow's JSON. mltrail's alias history is
served beside them at ``/api/2.0/mltrail/registered-models/alias-history``.
Permissions are per registered model (READ, EDIT, MANAGE), found by ``name``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import anyio.from_thread
from starlette.routing import BaseRoute

from mltrail._errors import ConflictError, NotFoundError, StoreError
from mltrail.server._context import ServerContext
from mltrail.server._errors import ApiError
from mltrail.server._messages import Call, Handler, Message, api_routes, read_message
from mltrail.server._policy import SIGNED_IN, Access, Policy, Resource
from mltrail.server._registry_sources import check_source
from mltrail.server._resources import experiment_of_run
from mltrail.store._registry_wire import (
    alias_change_to_json,
    model_version_to_json,
    registered_model_to_json,
)

if TYPE_CHECKING:
    from starlette.requests import Request

    from mltrail.store._registry_base import RegistryStore

__all__ = ["REGISTERED_MODEL_BY_NAME", "routes"]

KIND = "registered_model"
# MLflow's page sizes (mlflow/store/model_registry/__init__.py).
MODELS_PAGE_DEFAULT = 100
VERSIONS_PAGE_DEFAULT = 200_000


async def _by_name(request: Request) -> Sequence[str]:
    return [(await read_message(request)).required_text("name")]


REGISTERED_MODEL_BY_NAME = Resource(KIND, "name", _by_name)


def _registry(call: Call) -> RegistryStore:
    store = call.services.store
    if not hasattr(store, "create_registered_model"):
        raise StoreError("the server's store has no model registry.")
    # Every store with create_registered_model implements RegistryStore.
    return cast("RegistryStore", store)


def _tags(message: Message) -> dict[str, str]:
    from mltrail.server._experiments import tags_of

    return {tag.key: tag.value for tag in tags_of(message)}


def _already_exists(name: str) -> ApiError:
    return ApiError(
        "RESOURCE_ALREADY_EXISTS",
        f"Registered Model (name={name}) already exists. Register a new version "
        "of it, or choose another name.",
    )


def _hook(services: ServerContext, hook: str, *args: object) -> None:
    """Call the authenticator's ``hook`` (grants of a new model, caches), if any."""
    function = getattr(services.authenticator, hook, None)
    if function is not None:
        function(*args)


def _readable(call: Call, names: list[str]) -> set[str]:
    """Return the names the caller may read (all of them with auth off)."""
    visible = getattr(call.services.authenticator, "readable", None)
    if visible is None:
        return set(names)
    return set(visible(call.user, KIND, names))


def _page(result: dict[str, object], token: str | None) -> dict[str, object]:
    if token:
        result["next_page_token"] = token
    return result


# Registered models.


def create_registered_model(call: Call) -> dict[str, object]:
    message = call.message
    name = message.required_text("name")
    try:
        model = _registry(call).create_registered_model(
            name, tags=_tags(message), description=message.text("description")
        )
    except ConflictError as exc:
        raise _already_exists(name) from exc
    _hook(call.services, "grant_creator", call.user, KIND, name)
    return {"registered_model": registered_model_to_json(model)}


def get_registered_model(call: Call) -> dict[str, object]:
    model = _registry(call).get_registered_model(call.message.required_text("name"))
    return {"registered_model": registered_model_to_json(model)}


def rename_registered_model(call: Call) -> dict[str, object]:
    message = call.message
    name = message.required_text("name")
    new_name = message.required_text("new_name")
    try:
        model = _registry(call).rename_registered_model(name, new_name)
    except ConflictError as exc:
        raise _already_exists(new_name) from exc
    _hook(call.services, "forget")  # cached permissions of both names
    return {"registered_model": registered_model_to_json(model)}


def update_registered_model(call: Call) -> dict[str, object]:
    message = call.message
    model = _registry(call).update_registered_model(
        message.required_text("name"), description=message.text("description")
    )
    return {"registered_model": registered_model_to_json(model)}


def delete_registered_model(call: Call) -> dict[str, object]:
    name = call.message.required_text("name")
    _registry(call).delete_registered_model(name)
    _hook(call.services, "forget")  # cached permissions of the name
    return {}


def search_registered_models(call: Call) -> dict[str, object]:
    message = call.message
    page = _registry(call).search_registered_models(
        filter_string=message.text("filter") or "",
        max_results=message.integer("max_results") or MODELS_PAGE_DEFAULT,
        order_by=message.texts("order_by"),
        page_token=message.text("page_token") or None,
    )
    allowed = _readable(call, [model.name for model in page])
    models = [registered_model_to_json(m) for m in page if m.name in allowed]
    return _page({"registered_models": models}, page.token)


def get_latest_versions(call: Call) -> dict[str, object]:
    message = call.message
    versions = _registry(call).get_latest_versions(
        message.required_text("name"), message.texts("stages")
    )
    return {"model_versions": [model_version_to_json(v) for v in versions]}


def set_registered_model_tag(call: Call) -> dict[str, object]:
    message = call.message
    _registry(call).set_registered_model_tag(
        message.required_text("name"),
        message.required_text("key"),
        message.text("value", required=True) or "",
    )
    return {}


def delete_registered_model_tag(call: Call) -> dict[str, object]:
    message = call.message
    _registry(call).delete_registered_model_tag(
        message.required_text("name"), message.required_text("key")
    )
    return {}


# Aliases.


def set_alias(call: Call) -> dict[str, object]:
    message = call.message
    _registry(call).set_registered_model_alias(
        message.required_text("name"),
        message.required_text("alias"),
        message.required_text("version"),
        user_id=call.user.username,
    )
    return {}


def delete_alias(call: Call) -> dict[str, object]:
    message = call.message
    _registry(call).delete_registered_model_alias(
        message.required_text("name"),
        message.required_text("alias"),
        user_id=call.user.username,
    )
    return {}


def get_version_by_alias(call: Call) -> dict[str, object]:
    message = call.message
    name = message.required_text("name")
    alias = message.required_text("alias")
    try:
        version = _registry(call).get_model_version_by_alias(name, alias)
    except NotFoundError as exc:
        if exc.kind != "alias":
            raise
        # MLflow answers an unknown alias with a 400, and its clients expect it.
        raise ApiError(
            "INVALID_PARAMETER_VALUE",
            f"Registered model alias {alias} not found. Set it with "
            "set_registered_model_alias(name, alias, version).",
        ) from exc
    return {"model_version": model_version_to_json(version)}


def get_alias_history(call: Call) -> dict[str, object]:
    message = call.message
    changes = _registry(call).get_alias_history(
        message.required_text("name"), message.text("alias") or None
    )
    return {"alias_history": [alias_change_to_json(c) for c in changes]}


# Model versions.


def _check_readable(call: Call, run_id: str | None, model_id: str | None) -> None:
    """Refuse to link a version to a run or logged model the caller may not read."""
    authenticator = call.services.authenticator
    if authenticator is None or call.user.is_admin:
        return
    for kind, key in (("run", run_id), ("logged model", model_id)):
        if not key:
            continue
        experiment_id = (
            experiment_of_run(call.services, key)
            if kind == "run"
            else call.services.store.get_logged_model(key).experiment_id
        )
        granted = anyio.from_thread.run(
            authenticator.permission, call.user, "experiment", experiment_id
        )
        if granted < Access.READ:
            raise ApiError(
                "PERMISSION_DENIED",
                f"Permission denied: user {call.user.username!r} needs READ on the "
                f"experiment of {kind} {key!r} to register a model from it.",
            )


def create_model_version(call: Call) -> dict[str, object]:
    message = call.message
    name = message.required_text("name")
    model_id = message.text("model_id") or None
    run_id = message.text("run_id") or None
    _check_readable(call, run_id, model_id)  # before the source is read
    source = check_source(
        call.services, message.required_text("source"), run_id, model_id
    )
    if source.run_id and source.run_id != run_id:
        _check_readable(call, source.run_id, None)
    version = _registry(call).create_model_version(
        name,
        source.source,
        run_id=source.run_id,
        tags=_tags(message),
        run_link=message.text("run_link"),
        description=message.text("description"),
        user_id=call.user.username,
        signature=source.signature,
        storage_location=source.storage_location,
        model_id=model_id,
    )
    return {"model_version": model_version_to_json(version)}


def get_model_version(call: Call) -> dict[str, object]:
    message = call.message
    version = _registry(call).get_model_version(
        message.required_text("name"), message.required_text("version")
    )
    return {"model_version": model_version_to_json(version)}


def update_model_version(call: Call) -> dict[str, object]:
    message = call.message
    version = _registry(call).update_model_version(
        message.required_text("name"),
        message.required_text("version"),
        description=message.text("description"),
    )
    return {"model_version": model_version_to_json(version)}


def transition_stage(call: Call) -> dict[str, object]:
    message = call.message
    version = _registry(call).transition_model_version_stage(
        message.required_text("name"),
        message.required_text("version"),
        message.required_text("stage"),
        archive_existing_versions=message.boolean("archive_existing_versions"),
    )
    return {"model_version": model_version_to_json(version)}


def delete_model_version(call: Call) -> dict[str, object]:
    message = call.message
    _registry(call).delete_model_version(
        message.required_text("name"),
        message.required_text("version"),
        user_id=call.user.username,
    )
    return {}


def get_download_uri(call: Call) -> dict[str, object]:
    message = call.message
    uri = _registry(call).get_model_version_download_uri(
        message.required_text("name"), message.required_text("version")
    )
    return {"artifact_uri": uri}


def search_model_versions(call: Call) -> dict[str, object]:
    message = call.message
    page = _registry(call).search_model_versions(
        filter_string=message.text("filter") or "",
        max_results=message.integer("max_results") or VERSIONS_PAGE_DEFAULT,
        order_by=message.texts("order_by"),
        page_token=message.text("page_token") or None,
    )
    allowed = _readable(call, sorted({version.name for version in page}))
    versions = [model_version_to_json(v) for v in page if v.name in allowed]
    return _page({"model_versions": versions}, page.token)


def set_model_version_tag(call: Call) -> dict[str, object]:
    message = call.message
    _registry(call).set_model_version_tag(
        message.required_text("name"),
        message.required_text("version"),
        message.required_text("key"),
        message.text("value", required=True) or "",
    )
    return {}


def delete_model_version_tag(call: Call) -> dict[str, object]:
    message = call.message
    _registry(call).delete_model_version_tag(
        message.required_text("name"),
        message.required_text("version"),
        message.required_text("key"),
    )
    return {}


def routes(context: ServerContext) -> list[BaseRoute]:
    """Return the registry routes: MLflow's, and mltrail's alias history."""
    del context  # the handlers read the services from each request
    read = Policy.read(REGISTERED_MODEL_BY_NAME)
    edit = Policy.edit(REGISTERED_MODEL_BY_NAME)
    manage = Policy.manage(REGISTERED_MODEL_BY_NAME)
    models = "/registered-models"
    versions = "/model-versions"
    table: list[tuple[str, Handler, list[str], Policy]] = [
        (f"{models}/create", create_registered_model, ["POST"], SIGNED_IN),
        (f"{models}/get", get_registered_model, ["GET"], read),
        (f"{models}/rename", rename_registered_model, ["POST"], manage),
        (f"{models}/update", update_registered_model, ["PATCH"], edit),
        (f"{models}/delete", delete_registered_model, ["DELETE"], manage),
        (f"{models}/search", search_registered_models, ["GET"], SIGNED_IN),
        (f"{models}/get-latest-versions", get_latest_versions, ["GET", "POST"], read),
        (f"{models}/set-tag", set_registered_model_tag, ["POST"], edit),
        (f"{models}/delete-tag", delete_registered_model_tag, ["DELETE"], edit),
        (f"{models}/alias", set_alias, ["POST"], edit),
        (f"{models}/alias", delete_alias, ["DELETE"], edit),
        (f"{models}/alias", get_version_by_alias, ["GET"], read),
        (f"{versions}/create", create_model_version, ["POST"], edit),
        (f"{versions}/get", get_model_version, ["GET"], read),
        (f"{versions}/update", update_model_version, ["PATCH"], edit),
        (f"{versions}/transition-stage", transition_stage, ["POST"], edit),
        (f"{versions}/delete", delete_model_version, ["DELETE"], manage),
        (f"{versions}/get-download-uri", get_download_uri, ["GET"], read),
        (f"{versions}/search", search_model_versions, ["GET"], SIGNED_IN),
        (f"{versions}/set-tag", set_model_version_tag, ["POST"], edit),
        (f"{versions}/delete-tag", delete_model_version_tag, ["DELETE"], edit),
    ]
    result: list[BaseRoute] = []
    for path, handler, methods, policy in table:
        result += api_routes(path, handler, methods=methods, policy=policy)
    result += api_routes(
        f"{models}/alias-history",
        get_alias_history,
        methods=["GET"],
        policy=read,
        namespace="mltrail",
    )
    return result
