"""The storage protocol of the model registry, ``RegistryStore``, beside ``Store``.

``SqlStore`` implements both protocols on one database; a remote store implements
this one over MLflow's ``registered-models`` and ``model-versions`` REST routes.
Implementations raise only ``mltrail`` errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from mltrail._entities import PagedList
from mltrail._registry_entities import AliasChange, ModelVersion, RegisteredModel

__all__ = ["RegistryStore"]


class RegistryStore(Protocol):
    """Persistence of registered models, their versions, tags and aliases.

    Names are unique and cannot contain ``/`` or ``:``; versions are numbered from 1
    per model and a deleted version's number is never reused. Every alias move
    (set, moved or deleted) is recorded with the user who made it. Times are
    milliseconds since the epoch.
    """

    def create_registered_model(
        self,
        name: str,
        *,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """Create a model; a taken name is a ConflictError."""
        ...

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return the model with its latest versions, tags and aliases."""
        ...

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model; its versions, aliases and history follow it."""
        ...

    def update_registered_model(
        self, name: str, *, description: str | None
    ) -> RegisteredModel:
        """Replace the model's description."""
        ...

    def delete_registered_model(self, name: str) -> None:
        """Delete a model with its versions, tags, aliases and alias history."""
        ...

    def search_registered_models(
        self,
        *,
        filter_string: str = "",
        max_results: int = 100,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Return models matching the filter, ordered (then by name) and paged."""
        ...

    def get_latest_versions(
        self, name: str, stages: Sequence[str] = ()
    ) -> list[ModelVersion]:
        """Return the newest version in each stage (all stages when none given)."""
        ...

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a tag of a model, replacing its value if it exists."""
        ...

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag from a model; nothing happens if it has no such tag."""
        ...

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
        """Create the next version of a model, READY at once."""
        ...

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Return one version; NotFoundError if it does not exist or was deleted."""
        ...

    def update_model_version(
        self, name: str, version: int | str, *, description: str | None
    ) -> ModelVersion:
        """Replace the version's description."""
        ...

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        *,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        """Move a version to a stage, optionally archiving the others in that stage."""
        ...

    def delete_model_version(
        self, name: str, version: int | str, *, user_id: str = ""
    ) -> None:
        """Delete a version: its aliases go, its number stays taken."""
        ...

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Return where the version's files are: its source, resolved once."""
        ...

    def search_model_versions(
        self,
        *,
        filter_string: str = "",
        max_results: int = 10_000,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Return versions matching the filter, ordered and paged."""
        ...

    def set_model_version_tag(
        self, name: str, version: int | str, key: str, value: str
    ) -> None:
        """Set a tag of a version, replacing its value if it exists."""
        ...

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove a tag from a version; nothing happens if it has no such tag."""
        ...

    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str, *, user_id: str = ""
    ) -> None:
        """Point an alias at a version and record the move."""
        ...

    def delete_registered_model_alias(
        self, name: str, alias: str, *, user_id: str = ""
    ) -> None:
        """Remove an alias and record it; nothing happens if it does not exist."""
        ...

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version an alias points at (``latest``: the newest version)."""
        ...

    def get_alias_history(
        self, name: str, alias: str | None = None
    ) -> list[AliasChange]:
        """Return every move of the model's aliases (or of one alias), oldest first."""
        ...
