"""Purging deleted runs and experiments for good (``store/_sql_purge.py``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mltrail._entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelMetric,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from mltrail._errors import ConflictError, InvalidValueError, NotFoundError
from mltrail.store import _schema as schema
from mltrail.store import _sql_purge as purge
from mltrail.store._base import PurgeableStore
from mltrail.store._sql import SqlStore

RUN_TABLES = (
    schema.params,
    schema.tags,
    schema.metrics,
    schema.latest_metrics,
    schema.run_inputs,
)


def _full_run(store: SqlStore, experiment_id: str = "0", name: str = "r") -> str:
    """Create a run with a row in every table a run has."""
    run_id = store.create_run(
        experiment_id, user_id="ada", start_time=1, run_name=name
    ).info.run_id
    store.log_batch(
        run_id,
        metrics=[Metric("loss", 0.5, 1, 0), Metric("loss", 0.25, 2, 1)],
        params=[Param("C", "1.0")],
        tags=[RunTag("team", "risk")],
    )
    dataset = Dataset(f"train-{name}", "d1", "code", "{}")
    store.log_inputs(
        run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])]
    )
    return run_id


def _rows(store: SqlStore, table: sa.Table, run_id: str) -> int:
    with store._engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        return int(conn.execute(query.where(table.c.run_id == run_id)).scalar_one())


def _input_tag_rows(store: SqlStore) -> int:
    with store._engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(schema.input_tags)
        return int(conn.execute(query).scalar_one())


def _delete(store: SqlStore, run_id: str) -> None:
    store.update_run_info(run_id, lifecycle_stage="deleted")


def test_purge_knows_every_table_that_holds_run_or_experiment_rows() -> None:
    # A new table that references runs or experiments must be purged too.
    referencing = {
        (table.name, fk.column.table.name)
        for table in schema.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name in ("runs", "experiments", "run_inputs")
    }
    by_model = {
        table.name
        for table in schema.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "logged_models"
    }
    assert by_model | {"logged_models"} == {t.name for t in purge.MODEL_TABLES}
    known = {(t.name, "runs") for t in purge.RUN_TABLES if t is not schema.runs}
    known |= {("input_tags", "run_inputs"), ("runs", "experiments")}
    known |= {
        (t.name, "experiments")
        for t in (*purge.EXPERIMENT_TABLES, schema.logged_models)
        if t is not schema.experiments
    }
    assert referencing == known


def test_sql_store_is_purgeable(store: SqlStore) -> None:
    assert isinstance(store, PurgeableStore)


def test_purge_runs_removes_every_row_of_the_run(store: SqlStore) -> None:
    run_id = _full_run(store)
    kept = _full_run(store, name="kept")
    _delete(store, run_id)
    purged = store.purge_runs([run_id])
    assert [info.run_id for info in purged] == [run_id]
    assert purged[0].lifecycle_stage == "deleted"
    with pytest.raises(NotFoundError):
        store.get_run(run_id)
    assert all(_rows(store, table, run_id) == 0 for table in RUN_TABLES)
    assert _input_tag_rows(store) == 1  # the kept run's input keeps its tag
    assert store.get_run(kept).data.params == {"C": "1.0"}
    assert [m.value for m in store.get_metric_history(kept, "loss")] == [0.5, 0.25]


def test_purge_runs_refuses_an_active_run_and_purges_nothing(store: SqlStore) -> None:
    deleted = _full_run(store, name="deleted")
    active = _full_run(store, name="active")
    _delete(store, deleted)
    with pytest.raises(ConflictError, match=f"run '{active}' is active"):
        store.purge_runs([deleted, active])
    assert store.get_run(deleted).info.lifecycle_stage == "deleted"
    assert _rows(store, schema.params, deleted) == 1


def test_purge_runs_refuses_an_unknown_run_and_purges_nothing(
    store: SqlStore,
) -> None:
    deleted = _full_run(store)
    _delete(store, deleted)
    with pytest.raises(NotFoundError, match="run '" + "f" * 32 + "' does not exist"):
        store.purge_runs([deleted, "f" * 32])
    assert store.get_run(deleted).info.run_id == deleted


@pytest.mark.parametrize("bad", [None, "", 7], ids=["none", "empty", "int"])
def test_purge_runs_rejects_a_bad_id(store: SqlStore, bad: object) -> None:
    with pytest.raises(InvalidValueError, match="run_id must be a non-empty str"):
        store.purge_runs([bad])  # type: ignore[list-item]


def test_purge_runs_of_nothing_is_nothing(store: SqlStore) -> None:
    assert store.purge_runs([]) == []


def test_purge_runs_takes_a_repeated_id_once(store: SqlStore) -> None:
    run_id = _full_run(store)
    _delete(store, run_id)
    assert [info.run_id for info in store.purge_runs([run_id, run_id])] == [run_id]


def test_purge_many_runs_in_chunks(store: SqlStore) -> None:
    run_ids = [
        store.create_run("0", user_id="ada", start_time=1, run_name="r").info.run_id
        for _ in range(3)
    ]
    for run_id in run_ids:
        _delete(store, run_id)
    chunk_size = purge.PURGE_CHUNK_SIZE
    purge.PURGE_CHUNK_SIZE = 2
    try:
        purged = store.purge_runs(run_ids)
    finally:
        purge.PURGE_CHUNK_SIZE = chunk_size
    assert [info.run_id for info in purged] == run_ids
    assert store.list_deleted_runs() == []


def test_list_deleted_runs_by_deletion_time(store: SqlStore) -> None:
    old = _full_run(store, name="old")
    new = _full_run(store, name="new")
    active = _full_run(store, name="active")
    _delete(store, old)
    with store._engine.begin() as conn:
        conn.execute(
            schema.runs.update()
            .where(schema.runs.c.run_id == old)
            .values(deleted_time=1_000)
        )
    _delete(store, new)
    assert [i.run_id for i in store.list_deleted_runs()] == [old, new]
    assert [i.run_id for i in store.list_deleted_runs(deleted_before=1_000)] == [old]
    assert store.list_deleted_runs(deleted_before=999) == []
    assert active not in [i.run_id for i in store.list_deleted_runs()]


def test_list_deleted_runs_leaves_out_unknown_deletion_times(store: SqlStore) -> None:
    run_id = _full_run(store)
    _delete(store, run_id)
    with store._engine.begin() as conn:
        conn.execute(schema.runs.update().values(deleted_time=None))
    assert [i.run_id for i in store.list_deleted_runs()] == [run_id]
    assert store.list_deleted_runs(deleted_before=2**62) == []


def test_purge_experiments_removes_it_with_all_its_runs(store: SqlStore) -> None:
    experiment_id = store.create_experiment("old", tags=[RunTag("team", "risk")])
    active = _full_run(store, experiment_id, "active")
    deleted = _full_run(store, experiment_id, "deleted")
    _delete(store, deleted)
    other = _full_run(store, "0", "other")
    store.update_experiment(experiment_id, lifecycle_stage="deleted")
    purged = store.purge_experiments([experiment_id]).runs
    assert sorted(info.run_id for info in purged) == sorted([active, deleted])
    with pytest.raises(NotFoundError):
        store.get_experiment(experiment_id)
    assert store.get_experiment_by_name("old") is None
    for run_id in (active, deleted):
        assert all(_rows(store, table, run_id) == 0 for table in RUN_TABLES)
    with store._engine.connect() as conn:
        for table in (schema.datasets, schema.experiment_tags):
            count = sa.select(sa.func.count()).select_from(table)
            left = conn.execute(
                count.where(table.c.experiment_id == int(experiment_id))
            )
            assert left.scalar_one() == 0
    assert store.get_run(other).inputs.dataset_inputs[0].dataset.name == "train-other"
    # The name is free again.
    assert store.get_experiment(store.create_experiment("old")).name == "old"


def test_purge_experiments_removes_their_logged_models(store: SqlStore) -> None:
    experiment_id = store.create_experiment("old")
    run_id = _full_run(store, experiment_id)
    model = store.create_logged_model(
        experiment_id,
        name="model",
        source_run_id=run_id,
        params=[Param("C", "1")],
        tags=[RunTag("t", "v")],
    )
    store.log_logged_model_metrics(model.model_id, [LoggedModelMetric("acc", 0.9, 1)])
    store.log_model_outputs(run_id, [(model.model_id, 0)])
    user = _full_run(store, "0", "user")
    store.log_model_inputs(user, [model.model_id])
    kept = store.create_logged_model("0", name="kept", source_run_id=user)
    store.log_model_outputs(user, [(kept.model_id, 0)])
    store.update_experiment(experiment_id, lifecycle_stage="deleted")
    purged = store.purge_experiments([experiment_id])
    assert purged.model_artifact_uris == [model.artifact_location]
    with pytest.raises(NotFoundError):
        store.get_logged_model(model.model_id)
    assert store.get_logged_model(kept.model_id).name == "kept"
    with store._engine.connect() as conn:
        for table in purge.MODEL_TABLES:
            count = sa.select(sa.func.count()).select_from(table)
            assert (
                conn.execute(
                    count.where(table.c.model_id == model.model_id)
                ).scalar_one()
                == 0
            )


def test_purge_runs_removes_their_links_to_logged_models(store: SqlStore) -> None:
    run_id = _full_run(store)
    model = store.create_logged_model("0", name="model", source_run_id=run_id)
    store.log_model_outputs(run_id, [(model.model_id, 0)])
    _delete(store, run_id)
    store.purge_runs([run_id])
    assert store.get_logged_model(model.model_id).source_run_id == run_id
    assert _rows(store, schema.run_model_outputs, run_id) == 0


def test_purge_experiments_refuses_an_active_one(store: SqlStore) -> None:
    deleted = store.create_experiment("deleted")
    active = store.create_experiment("active")
    store.update_experiment(deleted, lifecycle_stage="deleted")
    with pytest.raises(ConflictError, match=f"experiment '{active}' is active"):
        store.purge_experiments([deleted, active])
    assert store.get_experiment(deleted).lifecycle_stage == "deleted"


def test_purge_experiments_refuses_an_unknown_one(store: SqlStore) -> None:
    deleted = store.create_experiment("deleted")
    store.update_experiment(deleted, lifecycle_stage="deleted")
    with pytest.raises(NotFoundError, match="experiment '999' does not exist"):
        store.purge_experiments([deleted, "999"])
    assert store.get_experiment(deleted).name == "deleted"


def test_purge_experiments_rejects_a_bad_id(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="experiment_id must be"):
        store.purge_experiments(["x"])


def test_purged_runs_leave_search_results(store: SqlStore) -> None:
    run_id = _full_run(store)
    _delete(store, run_id)
    store.purge_runs([run_id])
    found = store.search_runs(["0"], view_type=ViewType.ALL)
    assert run_id not in [run.info.run_id for run in found]
