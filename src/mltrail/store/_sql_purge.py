"""Purging in ``SqlStore``: deleted runs and experiments removed for good (``gc``).

Deleting a run or an experiment only moves it to the trash (its lifecycle stage);
purging removes its rows, and only from the trash: a run or experiment that is not
deleted is refused, and a refused batch removes nothing. Artifacts are files, not
rows: the caller removes them (``TrackingClient.purge_runs``).

The rows of a run live in ``params``, ``tags``, ``metrics``, ``latest_metrics``,
``run_inputs`` and ``input_tags``, and its links to logged models; an experiment
adds ``experiment_tags``, ``datasets`` and its logged models (with their params,
tags, metrics and links). A table added later that references runs or experiments
must be added here too (``tests/store/test_purge.py`` checks); until it is, the
database's foreign keys refuse the purge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail._entities import LifecycleStage, RunInfo
from mltrail._errors import ConflictError, NotFoundError
from mltrail.store import _schema as schema
from mltrail.store._base import PurgedExperiments
from mltrail.store._sql_statements import _run_info
from mltrail.store._sql_transactions import SqlBase
from mltrail.store._values import check_experiment_id, check_run_id

__all__ = ["PurgeMixin"]

PURGE_CHUNK_SIZE = 500
_DELETED = LifecycleStage.DELETED.value
#: The tables that hold a run's rows by ``run_id``, children before ``runs``;
#: ``input_tags`` hang off ``run_inputs``.
RUN_TABLES = (
    schema.run_model_inputs,
    schema.run_model_outputs,
    schema.run_inputs,
    schema.metrics,
    schema.latest_metrics,
    schema.params,
    schema.tags,
    schema.runs,
)
#: The tables that hold a logged model's rows by ``model_id``, ``logged_models``
#: last.
MODEL_TABLES = (
    schema.run_model_inputs,
    schema.run_model_outputs,
    schema.logged_model_metrics,
    schema.logged_model_params,
    schema.logged_model_tags,
    schema.logged_models,
)
#: The tables that hold an experiment's rows by ``experiment_id``, ``experiments``
#: last (its runs and logged models go first).
EXPERIMENT_TABLES = (schema.datasets, schema.experiment_tags, schema.experiments)


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [
        items[i : i + PURGE_CHUNK_SIZE] for i in range(0, len(items), PURGE_CHUNK_SIZE)
    ]


def _delete_run_rows(conn: Connection, run_ids: Sequence[str]) -> None:
    """Delete every row of these runs, children tables first."""
    for chunk in _chunks(run_ids):
        inputs = sa.select(schema.run_inputs.c.input_id).where(
            schema.run_inputs.c.run_id.in_(chunk)
        )
        conn.execute(
            schema.input_tags.delete().where(schema.input_tags.c.input_id.in_(inputs))
        )
        for table in RUN_TABLES:
            conn.execute(table.delete().where(table.c.run_id.in_(chunk)))


class PurgeMixin(SqlBase):
    """The purge methods of ``SqlStore``."""

    def list_deleted_runs(self, *, deleted_before: int | None = None) -> list[RunInfo]:
        """Return the deleted runs, those deleted at or before a time if given.

        Parameters
        ----------
        deleted_before : int or None, default=None
            Milliseconds since the epoch; None for every deleted run. A run whose
            deletion time is unknown is left out when a time is given.

        Returns
        -------
        list of RunInfo
            The deleted runs, oldest deletion first.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> _ = store.update_run_info(run.info.run_id, lifecycle_stage="deleted")
        >>> run.info.run_id in [i.run_id for i in store.list_deleted_runs()]
        True
        >>> store.list_deleted_runs(deleted_before=0)
        []
        >>> store.close()
        """
        runs = schema.runs
        query = sa.select(*runs.c).where(runs.c.lifecycle_stage == _DELETED)
        if deleted_before is not None:
            query = query.where(runs.c.deleted_time <= deleted_before)
        query = query.order_by(runs.c.deleted_time, runs.c.run_id)

        def work(conn: Connection) -> list[RunInfo]:
            return [_run_info(row) for row in conn.execute(query)]

        return self._read(work)

    def purge_runs(self, run_ids: Sequence[str]) -> list[RunInfo]:
        """Remove deleted runs and all their rows, for good; all of them or none.

        Parameters
        ----------
        run_ids : sequence of str
            The runs to purge; each must be deleted (in the trash).

        Returns
        -------
        list of RunInfo
            The purged runs as they were, in the order given; their artifacts are
            still at ``artifact_uri``.

        Raises
        ------
        NotFoundError
            If a run does not exist; nothing is removed.
        ConflictError
            If a run is not deleted; nothing is removed.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run_id = store.create_run("0", user_id="ada", start_time=0,
        ...                           run_name="a").info.run_id
        >>> _ = store.update_run_info(run_id, lifecycle_stage="deleted")
        >>> [info.run_name for info in store.purge_runs([run_id])]
        ['a']
        >>> store.close()
        """
        ids = list(dict.fromkeys(check_run_id(run_id) for run_id in run_ids))
        runs = schema.runs

        def work(conn: Connection) -> list[RunInfo]:
            found: dict[str, RunInfo] = {}
            for chunk in _chunks(ids):
                rows = conn.execute(sa.select(*runs.c).where(runs.c.run_id.in_(chunk)))
                found.update((row.run_id, _run_info(row)) for row in rows)
            for run_id in ids:
                info = found.get(run_id)
                if info is None:
                    raise NotFoundError("run", run_id, "Nothing was purged.")
                if info.lifecycle_stage != _DELETED:
                    raise ConflictError(
                        f"run {run_id!r} is {info.lifecycle_stage}; only deleted "
                        "runs can be purged. Delete it first; nothing was purged."
                    )
            _delete_run_rows(conn, ids)
            return [found[run_id] for run_id in ids]

        return self._write(work)

    def purge_experiments(self, experiment_ids: Sequence[str]) -> PurgedExperiments:
        """Remove deleted experiments with all their runs, for good; all or none.

        Every run and logged model of a purged experiment goes with it, deleted or
        not: a deleted experiment hides all of them.

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments to purge; each must be deleted (in the trash).

        Returns
        -------
        PurgedExperiments
            The runs purged with them, and the artifact locations of their logged
            models; the files are still there.

        Raises
        ------
        NotFoundError
            If an experiment does not exist; nothing is removed.
        ConflictError
            If an experiment is not deleted; nothing is removed.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> experiment_id = store.create_experiment("old")
        >>> _ = store.create_run(experiment_id, user_id="ada", start_time=0,
        ...                      run_name="a")
        >>> store.update_experiment(experiment_id, lifecycle_stage="deleted")
        >>> [info.run_name for info in store.purge_experiments([experiment_id]).runs]
        ['a']
        >>> store.get_experiment_by_name("old") is None
        True
        >>> store.close()
        """
        numbers = list(dict.fromkeys(check_experiment_id(i) for i in experiment_ids))
        experiments = schema.experiments
        runs = schema.runs

        def work(conn: Connection) -> PurgedExperiments:
            stages: dict[int, str] = {}
            for chunk in _chunks(numbers):
                rows = conn.execute(
                    sa.select(
                        experiments.c.experiment_id, experiments.c.lifecycle_stage
                    ).where(experiments.c.experiment_id.in_(chunk))
                )
                stages.update((row.experiment_id, row.lifecycle_stage) for row in rows)
            for number in numbers:
                stage = stages.get(number)
                if stage is None:
                    raise NotFoundError(
                        "experiment", str(number), "Nothing was purged."
                    )
                if stage != _DELETED:
                    raise ConflictError(
                        f"experiment '{number}' is {stage}; only deleted experiments "
                        "can be purged. Delete it first; nothing was purged."
                    )
            purged: list[RunInfo] = []
            for chunk in _chunks(numbers):
                run_rows = conn.execute(
                    sa.select(*runs.c)
                    .where(runs.c.experiment_id.in_(chunk))
                    .order_by(runs.c.start_time, runs.c.run_id)
                )
                purged.extend(_run_info(row) for row in run_rows)
            _delete_run_rows(conn, [info.run_id for info in purged])
            locations: list[str] = []
            models = schema.logged_models
            for chunk in _chunks(numbers):
                owned = sa.select(models.c.model_id).where(
                    models.c.experiment_id.in_(chunk)
                )
                locations.extend(
                    conn.execute(
                        sa.select(models.c.artifact_location).where(
                            models.c.experiment_id.in_(chunk)
                        )
                    ).scalars()
                )
                for table in MODEL_TABLES:
                    conn.execute(table.delete().where(table.c.model_id.in_(owned)))
                for table in EXPERIMENT_TABLES:
                    conn.execute(table.delete().where(table.c.experiment_id.in_(chunk)))
                # Grants must not pass to a later experiment that reuses the id.
                grants = schema.resource_permissions
                conn.execute(
                    grants.delete().where(
                        grants.c.resource_type == "experiment",
                        grants.c.resource_id.in_([str(n) for n in chunk]),
                    )
                )
            return PurgedExperiments(purged, locations)

        return self._write(work)
