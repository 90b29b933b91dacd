"""What ``mltrail import`` reads from an MLflow store: the ``Source`` protocol.

Each kind of MLflow store (a ``./mlruns`` file store, an MLflow database, an MLflow
tracking server) is read by one ``Source``, which returns mltrail's entities. A
source only reads: nothing it does writes the store it reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from mltrail._entities import Experiment, LoggedModel, Metric, Run
from mltrail._registry_entities import ModelVersion

__all__ = [
    "MODEL_STATUSES",
    "RUN_STATUSES",
    "Source",
    "SourceFile",
    "SourceModel",
    "SourceRegisteredModel",
    "SourceRun",
    "parse_value",
    "redact",
]

# MLflow's proto enums, as the file store writes them (numbers) and as its
# server and database name them.
RUN_STATUSES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
MODEL_STATUSES = {
    0: "PENDING",
    1: "PENDING",
    2: "READY",
    3: "FAILED",
    "LOGGED_MODEL_STATUS_UNSPECIFIED": "PENDING",
    "LOGGED_MODEL_PENDING": "PENDING",
    "LOGGED_MODEL_READY": "READY",
    "LOGGED_MODEL_UPLOAD_FAILED": "FAILED",
}


@dataclass(frozen=True, slots=True)
class SourceRun:
    """A run as the source holds it, without its metric history and files."""

    run: Run
    model_outputs: list[tuple[str, int]] = field(default_factory=list)
    model_inputs: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SourceModel:
    """A logged model with its params, tags and metrics, and whether it is deleted."""

    model: LoggedModel
    is_deleted: bool = False


@dataclass(frozen=True, slots=True)
class SourceRegisteredModel:
    """A registered model with every version (oldest first) and its aliases."""

    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: list[ModelVersion]


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One artifact file: its path relative to its run or model, and its size."""

    path: str
    size: int


class Source(Protocol):
    """An MLflow store opened for reading."""

    #: The store's URI, without credentials, for messages and provenance tags.
    uri: str

    def experiments(self) -> list[Experiment]:
        """Return every experiment, deleted ones included, with their tags."""
        ...

    def runs(self, experiment_id: str) -> list[SourceRun]:
        """Return every run of an experiment, deleted ones included, oldest first."""
        ...

    def metric_history(self, run: Run) -> list[Metric]:
        """Return every point of every metric of a run."""
        ...

    def logged_models(self, experiment_id: str) -> list[SourceModel]:
        """Return every logged model of an experiment."""
        ...

    def files(self, location: str) -> list[SourceFile]:
        """Return every file under an artifact location (a run's or a model's)."""
        ...

    def read(self, location: str, path: str) -> Iterator[bytes]:
        """Yield the content of one file under an artifact location, in chunks."""
        ...

    def registered_models(self) -> list[SourceRegisteredModel]:
        """Return every registered model with its versions, tags and aliases."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def parse_value(text: str | float | int | None) -> float:
    """Return a metric value as MLflow wrote it (``nan``, ``inf`` included)."""
    if text is None:
        return math.nan
    return float(text)


def redact(uri: str) -> str:
    """Return ``uri`` without a password, to name it in messages and tags."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, ""))
