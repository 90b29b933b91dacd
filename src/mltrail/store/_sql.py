"""``SqlStore``: the ``Store`` protocol on SQLAlchemy Core (SQLite, PostgreSQL, MySQL).

This module owns URL rewriting, connection setup (SQLite's WAL and busy timeout),
migrations and their locks. The ``_sql_*`` modules hold the rest of the class, one
concept each: transactions (``BEGIN IMMEDIATE``, insert-or-ignore, the translation
of driver errors), compiled statements, experiments, runs, logging, inputs and search.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
import weakref
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from mltrail._config import DEFAULT_ARTIFACT_ROOT
from mltrail._errors import (
    InvalidValueError,
    MltrailError,
    StoreError,
)
from mltrail.store import _schema as schema
from mltrail.store._sql_experiments import ExperimentsMixin
from mltrail.store._sql_history import HistoryMixin
from mltrail.store._sql_logged_model_search import LoggedModelSearchMixin
from mltrail.store._sql_purge import PurgeMixin
from mltrail.store._sql_registry import RegistryMixin
from mltrail.store._sql_run_models import RunModelsMixin
from mltrail.store._sql_runs import RunsMixin
from mltrail.store._sql_table import RunsTableMixin
from mltrail.store._sql_transactions import LOCK_RETRIES, _Raw, _ThreadConnections
from mltrail.store._sql_users import UsersMixin
from mltrail.store._sqlite_schema import create_from_snapshot, migrate_with_alembic

__all__ = ["SqlStore"]

DEFAULT_HEARTBEAT_TIMEOUT = 30.0
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CHECKPOINT_PAGES = 10_000
SQLITE_WAL_SIZE_LIMIT = 64 * 1024 * 1024
MIGRATION_LOCK_NAME = "mltrail_migrate"
MIGRATION_LOCK_ID = 7_310_221_655  # any constant shared by every mltrail process
SCHEMES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "mysql+pymysql": "mysql+pymysql",
}


_open_stores: weakref.WeakSet[SqlStore] = weakref.WeakSet()


def _forget_connections_after_fork() -> None:
    """Drop (without closing) connections inherited by a forked child process.

    A connection must never be used by two processes; the child opens its own.
    See: https://docs.sqlalchemy.org/en/20/core/pooling.html#pooling-multiprocessing
    """
    for store in list(_open_stores):
        store._engine.dispose(close=False)
        if store._threads is not None:
            store._threads.forget()


os.register_at_fork(after_in_child=_forget_connections_after_fork)


def _default_artifact_root(url: sa.URL) -> str:
    """Return where a store keeps files when nobody chose: beside a SQLite file.

    A server database records its root when created (see ``SqlStore``); this is
    only the root that its first migration records, for lack of a setting.
    """
    if url.get_backend_name() == "sqlite" and url.database:
        return os.path.join(os.path.dirname(url.database), DEFAULT_ARTIFACT_ROOT)
    return os.path.abspath(DEFAULT_ARTIFACT_ROOT)


def _read_only_reason(path: str) -> str | None:
    """Why a SQLite file cannot be written here, or None if it can."""
    folder = os.path.dirname(path)
    try:
        flags = os.statvfs(folder).f_flag
    except OSError:  # the folder is checked, and made, by _sql_url
        return None
    if flags & os.ST_RDONLY:
        return "read-only media"
    if not os.path.exists(path):
        return None
    if not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(folder, os.W_OK):
        return "its folder is not writable"
    return None


def _read_only_url(url: sa.URL) -> tuple[sa.URL, str | None]:
    """Open an existing SQLite file that cannot be written read-only, and say why.

    On read-only media SQLite cannot make the WAL's shared-memory file, so the file
    is opened as immutable (nothing can change it there); otherwise read-only.
    """
    path = url.database or ""
    reason = _read_only_reason(path)
    if reason is None or not os.path.exists(path):
        return url, None
    mode = "immutable=1" if reason == "read-only media" else "mode=ro"
    target = f"file:{quote(path)}?{mode}"
    return sa.URL.create("sqlite", database=target, query={"uri": "true"}), reason


def _folder_error(uri: str, path: str, error: OSError) -> MltrailError:
    """Explain why the folder of a SQLite file could not be made."""
    if isinstance(error, FileExistsError | NotADirectoryError):
        return InvalidValueError(
            "tracking URI",
            uri,
            "a path whose folders are folders, not files",
            f"{error.filename!r} is a file; choose another path for the database.",
        )
    if error.errno == errno.ENAMETOOLONG:
        return InvalidValueError(
            "tracking URI",
            uri,
            "a path whose names fit the file system",
            "Use a shorter path for the database.",
        )
    return StoreError(
        f"cannot create the folder of the database {path!r}: {error.strerror}. "
        "Choose a folder you can write to (the media may be read-only or full)."
    )


def _sql_url(uri: str) -> sa.URL:
    """Return the SQLAlchemy URL for ``uri``, choosing the driver mltrail ships with."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise InvalidValueError(
            "tracking URI",
            uri,
            "a sqlite:///, postgresql:// or mysql:// URI",
            "Use for example 'sqlite:///mltrail.db'.",
        )
    driver = SCHEMES[scheme.lower()]
    if driver == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        if path in ("", ":memory:"):
            raise InvalidValueError(
                "tracking URI",
                uri,
                "a sqlite URI with a file path",
                "In-memory databases are not shared between connections; "
                "use a file such as 'sqlite:///mltrail.db'.",
            )
        path = os.path.abspath(path)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError as error:
            raise _folder_error(uri, path, error) from error
        return sa.URL.create("sqlite", database=path)
    url = sa.make_url(f"{driver}://{rest}")
    if driver == "mysql+pymysql" and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url


class SqlStore(
    ExperimentsMixin,
    RunsMixin,
    RegistryMixin,
    RunsTableMixin,
    HistoryMixin,
    LoggedModelSearchMixin,
    RunModelsMixin,
    PurgeMixin,
    UsersMixin,
):
    """Store experiments and runs in SQLite, PostgreSQL or MySQL/MariaDB.

    The schema is created, or upgraded, on first use by the Alembic migrations that
    ship with mltrail. SQLite runs in WAL mode with a busy timeout and takes write
    locks up front (``BEGIN IMMEDIATE``), so several processes and threads can log
    to one file at once.

    A RUNNING run whose heartbeat (see ``touch_heartbeat``) is older than
    ``heartbeat_timeout`` seconds is marked KILLED, with ``end_time`` set to its last
    heartbeat, the next time it is read; a later heartbeat makes it RUNNING again.
    Runs created without a heartbeat (by a client that does not send them, such as
    MLflow's) stay RUNNING.

    Parameters
    ----------
    uri : str
        ``sqlite:///path.db``, ``postgresql://user@host/db`` or
        ``mysql://user@host/db``.
    artifact_root : str or None, default=None
        Where experiments created without a location keep their runs' files, as
        ``<artifact_root>/<experiment_id>``. None: ``MLTRAIL_ARTIFACT_ROOT``, else the
        store's own setting: ``mltrail-artifacts`` beside a SQLite file, and for
        PostgreSQL and MySQL the root recorded when the database was created (the
        Default experiment's folder's parent). It never depends on the working
        directory of whoever opens the store.
    heartbeat_timeout : float or None, default=None
        Seconds without a heartbeat after which a RUNNING run counts as KILLED; by
        default ``MLTRAIL_HEARTBEAT_TIMEOUT``, else 30.

    Raises
    ------
    InvalidValueError
        If the URI is not a supported database URI.
    StoreError
        If the database cannot be reached, or its schema is newer than this code.

    Examples
    --------
    >>> from mltrail.store import SqlStore
    >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
    >>> store.get_experiment("0").name
    'Default'
    >>> store.close()
    """

    def __init__(
        self,
        uri: str,
        *,
        artifact_root: str | None = None,
        heartbeat_timeout: float | None = None,
    ) -> None:
        url = _sql_url(uri)
        self.uri = uri
        if artifact_root is None:
            artifact_root = os.environ.get("MLTRAIL_ARTIFACT_ROOT") or None
        # Chosen by the store (see _recorded_root) when nobody chose.
        self._chosen_root = artifact_root is not None
        if artifact_root is None:
            artifact_root = _default_artifact_root(url)
        self.artifact_root = artifact_root.rstrip("/") or artifact_root
        if heartbeat_timeout is None:
            text = os.environ.get("MLTRAIL_HEARTBEAT_TIMEOUT", "")
            try:
                heartbeat_timeout = float(text) if text else DEFAULT_HEARTBEAT_TIMEOUT
            except ValueError:
                raise InvalidValueError(
                    "MLTRAIL_HEARTBEAT_TIMEOUT",
                    text,
                    "a number of seconds",
                    "Set it to, for example, 30.",
                ) from None
        if not heartbeat_timeout > 0:
            raise InvalidValueError(
                "heartbeat_timeout",
                heartbeat_timeout,
                "a positive number of seconds",
                "Use, for example, 30.",
            )
        self.heartbeat_timeout = heartbeat_timeout
        #: Why this store was opened read-only (a SQLite file on read-only media or
        #: without write permission), or None for a writable store.
        self.read_only: str | None = None
        if url.get_backend_name() == "sqlite":
            url, self.read_only = _read_only_url(url)
        self._engine = self._create_engine(url)
        self._dialect = self._engine.dialect.name
        # SQLite: each thread keeps one connection (closed with the store, or when
        # the store is garbage collected); the server databases use the pool.
        self._threads: _ThreadConnections | None = None
        if self._dialect == "sqlite":
            self._threads = _ThreadConnections(self._engine)
            weakref.finalize(self, self._threads.close_all)
        self._dbapi_error: type[Exception] = self._engine.dialect.loaded_dbapi.Error
        self._begin = _Raw("BEGIN")
        self._begin_write = _Raw("BEGIN IMMEDIATE")
        try:
            self._ensure_schema()
        except BaseException:
            self._engine.dispose()
            raise
        self._build_statements()
        if not self._chosen_root and self._dialect != "sqlite":
            self.artifact_root = self._recorded_root() or self.artifact_root
        _open_stores.add(self)

    def _recorded_root(self) -> str | None:
        """Return the root a server database recorded at creation, if it can tell.

        The first migration puts the Default experiment in ``<root>/0``.
        """
        experiments = schema.experiments
        location = self._read(
            lambda conn: conn.execute(
                sa.select(experiments.c.artifact_location).where(
                    experiments.c.experiment_id == 0
                )
            ).scalar()
        )
        if isinstance(location, str) and location.endswith("/0"):
            return location[: -len("/0")] or "/"
        return None

    # Connections.

    def _create_engine(self, url: sa.URL) -> Engine:
        if url.get_backend_name() != "sqlite":
            return sa.create_engine(url, pool_pre_ping=False)
        # No pool: every thread keeps its own connection (see _ThreadConnections),
        # so a pool would only cap the number of threads that can log at once.
        engine = sa.create_engine(
            url,
            poolclass=NullPool,
            connect_args={"check_same_thread": False, "timeout": 30.0},
        )

        read_only = self.read_only is not None

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            # Autocommit mode at the driver level: mltrail emits BEGIN itself, so
            # writers can ask for BEGIN IMMEDIATE and SQLite's busy handler works.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if read_only:  # nothing may be written, not even the journal mode
                cursor.execute("PRAGMA case_sensitive_like = ON")
                cursor.close()
                return
            for attempt in range(LOCK_RETRIES + 1):
                try:
                    cursor.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or attempt == LOCK_RETRIES:
                        raise
                    time.sleep(0.05)
            cursor.execute("PRAGMA synchronous = NORMAL")
            # A checkpoint syncs the file: with the default (every 1,000 pages) small
            # transactions spent much of their time there. The WAL may grow to
            # about 40 MB between checkpoints, and is cut back to 64 MB after one.
            cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}")
            cursor.execute(f"PRAGMA journal_size_limit = {SQLITE_WAL_SIZE_LIMIT}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA case_sensitive_like = ON")
            cursor.execute("PRAGMA cache_size = -65536")
            cursor.close()

        return engine

    # Schema and migrations.

    def _ensure_schema(self) -> None:
        """Migrate to the head revision unless the database is already there."""
        revision = self._read_revision()
        if revision == schema.HEAD_REVISION:
            return
        self._check_known(revision)
        if self.read_only is not None:
            raise StoreError(
                f"the database at {self._safe_uri()} is read-only "
                f"({self.read_only}) and its schema (revision {revision!r}) is "
                f"older than this mltrail's ({schema.HEAD_REVISION!r}). Open it once "
                "from a writable place to upgrade it, or read it with the mltrail "
                "version that wrote it."
            )
        self._migrate()

    def _read_revision(self) -> str | None:
        try:
            with self._engine.connect() as conn:
                return conn.execute(
                    sa.text("SELECT version_num FROM alembic_version")
                ).scalar()
        except OperationalError as exc:
            if self._is_missing_table(exc):
                return None
            raise self._translate(exc) from exc
        except DBAPIError as exc:
            if self._is_missing_table(exc):
                return None
            raise self._translate(exc) from exc

    def _is_missing_table(self, exc: DBAPIError) -> bool:
        text = str(exc.orig).lower()
        return (
            "no such table" in text
            or "does not exist" in text
            or "doesn't exist" in text
        )

    def _check_known(self, revision: str | None) -> None:
        if revision is not None and revision not in schema.KNOWN_REVISIONS:
            raise StoreError(
                f"the database at {self._safe_uri()} has schema revision "
                f"{revision!r}, which this version of mltrail does not know "
                f"(it knows {', '.join(schema.KNOWN_REVISIONS)}). It was written by "
                "a newer mltrail: upgrade mltrail with "
                "'pip install --upgrade mltrail'."
            )

    def _migrate(self) -> None:
        """Run Alembic under a lock, so concurrent first opens migrate once.

        An empty SQLite file gets the head schema from a snapshot instead, without
        importing Alembic (see ``_sqlite_schema``).
        """
        try:
            with self._engine.connect() as conn:
                self._lock_migrations(conn)
                try:
                    revision = (
                        conn.execute(
                            sa.text("SELECT version_num FROM alembic_version")
                        ).scalar()
                        if self._has_version_table(conn)
                        else None
                    )
                    self._check_known(revision)
                    if revision != schema.HEAD_REVISION and not (
                        revision is None
                        and self._dialect == "sqlite"
                        and create_from_snapshot(conn, self.artifact_root)
                    ):
                        migrate_with_alembic(conn, self.artifact_root)
                    conn.commit()
                finally:
                    self._unlock_migrations(conn)
        except DBAPIError as exc:
            raise self._translate(exc) from exc

    def _has_version_table(self, conn: Connection) -> bool:
        return sa.inspect(conn).has_table("alembic_version")

    def _lock_migrations(self, conn: Connection) -> None:
        if self._dialect == "sqlite":
            conn.exec_driver_sql("BEGIN EXCLUSIVE")
        elif self._dialect == "postgresql":
            conn.execute(
                sa.text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID}
            )
        else:
            acquired = conn.execute(
                sa.text("SELECT GET_LOCK(:name, 600)"), {"name": MIGRATION_LOCK_NAME}
            ).scalar()
            if acquired != 1:  # pragma: no cover - only after 10 minutes of waiting
                raise StoreError(
                    "timed out waiting for another process to migrate the database."
                )

    def _unlock_migrations(self, conn: Connection) -> None:
        if self._dialect == "postgresql":
            conn.rollback()
            conn.execute(
                sa.text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID}
            )
            conn.commit()
        elif self._dialect == "mysql":
            conn.execute(
                sa.text("SELECT RELEASE_LOCK(:name)"), {"name": MIGRATION_LOCK_NAME}
            )
            conn.commit()

    def close(self) -> None:
        """Release the database connections.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> store.close()
        """
        if self._threads is not None:
            self._threads.close_all()
        self._engine.dispose()
