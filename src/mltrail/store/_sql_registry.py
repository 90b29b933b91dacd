"""The model registry in ``SqlStore``: models, versions, tags, aliases, alias history.

Models are addressed by a surrogate id, so renaming one touches one row. Deleting a
version is soft, as in MLflow (its stage becomes ``Deleted_Internal`` and its source
is redacted), so its number is never given out again. Every alias move is appended
to ``alias_history`` in the transaction that makes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from mltrail._entities import PagedList, RunInfo
from mltrail._errors import ConflictError, InvalidValueError, NotFoundError
from mltrail._registry_entities import (
    AliasChange,
    ModelVersion,
    ModelVersionStage,
    ModelVersionStatus,
    RegisteredModel,
)
from mltrail.store import _schema as schema
from mltrail.store._pages import decode_offset_token, encode_offset_token
from mltrail.store._registry_values import (
    LATEST_ALIAS,
    check_alias,
    check_description,
    check_model_name,
    check_model_tags,
    check_optional_str,
    check_registry_stage,
    check_tag,
    check_version,
)
from mltrail.store._schema import hash_key
from mltrail.store._sql_registry_search import (
    compile_model_filter,
    compile_model_order,
    compile_version_filter,
    compile_version_order,
)
from mltrail.store._sql_statements import RUN_COLUMNS, SqlStatements, _now, _run_info
from mltrail.store._sql_transactions import _RetryError

__all__ = ["RegistryMixin"]

DELETED_STAGE = "Deleted_Internal"
REDACTED_SOURCE = "REDACTED-SOURCE-PATH"
REDACTED_RUN_ID = "REDACTED-RUN-ID"
REDACTED_RUN_LINK = "REDACTED-RUN-LINK"
MAX_MODEL_RESULTS = 1000
MAX_VERSION_RESULTS = 200_000
ACTIVE_STAGES = [stage.value for stage in ModelVersionStage]

_models = schema.registered_models
_versions = schema.model_versions
_model_tags = schema.registered_model_tags
_version_tags = schema.model_version_tags
_aliases = schema.registered_model_aliases
_history = schema.alias_history
_permissions = schema.resource_permissions
PERMISSION_KIND = "registered_model"
_VERSION_COLUMNS = (*_versions.c, _models.c.name)


def _check_max_results(value: object, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise InvalidValueError(
            "max_results",
            value,
            f"an int from 1 to {limit:,}",
            "Page through more results with page_token.",
        )
    return value


def _permission_key(name: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        _permissions.c.resource_type == PERMISSION_KIND,
        _permissions.c.resource_id == name,
    )


def _delete_grants(conn: Connection, name: str) -> None:
    """Delete the server's grants on a registered model name."""
    conn.execute(_permissions.delete().where(*_permission_key(name)))


def _not_found(name: str) -> NotFoundError:
    return NotFoundError(
        "registered model", name, "Create it with create_registered_model(name)."
    )


def _version_not_found(name: str, version: int) -> NotFoundError:
    return NotFoundError(
        "model version",
        f"{name}/{version}",
        "List the versions with search_model_versions(\"name = '...'\").",
    )


class RegistryMixin(SqlStatements):
    """The model registry methods of ``SqlStore`` (the ``RegistryStore`` protocol)."""

    # Reads.

    def _model_row(self, conn: Connection, name: str) -> Row[Any]:
        row = conn.execute(sa.select(_models).where(_models.c.name == name)).first()
        if row is None:
            raise _not_found(name)
        return row

    def _version_row(
        self, conn: Connection, model_id: int, name: str, version: int
    ) -> Row[Any]:
        row = conn.execute(
            sa.select(*_VERSION_COLUMNS)
            .join(
                _models,
                _models.c.registered_model_id == _versions.c.registered_model_id,
            )
            .where(
                _versions.c.registered_model_id == model_id,
                _versions.c.version == version,
                _versions.c.current_stage != DELETED_STAGE,
            )
        ).first()
        if row is None:
            raise _version_not_found(name, version)
        return row

    def _versions_of(
        self, conn: Connection, rows: Sequence[Row[Any]]
    ) -> list[ModelVersion]:
        """Build version entities (with their tags and aliases) from version rows."""
        if not rows:
            return []
        model_ids = sorted({row.registered_model_id for row in rows})
        tags: dict[tuple[int, int], dict[str, str]] = {}
        for tag in conn.execute(
            sa.select(
                _version_tags.c.registered_model_id,
                _version_tags.c.version,
                _version_tags.c.key,
                _version_tags.c.value,
            )
            .where(_version_tags.c.registered_model_id.in_(model_ids))
            .order_by(_version_tags.c.key)
        ):
            tags.setdefault((tag.registered_model_id, tag.version), {})[tag.key] = (
                tag.value
            )
        aliases: dict[tuple[int, int], list[str]] = {}
        for alias in conn.execute(
            sa.select(_aliases)
            .where(_aliases.c.registered_model_id.in_(model_ids))
            .order_by(_aliases.c.alias)
        ):
            aliases.setdefault((alias.registered_model_id, alias.version), []).append(
                alias.alias
            )
        return [self._version_entity(row, tags, aliases) for row in rows]

    def _version_entity(
        self,
        row: Row[Any],
        tags: Mapping[tuple[int, int], dict[str, str]],
        aliases: Mapping[tuple[int, int], list[str]],
    ) -> ModelVersion:
        key = (row.registered_model_id, row.version)
        return ModelVersion(
            name=row.name,
            version=row.version,
            creation_timestamp=row.creation_timestamp,
            last_updated_timestamp=row.last_updated_timestamp,
            description=row.description or "",
            user_id=row.user_id or "",
            current_stage=row.current_stage,
            source=row.source,
            run_id=row.run_id or "",
            status=row.status,
            status_message=row.status_message or "",
            tags=dict(tags.get(key, {})),
            run_link=row.run_link or "",
            aliases=list(aliases.get(key, [])),
            signature=json.loads(row.signature) if row.signature else None,
            model_id=row.model_id,
        )

    def _latest_rows(
        self, conn: Connection, model_ids: Sequence[int], stages: Sequence[str]
    ) -> list[Row[Any]]:
        """Return the newest version row of each model in each of ``stages``."""
        newest = (
            sa.select(
                _versions.c.registered_model_id,
                _versions.c.current_stage,
                sa.func.max(_versions.c.version).label("version"),
            )
            .where(
                _versions.c.registered_model_id.in_(model_ids),
                _versions.c.current_stage.in_(stages),
            )
            .group_by(_versions.c.registered_model_id, _versions.c.current_stage)
            .subquery()
        )
        rows = conn.execute(
            sa.select(*_VERSION_COLUMNS)
            .join(
                _models,
                _models.c.registered_model_id == _versions.c.registered_model_id,
            )
            .join(
                newest,
                sa.and_(
                    newest.c.registered_model_id == _versions.c.registered_model_id,
                    newest.c.version == _versions.c.version,
                ),
            )
        ).all()
        order = {stage: position for position, stage in enumerate(ACTIVE_STAGES)}
        return sorted(rows, key=lambda r: (r.name, order[r.current_stage]))

    def _models_of(
        self, conn: Connection, rows: Sequence[Row[Any]]
    ) -> list[RegisteredModel]:
        """Build model entities (latest versions, tags, aliases) from model rows."""
        model_ids = [row.registered_model_id for row in rows]
        if not model_ids:
            return []
        ids = {row.name: row.registered_model_id for row in rows}
        tags: dict[int, dict[str, str]] = {}
        for tag in conn.execute(
            sa.select(
                _model_tags.c.registered_model_id,
                _model_tags.c.key,
                _model_tags.c.value,
            )
            .where(_model_tags.c.registered_model_id.in_(model_ids))
            .order_by(_model_tags.c.key)
        ):
            tags.setdefault(tag.registered_model_id, {})[tag.key] = tag.value
        aliases: dict[int, dict[str, int]] = {}
        for alias in conn.execute(
            sa.select(_aliases)
            .where(_aliases.c.registered_model_id.in_(model_ids))
            .order_by(_aliases.c.alias)
        ):
            aliases.setdefault(alias.registered_model_id, {})[alias.alias] = (
                alias.version
            )
        latest: dict[int, list[ModelVersion]] = {}
        for version in self._versions_of(
            conn, self._latest_rows(conn, model_ids, ACTIVE_STAGES)
        ):
            latest.setdefault(ids[version.name], []).append(version)
        return [
            RegisteredModel(
                name=row.name,
                creation_timestamp=row.creation_timestamp,
                last_updated_timestamp=row.last_updated_timestamp,
                description=row.description or "",
                latest_versions=latest.get(row.registered_model_id, []),
                tags=tags.get(row.registered_model_id, {}),
                aliases=aliases.get(row.registered_model_id, {}),
            )
            for row in rows
        ]

    # Registered models.

    def create_registered_model(
        self,
        name: str,
        *,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model.

        Parameters
        ----------
        name : str
            A unique name without ``/`` or ``:``.
        tags : mapping of str to str or None, default=None
            The model's tags.
        description : str or None, default=None
            Free text.

        Returns
        -------
        RegisteredModel
            The new model, with no versions.

        Raises
        ------
        ConflictError
            If a model already has this name.
        InvalidValueError
            If the name or a tag is invalid.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> store.create_registered_model("wine", tags={"team": "risk"}).tags
        {'team': 'risk'}
        >>> store.close()
        """
        check_model_name(name)
        tag_items = check_model_tags(tags)
        description = check_description(description)

        def work(conn: Connection) -> RegisteredModel:
            self._check_model_name_free(conn, name)
            now = _now()
            try:
                result = conn.execute(
                    _models.insert().values(
                        name=name,
                        description=description,
                        creation_timestamp=now,
                        last_updated_timestamp=now,
                    )
                )
            except IntegrityError:
                raise _RetryError from None
            # A single-row INSERT always reports its primary key.
            model_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            self._write_tags(
                conn, _model_tags, {"registered_model_id": model_id}, tag_items
            )
            return self._models_of(conn, [self._model_row(conn, name)])[0]

        return self._write(work)

    def _check_model_name_free(self, conn: Connection, name: str) -> None:
        found = conn.execute(
            sa.select(_models.c.registered_model_id).where(_models.c.name == name)
        ).first()
        if found is not None:
            raise ConflictError(
                f"registered model {name!r} already exists. Register a new version "
                "of it with create_model_version(), or choose another name."
            )

    def _write_tags(
        self,
        conn: Connection,
        table: sa.Table,
        owner: Mapping[str, int],
        items: Mapping[str, str],
    ) -> None:
        """Insert or replace tags of one model or version."""
        for key, value in items.items():
            where = [table.c[column] == number for column, number in owner.items()]
            where.append(table.c.key_hash == hash_key(key))
            updated = conn.execute(table.update().where(*where).values(value=value))
            if not updated.rowcount:
                conn.execute(
                    table.insert().values(
                        **owner, key_hash=hash_key(key), key=key, value=value
                    )
                )

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a registered model with its latest versions, tags and aliases.

        Parameters
        ----------
        name : str
            The model's name.

        Returns
        -------
        RegisteredModel
            The model.

        Raises
        ------
        NotFoundError
            If no model has this name.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> _ = store.create_registered_model("churn")
        >>> store.get_registered_model("churn").latest_versions
        []
        >>> store.close()
        """
        check_model_name(name)
        return self._read(
            lambda conn: self._models_of(conn, [self._model_row(conn, name)])[0]
        )

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model; versions, tags, aliases and alias history follow it."""
        check_model_name(name)
        check_model_name(new_name, "new registered model name")

        def work(conn: Connection) -> RegisteredModel:
            row = self._model_row(conn, name)
            if new_name != name:
                self._check_model_name_free(conn, new_name)
            now = _now()
            try:
                conn.execute(
                    _models.update()
                    .where(_models.c.registered_model_id == row.registered_model_id)
                    .values(name=new_name, last_updated_timestamp=now)
                )
            except IntegrityError:
                raise _RetryError from None
            if new_name != name:
                # Grants are kept by name: they follow the model, and none that a
                # deleted model of the new name left can apply to it.
                _delete_grants(conn, new_name)
                conn.execute(
                    _permissions.update()
                    .where(*_permission_key(name))
                    .values(resource_id=new_name)
                )
            return self._models_of(conn, [self._model_row(conn, new_name)])[0]

        return self._write(work)

    def update_registered_model(
        self, name: str, *, description: str | None
    ) -> RegisteredModel:
        """Replace the description of a model."""
        check_model_name(name)
        description = check_description(description)

        def work(conn: Connection) -> RegisteredModel:
            row = self._model_row(conn, name)
            self._touch_model(conn, row.registered_model_id, description=description)
            return self._models_of(conn, [self._model_row(conn, name)])[0]

        return self._write(work)

    def _touch_model(self, conn: Connection, model_id: int, **values: Any) -> int:
        now = _now()
        conn.execute(
            _models.update()
            .where(_models.c.registered_model_id == model_id)
            .values(last_updated_timestamp=now, **values)
        )
        return now

    def delete_registered_model(self, name: str) -> None:
        """Delete a model with its versions, tags, aliases and alias history."""
        check_model_name(name)

        def work(conn: Connection) -> None:
            model_id = self._model_row(conn, name).registered_model_id
            for table in (_version_tags, _aliases, _history, _versions, _model_tags):
                conn.execute(
                    table.delete().where(table.c.registered_model_id == model_id)
                )
            conn.execute(
                _models.delete().where(_models.c.registered_model_id == model_id)
            )
            _delete_grants(conn, name)

        self._write(work)

    def search_registered_models(
        self,
        *,
        filter_string: str = "",
        max_results: int = 100,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Return one page of models matching the filter, ordered, then by name."""
        limit = _check_max_results(max_results, MAX_MODEL_RESULTS)
        condition = compile_model_filter(filter_string or "")
        ordering = compile_model_order(order_by or ())
        offset = decode_offset_token(page_token)

        def work(conn: Connection) -> PagedList[RegisteredModel]:
            rows = conn.execute(
                sa.select(_models)
                .where(condition)
                .order_by(*ordering)
                .limit(limit + 1)
                .offset(offset)
            ).all()
            token = encode_offset_token(offset + limit) if len(rows) > limit else None
            return PagedList(self._models_of(conn, rows[:limit]), token)

        return self._read(work)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] = ()
    ) -> list[ModelVersion]:
        """Return the newest version in each of ``stages`` (every stage by default)."""
        check_model_name(name)
        if isinstance(stages, str):
            stages = [stages]
        wanted = [
            check_registry_stage(stage) for stage in stages or ()
        ] or ACTIVE_STAGES

        def work(conn: Connection) -> list[ModelVersion]:
            model_id = self._model_row(conn, name).registered_model_id
            return self._versions_of(conn, self._latest_rows(conn, [model_id], wanted))

        return self._read(work)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a tag of a model, replacing its value if the key exists."""
        check_model_name(name)
        key, value = check_tag(key, value)

        def work(conn: Connection) -> None:
            model_id = self._model_row(conn, name).registered_model_id
            self._write_tags(
                conn, _model_tags, {"registered_model_id": model_id}, {key: value}
            )
            self._touch_model(conn, model_id)

        self._write(work)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag from a model; a missing tag is not an error, as in MLflow."""
        check_model_name(name)
        key, _ = check_tag(key, "")

        def work(conn: Connection) -> None:
            model_id = self._model_row(conn, name).registered_model_id
            conn.execute(
                _model_tags.delete().where(
                    _model_tags.c.registered_model_id == model_id,
                    _model_tags.c.key_hash == hash_key(key),
                )
            )

        self._write(work)

    # Model versions.

    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        user_id: str | None = None,
        signature: Mapping[str, str] | None = None,
        storage_location: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Create the next version of a model (READY at once) and return it."""
        check_model_name(name)
        if not isinstance(source, str) or not source:
            raise InvalidValueError(
                "source",
                source,
                "a non-empty model URI",
                "Use for example 'runs:/<run_id>/model'.",
            )
        tag_items = check_model_tags(tags)
        values = {
            "run_id": check_optional_str("run_id", run_id) or None,
            "run_link": check_optional_str("run_link", run_link),
            "description": check_description(description),
            "user_id": check_optional_str("user_id", user_id),
            "storage_location": check_optional_str(
                "storage_location", storage_location
            ),
            "model_id": check_optional_str("model_id", model_id),
            "signature": json.dumps(dict(signature), sort_keys=True)
            if signature
            else None,
        }

        def work(conn: Connection) -> ModelVersion:
            model_id_ = self._model_row(conn, name).registered_model_id
            newest = conn.execute(
                sa.select(sa.func.max(_versions.c.version)).where(
                    _versions.c.registered_model_id == model_id_
                )
            ).scalar()
            version = (newest or 0) + 1
            now = self._touch_model(conn, model_id_)
            try:
                conn.execute(
                    _versions.insert().values(
                        registered_model_id=model_id_,
                        version=version,
                        creation_timestamp=now,
                        last_updated_timestamp=now,
                        current_stage=ModelVersionStage.NONE.value,
                        source=source,
                        status=ModelVersionStatus.READY.value,
                        **values,
                    )
                )
            except IntegrityError:
                raise _RetryError from None  # a concurrent writer took the number
            self._write_tags(
                conn,
                _version_tags,
                {"registered_model_id": model_id_, "version": version},
                tag_items,
            )
            return self._versions_of(
                conn, [self._version_row(conn, model_id_, name, version)]
            )[0]

        return self._write(work)

    def _find_version(self, conn: Connection, name: str, version: int) -> Row[Any]:
        model_id = self._model_row(conn, name).registered_model_id
        return self._version_row(conn, model_id, name, version)

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Return one version; deleted versions do not exist."""
        check_model_name(name)
        number = check_version(version)
        return self._read(
            lambda conn: self._versions_of(
                conn, [self._find_version(conn, name, number)]
            )[0]
        )

    def _update_version(
        self, name: str, version: int | str, **values: Any
    ) -> ModelVersion:
        number = check_version(version)

        def work(conn: Connection) -> ModelVersion:
            row = self._find_version(conn, name, number)
            now = self._touch_model(conn, row.registered_model_id)
            conn.execute(
                _versions.update()
                .where(
                    _versions.c.registered_model_id == row.registered_model_id,
                    _versions.c.version == number,
                )
                .values(last_updated_timestamp=now, **values)
            )
            return self._versions_of(
                conn, [self._version_row(conn, row.registered_model_id, name, number)]
            )[0]

        return self._write(work)

    def update_model_version(
        self, name: str, version: int | str, *, description: str | None
    ) -> ModelVersion:
        """Replace the description of a version."""
        check_model_name(name)
        return self._update_version(
            name, version, description=check_description(description)
        )

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        *,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        """Move a version to a stage; optionally archive the others in that stage."""
        check_model_name(name)
        number = check_version(version)
        canonical = check_registry_stage(stage)
        if not isinstance(archive_existing_versions, bool):
            raise InvalidValueError(
                "archive_existing_versions", archive_existing_versions, "a bool"
            )
        active = (ModelVersionStage.STAGING.value, ModelVersionStage.PRODUCTION.value)
        if archive_existing_versions and canonical not in active:
            raise InvalidValueError(
                "stage",
                stage,
                "'Staging' or 'Production' when archive_existing_versions is True",
                "Only versions in an active stage can be archived by a transition.",
            )

        def work(conn: Connection) -> ModelVersion:
            row = self._find_version(conn, name, number)
            now = self._touch_model(conn, row.registered_model_id)
            if archive_existing_versions:
                conn.execute(
                    _versions.update()
                    .where(
                        _versions.c.registered_model_id == row.registered_model_id,
                        _versions.c.version != number,
                        _versions.c.current_stage == canonical,
                    )
                    .values(
                        current_stage=ModelVersionStage.ARCHIVED.value,
                        last_updated_timestamp=now,
                    )
                )
            conn.execute(
                _versions.update()
                .where(
                    _versions.c.registered_model_id == row.registered_model_id,
                    _versions.c.version == number,
                )
                .values(current_stage=canonical, last_updated_timestamp=now)
            )
            return self._versions_of(
                conn, [self._version_row(conn, row.registered_model_id, name, number)]
            )[0]

        return self._write(work)

    def delete_model_version(
        self, name: str, version: int | str, *, user_id: str = ""
    ) -> None:
        """Delete a version: its aliases go (recorded), its number stays taken."""
        check_model_name(name)
        number = check_version(version)

        def work(conn: Connection) -> None:
            row = self._find_version(conn, name, number)
            model_id = row.registered_model_id
            now = self._touch_model(conn, model_id)
            for alias in conn.execute(
                sa.select(_aliases.c.alias).where(
                    _aliases.c.registered_model_id == model_id,
                    _aliases.c.version == number,
                )
            ).scalars():
                self._move_alias(conn, model_id, alias, number, None, user_id, now)
            conn.execute(
                _versions.update()
                .where(
                    _versions.c.registered_model_id == model_id,
                    _versions.c.version == number,
                )
                .values(
                    current_stage=DELETED_STAGE,
                    last_updated_timestamp=now,
                    description=None,
                    user_id=None,
                    source=REDACTED_SOURCE,
                    storage_location=None,
                    run_id=REDACTED_RUN_ID,
                    run_link=REDACTED_RUN_LINK,
                    status_message=None,
                    signature=None,
                )
            )

        self._write(work)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Return where the version's files are (the source, resolved at creation)."""
        check_model_name(name)
        number = check_version(version)

        def work(conn: Connection) -> str:
            row = self._find_version(conn, name, number)
            return str(row.storage_location or row.source)

        return self._read(work)

    def search_model_versions(
        self,
        *,
        filter_string: str = "",
        max_results: int = 10_000,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Return one page of versions matching the filter; deleted ones never match."""
        limit = _check_max_results(max_results, MAX_VERSION_RESULTS)
        condition = compile_version_filter(filter_string or "")
        ordering = compile_version_order(order_by or ())
        offset = decode_offset_token(page_token)

        def work(conn: Connection) -> PagedList[ModelVersion]:
            rows = conn.execute(
                sa.select(*_VERSION_COLUMNS)
                .join(
                    _models,
                    _models.c.registered_model_id == _versions.c.registered_model_id,
                )
                .where(_versions.c.current_stage != DELETED_STAGE, condition)
                .order_by(*ordering)
                .limit(limit + 1)
                .offset(offset)
            ).all()
            token = encode_offset_token(offset + limit) if len(rows) > limit else None
            return PagedList(self._versions_of(conn, rows[:limit]), token)

        return self._read(work)

    def set_model_version_tag(
        self, name: str, version: int | str, key: str, value: str
    ) -> None:
        """Set a tag of a version, replacing its value if the key exists."""
        check_model_name(name)
        number = check_version(version)
        key, value = check_tag(key, value)

        def work(conn: Connection) -> None:
            row = self._find_version(conn, name, number)
            self._write_tags(
                conn,
                _version_tags,
                {"registered_model_id": row.registered_model_id, "version": number},
                {key: value},
            )

        self._write(work)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove a tag from a version; a missing tag is not an error, as in MLflow."""
        check_model_name(name)
        number = check_version(version)
        key, _ = check_tag(key, "")

        def work(conn: Connection) -> None:
            row = self._find_version(conn, name, number)
            conn.execute(
                _version_tags.delete().where(
                    _version_tags.c.registered_model_id == row.registered_model_id,
                    _version_tags.c.version == number,
                    _version_tags.c.key_hash == hash_key(key),
                )
            )

        self._write(work)

    # Aliases.

    def _move_alias(
        self,
        conn: Connection,
        model_id: int,
        alias: str,
        previous: int | None,
        version: int | None,
        user_id: str,
        now: int,
    ) -> None:
        """Point ``alias`` at ``version`` (None deletes it) and record the move."""
        where = (_aliases.c.registered_model_id == model_id, _aliases.c.alias == alias)
        if version is None:
            conn.execute(_aliases.delete().where(*where))
        elif previous is None:
            conn.execute(
                _aliases.insert().values(
                    registered_model_id=model_id, alias=alias, version=version
                )
            )
        else:
            conn.execute(_aliases.update().where(*where).values(version=version))
        conn.execute(
            _history.insert().values(
                registered_model_id=model_id,
                alias=alias,
                version=version,
                previous_version=previous,
                user_id=user_id or "unknown",
                timestamp=now,
            )
        )

    def _alias_version(self, conn: Connection, model_id: int, alias: str) -> int | None:
        found = conn.execute(
            sa.select(_aliases.c.version).where(
                _aliases.c.registered_model_id == model_id, _aliases.c.alias == alias
            )
        ).scalar()
        return None if found is None else int(found)

    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str, *, user_id: str = ""
    ) -> None:
        """Point an alias at a version; a move to the same version records nothing."""
        check_model_name(name)
        check_alias(alias)
        number = check_version(version)
        user_id = check_optional_str("user_id", user_id) or ""

        def work(conn: Connection) -> None:
            row = self._find_version(conn, name, number)
            model_id = row.registered_model_id
            previous = self._alias_version(conn, model_id, alias)
            if previous == number:
                return
            now = self._touch_model(conn, model_id)
            try:
                self._move_alias(conn, model_id, alias, previous, number, user_id, now)
            except IntegrityError:
                raise _RetryError from None  # a concurrent writer set it first

        self._write(work)

    def delete_registered_model_alias(
        self, name: str, alias: str, *, user_id: str = ""
    ) -> None:
        """Remove an alias and record it; a missing alias is not an error."""
        check_model_name(name)
        check_alias(alias, allow_reserved=True)
        user_id = check_optional_str("user_id", user_id) or ""

        def work(conn: Connection) -> None:
            model_id = self._model_row(conn, name).registered_model_id
            previous = self._alias_version(conn, model_id, alias)
            if previous is not None:
                now = self._touch_model(conn, model_id)
                self._move_alias(conn, model_id, alias, previous, None, user_id, now)

        self._write(work)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version an alias points at; ``latest`` is the newest version."""
        check_model_name(name)
        check_alias(alias, allow_reserved=True)

        def work(conn: Connection) -> ModelVersion:
            model_id = self._model_row(conn, name).registered_model_id
            if alias.lower() == LATEST_ALIAS:
                number = conn.execute(
                    sa.select(sa.func.max(_versions.c.version)).where(
                        _versions.c.registered_model_id == model_id,
                        _versions.c.current_stage != DELETED_STAGE,
                    )
                ).scalar()
                if number is None:
                    raise NotFoundError(
                        "latest version of registered model",
                        name,
                        "It has no versions yet; register one with register_model().",
                    )
            else:
                number = self._alias_version(conn, model_id, alias)
                if number is None:
                    raise NotFoundError(
                        "alias",
                        f"{name}@{alias}",
                        "Set it with set_registered_model_alias(name, alias, version).",
                    )
            return self._versions_of(
                conn, [self._version_row(conn, model_id, name, int(number))]
            )[0]

        return self._read(work)

    def get_version_runs(self, run_ids: Sequence[str]) -> dict[str, RunInfo]:
        """Return the runs that versions come from, by id, in one query.

        Ids of runs that do not exist (purged, or in another store) are left out;
        deleted runs are returned with their lifecycle stage.
        """
        ids = sorted({run_id for run_id in run_ids if run_id})
        if not ids:
            return {}

        def work(conn: Connection) -> dict[str, RunInfo]:
            rows = conn.execute(
                sa.select(*RUN_COLUMNS).where(schema.runs.c.run_id.in_(ids))
            ).all()
            return {row.run_id: _run_info(row) for row in rows}

        return self._read(work)

    def get_alias_history(
        self, name: str, alias: str | None = None
    ) -> list[AliasChange]:
        """Return every move of the model's aliases (or of one), oldest first."""
        check_model_name(name)
        if alias is not None:
            check_alias(alias, allow_reserved=True)

        def work(conn: Connection) -> list[AliasChange]:
            model_id = self._model_row(conn, name).registered_model_id
            query = sa.select(_history).where(
                _history.c.registered_model_id == model_id
            )
            if alias is not None:
                query = query.where(_history.c.alias == alias)
            rows = conn.execute(query.order_by(_history.c.change_id)).all()
            return _changes(name, rows)

        return self._read(work)


def _changes(name: str, rows: Iterable[Row[Any]]) -> list[AliasChange]:
    return [
        AliasChange(
            name=name,
            alias=row.alias,
            version=row.version,
            previous_version=row.previous_version,
            user_id=row.user_id,
            timestamp=row.timestamp,
        )
        for row in rows
    ]
