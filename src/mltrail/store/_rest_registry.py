"""The ``RegistryStore`` protocol over MLflow's registry REST routes (``RestStore``).

Each method is one call of ``/api/2.0/mlflow/registered-models/...`` or
``/model-versions/...`` (the alias history: ``/api/2.0/mltrail/...``), so the same
client code registers models in a local database or on a tracking server, mltrail's
or MLflow's. Registry writes are not spooled: a registration must answer at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mltrail._entities import PagedList
from mltrail._errors import NotFoundError
from mltrail._registry_entities import AliasChange, ModelVersion, RegisteredModel
from mltrail.store._registry_wire import (
    alias_change_from_json,
    model_version_from_json,
    registered_model_from_json,
)

__all__ = ["RestRegistryMixin"]

MLFLOW_API = "/api/2.0/mlflow"
MLTRAIL_API = "/api/2.0/mltrail"
MODELS = "/registered-models"
VERSIONS = "/model-versions"


def _tags(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in (tags or {}).items()]


def _version_key(name: str, version: int | str) -> dict[str, str]:
    return {"name": name, "version": str(version)}


class RestRegistryMixin:
    """The registry methods of ``RestStore``; they need its ``_call``."""

    def _call(
        self,
        method: str,
        path: str,
        fields: Mapping[str, Any] | None = None,
        *,
        idempotent: bool = True,
        base: str = MLFLOW_API,
    ) -> dict[str, Any]:
        raise NotImplementedError  # RestStore's transport

    def create_registered_model(
        self,
        name: str,
        *,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """Create a model; a taken name is a ConflictError."""
        fields: dict[str, Any] = {"name": name, "tags": _tags(tags)}
        if description is not None:
            fields["description"] = description
        body = self._call("POST", f"{MODELS}/create", fields, idempotent=False)
        return registered_model_from_json(body["registered_model"])

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a model with its latest versions, tags and aliases."""
        body = self._call("GET", f"{MODELS}/get", {"name": name})
        return registered_model_from_json(body["registered_model"])

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model."""
        body = self._call(
            "POST", f"{MODELS}/rename", {"name": name, "new_name": new_name}
        )
        return registered_model_from_json(body["registered_model"])

    def update_registered_model(
        self, name: str, *, description: str | None
    ) -> RegisteredModel:
        """Replace the model's description."""
        body = self._call(
            "PATCH", f"{MODELS}/update", {"name": name, "description": description}
        )
        return registered_model_from_json(body["registered_model"])

    def delete_registered_model(self, name: str) -> None:
        """Delete a model and everything it owns."""
        self._call("DELETE", f"{MODELS}/delete", {"name": name})

    def search_registered_models(
        self,
        *,
        filter_string: str = "",
        max_results: int = 100,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Return one page of models."""
        body = self._search(
            f"{MODELS}/search", filter_string, max_results, order_by, page_token
        )
        return PagedList(
            [registered_model_from_json(m) for m in body.get("registered_models", [])],
            body.get("next_page_token") or None,
        )

    def _search(
        self,
        route: str,
        filter_string: str,
        max_results: int,
        order_by: Sequence[str],
        page_token: str | None,
    ) -> dict[str, Any]:
        """Ask ``route`` for one page of a search; the body as the server sent it."""
        fields: dict[str, Any] = {
            "filter": filter_string,
            "max_results": max_results,
            "order_by": list(order_by),
        }
        if page_token:
            fields["page_token"] = page_token
        return self._call("GET", route, fields)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] = ()
    ) -> list[ModelVersion]:
        """Return the newest version in each stage."""
        body = self._call(
            "POST",
            f"{MODELS}/get-latest-versions",
            {
                "name": name,
                "stages": [stages] if isinstance(stages, str) else list(stages),
            },
        )
        return [model_version_from_json(v) for v in body.get("model_versions", [])]

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a tag of a model."""
        self._call(
            "POST", f"{MODELS}/set-tag", {"name": name, "key": key, "value": value}
        )

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag from a model."""
        self._call("DELETE", f"{MODELS}/delete-tag", {"name": name, "key": key})

    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        user_id: str | None = None,
        signature: Mapping[str, str] | None = None,
        storage_location: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Create the next version; the server checks the source, copies the signature.

        ``user_id``, ``signature`` and ``storage_location`` are the server's to find:
        it records the signed-in user and reads the model itself.
        """
        del user_id, signature, storage_location
        fields: dict[str, Any] = {"name": name, "source": source, "tags": _tags(tags)}
        for key, value in (
            ("run_id", run_id),
            ("run_link", run_link),
            ("description", description),
            ("model_id", model_id),
        ):
            if value is not None:
                fields[key] = value
        body = self._call("POST", f"{VERSIONS}/create", fields, idempotent=False)
        return model_version_from_json(body["model_version"])

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Return one version."""
        body = self._call("GET", f"{VERSIONS}/get", _version_key(name, version))
        return model_version_from_json(body["model_version"])

    def update_model_version(
        self, name: str, version: int | str, *, description: str | None
    ) -> ModelVersion:
        """Replace the version's description."""
        fields = {**_version_key(name, version), "description": description}
        body = self._call("PATCH", f"{VERSIONS}/update", fields)
        return model_version_from_json(body["model_version"])

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        *,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        """Move a version to a stage."""
        fields = {
            **_version_key(name, version),
            "stage": stage,
            "archive_existing_versions": archive_existing_versions,
        }
        body = self._call("POST", f"{VERSIONS}/transition-stage", fields)
        return model_version_from_json(body["model_version"])

    def delete_model_version(
        self, name: str, version: int | str, *, user_id: str = ""
    ) -> None:
        """Delete a version (the server records who removed its aliases)."""
        del user_id
        self._call("DELETE", f"{VERSIONS}/delete", _version_key(name, version))

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Return where the version's files are."""
        body = self._call(
            "GET", f"{VERSIONS}/get-download-uri", _version_key(name, version)
        )
        return str(body["artifact_uri"])

    def search_model_versions(
        self,
        *,
        filter_string: str = "",
        max_results: int = 10_000,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Return one page of versions."""
        body = self._search(
            f"{VERSIONS}/search", filter_string, max_results, order_by, page_token
        )
        return PagedList(
            [model_version_from_json(v) for v in body.get("model_versions", [])],
            body.get("next_page_token") or None,
        )

    def set_model_version_tag(
        self, name: str, version: int | str, key: str, value: str
    ) -> None:
        """Set a tag of a version."""
        fields = {**_version_key(name, version), "key": key, "value": value}
        self._call("POST", f"{VERSIONS}/set-tag", fields)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove a tag from a version."""
        fields = {**_version_key(name, version), "key": key}
        self._call("DELETE", f"{VERSIONS}/delete-tag", fields)

    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str, *, user_id: str = ""
    ) -> None:
        """Point an alias at a version (the server records the signed-in user)."""
        del user_id
        fields = {**_version_key(name, version), "alias": alias}
        self._call("POST", f"{MODELS}/alias", fields)

    def delete_registered_model_alias(
        self, name: str, alias: str, *, user_id: str = ""
    ) -> None:
        """Remove an alias."""
        del user_id
        self._call("DELETE", f"{MODELS}/alias", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version an alias points at."""
        body = self._call("GET", f"{MODELS}/alias", {"name": name, "alias": alias})
        return model_version_from_json(body["model_version"])

    def get_alias_history(
        self, name: str, alias: str | None = None
    ) -> list[AliasChange]:
        """Return every move of the model's aliases (mltrail servers only)."""
        fields: dict[str, Any] = {"name": name}
        if alias is not None:
            fields["alias"] = alias
        try:
            body = self._call(
                "GET", f"{MODELS}/alias-history", fields, base=MLTRAIL_API
            )
        except NotFoundError as exc:
            if "alias-history" in str(exc) or "No route" in str(exc):
                raise NotFoundError(
                    "alias history",
                    name,
                    "The server is not an mltrail server: MLflow keeps no history.",
                ) from exc
            raise
        return [alias_change_from_json(c) for c in body.get("alias_history", [])]
