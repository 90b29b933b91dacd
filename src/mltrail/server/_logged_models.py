"""MLflow 3's logged-model routes, and the runs' model outputs.

``mlflow.sklearn.autolog()`` and ``log_model`` create a model (PENDING), link it to
the run (``runs/outputs``), upload its files through the proxy to
``<experiment>/models/<id>/artifacts``, then finalize it (READY); metrics logged with
a ``model_id`` are recorded on the model too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import BaseRoute

from mltrail._entities import Param
from mltrail.server._artifacts import run_artifacts
from mltrail.server._context import ServerContext
from mltrail.server._experiments import tags_of
from mltrail.server._messages import Call, Handler, api_routes, invalid
from mltrail.server._policy import Policy, Resource
from mltrail.server._resources import (
    EXPERIMENT_BY_ID,
    EXPERIMENT_OF_RUN,
    EXPERIMENTS_BY_IDS,
    cached_experiment,
)
from mltrail.store._paths import check_relative_path
from mltrail.store._rest_wire import (
    file_info_to_json,
    logged_model_to_json,
    model_status_from_json,
)

__all__ = ["EXPERIMENT_OF_MODEL", "routes"]


def _experiment_of_model(services: ServerContext, model_id: str) -> str:
    return cached_experiment(
        services,
        "model",
        model_id,
        lambda key: (
            services.store.get_logged_model(key, allow_deleted=True).experiment_id
        ),
    )


async def _of_model(request: Request) -> Sequence[str]:
    services: ServerContext = request.app.state.services
    model_id = request.path_params["model_id"]
    return [await run_in_threadpool(_experiment_of_model, services, model_id)]


EXPERIMENT_OF_MODEL = Resource("experiment", "the experiment of model_id", _of_model)


def _params_of(items: Sequence[Mapping[str, Any]], name: str = "params") -> list[Param]:
    params = []
    for item in items:
        key, value = item.get("key"), item.get("value")
        if not isinstance(key, str) or value is None:
            raise invalid(name, item, "objects with a string 'key' and a 'value'")
        params.append(Param(key, str(value)))
    return params


def create_logged_model(call: Call) -> dict[str, object]:
    from mltrail.tracking._context import generate_run_name

    message = call.message
    model = call.services.store.create_logged_model(
        message.required_text("experiment_id"),
        name=message.text("name") or generate_run_name(),
        source_run_id=message.text("source_run_id") or None,
        model_type=message.text("model_type") or None,
        params=_params_of(message.objects("params")),
        tags=tags_of(message),
    )
    return {"model": logged_model_to_json(model)}


def get_logged_model(call: Call) -> dict[str, object]:
    model = call.services.store.get_logged_model(
        call.path["model_id"], allow_deleted=call.message.boolean("allow_deleted")
    )
    return {"model": logged_model_to_json(model)}


def finalize_logged_model(call: Call) -> dict[str, object]:
    status = call.message.text("status", required=True)
    model = call.services.store.finalize_logged_model(
        call.path["model_id"], model_status_from_json(status)
    )
    return {"model": logged_model_to_json(model)}


def delete_logged_model(call: Call) -> dict[str, object]:
    call.services.store.delete_logged_model(call.path["model_id"])
    return {}


def set_logged_model_tags(call: Call) -> dict[str, object]:
    model_id = call.path["model_id"]
    call.services.store.set_logged_model_tags(model_id, tags_of(call.message))
    return {
        "model": logged_model_to_json(call.services.store.get_logged_model(model_id))
    }


def delete_logged_model_tag(call: Call) -> dict[str, object]:
    call.services.store.delete_logged_model_tag(
        call.path["model_id"], call.path["tag_key"]
    )
    return {}


def log_logged_model_params(call: Call) -> dict[str, object]:
    call.services.store.log_logged_model_params(
        call.path["model_id"], _params_of(call.message.objects("params"))
    )
    return {}


def search_logged_models(call: Call) -> dict[str, object]:
    message = call.message
    datasets = [
        {
            "dataset_name": str(item.get("dataset_name") or ""),
            "dataset_digest": str(item.get("dataset_digest") or ""),
        }
        for item in message.objects("datasets")
    ]
    page = call.services.store.search_logged_models(
        message.texts("experiment_ids"),
        filter_string=message.text("filter") or "",
        datasets=datasets,
        max_results=message.integer("max_results") or 100,
        order_by=list(message.objects("order_by")),
        page_token=message.text("page_token") or None,
    )
    result: dict[str, object] = {"models": [logged_model_to_json(m) for m in page]}
    if page.token:
        result["next_page_token"] = page.token
    return result


def list_logged_model_artifacts(call: Call) -> dict[str, object]:
    model = call.services.store.get_logged_model(call.path["model_id"])
    path = call.message.text("artifact_directory_path") or ""
    parts = check_relative_path(path) if path else []
    store, base, prefix = run_artifacts(call.services, model.artifact_location)
    files = store.list(base, (prefix + "/".join(parts)).rstrip("/") or None)
    return {
        "root_uri": model.artifact_location,
        "files": [
            file_info_to_json(
                type(info)(info.path[len(prefix) :], info.is_dir, info.file_size)
            )
            for info in files
        ],
    }


def log_outputs(call: Call) -> dict[str, object]:
    message = call.message
    outputs = []
    for item in message.objects("models"):
        model_id = item.get("model_id")
        step = item.get("step", 0)
        if not isinstance(model_id, str) or not model_id:
            raise invalid("models.model_id", model_id, "a model id")
        if isinstance(step, str) and step.lstrip("-").isdigit():
            step = int(step)
        if isinstance(step, bool) or not isinstance(step, int):
            raise invalid("models.step", step, "an integer")
        outputs.append((model_id, step))
    if outputs:
        call.services.store.log_model_outputs(message.run_id(), outputs)
    return {}


def routes(context: ServerContext) -> list[BaseRoute]:
    """Return the logged-model routes and ``runs/outputs``."""
    read = Policy.read(EXPERIMENT_OF_MODEL)
    edit = Policy.edit(EXPERIMENT_OF_MODEL)
    base = "/logged-models/{model_id}"
    table: list[tuple[str, Handler, list[str], Policy]] = [
        (
            "/logged-models",
            create_logged_model,
            ["POST"],
            Policy.edit(EXPERIMENT_BY_ID),
        ),
        (
            "/logged-models/search",
            search_logged_models,
            ["POST"],
            Policy.read(EXPERIMENTS_BY_IDS),
        ),
        (base, get_logged_model, ["GET"], read),
        (base, finalize_logged_model, ["PATCH"], edit),
        (base, delete_logged_model, ["DELETE"], Policy.manage(EXPERIMENT_OF_MODEL)),
        (f"{base}/tags", set_logged_model_tags, ["PATCH"], edit),
        (f"{base}/tags/{{tag_key:path}}", delete_logged_model_tag, ["DELETE"], edit),
        (f"{base}/params", log_logged_model_params, ["POST"], edit),
        (
            f"{base}/artifacts/directories",
            list_logged_model_artifacts,
            ["GET"],
            read,
        ),
        ("/runs/outputs", log_outputs, ["POST"], Policy.edit(EXPERIMENT_OF_RUN)),
    ]
    result: list[BaseRoute] = []
    for path, handler, methods, policy in table:
        result += api_routes(path, handler, methods=methods, policy=policy)
    return result
