"""Ids that are taken, and imports that stop half-way and run again."""

from __future__ import annotations

from typing import Any

import pytest

from mltrail._entities import ViewType
from mltrail.importer import ImportSummary, import_store, open_source
from mltrail.importer._copy import PENDING_TAG, SOURCE_RUN_ID_TAG, Progress
from mltrail.store._sql import SqlStore
from tests.importer._compare import assert_store_equal
from tests.importer.conftest import MlflowStore

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


class _Stop(Exception):
    pass


def _import(
    uri: str, store: SqlStore, progress: Progress | None = None
) -> ImportSummary:
    source = open_source(uri)
    try:
        return import_store(source, store, progress=progress)
    finally:
        source.close()


def _history_run(truth: dict[str, Any]) -> str:
    runs = [r for e in truth["experiments"] for r in e["runs"]]
    return str(next(r["run_id"] for r in runs if r["run_name"] == "history"))


def test_taken_ids_get_new_ones_and_say_so(
    mlflow_sqlite: MlflowStore, sqlite_store: SqlStore
) -> None:
    history = _history_run(mlflow_sqlite.truth)
    sqlite_store.create_experiment("mine", experiment_id="1")
    sqlite_store.create_run(
        "0", user_id="me", start_time=1, run_name="mine", run_id=history
    )

    summary = _import(mlflow_sqlite.uri, sqlite_store)

    mapped = {(kind, old): new for kind, old, new in summary.mapped}
    assert mapped[("experiment", "1")] != "1"
    new_run = mapped[("run", history)]
    assert sqlite_store.get_run(new_run).data.tags[SOURCE_RUN_ID_TAG] == history
    assert sqlite_store.get_run(history).info.run_name == "mine"
    assert_store_equal(sqlite_store, mlflow_sqlite.truth)


def test_taken_ids_are_found_again_on_a_second_import(
    mlflow_sqlite: MlflowStore, sqlite_store: SqlStore
) -> None:
    history = _history_run(mlflow_sqlite.truth)
    sqlite_store.create_run(
        "0", user_id="me", start_time=1, run_name="mine", run_id=history
    )
    _import(mlflow_sqlite.uri, sqlite_store)

    again = _import(mlflow_sqlite.uri, sqlite_store)

    assert (again.runs, again.mapped) == (0, [])
    assert_store_equal(sqlite_store, mlflow_sqlite.truth)


@pytest.mark.parametrize(
    ("event", "count"),
    [("bytes", 1), ("bytes_total", 2), ("run", 3)],
    ids=["inside-a-model", "inside-a-run", "between-runs"],
)
def test_stopped_import_finishes_on_the_next(
    mlflow_sqlite: MlflowStore, sqlite_store: SqlStore, event: str, count: int
) -> None:
    seen = []

    def stop(name: str, amount: int) -> None:
        seen.append(name)
        if seen.count(event) == count:
            raise _Stop

    with pytest.raises(_Stop):
        _import(mlflow_sqlite.uri, sqlite_store, progress=stop)

    _import(mlflow_sqlite.uri, sqlite_store)

    assert_store_equal(sqlite_store, mlflow_sqlite.truth)
    experiments = [
        e.experiment_id for e in sqlite_store.search_experiments(view_type=ViewType.ALL)
    ]
    runs = sqlite_store.search_runs(experiments, view_type=ViewType.ALL)
    assert not [r for r in runs if PENDING_TAG in r.data.tags]
