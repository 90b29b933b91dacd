"""The records of the model registry: registered models, versions and alias moves.

Names and fields follow MLflow's ``mlflow.entities.model_registry``
(``RegisteredModel.latest_versions``, ``ModelVersion.current_stage``, ``aliases``),
so code written for MLflow's registry reads them unchanged. Like the tracking
entities, they are frozen and hold no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from mltrail._entities import FieldItems

__all__ = [
    "AliasChange",
    "ModelVersion",
    "ModelVersionStage",
    "ModelVersionStatus",
    "RegisteredModel",
]


class ModelVersionStage(enum.StrEnum):
    """MLflow's deprecated stages of a model version; aliases replace them.

    Stages are accepted so that MLflow's clients keep working; new code should
    point an alias (such as ``champion``) at a version instead.

    Examples
    --------
    >>> from mltrail import ModelVersionStage
    >>> ModelVersionStage.from_name("production") is ModelVersionStage.PRODUCTION
    True
    """

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    @classmethod
    def from_name(cls, name: str) -> ModelVersionStage | None:
        """Return the stage with this name in any case, or None.

        Parameters
        ----------
        name : str
            A stage name such as ``"Production"`` or ``"staging"``.

        Returns
        -------
        ModelVersionStage or None
            The stage, or None if no stage has this name.

        Examples
        --------
        >>> from mltrail import ModelVersionStage
        >>> ModelVersionStage.from_name("ARCHIVED").value
        'Archived'
        >>> ModelVersionStage.from_name("Deleted") is None
        True
        """
        for stage in cls:
            if stage.value.lower() == name.lower():
                return stage
        return None


class ModelVersionStatus(enum.StrEnum):
    """Whether a model version is ready to be loaded, with MLflow's names.

    mltrail registers synchronously, so versions it creates are ``READY``.

    Examples
    --------
    >>> from mltrail import ModelVersionStatus
    >>> ModelVersionStatus.READY.value
    'READY'
    """

    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


@dataclass(frozen=True, slots=True)
class ModelVersion(FieldItems):
    """One registered version of a model: where it is and how far it went.

    Parameters
    ----------
    name : str
        The registered model's name.
    version : int
        The version number, counted from 1 per model and never reused.
    creation_timestamp : int
        Milliseconds since the epoch.
    last_updated_timestamp : int
        Milliseconds since the epoch.
    description : str, default=""
        Free text.
    user_id : str, default=""
        Who registered it.
    current_stage : str, default="None"
        A ``ModelVersionStage`` value (MLflow's deprecated stages).
    source : str, default=""
        The model's URI as registered, such as ``runs:/<run_id>/model``.
    run_id : str, default=""
        The run that produced the model; empty when unknown.
    status : str, default="READY"
        A ``ModelVersionStatus`` value.
    status_message : str, default=""
        Why registration failed, if it did.
    tags : dict of str to str, default={}
        The version's tags.
    run_link : str, default=""
        A link to the run, for MLflow's clients.
    aliases : list of str, default=[]
        The aliases that point at this version.
    signature : dict of str to str or None, default=None
        The model's signature as its ``MLmodel`` file holds it (``inputs`` and
        ``outputs`` as JSON strings), copied at registration.
    model_id : str or None, default=None
        MLflow 3's logged-model id, when a client sent one.

    Examples
    --------
    >>> from mltrail import ModelVersion
    >>> version = ModelVersion("wine", 3, 1700000000000, 1700000000000,
    ...                        source="runs:/0123456789abcdef0123456789abcdef/model")
    >>> version.model_uri
    'models:/wine/3'
    """

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    user_id: str = ""
    current_stage: str = ModelVersionStage.NONE.value
    source: str = ""
    run_id: str = ""
    status: str = ModelVersionStatus.READY.value
    status_message: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    run_link: str = ""
    aliases: list[str] = field(default_factory=list)
    signature: dict[str, str] | None = None
    model_id: str | None = None

    @property
    def model_uri(self) -> str:
        """The URI that loads this version: ``models:/<name>/<version>``."""
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True, slots=True)
class RegisteredModel(FieldItems):
    """A named model and its versions, tags and aliases.

    Parameters
    ----------
    name : str
        The unique name; it cannot contain ``/`` or ``:``.
    creation_timestamp : int
        Milliseconds since the epoch.
    last_updated_timestamp : int
        Milliseconds since the epoch; any change to the model or a version bumps it.
    description : str, default=""
        Free text.
    latest_versions : list of ModelVersion, default=[]
        The newest version in each stage, as MLflow returns them.
    tags : dict of str to str, default={}
        The model's tags.
    aliases : dict of str to int, default={}
        Each alias (such as ``champion``) and the version it points at.

    Examples
    --------
    >>> from mltrail import RegisteredModel
    >>> model = RegisteredModel("wine", 1, 2, aliases={"champion": 3})
    >>> model.aliases["champion"]
    3
    """

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AliasChange:
    """One move of an alias: which version it pointed at from when, and who moved it.

    Parameters
    ----------
    name : str
        The registered model's name.
    alias : str
        The alias, such as ``champion``.
    version : int or None
        The version the alias points at from ``timestamp`` on; None when the alias
        was deleted.
    previous_version : int or None
        The version it pointed at before; None when the alias was new.
    user_id : str
        Who moved it.
    timestamp : int
        When, in milliseconds since the epoch.

    Examples
    --------
    >>> from mltrail import AliasChange
    >>> change = AliasChange("wine", "champion", 4, 3, "ada", 1700000000000)
    >>> change.previous_version, change.version
    (3, 4)
    """

    name: str
    alias: str
    version: int | None
    previous_version: int | None
    user_id: str
    timestamp: int
