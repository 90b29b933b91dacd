"""MLflow's experiment routes: create, get, search, update, delete, restore, tags."""

from __future__ import annotations

from urllib.parse import urlparse

from starlette.routing import BaseRoute

from mltrail._entities import LifecycleStage, RunTag, ViewType
from mltrail._errors import ConflictError, InvalidValueError
from mltrail.server._context import ServerContext
from mltrail.server._errors import ApiError
from mltrail.server._messages import Call, Handler, Message, api_routes, invalid
from mltrail.server._policy import SIGNED_IN, Policy
from mltrail.server._resources import EXPERIMENT_BY_ID, EXPERIMENT_BY_NAME
from mltrail.store._rest_wire import experiment_to_json

__all__ = ["routes", "view_type"]

# Artifact locations a client may choose: the proxy and object stores, never a path
# on the server's disk (it could point the server's artifact routes anywhere).
REMOTE_SCHEMES = frozenset({"mlflow-artifacts", "s3", "gs", "wasbs", "http", "https"})
_VIEW_TYPE_CODES = {
    "1": ViewType.ACTIVE_ONLY,
    "2": ViewType.DELETED_ONLY,
    "3": ViewType.ALL,
}


def view_type(message: Message, name: str) -> ViewType:
    """Return the view type field (``ACTIVE_ONLY`` by default), by name or code."""
    value = message.text(name)
    if value is None or value == "":
        return ViewType.ACTIVE_ONLY
    if value in _VIEW_TYPE_CODES:
        return _VIEW_TYPE_CODES[value]
    if value.upper() in ViewType.__members__:
        return ViewType[value.upper()]
    raise invalid(name, value, "one of ACTIVE_ONLY, DELETED_ONLY, ALL")


def tags_of(message: Message, name: str = "tags") -> list[RunTag]:
    """Return a repeated ``{key, value}`` field as tags."""
    tags = []
    for item in message.objects(name):
        key, value = item.get("key"), item.get("value")
        if not isinstance(key, str) or not isinstance(value, str | int | float):
            raise invalid(name, item, "objects with a string 'key' and 'value'")
        tags.append(RunTag(key, str(value)))
    return tags


def _check_artifact_location(services: ServerContext, location: str) -> None:
    scheme = urlparse(location).scheme
    if scheme == "mlflow-artifacts":
        # The proxy finds who may read and write a file by the experiment id its
        # path starts with; a folder of the client's choosing would be accepted
        # here and then refuse every upload.
        raise InvalidValueError(
            "artifact_location",
            location,
            "a location outside the proxy (s3:// or http(s)://), or none",
            "Leave it out: the proxy keeps each experiment's files under its id.",
        )
    if scheme in REMOTE_SCHEMES or location.startswith(services.settings.artifact_root):
        return
    raise InvalidValueError(
        "artifact_location",
        location,
        "an mlflow-artifacts:/, s3:// or http(s):// URI",
        "Leave it out: the server puts new experiments under its artifact root.",
    )


def create_experiment(call: Call) -> dict[str, object]:
    message = call.message
    name = message.required_text("name")
    location = message.text("artifact_location") or None
    if location is not None:
        _check_artifact_location(call.services, location)
    try:
        experiment_id = call.services.store.create_experiment(
            name, artifact_location=location, tags=tags_of(message)
        )
    except ConflictError as exc:
        raise ApiError(
            "RESOURCE_ALREADY_EXISTS",
            f"Experiment(name={name}) already exists. Error: {exc.message}",
        ) from exc
    authenticator = call.services.authenticator
    grant = getattr(authenticator, "grant_creator", None)
    if grant is not None:
        grant(call.user, "experiment", experiment_id)
    return {"experiment_id": experiment_id}


def get_experiment(call: Call) -> dict[str, object]:
    experiment_id = call.message.required_text("experiment_id")
    experiment = call.services.store.get_experiment(experiment_id)
    return {"experiment": experiment_to_json(experiment)}


def get_experiment_by_name(call: Call) -> dict[str, object]:
    name = call.message.required_text("experiment_name")
    experiment = call.services.store.get_experiment_by_name(name)
    if experiment is None:
        raise ApiError(
            "RESOURCE_DOES_NOT_EXIST",
            f"Could not find experiment with name '{name}'.",
        )
    return {"experiment": experiment_to_json(experiment)}


def search_experiments(call: Call) -> dict[str, object]:
    message = call.message
    page = call.services.store.search_experiments(
        view_type=view_type(message, "view_type"),
        max_results=message.integer("max_results") or 1000,
        filter_string=message.text("filter") or "",
        order_by=message.texts("order_by"),
        page_token=message.text("page_token") or None,
    )
    visible = getattr(call.services.authenticator, "readable", None)
    experiments = list(page)
    if visible is not None:
        allowed = visible(call.user, "experiment", [e.experiment_id for e in page])
        experiments = [e for e in experiments if e.experiment_id in allowed]
    result: dict[str, object] = {
        "experiments": [experiment_to_json(e) for e in experiments]
    }
    if page.token:
        result["next_page_token"] = page.token
    return result


def update_experiment(call: Call) -> dict[str, object]:
    experiment_id = call.message.required_text("experiment_id")
    new_name = call.message.text("new_name")
    if new_name:
        call.services.store.update_experiment(experiment_id, new_name=new_name)
    return {}


def delete_experiment(call: Call) -> dict[str, object]:
    experiment_id = call.message.required_text("experiment_id")
    call.services.store.update_experiment(
        experiment_id, lifecycle_stage=LifecycleStage.DELETED.value
    )
    return {}


def restore_experiment(call: Call) -> dict[str, object]:
    experiment_id = call.message.required_text("experiment_id")
    call.services.store.update_experiment(
        experiment_id, lifecycle_stage=LifecycleStage.ACTIVE.value
    )
    return {}


def set_experiment_tag(call: Call) -> dict[str, object]:
    message = call.message
    experiment_id = message.required_text("experiment_id")
    key = message.required_text("key")
    value = message.text("value", required=True) or ""
    call.services.store.update_experiment(experiment_id, tags=[RunTag(key, value)])
    return {}


def delete_experiment_tag(call: Call) -> dict[str, object]:
    message = call.message
    experiment_id = message.required_text("experiment_id")
    key = message.required_text("key")
    call.services.store.delete_experiment_tag(experiment_id, key)
    return {}


def routes(context: ServerContext) -> list[BaseRoute]:
    """Return the experiment routes."""
    read = Policy.read(EXPERIMENT_BY_ID)
    edit = Policy.edit(EXPERIMENT_BY_ID)
    manage = Policy.manage(EXPERIMENT_BY_ID)
    table: list[tuple[str, Handler, list[str], Policy]] = [
        ("/experiments/create", create_experiment, ["POST"], SIGNED_IN),
        ("/experiments/get", get_experiment, ["GET"], read),
        (
            "/experiments/get-by-name",
            get_experiment_by_name,
            ["GET"],
            Policy.read(EXPERIMENT_BY_NAME),
        ),
        ("/experiments/search", search_experiments, ["GET", "POST"], SIGNED_IN),
        ("/experiments/update", update_experiment, ["POST"], edit),
        ("/experiments/delete", delete_experiment, ["POST"], manage),
        ("/experiments/restore", restore_experiment, ["POST"], manage),
        ("/experiments/set-experiment-tag", set_experiment_tag, ["POST"], edit),
        ("/experiments/delete-experiment-tag", delete_experiment_tag, ["POST"], edit),
    ]
    result: list[BaseRoute] = []
    for path, handler, methods, policy in table:
        result += api_routes(path, handler, methods=methods, policy=policy)
    return result
