"""Read an MLflow file store (``./mlruns``): meta.yaml files, one file per value.

The layout is MLflow's ``FileStore``: ``<experiment>/meta.yaml`` (deleted
experiments under ``.trash/``), ``<experiment>/<run>/{meta.yaml, params/, tags/,
metrics/, inputs/, outputs/, artifacts/}``, ``<experiment>/datasets/``,
``<experiment>/models/<model_id>/`` for logged models, and the registry under
``models/<name>/``. Keys with ``/`` are nested folders. Only reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from mltrail._entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LoggedModel,
    LoggedModelMetric,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
)
from mltrail._errors import InvalidValueError, StoreError
from mltrail._registry_entities import ModelVersion
from mltrail.importer._local import LocalFiles, local_path
from mltrail.importer._source import (
    MODEL_STATUSES,
    RUN_STATUSES,
    SourceFile,
    SourceModel,
    SourceRegisteredModel,
    SourceRun,
    parse_value,
)

__all__ = ["FileSource", "is_file_store"]

_NOT_RUNS = {"datasets", "models", "tags", "traces"}


def is_file_store(uri: str) -> bool:
    """Whether ``uri`` names a folder that looks like an MLflow file store."""
    folder = local_path(uri)
    return folder is not None and (
        (folder / "0" / "meta.yaml").is_file()
        or any(folder.glob("*/meta.yaml"))
        or (folder / ".trash").is_dir()
    )


def _meta(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as file:
            loaded = yaml.safe_load(file)
    except (OSError, yaml.YAMLError) as exc:
        raise StoreError(
            f"cannot read {str(path)!r}: {exc}. The file store may be damaged; "
            "fix or remove that file and import again."
        ) from exc
    return loaded if isinstance(loaded, dict) else {}


def _values(folder: Path) -> dict[str, str]:
    """Return the key -> content map of a ``params/`` or ``tags/`` folder."""
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    for top, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(top, name)
            found[path.relative_to(folder).as_posix()] = path.read_text("utf-8")
    return found


def _lines(path: Path) -> Iterator[list[str]]:
    with open(path, encoding="utf-8") as file:
        for line in file:
            parts = line.split()
            if parts:
                yield parts


class FileSource:
    """An MLflow ``./mlruns`` folder, read-only."""

    def __init__(self, uri: str) -> None:
        folder = local_path(uri)
        if folder is None or not folder.is_dir():
            raise InvalidValueError(
                "source URI",
                uri,
                "an MLflow file store folder (such as ./mlruns)",
                "Check the path.",
            )
        self.root = folder.resolve()
        self.uri = str(self.root)
        self._files = LocalFiles(self._relocate)
        self._experiment_folders: dict[str, Path] = {}

    def _relocate(self, location: str) -> Path | None:
        """Find a moved store's artifacts: ``<exp>/<run or models/id>/artifacts``."""
        parts = Path(location.rstrip("/")).parts
        for size in (4, 3):  # <exp>/models/<id>/artifacts, then <exp>/<run>/artifacts
            candidate = self.root.joinpath(*parts[-size:])
            if len(parts) >= size and candidate.is_dir():
                return candidate
        return None

    def experiments(self) -> list[Experiment]:
        found = []
        for parent in (self.root, self.root / ".trash"):
            if not parent.is_dir():
                continue
            for folder in sorted(parent.iterdir()):
                meta_path = folder / "meta.yaml"
                if folder.name == "models" or not meta_path.is_file():
                    continue
                meta = _meta(meta_path)
                experiment_id = str(meta.get("experiment_id", folder.name))
                self._experiment_folders[experiment_id] = folder
                found.append(
                    Experiment(
                        experiment_id=experiment_id,
                        name=str(meta.get("name", "")),
                        artifact_location=str(meta.get("artifact_location") or ""),
                        lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
                        creation_time=int(meta.get("creation_time") or 0),
                        last_update_time=int(meta.get("last_update_time") or 0),
                        tags=_values(folder / "tags"),
                    )
                )
        found.sort(key=lambda e: (len(e.experiment_id), e.experiment_id))
        return found

    def _folder(self, experiment_id: str) -> Path:
        if not self._experiment_folders:
            self.experiments()
        return self._experiment_folders[experiment_id]

    def runs(self, experiment_id: str) -> list[SourceRun]:
        folder = self._folder(experiment_id)
        datasets = {
            path.parent.name: _meta(path)
            for path in folder.glob("datasets/*/meta.yaml")
        }
        found = []
        for run_folder in sorted(folder.iterdir()):
            meta_path = run_folder / "meta.yaml"
            if run_folder.name in _NOT_RUNS or not meta_path.is_file():
                continue
            meta = _meta(meta_path)
            status = meta.get("status", 1)
            info = RunInfo(
                run_id=str(
                    meta.get("run_id") or meta.get("run_uuid") or run_folder.name
                ),
                run_name=str(meta.get("run_name") or ""),
                experiment_id=experiment_id,
                user_id=str(meta.get("user_id") or ""),
                status=RUN_STATUSES.get(status, str(status)),
                start_time=int(meta.get("start_time") or 0),
                end_time=meta.get("end_time"),
                artifact_uri=str(meta.get("artifact_uri") or ""),
                lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
            )
            latest: dict[str, float] = {}
            data = RunData(
                metrics=latest,
                params=_values(run_folder / "params"),
                tags=_values(run_folder / "tags"),
            )
            dataset_inputs, model_inputs = [], []
            for input_meta in sorted(run_folder.glob("inputs/*/meta.yaml")):
                link = _meta(input_meta)
                if link.get("source_type") == "DATASET":
                    dataset = datasets.get(str(link.get("source_id")))
                    if dataset is None:
                        continue
                    tags = link.get("tags") or {}
                    dataset_inputs.append(
                        DatasetInput(
                            Dataset(
                                name=str(dataset.get("name")),
                                digest=str(dataset.get("digest")),
                                source_type=str(dataset.get("source_type")),
                                source=str(dataset.get("source")),
                                schema=dataset.get("schema"),
                                profile=dataset.get("profile"),
                            ),
                            [InputTag(str(k), str(v)) for k, v in tags.items()],
                        )
                    )
                elif link.get("source_type") == "MODEL_INPUT":
                    model_inputs.append(str(link.get("source_id")))
            outputs = [
                (
                    str(output.get("destination_id", path.parent.name)),
                    int(output.get("step") or 0),
                )
                for path in sorted(run_folder.glob("outputs/*/meta.yaml"))
                for output in (_meta(path),)
            ]
            found.append(
                SourceRun(
                    Run(info, data, RunInputs(dataset_inputs)), outputs, model_inputs
                )
            )
        found.sort(key=lambda r: (r.run.info.start_time, r.run.info.run_id))
        return found

    def metric_history(self, run: Run) -> list[Metric]:
        folder = self._folder(run.info.experiment_id) / run.info.run_id / "metrics"
        points = []
        for key, path in _metric_files(folder):
            for parts in _lines(path):
                step = int(parts[2]) if len(parts) > 2 else 0
                points.append(Metric(key, parse_value(parts[1]), int(parts[0]), step))
        return points

    def logged_models(self, experiment_id: str) -> list[SourceModel]:
        found = []
        for meta_path in sorted(self._folder(experiment_id).glob("models/*/meta.yaml")):
            folder = meta_path.parent
            meta = _meta(meta_path)
            metrics = []
            for key, path in _metric_files(folder / "metrics"):
                for parts in _lines(path):
                    metrics.append(
                        LoggedModelMetric(
                            key=key,
                            value=parse_value(parts[1]),
                            timestamp=int(parts[0]),
                            step=int(parts[2]),
                            run_id=parts[3] if len(parts) > 3 else None,
                            dataset_name=parts[4] if len(parts) > 4 else None,
                            dataset_digest=parts[5] if len(parts) > 5 else None,
                        )
                    )
            status = meta.get("status", 1)
            model = LoggedModel(
                model_id=str(meta.get("model_id", folder.name)),
                experiment_id=experiment_id,
                name=str(meta.get("name") or ""),
                artifact_location=str(meta.get("artifact_location") or ""),
                creation_timestamp=int(meta.get("creation_timestamp") or 0),
                last_updated_timestamp=int(meta.get("last_updated_timestamp") or 0),
                status=MODEL_STATUSES.get(status, "PENDING"),
                source_run_id=meta.get("source_run_id"),
                model_type=meta.get("model_type"),
                status_message=meta.get("status_message"),
                tags=_values(folder / "tags"),
                params=_values(folder / "params"),
                metrics=metrics,
            )
            deleted = meta.get("lifecycle_stage") == "deleted"
            found.append(SourceModel(model, is_deleted=deleted))
        found.sort(key=lambda m: (m.model.creation_timestamp, m.model.model_id))
        return found

    def files(self, location: str) -> list[SourceFile]:
        return self._files.files(location)

    def read(self, location: str, path: str) -> Iterator[bytes]:
        return self._files.read(location, path)

    def registered_models(self) -> list[SourceRegisteredModel]:
        found = []
        for meta_path in sorted(self.root.glob("models/*/meta.yaml")):
            folder = meta_path.parent
            meta = _meta(meta_path)
            aliases = {
                str(alias): int(version)
                for alias, version in (meta.get("aliases") or {}).items()
            }
            for alias, text in _values(folder / "aliases").items():
                aliases.setdefault(alias, int(text))
            versions = []
            for version_meta in folder.glob("version-*/meta.yaml"):
                v = _meta(version_meta)
                versions.append(
                    ModelVersion(
                        name=str(v.get("name") or meta.get("name")),
                        version=int(v["version"]),
                        creation_timestamp=int(v.get("creation_timestamp") or 0),
                        last_updated_timestamp=int(
                            v.get("last_updated_timestamp") or 0
                        ),
                        description=v.get("description") or "",
                        user_id=v.get("user_id") or "",
                        current_stage=v.get("current_stage") or "None",
                        source=v.get("source") or "",
                        run_id=v.get("run_id") or "",
                        status=v.get("status") or "READY",
                        status_message=v.get("status_message") or "",
                        tags=_values(version_meta.parent / "tags"),
                        run_link=v.get("run_link") or "",
                        model_id=v.get("model_id"),
                    )
                )
            versions.sort(key=lambda v: v.version)
            found.append(
                SourceRegisteredModel(
                    name=str(meta.get("name") or folder.name),
                    description=meta.get("description") or "",
                    tags=_values(folder / "tags"),
                    aliases=aliases,
                    versions=versions,
                )
            )
        return found

    def close(self) -> None:
        """Nothing to release."""


def _metric_files(folder: Path) -> Iterator[tuple[str, Path]]:
    if not folder.is_dir():
        return
    for top, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(top, name)
            yield path.relative_to(folder).as_posix(), path
