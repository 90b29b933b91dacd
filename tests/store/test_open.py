"""open_store: choosing and caching the store for a tracking URI."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mltrail._errors import InvalidValueError
from mltrail.store import SqlStore, clear_store_cache, open_store


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_store_cache()


def test_open_store_returns_sql_store_for_sqlite(tmp_path: Path) -> None:
    store = open_store("sqlite:///mltrail.db", artifact_root="art")
    assert isinstance(store, SqlStore)
    assert store.get_experiment("0").artifact_location == "art/0"
    assert (tmp_path / "mltrail.db").is_file()
    clear_store_cache()


def test_open_store_caches_per_uri_and_root() -> None:
    first = open_store("sqlite:///a.db", artifact_root="x")
    assert open_store("sqlite:///a.db", artifact_root="x") is first
    assert open_store("sqlite:///a.db", artifact_root="y") is not first
    assert open_store("sqlite:///b.db", artifact_root="x") is not first
    clear_store_cache()


def test_relative_sqlite_path_resolves_at_open_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = open_store("sqlite:///same.db", artifact_root="x")
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(tmp_path / "other")
    second = open_store("sqlite:///same.db", artifact_root="x")
    assert second is not first
    assert (tmp_path / "other" / "same.db").is_file()
    clear_store_cache()


def test_default_artifact_root_comes_from_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", str(tmp_path / "env-root"))
    store = open_store("sqlite:///mltrail.db")
    assert store.get_experiment("0").artifact_location == f"{tmp_path}/env-root/0"
    clear_store_cache()


def test_open_store_is_thread_safe() -> None:
    found: list[object] = []

    def work() -> None:
        found.append(open_store("sqlite:///threads.db", artifact_root="x"))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(store) for store in found}) == 1
    clear_store_cache()


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("file:///tmp/mlruns", "sqlite:///, postgresql://, mysql:// or http"),
        ("mltrail.db", "sqlite:///, postgresql://, mysql:// or http"),
        ("", "non-empty str"),
    ],
    ids=["file", "bare-path", "empty"],
)
def test_open_store_rejects_unsupported_uri(uri: str, match: str) -> None:
    with pytest.raises(InvalidValueError, match=match):
        open_store(uri)


@pytest.mark.parametrize("uri", ["http://localhost:5000", "https://tracking.example"])
def test_open_store_opens_a_rest_store_for_servers(uri: str) -> None:
    from mltrail.store._rest import RestStore

    store = open_store(uri)
    assert isinstance(store, RestStore)
    assert store.uri == uri
    clear_store_cache()


def test_open_store_module_does_not_import_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "import mltrail.store\n"
        "from mltrail.store import open_store, clear_store_cache\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_unknown_store_attribute_is_an_attribute_error() -> None:
    import mltrail.store

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = mltrail.store.Nope
