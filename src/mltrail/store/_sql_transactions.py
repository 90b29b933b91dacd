"""Connections and transactions of ``SqlStore``: one per call, retried on locks.

Also runs pre-compiled statements on the DBAPI cursor, builds insert-or-ignore
statements and translates driver errors into mltrail errors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from mltrail._errors import (
    InvalidValueError,
    MltrailError,
    StoreError,
)
from mltrail.store._sql_errors import translate_driver_error
from mltrail.store._values import (
    MetricRow,
)

if TYPE_CHECKING:
    from sqlalchemy.sql.dml import Insert

T = TypeVar("T")
# Parameters of a raw statement: one set (a dict of names, or a tuple for positional
# marks), or a list of sets for executemany.
_Params = dict[str, Any] | tuple[Any, ...] | list[dict[str, Any]] | list[MetricRow]

LOCK_RETRIES = 8
RETRYABLE_MESSAGES = (
    "database is locked",
    "database table is locked",
    "deadlock",
    "lock wait timeout",
    "could not serialize",
)
# How long a write that may be skipped waits for another writer's lock (see
# try_write); MySQL counts whole seconds.
BRIEF_LOCK_WAIT_MS = 100
_BRIEF_LOCK_WAIT = {
    "postgresql": (f"SET LOCAL lock_timeout = '{BRIEF_LOCK_WAIT_MS}ms'", None),
    "mysql": (
        "SET SESSION innodb_lock_wait_timeout = 1",
        "SET SESSION innodb_lock_wait_timeout = DEFAULT",
    ),
}

# Connections a forked child inherited: referenced forever, so that they are never
# closed (nor finalized) by the child, which must not touch its parent's handles.
_inherited_connections: list[Connection] = []


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


class _Raw:
    """A statement compiled once to the driver's SQL text, with named parameters."""

    __slots__ = ("sql",)

    def __init__(self, sql: str) -> None:
        self.sql = sql


def _is_retryable(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return any(message in text for message in RETRYABLE_MESSAGES)


def _is_lock_busy(exc: BaseException) -> bool:
    """Whether a write failed only because another writer held a lock too long."""
    text = str(getattr(exc, "orig", exc)).lower()
    return _is_retryable(exc) or "lock timeout" in text


class SqlBase:
    """Connections and transactions of ``SqlStore``; its ``__init__`` sets them up."""

    uri: str
    artifact_root: str
    heartbeat_timeout: float
    read_only: str | None
    _engine: Engine
    _dialect: str
    # SQLite: one connection per thread; the server databases use the pool.
    _threads: _ThreadConnections | None
    _dbapi_error: type[Exception]
    _begin: _Raw
    _begin_write: _Raw

    def _run(self, work: Callable[[Connection], T], *, write: bool) -> T:
        """Run ``work`` in one transaction; retry while another writer holds a lock."""
        if write and self.read_only is not None:
            raise StoreError(
                f"the database at {self._safe_uri()} was opened read-only "
                f"({self.read_only}): reading works, writing does not. Log to a "
                "writable store, or copy the file somewhere writable."
            )
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
            except (OverflowError, UnicodeEncodeError) as exc:
                # The driver refused a value while binding it; the checks before a
                # write name the value, this is the net under them.
                raise InvalidValueError(
                    "value",
                    str(exc),
                    "an int that fits in 64 bits, or text without lone surrogates",
                    "Check the numbers and text passed to this call.",
                ) from exc
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

    def _try_write(self, work: Callable[[Connection], object]) -> bool:
        """Make a write that may be skipped; False when another writer holds a lock.

        For bookkeeping that a read does on the way (a stale heartbeat's expiry):
        the read must never wait on another process, which may be stopped in the
        middle of its own transaction (Ctrl-Z, SIGSTOP, a debugger) and keep its
        lock as long as it stays stopped. It waits ``BRIEF_LOCK_WAIT_MS`` at most,
        once, instead of the lock retries of every other write.
        """
        if self.read_only is not None:
            return False
        try:
            if self._threads is not None:
                conn = self._threads.get()
                _, rows = self._execute(conn, _Raw("PRAGMA busy_timeout"), fetch=True)
                self._execute(conn, _Raw(f"PRAGMA busy_timeout = {BRIEF_LOCK_WAIT_MS}"))
                try:
                    self._run_sqlite(self._threads, work, write=True)
                finally:
                    self._execute(conn, _Raw(f"PRAGMA busy_timeout = {rows[0][0]}"))
                return True
            start, end = _BRIEF_LOCK_WAIT.get(self._dialect, (None, None))
            with self._engine.connect() as conn:
                try:
                    if start is not None:
                        conn.exec_driver_sql(start)
                    work(conn)
                    self._end_transaction(conn, commit=True)
                finally:
                    if end is not None:
                        conn.exec_driver_sql(end)
                        self._end_transaction(conn, commit=True)
            return True
        except DBAPIError as exc:
            if _is_lock_busy(exc):
                return False
            raise self._translate(exc) from exc

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self._run(work, write=False)

    def _translate(self, exc: DBAPIError) -> MltrailError:
        return translate_driver_error(exc, self._safe_uri())

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
