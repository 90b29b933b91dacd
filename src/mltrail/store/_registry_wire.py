"""The registry's entities in MLflow's JSON wire format, both ways.

Field names are those of ``mlflow/protos/model_registry.proto``: ``version`` is a
string on the wire (an int in mltrail), timestamps are JSON numbers, and fields
without a value are left out. ``signature`` on a model version is mltrail's own
field; MLflow's clients ignore it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail._registry_entities import AliasChange, ModelVersion, RegisteredModel

__all__ = [
    "alias_change_from_json",
    "alias_change_to_json",
    "model_version_from_json",
    "model_version_to_json",
    "registered_model_from_json",
    "registered_model_to_json",
]

Json = dict[str, Any]


def _pairs(items: object) -> dict[str, str]:
    if not isinstance(items, list):
        return {}
    return {
        str(item["key"]): str(item.get("value", ""))
        for item in items
        if isinstance(item, Mapping) and "key" in item
    }


def model_version_to_json(version: ModelVersion) -> Json:
    """Return a ``ModelVersion`` message."""
    result: Json = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp,
        "current_stage": version.current_stage,
        "source": version.source,
        "run_id": version.run_id,
        "run_link": version.run_link,
        "status": version.status,
        "tags": [{"key": k, "value": v} for k, v in version.tags.items()],
        "aliases": list(version.aliases),
    }
    if version.description:
        result["description"] = version.description
    if version.user_id:
        result["user_id"] = version.user_id
    if version.status_message:
        result["status_message"] = version.status_message
    if version.model_id:
        result["model_id"] = version.model_id
    if version.signature is not None:
        result["signature"] = dict(version.signature)
    return result


def model_version_from_json(data: Mapping[str, Any]) -> ModelVersion:
    """Return the ``ModelVersion`` of a ``ModelVersion`` message."""
    signature = data.get("signature")
    return ModelVersion(
        name=str(data["name"]),
        version=int(data["version"]),
        creation_timestamp=int(data.get("creation_timestamp") or 0),
        last_updated_timestamp=int(data.get("last_updated_timestamp") or 0),
        description=str(data.get("description") or ""),
        user_id=str(data.get("user_id") or ""),
        current_stage=str(data.get("current_stage") or "None"),
        source=str(data.get("source") or ""),
        run_id=str(data.get("run_id") or ""),
        status=str(data.get("status") or "READY"),
        status_message=str(data.get("status_message") or ""),
        tags=_pairs(data.get("tags")),
        run_link=str(data.get("run_link") or ""),
        aliases=[str(alias) for alias in data.get("aliases") or []],
        signature={str(k): str(v) for k, v in signature.items()}
        if isinstance(signature, Mapping)
        else None,
        model_id=str(data["model_id"]) if data.get("model_id") else None,
    )


def registered_model_to_json(model: RegisteredModel) -> Json:
    """Return a ``RegisteredModel`` message."""
    result: Json = {
        "name": model.name,
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
        "latest_versions": [model_version_to_json(v) for v in model.latest_versions],
        "tags": [{"key": k, "value": v} for k, v in model.tags.items()],
        "aliases": [
            {"alias": alias, "version": str(version)}
            for alias, version in model.aliases.items()
        ],
    }
    if model.description:
        result["description"] = model.description
    return result


def registered_model_from_json(data: Mapping[str, Any]) -> RegisteredModel:
    """Return the ``RegisteredModel`` of a ``RegisteredModel`` message."""
    aliases = data.get("aliases") or []
    return RegisteredModel(
        name=str(data["name"]),
        creation_timestamp=int(data.get("creation_timestamp") or 0),
        last_updated_timestamp=int(data.get("last_updated_timestamp") or 0),
        description=str(data.get("description") or ""),
        latest_versions=[
            model_version_from_json(v) for v in data.get("latest_versions") or []
        ],
        tags=_pairs(data.get("tags")),
        aliases={str(a["alias"]): int(a["version"]) for a in aliases},
    )


def alias_change_to_json(change: AliasChange) -> Json:
    """Return one entry of mltrail's alias history (versions as strings)."""
    result: Json = {
        "name": change.name,
        "alias": change.alias,
        "user_id": change.user_id,
        "timestamp": change.timestamp,
    }
    if change.version is not None:
        result["version"] = str(change.version)
    if change.previous_version is not None:
        result["previous_version"] = str(change.previous_version)
    return result


def alias_change_from_json(data: Mapping[str, Any]) -> AliasChange:
    """Return the ``AliasChange`` of an alias history entry."""
    version = data.get("version")
    previous = data.get("previous_version")
    return AliasChange(
        name=str(data["name"]),
        alias=str(data["alias"]),
        version=None if version is None else int(version),
        previous_version=None if previous is None else int(previous),
        user_id=str(data.get("user_id") or ""),
        timestamp=int(data.get("timestamp") or 0),
    )
