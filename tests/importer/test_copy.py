"""``import_store`` on an in-memory source: merging, mapping, stages, the registry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pytest

from mltrail._entities import (
    Experiment,
    LifecycleStage,
    LoggedModel,
    LoggedModelMetric,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunTag,
    ViewType,
)
from mltrail._errors import MltrailError
from mltrail._registry_entities import ModelVersion
from mltrail.importer import _copy as copy
from mltrail.importer import import_store
from mltrail.importer._copy import PENDING_TAG, SOURCE_MODEL_ID_TAG, SOURCE_RUN_ID_TAG
from mltrail.importer._source import (
    SourceFile,
    SourceModel,
    SourceRegisteredModel,
    SourceRun,
)
from mltrail.store._sql import SqlStore

RUN = "a" * 32
CHILD = "b" * 32
MODEL = "m-" + "c" * 32


@dataclass
class MemorySource:
    """A source held in memory, with one experiment unless told otherwise."""

    uri: str = "memory"
    experiment: Experiment = field(
        default_factory=lambda: Experiment("7", "exp", "", "active", 1, 1, {"k": "v"})
    )
    source_runs: list[SourceRun] = field(default_factory=list)
    points: dict[str, list[Metric]] = field(default_factory=dict)
    models: list[SourceModel] = field(default_factory=list)
    registry: list[SourceRegisteredModel] = field(default_factory=list)
    content: dict[str, bytes] = field(default_factory=dict)

    def experiments(self) -> list[Experiment]:
        return [self.experiment]

    def runs(self, experiment_id: str) -> list[SourceRun]:
        return self.source_runs

    def metric_history(self, run: Run) -> list[Metric]:
        return self.points.get(run.info.run_id, [])

    def logged_models(self, experiment_id: str) -> list[SourceModel]:
        return self.models

    def files(self, location: str) -> list[SourceFile]:
        data = self.content.get(location)
        return [] if data is None else [SourceFile("file.bin", len(data))]

    def read(self, location: str, path: str) -> Iterator[bytes]:
        yield self.content[location]

    def registered_models(self) -> list[SourceRegisteredModel]:
        return self.registry

    def close(self) -> None:
        pass


def _run(run_id: str, *, status: str = "FINISHED", **tags: str) -> SourceRun:
    info = RunInfo(
        run_id=run_id,
        run_name="r",
        experiment_id="7",
        user_id="ada",
        status=status,
        start_time=5,
        end_time=None if status == "RUNNING" else 9,
        artifact_uri=f"src/{run_id}",
        lifecycle_stage="active",
    )
    return SourceRun(Run(info, RunData(params={"C": "1"}, tags=dict(tags))))


def _model(model_id: str = MODEL, *, deleted: bool = False) -> SourceModel:
    return SourceModel(
        LoggedModel(
            model_id=model_id,
            experiment_id="7",
            name="model",
            artifact_location=f"src/{model_id}",
            creation_timestamp=3,
            last_updated_timestamp=4,
            status="READY",
            source_run_id=RUN,
            params={"C": "1"},
            metrics=[LoggedModelMetric("acc", 0.9, 6, 0, run_id=RUN)],
        ),
        is_deleted=deleted,
    )


def test_runs_join_an_experiment_of_the_same_name(sqlite_store: SqlStore) -> None:
    experiment_id = sqlite_store.create_experiment("exp", tags=[RunTag("own", "x")])
    sqlite_store.update_experiment(experiment_id, lifecycle_stage="deleted")
    source = MemorySource(source_runs=[_run(RUN)])

    summary = import_store(source, sqlite_store)

    experiment = sqlite_store.get_experiment(experiment_id)
    assert summary.experiments == 0
    assert experiment.tags == {"own": "x", "k": "v"}
    assert experiment.lifecycle_stage == LifecycleStage.DELETED.value
    assert sqlite_store.get_run(RUN).info.experiment_id == experiment_id


def test_running_run_keeps_running_with_every_point(
    sqlite_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copy, "_METRIC_CHUNK", 3)
    points = [Metric("loss", 1 / (i + 1), 100 + i, i) for i in range(10)]
    source = MemorySource(
        source_runs=[_run(RUN, status="RUNNING")], points={RUN: points}
    )

    import_store(source, sqlite_store)

    run = sqlite_store.get_run(RUN)
    assert (run.info.status, run.info.end_time) == ("RUNNING", None)
    assert sqlite_store.get_metric_history(RUN, "loss") == points


def test_models_are_linked_and_deleted_ones_stay_deleted(
    sqlite_store: SqlStore,
) -> None:
    gone = "m-" + "d" * 32
    run = replace(_run(RUN), model_inputs=[MODEL], model_outputs=[(gone, 2)])
    source = MemorySource(
        source_runs=[run],
        models=[_model(), _model(gone, deleted=True)],
        content={f"src/{MODEL}": b"weights"},
    )

    import_store(source, sqlite_store)

    inputs, outputs = sqlite_store.get_run_models(RUN)
    model = sqlite_store.get_logged_model(MODEL)
    assert (inputs, outputs) == ([MODEL], [(gone, 2)])
    assert (model.status, model.creation_timestamp, model.params) == (
        "READY",
        3,
        {"C": "1"},
    )
    assert [(m.key, m.run_id) for m in model.metrics] == [("acc", RUN)]
    assert model.tags[SOURCE_MODEL_ID_TAG] == MODEL
    assert sqlite_store.get_logged_model(gone, allow_deleted=True) is not None
    assert sqlite_store.search_logged_models(["7"]) == [model]


def test_model_ids_that_cannot_be_kept_are_mapped_once(sqlite_store: SqlStore) -> None:
    sqlite_store.create_experiment("other")
    sqlite_store.create_logged_model("0", name="mine", model_id=MODEL)
    source = MemorySource(models=[_model(), _model("model-7")])

    first = import_store(source, sqlite_store)
    again = import_store(source, sqlite_store)

    mapped = {old: new for kind, old, new in first.mapped if kind == "logged model"}
    assert sorted(mapped) == [MODEL, "model-7"]
    assert (
        sqlite_store.get_logged_model(mapped[MODEL]).tags[SOURCE_MODEL_ID_TAG] == MODEL
    )
    assert sqlite_store.get_logged_model(MODEL).name == "mine"
    assert (again.logged_models, again.logged_models_skipped) == (0, 2)


def test_a_stopped_mapped_run_is_written_again(sqlite_store: SqlStore) -> None:
    sqlite_store.create_run(
        "0", user_id="me", start_time=1, run_name="mine", run_id=RUN
    )
    source = MemorySource(source_runs=[_run(RUN)], content={f"src/{RUN}": b"x"})

    def stop(event: str, amount: int) -> None:
        if event == "bytes":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_store(source, sqlite_store, progress=stop)
    summary = import_store(source, sqlite_store)

    runs = sqlite_store.search_runs(["7"], view_type=ViewType.ALL)
    assert len(runs) == 1
    assert runs[0].data.tags[SOURCE_RUN_ID_TAG] == RUN
    assert PENDING_TAG not in runs[0].data.tags
    assert summary.runs == 1


def test_a_deleted_run_restored_by_hand_is_deleted_again(
    sqlite_store: SqlStore,
) -> None:
    deleted = _run(RUN)
    deleted = replace(
        deleted,
        run=Run(replace(deleted.run.info, lifecycle_stage="deleted"), deleted.run.data),
    )
    source = MemorySource(source_runs=[deleted])
    import_store(source, sqlite_store)
    sqlite_store.update_run_info(RUN, lifecycle_stage="active")

    import_store(source, sqlite_store)

    assert sqlite_store.get_run(RUN).info.lifecycle_stage == "deleted"


def _version(number: int, source: str, stage: str = "None") -> ModelVersion:
    return ModelVersion(
        name="iris",
        version=number,
        creation_timestamp=0,
        last_updated_timestamp=0,
        source=source,
        run_id=RUN,
        current_stage=stage,
    )


def test_registry_merges_into_a_model_with_versions(sqlite_store: SqlStore) -> None:
    sqlite_store.create_registered_model("iris")
    sqlite_store.create_model_version("iris", "runs:/" + "e" * 32 + "/model")
    sqlite_store.create_run(
        "0", user_id="me", start_time=1, run_name="mine", run_id=RUN
    )
    source = MemorySource(
        source_runs=[_run(RUN)],
        registry=[
            SourceRegisteredModel(
                name="iris",
                description="Iris",
                tags={"owner": "risk"},
                aliases={"champion": 1},
                versions=[
                    _version(1, f"runs:/{RUN}/model", "Production"),
                    _version(2, "/somewhere/else"),
                ],
            )
        ],
    )

    summary = import_store(source, sqlite_store)
    again = import_store(source, sqlite_store)

    model = sqlite_store.get_registered_model("iris")
    first = sqlite_store.get_model_version("iris", 2)
    new_run = {old: new for kind, old, new in summary.mapped if kind == "run"}[RUN]
    assert (model.description, model.tags["owner"]) == ("Iris", "risk")
    assert model.aliases == {"champion": 2}
    assert first.source == f"runs:/{new_run}/model"
    assert first.current_stage == "Production"
    assert sqlite_store.get_model_version("iris", 3).source == "/somewhere/else"
    assert ("model version", "iris/1", "iris/2") in summary.mapped
    assert (again.model_versions, again.model_versions_skipped) == (0, 2)


def test_a_failure_names_the_experiment(sqlite_store: SqlStore) -> None:
    source = MemorySource(experiment=Experiment("7", "x" * 600, "", "active", 1, 1, {}))

    with pytest.raises(MltrailError, match="importing experiment 'xxx"):
        import_store(source, sqlite_store)


def test_a_failure_names_the_registered_model(sqlite_store: SqlStore) -> None:
    source = MemorySource(registry=[SourceRegisteredModel("bad/name", "", {}, {}, [])])

    with pytest.raises(MltrailError, match="importing registered model 'bad/name'"):
        import_store(source, sqlite_store)
