"""Copy what a ``Source`` reads into an mltrail ``SqlStore``: ``import_store``.

Order, so that every write finds what it refers to: per experiment, the runs'
target ids are decided, then the logged models are copied (they name their run),
then the runs (they name their models as outputs); the registry comes last.

Ids are kept where they are free. A run or model whose id is taken by something
else gets a new id, and the mapping is the tag ``SOURCE_RUN_ID_TAG`` (or
``SOURCE_MODEL_ID_TAG``), which every imported run and model carries. Writes go in
an order that a re-run can resume: an item is marked ``PENDING_TAG`` while it is
written and loses the mark last; a re-run skips finished items and redoes
unfinished ones.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mltrail._entities import (
    Experiment,
    LifecycleStage,
    LoggedModelMetric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail._errors import MltrailError, NotFoundError
from mltrail._registry_entities import ModelVersion
from mltrail._system_tags import MLTRAIL_PREFIX, RUN_NAME_TAG
from mltrail.importer._source import (
    Source,
    SourceModel,
    SourceRegisteredModel,
    SourceRun,
)
from mltrail.store._artifacts import open_artifact_store

if TYPE_CHECKING:
    from mltrail.store._sql import SqlStore

__all__ = [
    "IMPORT_PREFIX",
    "PENDING_TAG",
    "SOURCE_EXPERIMENT_ID_TAG",
    "SOURCE_MODEL_ID_TAG",
    "SOURCE_RUN_ID_TAG",
    "SOURCE_VERSION_TAG",
    "VERSIONS_DONE_TAG",
    "ImportSummary",
    "Progress",
    "import_store",
]

IMPORT_PREFIX = MLTRAIL_PREFIX + "import."
PENDING_TAG = IMPORT_PREFIX + "pending"
SOURCE_EXPERIMENT_ID_TAG = IMPORT_PREFIX + "source_experiment_id"
SOURCE_RUN_ID_TAG = IMPORT_PREFIX + "source_run_id"
SOURCE_MODEL_ID_TAG = IMPORT_PREFIX + "source_model_id"
SOURCE_VERSION_TAG = IMPORT_PREFIX + "source_version"
VERSIONS_DONE_TAG = IMPORT_PREFIX + "versions"
_METRIC_CHUNK = 10_000
_MAX_EXPERIMENT_ID = 2**31 - 1
_DELETED_STAGE = "Deleted_Internal"
# The ids mltrail keeps (they name artifact folders); others get new ones.
_RUN_ID = re.compile(r"[0-9a-f]{32}")
_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")

#: Called with an event name and an amount: ``runs_total``, ``run``,
#: ``bytes_total``, ``bytes``.
Progress = Callable[[str, int], None]


@dataclass
class ImportSummary:
    """What one import copied, skipped, and which ids it had to change."""

    experiments: int = 0
    runs: int = 0
    runs_skipped: int = 0
    metric_points: int = 0
    files: int = 0
    bytes: int = 0
    logged_models: int = 0
    logged_models_skipped: int = 0
    registered_models: int = 0
    model_versions: int = 0
    model_versions_skipped: int = 0
    #: (kind, source id, target id) for every id that was taken in the target.
    mapped: list[tuple[str, str, str]] = field(default_factory=list)


def _ignore(event: str, amount: int) -> None:
    """Report no progress."""


class _Failed(MltrailError):
    """An error of one item, naming it, with the cause's message and hint."""


def _naming(what: str, error: MltrailError) -> _Failed:
    return _Failed(f"importing {what} failed: {error.message}")


class _Importer:
    def __init__(self, source: Source, store: SqlStore, progress: Progress) -> None:
        self.source = source
        self.store = store
        self.progress = progress
        self.summary = ImportSummary()
        self.run_ids: dict[str, str] = {}
        self.model_ids: dict[str, str] = {}

    # Experiments -----------------------------------------------------------------

    def copy(self) -> ImportSummary:
        plans = [
            (e, self.source.runs(e.experiment_id)) for e in self.source.experiments()
        ]
        self.progress("runs_total", sum(len(runs) for _, runs in plans))
        for experiment, runs in plans:
            try:
                self._experiment(experiment, runs)
            except _Failed:
                raise
            except MltrailError as exc:
                raise _naming(f"experiment {experiment.name!r}", exc) from exc
        for model in self.source.registered_models():
            try:
                self._registered_model(model)
            except MltrailError as exc:
                raise _naming(f"registered model {model.name!r}", exc) from exc
        return self.summary

    def _experiment(self, experiment: Experiment, runs: list[SourceRun]) -> None:
        store = self.store
        target = store.get_experiment_by_name(experiment.name)
        created = target is None
        if target is None:
            experiment_id = self._create_experiment(experiment)
            target = store.get_experiment(experiment_id)
        else:
            missing = [
                RunTag(k, v) for k, v in experiment.tags.items() if k not in target.tags
            ]
            if missing:
                self._while_active(target, lambda: None, tags=missing)
        decided = [(run, self._decide_run(target.experiment_id, run)) for run in runs]
        models = self.source.logged_models(experiment.experiment_id)

        def write() -> None:
            for model in models:
                self._model(target.experiment_id, model)
            for run, target_id in decided:
                if target_id is None:
                    self.summary.runs_skipped += 1
                else:
                    try:
                        self._run(target.experiment_id, run, target_id)
                    except MltrailError as exc:
                        raise _naming(f"run {run.run.info.run_id}", exc) from exc
                self.progress("run", 1)

        self._while_active(target, write)
        if created and experiment.lifecycle_stage == LifecycleStage.DELETED.value:
            store.update_experiment(
                target.experiment_id, lifecycle_stage=LifecycleStage.DELETED.value
            )

    def _while_active(
        self,
        target: Experiment,
        work: Callable[[], None],
        tags: Iterable[RunTag] = (),
    ) -> None:
        """Do ``work`` with the experiment active, then put its stage back."""
        deleted = target.lifecycle_stage == LifecycleStage.DELETED.value
        if deleted:
            self.store.update_experiment(
                target.experiment_id, lifecycle_stage=LifecycleStage.ACTIVE.value
            )
        try:
            if tags:
                self.store.update_experiment(target.experiment_id, tags=list(tags))
            work()
        finally:
            if deleted:
                self.store.update_experiment(
                    target.experiment_id, lifecycle_stage=LifecycleStage.DELETED.value
                )

    def _create_experiment(self, experiment: Experiment) -> str:
        tags = [RunTag(k, v) for k, v in experiment.tags.items()]
        source_id = experiment.experiment_id
        keep = source_id.isdigit() and int(source_id) <= _MAX_EXPERIMENT_ID
        if keep:
            try:
                self.store.get_experiment(source_id)
                keep = False
            except NotFoundError:
                pass
        self.summary.experiments += 1
        if keep:
            return self.store.create_experiment(
                experiment.name,
                tags=tags,
                experiment_id=source_id,
                creation_time=experiment.creation_time or None,
            )
        new_id = self.store.create_experiment(
            experiment.name,
            tags=[*tags, RunTag(SOURCE_EXPERIMENT_ID_TAG, source_id)],
            creation_time=experiment.creation_time or None,
        )
        self.summary.mapped.append(("experiment", source_id, new_id))
        return new_id

    # Runs ------------------------------------------------------------------------

    def _decide_run(self, experiment_id: str, source_run: SourceRun) -> str | None:
        """Return the id to write the run under, or None if it is already there."""
        run_id = source_run.run.info.run_id
        if _RUN_ID.fullmatch(run_id):
            try:
                existing = self.store.get_run(run_id)
            except NotFoundError:
                self.run_ids[run_id] = run_id
                return run_id
            tags = existing.data.tags
            if tags.get(SOURCE_RUN_ID_TAG) == run_id and PENDING_TAG not in tags:
                self.run_ids[run_id] = run_id
                self._repair_stage(existing.info.lifecycle_stage, source_run, run_id)
                return None
            if tags.get(PENDING_TAG) == run_id:
                self._purge(run_id)  # an import stopped half-way: write it again
                self.run_ids[run_id] = run_id
                return run_id
        # The id is another run's (or not an id mltrail keeps): find an earlier
        # import of this run under a new id.
        found = self.store.search_runs(
            [experiment_id],
            filter_string=f"tags.`{SOURCE_RUN_ID_TAG}` = '{_quote(run_id)}'",
            view_type=ViewType.ALL,
            max_results=10,
        )
        for run in found:
            if PENDING_TAG in run.data.tags:
                self._purge(run.info.run_id)
            else:
                self.run_ids[run_id] = run.info.run_id
                self._repair_stage(
                    run.info.lifecycle_stage, source_run, run.info.run_id
                )
                return None
        pending = self.store.search_runs(
            [experiment_id],
            filter_string=f"tags.`{PENDING_TAG}` = '{_quote(run_id)}'",
            view_type=ViewType.ALL,
            max_results=10,
        )
        for run in pending:
            self._purge(run.info.run_id)
        new_id = uuid.uuid4().hex
        self.run_ids[run_id] = new_id
        self.summary.mapped.append(("run", run_id, new_id))
        return new_id

    def _repair_stage(self, stage: str, source_run: SourceRun, target_id: str) -> None:
        """Delete a finished import whose deletion was not written (a stopped run)."""
        wanted = source_run.run.info.lifecycle_stage
        if wanted == LifecycleStage.DELETED.value and stage != wanted:
            self.store.update_run_info(target_id, lifecycle_stage=wanted)

    def _purge(self, run_id: str) -> None:
        self.store.update_run_info(run_id, lifecycle_stage=LifecycleStage.DELETED.value)
        self.store.purge_runs([run_id])

    def _run(self, experiment_id: str, source_run: SourceRun, run_id: str) -> None:
        store = self.store
        run = source_run.run
        info = run.info
        tags = dict(run.data.tags)
        run_name = tags.pop(RUN_NAME_TAG, None) or info.run_name
        tags[PENDING_TAG] = info.run_id  # the source id: found again by it
        created = store.create_run(
            experiment_id,
            user_id=info.user_id,
            start_time=info.start_time,
            run_name=run_name,
            tags=[RunTag(k, self._map_tag(k, v)) for k, v in tags.items()],
            run_id=run_id,
        )
        params = [Param(k, v) for k, v in run.data.params.items()]
        if params:
            store.log_batch(run_id, params=params)
        points = self.source.metric_history(run)
        # All but the last chunk now; the last goes with the run's end below.
        last = max(0, (len(points) - 1) // _METRIC_CHUNK * _METRIC_CHUNK)
        for start in range(0, last, _METRIC_CHUNK):
            store.log_metric_batches([(run_id, points[start : start + _METRIC_CHUNK])])
        self.summary.metric_points += len(points)
        if run.inputs.dataset_inputs:
            store.log_inputs(run_id, run.inputs.dataset_inputs)
        self._files(info.artifact_uri, created.info.artifact_uri)
        outputs = [
            (self.model_ids.get(m, m), step) for m, step in source_run.model_outputs
        ]
        if outputs:
            store.log_model_outputs(run_id, outputs)
        if source_run.model_inputs:
            store.log_model_inputs(
                run_id, [self.model_ids.get(m, m) for m in source_run.model_inputs]
            )
        batches = [(run_id, points[last:])] if points[last:] else []
        if info.status != RunStatus.RUNNING.value or info.end_time is not None:
            store.update_run_info(
                run_id,
                status=info.status,
                end_time=info.end_time,
                metric_batches=batches,
            )
        elif batches:
            store.log_metric_batches(batches)
        store.log_batch(run_id, tags=[RunTag(SOURCE_RUN_ID_TAG, info.run_id)])
        store.delete_tag(run_id, PENDING_TAG)
        if info.lifecycle_stage == LifecycleStage.DELETED.value:
            store.update_run_info(run_id, lifecycle_stage=info.lifecycle_stage)
        self.summary.runs += 1

    def _map_tag(self, key: str, value: str) -> str:
        if key == "mlflow.parentRunId":
            return self.run_ids.get(value, value)
        return value

    def _files(self, source_location: str, target_location: str) -> None:
        files = self.source.files(source_location)
        if not files:
            return
        self.progress("bytes_total", sum(f.size for f in files))
        artifacts = open_artifact_store(target_location, root=self.store.artifact_root)
        for file in files:
            chunks = self._counted(self.source.read(source_location, file.path))
            size = artifacts.write_stream(target_location, file.path, chunks)
            self.summary.files += 1
            self.summary.bytes += size

    def _counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.progress("bytes", len(chunk))
            yield chunk

    # Logged models ---------------------------------------------------------------

    def _model(self, experiment_id: str, source_model: SourceModel) -> None:
        model = source_model.model
        store = self.store
        model_id: str | None = model.model_id
        existing = None
        if _MODEL_ID.fullmatch(model.model_id):
            try:
                existing = store.get_logged_model(model.model_id, allow_deleted=True)
            except NotFoundError:
                existing = None
        else:
            model_id = None
        ours = existing is not None and (
            existing.tags.get(SOURCE_MODEL_ID_TAG) == model.model_id
            or existing.tags.get(PENDING_TAG) == model.model_id
        )
        if model_id is None or (existing is not None and not ours):
            # The id is another model's: find an earlier import under a new id.
            model_id = self._mapped_model(experiment_id, model.model_id)
            existing = (
                None
                if model_id is None
                else store.get_logged_model(model_id, allow_deleted=True)
            )
        if existing is not None and PENDING_TAG not in existing.tags:
            self.model_ids[model.model_id] = existing.model_id
            self.summary.logged_models_skipped += 1
            return
        source_run_id = model.source_run_id
        if source_run_id is not None:
            source_run_id = self.run_ids.get(source_run_id, source_run_id)
        if existing is None:
            tags = [RunTag(k, v) for k, v in model.tags.items()]
            tags.append(RunTag(PENDING_TAG, model.model_id))
            existing = store.create_logged_model(
                experiment_id,
                name=model.name,
                source_run_id=source_run_id,
                model_type=model.model_type,
                params=[Param(k, v) for k, v in model.params.items()],
                tags=tags,
                model_id=model_id,
                creation_timestamp=model.creation_timestamp or None,
            )
            if existing.model_id != model.model_id:
                self.summary.mapped.append(
                    ("logged model", model.model_id, existing.model_id)
                )
        target_id = existing.model_id
        self.model_ids[model.model_id] = target_id
        have = {(m.key, m.timestamp, m.step, m.run_id) for m in existing.metrics}
        metrics = [
            LoggedModelMetric(
                key=m.key,
                value=m.value,
                timestamp=m.timestamp,
                step=m.step,
                run_id=None
                if m.run_id is None
                else self.run_ids.get(m.run_id, m.run_id),
                dataset_name=m.dataset_name,
                dataset_digest=m.dataset_digest,
            )
            for m in model.metrics
        ]
        metrics = [
            m for m in metrics if (m.key, m.timestamp, m.step, m.run_id) not in have
        ]
        if metrics:
            store.log_logged_model_metrics(target_id, metrics)
        self._files(model.artifact_location, existing.artifact_location)
        if model.status != "PENDING":
            store.finalize_logged_model(
                target_id, model.status, status_message=model.status_message
            )
        store.set_logged_model_tags(
            target_id, [RunTag(SOURCE_MODEL_ID_TAG, model.model_id)]
        )
        store.delete_logged_model_tag(target_id, PENDING_TAG)
        if source_model.is_deleted:
            store.delete_logged_model(target_id)
        self.summary.logged_models += 1

    def _mapped_model(self, experiment_id: str, source_id: str) -> str | None:
        """Return the id an earlier import gave a model whose id was taken."""
        token = None
        while True:
            page = self.store.search_logged_models(
                [experiment_id], max_results=100, page_token=token
            )
            for model in page:
                if model.tags.get(SOURCE_MODEL_ID_TAG) == source_id:
                    return model.model_id
                if model.tags.get(PENDING_TAG) == source_id:
                    return model.model_id
            token = page.token
            if not token:
                return None

    # Registry --------------------------------------------------------------------

    def _registered_model(self, model: SourceRegisteredModel) -> None:
        store = self.store
        try:
            target = store.get_registered_model(model.name)
        except NotFoundError:
            target = store.create_registered_model(
                model.name, tags=model.tags, description=model.description or None
            )
            self.summary.registered_models += 1
        else:
            for key, value in model.tags.items():
                if key not in target.tags:
                    store.set_registered_model_tag(model.name, key, value)
            if model.description and not target.description:
                store.update_registered_model(model.name, description=model.description)
        done = int(
            store.get_registered_model(model.name).tags.get(VERSIONS_DONE_TAG, 0)
        )
        numbers = self._version_numbers(model.name)
        for version in model.versions:
            if version.version <= done:
                self.summary.model_versions_skipped += 1
                continue
            numbers[version.version] = self._version(version)
            store.set_registered_model_tag(
                model.name, VERSIONS_DONE_TAG, str(version.version)
            )
        current = store.get_registered_model(model.name).aliases
        for alias, number in model.aliases.items():
            mapped = numbers.get(number, number)
            if current.get(alias) != mapped:
                store.set_registered_model_alias(model.name, alias, mapped)

    def _version_numbers(self, name: str) -> dict[int, int]:
        """Return source -> target version numbers recorded by earlier imports."""
        numbers = {}
        for version in self.store.search_model_versions(
            filter_string=f"name = '{_quote(name)}'"
        ):
            source = version.tags.get(SOURCE_VERSION_TAG)
            if source is not None and source.isdigit():
                numbers[int(source)] = version.version
        return numbers

    def _version(self, version: ModelVersion) -> int:
        store = self.store
        model_id = version.model_id
        if model_id is not None:
            model_id = self.model_ids.get(model_id, model_id)
        tags = {**version.tags, SOURCE_VERSION_TAG: str(version.version)}
        if version.current_stage == _DELETED_STAGE:
            # MLflow keeps a deleted version's number with its fields redacted:
            # a version made and deleted here takes the number the same way.
            created = store.create_model_version(
                version.name,
                f"models:/{model_id}" if model_id else "deleted",
                tags={SOURCE_VERSION_TAG: str(version.version)},
            )
        else:
            created = store.create_model_version(
                version.name,
                self._map_source(version.source, version.model_id),
                run_id=self.run_ids.get(version.run_id, version.run_id) or None,
                tags=tags,
                run_link=version.run_link or None,
                description=version.description or None,
                user_id=version.user_id or None,
                model_id=model_id,
            )
        if created.version != version.version:
            self.summary.mapped.append(
                (
                    "model version",
                    f"{version.name}/{version.version}",
                    f"{version.name}/{created.version}",
                )
            )
        if version.current_stage == _DELETED_STAGE:
            store.delete_model_version(version.name, created.version)
        elif version.current_stage not in ("", "None"):
            store.transition_model_version_stage(
                version.name, created.version, version.current_stage
            )
        self.summary.model_versions += 1
        return created.version

    def _map_source(self, source: str, model_id: str | None) -> str:
        """Point a version's source at the imported run or model."""
        if source.startswith("models:/m-"):
            rest = source[len("models:/") :]
            model, sep, path = rest.partition("/")
            return f"models:/{self.model_ids.get(model, model)}{sep}{path}"
        if source.startswith("runs:/"):
            run, sep, path = source[len("runs:/") :].partition("/")
            return f"runs:/{self.run_ids.get(run, run)}{sep}{path}"
        if model_id is not None and model_id in self.model_ids:
            # A path into the source store's files: the imported model has them.
            return f"models:/{self.model_ids[model_id]}"
        return source or "unknown"


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def import_store(
    source: Source, store: SqlStore, *, progress: Progress | None = None
) -> ImportSummary:
    """Copy everything ``source`` holds into ``store``; skip what is there already.

    Parameters
    ----------
    source : Source
        An opened MLflow store (see ``open_source``).
    store : SqlStore
        The mltrail store to write to.
    progress : callable or None, default=None
        Called with ``("runs_total" | "run" | "bytes_total" | "bytes", amount)``.

    Returns
    -------
    ImportSummary
        What was copied and skipped, and which ids were changed.
    """
    return _Importer(source, store, progress or _ignore).copy()
