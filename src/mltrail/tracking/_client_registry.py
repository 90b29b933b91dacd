"""``TrackingClient`` methods of the model registry, with ``MlflowClient``'s names.

Registered models, their versions, tags, stages (accepted for MLflow's clients) and
aliases, plus mltrail's alias history. Each method is one call of the store's
``RegistryStore`` protocol; who moved an alias is this process's user.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from mltrail._entities import PagedList
from mltrail._errors import ConflictError, InvalidValueError, NotFoundError, StoreError
from mltrail._registry_entities import (
    AliasChange,
    ModelVersion,
    ModelVersionStage,
    RegisteredModel,
)
from mltrail.tracking._client_base import ClientBase
from mltrail.tracking._context import get_user

if TYPE_CHECKING:
    from mltrail.store._registry_base import RegistryStore

__all__ = ["RegistryMixin"]


def _str_tags(tags: Mapping[str, object] | None) -> dict[str, str]:
    return {str(key): str(value) for key, value in (tags or {}).items()}


class RegistryMixin(ClientBase):
    """The model registry methods of ``TrackingClient``."""

    @property
    def _registry(self) -> RegistryStore:
        store = self._store
        if not hasattr(store, "create_registered_model"):
            raise StoreError(
                f"the store at {self._tracking_uri!r} has no model registry. "
                "Use a database or an mltrail server as the tracking URI."
            )
        # Every store with create_registered_model implements RegistryStore.
        return cast("RegistryStore", store)

    # Registered models.

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, object] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model, with no versions yet.

        Parameters
        ----------
        name : str
            A unique name; it cannot contain ``/`` or ``:``.
        tags : mapping or None, default=None
            The model's tags; values are converted with ``str``.
        description : str or None, default=None
            Free text.

        Returns
        -------
        RegisteredModel
            The new model.

        Raises
        ------
        ConflictError
            If a model already has this name.
        InvalidValueError
            If the name or a tag is invalid.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> client.create_registered_model("wine", tags={"team": "risk"}).name
        'wine'
        """
        return self._registry.create_registered_model(
            name, tags=_str_tags(tags), description=description
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a registered model with its latest versions, tags and aliases.

        Parameters
        ----------
        name : str
            The model's name.

        Returns
        -------
        RegisteredModel
            The model; ``latest_versions`` holds the newest version of each stage.

        Raises
        ------
        NotFoundError
            If no model has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("churn", description="monthly")
        >>> client.get_registered_model("churn").description
        'monthly'
        """
        return self._registry.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model; versions, aliases and their history follow.

        Parameters
        ----------
        name : str
            The current name.
        new_name : str
            A name no other model has.

        Returns
        -------
        RegisteredModel
            The renamed model.

        Raises
        ------
        NotFoundError
            If no model has ``name``.
        ConflictError
            If a model already has ``new_name``.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("draft")
        >>> client.rename_registered_model("draft", "fraud").name
        'fraud'
        """
        return self._registry.rename_registered_model(name, new_name)

    def update_registered_model(
        self, name: str, description: str | None = None
    ) -> RegisteredModel:
        """Replace the description of a registered model.

        Parameters
        ----------
        name : str
            The model's name.
        description : str or None, default=None
            The new description.

        Returns
        -------
        RegisteredModel
            The updated model.

        Raises
        ------
        NotFoundError
            If no model has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("flowers")
        >>> client.update_registered_model("flowers", "three species").description
        'three species'
        """
        return self._registry.update_registered_model(name, description=description)

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with its versions, tags, aliases and history.

        The model files themselves stay where they are (in their runs).

        Parameters
        ----------
        name : str
            The model's name.

        Raises
        ------
        NotFoundError
            If no model has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("old")
        >>> client.delete_registered_model("old")
        >>> client.search_registered_models("name = 'old'")
        []
        """
        self._registry.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Return one page of registered models.

        Parameters
        ----------
        filter_string : str or None, default=None
            MLflow's grammar on ``name`` and ``tags.<key>`` (also the two
            timestamps), such as ``"name LIKE 'wine%' AND tags.team = 'risk'"``.
        max_results : int, default=100
            At most 1,000 per page.
        order_by : list of str or None, default=None
            Such as ``["last_updated_timestamp DESC"]``; ties go by name.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        PagedList of RegisteredModel
            The page; its ``token`` fetches the next one.

        Raises
        ------
        InvalidValueError
            If the filter, ordering or page size is invalid.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> for name in ("wine-red", "wine-white", "beer"):
        ...     _ = client.create_registered_model(name)
        >>> [m.name for m in client.search_registered_models("name LIKE 'wine-%'")]
        ['wine-red', 'wine-white']
        """
        return self._registry.search_registered_models(
            filter_string=filter_string or "",
            max_results=max_results,
            order_by=order_by or (),
            page_token=page_token,
        )

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """Return the newest version in each stage (MLflow's stages, deprecated).

        Parameters
        ----------
        name : str
            The model's name.
        stages : list of str or None, default=None
            Stages such as ``["Production"]``; None for every stage.

        Returns
        -------
        list of ModelVersion
            At most one version per stage.

        Raises
        ------
        NotFoundError
            If no model has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("stages")
        >>> _ = client.create_model_version("stages", "runs:/" + "a" * 32 + "/model")
        >>> [v.version for v in client.get_latest_versions("stages", ["None"])]
        [1]
        """
        return self._registry.get_latest_versions(name, stages or ())

    def set_registered_model_tag(self, name: str, key: str, value: object) -> None:
        """Set a tag of a registered model.

        Parameters
        ----------
        name : str
            The model's name.
        key : str
            The tag's name.
        value : object
            Its value, converted with ``str``.

        Raises
        ------
        NotFoundError
            If no model has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("tagged")
        >>> client.set_registered_model_tag("tagged", "owner", "ada")
        >>> client.get_registered_model("tagged").tags
        {'owner': 'ada'}
        """
        self._registry.set_registered_model_tag(name, key, str(value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag from a registered model; a missing tag is not an error.

        Parameters
        ----------
        name : str
            The model's name.
        key : str
            The tag's name.

        Raises
        ------
        NotFoundError
            If no model has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("untag", tags={"a": "1"})
        >>> client.delete_registered_model_tag("untag", "a")
        >>> client.get_registered_model("untag").tags
        {}
        """
        self._registry.delete_registered_model_tag(name, key)

    # Model versions.

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, object] | None = None,
        run_link: str | None = None,
        description: str | None = None,
    ) -> ModelVersion:
        """Register ``source`` as the next version of a model, as given.

        ``mltrail.register_model`` does more: it creates the model when needed,
        checks that a model is at the URI and copies its signature.

        Parameters
        ----------
        name : str
            The registered model's name.
        source : str
            The model's URI, such as ``runs:/<run_id>/model``.
        run_id : str or None, default=None
            The run that produced it.
        tags : mapping or None, default=None
            The version's tags; values are converted with ``str``.
        run_link : str or None, default=None
            A link to the run.
        description : str or None, default=None
            Free text.

        Returns
        -------
        ModelVersion
            The new version, ``READY``.

        Raises
        ------
        NotFoundError
            If no model has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("versions")
        >>> client.create_model_version("versions", "/models/v1").version
        1
        """
        return self._registry.create_model_version(
            name,
            source,
            run_id=run_id,
            tags=_str_tags(tags),
            run_link=run_link,
            description=description,
            user_id=get_user(),
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Return one version of a registered model.

        Parameters
        ----------
        name : str
            The registered model's name.
        version : int or str
            The version number.

        Returns
        -------
        ModelVersion
            The version, with its tags and aliases.

        Raises
        ------
        NotFoundError
            If the model or the version does not exist (or was deleted).

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("getv")
        >>> _ = client.create_model_version("getv", "/models/getv")
        >>> client.get_model_version("getv", "1").source
        '/models/getv'
        """
        return self._registry.get_model_version(name, version)

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        """Replace the description of a model version.

        Parameters
        ----------
        name : str
            The registered model's name.
        version : int or str
            The version number.
        description : str or None, default=None
            The new description.

        Returns
        -------
        ModelVersion
            The updated version.

        Raises
        ------
        NotFoundError
            If the model or the version does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("desc")
        >>> _ = client.create_model_version("desc", "/models/desc")
        >>> client.update_model_version("desc", 1, "retrained").description
        'retrained'
        """
        return self._registry.update_model_version(
            name, version, description=description
        )

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        """Move a version to one of MLflow's stages (deprecated: prefer aliases).

        Parameters
        ----------
        name : str
            The registered model's name.
        version : int or str
            The version number.
        stage : str
            ``None``, ``Staging``, ``Production`` or ``Archived``, in any case.
        archive_existing_versions : bool, default=False
            Move the other versions in ``stage`` (Staging or Production only) to
            Archived.

        Returns
        -------
        ModelVersion
            The version in its new stage.

        Raises
        ------
        InvalidValueError
            If the stage is unknown.
        NotFoundError
            If the model or the version does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("staged")
        >>> _ = client.create_model_version("staged", "/models/s1")
        >>> version = client.transition_model_version_stage("staged", 1, "production")
        >>> version.current_stage
        'Production'
        """
        return self._registry.transition_model_version_stage(
            name,
            version,
            stage,
            archive_existing_versions=archive_existing_versions,
        )

    def get_model_version_stages(self, name: str, version: int | str) -> list[str]:
        """Return the stages a version can move to, as MLflow does.

        Parameters
        ----------
        name : str
            The registered model's name.
        version : int or str
            The version number.

        Returns
        -------
        list of str
            ``['None', 'Staging', 'Production', 'Archived']``.

        Raises
        ------
        NotFoundError
            If the model or the version does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("stage-list")
        >>> _ = client.create_model_version("stage-list", "/models/x")
        >>> client.get_model_version_stages("stage-list", 1)
        ['None', 'Staging', 'Production', 'Archived']
        """
        self._registry.get_model_version(name, version)
        return [stage.value for stage in ModelVersionStage]

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a version; aliases on it are removed and its number stays taken.

        Parameters
        ----------
        name : str
            The registered model's name.
        version : int or str
            The version number.

        Raises
        ------
        NotFoundError
            If the model or the version does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("pruned")
        >>> _ = client.create_model_version("pruned", "/models/p1")
        >>> client.delete_model_version("pruned", 1)
        >>> client.create_model_version("pruned", "/models/p2").version
        2
        """
        self._registry.delete_model_version(name, version, user_id=get_user())

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Return the URI of the version's files (its source).

        Parameters
        ----------
        name : str
            The registered model's name.
        version : int or str
            The version number.

        Returns
        -------
        str
            Such as ``runs:/<run_id>/model``.

        Raises
        ------
        NotFoundError
            If the model or the version does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("where")
        >>> _ = client.create_model_version("where", "/models/where")
        >>> client.get_model_version_download_uri("where", 1)
        '/models/where'
        """
        return self._registry.get_model_version_download_uri(name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Return one page of model versions.

        Parameters
        ----------
        filter_string : str or None, default=None
            MLflow's grammar on ``name``, ``version_number``, ``run_id``,
            ``source_path``, ``current_stage`` and ``tags.<key>``, such as
            ``"name = 'wine' AND version_number > 2"``.
        max_results : int, default=10000
            At most 200,000 per page.
        order_by : list of str or None, default=None
            Such as ``["version_number ASC"]``; then by name, newest version first.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        PagedList of ModelVersion
            The page; deleted versions never appear.

        Raises
        ------
        InvalidValueError
            If the filter, ordering or page size is invalid.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("many")
        >>> for i in range(3):
        ...     _ = client.create_model_version("many", f"/models/{i}")
        >>> found = client.search_model_versions("name = 'many' AND version_number > 1")
        >>> [v.version for v in found]
        [3, 2]
        """
        return self._registry.search_model_versions(
            filter_string=filter_string or "",
            max_results=max_results,
            order_by=order_by or (),
            page_token=page_token,
        )

    def set_model_version_tag(
        self, name: str, version: int | str, key: str, value: object
    ) -> None:
        """Set a tag of a model version.

        Parameters
        ----------
        name : str
            The registered model's name.
        version : int or str
            The version number.
        key : str
            The tag's name.
        value : object
            Its value, converted with ``str``.

        Raises
        ------
        NotFoundError
            If the model or the version does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("vtag")
        >>> _ = client.create_model_version("vtag", "/models/v")
        >>> client.set_model_version_tag("vtag", 1, "validated", True)
        >>> client.get_model_version("vtag", 1).tags
        {'validated': 'True'}
        """
        self._registry.set_model_version_tag(name, version, key, str(value))

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove a tag from a model version; a missing tag is not an error.

        Parameters
        ----------
        name : str
            The registered model's name.
        version : int or str
            The version number.
        key : str
            The tag's name.

        Raises
        ------
        NotFoundError
            If the model or the version does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("vuntag")
        >>> _ = client.create_model_version("vuntag", "/models/v", tags={"a": 1})
        >>> client.delete_model_version_tag("vuntag", 1, "a")
        >>> client.get_model_version("vuntag", 1).tags
        {}
        """
        self._registry.delete_model_version_tag(name, version, key)

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Register a version of one model as a new version of another.

        ``dst_name`` is created if needed; the copy points at the source version's
        files and keeps its run, tags and description, as in MLflow.

        Parameters
        ----------
        src_model_uri : str
            ``models:/<name>/<version>`` or ``models:/<name>@<alias>``.
        dst_name : str
            The registered model that receives the copy.

        Returns
        -------
        ModelVersion
            The new version of ``dst_name``.

        Raises
        ------
        InvalidValueError
            If ``src_model_uri`` is not a ``models:/`` URI.
        NotFoundError
            If the source version does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("dev")
        >>> _ = client.create_model_version("dev", "/models/dev1")
        >>> copy = client.copy_model_version("models:/dev/1", "prod")
        >>> copy.name, copy.version, copy.source
        ('prod', 1, 'models:/dev/1')
        >>> client.get_model_version_download_uri("prod", 1)
        '/models/dev1'
        """
        source = self._version_of_models_uri(src_model_uri)
        with contextlib.suppress(ConflictError):  # an existing model, as MLflow allows
            self._registry.create_registered_model(dst_name)
        location = self._registry.get_model_version_download_uri(
            source.name, source.version
        )
        return self._registry.create_model_version(
            dst_name,
            f"models:/{source.name}/{source.version}",
            run_id=source.run_id or None,
            tags=source.tags,
            run_link=source.run_link or None,
            description=source.description or None,
            user_id=get_user(),
            signature=source.signature,
            storage_location=location,
            model_id=source.model_id,
        )

    def _version_of_models_uri(self, uri: str) -> ModelVersion:
        """Return the version a ``models:/`` URI names (version, alias or stage)."""
        if not isinstance(uri, str) or not uri.startswith("models:/"):
            raise InvalidValueError(
                "model URI",
                uri,
                "'models:/<name>/<version>' or 'models:/<name>@<alias>'",
                "For example 'models:/wine/3' or 'models:/wine@champion'.",
            )
        body = uri[len("models:/") :]
        name, at, alias = body.partition("@")
        if at and name and alias and "/" not in body:
            return self._registry.get_model_version_by_alias(name, alias)
        name, slash, suffix = body.partition("/")
        if not (slash and name and suffix) or "/" in suffix or "@" in body:
            raise InvalidValueError(
                "model URI",
                uri,
                "'models:/<name>/<version>', 'models:/<name>/<stage>', "
                "'models:/<name>/latest' or 'models:/<name>@<alias>'",
                "For example 'models:/wine/3' or 'models:/wine@champion'.",
            )
        if suffix.isascii() and suffix.isdigit():
            return self._registry.get_model_version(name, suffix)
        if suffix.lower() == "latest":
            return self._registry.get_model_version_by_alias(name, "latest")
        found = self._registry.get_latest_versions(name, [suffix])
        if not found:
            raise NotFoundError(
                f"version in stage {suffix!r} of registered model",
                name,
                "Move one there with transition_model_version_stage(), or use an "
                "alias: models:/<name>@<alias>.",
            )
        return found[0]

    # Aliases.

    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str
    ) -> None:
        """Point an alias (such as ``champion``) at a version, recording the move.

        Parameters
        ----------
        name : str
            The registered model's name.
        alias : str
            Letters, digits, ``_`` and ``-``; ``latest`` and ``v<digits>`` are
            reserved.
        version : int or str
            The version number.

        Raises
        ------
        InvalidValueError
            If the alias is reserved or malformed.
        NotFoundError
            If the model or the version does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("aliased")
        >>> _ = client.create_model_version("aliased", "/models/a1")
        >>> client.set_registered_model_alias("aliased", "champion", 1)
        >>> client.get_registered_model("aliased").aliases
        {'champion': 1}
        """
        self._registry.set_registered_model_alias(
            name, alias, version, user_id=get_user()
        )

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias, recording it; a missing alias is not an error.

        Parameters
        ----------
        name : str
            The registered model's name.
        alias : str
            The alias.

        Raises
        ------
        NotFoundError
            If no model has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("unaliased")
        >>> _ = client.create_model_version("unaliased", "/models/u1")
        >>> client.set_registered_model_alias("unaliased", "canary", 1)
        >>> client.delete_registered_model_alias("unaliased", "canary")
        >>> client.get_registered_model("unaliased").aliases
        {}
        """
        self._registry.delete_registered_model_alias(name, alias, user_id=get_user())

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version an alias points at.

        Parameters
        ----------
        name : str
            The registered model's name.
        alias : str
            The alias; ``latest`` is the newest version.

        Returns
        -------
        ModelVersion
            The version.

        Raises
        ------
        NotFoundError
            If the model or the alias does not exist.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("byalias")
        >>> for i in (1, 2):
        ...     _ = client.create_model_version("byalias", f"/models/b{i}")
        >>> client.set_registered_model_alias("byalias", "champion", 1)
        >>> client.get_model_version_by_alias("byalias", "champion").version
        1
        >>> client.get_model_version_by_alias("byalias", "latest").version
        2
        """
        return self._registry.get_model_version_by_alias(name, alias)

    def get_alias_history(
        self, name: str, alias: str | None = None
    ) -> list[AliasChange]:
        """Return every move of a model's aliases: which version, from when, by whom.

        Parameters
        ----------
        name : str
            The registered model's name.
        alias : str or None, default=None
            Only this alias; None for all of them.

        Returns
        -------
        list of AliasChange
            Oldest first. A deleted alias (or one whose version was deleted) has
            ``version=None``.

        Raises
        ------
        NotFoundError
            If no model has this name.

        Examples
        --------
        >>> from mltrail import TrackingClient
        >>> client = TrackingClient()
        >>> _ = client.create_registered_model("history")
        >>> for i in (1, 2):
        ...     _ = client.create_model_version("history", f"/models/h{i}")
        >>> client.set_registered_model_alias("history", "champion", 1)
        >>> client.set_registered_model_alias("history", "champion", 2)
        >>> history = client.get_alias_history("history")
        >>> [(change.previous_version, change.version) for change in history]
        [(None, 1), (1, 2)]
        """
        return self._registry.get_alias_history(name, alias)
