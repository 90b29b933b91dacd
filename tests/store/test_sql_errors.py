"""Driver errors become mltrail errors with the hint of their cause (#9 §5).

Every error here is raised by the real driver: a real full disk, real read-only
media, a file that is not a database, a damaged file, a statement too deep, a number
out of range, a closed port. Only a connection failure says "check that it is
running".
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from mltrail._entities import Param
from mltrail._errors import InvalidValueError, StoreError
from mltrail.store._sql import SqlStore
from mltrail.store._sql_errors import classify, translate_driver_error
from tests._mounts import run_on_tmpfs
from tests._stores import SERVER_VARIABLES, _driver_url

RUNNING_HINT = "Check that it is running"


def _driver_error(uri: str, statement: str, *setup: str) -> DBAPIError:
    engine = sa.create_engine(_driver_url(uri))
    try:
        with engine.connect() as conn:
            for line in setup:
                conn.exec_driver_sql(line)
            conn.exec_driver_sql(statement)
    except DBAPIError as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError(f"{statement!r} did not fail")


def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database" * 200)
    with pytest.raises(StoreError, match="is not a database") as caught:
        SqlStore(f"sqlite:///{path}", artifact_root="a")
    assert RUNNING_HINT not in str(caught.value)


def test_damaged_database(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    store = SqlStore(f"sqlite:///{path}", artifact_root="a")
    run_id = store.create_run("0", user_id="u", start_time=0, run_name="r").info.run_id
    for n in range(50):
        store.log_batch(run_id, params=[Param(f"p{n}", "v" * 2000)])
    store.close()
    with open(path, "r+b") as file:  # keep the header, damage the pages after it
        file.seek(4096)
        file.write(os.urandom(os.path.getsize(path) - 4096))

    def read_again() -> None:
        SqlStore(f"sqlite:///{path}", artifact_root="a").get_run(run_id)

    with pytest.raises(StoreError, match="damaged") as caught:
        read_again()
    assert "backup" in str(caught.value)
    assert RUNNING_HINT not in str(caught.value)


def test_statement_too_deep_for_sqlite(sqlite_store: SqlStore) -> None:
    conditions = " OR ".join(f"params.p = '{n}'" for n in range(1200))
    with pytest.raises(InvalidValueError, match="small enough for the database"):
        sqlite_store.search_runs(["0"], filter_string=conditions)


FULL_DISK = """
import sys
from mltrail._entities import Param
from mltrail._errors import StoreError
from mltrail.store._sql import SqlStore

store = SqlStore(f"sqlite:///{sys.argv[1]}/mltrail.db", artifact_root=sys.argv[1])
run_id = store.create_run("0", user_id="u", start_time=0, run_name="r").info.run_id
try:
    for n in range(1000):
        store.log_batch(run_id, params=[Param(f"p{n}", "v" * 100_000)])
except StoreError as error:
    print(error)
print(len(store.get_run(run_id).data.params) > 0)
"""


def test_full_disk_under_sqlite(tmp_path: Path) -> None:
    done = run_on_tmpfs(tmp_path / "disk", FULL_DISK, size_kb=2048)
    assert done.returncode == 0, done.stderr
    message, readable = done.stdout.splitlines()
    assert "disk is full" in message
    assert RUNNING_HINT not in message
    assert readable == "True"


READ_ONLY_PREPARE = """
import sys
from mltrail._entities import Metric
from mltrail.store._sql import SqlStore

store = SqlStore(f"sqlite:///{sys.argv[1]}/mltrail.db", artifact_root=sys.argv[1])
done = store.create_run("0", user_id="u", start_time=0, run_name="done")
store.log_batch(done.info.run_id, metrics=[Metric("acc", 0.9, 0, 0)])
store.update_run_info(done.info.run_id, status="FINISHED", end_time=1)
store.create_run("0", user_id="u", start_time=0, run_name="died", heartbeat_time=1)
store.close()
"""
READ_ONLY = """
import sys
from mltrail._entities import Param
from mltrail._errors import StoreError
from mltrail.store._sql import SqlStore

store = SqlStore(f"sqlite:///{sys.argv[1]}/mltrail.db", artifact_root=sys.argv[1])
print(store.read_only)
runs = {r.info.run_name: r for r in store.search_runs(["0"])}
print(runs["done"].data.metrics["acc"], runs["died"].info.status)
print(store.get_run(runs["died"].info.run_id).info.status)
try:
    store.log_batch(runs["done"].info.run_id, params=[Param("p", "v")])
except StoreError as error:
    print(error)
"""


def test_store_on_read_only_media_opens_read_only(tmp_path: Path) -> None:
    done = run_on_tmpfs(
        tmp_path / "media", READ_ONLY, prepare=READ_ONLY_PREPARE, read_only=True
    )
    assert done.returncode == 0, done.stderr
    reason, listed, died, refused = done.stdout.splitlines()
    assert reason == "read-only media"
    assert listed == "0.9 KILLED"
    assert died == "KILLED"
    assert "opened read-only (read-only media)" in refused
    assert "reading works, writing does not" in refused


# PostgreSQL and MySQL: the servers' own refusals.


def _server_uri(backend: str) -> str:
    uri = os.environ.get(SERVER_VARIABLES[backend])
    if not uri:
        pytest.skip(f"{SERVER_VARIABLES[backend]} is not set")
    return uri


@pytest.mark.parametrize(
    ("backend", "statement", "setup", "cause"),
    [
        ("postgresql", "SELECT 9223372036854775807::bigint + 1", (), "out_of_range"),
        (
            "postgresql",
            "CREATE TEMPORARY TABLE t (x int)",
            ("SET TRANSACTION READ ONLY",),
            "read_only",
        ),
        ("mysql", "SELECT 9223372036854775807 + 1", (), "out_of_range"),
        (
            "mysql",
            "CREATE TABLE t (x int)",
            ("SET SESSION TRANSACTION READ ONLY", "START TRANSACTION"),
            "read_only",
        ),
    ],
    ids=["pg-range", "pg-read-only", "mysql-range", "mysql-read-only"],
)
def test_server_errors_have_their_cause(
    backend: str, statement: str, setup: tuple[str, ...], cause: str
) -> None:
    error = _driver_error(_server_uri(backend), statement, *setup)
    assert error.orig is not None
    assert classify(error.orig) == cause
    translated = translate_driver_error(error, "db")
    assert RUNNING_HINT not in str(translated)


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_unreachable_server_says_check_that_it_runs(backend: str) -> None:
    uri = _server_uri(backend)
    scheme = uri.split("://", 1)[0]
    with pytest.raises(StoreError, match=RUNNING_HINT):
        SqlStore(f"{scheme}://nobody@127.0.0.1:9/test", artifact_root="a")


def test_postgres_disk_full_has_its_hint() -> None:
    from psycopg import errors

    error = errors.DiskFull("could not extend file: No space left on device")
    assert classify(error) == "full"


def test_mysql_disk_full_has_its_hint() -> None:
    import pymysql  # type: ignore[import-untyped]  # no stubs shipped

    error = pymysql.err.OperationalError(1114, "The table 'metrics' is full")
    assert classify(error) == "full"


def test_unknown_errors_get_no_hint() -> None:
    assert classify(ValueError("x")) is None


# Files a process may not write: opened read-only, with the reason.


@pytest.fixture
def written_store(tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'kept.db'}"
    store = SqlStore(uri, artifact_root="a")
    run = store.create_run("0", user_id="u", start_time=0, run_name="kept")
    store.log_batch(run.info.run_id, params=[Param("p", "v")])
    store.close()
    return uri


def _not_writable(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make ``os.access`` say the file (or folder) called ``name`` is not writable.

    The test runs as root, for whom permissions never refuse; the store asks
    ``os.access`` as it would for any user.
    """
    real = os.access

    def access(path: str | os.PathLike[str], mode: int, **kwargs: object) -> bool:
        if mode == os.W_OK and os.fspath(path).endswith(name):
            return False
        return real(path, mode)

    monkeypatch.setattr(os, "access", access)


@pytest.mark.parametrize(
    ("name", "reason"),
    [("kept.db", "the file is not writable"), ("", "its folder is not writable")],
    ids=["file", "folder"],
)
def test_store_without_write_permission_opens_read_only(
    written_store: str, monkeypatch: pytest.MonkeyPatch, name: str, reason: str
) -> None:
    if not name:
        name = os.path.dirname(written_store.removeprefix("sqlite:///"))
    _not_writable(monkeypatch, name)
    store = SqlStore(written_store, artifact_root="a")
    assert store.read_only == reason
    [run] = store.search_runs(["0"])
    assert run.data.params == {"p": "v"}
    with pytest.raises(StoreError, match=f"opened read-only \\({reason}\\)"):
        store.log_batch(run.info.run_id, params=[Param("q", "w")])
    store.close()


def test_read_only_store_of_older_schema_says_to_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic import command
    from alembic.config import Config

    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", "mltrail.store:migrations")
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    engine.dispose()
    _not_writable(monkeypatch, "old.db")
    with pytest.raises(StoreError, match=r"read-only .* older than this mltrail"):
        SqlStore(f"sqlite:///{path}", artifact_root="a")


@pytest.mark.parametrize(
    ("parent", "match"),
    [("file.txt/sub", "is a file"), ("x" * 300, "names fit the file system")],
    ids=["file", "too-long"],
)
def test_bad_sqlite_folder_is_invalid(tmp_path: Path, parent: str, match: str) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    with pytest.raises(InvalidValueError, match=match):
        SqlStore(f"sqlite:///{tmp_path / parent / 'mltrail.db'}", artifact_root="a")


def test_folder_that_cannot_be_made_is_a_store_error() -> None:
    from mltrail.store._sql import _folder_error

    error = _folder_error("sqlite:////x/y.db", "/x/y.db", PermissionError(13, "denied"))
    assert isinstance(error, StoreError)
    assert "cannot create the folder" in str(error)


def test_sqlite_overflow_is_out_of_range(sqlite_store: SqlStore) -> None:
    error = _driver_error(
        sqlite_store.uri,
        "SELECT SUM(x) FROM (SELECT 9223372036854775807 AS x UNION ALL SELECT 1)",
    )
    assert classify(error.orig) == "out_of_range"  # type: ignore[arg-type]  # set
