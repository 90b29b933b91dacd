"""``SqlStore``: the ``Store`` protocol on SQLAlchemy Core (SQLite, PostgreSQL, MySQL).

Every dialect difference lives in this module: URL rewriting, connection setup
(SQLite's WAL, busy timeout and ``BEGIN IMMEDIATE``), insert-or-ignore, migration
locks and the translation of driver errors into mltrail errors.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy import bindparam, event
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from mltrail._entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail._errors import (
    ConflictError,
    InvalidValueError,
    MltrailError,
    NotFoundError,
    StoreError,
)
from mltrail.store import _schema as schema
from mltrail.store import _search as search
from mltrail.store._schema import (
    KIND_FINITE,
    MAX_NAME_LENGTH,
    hash_key,
)
from mltrail.store._values import (
    MetricRow,
    check_dataset_input,
    check_experiment_id,
    check_int,
    check_key,
    check_max_results,
    check_run_id,
    check_stage,
    check_str,
    check_view_type,
    decode_metric_value,
    short,
    to_latest_rows,
    to_metric_rows,
    to_param_rows,
    to_tag_rows,
)

if TYPE_CHECKING:
    from sqlalchemy.sql.dml import Insert

__all__ = ["SqlStore"]

T = TypeVar("T")
# Parameters of a raw statement: one set (a dict of names, or a tuple for positional
# marks), or a list of sets for executemany.
_Params = dict[str, Any] | tuple[Any, ...] | list[dict[str, Any]] | list[MetricRow]

RUN_NAME_TAG = "mlflow.runName"
DATASET_CONTEXT_TAG = "mlflow.data.context"
DEFAULT_HEARTBEAT_TIMEOUT = 30.0
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CHECKPOINT_PAGES = 10_000
SQLITE_WAL_SIZE_LIMIT = 64 * 1024 * 1024
LOCK_RETRIES = 8
IN_CHUNK_SIZE = 5_000
EXPANDING_IDS = "__[POSTCOMPILE_ids]"
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
RETRYABLE_MESSAGES = (
    "database is locked",
    "database table is locked",
    "deadlock",
    "lock wait timeout",
    "could not serialize",
)


_open_stores: weakref.WeakSet[SqlStore] = weakref.WeakSet()
# Connections a forked child inherited: referenced forever, so that they are never
# closed (nor finalized) by the child, which must not touch its parent's handles.
_inherited_connections: list[Connection] = []


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


def _now() -> int:
    return int(time.time() * 1000)


class _ThreadConnections:
    """One open connection per thread, kept between operations (SQLite).

    Checking a connection out of a pool and back costs more than a small SQLite
    transaction; a thread keeps its own instead. A connection is closed only by its
    own thread, or once its thread has ended: SQLite must never see a connection
    closed while another thread runs a statement on it.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = threading.Lock()
        self.local = threading.local()
        self.held: dict[threading.Thread, Connection] = {}
        self.generation = 0  # close_all retires the connections of older ones

    def get(self) -> Connection:
        """Return this thread's connection, opening it on first use."""
        held: tuple[int, Connection] | None = getattr(self.local, "held", None)
        if held is not None:
            generation, conn = held
            if generation == self.generation and not conn.closed:
                return conn
            conn.close()  # retired by close_all, or discarded
        conn = self.engine.connect()
        thread = threading.current_thread()
        with self.lock:
            ended = [t for t in self.held if not t.is_alive()]
            stale = [self.held.pop(t) for t in ended]
            self.held[thread] = conn
            self.local.held = (self.generation, conn)
        for old in stale:
            old.close()
        return conn

    def discard(self, conn: Connection) -> None:
        """Close this thread's connection, left in an unknown state."""
        with self.lock:
            for thread, held in list(self.held.items()):
                if held is conn:
                    del self.held[thread]
        conn.invalidate()
        conn.close()

    def close_all(self) -> None:
        """Close the connections of this thread and of ended threads; retire others.

        A live thread closes its retired connection itself, on its next operation.
        """
        current = threading.current_thread()
        with self.lock:
            self.generation += 1
            closable = [t for t in self.held if t is current or not t.is_alive()]
            conns = [self.held.pop(t) for t in closable]
        for conn in conns:
            conn.close()

    def forget(self) -> None:
        """Drop the parent's connections in a forked child, without closing them."""
        _inherited_connections.extend(self.held.values())
        self.held = {}
        self.lock = threading.Lock()
        self.local = threading.local()


class _RetryError(Exception):
    """A concurrent writer won a race; the whole transaction is run again."""


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
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return sa.URL.create("sqlite", database=path)
    url = sa.make_url(f"{driver}://{rest}")
    if driver == "mysql+pymysql" and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url


def _is_retryable(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return any(message in text for message in RETRYABLE_MESSAGES)


class SqlStore:
    """Store experiments and runs in SQLite, PostgreSQL or MySQL/MariaDB.

    The schema is created, or upgraded, on first use by the Alembic migrations that
    ship with mltrail. SQLite runs in WAL mode with a busy timeout and takes write
    locks up front (``BEGIN IMMEDIATE``), so several processes and threads can log
    to one file at once.

    A RUNNING run whose heartbeat (see ``touch_heartbeat``) is older than
    ``heartbeat_timeout`` seconds is marked KILLED, with ``end_time`` set to its last
    heartbeat, the next time it is read. Runs that never had a heartbeat (created by
    a client that does not send them, such as MLflow's) stay RUNNING.

    Parameters
    ----------
    uri : str
        ``sqlite:///path.db``, ``postgresql://user@host/db`` or
        ``mysql://user@host/db``.
    artifact_root : str
        Where new experiments keep their artifacts, as ``<artifact_root>/<id>``.
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
        artifact_root: str,
        heartbeat_timeout: float | None = None,
    ) -> None:
        url = _sql_url(uri)
        self.uri = uri
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
        _open_stores.add(self)

    # Connections and transactions.

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

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            # Autocommit mode at the driver level: mltrail emits BEGIN itself, so
            # writers can ask for BEGIN IMMEDIATE and SQLite's busy handler works.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
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

    def _run(self, work: Callable[[Connection], T], *, write: bool) -> T:
        """Run ``work`` in one transaction; retry while another writer holds a lock."""
        delay = 0.01
        for attempt in range(LOCK_RETRIES + 1):
            try:
                if self._threads is not None:
                    return self._run_sqlite(self._threads, work, write=write)
                with self._engine.connect() as conn:
                    result = work(conn)
                    if write:
                        self._end_transaction(conn, commit=True)
                    return result
            except _RetryError:
                if attempt == LOCK_RETRIES:
                    raise StoreError(
                        "a concurrent writer kept changing the same rows; try again."
                    ) from None
            except DBAPIError as exc:
                if attempt == LOCK_RETRIES or not _is_retryable(exc):
                    raise self._translate(exc) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def _run_sqlite(
        self,
        threads: _ThreadConnections,
        work: Callable[[Connection], T],
        *,
        write: bool,
    ) -> T:
        """Run ``work`` on the thread's connection, between BEGIN and its end.

        The transaction always ends here (a read ends with a rollback), so the kept
        connection holds no lock and no old snapshot between operations.
        """
        conn = threads.get()
        self._execute(conn, self._begin_write if write else self._begin)
        try:
            result = work(conn)
            self._end_transaction(conn, commit=write)
        except BaseException:
            try:
                self._end_transaction(conn, commit=False)
            except DBAPIError:  # pragma: no cover - SQLite rolls back unless broken
                threads.discard(conn)
            raise
        return result

    def _end_transaction(self, conn: Connection, *, commit: bool) -> None:
        if conn.in_transaction():
            if commit:
                conn.commit()
            else:
                conn.rollback()
            return
        # Only raw statements ran: SQLAlchemy did not see a transaction.
        raw = conn.connection
        try:
            if commit:
                raw.commit()
            else:
                raw.rollback()
        except self._dbapi_error as exc:
            raise DBAPIError.instance(
                "COMMIT" if commit else "ROLLBACK", None, exc, self._dbapi_error
            ) from exc

    def _execute(
        self,
        conn: Connection,
        statement: _Raw,
        params: _Params | None = None,
        *,
        fetch: bool = False,
    ) -> tuple[int, list[tuple[Any, ...]]]:
        """Run a pre-compiled statement on the DBAPI cursor; return (rowcount, rows).

        The hot paths skip SQLAlchemy's per-call parameter processing this way; the
        driver's errors are wrapped as SQLAlchemy's, like every other statement.
        """
        cursor = conn.connection.cursor()
        try:
            if isinstance(params, list):
                cursor.executemany(statement.sql, params)
            elif params is None:
                cursor.execute(statement.sql)
            else:
                cursor.execute(statement.sql, params)
            rows: list[tuple[Any, ...]] = list(cursor.fetchall()) if fetch else []
            return cursor.rowcount, rows
        except self._dbapi_error as exc:
            raise DBAPIError.instance(
                statement.sql, params, exc, self._dbapi_error
            ) from exc
        finally:
            cursor.close()

    def _write(self, work: Callable[[Connection], T]) -> T:
        return self._run(work, write=True)

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self._run(work, write=False)

    def _translate(self, exc: DBAPIError) -> MltrailError:
        if isinstance(exc, IntegrityError):
            return ConflictError(
                f"the write conflicts with stored data: {exc.orig}. "
                "Check ids and names."
            )
        return StoreError(
            f"the database at {self._safe_uri()} failed: {exc.orig}. "
            "Check that it is running and reachable."
        )

    def _safe_uri(self) -> str:
        return self._engine.url.render_as_string(hide_password=True)

    def _insert_ignore(self, table: sa.Table) -> Insert:
        """Return an INSERT that skips rows whose primary or unique key exists."""
        if self._dialect == "mysql":
            return table.insert().prefix_with("IGNORE")
        if self._dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing()
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()

    def _build_statements(self) -> None:
        """Build the statements of the hot paths once, so calls only bind values."""
        runs = schema.runs
        latest = schema.latest_metrics
        if self._dialect == "sqlite":
            from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

            # sqlite3 accepts dicts with :name parameters, like the other drivers.
            dialect: sa.Dialect = SQLiteDialect_pysqlite(paramstyle="named")
            positional: sa.Dialect = SQLiteDialect_pysqlite(paramstyle="qmark")
        else:
            dialect = self._engine.dialect
            # Every SQLAlchemy dialect is a DefaultDialect, which takes paramstyle.
            positional = type(dialect)(paramstyle="format")  # type: ignore[call-arg]

        def raw(statement: sa.ClauseElement) -> _Raw:
            return _Raw(str(statement.compile(dialect=dialect)))

        self._select_run_state = raw(
            sa.select(runs.c.lifecycle_stage).where(
                runs.c.run_id == bindparam("run_id")
            )
        )
        self._insert_run = raw(runs.insert())
        self._end_run = raw(
            runs.update()
            .where(runs.c.run_id == bindparam("b_run_id"))
            .values(status=bindparam("b_status"), end_time=bindparam("b_end_time"))
        )
        # The largest write (up to thousands of rows) binds tuples, not dicts.
        self._insert_metrics = _Raw(
            str(schema.metrics.insert().compile(dialect=positional))
        )
        self._insert_params = raw(self._insert_ignore(schema.params))
        self._select_params = sa.select(
            schema.params.c.key_hash, schema.params.c.key, schema.params.c.value
        ).where(
            schema.params.c.run_id == bindparam("run_id"),
            schema.params.c.key_hash.in_(bindparam("key_hashes", expanding=True)),
        )
        self._insert_latest = raw(self._insert_ignore(latest))
        self._update_latest = raw(
            latest.update()
            .where(
                latest.c.run_id == bindparam("b_run_id"),
                latest.c.key_hash == bindparam("b_key_hash"),
                sa.or_(
                    latest.c.step < bindparam("b_step"),
                    sa.and_(
                        latest.c.step == bindparam("b_step"),
                        sa.or_(
                            latest.c.timestamp < bindparam("b_timestamp"),
                            sa.and_(
                                latest.c.timestamp == bindparam("b_timestamp"),
                                latest.c.value <= bindparam("b_value"),
                            ),
                        ),
                    ),
                ),
            )
            .values(
                value=bindparam("b_value"),
                kind=bindparam("b_kind"),
                timestamp=bindparam("b_timestamp"),
                step=bindparam("b_step"),
            )
        )
        self._insert_tags = raw(self._insert_ignore(schema.tags))
        self._update_tags = raw(
            schema.tags.update()
            .where(
                schema.tags.c.run_id == bindparam("b_run_id"),
                schema.tags.c.key_hash == bindparam("b_key_hash"),
            )
            .values(value=bindparam("b_value"))
        )
        self._insert_experiment_tags = self._insert_ignore(schema.experiment_tags)
        self._update_experiment_tags = (
            schema.experiment_tags.update()
            .where(
                schema.experiment_tags.c.experiment_id == bindparam("b_experiment_id"),
                schema.experiment_tags.c.key_hash == bindparam("b_key_hash"),
            )
            .values(value=bindparam("b_value"))
        )
        self._select_experiment_for_run = raw(
            sa.select(
                schema.experiments.c.artifact_location,
                schema.experiments.c.lifecycle_stage,
            ).where(schema.experiments.c.experiment_id == bindparam("experiment_id"))
        )
        self._select_run = raw(
            sa.select(*RUN_COLUMNS).where(runs.c.run_id == bindparam("run_id"))
        )
        # Bulk loads of a page of runs; EXPANDING_IDS is replaced per call.
        # Positional marks: binding a tuple of ids is cheaper than a dict of names.
        self._placeholder = "?" if self._dialect == "sqlite" else "%s"
        ids: sa.BindParameter[str] = bindparam("ids", expanding=True)
        params = schema.params
        self._params_in = raw(
            sa.select(params.c.run_id, params.c.key, params.c.value).where(
                params.c.run_id.in_(ids)
            )
        )
        tags = schema.tags
        self._tags_in = raw(
            sa.select(tags.c.run_id, tags.c.key, tags.c.value).where(
                tags.c.run_id.in_(ids)
            )
        )
        if EXPANDING_IDS not in self._tags_in.sql:  # pragma: no cover - SQLAlchemy
            raise StoreError(
                "this SQLAlchemy version renders IN lists in an unknown way; "
                "install SQLAlchemy 2.x as pinned by mltrail."
            )
        self._latest_in = raw(
            sa.select(
                latest.c.run_id, latest.c.key, latest.c.value, latest.c.kind
            ).where(latest.c.run_id.in_(ids))
        )
        ri = schema.run_inputs
        ds = schema.datasets
        self._inputs_in = raw(
            sa.select(
                ri.c.input_id,
                ri.c.run_id,
                ds.c.name,
                ds.c.digest,
                ds.c.source_type,
                ds.c.source,
                ds.c.schema,
                ds.c.profile,
            )
            .join(ds, ds.c.dataset_id == ri.c.dataset_id)
            .where(ri.c.run_id.in_(ids))
            .order_by(ds.c.name, ds.c.digest)
        )
        it = schema.input_tags
        self._input_tags_in = raw(
            sa.select(it.c.input_id, it.c.key, it.c.value)
            .where(it.c.input_id.in_(ids))
            .order_by(it.c.key)
        )

    # Schema and migrations.

    def _ensure_schema(self) -> None:
        """Migrate to the head revision unless the database is already there."""
        revision = self._read_revision()
        if revision == schema.HEAD_REVISION:
            return
        self._check_known(revision)
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
        """Run Alembic under a lock, so concurrent first opens migrate once."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", "mltrail.store:migrations")
        config.attributes["artifact_root"] = self.artifact_root
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
                    if revision != schema.HEAD_REVISION:
                        config.attributes["connection"] = conn
                        command.upgrade(config, "head")
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

    # Experiments.

    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: Sequence[RunTag] = (),
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

        Returns
        -------
        str
            The new experiment's id.

        Raises
        ------
        ConflictError
            If an experiment (active or deleted) already has this name.
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
        tag_rows = to_tag_rows(tags)
        experiments = schema.experiments

        def work(conn: Connection) -> str:
            self._check_name_free(conn, name)
            now = _now()
            try:
                result = conn.execute(
                    experiments.insert().values(
                        name=name,
                        artifact_location=artifact_location or "",
                        lifecycle_stage=LifecycleStage.ACTIVE.value,
                        creation_time=now,
                        last_update_time=now,
                    )
                )
            except IntegrityError:
                raise _RetryError from None
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
            ``"deleted"`` moves the experiment to the trash, ``"active"`` restores it.
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
            values: dict[str, object] = {"last_update_time": _now()}
            if new_name is not None and new_name != row.name:
                self._check_name_free(conn, new_name)
                values["name"] = new_name
            if lifecycle_stage is not None:
                values["lifecycle_stage"] = lifecycle_stage
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
        offset = search.decode_page_token(page_token)
        where = search.compile_experiment_filter(filter_string)
        ordering = search.compile_experiment_order(order_by)
        experiments = schema.experiments
        query = (
            sa.select(experiments)
            .where(experiments.c.lifecycle_stage.in_(stages), where)
            .order_by(*ordering)
            .limit(limit + 1)
            .offset(offset)
        )

        def work(conn: Connection) -> list[Experiment]:
            return self._experiments_from_rows(conn, conn.execute(query).all())

        found = self._read(work)
        token = search.encode_page_token(offset + limit) if len(found) > limit else None
        return PagedList(found[:limit], token)

    # Runs.

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int,
        run_name: str,
        tags: Sequence[RunTag] = (),
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
        run_id = uuid.uuid4().hex
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
                    "heartbeat_time": None,
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

        def work(conn: Connection) -> Run | bool | None:
            row = self._fetch_run(conn, run_id)
            if row is None:
                return None
            if self._is_stale(row):
                return True
            return self._runs_from_rows(conn, [row])[0]

        found = self._read(work)
        if found is True:
            self._expire_heartbeats()
            found = self._read(work)
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

        batch = _to_batch(metric_batches)

        def work(conn: Connection) -> RunInfo:
            if batch.rows:
                self._write_batch(conn, batch)
            if values.keys() == {"status", "end_time"}:
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

    def _fetch_run(self, conn: Connection, run_id: str) -> _RunRow | None:
        _, rows = self._execute(conn, self._select_run, {"run_id": run_id}, fetch=True)
        return _RunRow(*rows[0]) if rows else None

    def _check_run_active(self, conn: Connection, run_id: str) -> None:
        _, found = self._execute(
            conn, self._select_run_state, {"run_id": run_id}, fetch=True
        )
        stage = found[0][0] if found else None
        if stage is None:
            raise NotFoundError(
                "run", run_id, "Create it with create_run(), or check the id."
            )
        if stage != LifecycleStage.ACTIVE.value:
            raise InvalidValueError(
                "run",
                run_id,
                "an active run",
                "It is deleted; restore it with restore_run() before logging to it.",
            )

    def _upsert_tags(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        self._execute(conn, self._insert_tags, rows)
        self._execute(
            conn,
            self._update_tags,
            [
                {
                    "b_run_id": row["run_id"],
                    "b_key_hash": row["key_hash"],
                    "b_value": row["value"],
                }
                for row in rows
            ],
        )

    def _write_metrics(
        self, conn: Connection, rows: list[MetricRow], keys: dict[str, str]
    ) -> None:
        self._execute(conn, self._insert_metrics, rows)
        latest = to_latest_rows(rows, keys)
        inserted, _ = self._execute(
            conn,
            self._insert_latest,
            [{name[2:]: value for name, value in row.items()} for row in latest],
        )
        if inserted != len(latest):
            # Some keys had a latest point already: keep the greater one.
            self._execute(conn, self._update_latest, latest)

    def _write_params(
        self, conn: Connection, run_id: str, rows: dict[str, dict[str, Any]]
    ) -> None:
        count, _ = self._execute(conn, self._insert_params, list(rows.values()))
        if count == len(rows):
            return
        # Some keys exist already: logging the same value again is fine.
        stored = conn.execute(
            self._select_params, {"run_id": run_id, "key_hashes": list(rows)}
        ).all()
        for old in stored:
            new = rows[old.key_hash]
            if new["value"] != old.value:
                raise ConflictError(
                    f"param {old.key!r} of run {run_id!r} is {short(old.value)!r}; "
                    f"cannot change it to {short(new['value'])!r}. Params are "
                    "immutable: log the new value under another key, or start a "
                    "new run."
                )

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log metrics, params and tags to a run, all of them or none.

        Every item is validated before anything is written. Logging a param again
        with the same value is fine; tags are overwritten.

        Parameters
        ----------
        run_id : str
            The run's id.
        metrics : sequence of Metric, default=()
            Metric points; NaN and infinities are kept exactly.
        params : sequence of Param, default=()
            Params; values are str up to 1 MiB.
        tags : sequence of RunTag, default=()
            Tags to set.

        Raises
        ------
        NotFoundError
            If the run does not exist.
        InvalidValueError
            If an item is invalid or the run is deleted; nothing is written.
        ConflictError
            If a param is already logged with another value; nothing is written.

        Examples
        --------
        >>> from mltrail import Metric, Param
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.log_batch(run_id, metrics=[Metric("acc", 0.9, 0, 1)],
        ...                 params=[Param("C", "1.0")])
        >>> store.get_run(run_id).data.metrics
        {'acc': 0.9}
        >>> store.close()
        """
        check_run_id(run_id)
        metric_keys: dict[str, str] = {}
        metric_rows = to_metric_rows(run_id, metrics, metric_keys)
        param_rows = to_param_rows(run_id, params)
        tag_rows = to_tag_rows(tags)
        for row in tag_rows:
            row["run_id"] = run_id
        if not (metric_rows or param_rows or tag_rows):
            self._read(lambda conn: self._check_run_active(conn, run_id))
            return

        def work(conn: Connection) -> None:
            self._check_run_active(conn, run_id)
            if param_rows:
                self._write_params(conn, run_id, dict(param_rows))
            if metric_rows:
                self._write_metrics(conn, metric_rows, metric_keys)
            if tag_rows:
                self._upsert_tags(conn, tag_rows)

        self._write(work)

    def log_metric_batches(
        self, batches: Sequence[tuple[str, Sequence[Metric]]]
    ) -> None:
        """Log metric points of several runs in one transaction.

        Parameters
        ----------
        batches : sequence of (str, sequence of Metric)
            Pairs of a run id and its points.

        Raises
        ------
        NotFoundError
            If a run does not exist; nothing is written.
        InvalidValueError
            If a point is invalid or a run is deleted; nothing is written.

        Examples
        --------
        >>> from mltrail import Metric
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.log_metric_batches([(run_id, [Metric("loss", 0.5, 0, 0)])])
        >>> [m.value for m in store.get_metric_history(run_id, "loss")]
        [0.5]
        >>> store.close()
        """
        batch = _to_batch(batches)
        if batch.rows:
            self._write(lambda conn: self._write_batch(conn, batch))

    def _write_batch(self, conn: Connection, batch: _MetricBatch) -> None:
        for run_id in batch.run_ids:
            self._check_run_active(conn, run_id)
        self._write_metrics(conn, batch.rows, batch.keys)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from a run.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The tag's key.

        Raises
        ------
        NotFoundError
            If the run does not exist or has no such tag.
        InvalidValueError
            If the run is deleted.

        Examples
        --------
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.delete_tag(run_id, "mlflow.runName")
        >>> store.get_run(run_id).data.tags
        {}
        >>> store.close()
        """
        check_run_id(run_id)
        key_hash = hash_key(check_key("tag key", key))
        tags = schema.tags

        def work(conn: Connection) -> None:
            self._check_run_active(conn, run_id)
            result = conn.execute(
                tags.delete().where(
                    tags.c.run_id == run_id, tags.c.key_hash == key_hash
                )
            )
            if result.rowcount == 0:
                raise NotFoundError(
                    "tag", key, f"Run {run_id!r} has no such tag; see get_run()."
                )

        self._write(work)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, ordered by step, then timestamp.

        Parameters
        ----------
        run_id : str
            The run's id.
        key : str
            The metric's key.

        Returns
        -------
        list of Metric
            The points; empty if the run never logged this metric.

        Raises
        ------
        NotFoundError
            If the run does not exist.

        Examples
        --------
        >>> from mltrail import Metric
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> store.log_batch(run_id, metrics=[Metric("loss", 0.2, 0, 2),
        ...                                  Metric("loss", 0.4, 0, 1)])
        >>> [m.step for m in store.get_metric_history(run_id, "loss")]
        [1, 2]
        >>> store.close()
        """
        check_run_id(run_id)
        key_hash = hash_key(check_key("metric key", key))
        metrics = schema.metrics
        query = (
            sa.select(
                metrics.c.value,
                metrics.c.kind,
                metrics.c.timestamp,
                metrics.c.step,
            )
            .where(metrics.c.run_id == run_id, metrics.c.key_hash == key_hash)
            .order_by(metrics.c.step, metrics.c.timestamp)
        )

        def work(conn: Connection) -> list[Metric]:
            rows = conn.execute(query).all()
            if not rows:
                _, exists = self._execute(
                    conn, self._select_run_state, {"run_id": run_id}, fetch=True
                )
                if not exists:
                    raise NotFoundError(
                        "run", run_id, "Check the id, or list runs with search_runs()."
                    )
            return [
                Metric(
                    key,
                    decode_metric_value(row.value, row.kind),
                    row.timestamp,
                    row.step,
                )
                for row in rows
            ]

        return self._read(work)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets as inputs of a run; repeated inputs are ignored.

        Parameters
        ----------
        run_id : str
            The run's id.
        datasets : sequence of DatasetInput
            The datasets and the tags of their use (such as the context).

        Raises
        ------
        NotFoundError
            If the run does not exist.
        InvalidValueError
            If a dataset is invalid or the run is deleted.

        Examples
        --------
        >>> from mltrail import Dataset, DatasetInput, InputTag
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="a")
        >>> run_id = run.info.run_id
        >>> train = DatasetInput(Dataset("iris", "ab12", "code", "{}"),
        ...                      [InputTag("mlflow.data.context", "train")])
        >>> store.log_inputs(run_id, [train])
        >>> store.get_run(run_id).inputs.dataset_inputs[0].dataset.name
        'iris'
        >>> store.close()
        """
        check_run_id(run_id)
        for item in datasets:
            check_dataset_input(item)
        if not datasets:
            return
        ds = schema.datasets
        inputs = schema.run_inputs

        def work(conn: Connection) -> None:
            self._check_run_active(conn, run_id)
            experiment_id = conn.execute(
                sa.select(schema.runs.c.experiment_id).where(
                    schema.runs.c.run_id == run_id
                )
            ).scalar_one()
            for item in datasets:
                dataset = item.dataset
                conn.execute(
                    self._insert_ignore(ds),
                    {
                        "dataset_id": uuid.uuid4().hex,
                        "experiment_id": experiment_id,
                        "name": dataset.name,
                        "digest": dataset.digest,
                        "source_type": dataset.source_type,
                        "source": dataset.source,
                        "schema": dataset.schema,
                        "profile": dataset.profile,
                    },
                )
                dataset_id = conn.execute(
                    sa.select(ds.c.dataset_id).where(
                        ds.c.experiment_id == experiment_id,
                        ds.c.name == dataset.name,
                        ds.c.digest == dataset.digest,
                    )
                ).scalar_one()
                conn.execute(
                    self._insert_ignore(inputs),
                    {
                        "input_id": uuid.uuid4().hex,
                        "run_id": run_id,
                        "dataset_id": dataset_id,
                    },
                )
                input_id = conn.execute(
                    sa.select(inputs.c.input_id).where(
                        inputs.c.run_id == run_id, inputs.c.dataset_id == dataset_id
                    )
                ).scalar_one()
                if item.tags:
                    conn.execute(
                        self._insert_ignore(schema.input_tags),
                        [
                            {"input_id": input_id, "key": tag.key, "value": tag.value}
                            for tag in item.tags
                        ],
                    )

        self._write(work)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str = "",
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] = (),
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Return the runs of some experiments that match a filter, ordered and paged.

        Parameters
        ----------
        experiment_ids : sequence of str
            The experiments to search.
        filter_string : str, default=""
            MLflow's filter grammar (``metrics.acc > 0.9 and params.C = '1.0'``),
            plus OR, NOT and parentheses.
        view_type : ViewType, default=ViewType.ACTIVE_ONLY
            Which lifecycle stages to include.
        max_results : int, default=1000
            Page size, from 1 to 50,000.
        order_by : sequence of str, default=()
            Such as ``["metrics.acc DESC"]``; missing values sort last, and ties are
            broken by start time (newest first), then run id.
        page_token : str or None, default=None
            The ``token`` of the previous page.

        Returns
        -------
        PagedList of Run
            One page; its ``token`` fetches the next page, or is None.

        Raises
        ------
        FilterSyntaxError
            If the filter or an order_by clause does not parse.
        InvalidValueError
            If ``max_results``, ``page_token`` or an experiment id is invalid.

        Examples
        --------
        >>> from mltrail import Metric
        >>> from mltrail.store import SqlStore
        >>> store = SqlStore("sqlite:///mltrail.db", artifact_root="mltrail-artifacts")
        >>> run = store.create_run("0", user_id="ada", start_time=0, run_name="best")
        >>> run_id = run.info.run_id
        >>> store.log_batch(run_id, metrics=[Metric("f1", 0.9, 0, 0)])
        >>> page = store.search_runs(["0"], filter_string="metrics.f1 > 0.5")
        >>> [r.info.run_name for r in page]
        ['best']
        >>> store.close()
        """
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        numbers_ = [check_experiment_id(i) for i in experiment_ids]
        stages = check_view_type(view_type)
        limit = check_max_results(max_results)
        offset = search.decode_page_token(page_token)
        where = search.compile_run_filter(filter_string)
        ordering, joins = search.compile_run_order(order_by)
        runs = schema.runs
        source: sa.FromClause = runs
        for alias, condition in joins:
            source = source.outerjoin(alias, condition)
        query = (
            sa.select(*RUN_COLUMNS)
            .select_from(source)
            .where(
                runs.c.experiment_id.in_(numbers_),
                runs.c.lifecycle_stage.in_(stages),
                where,
            )
            .order_by(*ordering)
            .limit(limit + 1)
            .offset(offset)
        )
        self._expire_heartbeats()
        if not numbers_:
            return PagedList([], None)

        def work(conn: Connection) -> list[Run]:
            return self._runs_from_rows(conn, conn.execute(query).all()[: limit + 1])

        found = self._read(work)
        token = search.encode_page_token(offset + limit) if len(found) > limit else None
        return PagedList(found[:limit], token)

    def _runs_from_rows(
        self, conn: Connection, rows: Sequence[Row[Any] | _RunRow]
    ) -> list[Run]:
        """Build runs from rows of ``runs``, loading their data in bulk."""
        if not rows:
            return []
        ids = [row.run_id for row in rows]
        params: dict[str, dict[str, str]] = {i: {} for i in ids}
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        metrics: dict[str, dict[str, float]] = {i: {} for i in ids}
        inputs: dict[str, list[DatasetInput]] = {i: [] for i in ids}
        for run_id, key, value in self._fetch_in(conn, self._params_in, ids):
            params[run_id][key] = value
        for run_id, key, value in self._fetch_in(conn, self._tags_in, ids):
            tags[run_id][key] = value
        for run_id, key, value, kind in self._fetch_in(conn, self._latest_in, ids):
            metrics[run_id][key] = (
                value if kind == KIND_FINITE else decode_metric_value(value, kind)
            )
        self._load_inputs(conn, ids, inputs)
        return [
            Run(
                _run_info(row),
                RunData(metrics[row.run_id], params[row.run_id], tags[row.run_id]),
                RunInputs(inputs[row.run_id]),
            )
            for row in rows
        ]

    def _fetch_in(
        self, conn: Connection, statement: _Raw, ids: list[str]
    ) -> list[tuple[Any, ...]]:
        """Run a ``... IN (:ids)`` statement on the DBAPI cursor, in chunks."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), IN_CHUNK_SIZE):
            chunk = tuple(ids[start : start + IN_CHUNK_SIZE])
            marks = ", ".join([self._placeholder] * len(chunk))
            sql = statement.sql.replace(EXPANDING_IDS, marks)
            rows.extend(self._execute(conn, _Raw(sql), chunk, fetch=True)[1])
        return rows

    def _load_inputs(
        self, conn: Connection, ids: list[str], inputs: dict[str, list[DatasetInput]]
    ) -> None:
        rows = self._fetch_in(conn, self._inputs_in, ids)
        if not rows:
            return
        input_tags: dict[str, list[InputTag]] = {row[0]: [] for row in rows}
        for input_id, key, value in self._fetch_in(
            conn, self._input_tags_in, list(input_tags)
        ):
            input_tags[input_id].append(InputTag(key, value))
        for input_id, run_id, *fields in rows:
            inputs[run_id].append(DatasetInput(Dataset(*fields), input_tags[input_id]))

    # Heartbeats.

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
        statement = (
            runs.update()
            .where(runs.c.run_id.in_(ids), runs.c.status == RunStatus.RUNNING.value)
            .values(heartbeat_time=moment)
        )
        self._write(lambda conn: conn.execute(statement))

    def _is_stale(self, row: Row[Any] | _RunRow) -> bool:
        if row.status != RunStatus.RUNNING.value or row.heartbeat_time is None:
            return False
        return bool(row.heartbeat_time < _now() - int(self.heartbeat_timeout * 1000))

    def _expire_heartbeats(self) -> None:
        """Mark RUNNING runs whose heartbeat is stale as KILLED (one cheap SELECT)."""
        runs = schema.runs
        cutoff = _now() - int(self.heartbeat_timeout * 1000)
        stale = sa.and_(
            runs.c.status == RunStatus.RUNNING.value,
            runs.c.heartbeat_time < cutoff,
        )
        found = self._read(
            lambda conn: conn.execute(
                sa.select(runs.c.run_id).where(stale).limit(1)
            ).first()
        )
        if found is None:
            return
        self._write(
            lambda conn: conn.execute(
                runs.update()
                .where(stale)
                .values(status=RunStatus.KILLED.value, end_time=runs.c.heartbeat_time)
            )
        )


RUN_COLUMNS = tuple(schema.runs.c)


class _MetricBatch(NamedTuple):
    """Validated points of several runs: sorted run ids, rows and keys by hash."""

    run_ids: list[str]
    rows: list[MetricRow]
    keys: dict[str, str]


def _to_batch(batches: Sequence[tuple[str, Sequence[Metric]]]) -> _MetricBatch:
    """Validate batches of points (pairs of a run id and its points)."""
    rows: list[MetricRow] = []
    keys: dict[str, str] = {}
    run_ids: set[str] = set()
    for run_id, points in batches:
        run_ids.add(check_run_id(run_id))
        rows.extend(to_metric_rows(run_id, points, keys))
    # Sorted ids make concurrent writers lock rows in one order (no deadlocks).
    return _MetricBatch(sorted(run_ids), rows, keys)


class _RunRow(NamedTuple):
    """A row of ``runs`` as the DBAPI cursor returns it (columns in table order)."""

    run_id: str
    experiment_id: int
    run_name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    heartbeat_time: int | None
    deleted_time: int | None
    lifecycle_stage: str
    artifact_uri: str


class _Raw:
    """A statement compiled once to the driver's SQL text, with named parameters."""

    __slots__ = ("sql",)

    def __init__(self, sql: str) -> None:
        self.sql = sql


def _run_info(row: Row[Any] | _RunRow) -> RunInfo:
    return RunInfo(
        run_id=row.run_id,
        run_name=row.run_name,
        experiment_id=str(row.experiment_id),
        user_id=row.user_id,
        status=row.status,
        start_time=row.start_time,
        end_time=row.end_time,
        artifact_uri=row.artifact_uri,
        lifecycle_stage=row.lifecycle_stage,
    )
