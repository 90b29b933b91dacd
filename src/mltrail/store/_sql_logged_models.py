"""Logged models in ``SqlStore`` (MLflow 3's LoggedModel): create, read, search.

A logged model belongs to an experiment and, usually, to the run that logged it
(``source_run_id``); its files live at ``<experiment location>/models/<id>/artifacts``.
Runs link to models as outputs (``runs/outputs``) and inputs (``runs/log-inputs``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from mltrail._entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelMetric,
    LoggedModelStatus,
    Param,
    RunTag,
    new_model_id,
)
from mltrail._errors import InvalidValueError, NotFoundError
from mltrail.store import _schema as schema
from mltrail.store._schema import MAX_NAME_LENGTH, hash_key
from mltrail.store._sql_statements import SqlStatements, _now
from mltrail.store._values import (
    check_experiment_id,
    check_int,
    check_key,
    check_run_id,
    check_str,
    decode_metric_value,
    encode_metric_value,
)

__all__ = ["LoggedModelsMixin", "check_model_id"]

_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")
_MODEL_ID_HINT = "Use the model_id of a logged model, such as 'm-0123...'."


def check_model_id(model_id: object) -> str:
    return check_str("model_id", model_id, 36, _MODEL_ID_HINT)


def _check_status(status: object) -> str:
    try:
        return LoggedModelStatus(str(status)).value
    except ValueError:
        raise InvalidValueError(
            "logged model status",
            status,
            "one of " + ", ".join(repr(s.value) for s in LoggedModelStatus),
            "Finalize a model with 'READY' or 'FAILED'.",
        ) from None


def _key_value_rows(
    model_id: str, items: Sequence[Param] | Sequence[RunTag], kind: str
) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for item in items:
        key = check_key(f"{kind} key", item.key)
        if not isinstance(item.value, str):
            raise InvalidValueError(
                f"value of {kind} {key!r}",
                item.value,
                "a str",
                "Convert it with str().",
            )
        rows[hash_key(key)] = {
            "model_id": model_id,
            "key_hash": hash_key(key),
            "key": key,
            "value": item.value,
        }
    return list(rows.values())


class LoggedModelsMixin(SqlStatements):
    """The logged-model methods of ``SqlStore``."""

    # ``create_logged_model`` takes the id the caller chose (``new_model_id``),
    # so a model's files can be written before its record exists.
    takes_model_ids = True

    def _upsert_model_rows(
        self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]]
    ) -> None:
        for row in rows:
            updated = conn.execute(
                table.update()
                .where(
                    table.c.model_id == row["model_id"],
                    table.c.key_hash == row["key_hash"],
                )
                .values(value=row["value"])
            )
            if updated.rowcount == 0:
                conn.execute(table.insert().values(**row))

    def _touch_logged_model(self, conn: Connection, model_id: str) -> None:
        models = schema.logged_models
        result = conn.execute(
            models.update()
            .where(
                models.c.model_id == model_id,
                models.c.lifecycle_stage == LifecycleStage.ACTIVE.value,
            )
            .values(last_updated_timestamp=_now())
        )
        if result.rowcount == 0:
            raise NotFoundError("logged model", model_id, _MODEL_ID_HINT)

    def create_logged_model(
        self,
        experiment_id: str,
        *,
        name: str,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        artifact_location: str | None = None,
        model_id: str | None = None,
        creation_timestamp: int | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model and return it.

        Parameters
        ----------
        experiment_id : str
            The experiment it belongs to.
        name : str
            Its name, such as ``"model"``.
        source_run_id : str or None, default=None
            The run that logs it.
        model_type : str or None, default=None
            A free-form type.
        params : sequence of Param, default=()
            Its params.
        tags : sequence of RunTag, default=()
            Its tags.
        artifact_location : str or None, default=None
            Where its files go; None for ``<experiment>/models/<id>/artifacts``.
        model_id : str or None, default=None
            The id to give it (``mltrail import`` keeps a source's ids); None for a
            new ``m-<uuid4 hex>``. A taken id is a ConflictError.
        creation_timestamp : int or None, default=None
            Milliseconds since the epoch (``mltrail import``); None for now.

        Returns
        -------
        LoggedModel
            The new model; its files go under ``artifact_location``.

        Raises
        ------
        NotFoundError
            If the experiment does not exist.
        InvalidValueError
            If a value is invalid, or the experiment is deleted.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> model = store.create_logged_model("0", name="model")
        >>> model.status, model.artifact_location.endswith("/artifacts")
        ('PENDING', True)
        >>> store.close()
        """
        number = check_experiment_id(experiment_id)
        check_str("model name", name, MAX_NAME_LENGTH, "Use a name such as 'model'.")
        if source_run_id is not None:
            check_run_id(source_run_id)
        if model_type is not None and not isinstance(model_type, str):
            raise InvalidValueError("model_type", model_type, "a str or None")
        if artifact_location is not None and not (
            isinstance(artifact_location, str) and artifact_location
        ):
            raise InvalidValueError(
                "artifact_location", artifact_location, "a non-empty str or None"
            )
        if model_id is not None and not _MODEL_ID.fullmatch(str(model_id)):
            # It names the model's artifact folder: nothing but an id's characters.
            raise InvalidValueError(
                "model_id", model_id, "'m-' and 32 lowercase hex digits", _MODEL_ID_HINT
            )
        model_id = new_model_id() if model_id is None else model_id
        param_rows = _key_value_rows(model_id, params, "param")
        tag_rows = _key_value_rows(model_id, tags, "tag")
        now = (
            _now()
            if creation_timestamp is None
            else check_int("creation_timestamp", creation_timestamp, "Use ms.")
        )

        def work(conn: Connection) -> str:
            experiments = schema.experiments
            found = conn.execute(
                sa.select(
                    experiments.c.artifact_location, experiments.c.lifecycle_stage
                ).where(experiments.c.experiment_id == number)
            ).first()
            if found is None:
                raise NotFoundError(
                    "experiment", experiment_id, "Create it with create_experiment()."
                )
            if found.lifecycle_stage != LifecycleStage.ACTIVE.value:
                raise InvalidValueError(
                    "experiment", experiment_id, "an active experiment", "Restore it."
                )
            location = (
                artifact_location
                or f"{found.artifact_location}/models/{model_id}/artifacts"
            )
            conn.execute(
                schema.logged_models.insert().values(
                    model_id=model_id,
                    experiment_id=number,
                    name=name,
                    artifact_location=location,
                    creation_timestamp=now,
                    last_updated_timestamp=now,
                    status=LoggedModelStatus.PENDING.value,
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    model_type=model_type,
                    source_run_id=source_run_id,
                    status_message=None,
                )
            )
            if param_rows:
                conn.execute(schema.logged_model_params.insert(), param_rows)
            if tag_rows:
                conn.execute(schema.logged_model_tags.insert(), tag_rows)
            return location

        location = self._write(work)
        return LoggedModel(
            model_id=model_id,
            experiment_id=str(number),
            name=name,
            artifact_location=location,
            creation_timestamp=now,
            last_updated_timestamp=now,
            status=LoggedModelStatus.PENDING.value,
            source_run_id=source_run_id,
            model_type=model_type,
            tags={row["key"]: row["value"] for row in tag_rows},
            params={row["key"]: row["value"] for row in param_rows},
        )

    def get_logged_model(
        self, model_id: str, *, allow_deleted: bool = False
    ) -> LoggedModel:
        """Return a logged model with its params, tags and metrics.

        Parameters
        ----------
        model_id : str
            The model's id.
        allow_deleted : bool, default=False
            Whether a deleted model is returned too.

        Returns
        -------
        LoggedModel
            The model.

        Raises
        ------
        NotFoundError
            If no (active) model has this id.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> model_id = store.create_logged_model("0", name="m").model_id
        >>> store.get_logged_model(model_id).name
        'm'
        >>> store.close()
        """
        check_model_id(model_id)
        models = schema.logged_models
        condition = models.c.model_id == model_id
        if not allow_deleted:
            condition = sa.and_(
                condition, models.c.lifecycle_stage == LifecycleStage.ACTIVE.value
            )
        found = self._read(lambda conn: self._load_models(conn, condition))
        if not found:
            raise NotFoundError("logged model", model_id, _MODEL_ID_HINT)
        return found[0]

    def _load_models(
        self,
        conn: Connection,
        condition: sa.ColumnElement[bool],
        order: Sequence[sa.ColumnElement[Any]] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[LoggedModel]:
        models = schema.logged_models
        query = sa.select(models).where(condition).order_by(*order)
        if limit is not None:
            query = query.limit(limit).offset(offset)
        rows = conn.execute(query).all()
        return self._models_from_rows(conn, rows)

    def _models_from_rows(
        self, conn: Connection, rows: Sequence[Row[Any]]
    ) -> list[LoggedModel]:
        if not rows:
            return []
        ids = [row.model_id for row in rows]
        params: dict[str, dict[str, str]] = {i: {} for i in ids}
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        metrics: dict[str, list[LoggedModelMetric]] = {i: [] for i in ids}
        for table, target in (
            (schema.logged_model_params, params),
            (schema.logged_model_tags, tags),
        ):
            for row in conn.execute(
                sa.select(table.c.model_id, table.c.key, table.c.value).where(
                    table.c.model_id.in_(ids)
                )
            ):
                target[row.model_id][row.key] = row.value
        table = schema.logged_model_metrics
        for row in conn.execute(
            sa.select(table)
            .where(table.c.model_id.in_(ids))
            .order_by(table.c.metric_id)
        ):
            metrics[row.model_id].append(
                LoggedModelMetric(
                    key=row.key,
                    value=decode_metric_value(row.value, row.kind),
                    timestamp=row.timestamp,
                    step=row.step,
                    run_id=row.run_id,
                    dataset_name=row.dataset_name,
                    dataset_digest=row.dataset_digest,
                )
            )
        return [
            LoggedModel(
                model_id=row.model_id,
                experiment_id=str(row.experiment_id),
                name=row.name,
                artifact_location=row.artifact_location,
                creation_timestamp=row.creation_timestamp,
                last_updated_timestamp=row.last_updated_timestamp,
                status=row.status,
                source_run_id=row.source_run_id,
                model_type=row.model_type,
                status_message=row.status_message,
                tags=tags[row.model_id],
                params=params[row.model_id],
                metrics=metrics[row.model_id],
            )
            for row in rows
        ]

    def finalize_logged_model(
        self, model_id: str, status: str, *, status_message: str | None = None
    ) -> LoggedModel:
        """Set a logged model's status (``READY`` or ``FAILED``) and return it.

        Parameters
        ----------
        model_id : str
            The model's id.
        status : str
            A ``LoggedModelStatus`` value.
        status_message : str or None, default=None
            Why it failed, if it did.

        Returns
        -------
        LoggedModel
            The model after the change.

        Raises
        ------
        NotFoundError
            If no active model has this id.
        InvalidValueError
            If ``status`` is unknown.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> model_id = store.create_logged_model("0", name="m").model_id
        >>> store.finalize_logged_model(model_id, "READY").status
        'READY'
        >>> store.close()
        """
        check_model_id(model_id)
        value = _check_status(status)
        models = schema.logged_models

        def work(conn: Connection) -> None:
            self._touch_logged_model(conn, model_id)
            conn.execute(
                models.update()
                .where(models.c.model_id == model_id)
                .values(status=value, status_message=status_message)
            )

        self._write(work)
        return self.get_logged_model(model_id)

    def set_logged_model_tags(self, model_id: str, tags: Sequence[RunTag]) -> None:
        """Set tags on a logged model (existing keys are overwritten).

        Parameters
        ----------
        model_id : str
            The model's id.
        tags : sequence of RunTag
            The tags.

        Raises
        ------
        NotFoundError
            If no active model has this id.

        Examples
        --------
        >>> from mltrail import RunTag
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> model_id = store.create_logged_model("0", name="m").model_id
        >>> store.set_logged_model_tags(model_id, [RunTag("stage", "qa")])
        >>> store.get_logged_model(model_id).tags
        {'stage': 'qa'}
        >>> store.close()
        """
        check_model_id(model_id)
        rows = _key_value_rows(model_id, tags, "tag")

        def work(conn: Connection) -> None:
            self._touch_logged_model(conn, model_id)
            self._upsert_model_rows(conn, schema.logged_model_tags, rows)

        self._write(work)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag from a logged model.

        Parameters
        ----------
        model_id : str
            The model's id.
        key : str
            The tag's key.

        Raises
        ------
        NotFoundError
            If the model or the tag does not exist.

        Examples
        --------
        >>> from mltrail import RunTag
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> model_id = store.create_logged_model("0", name="m").model_id
        >>> store.set_logged_model_tags(model_id, [RunTag("stage", "qa")])
        >>> store.delete_logged_model_tag(model_id, "stage")
        >>> store.get_logged_model(model_id).tags
        {}
        >>> store.close()
        """
        check_model_id(model_id)
        key_hash = hash_key(check_key("tag key", key))
        table = schema.logged_model_tags

        def work(conn: Connection) -> None:
            self._touch_logged_model(conn, model_id)
            result = conn.execute(
                table.delete().where(
                    table.c.model_id == model_id, table.c.key_hash == key_hash
                )
            )
            if result.rowcount == 0:
                raise NotFoundError(
                    "logged model tag", key, f"Model {model_id!r} has no such tag."
                )

        self._write(work)

    def log_logged_model_params(self, model_id: str, params: Sequence[Param]) -> None:
        """Add params to a logged model (a repeated key keeps its last value).

        Parameters
        ----------
        model_id : str
            The model's id.
        params : sequence of Param
            The params.

        Raises
        ------
        NotFoundError
            If no active model has this id.

        Examples
        --------
        >>> from mltrail import Param
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> model_id = store.create_logged_model("0", name="m").model_id
        >>> store.log_logged_model_params(model_id, [Param("C", "1.0")])
        >>> store.get_logged_model(model_id).params
        {'C': '1.0'}
        >>> store.close()
        """
        check_model_id(model_id)
        rows = _key_value_rows(model_id, params, "param")

        def work(conn: Connection) -> None:
            self._touch_logged_model(conn, model_id)
            self._upsert_model_rows(conn, schema.logged_model_params, rows)

        self._write(work)

    def log_logged_model_metrics(
        self, model_id: str, metrics: Sequence[LoggedModelMetric]
    ) -> None:
        """Record metric points of a logged model, each with its run and dataset.

        Parameters
        ----------
        model_id : str
            The model's id.
        metrics : sequence of LoggedModelMetric
            The points.

        Raises
        ------
        NotFoundError
            If no active model has this id.
        InvalidValueError
            If a point is invalid; nothing is written.

        Examples
        --------
        >>> from mltrail import LoggedModelMetric
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> model_id = store.create_logged_model("0", name="m").model_id
        >>> store.log_logged_model_metrics(model_id, [LoggedModelMetric("acc", 0.9, 1)])
        >>> store.get_logged_model(model_id).metrics[0].value
        0.9
        >>> store.close()
        """
        check_model_id(model_id)
        rows = []
        for metric in metrics:
            key = check_key("metric key", metric.key)
            value, kind = encode_metric_value(metric.value, key)
            rows.append(
                {
                    "model_id": model_id,
                    "key_hash": hash_key(key),
                    "key": key,
                    "value": value,
                    "kind": kind,
                    "timestamp": check_int("timestamp", metric.timestamp, "Use ms."),
                    "step": check_int("step", metric.step, "Use an int."),
                    "run_id": metric.run_id,
                    "dataset_name": metric.dataset_name,
                    "dataset_digest": metric.dataset_digest,
                }
            )
        if not rows:
            return

        def work(conn: Connection) -> None:
            self._touch_logged_model(conn, model_id)
            conn.execute(schema.logged_model_metrics.insert(), rows)

        self._write(work)

    def delete_logged_model(self, model_id: str) -> None:
        """Move a logged model to the trash (it is no longer found or searched).

        Parameters
        ----------
        model_id : str
            The model's id.

        Raises
        ------
        NotFoundError
            If no active model has this id.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> model_id = store.create_logged_model("0", name="m").model_id
        >>> store.delete_logged_model(model_id)
        >>> store.get_logged_model(model_id, allow_deleted=True).model_id == model_id
        True
        >>> store.close()
        """
        check_model_id(model_id)
        models = schema.logged_models

        def work(conn: Connection) -> None:
            self._touch_logged_model(conn, model_id)
            conn.execute(
                models.update()
                .where(models.c.model_id == model_id)
                .values(lifecycle_stage=LifecycleStage.DELETED.value)
            )

        self._write(work)
