"""``open_store``: pick and cache the store implementation for a tracking URI.

SQLAlchemy is imported only when a SQL store is first opened, so importing this
module (and the fluent API that uses it) stays cheap.
"""

from __future__ import annotations

import os
import sys
import threading

from mltrail._config import get_artifact_root
from mltrail._errors import InvalidValueError
from mltrail.store._base import Store

__all__ = ["clear_store_cache", "open_store", "resolve_uri"]

SQL_SCHEMES = frozenset(
    {
        "sqlite",
        "postgresql",
        "postgres",
        "postgresql+psycopg",
        "mysql",
        "mariadb",
        "mysql+pymysql",
    }
)
HTTP_SCHEMES = frozenset({"http", "https"})

_lock = threading.Lock()
_stores: dict[tuple[str, str], Store] = {}


def resolve_uri(uri: str) -> str:
    """Make a relative SQLite path absolute, so the cache key survives ``chdir``."""
    prefix = "sqlite:///"
    if uri.startswith(prefix):
        path = uri[len(prefix) :]
        if path and path != ":memory:" and not os.path.isabs(path):
            return prefix + os.path.abspath(path)
    return uri


def open_store(uri: str, *, artifact_root: str | None = None) -> Store:
    """Return the store for a tracking URI, opening it once per process.

    Parameters
    ----------
    uri : str
        ``sqlite:///path.db`` (relative paths resolve against the current
        directory), ``postgresql://...``, ``mysql://...``, or a tracking server
        ``http(s)://host:port`` (a ``RestStore``).
    artifact_root : str or None, default=None
        Where experiments created without a location keep their runs' files; by
        default ``MLTRAIL_ARTIFACT_ROOT``, else the store's own: ``mltrail-artifacts``
        beside a SQLite file, or the root recorded in a PostgreSQL or MySQL database
        when it was created.

    Returns
    -------
    Store
        A cached store: the same object for the same URI and artifact root.

    Raises
    ------
    InvalidValueError
        If the URI's scheme is not supported.

    Examples
    --------
    >>> from mltrail.store import open_store
    >>> store = open_store("sqlite:///mltrail.db")
    >>> store is open_store("sqlite:///mltrail.db")
    True
    >>> store.get_experiment("0").name
    'Default'
    """
    if not isinstance(uri, str) or not uri:
        raise InvalidValueError(
            "tracking URI", uri, "a non-empty str", "Use 'sqlite:///mltrail.db'."
        )
    scheme = uri.partition("://")[0].lower() if "://" in uri else ""
    if scheme in HTTP_SCHEMES:
        return _open_rest(uri)
    if scheme not in SQL_SCHEMES:
        raise InvalidValueError(
            "tracking URI",
            uri,
            "a URI starting with sqlite:///, postgresql://, mysql:// or http(s)://",
            "Use for example 'sqlite:///mltrail.db'.",
        )
    uri = resolve_uri(uri)
    root = artifact_root if artifact_root is not None else get_artifact_root()
    key = (uri, root or "")
    store = _stores.get(key)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(key)
        if store is None:
            from mltrail.store._sql import SqlStore

            store = SqlStore(uri, artifact_root=root)
            _stores[key] = store
    return store


def _open_rest(uri: str) -> Store:
    """Return the cached ``RestStore`` of a tracking server URL."""
    key = (uri.rstrip("/"), "")
    store = _stores.get(key)
    if store is None:
        with _lock:
            store = _stores.get(key)
            if store is None:
                from mltrail.store._rest import RestStore

                store = _stores[key] = RestStore(uri)
    return store


def clear_store_cache() -> None:
    """Close and forget every store opened by ``open_store`` (for tests).

    Examples
    --------
    >>> from mltrail.store import clear_store_cache, open_store
    >>> store = open_store("sqlite:///mltrail.db")
    >>> clear_store_cache()
    >>> store is open_store("sqlite:///mltrail.db")
    False
    """
    with _lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        store.close()
    helper_stores = sys.modules.get("mltrail._worker._store")
    if helper_stores is not None:  # those the helper process opened for this one
        helper_stores.clear()
