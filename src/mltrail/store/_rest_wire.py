"""mltrail's entities in MLflow's JSON wire format, both ways.

The server writes these dicts; ``RestStore`` reads them back. Field names are the
proto names of ``mlflow/protos/service.proto``; int64 values are JSON numbers; fields
without a value are left out; non-finite doubles are the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` (proto JSON).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from mltrail._entities import (
    Dataset,
    DatasetInput,
    Experiment,
    FileInfo,
    InputTag,
    LoggedModel,
    LoggedModelMetric,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
)
from mltrail._errors import InvalidValueError

__all__ = [
    "dataset_input_from_json",
    "dataset_input_to_json",
    "experiment_from_json",
    "experiment_to_json",
    "file_info_from_json",
    "file_info_to_json",
    "key_values",
    "logged_model_from_json",
    "logged_model_to_json",
    "metric_from_json",
    "metric_to_json",
    "model_metric_from_json",
    "model_metric_to_json",
    "model_status_from_json",
    "model_status_to_json",
    "number_from_json",
    "number_to_json",
    "run_from_json",
    "run_info_from_json",
    "run_info_to_json",
    "run_to_json",
]

Json = dict[str, Any]
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def number_to_json(value: float) -> float | str:
    """Return a double as proto JSON writes it: non-finite values as strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def number_from_json(value: object) -> float:
    """Return the float of a proto JSON double (a number or one of its strings)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        if value in _NON_FINITE:
            return _NON_FINITE[value]
        return float(value)
    raise InvalidValueError("number", value, "a JSON number or 'NaN'/'Infinity'")


def key_values(items: Mapping[str, str]) -> list[Json]:
    """Return ``[{"key": k, "value": v}, ...]`` for a dict of tags or params."""
    return [{"key": key, "value": value} for key, value in items.items()]


def _pairs(items: object) -> dict[str, str]:
    if not items:
        return {}
    return {str(item["key"]): str(item.get("value", "")) for item in items}  # type: ignore[attr-defined]  # a list of {key, value} objects


def experiment_to_json(experiment: Experiment) -> Json:
    """Return an ``Experiment`` message."""
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "last_update_time": experiment.last_update_time,
        "creation_time": experiment.creation_time,
        "tags": key_values(experiment.tags),
    }


def experiment_from_json(data: Mapping[str, Any]) -> Experiment:
    """Return the ``Experiment`` of an ``Experiment`` message."""
    return Experiment(
        experiment_id=str(data["experiment_id"]),
        name=str(data.get("name", "")),
        artifact_location=str(data.get("artifact_location", "")),
        lifecycle_stage=str(data.get("lifecycle_stage", "active")),
        creation_time=int(data.get("creation_time") or 0),
        last_update_time=int(data.get("last_update_time") or 0),
        tags=_pairs(data.get("tags")),
    )


def run_info_to_json(info: RunInfo) -> Json:
    """Return a ``RunInfo`` message (``run_uuid`` repeats ``run_id``, as MLflow's)."""
    result: Json = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "start_time": info.start_time,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": info.lifecycle_stage,
    }
    if info.end_time is not None:
        result["end_time"] = info.end_time
    return result


def run_info_from_json(data: Mapping[str, Any]) -> RunInfo:
    """Return the ``RunInfo`` of a ``RunInfo`` message."""
    end_time = data.get("end_time")
    return RunInfo(
        run_id=str(data.get("run_id") or data["run_uuid"]),
        run_name=str(data.get("run_name", "")),
        experiment_id=str(data.get("experiment_id", "")),
        user_id=str(data.get("user_id", "")),
        status=str(data.get("status", "RUNNING")),
        start_time=int(data.get("start_time") or 0),
        end_time=None if end_time is None else int(end_time),
        artifact_uri=str(data.get("artifact_uri", "")),
        lifecycle_stage=str(data.get("lifecycle_stage", "active")),
    )


def metric_to_json(metric: Metric) -> Json:
    """Return a ``Metric`` message."""
    return {
        "key": metric.key,
        "value": number_to_json(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }


def metric_from_json(data: Mapping[str, Any]) -> Metric:
    """Return the ``Metric`` of a ``Metric`` message."""
    return Metric(
        key=str(data["key"]),
        value=number_from_json(data.get("value", 0.0)),
        timestamp=int(data.get("timestamp") or 0),
        step=int(data.get("step") or 0),
    )


def dataset_input_to_json(item: DatasetInput) -> Json:
    """Return a ``DatasetInput`` message."""
    dataset: Json = {
        "name": item.dataset.name,
        "digest": item.dataset.digest,
        "source_type": item.dataset.source_type,
        "source": item.dataset.source,
    }
    if item.dataset.schema is not None:
        dataset["schema"] = item.dataset.schema
    if item.dataset.profile is not None:
        dataset["profile"] = item.dataset.profile
    return {
        "tags": [{"key": tag.key, "value": tag.value} for tag in item.tags],
        "dataset": dataset,
    }


def dataset_input_from_json(data: Mapping[str, Any]) -> DatasetInput:
    """Return the ``DatasetInput`` of a ``DatasetInput`` message."""
    dataset = data.get("dataset")
    if not isinstance(dataset, Mapping):
        raise InvalidValueError(
            "dataset input", data, "an object with a 'dataset' object"
        )
    return DatasetInput(
        Dataset(
            name=str(dataset.get("name", "")),
            digest=str(dataset.get("digest", "")),
            source_type=str(dataset.get("source_type", "")),
            source=str(dataset.get("source", "")),
            schema=dataset.get("schema"),
            profile=dataset.get("profile"),
        ),
        [InputTag(key, value) for key, value in _pairs(data.get("tags")).items()],
    )


def run_to_json(run: Run, *, extra: Mapping[str, Any] | None = None) -> Json:
    """Return a ``Run`` message: info, data (latest metrics, params, tags), inputs.

    The latest metrics carry their value only (mltrail's ``RunData`` keeps no step
    or timestamp for them): step 0 and timestamp 0. ``extra`` adds members, such as
    ``outputs``.
    """
    result: Json = {
        "info": run_info_to_json(run.info),
        "data": {
            "metrics": [
                {"key": key, "value": number_to_json(value), "timestamp": 0, "step": 0}
                for key, value in run.data.metrics.items()
            ],
            "params": key_values(run.data.params),
            "tags": key_values(run.data.tags),
        },
        "inputs": {
            "dataset_inputs": [
                dataset_input_to_json(item) for item in run.inputs.dataset_inputs
            ]
        },
    }
    if extra:
        result.update(extra)
    return result


def run_from_json(data: Mapping[str, Any]) -> Run:
    """Return the ``Run`` of a ``Run`` message."""
    body = data.get("data") or {}
    inputs = data.get("inputs") or {}
    return Run(
        run_info_from_json(data["info"]),
        RunData(
            metrics={
                str(item["key"]): number_from_json(item.get("value", 0.0))
                for item in body.get("metrics") or ()
            },
            params=_pairs(body.get("params")),
            tags=_pairs(body.get("tags")),
        ),
        RunInputs(
            [
                dataset_input_from_json(item)
                for item in inputs.get("dataset_inputs") or ()
            ]
        ),
    )


def file_info_to_json(info: FileInfo) -> Json:
    """Return a ``FileInfo`` message; directories have no ``file_size``."""
    result: Json = {"path": info.path, "is_dir": info.is_dir}
    if info.file_size is not None:
        result["file_size"] = info.file_size
    return result


def file_info_from_json(data: Mapping[str, Any]) -> FileInfo:
    """Return the ``FileInfo`` of a ``FileInfo`` message."""
    size = data.get("file_size")
    return FileInfo(
        str(data["path"]),
        bool(data.get("is_dir", False)),
        None if size is None else int(size),
    )


def params_to_json(params: Iterable[Param]) -> list[Json]:
    """Return ``Param`` messages."""
    return [{"key": param.key, "value": param.value} for param in params]


def tags_to_json(tags: Iterable[RunTag]) -> list[Json]:
    """Return ``RunTag`` messages."""
    return [{"key": tag.key, "value": tag.value} for tag in tags]


_STATUS_TO_JSON = {
    "PENDING": "LOGGED_MODEL_PENDING",
    "READY": "LOGGED_MODEL_READY",
    "FAILED": "LOGGED_MODEL_UPLOAD_FAILED",
}
_STATUS_FROM_JSON = {value: key for key, value in _STATUS_TO_JSON.items()}


def model_status_to_json(status: str) -> str:
    """Return the proto name of a logged model status (``LOGGED_MODEL_READY``)."""
    return _STATUS_TO_JSON.get(status, "LOGGED_MODEL_STATUS_UNSPECIFIED")


def model_status_from_json(value: object) -> str:
    """Return mltrail's status (``READY``) for a proto name or a plain name."""
    text = str(value)
    if text in _STATUS_FROM_JSON:
        return _STATUS_FROM_JSON[text]
    if text in _STATUS_TO_JSON:
        return text
    raise InvalidValueError(
        "status",
        value,
        "one of " + ", ".join(repr(name) for name in _STATUS_FROM_JSON),
        "Finalize with LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.",
    )


def model_metric_to_json(metric: LoggedModelMetric, model_id: str) -> Json:
    """Return a ``Metric`` message of a logged model, with its run and dataset."""
    result = {
        "key": metric.key,
        "value": number_to_json(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
        "model_id": model_id,
    }
    for name in ("run_id", "dataset_name", "dataset_digest"):
        value = getattr(metric, name)
        if value is not None:
            result[name] = value
    return result


def model_metric_from_json(data: Mapping[str, Any]) -> LoggedModelMetric:
    """Return the ``LoggedModelMetric`` of a ``Metric`` message."""
    return LoggedModelMetric(
        key=str(data["key"]),
        value=number_from_json(data.get("value", 0.0)),
        timestamp=int(data.get("timestamp") or 0),
        step=int(data.get("step") or 0),
        run_id=data.get("run_id") or None,
        dataset_name=data.get("dataset_name") or None,
        dataset_digest=data.get("dataset_digest") or None,
    )


def logged_model_to_json(model: LoggedModel) -> Json:
    """Return a ``LoggedModel`` message: ``info`` and ``data``."""
    info: Json = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "artifact_uri": model.artifact_location,
        "status": model_status_to_json(model.status),
        "tags": key_values(model.tags),
    }
    for name in ("model_type", "source_run_id", "status_message"):
        value = getattr(model, name)
        if value is not None:
            info[name] = value
    return {
        "info": info,
        "data": {
            "params": key_values(model.params),
            "metrics": [
                model_metric_to_json(metric, model.model_id) for metric in model.metrics
            ],
        },
    }


def logged_model_from_json(data: Mapping[str, Any]) -> LoggedModel:
    """Return the ``LoggedModel`` of a ``LoggedModel`` message."""
    info = data["info"]
    body = data.get("data") or {}
    return LoggedModel(
        model_id=str(info["model_id"]),
        experiment_id=str(info.get("experiment_id", "")),
        name=str(info.get("name", "")),
        artifact_location=str(info.get("artifact_uri", "")),
        creation_timestamp=int(info.get("creation_timestamp_ms") or 0),
        last_updated_timestamp=int(info.get("last_updated_timestamp_ms") or 0),
        status=model_status_from_json(info.get("status", "LOGGED_MODEL_PENDING")),
        source_run_id=info.get("source_run_id") or None,
        model_type=info.get("model_type") or None,
        status_message=info.get("status_message") or None,
        tags=_pairs(info.get("tags")),
        params=_pairs(body.get("params")),
        metrics=[model_metric_from_json(item) for item in body.get("metrics") or ()],
    )
