"""MLflow's run routes: create, get, update, search, delete, restore, log and read.

Writes of one request are one store call, so a rejected batch writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.routing import BaseRoute

from mltrail._entities import (
    LifecycleStage,
    LoggedModelMetric,
    Metric,
    Param,
    RunStatus,
    RunTag,
)
from mltrail._system_tags import RUN_NAME_TAG, USER_TAG
from mltrail.server._context import ServerContext
from mltrail.server._experiments import tags_of, view_type
from mltrail.server._messages import (
    API_PREFIXES,
    Call,
    Handler,
    Message,
    api_routes,
    invalid,
    missing,
    to_number,
)
from mltrail.server._policy import Policy
from mltrail.server._resources import (
    EXPERIMENT_BY_ID,
    EXPERIMENT_OF_RUN,
    EXPERIMENT_OF_RUNS,
    EXPERIMENTS_BY_IDS,
)
from mltrail.store._pages import decode_offset_token, encode_offset_token
from mltrail.store._rest_wire import (
    dataset_input_from_json,
    metric_to_json,
    run_info_to_json,
    run_to_json,
)

__all__ = ["metric_of", "model_metrics_of", "routes", "run_models_json"]

MAX_BATCH_ITEMS = 200_000
DEFAULT_HISTORY_INTERVAL_POINTS = 320
MAX_HISTORY_INTERVAL_POINTS = 1000


def _now_ms() -> int:
    import time

    return time.time_ns() // 1_000_000


def metric_of(item: Mapping[str, Any], name: str = "metrics") -> Metric:
    """Return the ``Metric`` of one JSON metric (``step`` defaults to 0)."""
    key = item.get("key")
    value = item.get("value")
    timestamp = item.get("timestamp")
    step = item.get("step", 0)
    # The common form (a float and two ints, as json reads them) needs no checks.
    if (
        type(value) is float
        and type(timestamp) is int
        and type(step) is int
        and type(key) is str
        and key
    ):
        return Metric(key, value, timestamp, step)
    if not isinstance(key, str) or not key:
        raise invalid(f"{name}.key", key, "a non-empty string")
    if value is None:
        raise missing(f"{name}.value")
    if isinstance(timestamp, str) and timestamp.lstrip("-").isdigit():
        timestamp = int(timestamp)
    if isinstance(step, str) and step.lstrip("-").isdigit():
        step = int(step)
    if timestamp is None:
        raise missing(f"{name}.timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise invalid(f"{name}.timestamp", timestamp, "an integer")
    if isinstance(step, bool) or not isinstance(step, int):
        raise invalid(f"{name}.step", step, "an integer")
    return Metric(key, to_number(f"{name}.value", value), timestamp, step)


def _params_of(message: Message) -> list[Param]:
    params = []
    for item in message.objects("params"):
        key, value = item.get("key"), item.get("value")
        if not isinstance(key, str) or value is None:
            raise invalid("params", item, "objects with a string 'key' and a 'value'")
        params.append(Param(key, str(value)))
    return params


def model_metrics_of(
    items: Sequence[Mapping[str, Any]], run_id: str
) -> dict[str, list[LoggedModelMetric]]:
    """Return the points of JSON metrics that name a ``model_id``, per model."""
    result: dict[str, list[LoggedModelMetric]] = {}
    for item in items:
        model_id = item.get("model_id")
        if not model_id:
            continue
        metric = metric_of(item)
        result.setdefault(str(model_id), []).append(
            LoggedModelMetric(
                metric.key,
                metric.value,
                metric.timestamp,
                metric.step,
                run_id,
                item.get("dataset_name") or None,
                item.get("dataset_digest") or None,
            )
        )
    return result


def check_models_exist(call: Call, model_ids: Sequence[str]) -> None:
    """Raise NotFoundError before any write if a named model does not exist."""
    for model_id in model_ids:
        call.services.store.get_logged_model(model_id)


def log_model_metrics(
    call: Call, points: Mapping[str, list[LoggedModelMetric]]
) -> None:
    """Record the points on their models."""
    for model_id, metrics in points.items():
        call.services.store.log_logged_model_metrics(model_id, metrics)


def run_models_json(services: ServerContext, run_id: str) -> dict[str, Any]:
    """Return a run's ``outputs`` and ``model_inputs`` in MLflow's JSON."""
    inputs, outputs = services.store.get_run_models(run_id)
    return {
        "model_inputs": [{"model_id": model_id} for model_id in inputs],
        "outputs": {
            "model_outputs": [
                {"model_id": model_id, "step": step} for model_id, step in outputs
            ]
        },
    }


def create_run(call: Call) -> dict[str, object]:
    from mltrail.tracking._context import generate_run_name

    message = call.message
    experiment_id = message.required_text("experiment_id")
    tags = tags_of(message)
    tag_values = {tag.key: tag.value for tag in tags}
    run_name = message.text("run_name") or tag_values.get(RUN_NAME_TAG)
    run_name = run_name or generate_run_name()
    tags = [tag for tag in tags if tag.key != RUN_NAME_TAG]
    tags.append(RunTag(RUN_NAME_TAG, run_name))
    user_id = (
        message.text("user_id")
        or tag_values.get(USER_TAG)
        or (call.user.username if call.services.authenticator else "")
    )
    start_time = message.integer("start_time")
    run = call.services.store.create_run(
        experiment_id,
        user_id=user_id,
        start_time=_now_ms() if start_time is None else start_time,
        run_name=run_name,
        tags=tags,
        # mltrail's client sends the first heartbeat with the run (server-info
        # names this in mltrail_features); MLflow's sends none.
        heartbeat_time=message.integer("heartbeat_time"),
    )
    return {"run": run_to_json(run)}


def get_run(call: Call) -> dict[str, object]:
    run_id = call.message.run_id()
    run = call.services.store.get_run(run_id)
    models = run_models_json(call.services, run_id)
    body = run_to_json(run, extra={"outputs": models["outputs"]})
    body["inputs"]["model_inputs"] = models["model_inputs"]
    return {"run": body}


def update_run(call: Call) -> dict[str, object]:
    message = call.message
    status = message.text("status")
    if status is not None and status not in RunStatus.__members__:
        raise invalid("status", status, "one of " + ", ".join(RunStatus.__members__))
    run_id = message.run_id()
    # mltrail's client sends a run's last buffered points with its end, written in
    # the same transaction (server-info names this in mltrail_features).
    metrics = [metric_of(item) for item in message.objects("metrics")]
    info = call.services.store.update_run_info(
        run_id,
        status=status,
        end_time=message.integer("end_time"),
        run_name=message.text("run_name") or None,
        metric_batches=[(run_id, metrics)] if metrics else (),
    )
    return {"run_info": run_info_to_json(info)}


def delete_run(call: Call) -> dict[str, object]:
    call.services.store.update_run_info(
        call.message.run_id(), lifecycle_stage=LifecycleStage.DELETED.value
    )
    return {}


def restore_run(call: Call) -> dict[str, object]:
    call.services.store.update_run_info(
        call.message.run_id(), lifecycle_stage=LifecycleStage.ACTIVE.value
    )
    return {}


def search_runs(call: Call) -> dict[str, object]:
    message = call.message
    page = call.services.store.search_runs(
        message.texts("experiment_ids"),
        filter_string=message.text("filter") or "",
        view_type=view_type(message, "run_view_type"),
        max_results=message.integer("max_results") or 1000,
        order_by=message.texts("order_by"),
        page_token=message.text("page_token") or None,
    )
    result: dict[str, object] = {"runs": [run_to_json(run) for run in page]}
    if page.token:
        result["next_page_token"] = page.token
    return result


def log_metric(call: Call) -> dict[str, object]:
    message = call.message
    run_id = message.run_id()
    metric = metric_of(message.fields, "metric")
    points = model_metrics_of([message.fields], run_id)
    check_models_exist(call, list(points))
    call.services.store.log_batch(run_id, metrics=[metric])
    log_model_metrics(call, points)
    return {}


def log_param(call: Call) -> dict[str, object]:
    message = call.message
    key = message.required_text("key")
    value = message.text("value", required=True)
    call.services.store.log_batch(message.run_id(), params=[Param(key, value or "")])
    return {}


def set_tag(call: Call) -> dict[str, object]:
    message = call.message
    run_id = message.run_id()
    tag = RunTag(
        message.required_text("key"), message.text("value", required=True) or ""
    )
    call.services.store.log_batch(run_id, tags=[tag])
    return {}


def delete_tag(call: Call) -> dict[str, object]:
    message = call.message
    call.services.store.delete_tag(message.run_id(), message.required_text("key"))
    return {}


def log_batch(call: Call) -> dict[str, object]:
    message = call.message
    run_id = message.run_id()
    items = message.objects("metrics")
    metrics = [metric_of(item) for item in items]
    points = model_metrics_of(items, run_id)
    params = _params_of(message)
    tags = tags_of(message)
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_BATCH_ITEMS:
        raise invalid(
            "log-batch",
            f"{total} items",
            f"at most {MAX_BATCH_ITEMS:,} metrics, params and tags in one request",
        )
    if total:
        check_models_exist(call, list(points))
        call.services.store.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        log_model_metrics(call, points)
    return {}


def log_inputs(call: Call) -> dict[str, object]:
    message = call.message
    run_id = message.run_id()
    datasets = [dataset_input_from_json(item) for item in message.objects("datasets")]
    model_ids = []
    for item in message.objects("models"):
        model_id = item.get("model_id")
        if not isinstance(model_id, str) or not model_id:
            raise invalid("models.model_id", model_id, "a model id")
        model_ids.append(model_id)
    check_models_exist(call, model_ids)
    if datasets:
        call.services.store.log_inputs(run_id, datasets)
    if model_ids:
        call.services.store.log_model_inputs(run_id, model_ids)
    return {}


def get_metric_history(call: Call) -> dict[str, object]:
    message = call.message
    run_id = message.run_id()
    key = message.required_text("metric_key")
    history = call.services.store.get_metric_history(run_id, key)
    max_results = message.integer("max_results")
    offset = decode_offset_token(message.text("page_token") or None)
    end = len(history) if not max_results else offset + max_results
    result: dict[str, object] = {
        "metrics": [metric_to_json(metric) for metric in history[offset:end]]
    }
    if end < len(history):
        result["next_page_token"] = encode_offset_token(end)
    return result


def _sample(points: list[Metric], count: int) -> list[Metric]:
    """Keep ``count`` points spread evenly over the steps, first and last included."""
    if len(points) <= count:
        return points
    if count == 1:
        return points[-1:]
    last = len(points) - 1
    indexes = sorted({round(i * last / (count - 1)) for i in range(count)})
    return [points[i] for i in indexes]


def get_metric_history_bulk_interval(call: Call) -> dict[str, object]:
    message = call.message
    run_ids = message.texts("run_ids")
    if not run_ids:
        raise missing("run_ids")
    key = message.required_text("metric_key")
    start_step = message.integer("start_step")
    end_step = message.integer("end_step")
    count = message.integer("max_results")
    if count is None:
        count = DEFAULT_HISTORY_INTERVAL_POINTS
    if not 1 <= count <= MAX_HISTORY_INTERVAL_POINTS:
        raise invalid(
            "max_results", count, f"between 1 and {MAX_HISTORY_INTERVAL_POINTS}"
        )
    result = []
    for run_id in run_ids:
        points = [
            metric
            for metric in call.services.store.get_metric_history(run_id, key)
            if (start_step is None or metric.step >= start_step)
            and (end_step is None or metric.step <= end_step)
        ]
        for metric in _sample(points, count):
            result.append({**metric_to_json(metric), "run_id": run_id})
    return {"metrics": result}


def touch_heartbeat(call: Call) -> dict[str, object]:
    message = call.message
    run_ids = message.texts("run_ids")
    time = message.integer("time", required=True)
    if run_ids and time is not None:
        call.services.store.touch_heartbeat(run_ids, time)
    return {}


def routes(context: ServerContext) -> list[BaseRoute]:
    """Return the run and metric routes, and mltrail's run heartbeat."""
    read = Policy.read(EXPERIMENT_OF_RUN)
    edit = Policy.edit(EXPERIMENT_OF_RUN)
    manage = Policy.manage(EXPERIMENT_OF_RUN)
    # Most called first: Starlette tries the routes in order.
    table: list[tuple[str, Handler, list[str], Policy]] = [
        ("/runs/log-metric", log_metric, ["POST"], edit),
        ("/runs/log-batch", log_batch, ["POST"], edit),
        ("/runs/create", create_run, ["POST"], Policy.edit(EXPERIMENT_BY_ID)),
        ("/runs/get", get_run, ["GET"], read),
        ("/runs/update", update_run, ["POST"], edit),
        ("/runs/log-inputs", log_inputs, ["POST"], edit),
        ("/runs/log-parameter", log_param, ["POST"], edit),
        ("/runs/set-tag", set_tag, ["POST"], edit),
        ("/runs/delete", delete_run, ["POST"], manage),
        ("/runs/restore", restore_run, ["POST"], manage),
        ("/runs/search", search_runs, ["POST"], Policy.read(EXPERIMENTS_BY_IDS)),
        ("/runs/delete-tag", delete_tag, ["POST"], edit),
        ("/metrics/get-history", get_metric_history, ["GET"], read),
        (
            "/metrics/get-history-bulk-interval",
            get_metric_history_bulk_interval,
            ["GET"],
            Policy.read(EXPERIMENT_OF_RUNS),
        ),
    ]
    result: list[BaseRoute] = []
    # Clients call /api; the UI's /ajax-api copies come after all of them.
    for prefix in API_PREFIXES:
        for path, handler, methods, policy in table:
            result += api_routes(
                path, handler, methods=methods, policy=policy, prefixes=[prefix]
            )
    result += api_routes(
        "/runs/heartbeat",
        touch_heartbeat,
        methods=["POST"],
        policy=Policy.edit(EXPERIMENT_OF_RUNS),
        namespace="mltrail",
    )
    return result
