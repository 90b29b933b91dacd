"""The tracking store of a process that has a helper: the helper opens it and writes.

Opening a SQL store costs the user's process SQLAlchemy's import and the schema
(about half a second of a one-shot script). While a helper runs, a client's store
is a ``HelperStore``: each call travels to the helper, which has imported all that
on the machine's other core while the script loaded its data, and the answer (or
the store's own error) comes back. Calls are made one at a time, in order, and
answered before the caller goes on, so a write is durable and visible to every
reader when the call returns, exactly as with the store itself.

That saves a one-shot script the import. A process that creates a second run
(a loop of fits, a notebook, a search's child runs) opens the store itself then
and makes every later call here: a call is then about a millisecond, where a
round trip to a helper that is busy drawing may take ten.

Nothing is lost when the helper is gone: a call it cannot make, or did not answer
before it died, is made in this process on the store itself (opened then). A call
answered ``failed`` raised in the helper: it is raised here, of the same class.

Only SQLite files go through the helper (the default store); PostgreSQL, MySQL
and servers are opened in the process as before.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any

from mltrail._worker import _helper
from mltrail._worker._protocol import CLEAR, DESCRIBE, StoreCall, describe

if TYPE_CHECKING:
    from mltrail.store._base import Store

__all__ = ["HelperStore", "clear", "open_store", "prepare"]

_SCHEME = "sqlite:///"
# From the run that makes this many in the process, the store is opened here.
RUNS_BEFORE_OPENING_HERE = 2

_lock = threading.Lock()
_stores: dict[tuple[str, str], HelperStore] = {}


def open_store(uri: str) -> Store:
    """Return the store of ``uri`` for a client: through the helper while one runs."""
    from mltrail.store._open import open_store as open_here

    if _helper.current() is None or not _goes_through_helper(uri):
        return open_here(uri)
    from mltrail._config import get_artifact_root
    from mltrail.store._open import resolve_uri

    uri = resolve_uri(uri)
    root = get_artifact_root()
    key = (uri, root or "")
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = HelperStore(uri, root)
    return store  # a Store, method by method (__getattr__)


def _goes_through_helper(uri: str) -> bool:
    return uri.startswith(_SCHEME) and len(uri) > len(_SCHEME)


def prepare() -> None:
    """Have the helper open the store of the current tracking URI now, unasked.

    The helper opens it while the script loads its data; the first call finds it
    open. Nothing waits for the answer.
    """
    from mltrail._config import get_tracking_uri

    uri = get_tracking_uri()
    helper = _helper.current()
    if helper is None or not _goes_through_helper(uri):
        return  # opening the store here would cost what the helper saves
    store = open_store(uri)
    if isinstance(store, HelperStore):
        helper.call(StoreCall(store._uri, store._root, DESCRIBE))


def clear() -> None:
    """Forget the stores opened here and in the helper (``clear_store_cache``)."""
    with _lock:
        _stores.clear()
    helper = _helper.current()
    if helper is not None:
        helper.wait(helper.call(StoreCall("", None, CLEAR)))


class HelperStore:
    """A tracking store whose calls the helper process makes.

    Parameters
    ----------
    uri : str
        The store's URI, a SQLite file as an absolute path.
    artifact_root : str or None
        Its artifact root, as ``open_store`` takes it.

    Attributes
    ----------
    is_here : bool
        Whether calls are made in this process now (from the second run created).
    """

    # A SQLite store behind it, whichever process makes the call: it takes the id
    # that the caller chose for a new logged model (``SqlStore.takes_model_ids``).
    takes_model_ids = True

    def __init__(self, uri: str, artifact_root: str | None) -> None:
        self._uri = uri
        self._root = artifact_root
        self._names: dict[str, bool] | None = None
        self._runs_created = 0
        self.is_here = False

    def _count_run(self) -> None:
        # A process that creates a second run logs more (a loop, a notebook, a
        # search's children): from then on a call made here costs about a
        # millisecond, not a round trip to a busy helper; the import is paid once.
        self._runs_created += 1
        if self._runs_created >= RUNS_BEFORE_OPENING_HERE:
            self.is_here = True

    def __repr__(self) -> str:
        return f"HelperStore({self._uri!r})"

    def _here(self) -> Store:
        from mltrail.store._open import open_store as open_here

        return open_here(self._uri, artifact_root=self._root)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if method == "create_run":
            self._count_run()
        helper = None if self.is_here else _helper.current()
        if helper is not None and not helper.is_own_thread():
            ticket = helper.call(StoreCall(self._uri, self._root, method, args, kwargs))
            helper.wait(ticket)
            if ticket.outcome == "done":
                return ticket.result
            if ticket.outcome == "failed":
                raise ticket.error  # type: ignore[misc]  # set when failed
        # No helper, or it died before answering: the store itself, here.
        if method == DESCRIBE:
            return describe(self._here())
        value = getattr(self._here(), method)
        return value(*args, **kwargs) if callable(value) else value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._names is None:
            names = self._call(DESCRIBE) if _helper.current() is not None else None
            if names is None:  # no helper: the store here answers
                return getattr(self._here(), name)
            self._names = names
        if name not in self._names:
            raise AttributeError(
                f"{type(self).__name__} of {self._uri!r} has no attribute {name!r}"
            )
        if self._names[name]:
            return functools.partial(self._call, name)
        value = self._call(name)
        self.__dict__[name] = value  # a setting of the store, such as artifact_root
        return value
