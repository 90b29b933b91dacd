"""MLflow's ``mlflow.entities`` names, for scripts that import them from there.

The records are mltrail's own (``mltrail.Run``, ``mltrail.Metric``, ...): this
module only gathers them under MLflow's module name, with the few MLflow records
mltrail has no other use for (``LoggedModelInput``, ``LoggedModelOutput``).

Examples
--------
>>> from mltrail.entities import Metric, Param, RunTag, ViewType
>>> Param("C", "1.0").value, ViewType.ALL.value
('1.0', 'ALL')
"""

from __future__ import annotations

from dataclasses import dataclass

from mltrail._entities import (
    Dataset,
    DatasetInput,
    Experiment,
    FileInfo,
    InputTag,
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail._registry_entities import ModelVersion, RegisteredModel

__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelOutput",
    "LoggedModelStatus",
    "Metric",
    "ModelVersion",
    "Param",
    "RegisteredModel",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunStatus",
    "RunTag",
    "ViewType",
]

# An experiment tag has a run tag's shape (key, value); MLflow has two classes.
ExperimentTag = RunTag


@dataclass(frozen=True, slots=True)
class LoggedModelInput:
    """A logged model that a run read, as ``MlflowClient.log_inputs`` takes it.

    Parameters
    ----------
    model_id : str
        The logged model's id, ``"m-"`` and 32 hexadecimal characters.

    Examples
    --------
    >>> from mltrail.entities import LoggedModelInput
    >>> LoggedModelInput("m-" + "0" * 32).model_id[:2]
    'm-'
    """

    model_id: str


@dataclass(frozen=True, slots=True)
class LoggedModelOutput:
    """A logged model that a run produced, as ``MlflowClient.log_outputs`` takes it.

    Parameters
    ----------
    model_id : str
        The logged model's id.
    step : int, default=0
        The training step at which the run produced it.

    Examples
    --------
    >>> from mltrail.entities import LoggedModelOutput
    >>> LoggedModelOutput("m-" + "0" * 32, step=3).step
    3
    """

    model_id: str
    step: int = 0
