"""Experiments in ``SqlStore``: create, get, update and search them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from mltrail._entities import (
    Experiment,
    LifecycleStage,
    PagedList,
    RunTag,
    ViewType,
)
from mltrail._errors import (
    ConflictError,
    InvalidValueError,
    NotFoundError,
)
from mltrail.store import _pages as pages
from mltrail.store import _schema as schema
from mltrail.store import _search as search
from mltrail.store._schema import (
    MAX_NAME_LENGTH,
    hash_key,
)
from mltrail.store._sql_statements import (
    SqlStatements,
    _now,
)
from mltrail.store._sql_transactions import _RetryError
from mltrail.store._values import (
    check_encodable,
    check_experiment_id,
    check_int,
    check_key,
    check_max_results,
    check_stage,
    check_str,
    check_view_type,
    to_tag_rows,
)

# Experiment ids are a 32-bit INTEGER column in every dialect.
MAX_EXPERIMENT_ID = 2**31 - 1


class ExperimentsMixin(SqlStatements):
    """The experiment methods of ``SqlStore``."""

    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: Sequence[RunTag] = (),
        experiment_id: str | None = None,
        creation_time: int | None = None,
    ) -> str:
        """Create an experiment and return its id.

        Parameters
        ----------
        name : str
            A unique, non-empty name.
        artifact_location : str or None, default=None
            Where its runs keep artifacts; by default ``<artifact_root>/<id>``.
        tags : sequence of RunTag, default=()
            Tags of the experiment.
        experiment_id : str or None, default=None
            The id to give it (``mltrail import`` keeps a source's ids); None
            for the next free one. A taken id is a ConflictError.
        creation_time : int or None, default=None
            Milliseconds since the epoch (``mltrail import``); None for now.

        Returns
        -------
        str
            The new experiment's id.

        Raises
        ------
        ConflictError
            If an experiment (active or deleted) already has this name, or
            ``experiment_id`` is taken.
        InvalidValueError
            If the name or a tag is invalid.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> store.create_experiment("iris")
        '1'
        >>> store.close()
        """
        check_str(
            "experiment name", name, MAX_NAME_LENGTH, "Use a name such as 'iris'."
        )
        if artifact_location is not None:
            check_str("artifact_location", artifact_location, 10_000, "Use a path.")
            if len(urlparse(artifact_location).scheme) <= 1:  # a path, or C:\...
                # A relative folder means the same folder to every later process.
                artifact_location = os.path.abspath(artifact_location)
        tag_rows = to_tag_rows(tags)
        experiments = schema.experiments
        given = {}
        if experiment_id is not None:
            given["experiment_id"] = check_experiment_id(experiment_id)
            if given["experiment_id"] > MAX_EXPERIMENT_ID:
                raise InvalidValueError(
                    "experiment_id",
                    experiment_id,
                    f"at most {MAX_EXPERIMENT_ID}",
                    "Create the experiment without an id to get a free one.",
                )
        if creation_time is not None:
            creation_time = check_int("creation_time", creation_time, "Use ms.")

        def work(conn: Connection) -> str:
            self._check_name_free(conn, name)
            if given:
                self._check_id_free(conn, given["experiment_id"])
            now = _now() if creation_time is None else creation_time
            try:
                result = conn.execute(
                    experiments.insert().values(
                        name=name,
                        artifact_location=artifact_location or "",
                        lifecycle_stage=LifecycleStage.ACTIVE.value,
                        creation_time=now,
                        last_update_time=now,
                        **given,
                    )
                )
            except IntegrityError:
                raise _RetryError from None
            if given and self._dialect == "postgresql":
                # An explicit id does not move PostgreSQL's sequence; the next
                # create_experiment() would draw a taken id.
                conn.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('experiments', "
                        "'experiment_id'), "
                        "(SELECT max(experiment_id) FROM experiments))"
                    )
                )
            # A single-row INSERT always reports its primary key.
            experiment_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            if artifact_location is None:
                conn.execute(
                    experiments.update()
                    .where(experiments.c.experiment_id == experiment_id)
                    .values(artifact_location=f"{self.artifact_root}/{experiment_id}")
                )
            self._write_experiment_tags(conn, experiment_id, tag_rows)
            return str(experiment_id)

        return self._write(work)

    def _check_id_free(self, conn: Connection, number: int) -> None:
        experiments = schema.experiments
        taken = conn.execute(
            sa.select(experiments.c.name).where(experiments.c.experiment_id == number)
        ).first()
        if taken is not None:
            raise ConflictError(
                f"experiment id {number!s} is taken by {taken.name!r}. "
                "Create the experiment without an id to get a free one."
            )

    def _check_name_free(self, conn: Connection, name: str) -> None:
        experiments = schema.experiments
        row = conn.execute(
            sa.select(experiments.c.experiment_id, experiments.c.lifecycle_stage).where(
                experiments.c.name == name
            )
        ).first()
        if row is not None:
            hint = (
                "Restore it with restore_experiment(), or choose another name."
                if row.lifecycle_stage == LifecycleStage.DELETED.value
                else "Choose another name, or use that experiment."
            )
            raise ConflictError(
                f"experiment name {name!r} is taken by experiment "
                f"'{row.experiment_id}' ({row.lifecycle_stage}). {hint}"
            )

    def _write_experiment_tags(
        self, conn: Connection, experiment_id: int, rows: list[dict[str, Any]]
    ) -> None:
        if not rows:
            return
        conn.execute(
            self._insert_experiment_tags,
            [
                {
                    "experiment_id": experiment_id,
                    "key_hash": row["key_hash"],
                    "key": row["key"],
                    "value": row["value"],
                }
                for row in rows
            ],
        )
        conn.execute(
            self._update_experiment_tags,
            [
                {
                    "b_experiment_id": experiment_id,
                    "b_key_hash": row["key_hash"],
                    "b_value": row["value"],
                }
                for row in rows
            ],
        )

    def _load_experiments(
        self, conn: Connection, where: sa.ColumnElement[bool]
    ) -> list[Experiment]:
        experiments = schema.experiments
        rows = conn.execute(sa.select(experiments).where(where)).all()
        return self._experiments_from_rows(conn, rows)

    def _experiments_from_rows(
        self, conn: Connection, rows: Sequence[Row[Any]]
    ) -> list[Experiment]:
        if not rows:
            return []
        table = schema.experiment_tags
        ids = [row.experiment_id for row in rows]
        tags: dict[int, dict[str, str]] = {i: {} for i in ids}
        for tag in conn.execute(
            sa.select(table.c.experiment_id, table.c.key, table.c.value).where(
                table.c.experiment_id.in_(ids)
            )
        ):
            tags[tag.experiment_id][tag.key] = tag.value
        return [
            Experiment(
                experiment_id=str(row.experiment_id),
                name=row.name,
                artifact_location=row.artifact_location,
                lifecycle_stage=row.lifecycle_stage,
                creation_time=row.creation_time,
                last_update_time=row.last_update_time,
                tags=tags[row.experiment_id],
            )
            for row in rows
        ]

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment, deleted or not.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.

        Returns
        -------
        Experiment
            The experiment with its tags.

        Raises
        ------
        NotFoundError
            If no experiment has this id.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> store.get_experiment("0").lifecycle_stage
        'active'
        >>> store.close()
        """
        number = check_experiment_id(experiment_id)
        found = self._read(
            lambda conn: self._load_experiments(
                conn, schema.experiments.c.experiment_id == number
            )
        )
        if not found:
            raise NotFoundError(
                "experiment",
                experiment_id,
                "List experiments with search_experiments(), or create it.",
            )
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return the experiment with this name, deleted or not, or None.

        Parameters
        ----------
        name : str
            The experiment's name.

        Returns
        -------
        Experiment or None
            The experiment, or None if no experiment has this name.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> store.get_experiment_by_name("Default").experiment_id
        '0'
        >>> store.close()
        """
        if not isinstance(name, str):
            raise InvalidValueError(
                "experiment name", name, "a str", "Use a name such as 'iris'."
            )
        check_encodable("experiment name", name)
        found = self._read(
            lambda conn: self._load_experiments(conn, schema.experiments.c.name == name)
        )
        return found[0] if found else None

    def update_experiment(
        self,
        experiment_id: str,
        *,
        new_name: str | None = None,
        lifecycle_stage: str | None = None,
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Rename, delete, restore or tag an experiment.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.
        new_name : str or None, default=None
            A new unique name.
        lifecycle_stage : {"active", "deleted"} or None, default=None
            ``"deleted"`` moves the experiment to the trash with its runs,
            ``"active"`` restores it with its runs, as MLflow does (a run deleted
            on its own before comes back too).
        tags : sequence of RunTag, default=()
            Tags to set (existing keys are overwritten).

        Raises
        ------
        NotFoundError
            If no experiment has this id.
        ConflictError
            If ``new_name`` is taken.
        InvalidValueError
            If a value is invalid, or on deleting the Default experiment.

        Examples
        --------
        >>> from mltrail import RunTag
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> store.update_experiment("0", tags=[RunTag("team", "risk")])
        >>> store.get_experiment("0").tags
        {'team': 'risk'}
        >>> store.close()
        """
        number = check_experiment_id(experiment_id)
        if new_name is not None:
            check_str(
                "experiment name",
                new_name,
                MAX_NAME_LENGTH,
                "Use a name such as 'iris'.",
            )
        if lifecycle_stage is not None:
            lifecycle_stage = check_stage(lifecycle_stage)
            if number == 0 and lifecycle_stage == LifecycleStage.DELETED.value:
                raise InvalidValueError(
                    "experiment_id",
                    experiment_id,
                    "an experiment other than the Default one",
                    "The Default experiment '0' cannot be deleted.",
                )
        tag_rows = to_tag_rows(tags)
        experiments = schema.experiments

        def work(conn: Connection) -> None:
            row = conn.execute(
                sa.select(experiments.c.name).where(
                    experiments.c.experiment_id == number
                )
            ).first()
            if row is None:
                raise NotFoundError(
                    "experiment",
                    experiment_id,
                    "List experiments with search_experiments().",
                )
            now = _now()
            values: dict[str, object] = {"last_update_time": now}
            if new_name is not None and new_name != row.name:
                self._check_name_free(conn, new_name)
                values["name"] = new_name
            if lifecycle_stage is not None:
                values["lifecycle_stage"] = lifecycle_stage
                _move_runs(conn, number, lifecycle_stage, now)
            try:
                conn.execute(
                    experiments.update()
                    .where(experiments.c.experiment_id == number)
                    .values(**values)
                )
            except IntegrityError:
                raise _RetryError from None
            self._write_experiment_tags(conn, number, tag_rows)

        self._write(work)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment.

        Parameters
        ----------
        experiment_id : str
            The experiment's id.
        key : str
            The tag's key.

        Raises
        ------
        NotFoundError
            If the experiment does not exist or has no such tag.

        Examples
        --------
        >>> from mltrail import RunTag
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> store.update_experiment("0", tags=[RunTag("team", "risk")])
        >>> store.delete_experiment_tag("0", "team")
        >>> store.get_experiment("0").tags
        {}
        >>> store.close()
        """
        number = check_experiment_id(experiment_id)
        key_hash = hash_key(check_key("tag key", key))
        table = schema.experiment_tags

        def work(conn: Connection) -> None:
            result = conn.execute(
                table.delete().where(
                    table.c.experiment_id == number, table.c.key_hash == key_hash
                )
            )
            if result.rowcount == 0:
                if not self._load_experiments(
                    conn, schema.experiments.c.experiment_id == number
                ):
                    raise NotFoundError(
                        "experiment", experiment_id, "See search_experiments()."
                    )
                raise NotFoundError(
                    "experiment tag",
                    key,
                    f"Experiment {experiment_id!r} has no such tag; "
                    "see get_experiment().",
                )

        self._write(work)

    def search_experiments(
        self,
        *,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Return experiments that match a filter, ordered and paged.

        Parameters
        ----------
        view_type : ViewType, default=ViewType.ACTIVE_ONLY
            Which lifecycle stages to include.
        max_results : int, default=1000
            Page size, from 1 to 50,000.
        filter_string : str, default=""
            Conditions on ``name``, ``creation_time``, ``last_update_time`` and
            ``tags.<key>``, joined with AND, OR, NOT and parentheses.
        order_by : sequence of str, default=()
            Such as ``["name ASC"]``; ties are broken by experiment id.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        PagedList of Experiment
            One page; its ``token`` fetches the next page, or is None.

        Raises
        ------
        FilterSyntaxError
            If the filter or an order_by clause does not parse.
        InvalidValueError
            If ``max_results`` or ``page_token`` is invalid.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> found = store.search_experiments(filter_string="name LIKE 'Def%'")
        >>> [e.name for e in found]
        ['Default']
        >>> store.close()
        """
        stages = check_view_type(view_type)
        limit = check_max_results(max_results)
        where = search.compile_experiment_filter(filter_string)
        terms = search.compile_experiment_order(order_by)
        fingerprint = pages.query_fingerprint(
            "experiments", stages, filter_string, order_by
        )
        page = pages.decode_page_token(page_token, fingerprint, sort_terms=len(terms))
        experiments = schema.experiments
        start = pages.start_condition(terms, page)
        query = (
            sa.select(
                experiments,
                *pages.sort_columns(terms),
            )
            .where(experiments.c.lifecycle_stage.in_(stages), where, start)
            .order_by(*pages.order_clauses(terms))
            .limit(limit + 1)
        )
        if page.after is None and page.offset:
            query = query.offset(page.offset)

        def work(conn: Connection) -> tuple[list[Experiment], str | None]:
            rows = conn.execute(query).all()
            token = pages.next_token(rows, limit, page, terms, fingerprint)
            return self._experiments_from_rows(conn, rows[:limit]), token

        return PagedList(*self._read(work))


def _move_runs(conn: Connection, experiment: int, stage: str, now: int) -> None:
    """Give the runs of an experiment moved to ``stage`` that stage too."""
    runs = schema.runs
    deleted = stage == LifecycleStage.DELETED.value
    conn.execute(
        runs.update()
        .where(runs.c.experiment_id == experiment, runs.c.lifecycle_stage != stage)
        .values(lifecycle_stage=stage, deleted_time=now if deleted else None)
    )
