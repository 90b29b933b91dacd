"""Read an MLflow database (SQLite, PostgreSQL, MySQL) with SQLAlchemy Core.

The database is opened read-only (SQLite ``mode=ro``, a read-only transaction on
PostgreSQL and MySQL) and its tables are read as MLflow's migrations made them;
nothing here writes. Driver errors become ``StoreError`` naming the table.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

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
from mltrail.importer._local import LocalFiles
from mltrail.importer._source import (
    MODEL_STATUSES,
    SourceFile,
    SourceModel,
    SourceRegisteredModel,
    SourceRun,
    redact,
)

__all__ = ["SqlSource"]

_DRIVERS = {
    "sqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "mysql+pymysql": "mysql+pymysql",
}
_REQUIRED = ("experiments", "runs", "metrics", "params", "tags")


def _engine(uri: str) -> sa.Engine:
    scheme, _, rest = uri.partition("://")
    driver = _DRIVERS[scheme.lower()]
    if driver == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        path = os.path.abspath(path)
        if not os.path.isfile(path):
            raise InvalidValueError(
                "source URI",
                uri,
                "an MLflow SQLite database that exists",
                f"There is no file at {path!r}; check the path (sqlite:///rel.db, "
                "sqlite:////abs.db).",
            )
        url = sa.URL.create(
            "sqlite", database=f"file:{quote(path)}?mode=ro", query={"uri": "true"}
        )
        return sa.create_engine(url, poolclass=sa.pool.NullPool)
    url = sa.make_url(f"{driver}://{rest}")
    if driver.startswith("postgresql"):
        args: dict[str, Any] = {"options": "-c default_transaction_read_only=on"}
    else:
        args = {"init_command": "SET SESSION TRANSACTION READ ONLY"}
    return sa.create_engine(url, connect_args=args, poolclass=sa.pool.NullPool)


class SqlSource:
    """An MLflow tracking database, read-only."""

    def __init__(self, uri: str) -> None:
        self.uri = redact(uri)
        self._engine = _engine(uri)
        self._files = LocalFiles()
        try:
            with self._engine.connect() as conn:
                inspector = sa.inspect(conn)
                names = set(inspector.get_table_names())
                missing = [name for name in _REQUIRED if name not in names]
                if not missing and not any(
                    column["name"] == "run_uuid"
                    for column in inspector.get_columns("runs")
                ):
                    missing = ["runs.run_uuid"]
                metadata = sa.MetaData()
                if not missing:
                    metadata.reflect(conn, only=sorted(names & _ALL_TABLES))
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise StoreError(
                f"cannot read the MLflow database {self.uri}: {exc.__class__.__name__}"
                f": {str(exc).splitlines()[0]}. Check the URI and that the server "
                "is up."
            ) from exc
        if missing:
            self._engine.dispose()
            raise InvalidValueError(
                "source URI",
                self.uri,
                "an MLflow tracking database",
                f"It has no {', '.join(missing)}; is it mltrail's own database, "
                "or empty?",
            )
        for table in metadata.tables.values():
            for column in table.columns:
                if isinstance(column.type, sa.Numeric | sa.Float):
                    # MySQL's reflected DOUBLE returns a Decimal cut to 10 digits;
                    # metric values must come back as the floats they are.
                    column.type = sa.Double(asdecimal=False)
        self._tables = metadata.tables
        # One connection for the whole import: on PostgreSQL and MySQL a single
        # read-only session, on SQLite no reopening of the file per query.
        self._conn: sa.Connection | None = None

    def _rows(self, table: str, *where: Any, order: Any = ()) -> list[Any]:
        """Return the rows of ``table`` matching ``where`` (none if no such table)."""
        found = self._tables.get(table)
        if found is None:
            return []
        statement = sa.select(found).where(*(w(found.c) for w in where))
        if order:
            statement = statement.order_by(*order(found.c))
        return self._execute(table, statement)

    def _execute(self, table: str, statement: sa.Select[Any]) -> list[Any]:
        try:
            if self._conn is None:
                self._conn = self._engine.connect()
            return list(self._conn.execute(statement).fetchall())
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot read table {table!r} of {self.uri}: "
                f"{str(exc).splitlines()[0]}. Is the MLflow schema up to date "
                "(mlflow db upgrade)?"
            ) from exc

    def experiments(self) -> list[Experiment]:
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self._rows("experiment_tags"):
            tags[str(row.experiment_id)][row.key] = row.value or ""
        return [
            Experiment(
                experiment_id=str(row.experiment_id),
                name=row.name,
                artifact_location=row.artifact_location or "",
                lifecycle_stage=row.lifecycle_stage or "active",
                creation_time=row.creation_time or 0,
                last_update_time=row.last_update_time or 0,
                tags=tags[str(row.experiment_id)],
            )
            for row in self._rows("experiments", order=lambda c: (c.experiment_id,))
        ]

    def runs(self, experiment_id: str) -> list[SourceRun]:
        number = int(experiment_id)
        run_rows = self._rows(
            "runs",
            lambda c: c.experiment_id == number,
            order=lambda c: (c.start_time, c.run_uuid),
        )
        ids = {row.run_uuid for row in run_rows}
        in_runs = self._in_runs(ids)
        params: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self._rows("params", in_runs):
            params[row.run_uuid][row.key] = row.value
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self._rows("tags", in_runs):
            tags[row.run_uuid][row.key] = row.value or ""
        latest: dict[str, dict[str, float]] = defaultdict(dict)
        for row in self._rows("latest_metrics", in_runs):
            latest[row.run_uuid][row.key] = _metric_value(row)
        datasets, outputs, model_inputs = self._links(number, ids)
        result = []
        for row in run_rows:
            info = RunInfo(
                run_id=row.run_uuid,
                run_name=row.name or "",
                experiment_id=experiment_id,
                user_id=row.user_id or "",
                status=row.status or "RUNNING",
                start_time=row.start_time or 0,
                end_time=row.end_time,
                artifact_uri=row.artifact_uri or "",
                lifecycle_stage=row.lifecycle_stage or "active",
            )
            data = RunData(
                metrics=latest[row.run_uuid],
                params=params[row.run_uuid],
                tags=tags[row.run_uuid],
            )
            run = Run(info, data, RunInputs(datasets[row.run_uuid]))
            result.append(
                SourceRun(run, outputs[row.run_uuid], model_inputs[row.run_uuid])
            )
        return result

    def _in_runs(self, ids: set[str]) -> Any:
        return lambda c: c.run_uuid.in_(sorted(ids))

    def _links(
        self, number: int, ids: set[str]
    ) -> tuple[
        dict[str, list[DatasetInput]],
        dict[str, list[tuple[str, int]]],
        dict[str, list[str]],
    ]:
        """Return the runs' dataset inputs, model outputs and model inputs."""
        datasets: dict[str, list[DatasetInput]] = defaultdict(list)
        outputs: dict[str, list[tuple[str, int]]] = defaultdict(list)
        model_inputs: dict[str, list[str]] = defaultdict(list)
        if not ids:
            return datasets, outputs, model_inputs
        by_uuid = {
            row.dataset_uuid: Dataset(
                name=row.name,
                digest=row.digest,
                source_type=row.dataset_source_type,
                source=row.dataset_source,
                schema=row.dataset_schema,
                profile=row.dataset_profile,
            )
            for row in self._rows("datasets", lambda c: c.experiment_id == number)
        }
        links = self._rows(
            "inputs",
            lambda c: sa.or_(
                c.destination_id.in_(sorted(ids)), c.source_id.in_(sorted(ids))
            ),
        )
        input_tags: dict[str, list[InputTag]] = defaultdict(list)
        uuids = [row.input_uuid for row in links if row.source_type == "DATASET"]
        if uuids:
            for row in self._rows("input_tags", lambda c: c.input_uuid.in_(uuids)):
                input_tags[row.input_uuid].append(InputTag(row.name, row.value))
        for row in links:
            if row.source_type == "DATASET" and row.destination_type == "RUN":
                dataset = by_uuid.get(row.source_id)
                if dataset is not None:
                    datasets[row.destination_id].append(
                        DatasetInput(dataset, input_tags[row.input_uuid])
                    )
            elif row.source_type == "RUN_OUTPUT":
                outputs[row.source_id].append((row.destination_id, row.step or 0))
            elif (
                row.source_type == "MODEL_INPUT" and row.destination_type == "RUN_INPUT"
            ):
                model_inputs[row.destination_id].append(row.source_id)
        return datasets, outputs, model_inputs

    def metric_history(self, run: Run) -> list[Metric]:
        metrics = self._tables["metrics"]
        statement = (
            sa.select(
                metrics.c.key,
                metrics.c.value,
                metrics.c.timestamp,
                metrics.c.step,
                metrics.c.is_nan,
            )
            .where(metrics.c.run_uuid == run.info.run_id)
            .order_by(metrics.c.key, metrics.c.step, metrics.c.timestamp)
        )
        nan = float("nan")
        return [
            Metric(key, nan if is_nan else float(value), timestamp, step)
            for key, value, timestamp, step, is_nan in self._execute(
                "metrics", statement
            )
        ]

    def logged_models(self, experiment_id: str) -> list[SourceModel]:
        number = int(experiment_id)

        def mine(c: Any) -> Any:
            return c.experiment_id == number

        params: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self._rows("logged_model_params", mine):
            params[row.model_id][row.param_key] = row.param_value
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self._rows("logged_model_tags", mine):
            tags[row.model_id][row.tag_key] = row.tag_value
        metrics: dict[str, list[LoggedModelMetric]] = defaultdict(list)
        for row in self._rows(
            "logged_model_metrics",
            mine,
            order=lambda c: (c.metric_name, c.metric_step, c.metric_timestamp_ms),
        ):
            metrics[row.model_id].append(
                LoggedModelMetric(
                    key=row.metric_name,
                    value=_float(row.metric_value),
                    timestamp=row.metric_timestamp_ms,
                    step=row.metric_step,
                    run_id=row.run_id,
                    dataset_name=row.dataset_name,
                    dataset_digest=row.dataset_digest,
                )
            )
        return [
            SourceModel(
                LoggedModel(
                    model_id=row.model_id,
                    experiment_id=experiment_id,
                    name=row.name,
                    artifact_location=row.artifact_location,
                    creation_timestamp=row.creation_timestamp_ms,
                    last_updated_timestamp=row.last_updated_timestamp_ms,
                    status=MODEL_STATUSES.get(row.status, "PENDING"),
                    source_run_id=row.source_run_id,
                    model_type=row.model_type,
                    status_message=row.status_message,
                    tags=tags[row.model_id],
                    params=params[row.model_id],
                    metrics=metrics[row.model_id],
                ),
                is_deleted=row.lifecycle_stage == "deleted",
            )
            for row in self._rows(
                "logged_models",
                mine,
                order=lambda c: (c.creation_timestamp_ms, c.model_id),
            )
        ]

    def files(self, location: str) -> list[SourceFile]:
        return self._files.files(location)

    def read(self, location: str, path: str) -> Iterator[bytes]:
        return self._files.read(location, path)

    def registered_models(self) -> list[SourceRegisteredModel]:
        model_tags: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self._rows("registered_model_tags"):
            model_tags[row.name][row.key] = row.value or ""
        aliases: dict[str, dict[str, int]] = defaultdict(dict)
        for row in self._rows("registered_model_aliases"):
            aliases[row.name][row.alias] = row.version
        version_tags: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
        for row in self._rows("model_version_tags"):
            version_tags[row.name, row.version][row.key] = row.value or ""
        versions: dict[str, list[ModelVersion]] = defaultdict(list)
        for row in self._rows("model_versions", order=lambda c: (c.name, c.version)):
            versions[row.name].append(
                ModelVersion(
                    name=row.name,
                    version=row.version,
                    creation_timestamp=row.creation_time or 0,
                    last_updated_timestamp=row.last_updated_time or 0,
                    description=row.description or "",
                    user_id=row.user_id or "",
                    current_stage=row.current_stage or "None",
                    source=row.source or "",
                    run_id=row.run_id or "",
                    status=row.status or "READY",
                    status_message=row.status_message or "",
                    tags=version_tags[row.name, row.version],
                    run_link=row.run_link or "",
                    model_id=_model_id_of(row.source, row.storage_location),
                )
            )
        return [
            SourceRegisteredModel(
                name=row.name,
                description=row.description or "",
                tags=model_tags[row.name],
                aliases=aliases[row.name],
                versions=versions[row.name],
            )
            for row in self._rows("registered_models", order=lambda c: (c.name,))
        ]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()


_ALL_TABLES = {
    "experiments",
    "experiment_tags",
    "runs",
    "params",
    "tags",
    "metrics",
    "latest_metrics",
    "datasets",
    "inputs",
    "input_tags",
    "logged_models",
    "logged_model_params",
    "logged_model_tags",
    "logged_model_metrics",
    "registered_models",
    "registered_model_tags",
    "registered_model_aliases",
    "model_versions",
    "model_version_tags",
}


def _float(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _metric_value(row: Any) -> float:
    # MLflow stores NaN as 0 with is_nan set (MySQL has no NaN).
    return float("nan") if row.is_nan else float(row.value)


def _model_id_of(source: str | None, storage_location: str | None) -> str | None:
    """Return the logged model a version was registered from, if it names one."""
    if source and source.startswith("models:/m-"):
        return source[len("models:/") :].split("/", 1)[0]
    for text in (storage_location or "",):
        marker = "/models/m-"
        if marker in text:
            return "m-" + text.split(marker, 1)[1].split("/", 1)[0]
    return None
