"""What a database driver's error means, as an mltrail error with the right hint.

SQLite, PostgreSQL (psycopg) and MySQL/MariaDB (PyMySQL) report the same causes
with their own codes: a full disk, read-only media, a file that is not a database, a
damaged file, a statement too large, a number out of range, a server that cannot be
reached. Each cause gets its own message; only a connection failure is told to
check that the server is running.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError

from mltrail._errors import ConflictError, InvalidValueError, MltrailError, StoreError

__all__ = ["classify", "translate_driver_error"]

# SQLite primary result codes (https://www.sqlite.org/rescode.html).
_SQLITE_CODES = {
    8: "read_only",  # SQLITE_READONLY
    11: "corrupt",  # SQLITE_CORRUPT
    13: "full",  # SQLITE_FULL
    14: "cannot_open",  # SQLITE_CANTOPEN
    18: "too_large",  # SQLITE_TOOBIG
    26: "not_a_database",  # SQLITE_NOTADB
}
_SQLITE_TOO_LARGE = (
    "expression tree is too large",
    "too many sql variables",
    "parser stack overflow",
    "too many terms",
    "pattern too complex",
    "string or blob too big",
)
# PostgreSQL SQLSTATE codes, or their classes (first two characters).
_POSTGRES_CODES = {
    "53100": "full",  # disk_full
    "25006": "read_only",  # read_only_sql_transaction
    "22003": "out_of_range",  # numeric_value_out_of_range
    "54000": "too_large",  # program_limit_exceeded
    "54001": "too_large",  # statement_too_complex (stack depth)
    "28000": "auth",
    "28P01": "auth",
    "3D000": "unknown_database",
    "57P01": "connection",  # admin_shutdown
}
_POSTGRES_CLASSES = {"08": "connection", "53": "full"}
# MySQL and MariaDB error numbers.
_MYSQL_CODES = {
    1021: "full",  # ER_DISK_FULL
    1114: "full",  # ER_RECORD_FILE_FULL
    1290: "read_only",  # ER_OPTION_PREVENTS_STATEMENT (--read-only)
    1792: "read_only",  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    1264: "out_of_range",  # ER_WARN_DATA_OUT_OF_RANGE
    1690: "out_of_range",  # ER_DATA_OUT_OF_RANGE
    1436: "too_large",  # ER_STACK_OVERRUN_NEED_MORE
    1153: "too_large",  # ER_NET_PACKET_TOO_LARGE
    3170: "too_large",  # ER_CAPACITY_EXCEEDED
    1045: "auth",  # ER_ACCESS_DENIED_ERROR
    1049: "unknown_database",  # ER_BAD_DB_ERROR
    2002: "connection",
    2003: "connection",
    2006: "connection",
    2013: "connection",
    2055: "connection",
}


def classify(error: BaseException) -> str | None:
    """Return the cause of a driver error, such as ``"full"``, or None."""
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        text = str(error).lower()
        if any(message in text for message in _SQLITE_TOO_LARGE):
            return "too_large"
        if "integer overflow" in text:
            return "out_of_range"
        return _SQLITE_CODES.get(code & 0xFF)
    state = getattr(error, "sqlstate", None)
    module = type(error).__module__
    if module.startswith("psycopg"):
        if isinstance(state, str):
            return _POSTGRES_CODES.get(state) or _POSTGRES_CLASSES.get(state[:2])
        # An error raised before any statement: the server could not be reached.
        return "connection" if type(error).__name__ == "OperationalError" else None
    if module.startswith("pymysql"):
        number = error.args[0] if error.args else None
        return _MYSQL_CODES.get(number) if isinstance(number, int) else None
    return None


def translate_driver_error(exc: DBAPIError, where: str) -> MltrailError:
    """Return the mltrail error for ``exc``, raised by the database at ``where``.

    Parameters
    ----------
    exc : sqlalchemy.exc.DBAPIError
        The driver's error, as SQLAlchemy wraps it.
    where : str
        The database, as shown to the user (its URI without password).

    Returns
    -------
    MltrailError
        ``ConflictError`` for a constraint, ``InvalidValueError`` for a statement the
        database refuses to evaluate (too large, a number out of range), else
        ``StoreError`` with a hint for the cause.
    """
    original = exc.orig if exc.orig is not None else exc
    if isinstance(exc, IntegrityError):
        return ConflictError(
            f"the write conflicts with stored data: {original}. Check ids and names."
        )
    cause = classify(original)
    if cause == "too_large":
        return InvalidValueError(
            "search or batch",
            str(original),
            "small enough for the database to evaluate",
            "Use fewer conditions (or fewer values in an IN list), or split it.",
        )
    if cause == "out_of_range":
        return InvalidValueError(
            "number",
            str(original),
            "within the database's range (64-bit integers, finite floats)",
            "Log a smaller number, or a scaled one.",
        )
    hints = {
        "full": "Its disk is full (or over quota); free some space, then retry: "
        "nothing of this write was kept.",
        "read_only": "It is read-only (read-only media, file permissions, or a "
        "read-only server); reading works, writing does not. Use a writable store "
        "to log.",
        "not_a_database": "The file is not a database. Point the tracking URI at an "
        "mltrail database, or at a path that does not exist yet.",
        "corrupt": "The file is damaged (a malformed database image). Restore it "
        "from a backup; `sqlite3 FILE .recover` saves what is still readable.",
        "cannot_open": "The file cannot be opened. Check that its folder exists and "
        "that you may read and write it.",
        "auth": "The server refused the user name or password in the URI.",
        "unknown_database": "The server has no such database; create it first.",
        "connection": "Check that it is running and reachable.",
    }
    hint = hints.get(cause or "", "")
    return StoreError(f"the database at {where} failed: {original}. {hint}".rstrip())
