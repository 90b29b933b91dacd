"""The records that mltrail stores and returns: frozen, slotted, and free of I/O.

Names and fields follow MLflow's entities (``Run.info.run_id``, ``Run.data.metrics``,
``Run.inputs.dataset_inputs``), so code written for MLflow reads them unchanged.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelMetric",
    "LoggedModelStatus",
    "Metric",
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunStatus",
    "RunTag",
    "ViewType",
    "new_model_id",
]

T = TypeVar("T")


class FieldItems:
    """Iterate ``(field, value)`` pairs, so ``dict(record)`` works as in MLflow."""

    __slots__ = ()

    def __iter__(self) -> Iterator[tuple[str, object]]:
        for name in self.__dataclass_fields__:  # type: ignore[attr-defined]  # every subclass is a dataclass
            yield name, getattr(self, name)


class RunStatus(enum.StrEnum):
    """The state of a run, with MLflow's names.

    Examples
    --------
    >>> from mltrail import RunStatus
    >>> RunStatus("FINISHED") is RunStatus.FINISHED
    True
    >>> RunStatus.FAILED.is_terminated
    True
    """

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminated(self) -> bool:
        """Whether the run has ended (finished, failed or killed)."""
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)

    @staticmethod
    def to_string(status: RunStatus | str | int) -> str:
        """Return the name of a status, as MLflow's ``RunStatus.to_string``.

        Takes a ``RunStatus``, its name, or MLflow's integer code (1 to 5), so
        ``end_run(RunStatus.to_string(RunStatus.KILLED))`` runs as in MLflow.

        Examples
        --------
        >>> from mltrail import RunStatus
        >>> RunStatus.to_string(RunStatus.KILLED), RunStatus.to_string(3)
        ('KILLED', 'FINISHED')
        """
        return RunStatus.from_string(status).value

    @staticmethod
    def from_string(status: RunStatus | str | int) -> RunStatus:
        """Return the status of a name or of MLflow's integer code (1 to 5).

        Examples
        --------
        >>> from mltrail import RunStatus
        >>> RunStatus.from_string("FAILED") is RunStatus.FAILED
        True
        """
        if isinstance(status, int) and not isinstance(status, bool):
            members = list(RunStatus)
            if 1 <= status <= len(members):
                return members[status - 1]
        elif isinstance(status, str) and status in RunStatus.__members__:
            return RunStatus(status)
        from mltrail._errors import InvalidValueError

        raise InvalidValueError(
            "run status",
            status,
            "one of " + ", ".join(RunStatus.__members__) + ", or MLflow's code 1 to 5",
        )


class LifecycleStage(enum.StrEnum):
    """Whether an experiment or run is active or in the trash.

    Examples
    --------
    >>> from mltrail import LifecycleStage
    >>> LifecycleStage.DELETED.value
    'deleted'
    """

    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(enum.StrEnum):
    """Which lifecycle stages a search returns, with MLflow's names.

    Examples
    --------
    >>> from mltrail import ViewType
    >>> ViewType.ACTIVE_ONLY.stages
    ('active',)
    """

    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"

    @property
    def stages(self) -> tuple[str, ...]:
        """The lifecycle stages this view includes."""
        if self is ViewType.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE.value,)
        if self is ViewType.DELETED_ONLY:
            return (LifecycleStage.DELETED.value,)
        return (LifecycleStage.ACTIVE.value, LifecycleStage.DELETED.value)


@dataclass(frozen=True, slots=True)
class Experiment(FieldItems):
    """A named group of runs.

    Parameters
    ----------
    experiment_id : str
        A string of an integer; ``"0"`` is the Default experiment.
    name : str
        The unique name.
    artifact_location : str
        Where the runs of this experiment keep their artifacts.
    lifecycle_stage : str
        ``"active"`` or ``"deleted"``.
    creation_time : int
        Milliseconds since the epoch.
    last_update_time : int
        Milliseconds since the epoch.
    tags : dict of str to str, default={}
        The experiment's tags.

    Examples
    --------
    >>> from mltrail import Experiment
    >>> Experiment("0", "Default", "mltrail-artifacts/0", "active", 0, 0).name
    'Default'
    """

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric's history.

    Parameters
    ----------
    key : str
        The metric name, such as ``"val/loss"``.
    value : float
        The value; NaN and infinities are kept exactly.
    timestamp : int
        Milliseconds since the epoch.
    step : int, default=0
        The training step or iteration.

    Examples
    --------
    >>> from mltrail import Metric
    >>> Metric("loss", 0.5, 1700000000000, 3).step
    3
    """

    key: str
    value: float
    timestamp: int
    step: int = 0


@dataclass(frozen=True, slots=True)
class Param:
    """A hyperparameter, stored as a string as MLflow does.

    Parameters
    ----------
    key : str
        The parameter name, such as ``"clf__C"``.
    value : str
        The value as ``str()`` writes it.

    Examples
    --------
    >>> from mltrail import Param
    >>> Param("C", "1.0").value
    '1.0'
    """

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunTag:
    """A string label on a run.

    Parameters
    ----------
    key : str
        The tag name.
    value : str
        The tag value.

    Examples
    --------
    >>> from mltrail import RunTag
    >>> RunTag("team", "risk").key
    'team'
    """

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunInfo(FieldItems):
    """The attributes of a run; times are in milliseconds since the epoch.

    Parameters
    ----------
    run_id : str
        32 hexadecimal characters.
    run_name : str
        The human-readable name, also the ``mlflow.runName`` tag.
    experiment_id : str
        The experiment the run belongs to.
    user_id : str
        Who started the run.
    status : str
        A ``RunStatus`` value: ``RUNNING``, ``FINISHED``, ``FAILED``, ``KILLED``...
    start_time : int
        When the run started.
    end_time : int or None
        When the run ended; None while it runs.
    artifact_uri : str
        Where the run's artifacts live.
    lifecycle_stage : str
        ``"active"`` or ``"deleted"``.

    Examples
    --------
    >>> from mltrail import RunInfo
    >>> info = RunInfo("a" * 32, "brave-fox-1", "0", "ada", "RUNNING", 1, None,
    ...                "mltrail-artifacts/0/aaa/artifacts", "active")
    >>> info.run_uuid == info.run_id
    True
    """

    run_id: str
    run_name: str
    experiment_id: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str

    @property
    def run_uuid(self) -> str:
        """The run id under MLflow's older name."""
        return self.run_id


@dataclass(frozen=True, slots=True)
class RunData:
    """The params, latest metric values and tags of a run, as plain dicts.

    Parameters
    ----------
    metrics : dict of str to float, default={}
        The latest value of each metric.
    params : dict of str to str, default={}
        The hyperparameters.
    tags : dict of str to str, default={}
        The tags, system tags included.

    Examples
    --------
    >>> from mltrail import RunData
    >>> RunData(metrics={"acc": 0.9}).metrics["acc"]
    0.9
    """

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset as MLflow records it: name, digest, source, schema and profile.

    Parameters
    ----------
    name : str
        The dataset's name, such as ``"train"``.
    digest : str
        A fingerprint of the content.
    source_type : str
        Where it came from, such as ``"code"``.
    source : str
        A JSON string describing the source.
    schema : str or None, default=None
        A JSON string of the columns and types.
    profile : str or None, default=None
        A JSON string of statistics: shape, ranges, class balance.

    Examples
    --------
    >>> from mltrail import Dataset
    >>> Dataset("train", "3f2a9c1d", "code", "{}").digest
    '3f2a9c1d'
    """

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class InputTag:
    """A tag on a run input, such as ``mlflow.data.context = train``.

    Parameters
    ----------
    key : str
        The tag name.
    value : str
        The tag value.

    Examples
    --------
    >>> from mltrail import InputTag
    >>> InputTag("mlflow.data.context", "train").value
    'train'
    """

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A dataset that a run read, with the tags of that use.

    Parameters
    ----------
    dataset : Dataset
        The dataset.
    tags : list of InputTag, default=[]
        Tags of this use, such as its context (train, test, eval).

    Examples
    --------
    >>> from mltrail import Dataset, DatasetInput, InputTag
    >>> d = DatasetInput(Dataset("train", "ab12", "code", "{}"),
    ...                  [InputTag("mlflow.data.context", "train")])
    >>> d.dataset.name
    'train'
    """

    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunInputs:
    """The inputs of a run.

    Parameters
    ----------
    dataset_inputs : list of DatasetInput, default=[]
        The datasets the run read.

    Examples
    --------
    >>> from mltrail import RunInputs
    >>> RunInputs().dataset_inputs
    []
    """

    dataset_inputs: list[DatasetInput] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Run:
    """A run: its info, its data and its inputs.

    Parameters
    ----------
    info : RunInfo
        The run's attributes.
    data : RunData, default=RunData()
        Its params, latest metrics and tags.
    inputs : RunInputs, default=RunInputs()
        The datasets it read.

    Examples
    --------
    >>> from mltrail import Run, RunData, RunInfo
    >>> info = RunInfo("a" * 32, "r", "0", "ada", "FINISHED", 1, 2, "uri", "active")
    >>> Run(info, RunData(params={"C": "1.0"})).data.params
    {'C': '1.0'}
    """

    info: RunInfo
    data: RunData = field(default_factory=RunData)
    inputs: RunInputs = field(default_factory=RunInputs)

    @property
    def _info(self) -> RunInfo:
        """``info`` under the private name that MLflow's own examples read."""
        return self.info

    def to_dictionary(self) -> dict[str, Any]:
        """Return the run as plain dicts, as MLflow's ``Run.to_dictionary``.

        Examples
        --------
        >>> from mltrail import Run, RunData, RunInfo
        >>> info = RunInfo("a" * 32, "r", "0", "ada", "FINISHED", 1, 2, "uri", "active")
        >>> run = Run(info, RunData(params={"C": "1.0"})).to_dictionary()
        >>> run["info"]["status"], run["data"]["params"]
        ('FINISHED', {'C': '1.0'})
        """
        import dataclasses

        data = self.data
        return {
            "info": dict(self.info),
            "data": {
                "metrics": dict(data.metrics),
                "params": dict(data.params),
                "tags": dict(data.tags),
            },
            "inputs": dataclasses.asdict(self.inputs),
        }


@dataclass(frozen=True, slots=True)
class FileInfo:
    """An artifact file or directory.

    Parameters
    ----------
    path : str
        The path relative to the run's artifact root, with ``/`` separators.
    is_dir : bool
        Whether it is a directory.
    file_size : int or None
        The size in bytes; None for a directory.

    Examples
    --------
    >>> from mltrail import FileInfo
    >>> FileInfo("model/MLmodel", False, 512).is_dir
    False
    """

    path: str
    is_dir: bool
    file_size: int | None


class LoggedModelStatus(enum.StrEnum):
    """Whether a logged model's files are complete, with MLflow's names.

    Examples
    --------
    >>> from mltrail import LoggedModelStatus
    >>> LoggedModelStatus("READY").is_finalized
    True
    """

    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"

    @property
    def is_finalized(self) -> bool:
        """Whether the status will not change any more (ready or failed)."""
        return self is not LoggedModelStatus.PENDING


@dataclass(frozen=True, slots=True)
class LoggedModelMetric:
    """One metric point of a logged model, with the run and dataset it came from.

    Parameters
    ----------
    key : str
        The metric name, such as ``"training_accuracy_score"``.
    value : float
        The value.
    timestamp : int
        Milliseconds since the epoch.
    step : int, default=0
        The training step.
    run_id : str or None, default=None
        The run that logged it.
    dataset_name : str or None, default=None
        The dataset it was computed on.
    dataset_digest : str or None, default=None
        That dataset's digest.

    Examples
    --------
    >>> from mltrail import LoggedModelMetric
    >>> LoggedModelMetric("acc", 0.9, 1, dataset_name="train").dataset_name
    'train'
    """

    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


def new_model_id() -> str:
    """Return a new logged model's id: ``m-`` and 32 lowercase hex digits."""
    import uuid  # here: ``import mltrail`` does not need it

    return f"m-{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class LoggedModel(FieldItems):
    """A model logged by a run (MLflow 3's LoggedModel): its id, files and data.

    Parameters
    ----------
    model_id : str
        ``"m-"`` and 32 hexadecimal characters.
    experiment_id : str
        The experiment it belongs to.
    name : str
        Its name within the run, such as ``"model"``.
    artifact_location : str
        Where its files live.
    creation_timestamp : int
        Milliseconds since the epoch.
    last_updated_timestamp : int
        Milliseconds since the epoch.
    status : str, default="PENDING"
        A ``LoggedModelStatus`` value.
    source_run_id : str or None, default=None
        The run that logged it.
    model_type : str or None, default=None
        A free-form type, such as ``"classifier"``.
    status_message : str or None, default=None
        Why the upload failed, if it did.
    tags : dict of str to str, default={}
        Its tags.
    params : dict of str to str, default={}
        Its params (MLflow copies the run's params here).
    metrics : list of LoggedModelMetric, default=[]
        Its metrics, each with its run and dataset.

    Examples
    --------
    >>> from mltrail import LoggedModel
    >>> model = LoggedModel("m-" + "a" * 32, "0", "model", "uri", 1, 1)
    >>> model.model_uri
    'models:/m-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
    """

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: str = LoggedModelStatus.PENDING.value
    source_run_id: str | None = None
    model_type: str | None = None
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[LoggedModelMetric] = field(default_factory=list)

    @property
    def model_uri(self) -> str:
        """The URI that loads it: ``models:/<model_id>``."""
        return f"models:/{self.model_id}"

    def to_dictionary(self) -> dict[str, object]:
        """Return its fields as a dict, metrics as dicts, as MLflow's method does.

        Returns
        -------
        dict
            One key per field; ``metrics`` is a list of dicts with the model id.

        Examples
        --------
        >>> from mltrail import LoggedModel
        >>> LoggedModel("m-" + "a" * 32, "0", "model", "uri", 1, 1).to_dictionary()[
        ...     "status"]
        'PENDING'
        """
        from dataclasses import asdict

        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values["tags"] = dict(self.tags)
        values["params"] = dict(self.params)
        values["metrics"] = [
            {**asdict(metric), "model_id": self.model_id} for metric in self.metrics
        ]
        return values


class PagedList(list[T], Generic[T]):
    """A page of results, with the token that fetches the next page.

    Parameters
    ----------
    items : iterable
        The results on this page.
    token : str or None
        Pass it as ``page_token`` to get the next page; None on the last page.

    Examples
    --------
    >>> from mltrail import PagedList
    >>> page = PagedList([1, 2], "abc")
    >>> list(page), page.token
    ([1, 2], 'abc')
    """

    def __init__(self, items: Iterable[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token
