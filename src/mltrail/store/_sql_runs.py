"""Runs in ``SqlStore``: create, get and update them, and record heartbeats."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail._entities import (
    LifecycleStage,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
)
from mltrail._errors import (
    InvalidValueError,
    NotFoundError,
)
from mltrail._system_tags import RUN_NAME_TAG
from mltrail.store import _schema as schema
from mltrail.store._schema import (
    MAX_NAME_LENGTH,
    hash_key,
)
from mltrail.store._sql_logging import LoggingMixin, _to_batch
from mltrail.store._sql_run_search import RunSearchMixin
from mltrail.store._sql_statements import (
    _now,
    _run_info,
)
from mltrail.store._values import (
    check_experiment_id,
    check_int,
    check_run_id,
    check_stage,
    check_str,
    to_tag_rows,
)

_RUN_ID = re.compile(r"[0-9a-f]{32}")


class RunsMixin(LoggingMixin, RunSearchMixin):
    """The run methods of ``SqlStore``."""

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int,
        run_name: str,
        tags: Sequence[RunTag] = (),
        heartbeat_time: int | None = None,
        run_id: str | None = None,
    ) -> Run:
        """Create a RUNNING run in an active experiment.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.
        user_id : str
            Who runs it.
        start_time : int
            Milliseconds since the epoch.
        run_name : str
            The run's name; also stored as the ``mlflow.runName`` tag.
        tags : sequence of RunTag, default=()
            Tags of the run.
        heartbeat_time : int or None, default=None
            Milliseconds since the epoch: the creator sends heartbeats, and the run
            reads KILLED once none came for ``heartbeat_timeout`` seconds (even if
            the creator died before its first one). None: the run never expires.
        run_id : str or None, default=None
            The id to give it (``mltrail import`` keeps a source's ids); None for a
            new uuid4 hex. A taken id is a ConflictError.

        Returns
        -------
        Run
            The new run.

        Raises
        ------
        NotFoundError
            If the experiment does not exist.
        InvalidValueError
            If the experiment is deleted, or a value is invalid.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="first")
        >>> run.info.status, run.data.tags["mlflow.runName"]
        ('RUNNING', 'first')
        >>> store.close()
        """
        number = check_experiment_id(experiment_id)
        if not isinstance(user_id, str):
            raise InvalidValueError(
                "user_id", user_id, "a str", "Use getpass.getuser()."
            )
        start_time = check_int("start_time", start_time, "Use milliseconds.")
        if heartbeat_time is not None:
            heartbeat_time = check_int(
                "heartbeat_time", heartbeat_time, "Use milliseconds since the epoch."
            )
        tag_rows = {row["key"]: row for row in to_tag_rows(tags)}
        if not isinstance(run_name, str) or len(run_name) > MAX_NAME_LENGTH:
            raise InvalidValueError(
                "run_name",
                run_name,
                f"a str of at most {MAX_NAME_LENGTH} characters",
                "Use a short name such as 'baseline'.",
            )
        named = tag_rows.get(RUN_NAME_TAG)
        if named is not None:
            if run_name and named["value"] != run_name:
                raise InvalidValueError(
                    f"tag {RUN_NAME_TAG!r}",
                    named["value"],
                    f"equal to run_name {run_name!r} when both are given",
                    "Pass the name once, as run_name.",
                )
            run_name = check_str(
                "run_name", named["value"], MAX_NAME_LENGTH, "Use a short name."
            )
        elif run_name:
            tag_rows[RUN_NAME_TAG] = {
                "key_hash": hash_key(RUN_NAME_TAG),
                "key": RUN_NAME_TAG,
                "value": run_name,
            }
        if run_id is not None and not _RUN_ID.fullmatch(str(run_id)):
            # It names the run's artifact folder: nothing but an id's characters.
            raise InvalidValueError(
                "run_id", run_id, "32 lowercase hex digits", "Use uuid.uuid4().hex."
            )
        run_id = uuid.uuid4().hex if run_id is None else run_id
        rows = list(tag_rows.values())
        for row in rows:
            row["run_id"] = run_id

        def work(conn: Connection) -> str:
            _, found = self._execute(
                conn,
                self._select_experiment_for_run,
                {"experiment_id": number},
                fetch=True,
            )
            if not found:
                raise NotFoundError(
                    "experiment",
                    experiment_id,
                    "Create it with create_experiment(), or use '0' (Default).",
                )
            artifact_location, lifecycle_stage = found[0]
            if lifecycle_stage != LifecycleStage.ACTIVE.value:
                raise InvalidValueError(
                    "experiment",
                    experiment_id,
                    "an active experiment",
                    "It is deleted; restore it with restore_experiment() first.",
                )
            artifact_uri = f"{artifact_location}/{run_id}/artifacts"
            self._execute(
                conn,
                self._insert_run,
                {
                    "run_id": run_id,
                    "experiment_id": number,
                    "run_name": run_name,
                    "user_id": user_id,
                    "status": RunStatus.RUNNING.value,
                    "start_time": start_time,
                    "end_time": None,
                    "heartbeat_time": heartbeat_time,
                    "deleted_time": None,
                    "lifecycle_stage": LifecycleStage.ACTIVE.value,
                    "artifact_uri": artifact_uri,
                },
            )
            if rows:
                self._execute(conn, self._insert_tags, rows)
            return artifact_uri

        artifact_uri = self._write(work)
        info = RunInfo(
            run_id=run_id,
            run_name=run_name,
            experiment_id=str(number),
            user_id=user_id,
            status=RunStatus.RUNNING.value,
            start_time=start_time,
            end_time=None,
            artifact_uri=artifact_uri,
            lifecycle_stage=LifecycleStage.ACTIVE.value,
        )
        return Run(info, RunData(tags={row["key"]: row["value"] for row in rows}))

    def get_run(self, run_id: str) -> Run:
        """Return a run with its params, latest metrics, tags and inputs.

        Parameters
        ----------
        run_id : str
            The run's id.

        Returns
        -------
        Run
            The run, deleted or not.

        Raises
        ------
        NotFoundError
            If no run has this id.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.get_run(run_id).info.run_name
        'a'
        >>> store.close()
        """
        check_run_id(run_id)

        def work(conn: Connection, *, expire: bool = True) -> Run | bool | None:
            row = self._fetch_run(conn, run_id)
            if row is None:
                return None
            if expire and self._is_stale(row) and self.read_only is None:
                return True
            return self._runs_from_rows(conn, [row])[0]

        found = self._read(work)
        if found is True:
            self._expire_heartbeats()  # skipped if another writer holds the lock
            found = self._read(lambda conn: work(conn, expire=False))
        if not isinstance(found, Run):
            raise NotFoundError(
                "run", run_id, "Check the id, or list runs with search_runs()."
            )
        return found

    def update_run_info(
        self,
        run_id: str,
        *,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
        lifecycle_stage: str | None = None,
        metric_batches: Sequence[tuple[str, Sequence[Metric]]] = (),
        heartbeat_time: int | None = None,
    ) -> RunInfo:
        """Change a run's status, end time, name or lifecycle stage.

        Metric points passed in ``metric_batches`` are written in the same
        transaction, first: ending a run and writing its buffered points costs one
        commit, and either both happen or neither does.

        Parameters
        ----------
        run_id : str
            The run's id.
        status : str or None, default=None
            A ``RunStatus`` value.
        end_time : int or None, default=None
            Milliseconds since the epoch.
        run_name : str or None, default=None
            A new name (the ``mlflow.runName`` tag follows it).
        lifecycle_stage : {"active", "deleted"} or None, default=None
            ``"deleted"`` moves the run to the trash, ``"active"`` restores it.
        metric_batches : sequence of (str, sequence of Metric), default=()
            Pairs of a run id and its points, as for ``log_metric_batches``.
        heartbeat_time : int or None, default=None
            The caller sends heartbeats again from this time (milliseconds), as
            when a process resumes a run. A terminal ``status`` ends heartbeat
            expiry instead.

        Returns
        -------
        RunInfo
            The updated info.

        Raises
        ------
        NotFoundError
            If no run has this id, or a run of ``metric_batches`` does not exist;
            nothing is written.
        InvalidValueError
            If a value or a point is invalid, or a run of ``metric_batches`` is
            deleted; nothing is written.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.update_run_info(run_id, status="FINISHED", end_time=5).status
        'FINISHED'
        >>> store.close()
        """
        check_run_id(run_id)
        runs = schema.runs
        values: dict[str, object] = {}
        if status is not None:
            try:
                values["status"] = RunStatus(status).value
                if RunStatus(status).is_terminated:
                    # Ended on purpose: never revived by a late heartbeat.
                    values["heartbeat_time"] = None
            except ValueError:
                raise InvalidValueError(
                    "status",
                    status,
                    "one of " + ", ".join(s.value for s in RunStatus),
                    "Use RunStatus.FINISHED, for example.",
                ) from None
        if end_time is not None:
            values["end_time"] = check_int("end_time", end_time, "Use milliseconds.")
        if run_name is not None:
            values["run_name"] = check_str(
                "run_name", run_name, MAX_NAME_LENGTH, "Use a short name."
            )
        if lifecycle_stage is not None:
            values["lifecycle_stage"] = check_stage(lifecycle_stage)
            values["deleted_time"] = (
                _now() if lifecycle_stage == LifecycleStage.DELETED.value else None
            )

        if heartbeat_time is not None:
            values["heartbeat_time"] = check_int(
                "heartbeat_time", heartbeat_time, "Use milliseconds since the epoch."
            )

        batch = _to_batch(metric_batches)

        def work(conn: Connection) -> RunInfo:
            if batch.rows:
                self._write_batch(conn, batch)
            if values.keys() == {"status", "end_time", "heartbeat_time"} and (
                values["heartbeat_time"] is None
            ):
                # Ending a run is the common case: a pre-compiled statement.
                self._execute(
                    conn,
                    self._end_run,
                    {
                        "b_run_id": run_id,
                        "b_status": values["status"],
                        "b_end_time": values["end_time"],
                    },
                )
            elif values:
                conn.execute(
                    runs.update().where(runs.c.run_id == run_id).values(**values)
                )
            row = self._fetch_run(conn, run_id)
            if row is None:
                raise NotFoundError(
                    "run", run_id, "Check the id, or list runs with search_runs()."
                )
            if run_name is not None:
                self._upsert_tags(
                    conn,
                    [
                        {
                            "run_id": run_id,
                            "key_hash": hash_key(RUN_NAME_TAG),
                            "key": RUN_NAME_TAG,
                            "value": run_name,
                        }
                    ],
                )
            return _run_info(row)

        return self._write(work)

    def touch_heartbeat(self, run_ids: Sequence[str], time: int) -> None:
        """Record that the process owning these RUNNING runs is alive.

        Parameters
        ----------
        run_ids : sequence of str
            Runs of the calling process; runs that are not RUNNING are skipped.
        time : int
            Milliseconds since the epoch.

        Examples
        --------
        >>> import time
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.touch_heartbeat([run_id], int(time.time() * 1000))
        >>> store.get_run(run_id).info.status
        'RUNNING'
        >>> store.close()
        """
        ids = [check_run_id(run_id) for run_id in run_ids]
        moment = check_int("time", time, "Use milliseconds since the epoch.")
        if not ids:
            return
        runs = schema.runs
        running = runs.c.status == RunStatus.RUNNING.value
        # KILLED with a heartbeat kept: expired while its process was stopped.
        expired = sa.and_(
            runs.c.status == RunStatus.KILLED.value, runs.c.heartbeat_time.is_not(None)
        )
        statement = (
            runs.update()
            .where(runs.c.run_id.in_(ids), sa.or_(running, expired))
            # A running run has no end time; MySQL would evaluate a CASE on status
            # after the new status was set, so none is used.
            .values(
                heartbeat_time=moment, status=RunStatus.RUNNING.value, end_time=None
            )
        )
        self._write(lambda conn: conn.execute(statement))
