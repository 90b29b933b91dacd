"""Read what loading a model needs from a SQLite store, with ``sqlite3`` alone.

Loading ``models:/wine@champion`` in a fresh process needs three rows: the
version the alias names, where its files are, and the run's artifact location
(and, for the scoring server, the run's training profile). Opening the store for
that imports SQLAlchemy and builds its statements, which costs more than every
other part of mltrail's load. ``SqliteLookup`` reads those rows read-only with
``sqlite3``, from a database at this code's schema revision only; anything else
(another revision, a stage name, a version copied from another, a missing row, a
locked or unreadable file) answers None, and the caller goes through the store,
which gives the same answer or the error that names the problem.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from urllib.parse import quote

from mltrail._config import DEFAULT_ARTIFACT_ROOT, get_artifact_root
from mltrail._system_tags import MODEL_ARTIFACT_PATH_TAG
from mltrail.store._revisions import HEAD_REVISION

__all__ = ["LookedUpVersion", "SqliteLookup", "TrainingInput"]

_PREFIX = "sqlite:///"
_DELETED_STAGE = "Deleted_Internal"  # as _sql_registry.DELETED_STAGE
_LATEST = "latest"


def _logged_model_id(uri: str) -> str | None:
    """Return the id of ``models:/<model_id>`` (MLflow 3's logged model), or None."""
    from mltrail.models._uris import LOGGED_MODEL_ID

    if not uri.startswith("models:/"):
        return None
    body = uri[len("models:/") :].strip("/")
    return body if LOGGED_MODEL_ID.fullmatch(body) else None


@dataclass(frozen=True, slots=True)
class LookedUpVersion:
    """A registered version: its name, number, run and the URI of its files."""

    name: str
    version: int
    run_id: str
    location: str


@dataclass(frozen=True, slots=True)
class TrainingInput:
    """A dataset a run used: its name, profile JSON and input tags."""

    name: str
    profile: str | None
    tags: tuple[tuple[str, str], ...]


class SqliteLookup:
    """Read-only lookups in a SQLite store at the head revision.

    Get one with ``SqliteLookup.open(tracking_uri)``; every method answers None
    (never raises) when it cannot answer exactly as the store would.
    """

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self._connection = connection
        # The store's artifact root, as SqlStore picks it for a SQLite file.
        root = get_artifact_root() or os.path.join(
            os.path.dirname(path), DEFAULT_ARTIFACT_ROOT
        )
        self.artifact_root = root.rstrip("/") or root

    @classmethod
    def open(cls, tracking_uri: str) -> SqliteLookup | None:
        """Open the SQLite file of ``tracking_uri`` read-only, or return None."""
        if not tracking_uri.startswith(_PREFIX):
            return None
        path = tracking_uri[len(_PREFIX) :]
        if not path or path == ":memory:" or "?" in path or not os.path.isfile(path):
            return None
        path = os.path.abspath(path)
        try:
            connection = sqlite3.connect(
                f"file:{quote(path)}?mode=ro", uri=True, check_same_thread=False
            )
        except sqlite3.Error:
            return None
        lookup = cls(connection, path)
        revision = lookup._one("SELECT version_num FROM alembic_version", ())
        if revision is None or revision[0] != HEAD_REVISION:
            lookup.close()
            return None
        return lookup

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()

    def _one(self, sql: str, values: tuple[object, ...]) -> tuple[object, ...] | None:
        try:
            row: tuple[object, ...] | None = self._connection.execute(
                sql, values
            ).fetchone()
        except sqlite3.Error:
            return None
        return row

    def _all(
        self, sql: str, values: tuple[object, ...]
    ) -> list[tuple[object, ...]] | None:
        try:
            return list(self._connection.execute(sql, values).fetchall())
        except sqlite3.Error:
            return None

    def version(self, model_uri: str) -> LookedUpVersion | None:
        """Return the version ``models:/<name>/<version>`` or ``@<alias>`` names.

        ``latest`` is the newest version that is not deleted. Stages, logged-model
        ids and versions copied from another ``models:/`` URI answer None.
        """
        if not model_uri.startswith("models:/"):
            return None
        body = model_uri[len("models:/") :]
        name, at, alias = body.partition("@")
        number: int | None = None
        if at:
            if not name or not alias or "/" in body:
                return None
        else:
            name, slash, suffix = body.partition("/")
            if not (slash and name and suffix) or "/" in suffix:
                return None
            if suffix.isascii() and suffix.isdigit():
                number = int(suffix)
            elif suffix.lower() == _LATEST:
                alias = _LATEST
            else:
                return None  # a stage: the store reads it
        model = self._one(
            "SELECT registered_model_id FROM registered_models WHERE name = ?", (name,)
        )
        if model is None:
            return None
        model_id = model[0]
        if number is None and alias.lower() == _LATEST:
            found = self._one(
                "SELECT MAX(version) FROM model_versions "
                "WHERE registered_model_id = ? AND current_stage != ?",
                (model_id, _DELETED_STAGE),
            )
        elif number is None:
            found = self._one(
                "SELECT version FROM registered_model_aliases "
                "WHERE registered_model_id = ? AND alias = ?",
                (model_id, alias),
            )
        else:
            found = (number,)
        if found is None or not isinstance(found[0], int):
            return None
        row = self._one(
            "SELECT version, run_id, source, storage_location FROM model_versions "
            "WHERE registered_model_id = ? AND version = ? AND current_stage != ?",
            (model_id, found[0], _DELETED_STAGE),
        )
        if row is None:
            return None
        version, run_id, source, storage_location = row
        if not isinstance(source, str):
            return None
        # A logged model's files are found by its id (registry._uris does so).
        location = source if _logged_model_id(source) else storage_location or source
        if not isinstance(location, str) or (
            location.startswith("models:/") and not _logged_model_id(location)
        ):
            return None  # a copy of another version: the store follows the links
        return LookedUpVersion(
            name, int(str(version)), run_id if isinstance(run_id, str) else "", location
        )

    def logged_model_files(self, model_uri: str) -> str | None:
        """Return ``runs:/<run_id>/<path>`` for ``models:/<model_id>``, or None.

        mltrail keeps a logged model's files in its run; a model kept elsewhere
        (MLflow's layout) or not active answers None.
        """
        model_id = _logged_model_id(model_uri)
        if model_id is None:
            return None
        row = self._one(
            "SELECT m.source_run_id, t.value FROM logged_models m "
            'JOIN logged_model_tags t ON t.model_id = m.model_id AND t."key" = ? '
            "WHERE m.model_id = ? AND m.lifecycle_stage = 'active'",
            (MODEL_ARTIFACT_PATH_TAG, model_id),
        )
        if row is None or not all(isinstance(v, str) and v for v in row):
            return None
        return f"runs:/{row[0]}/{row[1]}"

    def artifact_uri(self, run_id: str) -> str | None:
        """Return the artifact location of a run, or None if it is not there."""
        row = self._one("SELECT artifact_uri FROM runs WHERE run_id = ?", (run_id,))
        return row[0] if row is not None and isinstance(row[0], str) else None

    def training_inputs(self, run_id: str) -> list[TrainingInput] | None:
        """Return the datasets a run used with their tags (none for no such run)."""
        rows = self._all(
            "SELECT ri.input_id, ds.name, ds.profile FROM run_inputs ri "
            "JOIN datasets ds ON ds.dataset_id = ri.dataset_id "
            "WHERE ri.run_id = ? ORDER BY ds.name, ds.digest",
            (run_id,),
        )
        if rows is None:
            return None
        found = []
        for input_id, name, profile in rows:
            tags = self._all(
                'SELECT "key", value FROM input_tags WHERE input_id = ? ORDER BY "key"',
                (input_id,),
            )
            if tags is None:
                return None
            found.append(
                TrainingInput(
                    str(name),
                    profile if isinstance(profile, str) else None,
                    tuple((str(key), str(value)) for key, value in tags),
                )
            )
        return found
